"""Diagnosis: which plausible alternative convention reproduces a stated number that does not hold.

Each row of ALTERNATIVES builds modified Models (or a modified trace) and re-traces them; a
variant *reproduces* a claim when its value holds (or holds truncated) against the stated one.
The table is the documented list (docs/verify.md); a number no variant reproduces is reported as
unexplained, with the names of every variant tried, each once. The file's other readings are
alternatives too: their traces are the ones verify runs for them anyway, shared (``reading``), so
a file of R readings costs R traces and R judgements per claim, not R x R.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

import sympy as sp

from ..core import function_table
from ..core.decimals import decimal
from ..core.derivation import Derivation
from ..core.limits import limit, traced_values
from ..core.model import Model
from ..core.trace import Key, Trace
from .rounding import judge, rounded
from .status import Status

ROUNDING_DIGITS = (1, 2, 3, 4)


class RoundedTrace(Trace):
    """A trace that rounds every value to ``digits`` decimals before going on, as texts do."""

    def __init__(self, derivation, iterations: int, digits: int) -> None:
        self.digits = digits
        super().__init__(derivation, iterations)

    def _bounded(self, value: sp.Expr) -> sp.Expr:
        return rounded(super()._bounded(value), self.digits)


@dataclass
class Variant:
    label: str
    build: Callable[[], Trace]
    shift: int = 0  # look the claim up this many iterations later (a step done twice / skipped)
    reruns: bool = True  # building it runs a trace of its own (a reading's trace is shared: it does not)
    verdicts: dict = field(default_factory=dict, repr=False)  # (key, stated, decimals) -> (value, Status)

    @cached_property
    def trace(self) -> Trace | None:
        try:
            return self.build()
        except Exception:  # a variant that cannot be built (e.g. a loss that needs more outputs) is skipped
            return None

    def value(self, key: Key) -> sp.Expr | None:
        if key.iteration + self.shift < 1:  # a step skipped before the first: nothing to trace for
            return None
        if self.trace is None:
            return None
        return self.trace.values.get(Key(key.name, key.example, key.iteration + self.shift))

    def verdict(self, key: Key, stated: sp.Rational, decimals: int) -> tuple[sp.Expr, Status] | None:
        """Its value for the claim and how that value judges against the stated one (None: it has none);
        remembered, so a reading's variant shared by every other reading judges each claim once."""
        memo = (key, stated, decimals)
        if memo not in self.verdicts:
            value = self.value(key)
            self.verdicts[memo] = None if value is None else (value, judge(value, stated, decimals))
        return self.verdicts[memo]


def reading(name: str, trace: Callable[[], Trace]) -> Variant:
    """The file's reading ``name`` as an alternative for the others: ``trace()`` is its own trace, already run."""
    return Variant(f"the {name!r} reading of the text", trace, reruns=False)


def _trace(model: Model, extra: int = 0, derivatives: dict | None = None) -> Callable[[], Trace]:
    return lambda: Derivation(model, derivatives).trace(model.iterations + extra)


def _losses(m: Model, d, t) -> list[Variant]:
    return [Variant(f"loss {name} ({function_table.loss(name).description}) instead of {m.loss}", _trace(replace(m, loss=name)))
            for name in function_table.LOSSES if name != m.loss]


def _batch(m: Model, d, t) -> list[Variant]:
    if len(m.examples) < 2:
        return []
    other = "sum" if m.batch_mean else "mean"
    return [Variant(f"batch {other} over examples instead of {m.batch}", _trace(replace(m, batch=other)))]


def _direction(m: Model, d, t) -> list[Variant]:
    return [Variant(f"update direction reversed (learning rate {_show(-m.learning_rate)} with update {m.update})",
                    _trace(replace(m, learning_rate=-m.learning_rate)))]


def bias_parameters(m: Model) -> list[str]:
    """Additive biases and the weights of constant (bias) inputs, each once (a bias weight two neurons
    share is one parameter: listed twice, every swap with it would be tried, and reported, twice)."""
    out = []
    for n in m.neurons:
        out += [w for src, w in zip(n.inputs, n.weights) if src in m.constants]
        if n.bias:
            out.append(n.bias)
    return list(dict.fromkeys(out))


def _bias_swap(m: Model, d, t) -> list[Variant]:
    biases, out = bias_parameters(m), []
    for i, p in enumerate(biases):
        for q in biases[i + 1:]:
            if m.parameters[p] != m.parameters[q]:
                swapped = {**m.parameters, p: m.parameters[q], q: m.parameters[p]}
                out.append(Variant(f"bias values swapped: {p} = {_show(m.parameters[q])}, {q} = {_show(m.parameters[p])}",
                                   _trace(replace(m, parameters=swapped))))
    return out


def _rounding(m: Model, d, t) -> list[Variant]:
    return [Variant(f"every intermediate value rounded to {k} decimal{'s' if k > 1 else ''} before going on",
                    lambda k=k: RoundedTrace(Derivation(m), m.iterations, k)) for k in ROUNDING_DIGITS]


def _skipped(m: Model, d, t) -> list[Variant]:
    trained = m.trained_parameters
    out = []
    depth = m.depths()
    layers = [[n for n in depth if depth[n] == k] for k in sorted(set(depth.values()))]
    for k, layer in enumerate(layers, start=1):
        params = {p for n in layer for p in m.parameters_of(m.neuron(n))}
        kept = [p for p in trained if p not in params]
        if kept != trained and kept:
            what = f"layer {k} of {len(layers)} ({', '.join(layer)})"
            out.append(Variant(f"{what} not updated", _trace(replace(m, trained=kept))))
    kept = [p for p in trained if p not in bias_parameters(m)]
    if kept != trained and kept:
        out.append(Variant("bias weights not updated", _trace(replace(m, trained=kept))))
    return out


def _steps(m: Model, d, t) -> list[Variant]:
    return [
        Variant("an update step done twice (the value one iteration later)", _trace(m, extra=1), shift=1),
        Variant("an update step skipped (the value one iteration earlier)", _trace(m), shift=-1),
        Variant("the update applied twice in one step (w + 2 Delta)",
                _trace(replace(m, learning_rate=2 * m.learning_rate))),
    ]


RELU_RIGHT = {"relu": lambda z, a: sp.Heaviside(z, 1)}  # ReLU'(0) = 1 instead of PyTorch's 0


def _relu_zero(m: Model, d, t) -> list[Variant]:
    relus = {f"z_{n.name}" for n in m.neurons if n.activation == "relu"}
    if not any(k.name in relus and v == 0 for k, v in t.values.items()):
        return []  # no ReLU meets z = 0: the convention cannot matter
    return [Variant("ReLU'(0) = 1 instead of 0", _trace(m, derivatives=RELU_RIGHT))]


ALTERNATIVES: list[tuple[str, Callable]] = [
    ("loss with or without the 1/2, mean over outputs", _losses),
    ("mean vs sum over examples", _batch),
    ("sign of the learning rate / of the update", _direction),
    ("bias values swapped", _bias_swap),
    ("intermediate values rounded as the text goes", _rounding),
    ("some parameters not updated (a layer or the biases skipped)", _skipped),
    ("a step done twice or skipped", _steps),
    ("ReLU'(0) = 1 (only where a ReLU meets z = 0)", _relu_zero),
]


def variants(model: Model, derivation, trace, readings: list[Variant] = ()) -> list[Variant]:
    """Every variant of every alternative, plus ``readings``: the file's other readings (``reading``),
    those whose values differ from this one's."""
    out = []
    for _, make in ALTERNATIVES:
        out += make(model, derivation, trace)
    return out + list(readings)


def over_budget(model: Model, variants: list[Variant]) -> str | None:
    """Why no variant was tried, when re-running the trace once per variant that needs its own would pass the budget."""
    count = sum(v.reruns for v in variants)
    values = count * traced_values(model, model.iterations)
    if values <= limit("work"):
        return None
    return (f"no other convention tried: {count} re-runs of this file's trace would be {values:,} traced values,"
            f" past the budget of {limit('work'):,}")


def explain(key: Key, stated: sp.Rational, decimals: int, candidates: list[Variant]) -> tuple[list[str], list[str]]:
    """(the variants that reproduce the stated number, with their values; every variant tried, each label once)."""
    found, tried, seen = [], [], set()
    for v in candidates:
        judged = None if v.label in seen else v.verdict(key, stated, decimals)
        if judged is None:
            continue
        value, verdict = judged
        seen.add(v.label)
        tried.append(v.label)
        if verdict is not Status.MISMATCH:
            found.append(f"{v.label}: gives {_show(value)}" + (" (truncated)" if verdict is Status.TRUNCATED else ""))
    return found, tried


def mislabelled(trace: Trace, key: Key, stated: sp.Rational, decimals: int, parameters) -> list[str]:
    """Other quantities of the same kind, at the same example and iteration, that the stated value fits."""
    def kind(name: str) -> str:
        return "parameter" if name in parameters else name.split("_")[0]

    hits = []
    for k, v in trace.values.items():
        if k != key and k.example == key.example and k.iteration == key.iteration and kind(k.name) == kind(key.name):
            if judge(v, stated, decimals) is Status.HOLDS:
                hits.append(f"the value of {k.name} ({_show(v)}): a label mixed up")
    return hits


def _show(value: sp.Expr) -> str:
    return decimal(value)
