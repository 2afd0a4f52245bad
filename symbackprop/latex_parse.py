"""The one LaTeX reading layer: a text's formula normalised, parsed by latex2sympy2_extended.

Texts write formulas the parser does not take as is (docs/formulas.md): Leibniz fractions,
primes (``f'(z)``, ``\\text{MSE}'``), ``W53`` for ``W_{53}``, ``x`` as times, unicode (``−``,
``η``, ``∂``), and the parser itself misreads ``Y_e`` (Euler's e), ``W_{53}(a)`` (a function
call) and ``f'(z)`` (the prime silently dropped). So every name the text uses becomes an
*atom* here, replaced by a placeholder the parser cannot misread, products are made explicit,
and latex2sympy2_extended parses only the arithmetic around them. Each atom comes back as a
Symbol named by its canonical text (``W_53``, ``dL/dW_53``, ``f'(b)``), listed in ``atoms``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

UNICODE = {
    "−": "-", "–": "-", "—": "-", "⋅": r" \cdot ", "·": r" \cdot ", "∙": r" \cdot ", "×": r" \times ",
    "∗": r" \cdot ", "η": r"\eta ", "∂": r"\partial ", "σ": r"\sigma ", "δ": r"\delta ", "Δ": r"\Delta ",
    "θ": r"\theta ", "ŷ": r"\hat{y}", "’": "'", "′": "'", "ⅇ": "e", "²": "^2", "³": "^3", "\u00a0": " ",
    "\u200b": "", "∑": r"\sum ", "≤": r" \leq ", "≥": r" \geq ", "≈": r" \approx ", "π": r"\pi ",
}
DROP = re.compile(r"\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|\\[bB]igg?[lr]?(?![a-zA-Z])|\\[,;:! ]|\\quad|\\qquad|\\displaystyle")
GREEK = ("alpha beta gamma delta epsilon varepsilon eta theta lambda mu sigma tau phi psi omega "
         "Delta Gamma Theta Lambda Sigma Phi Psi Omega").split()
FUNCTIONS = {  # a name the text applies to an argument -> how it is emitted for the parser
    "relu": r"\mathrm{relu}", "max": r"\max", "sigmoid": r"\mathrm{sigmoid}", "sigma": r"\mathrm{sigmoid}",
    "tanh": r"\tanh", "exp": r"\exp", "ln": r"\ln", "log": r"\ln", "theta": r"\mathrm{heaviside}",
    "heaviside": r"\mathrm{heaviside}",
}
LOSS_NAMES = {"MSE", "mse", "SSE", "Loss", "loss", "L", "E", "e"}
ANGLE_CMDS = {r"\frac", r"\sqrt", r"\cdot", r"\times", r"\tanh", r"\exp", r"\ln", r"\log", r"\max", r"\pi"}
UNSUPPORTED = {r"\int": "integrals", r"\sum": "sums", r"\prod": "products", r"\lim": "limits", r"\begin": "environments",
               r"\leq": "inequalities", r"\geq": "inequalities", r"\approx": "approximations", r"\neq": "inequalities",
               r"\in": "set membership", r"\nabla": "gradients (nabla)", r"\circ": "composition"}

_NAME = (r"(?:\\(?:text|mathrm|operatorname|mathit|textrm|mathbf|mathsf)\s*\{\s*[A-Za-z][A-Za-z0-9 ]*\}"
         r"|\\hat\s*\{?\s*[A-Za-z]\s*\}?|\\(?:" + "|".join(GREEK) + r")(?![A-Za-z])|[A-Za-z]+)")
_SUB = r"(?:\s*_\s*(?:\{[^{}]*\}|[A-Za-z0-9]+)|(?<=[A-Za-z])\d+)?"
IDENT = re.compile(rf"(?P<name>{_NAME})(?P<sub>{_SUB})")
PRIME = re.compile(rf"(?P<ident>{_NAME}{_SUB})\s*(?:'|\^\s*'|\^\s*\{{\s*\\prime\s*\}}|\^\s*\\prime)(?P<more>')?"
                   r"(?:\s*\((?P<arg>[^()]*)\))?")
_BRACED = r"(?:[^{}]|\{[^{}]*\})*"
LEIBNIZ = re.compile(rf"\\frac\s*\{{\s*(?P<d1>\\partial|d|\\mathrm\{{d\}})\s*(?P<num>{_BRACED})\}}\s*"
                     rf"\{{\s*(?P<d2>\\partial|d|\\mathrm\{{d\}})\s*(?P<den>{_BRACED})\}}")
INLINE_LEIBNIZ = re.compile(rf"\\partial\s*(?P<num>{_NAME}{_SUB})\s*/\s*\\partial\s*(?P<den>{_NAME}{_SUB})")
TIMES_X = re.compile(r"(?<=[\w)}])\s+x\s+(?=[\w(\\])")
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
HOLE = "\x00{}\x01"
HOLES = re.compile("\x00(\\d+)\x01")


class FormulaError(ValueError):
    """A formula that cannot be read: the message says what and where."""


@dataclass(frozen=True)
class Atom:
    """A name the text uses: ``symbol`` (W_53), ``leibniz`` (dL/dW_53), ``prime`` (f'(b)), ``key``."""

    kind: str
    text: str  # canonical
    parts: tuple[str, ...] = ()  # leibniz: (numerator, denominator); prime: (function, argument or "")


@dataclass
class Parsed:
    source: str
    latex: str  # what the parser was given, placeholders written back as names
    lhs: sp.Expr | None
    rhs: sp.Expr
    atoms: dict[str, Atom] = field(default_factory=dict)


def canonical_name(text: str) -> str:
    """``W_{53}``, ``W_53`` and ``W53`` -> ``W_53``; ``\\text{MSE}`` -> ``MSE``; ``\\eta`` -> ``eta``."""
    m = IDENT.fullmatch(text.strip())
    if not m:
        return " ".join(text.split())
    name = re.sub(r"\\(?:text|mathrm|operatorname|mathit|textrm|mathbf|mathsf)\s*\{\s*(.*?)\s*\}", r"\1", m["name"])
    name = re.sub(r"\\hat\s*\{?\s*([A-Za-z])\s*\}?", r"\1hat", name).lstrip("\\").replace(" ", "")
    sub = re.sub(r"[\s_{}]", "", m["sub"] or "")
    sub = re.sub(r"\\([A-Za-z]+)", r"\1", sub)
    return f"{name}_{sub}" if sub else name


def _prepare(text: str, times_x: bool) -> str:
    for k, v in UNICODE.items():
        text = text.replace(k, v)
    text = re.sub(r"([A-Za-z])\u0302", r"\\hat{\1}", text)  # y + combining circumflex
    text = DROP.sub(" ", text)
    text = re.sub(r"\\[dt]frac", r"\\frac", text)
    text = re.sub(r"\\log(?![A-Za-z])(?!_)", r"\\ln", text)  # natural, as SymPy prints it (the parser reads base 10)
    text = re.sub(r"\\(?:operatorname|mathrm|text|textrm)\s*\{\s*([A-Za-z]+)\s*\}(?=\s*\()",
                  lambda m: m[1] if m[1].lower() in FUNCTIONS else m[0], text)
    if times_x:
        text = TIMES_X.sub(r" \\times ", text)
    text = DECIMAL.sub(lambda m: "\\frac{{{}}}{{{}}}".format(*Fraction(m[0]).as_integer_ratio()), text)
    return " ".join(text.split()).rstrip(". ")


class _Atoms:
    def __init__(self) -> None:
        self.atoms: list[Atom] = []

    def hole(self, atom: Atom) -> str:
        for i, a in enumerate(self.atoms):
            if a.text == atom.text:
                return " " + HOLE.format(i) + " "
        self.atoms.append(atom)
        return " " + HOLE.format(len(self.atoms) - 1) + " "


def _check_supported(text: str) -> None:
    if text.count("{") != text.count("}"):
        raise FormulaError("unbalanced braces { }")
    if text.count("(") != text.count(")"):
        raise FormulaError("unbalanced parentheses ( )")
    for cmd, what in UNSUPPORTED.items():
        if re.search(re.escape(cmd) + r"(?![A-Za-z])", text):
            raise FormulaError(f"{cmd}: {what} are not supported in formula claims")
    if re.search(r"\\frac\s*\{\s*(\\partial|d)\s*\}", text):
        raise FormulaError("a derivative operator d/dx applied to an expression is not supported; "
                           "write the Leibniz fraction of a named quantity, like \\frac{\\partial L}{\\partial w}")
    if re.search(r"''|\\prime\s*\\prime", text):
        raise FormulaError("second derivatives (f'') are not supported")


def normalise(text: str, keys: tuple[str, ...] = ()) -> tuple[str, list[Atom]]:
    """The formula as parser-ready LaTeX with holes ``\\x00N\\x01`` for its atoms, and the atoms."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("empty formula")
    times_x = "x" not in {canonical_name(k) for k in keys}
    text = _prepare(text, times_x)
    _check_supported(text)
    found = _Atoms()
    # map keys of several tokens (W53(old), f(b)) are taken literally first, longest first
    for key in sorted(keys, key=len, reverse=True):
        k = _prepare(key, times_x)
        if IDENT.fullmatch(k) or LEIBNIZ.fullmatch(k) or PRIME.fullmatch(k) or INLINE_LEIBNIZ.fullmatch(k):
            continue
        pattern = (r"(?<![A-Za-z\\])" if k[:1].isalpha() else "") + re.escape(k) + (r"(?![A-Za-z0-9])" if k[-1:].isalnum() else "")
        text = re.sub(pattern, lambda m, k=k: found.hole(Atom("key", k)), text)

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
    return _identifiers(text, found, {canonical_name(k) for k in keys}), found.atoms


SUBSCRIPT = re.compile(r"\s*_\s*(?:\{[^{}]*\}|[A-Za-z0-9]+)")
TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z]+\d*")
NAME_CMDS = ("text", "mathrm", "operatorname", "mathit", "textrm", "mathbf", "mathsf")


def _identifiers(text: str, found: _Atoms, names: set[str]) -> str:
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
                    out.append(FUNCTIONS[name])
                    pos = text.index("(", pos)
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
                out.append(found.hole(Atom("symbol", canonical_name(token + text[m.end():pos]))))
            elif token in ANGLE_CMDS:
                out.append(token)
            else:
                raise FormulaError(f"unknown or unsupported command {token}")
            continue
        if sub and not re.search(r"\d$", token):
            pos = sub.end()
            token += text[m.end():pos]
        emitted, pos = _word(token, text, pos, found, names)
        out.append(emitted)
    out.append(text[pos:])
    return _explicit_products("".join(out))


def _word(token: str, text: str, pos: int, found: _Atoms, names: set[str]) -> tuple[str, int]:
    follows = text[pos:].lstrip().startswith("(")
    word = re.match(r"[A-Za-z]+", token)[0]
    canonical = canonical_name(token)
    if word.lower() in FUNCTIONS and token == word and follows:
        return FUNCTIONS[word.lower()], text.index("(", pos)
    if canonical in names:
        return found.hole(Atom("symbol", canonical)), pos
    if token in ("e", "pi"):
        return (r" \pi " if token == "pi" else " e "), pos
    if len(word) == 1 or word in LOSS_NAMES:
        return found.hole(Atom("symbol", canonical)), pos
    # a run of letters that names nothing known: a product of one-letter names, as LaTeX reads it;
    # a subscript or digits belong to its last letter
    head, last = word[:-1], token[len(word) - 1:]
    return "".join(found.hole(Atom("symbol", c)) for c in head) + found.hole(Atom("symbol", canonical_name(last))), pos


def _explicit_products(text: str) -> str:
    """``2 W (a)`` is read by the parser as 2 * W(a): every adjacency becomes an explicit \\cdot."""
    operand_end = r"(?:\x01|\d|\)|(?<![\^_])\}|\be\b|\\pi)"
    operand_start = r"(?:\x00|\(|\\frac|\\sqrt|\\tanh|\\exp|\\ln|\\log|\\max|\\mathrm\{(?:relu|sigmoid|heaviside)\}|\be\b|\\pi|\d)"
    prev = None
    while prev != text:
        prev = text
        text = re.sub(rf"({operand_end})\s+(?={operand_start})", r"\1 \\cdot ", text)
        text = re.sub(rf"(\x01|\))(?={operand_start})", r"\1 \\cdot ", text)
    return " ".join(text.split())


def _split(text: str) -> list[str]:
    depth, parts, start = 0, [], 0
    for i, ch in enumerate(text):
        depth += ch in "({["
        depth -= ch in ")}]"
        if ch == "=" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def _parser():
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig
    from latex2sympy2_extended.math_normalization import NormalizationConfig

    conversion = ConversionConfig(interpret_as_mixed_fractions=False, interpret_simple_eq_as_assignment=False,
                                  interpret_contains_as_eq=False, lowercase_symbols=False)
    normalization = NormalizationConfig(basic_latex=False, units=False, malformed_operators=False, nits=False,
                                        boxed="none", equations=False)
    return lambda text: latex2sympy(text, conversion_config=conversion, normalization_config=normalization)


def _readable(text: str, atoms: list[Atom]) -> str:
    return HOLES.sub(lambda m: atoms[int(m[1])].text, text)


def _side(text: str, atoms: list[Atom]) -> sp.Expr:
    if not text.strip():
        raise FormulaError("an empty side of '='")
    given = HOLES.sub(lambda m: f"v_{{{m[1]}}}", text)
    try:
        expr = _parser()(given)
    except Exception as e:  # the parser raises bare Exceptions with its own message
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise FormulaError(f"the parser (latex2sympy2_extended) stopped: {first}, in {_readable(text, atoms)!r}") from None
    if not isinstance(expr, sp.Expr) or isinstance(expr, (sp.Derivative, sp.Integral)):
        raise FormulaError(f"{_readable(text, atoms)!r} is not an arithmetic expression (parsed as {type(expr).__name__})")
    names = {}
    for s in expr.free_symbols:
        m = re.fullmatch(r"v_\{?(\d+)\}?", s.name)
        if not m:
            raise FormulaError(f"the parser produced an unexpected name {s.name!r}")
        names[s] = sp.Symbol(atoms[int(m[1])].text)
    expr = expr.xreplace(names)
    for f in expr.atoms(sp.core.function.AppliedUndef):
        name = f.func.__name__.replace(r"\mathrm{", "").rstrip("}")
        if name == "relu" and len(f.args) == 1:
            expr = expr.xreplace({f: sp.Max(0, f.args[0])})
        elif name == "heaviside" and len(f.args) in (1, 2):  # theta(z, 0): the value at 0 is a convention
            expr = expr.xreplace({f: sp.Heaviside(f.args[0])})
        elif name == "sigmoid" and len(f.args) == 1:
            expr = expr.xreplace({f: 1 / (1 + sp.exp(-f.args[0]))})
        else:
            raise FormulaError(f"unknown function {name}({', '.join(map(str, f.args))})")
    if expr.has(sp.Float):
        expr = expr.xreplace({x: sp.Rational(str(x)) for x in expr.atoms(sp.Float)})
    return expr


def canonical_key(key: str) -> str:
    """A ``symbols`` key as the atom text it matches: ``W_{53}``, ``W_53`` and ``W53`` all give ``W_53``."""
    try:
        latex, atoms = normalise(key)
    except FormulaError:
        return _prepare(key, True)
    if len(atoms) == 1 and HOLES.fullmatch(latex.strip()):
        return atoms[0].text
    return _prepare(key, True)


def parse(text: str, keys: tuple[str, ...] = ()) -> Parsed:
    """``lhs = rhs`` (or just an expression) as SymPy, every name of the text an atom Symbol."""
    latex, atoms = normalise(text, tuple(keys))
    sides = _split(latex)
    if len(sides) > 2:
        raise FormulaError("a chain of equalities a = b = c: write one claim per equality")
    exprs = [_side(s, atoms) for s in sides]
    lhs, rhs = (exprs[0], exprs[1]) if len(exprs) == 2 else (None, exprs[0])
    return Parsed(text, _readable(latex, atoms), lhs, rhs, {a.text: a for a in atoms})
