"""Formulas as LaTeX: SymPy's LatexPrinter with textbook symbols (w_{a0}, δ_b, ∂E/∂w) and numbers put in.

Shared by the Markdown, LaTeX/PDF printers and the notebook displays. Every formula it writes
parses back with latex2sympy (tests/test_documents.py checks this on the real documents). For a
page, ``tex_width`` estimates how wide a formula sets and ``rows`` breaks one too wide for it (the
cuts made by breaking.py), rows that join back to exactly the formula printed whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp
from sympy.printing.latex import LatexPrinter

from ...core import notation
from ...core.decimals import decimal
from ..nodes import Step
from . import breaking, relations
from .chains import ChainText


def tex_name(name: str) -> str:
    """A derivation name in its notation (documents/notation.py): ``w_a0`` -> ``w_{a0}``, ``w1_2_3`` ->
    ``w_{1,2,3}``, ``delta_b`` -> ``\\delta_{b}``, ``n2_1`` -> ``a_{2,1}``, ``dE/dw_a0`` -> a Leibniz fraction."""
    return notation.latex(notation.of(name))


def tex_decimal(dec: str) -> str:
    """``1.5e-05`` as ``1.5 \\cdot 10^{-5}``: LaTeX, not Python, so that it reads (and parses) as a number."""
    if "e" not in dec:
        return dec
    mantissa, exponent = dec.split("e")
    return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"


class TexPrinter(ChainText, LatexPrinter):
    """Textbook symbols via ``_print_Symbol``; with ``values``, symbols print as their numbers."""

    _default_settings = {**LatexPrinter._default_settings, "values": None, "order": "none", "mul_symbol": None}
    chain_dot, chain_brackets, chain_ellipsis = r" \cdot ", (r"\left(", r"\right)"), r"\ldots"

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        values: Mapping | None = self._settings["values"]
        if values is not None and expr in values:
            text = tex_decimal(decimal(values[expr]))
            return rf"\left({text}\right)" if self.bracketed(expr, text) else text
        return tex_name(expr.name)

    def _print_Pow(self, expr: sp.Pow) -> str:
        """A Leibniz fraction squared in brackets, (∂E/∂w)², not ∂E/∂w with a 2 on its denominator."""
        if isinstance(expr.base, sp.Symbol) and expr.exp.is_Integer and expr.exp > 1:
            base = self._print(expr.base)
            if r"\frac" in base:
                return rf"\left({base}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_Heaviside(self, expr: sp.Heaviside, exp=None) -> str:
        with self.arguments(expr):
            return rf"H\left({self._print(expr.args[0])}\right)"

    def _print_Max(self, expr: sp.Max, exp=None) -> str:
        args = sorted(expr.args, key=lambda a: not a.is_Number)
        with self.arguments(expr):
            return r"\max\left(" + ", ".join(self._print(a) for a in args) + r"\right)"

    def _print_AppliedUndef(self, expr, exp=None) -> str:
        with self.arguments(expr):
            inner = ", ".join(self._print(a) for a in expr.args)
        return rf"{tex_name(expr.func.__name__)}\left({inner}\right)"

    def _print_Partial(self, node) -> str:
        return rf"\frac{{\partial {self._print(node.numerator)}}}{{\partial {self._print(node.denominator)}}}"


def printer(values: Mapping | None = None) -> TexPrinter:
    """The printer of a formula; with ``values`` of a substitution, where every product shows its dot."""
    return TexPrinter({"values": values, "mul_symbol": "dot" if values is not None else None})


def tex(expr, values: Mapping | None = None) -> str:
    """A formula; with ``values`` a substitution, where every product shows its dot."""
    return printer(values).doprint(expr)


@dataclass(frozen=True)
class Side:
    """One side of a displayed chain of equalities: the relation before it, its LaTeX, and, for a
    formula (not a number), the node and values it was printed from, so that a document can break it."""

    relation: str
    text: str
    node: object = None
    values: Mapping | None = None


RELATIONS = {relations.EQUAL: "=", relations.APPROX: r"\approx", relations.ASSIGN: r"\leftarrow", "": ""}


def side(part: relations.Part) -> Side:
    """One part of a step as LaTeX."""
    relation = RELATIONS[part.relation]
    if part.kind == "decimal":
        return Side(relation, tex_decimal(decimal(part.node)))
    if part.kind == "fraction":
        return Side(relation, tex(part.node))
    return Side(relation, tex(part.node, part.values), part.node, part.values)


def sides(step: Step) -> list[Side]:
    """The step as its sides (formulas/relations.py): the left-hand side (relation ""), forms, substitution,
    value; a side equal to an earlier one left out."""
    out, seen = [], set()
    for part in relations.parts(step):
        printed = side(part)
        if printed.text not in seen:
            out.append(printed)
            seen.add(printed.text)
    return out


def equation(step: Step) -> list[tuple[str, str]]:
    """The step as (relation, formula) pairs: the left-hand side (relation ""), forms, substitution, value."""
    return [(side.relation, side.text) for side in sides(step)]


def one_line(parts: list[tuple[str, str]]) -> str:
    return " ".join(f"{r} {t}" if r else t for r, t in parts)


# -- the width of a formula, estimated: enough to decide where a long one breaks ---------------------
TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|[^\s]", re.S)
SCRIPT = 0.76  # a sub- or superscript's size, relative to the base (8 pt type on 11 pt, its letters relatively wider)
BIN_SPACE, REL_SPACE, THIN = 4 / 9, 5 / 9, 1 / 6  # em: medmuskip and thickmuskip on both sides, thinmuskip
GLYPH = {"(": 0.39, ")": 0.39, "[": 0.28, "]": 0.28, ".": 0.28, "/": 0.5, "|": 0.28, "'": 0.3, "!": 0.28, "*": 0.5,
         "&": 0.0, "~": 0.33, r"\{": 0.5, r"\}": 0.5, r"\partial": 0.57, r"\infty": 1.0, r"\ldots": 1.17, r"\cdots": 1.17,
         r"\quad": 1.0, r"\qquad": 2.0, r"\,": THIN, r"\:": 2 / 9, r"\;": 5 / 18, r"\!": -THIN, "\\ ": 0.33}
BINARY = {"+": 0.78, "-": 0.78, r"\cdot": 0.28, r"\times": 0.78, r"\pm": 0.78, r"\mp": 0.78, r"\circ": 0.5, r"\odot": 0.78}
RELATION = {"=": 0.78, "<": 0.78, ">": 0.78, r"\approx": 0.78, r"\leq": 0.78, r"\geq": 0.78, r"\neq": 0.78, r"\to": 1.0,
            r"\in": 0.67, r"\le": 0.78, r"\ge": 0.78, ":": 0.28}
# Computer Modern math italic, in em: the letters that names are made of
ITALIC = dict(zip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    .53, .43, .43, .52, .47, .49, .48, .58, .35, .41, .52, .3, .88, .6, .49, .5, .45, .45, .47, .36, .57, .49, .72, .57, .49, .47,
    .75, .76, .72, .83, .74, .64, .79, .83, .44, .56, .85, .68, .97, .8, .76, .64, .79, .76, .61, .58, .68, .58, .94, .83, .58, .68)))
OPERATORS = {r"\log", r"\ln", r"\exp", r"\max", r"\min", r"\tanh", r"\sinh", r"\cosh", r"\sin", r"\cos", r"\tan", r"\sgn"}
IGNORED = {r"\displaystyle", r"\textstyle", r"\limits", r"\nolimits", r"\small", r"\emph"}
LETTERS = {r"\mathrm", r"\mathit", r"\mathbf", r"\mathsf", r"\operatorname", r"\mathbb", r"\boldsymbol", r"\hat", r"\bar",
           r"\tilde", r"\vec", r"\dot", r"\overline"}


class _Measure:
    """A left-to-right walk over the tokens of LaTeX math, adding up glyph widths and TeX's spacing, in em."""

    def __init__(self, text: str) -> None:
        self.tokens, self.i = TOKEN.findall(text), 0

    def next(self) -> str:
        self.i += 1
        return self.tokens[self.i - 1] if self.i <= len(self.tokens) else "}"

    def group(self, scale: float, display: bool) -> float:
        """A braced argument (or a single token) at ``scale``."""
        if self.i < len(self.tokens) and self.tokens[self.i] == "{":
            self.i += 1
            width = self.sequence(scale, display)
            self.i += 1
            return width
        return self.sequence(scale, display, one=True)

    def raw(self) -> str:
        """A braced argument's tokens as text (``\\text{...}``, an environment's name)."""
        depth, out = 0, []
        while self.i < len(self.tokens):
            t = self.next()
            depth += (t == "{") - (t == "}")
            if depth == 0:
                break
            out.append(t if t != "{" or depth > 1 else "")
        return "".join(out)

    def sequence(self, scale: float, display: bool = True, one: bool = False, stop: tuple = ("}",)) -> float:
        total, previous = 0.0, "open"
        while self.i < len(self.tokens) and self.tokens[self.i] not in stop:
            before = previous
            width, previous = self.atom(self.next(), scale, display, previous)
            if scale >= 1 and before == "inner" and previous in ("ord", "punct"):
                width += THIN  # after a \left...\right group (an Inner atom), before a letter, digit or comma
            scripts = {"^": 0.0, "_": 0.0}
            while self.i < len(self.tokens) and self.tokens[self.i] in scripts:
                which = self.next()
                scripts[which] = self.group(scale * SCRIPT, False)
            total += width + max(scripts.values())
            if one:
                break
        return total

    def atom(self, t: str, scale: float, display: bool, previous: str) -> tuple[float, str]:
        """One token's width (with what it takes as arguments) and its class, for the spacing of the next."""
        spaced = 1.0 if scale >= 1 else 0.0  # TeX drops the spaces around operators in scripts
        if t == "{":
            width = self.sequence(scale, display)
            self.i += 1
            return width, "ord"
        if t in BINARY:
            unary = previous in ("open", "bin", "rel", "punct")
            return scale * (BINARY[t] + (0 if unary else BIN_SPACE * spaced)), "bin"
        if t in RELATION:
            return scale * (RELATION[t] + REL_SPACE * spaced), "rel"
        if t == ",":
            return scale * (0.28 + THIN * spaced), "punct"
        if t in (r"\frac", r"\dfrac", r"\tfrac"):
            inner = scale if display and t != r"\tfrac" else scale * SCRIPT
            return max(self.group(inner, False), self.group(inner, False)) + 0.24 * scale, "ord"
        if t in (r"\left", r"\right", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\big", r"\Big"):
            delimiter = self.next()
            width = scale * (0.12 if delimiter == "." else 0.45)
            if t == r"\left":  # an Inner atom: a thin space after a letter, digit, comma or another group
                return width + (THIN * scale if scale >= 1 and previous in ("ord", "inner", "punct") else 0), "open"
            return width, "inner" if t == r"\right" else "ord"
        if t in (r"\text", r"\textrm", r"\textit", r"\mbox"):
            return scale * 0.5 * len(self.raw()), "ord"
        if t == r"\begin":
            return self.environment(self.raw(), scale), "ord"
        if t in (r"\end", r"\tag", r"\tag*"):
            self.raw()
            return 0.0, previous
        if t == r"\sqrt":
            return self.group(scale, display) + 0.9 * scale, "ord"
        if t in LETTERS:
            return self.group(scale, display), "ord"
        if t in OPERATORS:
            return scale * (0.5 * (len(t) - 1) + THIN), "ord"
        if t in IGNORED:
            return 0.0, previous
        if t in GLYPH:
            return scale * GLYPH[t], "open" if t in "([" else "ord"
        if t.isdigit():
            return scale * 0.5, "ord"
        if t in ITALIC:
            return scale * ITALIC[t], "ord"
        return scale * (0.8 if t[1:2].isupper() else 0.6), "ord"  # a Greek letter, a symbol

    def environment(self, name: str, scale: float) -> float:
        """``cases``: its brace and the widest row, the columns a quad apart; another environment: its content."""
        widest = 0.0
        while self.i < len(self.tokens) and self.tokens[self.i] != r"\end":
            row = 0.0
            while self.i < len(self.tokens) and self.tokens[self.i] not in (r"\\", r"\end"):
                row += self.sequence(scale, False, stop=("&", r"\\", r"\end", "}"))
                if self.i < len(self.tokens) and self.tokens[self.i] == "&":
                    self.i += 1
                    row += scale
                elif self.i < len(self.tokens) and self.tokens[self.i] == "}":
                    self.i += 1
            widest = max(widest, row)
            if self.i < len(self.tokens) and self.tokens[self.i] == r"\\":
                self.i += 1
        if self.i < len(self.tokens):
            self.next()
            self.raw()
        return widest + (1.0 if name == "cases" else 0.0) * scale


def tex_width(text: str) -> float:
    """The width of LaTeX math as a display sets it, estimated in em (11 pt: 1 em = 10.95 pt): glyphs by
    class (digits 0.5, letters 0.55, ``\\partial`` and a Greek letter one glyph), TeX's spaces around
    operators and relations, scripts smaller, a fraction its wider line, ``\\left(`` one bracket."""
    return _Measure(text).sequence(1.0)


# -- a side too wide for its line, in rows -----------------------------------------------------------
INDENT = ("", r"\quad", r"\qquad")  # a row's indent: the first, a break between terms or paths, a deeper break
NUMBER_BEFORE, NUMBER_AFTER = re.compile(r"[0-9][} ]*$"), re.compile(r"(\d|\\frac{\d+}{\d+})")  # as LatexPrinter's _print_Mul


def _op_tex(p: TexPrinter, symbol: str, before: str, after: str) -> str:
    """An operator as the printer writes it between ``before`` and ``after`` (a product of two numbers shows its dot)."""
    if symbol == "×":
        numbers = NUMBER_BEFORE.search(before) and NUMBER_AFTER.match(after)
        return p._settings["mul_symbol_latex_numbers" if numbers else "mul_symbol_latex"]
    return {"+": " + ", "-": " - ", ",": ", ", "·": p.chain_dot}[symbol]


def _item_tex(p: TexPrinter, item) -> str:
    if isinstance(item, breaking.Atom):
        return p.doprint(item.node)
    if isinstance(item, breaking.Open):
        return (tex_name(item.call.func.__name__) if item.call is not None else "") + r"\left("
    return r"\right)" if isinstance(item, breaking.Close) else ""


def _row_tex(p: TexPrinter, items: tuple, text: dict) -> str:
    """A row's items as the unbroken formula has them, so that the rows joined by spaces give it back."""
    out = []
    for i, item in enumerate(items):
        if isinstance(item, breaking.Op):
            after = text[items[i + 1]] if i + 1 < len(items) else ""
            out.append(_op_tex(p, item.symbol, out[-1] if out else "", after))
        else:
            out.append(text[item])
    return "".join(out).strip()


def _bracketed(row: str, items: tuple) -> str:
    """A row with the brackets it leaves open closed by ``\\right.`` and those it closes opened by ``\\left.``."""
    depth = opened = 0
    for item in items:
        if isinstance(item, breaking.Open):
            depth += 1
        elif isinstance(item, breaking.Close):
            depth -= 1
            opened = max(opened, -depth)
    closing = depth + opened
    return (r"\left." * opened + "{}" if opened else "") + row + r"\right." * closing


def rows(side: Side, limit: float) -> list[tuple[int, str]]:
    """The side as rows (indent, LaTeX) no wider than ``limit`` em where its operators allow: cut by
    breaking.rows, each row printed by the side's own printer. One row when it fits, has no break, or
    when its rows would not join back to exactly the unbroken formula (which the read-back tests check)."""
    if side.node is None or tex_width(side.text) <= limit:
        return [(0, side.text)]
    p = printer(side.values)
    text: dict = {}

    def width(item) -> float:
        if isinstance(item, breaking.Op):
            return tex_width(_op_tex(p, item.symbol, "", ""))
        if item not in text:
            text[item] = _item_tex(p, item)
        return tex_width(text[item]) + (0.12 if not isinstance(item, breaking.Atom) else 0)  # room for \left. or \right.

    broken = breaking.rows(side.node, p, limit, width)
    plain = [_row_tex(p, row.items, text) for row in broken]
    if len(broken) == 1 or " ".join(plain) != side.text:
        return [(0, side.text)]
    return [(row.indent, _bracketed(t, row.items)) for row, t in zip(broken, plain)]
