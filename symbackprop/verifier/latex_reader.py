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
from latex2sympy2_extended import latex2sympy
from latex2sympy2_extended.latex2sympy2 import ConversionConfig
from latex2sympy2_extended.math_normalization import NormalizationConfig

from ..core.function_table import is_loss_name
from . import formula_limits as limits
from .latex_names import (
    ANGLE_CMDS,
    CASES,
    CONDITION_WORD,
    FUNCTIONS,
    GREEK,
    HOLES,
    IDENT,
    INLINE_LEIBNIZ,
    LEIBNIZ,
    NAME_CMDS,
    OTHERWISE,
    PRIME,
    RELATION,
    RELATIONS,
    SUBSCRIPT,
    TOKEN,
    Atom,
    Atoms,
    FormulaError,
    canonical_name,
    check_supported,
    explicit_products,
    prepare,
    readable,
    split_sides,
)

__all__ = ["Atom", "FormulaError", "Parsed", "canonical_key", "normalise", "parse"]  # what callers import
PLACEHOLDER = "\\text{{v{}}}"  # what the parser is given for hole N: antlr reads v_{N} 25 times slower
PLACEHOLDER_NAME = re.compile(r"v(\d+)")
PARSER_FUNCTIONS = (sp.exp, sp.log, sp.tanh, sp.Abs, sp.Max, sp.Min)  # what the parser may make (the rest is read here)


@dataclass
class Parsed:
    source: str
    latex: str  # what the parser was given, placeholders written back as names
    lhs: sp.Expr | None
    rhs: sp.Expr
    atoms: dict[str, Atom] = field(default_factory=dict)


class _Found(Atoms):
    """The atoms of one formula, and how much of the parser's budget its pieces have used."""

    def __init__(self, keys: tuple[str, ...], functions: tuple[str, ...]) -> None:
        super().__init__(keys, functions)
        self.tokens = 0


def normalise(text: str, keys: tuple[str, ...] = (), functions: tuple[str, ...] = ()) -> tuple[str, list[Atom]]:
    """The formula as parser-ready LaTeX with holes ``\\x00N\\x01`` for its atoms, and the atoms."""
    latex, found = _read_formula(text, keys, functions)
    return latex, found.atoms


def _read_formula(text: str, keys: tuple[str, ...], functions: tuple[str, ...]) -> tuple[str, _Found]:
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("empty formula")
    limits.check_text(text)  # before any pass over it
    found = _Found(tuple(keys), tuple(functions))
    text = prepare(text, found.times_x)
    limits.check_shape(text)
    return _normalise(text, found), found


def _normalise(text: str, found: Atoms) -> str:
    text = _cases(text, found)
    check_supported(text)
    # map keys of several tokens (W53(old), f(b)) are taken literally first, longest first
    for key in sorted(found.keys, key=len, reverse=True):
        k = prepare(key, found.times_x)
        if IDENT.fullmatch(k) or LEIBNIZ.fullmatch(k) or PRIME.fullmatch(k) or INLINE_LEIBNIZ.fullmatch(k):
            continue
        lead = r"(?<![A-Za-z\\])" if k[:1].isalpha() else r"(?<![\w.{])" if k[:1].isdigit() else ""  # a digit key: no name's
        pattern = re.compile(lead + re.escape(k) + (r"(?![A-Za-z0-9])" if k[-1:].isalnum() else ""))
        parts = re.split("(\x00\\d+\x01)", text)  # never inside a hole: its number is digits too
        text = "".join(p if i % 2 else pattern.sub(lambda m, k=k: found.hole(Atom("key", k)), p) for i, p in enumerate(parts))

    def leibniz(m: re.Match) -> str:
        num, den = canonical_name(m["num"]), canonical_name(m["den"])
        if not num or not den:
            raise FormulaError(f"a Leibniz fraction needs a numerator and a denominator: {m[0]!r}")
        return found.hole(Atom("leibniz", f"d{num}/d{den}", (num, den)))

    text = LEIBNIZ.sub(leibniz, text)
    text = INLINE_LEIBNIZ.sub(leibniz, text)
    if r"\partial" in text:
        raise FormulaError(r"a \partial outside a Leibniz fraction \frac{\partial A}{\partial B}")

    def prime(m: re.Match) -> str:
        if m["more"]:
            raise FormulaError("second derivatives (f'') are not supported")
        f = canonical_name(m["ident"])
        arg = canonical_name(m["arg"]) if m["arg"] is not None else ""
        return found.hole(Atom("prime", f"{f}'({arg})" if m["arg"] is not None else f"{f}'", (f, arg)))

    text = PRIME.sub(prime, text)
    if "'" in text:
        raise FormulaError("a prime ' that follows no function name")
    return _identifiers(text, found)


def _cases(text: str, found: Atoms) -> str:
    """Each ``\\begin{cases} value & \\text{for} z > 0 \\\\ ... \\end{cases}``, innermost first, as a Piecewise atom."""
    while (m := CASES.search(text)) is not None:
        pieces = []
        for row in re.split(r"\\\\", m[1]):
            if not row.strip():
                continue
            value, amp, condition = row.partition("&")
            if not amp or not condition.strip():
                raise FormulaError(f"a row of cases needs 'value & condition': {row.strip()!r}")
            pieces.append((_expression(value.strip().rstrip(","), found), _condition(condition, found)))
        if not pieces:
            raise FormulaError(r"\begin{cases} with no rows")
        block = Atom("value", " ".join(m[0].split()), value=sp.Piecewise(*pieces))
        text = text[:m.start()] + found.hole(block) + text[m.end():]
    return text


def _condition(text: str, found: Atoms) -> sp.Basic:
    if OTHERWISE.fullmatch(text):
        return sp.true
    text = text[CONDITION_WORD.match(text).end():]
    ops = list(RELATION.finditer(text))
    if len(ops) != 1:
        raise FormulaError(f"a condition of cases must be one comparison like z > 0, or \\text{{otherwise}}: {text.strip()!r}")
    op = ops[0]
    relation = RELATIONS[op[0]]
    return relation(_expression(text[:op.start()], found), _expression(text[op.end():].rstrip(" .,"), found))


def _expression(text: str, found: Atoms) -> sp.Expr:
    latex = _normalise(text, found)
    if len(split_sides(latex)) != 1:
        raise FormulaError(f"an equality inside cases or an argument: {text.strip()!r}")
    return _side(latex, found)


def _identifiers(text: str, found: Atoms) -> str:
    """Every remaining name becomes an atom or a known function; implicit products made explicit."""
    out, pos = [], 0
    while (m := TOKEN.search(text, pos)) is not None:
        out.append(text[pos:m.start()])
        token, pos = m[0], m.end()
        sub = SUBSCRIPT.match(text, pos)
        if token.startswith("\\"):
            name = token[1:]
            if name in GREEK:
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
                pattern = r"\s*(\{\s*[A-Za-z]\s*\}|[A-Za-z])" if name == "hat" else r"\s*\{\s*[A-Za-z][A-Za-z0-9 ]*\}"
                arg = re.compile(pattern).match(text, pos)
                if not arg:
                    raise FormulaError(f"{token} needs a name in braces, like {token}{{y}}")
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
                raise FormulaError(f"unknown or unsupported command {token}")
            continue
        if sub and not re.search(r"\d$", token):
            pos = sub.end()
            token += text[m.end():pos]
        emitted, pos = _word(token, text, pos, found)
        out.append(emitted)
    out.append(text[pos:])
    return explicit_products("".join(out))


def _word(token: str, text: str, pos: int, found: Atoms) -> tuple[str, int]:
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


def _apply(function, name: str, text: str, start: int, found: Atoms) -> tuple[str, int]:
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
            try:
                value = function(*[_expression(a, found) for a in args])
            except (TypeError, ValueError):
                raise FormulaError(f"{name} does not take these arguments: {name}({inner})") from None
            return found.hole(Atom("value", f"{name}({inner})", value=value)), i + 1
    raise FormulaError(f"{name}( is never closed")


@functools.lru_cache(maxsize=4096)
def _parsed(given: str) -> sp.Basic:
    """The parser's reading of placeholder text; formulas of one shape (``v_0 + v_1 v_2``) share it."""
    return _parser()(given)


def _parser():
    conversion = ConversionConfig(interpret_as_mixed_fractions=False, interpret_simple_eq_as_assignment=False,
                                  interpret_contains_as_eq=False, lowercase_symbols=False)
    normalization = NormalizationConfig(basic_latex=False, units=False, malformed_operators=False, nits=False,
                                        boxed="none", equations=False)
    return lambda text: latex2sympy(text, conversion_config=conversion, normalization_config=normalization)


def _side(text: str, found: _Found) -> sp.Expr:
    if not text.strip():
        raise FormulaError("an empty side of '='")
    return _read(_groups(text, found), found)


def _groups(text: str, found: _Found) -> str:
    """Each bracket's content read on its own, innermost first, and left in its brackets as one atom:
    antlr reads ahead to the closing bracket at every opening one, so read whole, a bracket's content
    costs once per bracket around it (bare braces more: antlr weighs a set against a group). Left
    as they are: subscripts, a command's own braces (``\\frac{a}{b}``, ``\\sqrt[3]{x}``), contents
    with a comma (a tuple, an interval), empty ones, and short ones, which cost less than a call."""
    frames: list[list[str]] = [[]]  # the text of each open bracket so far
    opened: list[tuple[str, bool]] = []  # each open bracket, and whether its content is read on its own
    closer = {"(": ")", "[": "]", "{": "}"}
    for ch in text:
        if ch in closer:
            before = "".join(frames[-1][-24:]).rstrip()
            alone = ch == "(" or not (before.endswith(("_", "}", "]", "\\")) or re.search(r"\\[A-Za-z]+$", before))
            opened.append((ch, alone))
            frames.append([])
        elif opened and ch == closer[opened[-1][0]]:
            opener, alone = opened.pop()
            inner = "".join(frames.pop())
            if alone and inner.strip() and not _comma(inner) and (opener == "{" or len(limits.PARSER_TOKEN.findall(inner)) > 24):
                shown = opener + " ".join(readable(inner, found.atoms).split()) + ch
                inner = found.hole(Atom("value", shown, value=_read(inner, found)))
            frames[-1].append(opener + inner + ch)
        else:
            frames[-1].append(ch)
    while opened:  # never closed: left for the parser to refuse
        inner = "".join(frames.pop())
        frames[-1].append(opened.pop()[0] + inner)
    return "".join(frames[0])


def _comma(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch in "([{") - (ch in ")]}")
        if ch == "," and depth == 0:
            return True
    return False


def _read(text: str, found: _Found) -> sp.Expr:
    """One piece of placeholder text through the parser, checked before SymPy evaluates it, its atoms put back."""
    atoms = found.atoms
    one = HOLES.fullmatch(text.strip())
    if one:  # a name or a part read already: no call to the parser
        atom = atoms[int(one[1])]
        return atom.value if atom.kind == "value" else sp.Symbol(atom.text)
    if re.fullmatch(r"[0-9]{1,20}", text.strip()):
        return sp.Integer(text.strip())
    given = HOLES.sub(lambda m: PLACEHOLDER.format(m[1]), text)
    found.tokens = limits.parser_tokens(found.tokens, given)
    try:
        expr = _parsed(given)
    except Exception as e:  # the parser raises bare Exceptions with its own message
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise FormulaError(f"the parser (latex2sympy2_extended) stopped: {first}, in {_quoted(text, atoms)}") from None
    if not isinstance(expr, sp.Expr) or isinstance(expr, (sp.Derivative, sp.Integral)):
        raise FormulaError(f"{_quoted(text, atoms)} is not an arithmetic expression (parsed as {type(expr).__name__})")
    holes = {}
    for s in expr.free_symbols:
        m = PLACEHOLDER_NAME.fullmatch(s.name)
        if not m or int(m[1]) >= len(atoms):
            raise FormulaError(f"the parser produced an unexpected name {s.name!r}")
        holes[s] = atoms[int(m[1])]
    for f in limits.applications(expr):
        if not isinstance(f, PARSER_FUNCTIONS):
            what = "unknown function" if isinstance(f, sp.core.function.AppliedUndef) else "formula claims do not read"
            shown = re.sub(r"\bv(\d+)\b", lambda m: atoms[int(m[1])].text if int(m[1]) < len(atoms) else m[0], sp.sstr(f))
            raise FormulaError(f"{what} {shown}")
    limits.check_numbers(expr, {s: a.value for s, a in holes.items() if a.kind == "value" and not a.value.free_symbols})
    expr = expr.xreplace({s: a.value if a.kind == "value" else sp.Symbol(a.text) for s, a in holes.items()})
    if expr.has(sp.Float):
        expr = expr.xreplace({x: sp.Rational(str(x)) for x in expr.atoms(sp.Float)})
    return expr


def _quoted(text: str, atoms: list[Atom]) -> str:
    """A piece of the formula for a message: its names written back, at most 80 characters."""
    text = " ".join(readable(text, atoms).split())
    return repr(text if len(text) <= 80 else text[:77] + "...")


def canonical_key(key: str) -> str:
    """A ``symbols`` key as the atom text it matches: ``W_{53}``, ``W_53`` and ``W53`` all give ``W_53``."""
    try:
        latex, atoms = normalise(key)
    except FormulaError:
        return prepare(key, True)
    if len(atoms) == 1 and HOLES.fullmatch(latex.strip()):
        return atoms[0].text
    return prepare(key, True)


def parse(text: str, keys: tuple[str, ...] = (), functions: tuple[str, ...] = ()) -> Parsed:
    """``lhs = rhs`` (or just an expression) as SymPy, every name of the text an atom Symbol;
    a name in ``functions`` applied to parentheses, ``E(b(z_b))``, is an undefined function."""
    latex, found = _read_formula(text, tuple(keys), tuple(functions))
    atoms = found.atoms
    sides = split_sides(latex)
    if len(sides) > 2:
        raise FormulaError("a chain of equalities a = b = c: write one claim per equality")
    exprs = [_side(s, found) for s in sides]
    lhs, rhs = (exprs[0], exprs[1]) if len(exprs) == 2 else (None, exprs[0])
    named = {a.text: a for a in atoms if a.kind != "value"}
    return Parsed(text, readable(latex, atoms), lhs, rhs, named)
