"""The steps of a softmax (or log-softmax) output layer, and of an error term a loss simplifies.

Each output's activation is written as the softmax of the layer, a_j = softmax_j(z_1, …, z_n) = e^{z_j}/Σ_k e^{z_k};
the backward pass gives every ∂E/∂a_i, the layer's Jacobian ∂a_i/∂z_j (a_j(1 − a_j) for i = j, −a_i a_j for
i ≠ j) with its values, each output's error term as the general sum δ_j = Σ_i ∂E/∂a_i · ∂a_i/∂z_j with its
numbers, then the closed form the loss simplifies it to (softmax with cross-entropy: a_j − y_j), with the
same value, the trace's. A sigmoid output under binary cross-entropy gets the same closing step ((a − y)/n).
"""

from __future__ import annotations

import sympy as sp

from ...core.trace import Key
from ..nodes import Factors, Partial, Step, Terms, named

SIMPLIFIED = {  # (loss, output activation) -> what the closing step's note calls the pair
    ("cross_entropy", "softmax"): "softmax with cross-entropy (the targets sum to 1)",
    ("nll", "log_softmax"): "log-softmax with the negative log-likelihood (the targets sum to 1)",
    ("bce", "sigmoid"): "a sigmoid output with binary cross-entropy",
}


def applied(d, name: str) -> sp.Expr | None:
    """A coupled output's activation as texts name it: softmax_j(z_1, …, z_n), log(softmax_j(…)); None for another."""
    act = d.activation[name]
    if not act.coupled:
        return None
    softmax = sp.Function(f"softmax_{d.coupled.index(name) + 1}")(*[d.z[c] for c in d.coupled])
    return sp.log(softmax) if act.name == "log_softmax" else softmax


def activation_forms(d, name: str) -> tuple:
    """a_n's right-hand sides: the softmax by name first where the neuron is in a softmax layer."""
    named = applied(d, name)
    return (d.a_expr[name],) if named is None else (named, d.a_expr[name])


def in_order(d, z_step, a_step) -> list:
    """Each neuron's z step, then its a step; a softmax layer's activations after the layer's last z, which each reads."""
    steps, later = [], []
    last = max((i for i, n in enumerate(d.order) if n.name in d.coupled), default=-1)
    for i, n in enumerate(d.order):
        steps.append(z_step(n))
        (later if n.name in d.coupled else steps).append(a_step(n))
        if i == last:
            steps += later
    return steps


def activation_rows(name: str, act) -> list[tuple]:
    """The activations table's rows of one activation: f(z) and f′(z); a coupled one in a layer's terms,
    f(z_j) over Σ_k, its slope ∂a_j/∂z_j, and a second row for ∂a_i/∂z_j (i ≠ j)."""
    z = sp.Symbol("z")
    if not act.coupled:
        return [(name, act.form(z), act.derivative(z, sp.Symbol("a")), act.convention or "none")]
    k, zj, aj, ai = sp.Symbol("k"), sp.Symbol("z_j"), sp.Symbol("a_j"), sp.Symbol("a_i")
    every = sp.Sum(sp.exp(sp.Symbol("z_k")), (k, 1, sp.Symbol("n")))
    form = sp.exp(zj) / every if act.name == "softmax" else zj - sp.log(every)
    return [(f"{name} (a_j of z_1 … z_n)", form, act.derivative(zj, aj), act.convention or "none"),
            (f"{name}, across outputs (i ≠ j)", "", act.cross(ai, aj), "none")]


def partial(d, f) -> Partial:
    return Partial(d.symbol_of[f.numerator], d.symbol_of.get(f.denominator, sp.Symbol(f.denominator)))


def layer(d, trace, k: int, t: int, env: dict) -> list[Step]:
    """The softmax layer's backward pass for example k at iteration t: every ∂E/∂a_i, then per output j the
    Jacobian's column ∂a_i/∂z_j, δ_j as the sum over the outputs, and the simplified δ_j where the loss allows."""
    v, at = trace.values, f"[{k}]@{t}"
    steps = []
    for i in d.coupled:
        outer = sp.factor_terms(d.dE_da[i])
        steps.append(Step(f"dE/da_{i}{at}", Partial(d.E, d.a[i]), (outer,), outer, env, v[Key(f"dE/da_{i}", k, t)]))
    for j in d.coupled:
        column = {i: f for f, i in d.slopes(j)}
        for i in d.coupled:
            f = column[i]
            steps.append(Step(f"{f.name}{at}", partial(d, f), (f.expr,), f.expr, env, v[Key(f.name, k, t)],
                              note="the Jacobian's diagonal, i = j" if i == j else "across outputs, i ≠ j"))
        simplified = d.simplified and j in d.loss_factor
        steps.append(jacobian_step(d, v, j, k, t, f"dE/dz_{j}{at}" if simplified else f"delta_{j}{at}", column))
        if simplified:
            steps.append(simplified_step(d, v, j, k, t, env, f"dE/dz_{j}{at}"))
    return steps


def jacobian_step(d, v, j: str, k: int, t: int, name: str, column: dict) -> Step:
    """δ_j = Σ_i ∂E/∂a_i · ∂a_i/∂z_j: Leibniz factors, their local forms, the numbers of the steps before."""
    at = f"[{k}]@{t}"
    leibniz = Terms(tuple(Factors((Partial(d.E, d.a[i]), partial(d, column[i]))) for i in d.coupled))
    local = Terms(tuple(Factors((sp.factor_terms(d.dE_da[i]), column[i].expr)) for i in d.coupled))
    numbers, terms = {}, []
    for i in d.coupled:
        g, h = sp.Symbol(f"dE/da_{i}"), sp.Symbol(column[i].name)
        numbers |= {g: (f"dE/da_{i}{at}", v[Key(f"dE/da_{i}", k, t)]), h: (f"{column[i].name}{at}", v[Key(column[i].name, k, t)])}
        terms.append(Factors((g, h)))
    uses = tuple(f"dE/da_{i}{at}" for i in d.coupled) + tuple(f"{column[i].name}{at}" for i in d.coupled)
    return Step(name, d.delta_symbol[j], (leibniz, local), Terms(tuple(terms)), named(numbers), v[Key(f"delta_{j}", k, t)],
                note="error term ∂E/∂z: a sum over the layer's outputs", uses=uses, quantity=f"delta_{j}{at}")


def simplified_step(d, v, n: str, k: int, t: int, env: dict, general: str) -> Step:
    """The closed form the loss gives the error term (a_j − y_j), the numbers of the forward pass put in."""
    label = SIMPLIFIED.get((d.model.loss, d.activation[n].name), f"{d.activation[n].name} with {d.model.loss}")
    form = d.deltas[n]
    return Step(f"delta_{n}[{k}]@{t}", d.delta_symbol[n], (form,), form, env, v[Key(f"delta_{n}", k, t)],
                note=f"which for {label} simplifies to this: the same value", uses=(general,))
