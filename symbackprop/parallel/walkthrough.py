"""The data-parallel story as a Walkthrough: what each worker computes, what is exchanged, the
averaged update, and what the averaging identities say. Printers read it like any other."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..core.decimals import decimal
from ..core.model import Model
from ..documents.nodes import Partial, Section, Step, Walkthrough
from . import averaging


def build(model: Model, workers: int, sizes: Sequence[int] | None = None, only: Sequence[str] | None = None) -> Walkthrough:
    step = averaging.average(model, workers, sizes)
    shown = list(only) if only else list(model.parameters)
    K = workers
    sections = [Section("Shards", text=tuple(
        f"worker {w + 1}: examples {', '.join(map(str, g))}" for w, g in enumerate(step.shards)) + (
        f"Each worker combines its examples by {model.batch}, as the file says; then all-reduce takes the mean over the {K} workers.",))]
    for w, group in enumerate(step.shards):
        g = sp.symbols(" ".join(f"g{k}" for k in group), seq=True)
        loss = sp.Symbol(f"E^({w + 1})")
        steps = [Step(f"E^({w + 1})", loss, (), None, {}, step.worker_loss[w],
                      note=f"{model.batch} over examples {', '.join(map(str, group))}")]
        for p in shown:
            form = model.combine(g)
            values = dict(zip(g, (step.per_example[p][k - 1] for k in group)))
            steps.append(Step(f"dE/d{p}^({w + 1})", Partial(loss, sp.Symbol(p)), (form,), form, values, step.worker[p][w],
                              note="g_k: dE/d" + p + " of example k"))
        sections.append(Section(f"Worker {w + 1}: forward and backward on its shard", tuple(steps)))
    sections.append(Section("Exchanged", text=(
        f"Each worker sends its {len(model.parameters)} gradient values; all-reduce returns their mean to every worker.",)))
    G = sp.symbols(" ".join(f"G{w + 1}" for w in range(K)), seq=True)
    avg_steps = []
    for p in shown:
        values = dict(zip(G, step.worker[p]))
        form = sp.Add(*G) / K
        difference = sp.simplify(step.averaged[p] - step.full[p])
        note = "= the full-batch gradient" if difference == 0 else f"full batch: {decimal(step.full[p])}, differs by {decimal(difference)}"
        avg_steps.append(Step(f"dE/d{p} (averaged)", Partial(sp.Symbol("E_avg"), sp.Symbol(p)), (form,), form, values,
                              step.averaged[p], note))
    sections.append(Section("The averaged gradient (G_w: worker w's gradient)", tuple(avg_steps)))
    sign = model.update_operator
    sections.append(Section("The averaged update, the same on every worker", tuple(
        Step(f"{p}@2", sp.Symbol(p), (), None, {}, step.updated[p], note=f"{p} {sign} lr * averaged gradient")
        for p in shown)))
    sections.append(identities(model, step))
    if model.batch_mean:
        sections.append(layerwise_section(model, workers, sizes, shown))
    return Walkthrough(f"{model.title or 'Derivation'}: {K} data-parallel workers", tuple(sections))


def identities(model: Model, step: averaging.Averaging) -> Section:
    sizes = [len(g) for g in step.shards]
    unweighted, weighted = averaging.mean_of_means_identity(sizes)
    n = sum(sizes)
    text = [f"Mean of the workers' mean gradients minus the full-batch mean, per-example gradients g_1..g_{n} as symbols,"
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
    cov = averaging.covariance_identity(workers) if workers <= averaging.FACTORED_WORKERS else \
        f"1/{workers**2} sum over pairs i < j of (delta_i - delta_j)*(a_i - a_j)"
    text = ("Seed 003 averages error terms layer by layer, and a weight's gradient is then the averaged error term times the"
            " averaged input. Averaging weight gradients instead takes the mean of the products. For one weight over"
            f" {workers} workers: mean(delta*a) - mean(delta)*mean(a) = {cov}: the two agree only when the workers' error"
            " terms or their inputs to that weight agree (and deeper layers differ also through each worker's own activation slope).",)
    return Section("Averaging error terms layer by layer (seed 003) against averaging gradients", tuple(steps), text)
