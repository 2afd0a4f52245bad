"""The data-parallel story as a Walkthrough: what each worker computes, what is exchanged, the
averaged update, and what the averaging identities say. Printers read it like any other."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import sympy as sp

from ..core.decimals import decimal
from ..core.model import Model
from ..core.trace import Key
from ..documents.builder import combined, network
from ..documents.formulas.text import plain
from ..documents.nodes import Factors, Network, Partial, Section, Step, Terms, Walkthrough
from . import averaging


def build(model: Model, workers: int, sizes: Sequence[int] | None = None, only: Sequence[str] | None = None) -> Walkthrough:
    step = averaging.average(model, workers, sizes)
    shown = list(only) if only else list(model.parameters)
    K = workers
    d = step.derivation
    trace = d.trace(1)
    sections = [Section("Shards", text=tuple(
        f"worker {w + 1}: examples {', '.join(map(str, g))}" for w, g in enumerate(step.shards)) + (
        f"Each worker combines its examples by {model.batch}, as the file says; then all-reduce takes the mean over the {K} workers.",))]
    for w, group in enumerate(step.shards):
        loss = sp.Symbol(f"E^({w + 1})")
        losses = [sp.Symbol(f"E_{k}") for k in group]
        steps = [Step(f"E^({w + 1})", loss, (combined(losses, model.batch_mean),), combined(losses, model.batch_mean),
                      dict(zip(losses, (trace.values[Key("E", k, 1)] for k in group))), step.worker_loss[w],
                      note=f"{model.batch} over examples {', '.join(map(str, group))}")]
        for p in shown:
            g = [sp.Symbol(f"dE_{k}/d{p}") for k in group]
            form = combined(g, model.batch_mean)
            values = dict(zip(g, (step.per_example[p][k - 1] for k in group)))
            steps.append(Step(f"dE/d{p}^({w + 1})", Partial(loss, d.symbols[p]), (form,), form, values, step.worker[p][w]))
        sections.append(Section(f"Worker {w + 1}: forward and backward on its shard", tuple(steps),
                                network=figure(d, trace, group[0], f"Worker {w + 1}'s network with the numbers of its first"
                                               f" example (example {group[0]}), before the update.")))
    sections.append(Section("Exchanged", text=(
        f"Each worker sends its {len(model.parameters)} gradient values; all-reduce returns their mean to every worker.",)))
    averaged = sp.Symbol("E_avg")
    avg_steps = []
    for p in shown:
        G = [sp.Symbol(f"dE^({w + 1})/d{p}") for w in range(K)]
        values = dict(zip(G, step.worker[p]))
        form = combined(G, True)
        difference = sp.simplify(step.averaged[p] - step.full[p])
        note = "= the full-batch gradient" if difference == 0 else f"full batch: {decimal(step.full[p])}, differs by {decimal(difference)}"
        avg_steps.append(Step(f"dE/d{p} (averaged)", Partial(averaged, d.symbols[p]), (form,), form, values,
                              step.averaged[p], note))
    sections.append(Section("The averaged gradient", tuple(avg_steps)))
    sections.append(Section("The averaged update, the same on every worker", tuple(updates(model, d, step, shown)),
                            text=_optimizer_text(model)))
    sections.append(identities(model, step))
    if model.batch_mean:
        sections.append(layerwise_section(model, workers, sizes, shown))
    return Walkthrough(f"{model.title or 'Derivation'}: {K} data-parallel workers", tuple(sections))


def updates(model: Model, d, step: averaging.Averaging, shown) -> list[Step]:
    """Each parameter's update at the averaged gradient: p + sign eta g, or p + Delta_p with the
    optimizer's quantities of its first step."""
    eta, trained = sp.Symbol("eta"), set(model.trained_parameters)
    out = []
    for p in shown:
        g = sp.Symbol(f"dE_avg/d{p}")
        if p not in trained:
            rule, values, note = d.symbols[p], {d.symbols[p]: model.parameters[p]}, "held fixed"
        elif model.optimizer is None:
            rule = Terms((d.symbols[p], Factors((model.update_sign * eta, g))))
            values, note = {d.symbols[p]: model.parameters[p], eta: model.learning_rate, g: step.averaged[p]}, ""
        else:
            delta = sp.Symbol(f"Delta_{p}")
            quantities = dict(step.steps[p])
            rule, values = Terms((d.symbols[p], delta)), {d.symbols[p]: model.parameters[p], delta: quantities["Delta"]}
            note = f"{model.optimizer.name} at the averaged gradient {decimal(step.averaged[p])}: " + ", ".join(
                f"{head} = {decimal(v)}" for head, v in step.steps[p] if head != "Delta")
        out.append(Step(f"{p}@2", d.symbols[p], (rule,), rule, values, step.updated[p], note=note.rstrip(": "), assigns=True))
    return out


def _optimizer_text(model: Model) -> tuple[str, ...]:
    if model.optimizer is None:
        return ()
    rate = f"lr = {decimal(model.rate(1))}" + (f" ({model.scheduler.name} at step 1)" if model.scheduler else "")
    return (f"Every worker feeds the averaged gradient to its own {model.optimizer.name} ({rate}), from the same state:"
            f" {model.optimizer.rule.formula}. So every worker takes the same step.",)


def figure(d, trace, k: int, caption: str) -> Network:
    """The network with example k's numbers at the first iteration."""
    m, v = d.model, trace.values
    values = dict(m.examples[k - 1].inputs) | dict(m.constants) | {p: v[Key(p, None, 1)] for p in m.parameters}
    for n in d.order:
        values[f"z_{n.name}"], values[f"a_{n.name}"] = v[Key(f"z_{n.name}", k, 1)], v[Key(f"a_{n.name}", k, 1)]
    values["E"] = v[Key("E", k, 1)]
    return dataclasses.replace(network(d), values=values, caption=caption)


def identities(model: Model, step: averaging.Averaging) -> Section:
    sizes = [len(g) for g in step.shards]
    unweighted, weighted = averaging.mean_of_means_identity(sizes)
    n = sum(sizes)
    text = [f"Mean of the workers' mean gradients minus the full-batch mean, per-example gradients g_1 … g_{n} as symbols,"
            f" shards {sizes}: {unweighted}."]
    if unweighted == 0:
        text.append("Equal shards: averaging the workers' gradients is exactly the full-batch gradient.")
    else:
        text.append(f"Unequal shards: the unweighted mean differs; weighting each worker by its shard size leaves {weighted}.")
    return Section("What averaging means", text=tuple(text))


def layerwise_section(model: Model, workers: int, sizes, shown) -> Section:
    lw = averaging.layerwise(model, workers, sizes)
    steps = []
    for p in shown:
        difference = sp.simplify(lw.gradient[p] - lw.true[p])
        note = "equal" if difference == 0 else f"differs by {decimal(difference)}"
        steps.append(Step(f"layerwise dE/d{p}", Partial(sp.Symbol("E_layerwise"), sp.Symbol(p)), (), None, {}, lw.gradient[p],
                          note=f"averaged weight gradient {decimal(lw.true[p])}: {note}"))
    cov = plain(averaging.covariance_identity(workers)) if workers <= averaging.FACTORED_WORKERS else \
        f"1/{workers**2} · Σ over pairs i < j of (δ_i − δ_j)·(a_i − a_j)"
    text = ("Seed 003 averages error terms layer by layer, and a weight's gradient is then the averaged error term times the"
            " averaged input. Averaging weight gradients instead takes the mean of the products. For one weight over"
            f" {workers} workers: mean(δ·a) − mean(δ)·mean(a) = {cov}: the two agree only when the workers' error"
            " terms or their inputs to that weight agree (and deeper layers differ also through each worker's own activation slope).",)
    return Section("Averaging error terms layer by layer (seed 003) against averaging gradients", tuple(steps), text)
