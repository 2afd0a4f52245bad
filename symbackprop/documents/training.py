"""Which iterations a document walks through, and the table that stands for the ones it skips.

Ten thousand iterations of the same steps help no reader: ``--show 1,2,last`` (or ranges,
``1-3,100,last``, or ``all``) picks the iterations written out step by step; by default a run of
at most SHOWN_BY_DEFAULT iterations is written out whole, a longer one shows its first and last
iterations, and between them a table of the batch loss every so often (a round step, at most
LOSS_ROWS rows), with the digits of each value that are certain (long runs, core/long_run.py).
"""

from __future__ import annotations

import re

from ..core.errors import InputError
from ..core.trace import Key, Trace
from .nodes import Iteration, Number, Section, Table

SHOWN_BY_DEFAULT = 5
LOSS_ROWS = 20
STEPS = (1, 2, 5)  # a table's step is one of these times a power of ten
ITEM = re.compile(r"(\d{1,9}|last)(?:-(\d{1,9}|last))?\Z")


def shown_iterations(spec: str | None, iterations: int) -> tuple[int, ...]:
    """The iterations (1..iterations, each an update) to write out, from ``--show``; a located InputError
    for anything else. ``last`` is the last update; the forward pass after it is always written."""
    if spec is None:
        chosen = range(1, iterations + 1) if iterations <= SHOWN_BY_DEFAULT else (1, iterations)
        return tuple(dict.fromkeys(chosen))
    if spec.strip() == "all":
        return tuple(range(1, iterations + 1))
    out: set[int] = set()
    for item in spec.split(","):
        m = ITEM.match(item.strip())
        if not m:
            raise InputError(f"{item.strip()!r} is not an iteration; expected numbers, ranges (2-5), 'last' or 'all', "
                             "separated by commas (e.g. 1,2,last)", key="--show")
        first, last = (iterations if g == "last" else int(g) for g in (m[1], m[2] or m[1]))
        if not 1 <= first <= last <= iterations:
            raise InputError(f"{item.strip()!r}: expected iterations within 1..{iterations} (the run's updates), "
                             "ascending", key="--show")
        out.update(range(first, last + 1))
    return tuple(sorted(out))


def step_between(first: int, last: int) -> int:
    """A round step (1, 2, 5, 10, 20, ...) giving at most LOSS_ROWS rows from first to last."""
    span, scale = max(last - first, 1), 1
    while True:
        for s in STEPS:
            if span // (s * scale) + 1 <= LOSS_ROWS:
                return s * scale
        scale *= 10


def skipped(trace: Trace, first: int, last: int) -> Section:
    """Iterations first..last, not written out: the batch loss at their start, every round step and their end."""
    step = step_between(first, last)
    ts = sorted({first, last, *range(-(-first // step) * step, last + 1, step)})
    rows = tuple((Iteration(t), Number(trace.values[Key("E", None, t)], f"E@{t}"), _certain(trace, Key("E", None, t))) for t in ts)
    table = Table(f"loss-{first}-{last}", f"The batch loss E at iterations {first} to {last}, every {step}",
                  ("iteration", "E", "digits certain"), rows)
    return Section(f"Iterations {first} to {last}", text=(
        f"The same steps run at each of these {last - first + 1:,} iterations with the numbers the updates give; "
        "the table follows the loss (with --show, any of them is written out).",), tables=(table,))


def _certain(trace: Trace, key: Key) -> str:
    digits = trace.certain(key)
    return "exact" if digits is None else str(digits)
