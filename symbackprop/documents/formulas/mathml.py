"""Formulas as presentation MathML: SymPy's MathML printer with the textbook symbols of printers/latex.py."""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter

from ...core.decimals import decimal
from ..nodes import Step

GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
         "lambda": "λ", "mu": "μ", "sigma": "σ", "tau": "τ", "phi": "φ", "Delta": "Δ"}


class MathMLPrinter(MathMLPresentationPrinter):
    """``w_a0`` as w with subscript a0, ``delta_b`` as δ_b, ``dE/dw`` as a Leibniz fraction; ``values`` put numbers in."""

    _default_settings = {**MathMLPresentationPrinter._default_settings, "values": None, "order": "none"}

    def _el(self, tag: str, *children, text: str | None = None):
        el = self.dom.createElement(tag)
        if text is not None:
            el.appendChild(self.dom.createTextNode(text))
        for c in children:
            el.appendChild(c)
        return el

    def _row(self, *children):
        return self._el("mrow", *children)

    def _fenced(self, inner):
        return self._row(self._el("mo", text="("), inner, self._el("mo", text=")"))

    def _name(self, name: str):
        if name.startswith("dE/d"):
            return self._leibniz(self._el("mi", text="E"), self._name(name[4:]))
        if name.startswith("Delta_"):
            return self._row(self._el("mi", text="Δ"), self._name(name[6:]))
        if name in GREEK:
            return self._el("mi", text=GREEK[name])
        head, rest = re.match(r"([A-Za-z]*)_?(.*)\Z", name).groups()
        base = self._el("mi", text=GREEK.get(head, head))
        return self._el("msub", base, self._el("mi", text=rest.replace("_", ","))) if rest else base

    def _leibniz(self, numerator, denominator):
        return self._el("mfrac", self._row(self._el("mo", text="∂"), numerator), self._row(self._el("mo", text="∂"), denominator))

    def _print_Symbol(self, sym, style="plain"):
        values: Mapping | None = self._settings["values"]
        if values is not None and sym in values:
            text = decimal(values[sym])
            if text.startswith("-"):
                return self._fenced(self._row(self._el("mo", text="−"), self._el("mn", text=text[1:])))
            return self._el("mn", text=text)
        return self._name(sym.name)

    def _print_Heaviside(self, expr):
        return self._row(self._el("mi", text="H"), self._fenced(self._print(expr.args[0])))

    def _joined(self, elements, separator: str):
        """One row of elements with an operator between each two."""
        row = self._row()
        for i, el in enumerate(elements):
            if i:
                row.appendChild(self._el("mo", text=separator))
            row.appendChild(el)
        return row

    def _print_Max(self, expr):
        args = sorted(expr.args, key=lambda a: not a.is_Number)
        return self._row(self._el("mi", text="max"), self._fenced(self._joined([self._print(a) for a in args], ",")))

    def _print_Add(self, expr, order=None):
        """SymPy's sum, with the typographic minus sign rather than the hyphen."""
        row = super()._print_Add(expr, order)
        for mo in row.getElementsByTagName("mo"):
            if mo.firstChild is not None and mo.firstChild.data == "-":
                mo.firstChild.data = "−"
        return row

    def _print_AppliedUndef(self, expr):
        return self._row(self._name(expr.func.__name__), self._fenced(self._joined([self._print(a) for a in expr.args], ",")))

    def _print_Partial(self, node):
        return self._leibniz(self._print(node.numerator), self._print(node.denominator))

    def _print_Factors(self, node):
        def factor(f):
            el = self._print(f)
            return self._fenced(el) if isinstance(f, sp.Basic) and (f.is_Add or (f.is_Number and f < 0)) else el

        return self._joined([factor(f) for f in node.factors], "·")

    def _print_Terms(self, node):
        return self._joined([self._print(t) for t in node.terms], "+")


def mathml(expr, values: Mapping | None = None) -> str:
    settings = {"values": values, "mul_symbol": "dot" if values is not None else None}
    return MathMLPrinter(settings).doprint(expr)


def value_parts(value: sp.Expr) -> list[tuple[str, str]]:
    """As printers/latex.value_parts: the exact value, then its decimal when that is not exact."""
    value = sp.sympify(value)
    dec = decimal(value)
    number = f"<mrow><mo>−</mo><mn>{dec[1:]}</mn></mrow>" if dec.startswith("-") else f"<mn>{dec}</mn>"
    if value.is_Rational and "e" not in dec and sp.Rational(dec) == value:
        return [("=", number)]
    parts = []
    if value.is_Rational and len(str(value)) <= 40:
        parts.append(("=", mathml(value)))
    return parts + [("≈", number)]


def equation(step: Step) -> str:
    """The step as one <math> element: lhs = forms = substitution = value."""
    parts = [("", mathml(step.lhs))]
    seen = {parts[0][1]}
    candidates = [("=", mathml(f)) for f in step.forms]
    if step.substitution is not None:
        candidates.append(("=", mathml(step.substitution, step.values)))
    if step.value is not None:
        candidates += value_parts(step.value)
    for relation, text in candidates:
        if text not in seen:
            parts.append((relation, text))
            seen.add(text)
    if len(parts) > 3:  # one equality per row, aligned at the relation
        first = f"<mtr><mtd>{parts[0][1]}</mtd><mtd><mo>=</mo>{parts[1][1]}</mtd></mtr>"
        rest = "".join(f"<mtr><mtd></mtd><mtd><mo>{r}</mo>{t}</mtd></mtr>" for r, t in parts[2:])
        body = f"<mtable>{first}{rest}</mtable>"
    else:
        body = "<mrow>" + "".join(f"<mo>{r}</mo>{t}" if r else t for r, t in parts) + "</mrow>"
    return f'<math display="block" xmlns="http://www.w3.org/1998/Math/MathML">{body}</math>'
