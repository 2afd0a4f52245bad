"""Formulas as one line of text: SymPy's StrPrinter with textbook symbols and numbers put in."""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy as sp
from sympy.printing.str import StrPrinter

from ...core import notation
from ...core.decimals import decimal
from .chains import ChainText


class PlainPrinter(ChainText, StrPrinter):
    """Names in their notation (``delta_a`` as ``δ_a``), ``Heaviside(z, 0)`` as ``H(z)``; with ``values``,
    symbols print as numbers."""

    _default_settings = {**StrPrinter._default_settings, "values": None, "order": "none"}

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        values: Mapping | None = self._settings["values"]
        if values is not None and expr in values:
            text = decimal(values[expr])
            return f"({text})" if self.bracketed(expr, text) else text
        return notation.text(notation.of(expr.name))

    def _print_AppliedUndef(self, expr) -> str:
        """E(b(z_b(w))): each applied name in its notation too."""
        with self.arguments(expr):
            return f"{notation.text(notation.of(expr.func.__name__))}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        """(∂E/∂w)² in brackets; a square root as √(v)."""
        if expr.exp == sp.S.Half:
            return f"√({self._print(expr.base)})"
        if isinstance(expr.base, sp.Symbol) and expr.exp.is_Integer and expr.exp > 1:
            base = self._print(expr.base)
            if "/" in base:
                return f"({base})**{self._print(expr.exp)}"
        return super()._print_Pow(expr, rational)

    def _print_Sum(self, expr: sp.Sum) -> str:
        """Σ as a reader writes it on one line: Σ_{k=1..n} exp(z_k)."""
        body = self._print(expr.function)
        limits = "".join(f"_{{{self._print(i)}={self._print(a)}..{self._print(b)}}}" for i, a, b in expr.limits)
        return f"Σ{limits} {body}" if expr.function.is_Atom or expr.function.is_Function else f"Σ{limits} ({body})"

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        with self.arguments(expr):
            return f"H({self._print(expr.args[0])})"

    def _print_Max(self, expr: sp.Max) -> str:
        with self.arguments(expr):
            return "max(" + ", ".join(self._print(a) for a in sorted(expr.args, key=lambda a: not a.is_Number)) + ")"

    def _print_Partial(self, node) -> str:
        return f"∂{self._print(node.numerator)}/∂{self._print(node.denominator)}"


SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
POWER = re.compile(r"\*\*(\d+)\b")


def plain(expr, values: Mapping | None = None) -> str:
    """One line as a reader writes it: ``·`` for products, ``²`` for small powers, ``−`` for minus
    (names are identifiers, so the text holds no other ``*`` or ``-``)."""
    text = PlainPrinter({"values": values}).doprint(expr)
    text = POWER.sub(lambda m: m[1].translate(SUPERSCRIPTS), text)
    return text.replace("**", "^").replace("*", "·").replace("-", "−")
