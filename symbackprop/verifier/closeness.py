"""Closeness: how near a mismatched stated number comes to the exact value.

MISMATCH alone reads the same for a number wrong in its seventh digit and for one wrong in its
first; two measures tell them apart, on every mismatch of a number claim:

* agreeing digits: the largest s, at most the significant digits the text writes, at which the
  stated value and the exact value, each rounded to s significant digits (half away from zero),
  are the same number (``1.3287`` against ``1.328659998``: 5). It is 0 when not even the first
  agrees: a sign, an order of magnitude or a first digit apart, an exact 0, or a stated 0, which
  has no significant digit. Rounding, not a comparison of digit strings: ``0.9982`` and
  ``1.0174`` are both ``1.0`` at two digits, though no written digit is the same.
* the relative difference ``|stated - exact| / |exact|``; undefined for an exact 0, where the
  absolute difference (which the report prints anyway) is all there is.

Every decision is made in exact Rationals, as rounding.py makes its own: a Rational exact value is
used as it is, a Float (a long run's) as the decimal it prints, and a closed form is evaluated once
by sympy's evalf (mpmath) to GUARD_DIGITS significant digits past the stated ones. No float
decides a digit; floats are not even used to print one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sympy as sp
from sympy import integer_log

GUARD_DIGITS = 30  # significant digits evaluated past the stated ones, for an exact value that is not a Rational
SHOWN = 2  # significant digits of the relative difference as a report line shows it
FULL = 10  # ... as JSON gives it (the report's decimals have 10 too)
PERCENT_FROM = sp.Rational(1, 1000)  # a relative difference from 0.1% on reads as a percentage ...
PERCENT_BELOW = sp.Integer(1000)  # ... up to 100,000%; outside, as a power of ten: 3.1e-7, 2.5e30


def exponent(x: sp.Rational) -> int:
    """The place of a nonzero Rational's first significant digit, floor(log10 |x|): 0.0017 gives -3,
    1.0173 gives 0. In integers: a float log10 misplaces it next to a power of ten (0.001 - 1e-30),
    and overflows for a long run's 1e-400."""
    p, q = abs(x.p), x.q
    if p >= q:
        return integer_log(p // q, 10)[0]
    k, power = integer_log(q // p, 10)  # 10^k <= q / p < 10^(k+1)
    return -k if power and q % p == 0 else -k - 1


def round_significant(x: sp.Rational, s: int) -> sp.Rational:
    """``x`` rounded to ``s`` significant digits, half away from zero (as rounding.py rounds a stated
    value's decimals); 0 stays 0. The result may reach the next power of ten: 0.9982 at 1 digit is 1."""
    if x == 0:
        return sp.Integer(0)
    scale = sp.Integer(10) ** (s - 1 - exponent(x))  # a Rational when the digit is left of the point
    return sp.sign(x) * sp.floor(abs(x) * scale + sp.Rational(1, 2)) / scale


def significant_digits(stated: sp.Rational, decimals: int) -> int:
    """How many significant digits a stated decimal writes, from its first nonzero digit to its last
    written one ("0.0017": 2, "0.50": 2, "100": 3): the most that can agree. A stated 0 has none."""
    return 0 if stated == 0 else exponent(stated) + decimals + 1


def evaluated(value: sp.Expr, digits: int) -> sp.Rational | None:
    """The exact value as a Rational good to ``digits`` significant digits (itself when it is one; a
    Float as the decimal it prints, as rounding.py reads it); None when it is not a finite real number,
    which no digit of a decimal can approach. A closed form is evaluated once, here."""
    value = sp.sympify(value)
    if value.is_Rational:
        return value
    number = value if value.is_Float else sp.N(value, digits)
    if number.is_Rational:  # evalf found it exactly (0, say)
        return number
    if not (number.is_Float and number.is_finite):  # complex, infinite, nan, or not a number at all
        return None
    return sp.Rational(*Decimal(str(number)).as_integer_ratio())


def agreeing_digits(stated: sp.Rational, decimals: int, exact: sp.Expr) -> int | None:
    """The largest s (at most the stated digits) at which the stated and the exact value rounded to s
    significant digits are equal; 0 when none is. Each s is tried: rounding can part two values at one
    digit and join them at the next (0.149 and 0.15 differ at 1 digit, agree at 2), and the count is
    the precision the stated value has as an approximation. None when the exact value is no number."""
    most = significant_digits(stated, decimals)
    value = evaluated(exact, most + GUARD_DIGITS)
    if value is None:
        return None
    return max((s for s in range(1, most + 1) if round_significant(stated, s) == round_significant(value, s)), default=0)


def relative_difference(stated: sp.Rational, exact: sp.Expr, digits: int = FULL + GUARD_DIGITS) -> sp.Rational | None:
    """|stated - exact| / |exact|, exactly for a Rational exact value (else from its value to ``digits``
    significant digits); None where it is undefined: an exact 0, or an exact value that is no number."""
    value = evaluated(exact, digits)
    if value is None or value == 0:
        return None
    return abs(stated - value) / abs(value)


def _fixed(x: sp.Rational, s: int) -> str:
    """A nonnegative ``x`` at ``s`` significant digits as a plain decimal, its trailing zeros dropped
    (1.9, 17, 1026, 0.1), in exact integers."""
    if x == 0:
        return "0"
    places = max(0, s - 1 - exponent(x))
    digits = str(int(round_significant(x, s) * 10**places)).rjust(places + 1, "0")
    whole, fraction = (digits[:-places], digits[-places:].rstrip("0")) if places else (digits, "")
    return whole + (f".{fraction}" if fraction else "")


def _scientific(x: sp.Rational, s: int) -> str:
    """A positive ``x`` at ``s`` significant digits as a power of ten: 3.1e-7, 2.5e30."""
    rounded = round_significant(x, s)
    e = exponent(rounded)
    digits = str(int(rounded * sp.Integer(10) ** (s - 1 - e))).rstrip("0")
    return f"{digits[0]}{'.' + digits[1:] if len(digits) > 1 else ''}e{e}"


def written(x: sp.Rational, s: int = FULL) -> str:
    """A nonnegative ``x`` at ``s`` significant digits, plain where %g would write it plainly (from
    0.0001 up to s whole digits), else as a power of ten: JSON's relative difference."""
    if x == 0:
        return "0"
    e = exponent(round_significant(x, s))
    return _fixed(x, s) if -4 <= e < s else _scientific(x, s)


def shown(relative: sp.Rational) -> str:
    """A relative difference as a report line shows it: a percentage at two significant digits, never
    cutting a whole percent (1.9%, 17%, 1026%), from 0.1% up to 100,000%; a power of ten outside that
    (3.1e-7), where a percentage would be all zeros or all digits."""
    if PERCENT_FROM <= round_significant(relative, SHOWN) < PERCENT_BELOW:
        percent = 100 * relative
        return _fixed(percent, max(SHOWN, exponent(percent) + 1)) + "%"
    return _scientific(relative, SHOWN) if relative else "0"


def agreement(digits: int) -> str:
    """The agreeing digits in words: "no significant digit agrees", "1 significant digit agrees",
    "5 significant digits agree"."""
    if digits == 0:
        return "no significant digit agrees"
    return "1 significant digit agrees" if digits == 1 else f"{digits} significant digits agree"


@dataclass(frozen=True)
class Closeness:
    """The two measures of one mismatch: the agreeing digits, and the relative difference (None where undefined)."""

    digits: int
    relative: sp.Rational | None

    def text(self) -> str:
        """As the text and Markdown reports write it: "2 significant digits agree, relative difference 1.9%"."""
        relative = f", relative difference {shown(self.relative)}" if self.relative is not None else ""
        return agreement(self.digits) + relative

    def as_dict(self) -> dict:
        """As JSON gives it: the count, and the relative difference as a decimal string of 10 significant digits."""
        return {"agreeing_digits": self.digits,
                "relative_difference": None if self.relative is None else written(self.relative, FULL)}


NONE = {"agreeing_digits": None, "relative_difference": None}  # JSON's fields for a claim that is no mismatch


def measure(stated: sp.Rational, decimals: int, exact: sp.Expr) -> Closeness | None:
    """Both measures for a stated decimal (its value and its decimals) against the exact value, which
    is evaluated once for both; None when the exact value is not a finite real number."""
    value = evaluated(exact, significant_digits(stated, decimals) + FULL + GUARD_DIGITS)
    if value is None:
        return None
    return Closeness(agreeing_digits(stated, decimals, value), relative_difference(stated, value))
