"""Rounding: whether an exact value is the number a text states, at the text's own decimals.

A stated value with d decimals *holds* when the exact value rounds to it at d decimals (half up,
either side of a tie), is *truncated* when it only agrees cut off at d decimals, and is a
*mismatch* otherwise.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

import sympy as sp

from .status import Status


def _decimal(value: sp.Expr, digits: int = 40) -> Decimal:
    value = sp.sympify(value)
    if value.is_Rational:
        with localcontext() as ctx:
            ctx.prec = 60
            return Decimal(int(value.p)) / Decimal(int(value.q))
    return Decimal(str(sp.N(value, digits)))


def rounded(value: sp.Expr, decimals: int, mode: str = ROUND_HALF_UP) -> sp.Rational:
    quantum = Decimal(1).scaleb(-decimals)
    with localcontext() as ctx:
        ctx.prec = 80
        return sp.Rational(str(_decimal(value).quantize(quantum, rounding=mode)))


def judge(value: sp.Expr, stated: sp.Rational, decimals: int) -> Status:
    """holds / truncated / mismatch for an exact value against a stated one with d decimals."""
    value = sp.sympify(value)
    half = sp.Rational(1, 2) / 10**decimals
    difference = abs(_decimal(value) - _decimal(stated))
    if difference < _decimal(half) or (value.is_Rational and abs(value - stated) == half):
        return Status.HOLDS
    if rounded(value, decimals, ROUND_DOWN) == stated:
        return Status.TRUNCATED
    return Status.MISMATCH
