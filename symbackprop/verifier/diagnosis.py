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

import sympy as sp

from ..core import function_table, loss_rules
from ..core.arithmetic import FLOAT, high_precision
from ..core.decimals import decimal
from ..core.derivation import Derivation
from ..core.limits import limit, screening_units, trace_units
from ..core.long_run import LongRun
from ..core.model import Model
from ..core.trace import Key, Trace
from .conventions import CarriedTrace, RoundedTrace, SequentialTrace
from .rounding import judge
from .status import Status

ROUNDING_DIGITS = (1, 2, 3, 4)
MAX_CARRIED_SHOWN = 3  # stated values named in a carried variant's label
MAX_TEXT_DECIMALS = 12  # a text's own precision, taken from its claims' decimals, up to this


@dataclass
class Variant:
    """One alternative convention: the file's model changed (``model``, ``derivatives``), or every value
    rounded (``rounding``), or the claim looked up ``shift`` iterations away; or a reading's trace as it
    is (``shared``). Its traces run only as far as a claim needs; past the exact part of the file's
    trace a claim is first screened in float64 (the same generated code, long_run.py) and only a value
    that comes close is confirmed in high precision."""

    label: str
    model: Model | None = None
    derivatives: dict | None = None
    rounding: int | None = None
    sequential: bool = False  # the layers updated during the backward pass (conventions.SequentialTrace)
    carried: dict | None = None  # the text's own stated values, computed on from (conventions.CarriedTrace)
    extra: int = 0  # iterations past the file's (a step done twice needs one more)
    shift: int = 0  # look the claim up this many iterations later (a step done twice / skipped)
    shared: Callable[[], Trace] | None = None  # a reading's trace, run anyway
    verdicts: dict = field(default_factory=dict, repr=False)  # (key, stated, decimals) -> (value, Status)
    _traces: dict = field(default_factory=dict, repr=False)  # (iterations, long) -> Trace or LongRun, or None

    @property
    def reruns(self) -> bool:
        """Building it runs a trace of its own (a reading's trace is shared: it does not)."""
        return self.shared is None

    def _iterations(self, t: int) -> int | None:
        """How many iterations a trace needs to hold iteration t (None: beyond this variant's run)."""
        most = self.model.iterations + self.extra
        return None if t > most + 1 else min(t, most)

    def _built(self, what: str, iterations: int, build: Callable):
        memo = (what, iterations)
        if memo not in self._traces:
            try:
                self._traces[memo] = build()
            except Exception:  # a variant that cannot be built (e.g. a loss that needs more outputs) is skipped
                self._traces[memo] = None
        return self._traces[memo]

    def trace(self, t: int) -> Trace | None:
        """The variant's exact trace through iteration t (a text's rounding past the exact part: a long run)."""
        if self.shared is not None:
            return self._built("shared", 0, self.shared)
        n = self._iterations(t)
        if n is None:
            return None
        if self.sequential:
            return self._built("sequential", n, lambda: SequentialTrace(Derivation(self.model, self.derivatives), n))
        if self.carried is not None:
            return self._built("carried", n, lambda: CarriedTrace(Derivation(self.model, self.derivatives), n, self.carried))
        if self.rounding is None:
            return self._built("exact", n, lambda: Derivation(self.model, self.derivatives).trace(n))
        return self._built("rounded", n, lambda: RoundedTrace(Derivation(self.model, self.derivatives), n, self.rounding))

    def _long(self, t: int, arithmetic, check: bool):
        n = self._iterations(t)
        if n is None or self.shared is not None or self.sequential or self.carried is not None:  # no long run of these
            return None
        return self._built(arithmetic.name, n, lambda: LongRun(Derivation(self.model, self.derivatives), n, 1,
                                                               dict(self.model.parameters), arithmetic=arithmetic,
                                                               check=check, rounding=self.rounding))

    def screened(self, key: Key) -> float | None:
        """The variant's value for the claim in float64 (None: it has none, or float64 overflowed)."""
        t = key.iteration + self.shift
        run = self._long(t, FLOAT, check=False) if t >= 1 else None
        if run is None or (key.name, key.example) not in set(run.keys(t)):
            return None
        return float(run.value(t, key.name, key.example)[0])

    def value(self, key: Key, long: bool = False) -> sp.Expr | None:
        """The variant's value for the claim: exact, or (``long``) from a high-precision long run."""
        t = key.iteration + self.shift
        if t < 1:  # a step skipped before the first: nothing to trace for
            return None
        if long and self.shared is None:
            run = self._long(t, high_precision(), check=False)
            if run is None or (key.name, key.example) not in set(run.keys(t)):
                return None
            return run.value(t, key.name, key.example)[0]
        trace = self.trace(t)
        return None if trace is None else trace.values.get(Key(key.name, key.example, t))

    def verdict(self, key: Key, stated: sp.Rational, decimals: int, long: bool = False) -> tuple[sp.Expr, Status] | None:
        """Its value for the claim and how that value judges against the stated one (None: it has none);
        remembered, so a reading's variant shared by every other reading judges each claim once. With
        ``long`` (a claim past the exact part), a value float64 puts far from the stated one is judged a
        mismatch without the high-precision run."""
        memo = (key, stated, decimals)
        if memo not in self.verdicts:
            if long and self.shared is None:
                try:
                    near = self.screened(key)
                except (OverflowError, ZeroDivisionError, ValueError):
                    near = None
                if near is None or abs(near - float(stated)) > 10.0 ** -decimals + 1e-9 * max(1.0, abs(float(stated))):
                    self.verdicts[memo] = None if near is None else (sp.Float(near), Status.MISMATCH)
                    return self.verdicts[memo]
            value = self.value(key, long)
            self.verdicts[memo] = None if value is None else (value, judge(value, stated, decimals))
        return self.verdicts[memo]


def reading(name: str, trace: Callable[[], Trace]) -> Variant:
    """The file's reading ``name`` as an alternative for the others: ``trace()`` is its own trace, already run."""
    return Variant(f"the {name!r} reading of the text", shared=trace)


def _losses(m: Model, d, t) -> list[Variant]:
    return [Variant(f"loss {name} ({function_table.loss(name).description}) instead of {m.loss}", replace(m, loss=name))
            for name, loss in function_table.LOSSES.items()
            if name != m.loss and loss.family == function_table.loss(m.loss).family and loss_rules.fits(m, name)]


def _batch(m: Model, d, t) -> list[Variant]:
    if len(m.examples) < 2:
        return []
    other = "sum" if m.batch_mean else "mean"
    return [Variant(f"batch {other} over examples instead of {m.batch}", replace(m, batch=other))]


def _direction(m: Model, d, t) -> list[Variant]:
    return [Variant(f"update direction reversed (learning rate {_show(-m.learning_rate)} with update {m.update})",
                    replace(m, learning_rate=-m.learning_rate))]


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
                                   replace(m, parameters=swapped)))
    return out


def _rounding(m: Model, d, t) -> list[Variant]:
    """1 to 4 decimals, and the text's own precision: the decimals its claims write (up to 12)."""
    own = {c.decimals for c in m.claims if not c.formula and 4 < c.decimals <= MAX_TEXT_DECIMALS}
    return [Variant(f"every intermediate value rounded to {k} decimal{'s' if k > 1 else ''} before going on"
                    + (" (as the text writes its numbers)" if k in own else ""), m, rounding=k)
            for k in sorted(set(ROUNDING_DIGITS) | own)]


def _sequential(m: Model, d, t) -> list[Variant]:
    """Only for plain gradient descent on a network of several layers whose parameters each belong to one
    layer, with error terms of one neuron each (a softmax layer's couple them)."""
    if m.optimizer is not None or any(function_table.activation(n.activation).coupled for n in m.neurons):
        return []
    depth = m.depths()
    levels = {p: {depth[n.name] for n in m.neurons if p in m.parameters_of(n)} for p in m.parameters}
    if len(set(depth.values())) < 2 or any(len(v) > 1 for v in levels.values()):
        return []
    return [Variant("layers updated during the backward pass, output layer first (earlier error terms use the "
                    "updated weights)", m, sequential=True)]


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
            out.append(Variant(f"{what} not updated", replace(m, trained=kept)))
    kept = [p for p in trained if p not in bias_parameters(m)]
    if kept != trained and kept:
        out.append(Variant("bias weights not updated", replace(m, trained=kept)))
    return out


def _steps(m: Model, d, t) -> list[Variant]:
    return [
        Variant("an update step done twice (the value one iteration later)", m, extra=1, shift=1),
        Variant("an update step skipped (the value one iteration earlier)", m, shift=-1),
        Variant("the update applied twice in one step (w + 2 Delta)", replace(m, learning_rate=2 * m.learning_rate)),
    ]


def _optimizer(m: Model, d, t) -> list[Variant]:
    """A text's own version of the optimizer: momentum as an average, no scheduler, or plain descent."""
    if m.optimizer is None:
        return []
    out, o = [], m.optimizer.options
    if m.optimizer.name == "SGD" and o["momentum"] and not o["dampening"] and not o["nesterov"]:
        averaged = replace(m.optimizer, options={**o, "dampening": o["momentum"]})
        out.append(Variant(f"momentum as an average, buf <- {_show(o['momentum'])} buf + (1 - {_show(o['momentum'])}) g "
                           "(dampening = momentum)", replace(m, optimizer=averaged)))
    if m.scheduler is not None:
        out.append(Variant(f"the learning rate kept at {_show(m.learning_rate)} (no {m.scheduler.name})",
                           replace(m, scheduler=None)))
    out.append(Variant(f"plain gradient descent (w <- w - lr dE/dw) instead of {m.optimizer.name}",
                       replace(m, optimizer=None, scheduler=None)))
    return out


RELU_RIGHT = {"relu": lambda z, a: sp.Heaviside(z, 1)}  # ReLU'(0) = 1 instead of PyTorch's 0


def _relu_zero(m: Model, d, t) -> list[Variant]:
    relus = {f"z_{n.name}" for n in m.neurons if n.activation == "relu"}
    # the exact part only: a long run's z is exactly 0 by coincidence alone (a kink there is check's and
    # the walkthrough's to name, as exact against float)
    if not any(k.name in relus and v == 0 for k, v in t.values.exact.items()):
        return []  # no ReLU meets z = 0: the convention cannot matter
    return [Variant("ReLU'(0) = 1 instead of 0", m, derivatives=RELU_RIGHT)]


ALTERNATIVES: list[tuple[str, Callable]] = [
    ("loss with or without the 1/2, mean over outputs", _losses),
    ("mean vs sum over examples", _batch),
    ("sign of the learning rate / of the update", _direction),
    ("bias values swapped", _bias_swap),
    ("intermediate values rounded as the text goes (1-4 decimals, and the text's own)", _rounding),
    ("some parameters not updated (a layer or the biases skipped)", _skipped),
    ("layers updated as the backward pass goes (sequential update)", _sequential),
    ("a step done twice or skipped", _steps),
    ("the optimizer as a text may write it (momentum averaged, no scheduler, plain descent)", _optimizer),
    ("ReLU'(0) = 1 (only where a ReLU meets z = 0)", _relu_zero),
]


def variants(model: Model, derivation, trace, readings: list[Variant] = ()) -> list[Variant]:
    """Every variant of every alternative, plus ``readings``: the file's other readings (``reading``),
    those whose values differ from this one's."""
    out = []
    for _, make in ALTERNATIVES:
        out += make(model, derivation, trace)
    return out + list(readings)


def carried(model: Model, stated: dict[Key, sp.Rational], key: Key) -> list[Variant]:
    """The claim recomputed from the text's other stated values up to its iteration (each replacing the
    exact one where the trace reaches it): a text that computes on from the numbers it wrote."""
    used = {k: v for k, v in stated.items() if k != key and k.iteration <= key.iteration}
    if not used:
        return []
    shown = ", ".join(f"{k} = {_show(v)}" for k, v in list(used.items())[:MAX_CARRIED_SHOWN])
    more = f" and {len(used) - MAX_CARRIED_SHOWN} more" if len(used) > MAX_CARRIED_SHOWN else ""
    return [Variant(f"computed on from the text's own stated values ({shown}{more})", model, carried=used)]


def over_budget(model: Model, variants: list[Variant], key: Key, long: bool) -> str | None:
    """Why no variant was tried, when re-running the trace once per variant that needs its own, as far as
    the claim's iteration (screened in float64 past the exact part), would pass the budget."""
    count = sum(v.reruns for v in variants)
    iterations = min(key.iteration + 1, model.iterations + 1)
    units = count * (screening_units(model, iterations) if long else trace_units(model, iterations))
    if units <= limit("work"):
        return None
    return (f"no other convention tried: {count} re-runs of this file's trace as far as iteration {key.iteration} "
            f"would be {units:,} units of trace work, past the budget of {limit('work'):,}")


def explain(key: Key, stated: sp.Rational, decimals: int, candidates: list[Variant],
            long: bool = False) -> tuple[list[str], list[str]]:
    """(the variants that reproduce the stated number, with their values; every variant tried, each label
    once); ``long``: the claim is past the exact part of the file's trace (screened first, Variant.verdict)."""
    found, tried, seen = [], [], set()
    for v in candidates:
        judged = None if v.label in seen else v.verdict(key, stated, decimals, long)
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
    for k, v in trace.values.at(key.iteration):
        if k != key and k.example == key.example and kind(k.name) == kind(key.name):
            if judge(v, stated, decimals) is Status.HOLDS:
                hits.append(f"the value of {k.name} ({_show(v)}): a label mixed up")
    return hits


def _show(value: sp.Expr) -> str:
    return decimal(value)
