"""Where the exact trace and float64 sit on two sides of a kink: the walkthrough says so at the slope.

A ReLU's z can be exactly 0 in exact arithmetic while float64 computes a tiny non-zero value (0.1 ·
0.7 − 0.07 is −1.4e−17 in float64), or the reverse: then a float64 program (the compiled module,
PyTorch) takes the other side's slope there, and its gradient differs from the walkthrough's. Only a
z within NEAR of 0 can be on another side, so the float64 run (the long-run engine in float
arithmetic, from the file's parameters) is made only when one is.
"""

from __future__ import annotations

import sympy as sp

from ..core.arithmetic import FLOAT
from ..core.long_run import LongRun
from ..core.trace import Key, Trace

NEAR = sp.Rational(1, 10**9)


class Kinks:
    """The slope notes of one walkthrough: its activations' conventions, and where float64 differs."""

    def __init__(self, derivation, trace: Trace) -> None:
        self.d, self.trace = derivation, trace
        self._floats: LongRun | None = None

    def note(self, name: str, k: int, t: int) -> str:
        """The activation's convention at its kink, and whether z sits on it here in exact arithmetic
        against float64."""
        convention = self.d.activation[name].convention
        exact = self.trace.values[Key(f"z_{name}", k, t)]
        if not convention or not exact.is_Rational or abs(exact) > NEAR:
            return convention
        if self._floats is None:
            m = self.d.model
            self._floats = LongRun(self.d, self.trace.iterations, 1, dict(m.parameters), arithmetic=FLOAT, check=False)
        got = float(self._floats.value(t, f"z_{name}", k)[0])
        if int(sp.sign(exact)) == (got > 0) - (got < 0):
            return convention
        side = "z > 0" if got > 0 else "z < 0" if got < 0 else "z = 0"
        shown = f"{got:.3g}".replace("-", "−")
        return (f"{convention}; here z is exactly {'0' if exact == 0 else exact} and float64 computes {shown}, "
                f"so a float64 program takes the slope for {side}")
