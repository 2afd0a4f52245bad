"""Any graph the matrix form cannot take (shared weights, bias inputs, skips): the straight-line
code over whole columns, one numpy array per quantity; with input_gradients, dE/dX the same way."""

from __future__ import annotations

from ..core.derivation import Derivation
from . import expressions
from .emit_straight import body, input_terms
from .names import Names
from .plan import Plan


def _start(d: Derivation, names: Names, forward: list[str]) -> list[str]:
    """A column function's first statements: the parameters, inputs and targets as columns, the forward pass."""
    m = d.model
    return [
        f"    {', '.join(names.param.values())}, = p",
        "    B = X.shape[0]",
        "    ONES = numpy.ones(B)",
        *[f"    {names.input[x]} = X[:, {i}]" for i, x in enumerate(m.inputs)],
        *[f"    {names.target[o]} = Y[:, {i}]" for i, o in enumerate(m.outputs)],
        *[f"    {line}" for line in forward],
    ]


def columns(plan: Plan, d: Derivation, names: Names) -> list[str]:
    forward, loss, backward, grads = body(d, names, expressions.batch, columns=True)
    m = d.model
    lines = [
        "", "",
        "def _batch(p, X, Y, backward):",
        '    """The whole batch at once, one numpy array per quantity."""',
        *_start(d, names, forward),
    ]
    scale = " / B" if m.batch_mean else ""
    return lines + [
        f"    E = {loss}",
        f"    value = numpy.sum(E){scale}",
        "    if not backward:",
        "        return value",
        *[f"    {line}" for line in backward],
        "    grad = numpy.empty(N_PARAMETERS)",
        *[f"    grad[{i}] = numpy.sum({g}){scale}" for i, g in enumerate(grads)],
        "    return value, grad",
        *(columns_inputs(d, names, forward, backward) if plan.input_gradients else []),
    ]


def columns_inputs(d: Derivation, names: Names, forward: list[str], backward: list[str]) -> list[str]:
    """_batch_inputs: dE/dX of the whole batch by the same column passes, one row per example."""
    terms = input_terms(d, names, expressions.batch, " / B" if d.model.batch_mean else "")
    return [
        "", "",
        "def _batch_inputs(p, X, Y):",
        '    """dE/dX of the whole batch at once, one numpy array per quantity: one row per example."""',
        *_start(d, names, forward),
        *[f"    {line}" for line in backward],
        f"    out = numpy.empty((B, {len(d.model.inputs)}))",
        *[f"    out[:, {j}] = {term}" for j, term in enumerate(terms)],
        "    return out",
    ]
