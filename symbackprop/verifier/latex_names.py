"""The vocabulary of a text's LaTeX: its unicode and names made plain, the patterns of names,
Leibniz fractions and primes, what is not supported, and the atoms (holes) names become.

latex_reader.py uses it to read a formula; nothing here calls the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

import sympy as sp

from ..core.function_table import ACTIVATIONS

UNICODE = {
    "−": "-", "–": "-", "—": "-", "⋅": r" \cdot ", "·": r" \cdot ", "∙": r" \cdot ", "×": r" \times ",
    "∗": r" \cdot ", "η": r"\eta ", "∂": r"\partial ", "σ": r"\sigma ", "δ": r"\delta ", "Δ": r"\Delta ",
    "θ": r"\theta ", "ŷ": r"\hat{y}", "’": "'", "′": "'", "ⅇ": "e", "²": "^2", "³": "^3", "\u00a0": " ",
    "\u200b": "", "∑": r"\sum ", "≤": r" \leq ", "≥": r" \geq ", "≈": r" \approx ", "π": r"\pi ",
}
DROP = re.compile(r"\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|\\[bB]igg?[lr]?(?![a-zA-Z])|(?<!\\)\\[,;:! ]|\\quad|\\qquad|\\displaystyle")
GREEK = ("alpha beta gamma delta epsilon varepsilon eta theta lambda mu sigma tau phi psi omega "
         "Delta Gamma Theta Lambda Sigma Phi Psi Omega").split()


FUNCTIONS = {  # a name the text applies to arguments in parentheses -> what it reads as; activations from the table
    **{name.lower(): act.form for act in ACTIVATIONS.values() for name in act.names}, "max": sp.Max,
    "exp": sp.exp, "ln": sp.log, "log": sp.log, "theta": sp.Heaviside, "heaviside": sp.Heaviside,  # theta(z, c): H(0) = c
}
ANGLE_CMDS = {r"\frac", r"\sqrt", r"\cdot", r"\times", r"\tanh", r"\exp", r"\ln", r"\log", r"\max", r"\pi"}
UNSUPPORTED = {r"\int": "integrals", r"\sum": "sums", r"\prod": "products", r"\lim": "limits", r"\begin": "environments other than cases",
               r"\leq": "inequalities", r"\geq": "inequalities", r"\approx": "approximations", r"\neq": "inequalities",
               r"\in": "set membership", r"\nabla": "gradients (nabla)", r"\circ": "composition"}

_NAME = (r"(?:\\(?:text|mathrm|operatorname|mathit|textrm|mathbf|mathsf)\s*\{\s*[A-Za-z][A-Za-z0-9 ]*\}"
         r"|\\hat\s*\{?\s*[A-Za-z]\s*\}?|\\(?:" + "|".join(GREEK) + r")(?![A-Za-z])|[A-Za-z]+)")
_SUB = r"(?:\s*_\s*(?:\{[^{}]*\}|[A-Za-z0-9]+)|(?<=[A-Za-z])\d+)?"
IDENT = re.compile(rf"(?P<name>{_NAME})(?P<sub>{_SUB})")
_RUN = _NAME.replace("|[A-Za-z]+)", "|(?<![A-Za-z])[A-Za-z]+)")  # a name's letters from their start: searched in linear time
PRIME = re.compile(rf"(?P<ident>{_RUN}{_SUB})\s*(?:'|\^\s*'|\^\s*\{{\s*\\prime\s*\}}|\^\s*\\prime)(?P<more>')?"
                   r"(?:\s*\((?P<arg>[^()]*)\))?")
_BRACED = r"(?:[^{}]|\{[^{}]*\})*"
LEIBNIZ = re.compile(rf"\\frac\s*\{{\s*(?P<d1>\\partial|d|\\mathrm\{{d\}})\s*(?P<num>{_BRACED})\}}\s*"
                     rf"\{{\s*(?P<d2>\\partial|d|\\mathrm\{{d\}})\s*(?P<den>{_BRACED})\}}")
INLINE_LEIBNIZ = re.compile(rf"\\partial\s*(?P<num>{_NAME}{_SUB})\s*/\s*\\partial\s*(?P<den>{_NAME}{_SUB})")
TIMES_X = re.compile(r"(?<=[\w)}])\s+x\s+(?=[\w(\\])")
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
HOLE = "\x00{}\x01"
HOLES = re.compile("\x00(\\d+)\x01")

# \begin{cases} blocks: rows of "value & condition"
CASES = re.compile(r"\\begin\s*\{cases\}((?:(?!\\begin\s*\{cases\}).)*?)\\end\s*\{cases\}", re.S)
_WORD = r"\s*,?\s*(?:\\(?:text|mathrm|textrm)\s*\{{\s*(?:{0})\s*[.,]?\s*\}}|(?:{0})(?![A-Za-z]))"
CONDITION_WORD = re.compile(_WORD.format("for|if|when") + "?")
OTHERWISE = re.compile(_WORD.format("otherwise|else") + r"\s*[.,]?\s*")
RELATIONS = {r"\geq": sp.Ge, r"\ge": sp.Ge, r"\leq": sp.Le, r"\le": sp.Le, r"\gt": sp.Gt, r"\lt": sp.Lt, r"\neq": sp.Ne,
             r"\ne": sp.Ne, ">=": sp.Ge, "<=": sp.Le, ">": sp.Gt, "<": sp.Lt, "=": sp.Eq}
RELATION = re.compile("|".join(re.escape(r) + ("(?![A-Za-z])" if r[0] == "\\" else "") for r in RELATIONS))

# the names left once fractions and primes are atoms
SUBSCRIPT = re.compile(r"\s*_\s*(?:\{[^{}]*\}|[A-Za-z0-9]+)")
TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z]+\d*")
NAME_CMDS = ("text", "mathrm", "operatorname", "mathit", "textrm", "mathbf", "mathsf")


class FormulaError(ValueError):
    """A formula that cannot be read: the message says what and where."""


@dataclass(frozen=True)
class Atom:
    """A name the text uses: ``symbol`` (W_53), ``leibniz`` (dL/dW_53), ``prime`` (f'(b)), ``key``;
    internally also ``value``: a part read here, not by the parser (cases, a function applied)."""

    kind: str
    text: str  # canonical
    parts: tuple[str, ...] = ()  # leibniz: (numerator, denominator); prime: (function, argument or "")
    value: sp.Expr | None = None  # value: the SymPy it reads as


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


def prepare(text: str, times_x: bool) -> str:
    """Unicode, spacing commands and decimals made plain LaTeX (``0.5`` -> ``\\frac{1}{2}``: exact)."""
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


class Atoms:
    """The atoms found so far in one formula, each one hole; and the names its claim maps."""

    def __init__(self, keys: tuple[str, ...] = (), functions: tuple[str, ...] = ()) -> None:
        self.atoms: list[Atom] = []
        self.index: dict[tuple[str, str], int] = {}  # (kind, text) -> its hole
        self.keys = keys
        self.times_x = "x" not in {canonical_name(k) for k in keys}
        self.names = {canonical_name(k) for k in keys}
        self.functions = {canonical_name(f) for f in functions}

    def hole(self, atom: Atom) -> str:
        if any(c in atom.text or any(c in p for p in atom.parts) for c in "\x00\x01"):  # a name around a hole: its text
            def plain(t: str) -> str:
                return readable(t, self.atoms).replace("\x00", "").replace("\x01", "")

            atom = replace(atom, text=plain(atom.text), parts=tuple(plain(p) for p in atom.parts))
        i = self.index.setdefault((atom.kind, atom.text), len(self.atoms))
        if i == len(self.atoms):
            self.atoms.append(atom)
        return " " + HOLE.format(i) + " "


def check_supported(text: str) -> None:
    """What formula claims do not read (sums, integrals, inequalities...) fails here, by name."""
    if text.count("{") != text.count("}"):
        raise FormulaError("unbalanced braces { }")
    if text.count("(") != text.count(")"):
        raise FormulaError("unbalanced parentheses ( )")
    if re.search(r"\\(?:begin|end)\s*\{cases\}", text):
        raise FormulaError(r"\begin{cases} without its \end{cases}, or the reverse")
    for cmd, what in UNSUPPORTED.items():
        if re.search(re.escape(cmd) + r"(?![A-Za-z])", text):
            raise FormulaError(f"{cmd}: {what} are not supported in formula claims")
    if re.search(r"\\frac\s*\{\s*(\\partial|d)\s*\}", text):
        raise FormulaError("a derivative operator d/dx applied to an expression is not supported; "
                           "write the Leibniz fraction of a named quantity, like \\frac{\\partial L}{\\partial w}")
    if re.search(r"''|\\prime\s*\\prime", text):
        raise FormulaError("second derivatives (f'') are not supported")


def explicit_products(text: str) -> str:
    """``2 W (a)`` is read by the parser as 2 * W(a): every adjacency becomes an explicit \\cdot."""
    operand_end = r"(?:\x01|\d|\)|(?<![\^_])\}|\be\b|\\pi)"
    operand_start = r"(?:\x00|\(|\\frac|\\sqrt|\\tanh|\\exp|\\ln|\\log|\\max|\be\b|\\pi|\d)"
    prev = None
    while prev != text:
        prev = text
        text = re.sub(rf"({operand_end})\s+(?={operand_start})", r"\1 \\cdot ", text)
        text = re.sub(rf"(\x01|\))(?={operand_start})", r"\1 \\cdot ", text)
    return " ".join(text.split())


def split_sides(text: str) -> list[str]:
    """The sides of ``=`` outside any brackets."""
    depth, parts, start = 0, [], 0
    for i, ch in enumerate(text):
        depth += ch in "({["
        depth -= ch in ")}]"
        if ch == "=" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def readable(text: str, atoms: list[Atom]) -> str:
    """Placeholder text with each hole written back as its atom's name, for messages."""
    return HOLES.sub(lambda m: atoms[int(m[1])].text, text)

