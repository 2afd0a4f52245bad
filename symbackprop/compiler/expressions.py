"""Printing expressions as Python: scalar (``math``, Python floats) and batch (NumPy) code.

The expressions reach these printers already renamed by names.Names, so every symbol they
print is an identifier from its table.

Exact numbers print as themselves while float64 holds them exactly (``2``, ``(1/2)``: the bytes
of ordinary modules); any other, folded from a file's constants, prints as the float64 it rounds
to, and one beyond float64's range as ``math.inf`` or ``numpy.inf`` (``float_literal``, the one
place a float becomes code text, the module header's arrays included): never a bare ``inf``, which
Python reads as an undefined name, nor an integer numba cannot type.
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

EXACT = 2**53  # integers up to this, and fractions of them, print exactly; float64 holds them


def float_literal(value: float, module: str) -> str:
    """A float64 as Python text: its repr, or ``module.inf``/``-module.inf``/``module.nan``
    (``module``: math or numpy, whichever the code imports)."""
    if math.isnan(value):
        return f"{module}.nan"
    if math.isinf(value):
        return f"-{module}.inf" if value < 0 else f"{module}.inf"
    return repr(value)


def float_list(values, module: str) -> str:
    """A list of numbers as Python text: what ``repr`` writes for finite floats, else float_literal's words."""
    return "[" + ", ".join(float_literal(float(v), module) for v in values) + "]"


class _Numbers:
    """Exact numbers that float64 cannot hold, printed as the float they round to (or its inf)."""

    module = "math"

    def _print_Integer(self, expr):
        if abs(expr.p) <= EXACT:
            return super()._print_Integer(expr)
        return float_literal(float(expr), self.module)

    def _print_Rational(self, expr):
        if abs(expr.p) <= EXACT and expr.q <= EXACT:
            return super()._print_Rational(expr)
        return float_literal(float(expr), self.module)

    def _print_Float(self, expr):
        if math.isfinite(float(expr)):
            return super()._print_Float(expr)
        return float_literal(float(expr), self.module)


def _softplus_argument(expr: sp.log):
    """u when expr is log(1 + exp(u)) (softplus), else None: written so, exp(u) overflows past u = 709."""
    inner = expr.args[0]
    if isinstance(inner, sp.Add) and len(inner.args) == 2 and sp.S.One in inner.args:
        other = inner.args[0] if inner.args[1] == 1 else inner.args[1]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def _logistic_argument(expr: sp.Pow):
    """u when expr is 1/(1 + exp(u)) (a sigmoid of -u), else None: math.exp(u) raises past u = 709."""
    if expr.exp == -1:
        return _softplus_argument(sp.log(expr.base, evaluate=False))
    return None


class ScalarPrinter(_Numbers, PythonCodePrinter):
    """Python floats and ``math``: the straight-line code for small batches. Softplus and the
    logistic are written in their overflow-free forms (math.exp raises OverflowError past 709)."""

    def _print_log(self, expr):
        u = _softplus_argument(expr)
        if u is None:
            return super()._print_log(expr)
        u = self._print(u)
        return f"(max({u}, 0.0) + math.log1p(math.exp(-abs({u}))))"

    def _print_Pow(self, expr, rational=False):
        u = _logistic_argument(expr)
        if u is None:
            return super()._print_Pow(expr, rational=rational)
        u, minus_u = self._print(u), self._print(-u)
        return f"(1.0/(1.0 + math.exp({u})) if {minus_u} >= 0 else math.exp({minus_u})/(1.0 + math.exp({minus_u})))"

    def _print_Heaviside(self, expr):
        z = self._print(expr.args[0])
        at0 = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        return f"(1.0 if {z} > 0 else {self._print(sp.Float(at0))} if {z} == 0 else 0.0)" if at0 != 0 else f"(1.0 if {z} > 0 else 0.0)"

    def _print_Max(self, expr):
        if len(expr.args) == 2 and expr.args[0] == 0:  # relu: a branch is cheaper than a call to max
            z = self._print(expr.args[1])
            return f"({z} if {z} > 0 else 0.0)"
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Mul(self, expr):
        step, rest = _split_step(expr)
        if step is None:
            return super()._print_Mul(expr)
        return f"({self._print(rest)} if {self._print(step.args[0])} > 0 else 0.0)"


class BatchPrinter(_Numbers, NumPyPrinter):
    """NumPy elementwise code over whole columns or matrices."""

    module = "numpy"

    def _print_Heaviside(self, expr):
        at0 = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        return f"numpy.heaviside({self._print(expr.args[0])}, {self._print(sp.Float(at0))})"

    def _print_Mul(self, expr):
        step, rest = _split_step(expr)
        if step is None:
            return super()._print_Mul(expr)
        return f"{self.parenthesize(rest, 50)}*({self._print(step.args[0])} > 0)"

    def _print_Pow(self, expr, rational=False):
        if expr.exp == -1:
            return f"1/{self.parenthesize(expr.base, 60)}"
        return super()._print_Pow(expr, rational=rational)

    def _print_log(self, expr):
        u = _softplus_argument(expr)
        if u is None:
            return super()._print_log(expr)
        return f"numpy.logaddexp(0.0, {self._print(u)})"

    def _print_Max(self, expr):
        args = [self._print(a) for a in _arrays_first(expr)]
        out = args[0]
        for a in args[1:]:
            out = f"numpy.maximum({out}, {a})"
        return out


def _arrays_first(expr: sp.Max) -> list:
    """Max's arguments with the constants last, as floats: numpy.maximum(Z, 0.0) is a third
    faster than numpy.maximum(0, Z) (measured)."""
    return sorted((sp.Float(a) if a.is_number else a for a in expr.args), key=lambda a: a.is_number)


def _split_step(expr: sp.Mul):
    """A product holding Heaviside(z, 0) (relu'): (that step, the rest), else (None, expr).

    Printed as a branch or a boolean mask, which is faster than multiplying by 0.0 or 1.0.
    """
    for i, f in enumerate(expr.args):
        if isinstance(f, sp.Heaviside) and len(f.args) == 2 and f.args[1] == 0:
            return f, sp.Mul(*(expr.args[:i] + expr.args[i + 1:]))
    return None, expr


def scalar(expr: sp.Expr) -> str:
    return ScalarPrinter({"fully_qualified_modules": True}).doprint(expr)


def batch(expr: sp.Expr) -> str:
    return BatchPrinter().doprint(expr)


def batch_into(expr: sp.Expr, out: str) -> str:
    """A statement writing expr into the existing array ``out``: relu's Max as numpy.maximum(...,
    out=) with no temporary, anything else as an assignment into it."""
    if isinstance(expr, sp.Max) and len(expr.args) == 2:
        a, b = (batch(e) for e in _arrays_first(expr))
        return f"numpy.maximum({a}, {b}, out={out})"
    return f"{out}[...] = {batch(expr)}"
