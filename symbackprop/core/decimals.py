"""How exact values read: a decimal rounding beside the exact fraction or closed form."""

from __future__ import annotations

import functools
from collections.abc import Callable

import sympy as sp

DIGITS = 10
MAX_CLOSED_FORM = 60  # longer exact forms are left to the trace; the document shows the decimal


def decimal(value: sp.Expr, digits: int = DIGITS) -> str:
    """Shortest faithful decimal: exact when it terminates within ``digits``, else rounded."""
    return _decimal(sp.sympify(value), digits)


@functools.lru_cache(maxsize=4096)
def _decimal(value: sp.Expr, digits: int) -> str:
    """decimal(), remembered: a document prints one value in its step, its tables and its figure, and a
    closed form's evalf costs milliseconds (a tanh of tanh sums: tens of them)."""
    if value.is_Rational:
        q = value.q
        for prime in (2, 5):
            while q % prime == 0:
                q //= prime
        if q == 1:
            text = sp.Float(value, 30).__format__(f".{DIGITS}f").rstrip("0")
            return text + "0" if text.endswith(".") else text
    f = sp.Float(value.evalf(digits + 5), digits + 5)
    text = f"{float(f):.{digits}g}"
    return text


@functools.lru_cache(maxsize=4096)
def exact(value: sp.Expr) -> str:
    return sp.sstr(value)


def show(value: sp.Expr, closed_form: Callable[[sp.Expr], str] = exact) -> str:
    """``0.76`` for a terminating decimal, ``0.0893... (= 1117/12500)`` otherwise; ``closed_form``
    writes the exact form (a document passes its own formula printer)."""
    value = sp.sympify(value)
    dec = decimal(value)
    if value.is_Integer:
        return dec
    if value.is_Rational:
        terminating = sp.Rational(dec) == value if "e" not in dec else False
        if terminating:
            return dec
    if value.is_Float or len(exact(value)) > MAX_CLOSED_FORM:
        return f"≈ {dec}"
    return f"≈ {dec} (= {closed_form(value)})"
