"""Rounding: whether an exact value is the number a text states, at the text's own decimals.

A stated value with d decimals *holds* when the exact value rounds to it at d decimals (half up,
either side of a tie), is *truncated* when it only agrees cut off at d decimals, and is a
*mismatch* otherwise. All of it in exact Rationals: a value that is not one is first evaluated
to 30 digits past the stated decimals, so a text's 85 decimals are judged as surely as its 3.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext

import sympy as sp

from .status import Status

GUARD_DIGITS = 30  # digits evaluated past the stated ones, for a value that is not a Rational


def _rational(value: sp.Expr, decimals: int, approximate: sp.Float | None = None) -> sp.Rational:
    """The value itself when it is a Rational; else its value to ``decimals`` + GUARD_DIGITS
    places (a Float of 1e-260000 becomes 0 at those places, not a 260000-digit fraction).
    ``approximate``: the value to 15 digits, where the caller has it (a batch loss of 10,000
    sigmoid terms takes seconds to evaluate)."""
    value = sp.sympify(value)
    if value.is_Rational:
        return value
    # never abs() of the closed form: Abs.eval of a batch loss of 1,000 sigmoid terms (as_numer_denom
    # of the whole sum) took 8 minutes
    magnitude = abs(sp.N(value, 15) if approximate is None else approximate)
    whole_digits = max(0, int(sp.floor(sp.log(magnitude, 10))) + 1) if magnitude > 1 else 0
    places = decimals + GUARD_DIGITS
    with localcontext() as ctx:
        ctx.prec, ctx.Emax, ctx.Emin = whole_digits + places + 10, MAX_EMAX, MIN_EMIN
        text = str(value if value.is_Float else sp.N(value, whole_digits + places))
        return sp.Rational(str(Decimal(text).quantize(Decimal(1).scaleb(-places))))


def rounded(value: sp.Expr, decimals: int, mode: str = "half_up") -> sp.Rational:
    """``value`` at ``decimals`` places: half away from zero, or cut toward zero (``"down"``)."""
    value = _rational(value, decimals)  # once: a closed form is evaluated to its digits once, not twice
    scaled = abs(value) * 10**decimals
    whole = sp.floor(scaled + sp.Rational(1, 2)) if mode == "half_up" else sp.floor(scaled)
    sign = -1 if value < 0 else 1
    return sp.Rational(sign * whole, 10**decimals)


def judge(value: sp.Expr, stated: sp.Rational, decimals: int) -> Status:
    """holds / truncated / mismatch for an exact value against a stated one with d decimals."""
    approximate = sp.N(value, 15)
    if not (approximate.is_real and approximate.is_finite) or abs(approximate - stated) > 1:
        return Status.MISMATCH  # not even the whole part agrees: no exact rounding needed
    exact = sp.sympify(value).is_Rational
    half = sp.Rational(1, 2 * 10**decimals)
    value = _rational(value, decimals, approximate)  # evaluated once for both tests (itself if a Rational)
    difference = abs(value - stated)
    if difference < half or (exact and difference == half):
        return Status.HOLDS
    if rounded(value, decimals, "down") == stated:
        return Status.TRUNCATED
    return Status.MISMATCH
