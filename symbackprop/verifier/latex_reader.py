"""The one LaTeX reading layer: a text's formula normalised, parsed by latex2sympy2_extended.

Texts write formulas the parser does not take as is (docs/formulas.md): Leibniz fractions,
primes (``f'(z)``, ``\\text{MSE}'``), ``W53`` for ``W_{53}``, ``x`` as times, unicode (``−``,
``η``, ``∂``), and the parser itself misreads ``Y_e`` (Euler's e), ``W_{53}(a)`` (a function
call) and ``f'(z)`` (the prime silently dropped). So every name the text uses becomes an
*atom* here, replaced by a placeholder the parser cannot misread, products are made explicit,
and latex2sympy2_extended parses only the arithmetic around them. Each atom comes back as a
Symbol named by its canonical text (``W_53``, ``dL/dW_53``, ``f'(b)``), listed in ``atoms``.
The patterns, names and plain-making this reading uses are in latex_names.py; its bounds (size,
nesting, towers, numbers), checked before each step, in formula_limits.py.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import sympy as sp

from ..core.function_table import is_loss_name
from . import formula_limits as limits
from .latex_names import (
    ANGLE_CMDS,
    CASES,
    CHAIN,
    CMD_NAME,
    CONDITION_WORD,
    FILE_NAME,
    FUNCTIONS,
    GREEK,
    HOLES,
    IDENT,
    INLINE_LEIBNIZ,
    LEIBNIZ,
    NAME_CMDS,
    OTHERWISE,
    PLAIN_LEIBNIZ,
    PRIME,
    RELATION,
    RELATIONS,
    SUBSCRIPT,
    TOKEN,
    Atom,
    FormulaError,
    around,
    canonical_name,
    check_supported,
    explicit_products,
    one_name,
    prepare,
    quoted,
    readable,
    scripted,
    scripted_name,
    split_sides,
    stray_subscripts,
)
from .latex_parsing import Found, groups, read

__all__ = ["Atom", "FormulaError", "Parsed", "canonical_key", "normalise", "parse"]  # what callers import


@dataclass
class Parsed:
    source: str
    latex: str  # what the parser was given, placeholders written back as names
    lhs: sp.Expr | None
    rhs: sp.Expr
    atoms: dict[str, Atom] = field(default_factory=dict)


def normalise(text: str, keys: tuple[str, ...] = (), functions: tuple[str, ...] = ()) -> tuple[str, list[Atom]]:
    """The formula as parser-ready LaTeX with holes ``\\x00N\\x01`` for its atoms, and the atoms."""
    latex, found = _read_formula(text, keys, functions)
    return latex, found.atoms


def _read_formula(text: str, keys: tuple[str, ...], functions: tuple[str, ...]) -> tuple[str, Found]:
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("empty formula")
    limits.check_text(text)  # before any pass over it
    # a key the formula cannot hold (a reserved character, longer than any formula) names nothing in it
    keys = tuple(k for k in keys if isinstance(k, str) and len(k) <= limits.MAX_CHARS and not set(k) & set(limits.RESERVED))
    found = Found(keys, tuple(functions))
    text = prepare(text, found.times_x)
    limits.check_shape(text)
    return _normalise(text, found), found


_HOLE = re.compile("(\x00\\d+\x01)")
_TEXT_NAME = re.compile("(\\\\(?:" + "|".join(NAME_CMDS) + r")\s*\{[^{}]*\})")


def _outside(text: str, change, kept: re.Pattern = _HOLE) -> str:
    """``change`` applied to the text between the ``kept`` pieces, never inside one: between holes (a hole's
    number is digits too), or between names in ``\\text{...}`` (``\\text{dE/dw2_1_2}`` is one name)."""
    parts = kept.split(text)
    return "".join(p if i % 2 else change(p) for i, p in enumerate(parts))


def _keys(text: str, found: Found) -> str:
    """The claim's keys of several tokens as atoms: literal ones (W53(old), f(b)) longest first, then names
    with a superscript however written (b^{2}_{1}, b^2_1 and b_1^2 are one key). Names of one token are
    matched where they are read (_identifiers)."""
    scripted_keys = set()
    for key in sorted(found.keys, key=len, reverse=True):
        k = prepare(key, found.times_x)
        if scripted_name(k):
            scripted_keys.add(scripted_name(k))
            continue
        if not k:
            continue
        if IDENT.fullmatch(k) or FILE_NAME.fullmatch(k) or LEIBNIZ.fullmatch(k) or PRIME.fullmatch(k) \
                or INLINE_LEIBNIZ.fullmatch(k) or canonical_key(key) != prepare(key, True):
            continue  # one name, matched where the formula's names are read
        lead = r"(?<![A-Za-z\\])" if k[:1].isalpha() else r"(?<![\w.{])" if k[:1].isdigit() else ""  # a digit key: no name's
        pattern = re.compile(lead + re.escape(k) + (r"(?![A-Za-z0-9])" if k[-1:].isalnum() else ""))
        text = _outside(text, lambda p, k=k, pattern=pattern: pattern.sub(lambda m: found.hole(Atom("key", k)), p))
    if scripted_keys:
        def mapped(p: str) -> str:
            out, pos = [], 0
            while (hit := scripted(p, pos, search=True)) is not None:
                m, name, end = hit
                # a run of letters is a product (db^2_1 is d b^2_1, as in dC/db^2_1): the name may be its last letter
                start = m.start() if name in scripted_keys or not m["base"].isalnum() else m.end() - len(m["digits"]) - 1
                if scripted_name(p[start:end]) in scripted_keys:
                    out.append(p[pos:start] + found.hole(Atom("key", scripted_name(p[start:end]))))
                    pos = end
                else:
                    out.append(p[pos:m.end()])
                    pos = m.end()
            return "".join(out) + p[pos:]

        text = _outside(text, mapped)
    return text


def _normalise(text: str, found: Found) -> str:
    text = _cases(text, found)
    check_supported(text, found.atoms)
    text = _keys(text, found)

    def leibniz(m: re.Match) -> str:
        num, den = canonical_name(readable(m["num"], found.atoms)), canonical_name(readable(m["den"], found.atoms))
        if not num or not den:
            raise FormulaError(f"a Leibniz fraction needs a numerator and a denominator: {quoted(m[0], found.atoms)}")
        return found.hole(Atom("leibniz", f"d{num}/d{den}", (num, den)))

    text = LEIBNIZ.sub(leibniz, text)
    text = INLINE_LEIBNIZ.sub(leibniz, text)
    text = _outside(text, lambda p: PLAIN_LEIBNIZ.sub(leibniz, p), _TEXT_NAME)
    if (at := text.find(r"\partial")) >= 0:
        raise FormulaError(r"a \partial outside a Leibniz fraction \frac{\partial A}{\partial B}, in "
                           + around(text, at, at + 8, found))

    def prime(m: re.Match) -> str:
        if m["more"]:
            raise FormulaError(f"second derivatives (f'') are not supported, in {quoted(m[0], found.atoms)}")
        f = canonical_name(m["ident"])
        arg = canonical_name(readable(m["arg"], found.atoms)) if m["arg"] is not None else ""
        return found.hole(Atom("prime", f"{f}'({arg})" if m["arg"] is not None else f"{f}'", (f, arg)))

    text = PRIME.sub(prime, text)
    if (at := text.find("'")) >= 0:
        raise FormulaError(f"a prime ' that follows no function name, in {around(text, at, at + 1, found)}")
    return _identifiers(text, found)


def _cases(text: str, found: Found) -> str:
    """Each ``\\begin{cases} value & \\text{for} z > 0 \\\\ ... \\end{cases}``, innermost first, as a Piecewise atom."""
    while (m := CASES.search(text)) is not None:
        pieces = []
        for row in re.split(r"\\\\", m[1]):
            if not row.strip():
                continue
            value, amp, condition = row.partition("&")
            if not amp or not condition.strip():
                raise FormulaError(f"a row of cases needs 'value & condition': {quoted(row, found.atoms)}")
            pieces.append((_expression(value.strip().rstrip(","), found), _condition(condition, found)))
        if not pieces:
            raise FormulaError(f"\\begin{{cases}} with no rows, in {quoted(m[0], found.atoms)}")
        block = Atom("value", " ".join(m[0].split()), value=sp.Piecewise(*pieces))
        text = text[:m.start()] + found.hole(block) + text[m.end():]
    return text


def _condition(text: str, found: Found) -> sp.Basic:
    if OTHERWISE.fullmatch(text):
        return sp.true
    text = text[CONDITION_WORD.match(text).end():]
    ops = list(RELATION.finditer(text))
    if len(ops) != 1:
        raise FormulaError("a condition of cases must be one comparison like z > 0, or \\text{otherwise}: "
                           + quoted(text, found.atoms))
    op = ops[0]
    relation = RELATIONS[op[0]]
    return relation(_expression(text[:op.start()], found), _expression(text[op.end():].rstrip(" .,"), found))


def _expression(text: str, found: Found) -> sp.Expr:
    latex = _normalise(text, found)
    if len(split_sides(latex)) != 1:
        raise FormulaError(f"an equality inside cases or an argument: {quoted(text, found.atoms)}")
    return _side(latex, found)


def _identifiers(text: str, found: Found) -> str:
    """Every remaining name becomes an atom or a known function; implicit products made explicit."""
    out, pos = [], 0
    while (m := TOKEN.search(text, pos)) is not None:
        out.append(text[pos:m.start()])
        token, pos = m[0], m.end()
        where = f"in {around(text, m.start(), m.end(), found)}"
        sub = SUBSCRIPT.match(text, pos)
        if token.startswith("\\"):
            name = token[1:]
            if name in GREEK:
                chain = CHAIN.match(text, pos)  # \delta_n2_1: the file's own name after a Greek letter
                if chain and (chain[0].count("_") > 1 or "\\_" in chain[0]):
                    pos = chain.end()
                    out.append(found.hole(Atom("symbol", name + chain[0].replace("\\_", "_"))))
                    continue
                if sub:
                    pos = sub.end()
                if name in ("sigma", "theta") and not sub and text[pos:].lstrip().startswith("("):
                    emitted, pos = _apply(FUNCTIONS[name], token, text, text.index("(", pos), found)
                    out.append(emitted)
                    continue
                whole = canonical_name(token + (sub[0] if sub else ""))
                if name == "Delta" and not sub:  # \Delta w_{a1}: one name, the change of w_{a1}
                    nxt = re.compile(r"\s*([A-Za-z]\d*)").match(text, pos)
                    if nxt:
                        after = SUBSCRIPT.match(text, nxt.end())
                        pos = after.end() if after else nxt.end()
                        whole = "Delta_" + canonical_name(text[nxt.start(1):pos])
                out.append(found.hole(Atom("symbol", whole)))
            elif name in ("hat", *NAME_CMDS):
                pattern = r"\s*(\{\s*[A-Za-z]\s*\}|[A-Za-z])" if name == "hat" else r"\s*\{\s*" + CMD_NAME + r"\s*\}"
                arg = re.compile(pattern).match(text, pos)
                if not arg:
                    like = f"{token}{{y}}" if name == "hat" else f"{token}{{MSE}} or {token}{{w2\\_1\\_2}}"
                    raise FormulaError(f"{token} needs a name in braces, like {like}, {where}")
                after = SUBSCRIPT.match(text, arg.end())
                pos = after.end() if after else arg.end()
                whole = canonical_name(token + text[m.end():pos])
                if whole in found.functions and text[pos:].lstrip().startswith("("):
                    emitted, pos = _apply(sp.Function(whole), whole, text, text.index("(", pos), found)
                    out.append(emitted)
                else:
                    out.append(found.hole(Atom("symbol", whole)))
            elif token == r"\max" and text[pos:].lstrip().startswith("("):
                emitted, pos = _apply(sp.Max, token, text, text.index("(", pos), found)
                out.append(emitted)
            elif token in ANGLE_CMDS:
                out.append(token)
            else:
                raise FormulaError(f"unknown or unsupported command {token} {where}")
            continue
        file_name = FILE_NAME.match(text, m.start())
        if file_name and one_name(file_name[0], found):
            pos = file_name.end()
            out.append(found.hole(Atom("symbol", canonical_name(file_name[0]))))
            continue
        if sub and not re.search(r"\d$", token):
            pos = sub.end()
            token += text[m.end():pos]
        emitted, pos = _word(token, text, pos, found)
        out.append(emitted)
    out.append(text[pos:])
    text = "".join(out)
    stray_subscripts(text, found)
    return explicit_products(text)


def _word(token: str, text: str, pos: int, found: Found) -> tuple[str, int]:
    follows = text[pos:].lstrip().startswith("(")
    word = re.match(r"[A-Za-z]+", token)[0]
    canonical = canonical_name(token)
    if canonical in found.functions and follows:
        return _apply(sp.Function(canonical), canonical, text, text.index("(", pos), found)
    if word.lower() in FUNCTIONS and token == word and follows:
        return _apply(FUNCTIONS[word.lower()], word, text, text.index("(", pos), found)
    if canonical in found.names:
        return found.hole(Atom("symbol", canonical)), pos
    if token == "H" and follows:  # H(z), the Heaviside step as the project's printers write ReLU'(z): H(0) = 0
        return _apply(lambda z: sp.Heaviside(z, 0), "H", text, text.index("(", pos), found)
    if token in ("e", "pi"):
        return (r" \pi " if token == "pi" else " e "), pos
    if len(word) == 1 or is_loss_name(word):
        return found.hole(Atom("symbol", canonical)), pos
    # a run of letters that names nothing known: a product of one-letter names, as LaTeX reads it;
    # a subscript or digits belong to its last letter
    head, last = word[:-1], token[len(word) - 1:]
    return "".join(found.hole(Atom("symbol", c)) for c in head) + found.hole(Atom("symbol", canonical_name(last))), pos


def _apply(function, name: str, text: str, start: int, found: Found) -> tuple[str, int]:
    """``name(arg, ...)`` at ``text[start] == "("``, its arguments read here one by one (the parser
    misreads a function applied to a function's value), as one atom; and where the text goes on."""
    depth, braces, args, begin = 0, 0, [], start + 1
    for i in range(start, len(text)):
        depth += text[i] == "("
        depth -= text[i] == ")"
        braces += (text[i] == "{") - (text[i] == "}")
        if text[i] == "," and depth == 1 and braces == 0:
            args.append(text[begin:i])
            begin = i + 1
        elif depth == 0:
            args.append(text[begin:i])
            inner = ", ".join(readable(" ".join(a.split()), found.atoms) for a in args)
            values = [_expression(a, found) for a in args]  # its own message where an argument cannot be read
            try:
                value = function(*values)
            except (TypeError, ValueError):
                raise FormulaError(f"{name} does not take these arguments: {quoted(f'{name}({inner})')}") from None
            return found.hole(Atom("value", f"{name}({inner})", value=value)), i + 1
    raise FormulaError(f"{name}( is never closed, in {around(text, start, start + 1, found)}")


def _side(text: str, found: Found) -> sp.Expr:
    if not text.strip():
        raise FormulaError(f"an empty side of '=', in {quoted(text, found.atoms)}")
    return read(groups(text, found), found)


@functools.lru_cache(maxsize=4096)
def canonical_key(key: str) -> str:
    """A ``symbols`` key as the atom text it matches: ``W_{53}``, ``W_53`` and ``W53`` all give ``W_53``;
    a key that is no one name (``W53(old)``, ``f(b)``, ``\\sigma(z)``) is itself, matched literally."""
    if not isinstance(key, str) or set(key) & set(limits.RESERVED) or len(key) > limits.MAX_CHARS:
        return key if isinstance(key, str) else ""
    named = scripted_name(prepare(key, True))
    if named:
        return named
    try:
        latex, atoms = normalise(key)
    except FormulaError:
        return prepare(key, True)
    if len(atoms) == 1 and HOLES.fullmatch(latex.strip()) and atoms[0].kind != "value":
        return atoms[0].text
    return prepare(key, True)


def parse(text: str, keys: tuple[str, ...] = (), functions: tuple[str, ...] = ()) -> Parsed:
    """``lhs = rhs`` (or just an expression) as SymPy, every name of the text an atom Symbol;
    a name in ``functions`` applied to parentheses, ``E(b(z_b))``, is an undefined function."""
    latex, found = _read_formula(text, tuple(keys), tuple(functions))
    atoms = found.atoms
    sides = split_sides(latex)
    if len(sides) > 2:
        raise FormulaError(f"a chain of equalities a = b = c: write one claim per equality, in {quoted(latex, atoms)}")
    if any(not side.strip() for side in sides):
        raise FormulaError(f"an empty side of '=', in {quoted(latex, atoms)}")
    exprs = [_side(s, found) for s in sides]
    lhs, rhs = (exprs[0], exprs[1]) if len(exprs) == 2 else (None, exprs[0])
    named = {a.text: a for a in atoms if a.kind != "value"}
    return Parsed(text, readable(latex, atoms), lhs, rhs, named)
