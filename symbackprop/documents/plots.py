"""The numbers behind the plots, computed here so that printers only draw them.

Floats are fine here: a plot is a picture of the exact values, which the walkthrough states.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from ..core.derivation import Derivation
from ..core.trace import Key, Trace
from .nodes import Plot

SAMPLES = 201
MAX_POINTS = 8  # operating points marked per activation plot


def _float(value: sp.Expr) -> float:
    return float(sp.N(value, 17))


def loss_curve(d: Derivation, trace: Trace) -> Plot:
    ts = tuple(range(1, trace.iterations + 2))
    es = tuple(_float(trace.values[Key("E", None, t)]) for t in ts)
    return Plot("loss", "Loss over the iterations", "iteration", "E", (("E", tuple(float(t) for t in ts), es),),
                tuple((f"E@{t}", float(t), e) for t, e in zip(ts, es)))


def activation_curves(d: Derivation, trace: Trace) -> list[Plot]:
    plots = []
    for name in dict.fromkeys(n.activation for n in d.order):
        neurons = [n.name for n in d.order if n.activation == name][:MAX_POINTS]
        zs = [_float(trace.values[Key(f"z_{n}", 1, 1)]) for n in neurons]
        lo, hi = min([-3.0, *zs]) - 0.5, max([3.0, *zs]) + 0.5
        grid = np.linspace(lo, hi, SAMPLES)
        ys = d.activation[neurons[0]].numpy(grid)
        points = tuple((f"{n}: z = {z:.4g}", z, float(d.activation[n].numpy(np.array([z]))[0])) for n, z in zip(neurons, zs))
        plots.append(Plot(f"activation_{name}", f"{name} with each neuron's operating point (iteration 1, example 1)",
                          "z", f"{name}(z)", ((name, tuple(grid.tolist()), tuple(np.asarray(ys, float).tolist())),), points))
    return plots


def loss_vs_weight(d: Derivation, trace: Trace, p: str) -> Plot:
    """E over the batch as a function of p, the others at their initial values; the tangent has slope dE/dp."""
    m = d.model
    w0 = _float(m.parameters[p])
    grid = np.linspace(w0 - 1.0, w0 + 1.0, SAMPLES)
    losses = []
    for ex in m.examples:
        env = {d.symbols[q]: np.full_like(grid, _float(v)) for q, v in m.parameters.items()}
        env[d.symbols[p]] = grid
        env.update({d.symbols[c]: _float(v) for c, v in m.constants.items()})
        env.update({d.symbols[x]: _float(v) for x, v in ex.inputs.items()})
        for n in d.order:
            z = sum(env[d.symbols[w]] * env[d.a[s] if s in d.a else d.symbols[s]]
                    for s, w in zip(n.inputs, n.weights))
            if n.bias:
                z = z + env[d.symbols[n.bias]]
            env[d.z[n.name]] = z
            env[d.a[n.name]] = d.activation[n.name].numpy(np.asarray(z, float))
        outputs = np.stack([env[d.a[o]] for o in m.outputs], axis=1)
        targets = np.array([[_float(ex.targets[o]) for o in m.outputs]])
        losses.append(d.loss_function.numpy(targets, outputs))
    es = np.mean(losses, axis=0) if m.batch_mean else np.sum(losses, axis=0)
    e0 = _float(trace.values[Key("E", None, 1)])
    slope = _float(trace.values[Key(f"dE/d{p}", None, 1)]) if Key(f"dE/d{p}", None, 1) in trace.values else 0.0
    near = np.linspace(w0 - 0.4, w0 + 0.4, 3)
    return Plot(f"loss_vs_{p}", f"E as a function of {p}, tangent of slope dE/d{p} = {slope:.6g}", p, "E",
                (("E", tuple(grid.tolist()), tuple(es.tolist())),
                 ("tangent", tuple(near.tolist()), tuple((e0 + slope * (near - w0)).tolist()))),
                ((f"{p} = {w0:.6g}", w0, e0),))


def plots(d: Derivation, trace: Trace, shown: Sequence[str]) -> tuple[Plot, ...]:
    chosen = shown[0] if shown else next(iter(d.model.parameters))
    return (loss_curve(d, trace), *activation_curves(d, trace), loss_vs_weight(d, trace, chosen))
