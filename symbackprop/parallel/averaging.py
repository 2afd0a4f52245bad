"""Data parallelism, exactly: K workers, each a shard of the examples, gradients averaged.

What an all-reduce mean computes is derived here from the exact trace: each worker's gradient
(its shard's loss combined as the file says, mean or sum), the unweighted mean over workers,
the shard-size-weighted mean, and the full-batch gradient they are compared with. Seed 003 also
describes averaging *error terms* layer by layer; ``layerwise`` computes that scheme so the
difference from averaging weight gradients is shown in exact numbers.

With an [optimizer], the averaged gradient feeds it, as every rank's torch.optim does: the update
is the rule's step (core/optimizers.py) at step t with the state carried between steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from ..core.derivation import Derivation, derive
from ..core.errors import InputError
from ..core.limits import check_workers
from ..core.model import Model


def shards(n_examples: int, workers: int, sizes: Sequence[int] | None = None) -> list[list[int]]:
    """Contiguous shards of example indices (1-based): equal by default, or the given sizes."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"expected a number of workers >= 1, got {workers!r}", key="workers")
    check_workers(workers)
    if sizes is None:
        if n_examples % workers:
            raise InputError(f"{n_examples} examples do not split into {workers} equal shards;"
                             f" give the sizes with `shards`", key="workers")
        sizes = [n_examples // workers] * workers
    if len(sizes) != workers or any(s < 1 for s in sizes) or sum(sizes) != n_examples:
        raise InputError(f"expected {workers} shard sizes >= 1 adding up to {n_examples}, got {list(sizes)}", key="shards")
    out, start = [], 1
    for s in sizes:
        out.append(list(range(start, start + s)))
        start += s
    return out


@dataclass
class Averaging:
    """One step of data-parallel training, exact: per worker, averaged, weighted, full batch."""

    derivation: Derivation
    shards: list[list[int]]
    per_example: dict[str, list[sp.Expr]]  # parameter -> dE/dp of each example
    worker_loss: list[sp.Expr]
    worker: dict[str, list[sp.Expr]]  # parameter -> each worker's gradient
    averaged: dict[str, sp.Expr]  # the all-reduce mean
    weighted: dict[str, sp.Expr]  # weighted by shard size
    full: dict[str, sp.Expr]  # the full-batch gradient
    updated: dict[str, sp.Expr]  # parameters after the averaged update
    steps: dict[str, list[tuple[str, sp.Expr]]] = dataclasses.field(default_factory=dict)  # with an optimizer: its quantities
    state: dict[str, dict[str, sp.Expr]] = dataclasses.field(default_factory=dict)  # ... and its state after the step

    @property
    def equal_to_full(self) -> bool:
        return all(sp.simplify(self.averaged[p] - self.full[p]) == 0 for p in self.full)


def average(model: Model, workers: int, sizes: Sequence[int] | None = None) -> Averaging:
    """The exact averaged gradient of one step at the model's current parameters."""
    groups = shards(len(model.examples), workers, sizes)
    d = derive(dataclasses.replace(model, iterations=1))
    t = d.trace(1)
    params = list(model.parameters)
    per_example = {p: [t[f"dE/d{p}[{k}]@1"] for k in range(1, len(model.examples) + 1)] for p in params}
    losses = [t[f"E[{k}]@1"] for k in range(1, len(model.examples) + 1)]
    worker = {p: [model.combine([per_example[p][k - 1] for k in g]) for g in groups] for p in params}
    worker_loss = [model.combine([losses[k - 1] for k in g]) for g in groups]
    averaged = {p: sp.Add(*worker[p]) / workers for p in params}
    n = len(model.examples)
    scale = [sp.Rational(len(g), n) if model.batch_mean else sp.Integer(1) for g in groups]
    weighted = {p: sp.Add(*[s * g for s, g in zip(scale, worker[p])]) / (1 if model.batch_mean else workers) for p in params}
    full = {p: t[f"dE/d{p}@1"] for p in params}
    updated, steps, state = update(model, dict(model.parameters), averaged, 1, initial_state(model))
    return Averaging(d, groups, per_example, worker_loss, worker, averaged, weighted, full, updated, steps, state)


def initial_state(model: Model) -> dict[str, dict[str, sp.Expr]]:
    """Each trained parameter's optimizer state before the first step (none without an optimizer)."""
    if model.optimizer is None:
        return {}
    start = {k: sp.Integer(0) for k in model.optimizer.states()} | model.optimizer.initial()
    return {p: dict(start) for p in model.trained_parameters}


def _bounded(value: sp.Expr) -> sp.Expr:
    """A rule's value as carried: exact while rational, else 40 digits (a square root of a gradient
    outgrows exact forms at once, as in the trace)."""
    return value if value.is_Rational else sp.Float(sp.N(value, 40), 40)


def update(model: Model, params: dict[str, sp.Expr], gradient: dict[str, sp.Expr], t: int, state: dict):
    """(the parameters after step t at ``gradient``, each trained parameter's rule quantities, the new
    state): the file's plain rule, or its optimizer at the scheduler's rate of step t."""
    trained = set(model.trained_parameters)
    if model.optimizer is None:
        sign = model.update_sign
        return ({p: params[p] + (sign * model.learning_rate * gradient[p] if p in trained else 0) for p in params}, {}, {})
    rate, new, steps, carried = model.rate(t), dict(params), {}, {}
    for p in model.trained_parameters:
        steps[p] = model.optimizer.step(params[p], gradient[p], rate, t, state[p])
        values = dict(steps[p])
        new[p] = _bounded(params[p] + values["Delta"])
        carried[p] = {k: _bounded(values[k]) if k in values else state[p][k] for k in state[p]}
    return new, steps, carried


def train(model: Model, workers: int, steps: int, sizes: Sequence[int] | None = None) -> list[dict[str, sp.Expr]]:
    """Parameters after each averaged step (index 0: the initial values); an optimizer's state is
    carried from step to step."""
    history, state = [dict(model.parameters)], initial_state(model)
    for t in range(1, steps + 1):
        step = average(dataclasses.replace(model, parameters=history[-1]), workers, sizes)
        updated, _, state = update(model, history[-1], step.averaged, t, state)
        history.append(updated)
    return history


# -- the identities, proven symbolically ---------------------------------------------------
def mean_of_means_identity(sizes: Sequence[int]) -> tuple[sp.Expr, sp.Expr]:
    """(unweighted mean of worker means) - (full-batch mean), and the same weighted by shard size.

    Per-example gradients are opaque symbols g_1..g_N, so the result holds for any network.
    """
    g = sp.symbols(f"g1:{sum(sizes) + 1}")
    groups, start = [], 0
    for s in sizes:
        groups.append(g[start:start + s])
        start += s
    full = sp.Add(*g) / len(g)
    worker_means = [sp.Add(*grp) / len(grp) for grp in groups]
    unweighted = sp.Add(*worker_means) / len(sizes)
    weighted = sp.Add(*[sp.Rational(len(grp), len(g)) * m for grp, m in zip(groups, worker_means)])
    return sp.simplify(unweighted - full), sp.simplify(weighted - full)


FACTORED_WORKERS = 4  # sp.factor of the K-variable quadratic: 0.1 s at K = 4, 9 s at 16, minutes past 24


def covariance_identity(workers: int) -> sp.Expr:
    """mean(delta * a) - mean(delta) * mean(a) over workers: a covariance, zero only when the error
    terms or the activations agree across workers. Factored by SymPy for a few workers; past that,
    as the pair sum sum_{i<j} (delta_i - delta_j)(a_i - a_j) / K^2 it equals (tests expand both)."""
    d = sp.symbols(f"delta1:{workers + 1}")
    a = sp.symbols(f"a1:{workers + 1}")
    mean = lambda xs: sp.Add(*xs) / workers  # noqa: E731
    covariance = mean([di * ai for di, ai in zip(d, a)]) - mean(d) * mean(a)
    if workers <= FACTORED_WORKERS:
        return sp.factor(covariance)
    pairs = sp.Add(*[(d[i] - d[j]) * (a[i] - a[j]) for i in range(workers) for j in range(i + 1, workers)])
    return sp.Mul(sp.Rational(1, workers**2), pairs, evaluate=False)


@dataclass
class Layerwise:
    """Seed 003's scheme: error terms averaged over workers layer by layer, then multiplied by
    averaged activations, against the averaged weight gradients."""

    deltas: dict[str, sp.Expr]  # neuron -> averaged error term
    gradient: dict[str, sp.Expr]  # parameter -> averaged delta * averaged input
    true: dict[str, sp.Expr]  # parameter -> averaged weight gradient (what DDP computes)


def layerwise(model: Model, workers: int, sizes: Sequence[int] | None = None) -> Layerwise:
    """Each worker's error term of a neuron is its shard mean; the averaged error terms of a
    layer's consumers, times the connecting weights and the worker's own activation slope,
    give the preceding layer's; weight gradients are averaged delta x averaged input."""
    step = average(model, workers, sizes)
    d, t, groups = step.derivation, step.derivation.trace(1), step.shards

    def worker_mean(name: str, group: list[int]) -> sp.Expr:
        return sp.Add(*[t[f"{name}[{k}]@1"] for k in group]) / len(group)

    def across(values: list[sp.Expr]) -> sp.Expr:
        return sp.Add(*values) / workers

    deltas: dict[str, sp.Expr] = {}
    for n in reversed(d.order):
        name = n.name
        per_worker = []
        for g in groups:
            if name in d.loss_factor and not d.consumers[name]:
                per_worker.append(worker_mean(f"delta_{name}", g))
            else:
                upstream = sp.Add(*[model.parameters[str(w)] * deltas[c] for c, w in d.consumers[name]])
                direct = worker_mean(f"dE/da_{name}", g) if name in d.loss_factor else 0
                slope = worker_mean(f"da_{name}/dz_{name}", g)
                per_worker.append(slope * (upstream + direct))
        deltas[name] = across(per_worker)

    def mean_input(source: sp.Expr) -> sp.Expr:
        if source == 1:
            return sp.Integer(1)
        name = str(source)
        if name in model.constants:
            return model.constants[name]
        if name in model.inputs:
            return across([sp.Add(*[model.examples[k - 1].inputs[name] for k in g]) / len(g) for g in groups])
        return across([worker_mean(f"a_{name}", g) for g in groups])

    gradient = {p: sp.Add(*[deltas[u.neuron] * mean_input(u.source) for u in d.uses[p]]) for p in model.parameters}
    return Layerwise(deltas, gradient, step.averaged)
