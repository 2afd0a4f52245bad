"""Formulas as one line of text: SymPy's StrPrinter with textbook symbols and numbers put in."""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.printing.str import StrPrinter

from ...core.decimals import decimal
from .chains import ChainText


class PlainPrinter(ChainText, StrPrinter):
    """``delta_a`` prints as ``δ_a``, ``Heaviside(z, 0)`` as ``H(z)``; with ``values``, symbols print as numbers."""

    _default_settings = {**StrPrinter._default_settings, "values": None, "order": "none"}

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        values: Mapping | None = self._settings["values"]
        if values is not None and expr in values:
            text = decimal(values[expr])
            return f"({text})" if text.startswith("-") else text
        name = expr.name
        for word, letter in (("delta_", "δ_"), ("Delta_", "Δ"), ("eta", "η")):
            if name.startswith(word):
                return letter + name[len(word):]
        return name

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        return f"H({self._print(expr.args[0])})"

    def _print_Max(self, expr: sp.Max) -> str:
        return "max(" + ", ".join(self._print(a) for a in sorted(expr.args, key=lambda a: not a.is_Number)) + ")"

    def _print_Partial(self, node) -> str:
        return f"∂{self._print(node.numerator)}/∂{self._print(node.denominator)}"


def plain(expr, values: Mapping | None = None) -> str:
    return PlainPrinter({"values": values}).doprint(expr)
