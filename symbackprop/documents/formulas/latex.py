"""Formulas as LaTeX: SymPy's LatexPrinter with textbook symbols (w_{a0}, δ_b, ∂E/∂w) and numbers put in.

Shared by the Markdown, LaTeX/PDF printers and the notebook displays. Every formula it writes
parses back with latex2sympy (tests/test_markdown.py checks this on the real documents).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter

from ...core.decimals import decimal
from ..nodes import Step
from .chains import ChainText

GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma", "tau", "phi", "Delta"}
LONG_FRACTION = 40  # an exact fraction longer than this many characters is shown by its decimal only


def tex_name(name: str) -> str:
    """``w_a0`` -> ``w_{a0}``, ``w1_2_3`` -> ``w_{1,2,3}``, ``delta_b`` -> ``\\delta_{b}``, ``dE/dw_a0`` -> a Leibniz fraction."""
    if name.startswith("dE/d"):
        return rf"\frac{{\partial E}}{{\partial {tex_name(name[4:])}}}"
    if name.startswith("Delta_"):
        return rf"\Delta {tex_name(name[6:])}"
    if name in GREEK:
        return "\\" + name
    head, rest = re.match(r"([A-Za-z]*)_?(.*)\Z", name).groups()
    if head.startswith(tuple(g + "_" for g in GREEK)) or head in GREEK:
        head = "\\" + head
    elif len(head) > 1:
        head = rf"\mathrm{{{head}}}"
    return f"{head}_{{{rest.replace('_', ',')}}}" if rest else head


def tex_decimal(dec: str) -> str:
    """``1.5e-05`` as ``1.5 \\cdot 10^{-5}``: LaTeX, not Python, so that it reads (and parses) as a number."""
    if "e" not in dec:
        return dec
    mantissa, exponent = dec.split("e")
    return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"


class TexPrinter(ChainText, LatexPrinter):
    """Textbook symbols via ``_print_Symbol``; with ``values``, symbols print as their numbers."""

    _default_settings = {**LatexPrinter._default_settings, "values": None, "order": "none", "mul_symbol": None}
    chain_dot, chain_brackets = r" \cdot ", (r"\left(", r"\right)")

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        values: Mapping | None = self._settings["values"]
        if values is not None and expr in values:
            text = tex_decimal(decimal(values[expr]))
            return rf"\left({text}\right)" if text.startswith("-") else text
        return tex_name(expr.name)

    def _print_Heaviside(self, expr: sp.Heaviside, exp=None) -> str:
        return rf"H\left({self._print(expr.args[0])}\right)"

    def _print_Max(self, expr: sp.Max, exp=None) -> str:
        args = sorted(expr.args, key=lambda a: not a.is_Number)
        return r"\max\left(" + ", ".join(self._print(a) for a in args) + r"\right)"

    def _print_AppliedUndef(self, expr, exp=None) -> str:
        inner = ", ".join(self._print(a) for a in expr.args)
        return rf"{tex_name(expr.func.__name__)}\left({inner}\right)"

    def _print_Partial(self, node) -> str:
        return rf"\frac{{\partial {self._print(node.numerator)}}}{{\partial {self._print(node.denominator)}}}"


def tex(expr, values: Mapping | None = None) -> str:
    """A formula; with ``values`` a substitution, where every product shows its dot."""
    return TexPrinter({"values": values, "mul_symbol": "dot" if values is not None else None}).doprint(expr)


def value_parts(value: sp.Expr) -> list[tuple[str, str]]:
    """``= 0.76``; ``= \\frac{p}{q} \\approx 0.0893``; or ``\\approx 1.0173802589`` when the fraction is long."""
    value = sp.sympify(value)
    dec = decimal(value)
    if value.is_Rational and "e" not in dec and sp.Rational(dec) == value:
        return [("=", dec)]
    exact = tex(value)
    if value.is_Rational and len(exact) <= LONG_FRACTION:
        return [("=", exact), (r"\approx", dec)]
    return [(r"\approx", tex_decimal(dec))]


def equation(step: Step) -> list[tuple[str, str]]:
    """The step as (relation, formula) pairs: the left-hand side (relation ""), forms, substitution, value."""
    parts = [("", tex(step.lhs))]
    seen = {parts[0][1]}
    for form in step.forms:
        text = tex(form)
        if text not in seen:
            parts.append(("=", text))
            seen.add(text)
    if step.substitution is not None:
        text = tex(step.substitution, step.values)
        if text not in seen:
            parts.append(("=", text))
            seen.add(text)
    if step.value is not None:
        for relation, text in value_parts(step.value):
            if text not in seen:
                parts.append((relation, text))
                seen.add(text)
    return parts


def one_line(parts: list[tuple[str, str]]) -> str:
    return " ".join(f"{r} {t}" if r else t for r, t in parts)
