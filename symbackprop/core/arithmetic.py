"""The number systems a generated trace program runs in, one row each.

``mpfr`` (gmpy2's MPFR, correctly rounded, about five times faster than mpmath) is used when gmpy2
is installed (``pip install symbackprop[fast]``), else ``mpmath`` (pure Python, always there, as
SymPy needs it); ``float`` is float64, for a screening pass whose survivors are then confirmed in
high precision. Each row gives the functions generated code may call, a precision context, how an
exact number enters and how a value leaves (as an mpmath mpf, which SymPy's Float reads exactly).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec

import mpmath
import sympy as sp
from mpmath.libmp import from_man_exp

BITS_PER_DIGIT = math.log2(10)


@dataclass(frozen=True)
class Arithmetic:
    name: str
    functions: dict[str, object]  # mpf (a number from an int), exp, log, tanh, sqrt, sign; floor (for rounding)
    precision: Callable[[int], contextlib.AbstractContextManager]  # digits -> a context computing at them
    to_mpf: Callable[[object], mpmath.mpf]

    def number(self, value: sp.Expr, digits: int):
        """An exact value in this arithmetic, at the current precision (a closed form via mpmath, with guard digits)."""
        value = sp.sympify(value)
        mpf = self.functions["mpf"]
        if value.is_Rational:
            return mpf(int(value.p)) / int(value.q)
        sign, man, exp, _ = sp.Float(value.evalf(digits + 10), digits + 10)._mpf_
        return (-1) ** sign * mpf(int(man)) * mpf(2) ** int(exp)  # rounded once, to this precision

    def rounding(self, decimals: int, digits: int) -> Callable:
        """Rounding to ``decimals`` places, half away from zero, at the current precision (``digits``). A
        decimal tie (0.125 to 2 places, a product of rounded numbers) is not exact in binary: a value within
        10^-(digits/2) of one is rounded as the tie it stands for."""
        mpf, floor, scale = self.functions["mpf"], self.functions["floor"], self.functions["mpf"](10) ** decimals
        half = mpf(1) / 2 + mpf(10) ** -(digits // 2)

        def rounded(x):
            whole = floor(abs(x) * scale + half)  # (int() of an mpfr rounds to nearest)
            return (whole if x >= 0 else -whole) / scale

        return rounded

    def value(self, x, digits: int) -> sp.Float:
        """A computed value as a SymPy Float of ``digits`` digits."""
        return sp.Float(self.to_mpf(x), digits)


def _mpmath_precision(digits: int):
    return mpmath.workdps(digits)


def _mpfr_row() -> Arithmetic:
    import gmpy2

    def precision(digits: int):
        return gmpy2.context(gmpy2.get_context(), precision=int(digits * BITS_PER_DIGIT) + 8)

    def to_mpf(x) -> mpmath.mpf:
        if isinstance(x, int):  # a constant of the program (a step function's 0 or 1)
            return _as_mpf(x)
        if not gmpy2.is_finite(x):
            return mpmath.mpf(str(x))
        man, exp = x.as_mantissa_exp()
        return mpmath.mp.make_mpf(from_man_exp(int(man), int(exp)))  # exact: mpf((man, exp)) would round

    return Arithmetic("mpfr", {"mpf": gmpy2.mpfr, "exp": gmpy2.exp, "log": gmpy2.log, "tanh": gmpy2.tanh,
                               "sqrt": gmpy2.sqrt, "sign": gmpy2.sign, "floor": gmpy2.floor}, precision, to_mpf)


def _as_mpf(x) -> mpmath.mpf:
    """An mpmath value as it is (mpf(x) would round it to the current precision); an int exactly."""
    return x if isinstance(x, mpmath.mpf) else mpmath.mp.make_mpf(mpmath.libmp.from_int(x))


MPMATH = Arithmetic("mpmath", {"mpf": mpmath.mpf, "exp": mpmath.exp, "log": mpmath.log, "tanh": mpmath.tanh,
                               "sqrt": mpmath.sqrt, "sign": mpmath.sign, "floor": mpmath.floor}, _mpmath_precision, _as_mpf)
FLOAT = Arithmetic("float", {"mpf": float, "exp": math.exp, "log": math.log, "tanh": math.tanh, "sqrt": math.sqrt,
                             "sign": lambda x: float((x > 0) - (x < 0)), "floor": lambda x: float(math.floor(x))},
                   lambda digits: contextlib.nullcontext(), lambda x: mpmath.mp.make_mpf(mpmath.libmp.from_float(float(x))))


def high_precision(name: str | None = None) -> Arithmetic:
    """The arithmetic of long runs: ``name`` ("mpfr" or "mpmath"), or the fastest one installed."""
    if name == "mpmath" or (name is None and find_spec("gmpy2") is None):
        return MPMATH
    if find_spec("gmpy2") is None:
        raise RuntimeError("the mpfr arithmetic needs gmpy2 (pip install symbackprop[fast])")
    return _mpfr_row()
