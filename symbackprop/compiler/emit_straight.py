"""Straight-line code, one statement per z, a, error term and gradient, printed from the Derivation:
Python floats for small batches (_one, _scalar), the same fused into one numba loop (_fused); with
input_gradients, dE/dX by the same passes (_scalar_inputs, _fused_inputs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import sympy as sp

from ..core import schedule
from ..core.derivation import Derivation
from . import expressions
from .names import Names
from .plan import Plan

SIGNATURE = "float64(float64[:], float64[:, :], float64[:, :], float64[::1])"  # params, X, Y, gradient out
INPUTS_SIGNATURE = "void(float64[:], float64[:, :], float64[:, :], float64[:, ::1])"  # params, X, Y, dE/dX out


class Body(NamedTuple):
    """The straight-line pass as statements: forward (z, a per neuron), the loss, backward
    (an error term per neuron) and one gradient expression per parameter."""

    forward: list[str]
    loss: str
    backward: list[str]
    grads: list[str]


SHIFT = sp.Symbol("M", real=True)  # a coupled layer's largest z: softmax(z - M) = softmax(z), and no exp overflows


def forward_steps(d: Derivation, names: Names) -> tuple[list[tuple[sp.Symbol, sp.Expr]], sp.Expr]:
    """(identifier, expression) per z and a in schedule.forward's order (a coupled layer's z's before
    its a's), renamed, and the loss. A coupled layer's a's are shifted by M, its largest z, with
    their shared sums once (cse: t0, t1...); logs of outputs' activations are stable
    (expressions.stable_logs: cross-entropy as logsumexp(z) - sum y z)."""
    steps, coupled, forms = [], [], {}
    targets = {names(d.a[o]): o for o in d.coupled}
    for assignment in schedule.forward(d)[:-1]:  # the last: E
        target, expr = names(assignment.symbol), names(assignment.expr)
        (coupled if target in targets else steps).append((target, expr))
    zs = [names(d.z[o]) for o in d.coupled]
    shifted = [(t, e.xreplace({z: z - SHIFT for z in zs})) for t, e in coupled]
    for o in d.model.outputs:
        forms[names(d.a[o])] = names(d.a_expr[o])
    forms |= dict(shifted)
    loss = expressions.stable_logs(names(d.loss), forms)
    if not coupled:
        return steps, loss
    given = set().union(*(e.free_symbols for _, e in shifted), loss.free_symbols) - set(targets)
    steps.append((SHIFT, sp.Max(*zs)))
    shared, (loss,) = expressions.program(shifted, [loss], given, sp.numbered_symbols("t", real=True), iter(()))
    return steps + shared, loss


def body(d: Derivation, names: Names, printer: Callable[[sp.Expr], str], columns: bool = False) -> Body:
    """Shared by the float code and the column code; ``printer`` makes it floats or arrays.
    ``columns``: a z of parameters alone is a column too (times ONES)."""
    steps, loss = forward_steps(d, names)
    sums, arrays = {names(z) for z in d.z.values()}, names.inputs | names.activations
    forward = [f"{target} = {printer(expr)}"
               + (" * ONES" if columns and target in sums and not expr.free_symbols & arrays else "")
               for target, expr in steps]
    # a coupled output's error term: the Jacobian sum, exact for any targets (a - y where they sum to 1)
    deltas = d.deltas | d.jacobian_deltas
    backward = [f"{names.error[n.name]} = {printer(names(deltas[n.name]))}" for n in reversed(d.order)]
    grads = [printer(names(d.gradient(p))) for p in d.model.parameters]
    return Body(forward, printer(loss), backward, grads)


def input_terms(d: Derivation, names: Names, printer: Callable[[sp.Expr], str], scale: str) -> list[str]:
    """dE/dx per input in error-term identifiers (Derivation.input_gradients: the sum of delta_n * w over
    the neurons that read x), printed and ``scale``d; 0.0 for an input no neuron reads."""
    return ["0.0" if g == 0 else f"({printer(names(g))}){scale}" if scale else printer(names(g))
            for g in d.input_gradients.values()]


def _unpacking(names: list[str]) -> str:
    """The left side that unpacks a sequence into names (a trailing comma for one)."""
    return ", ".join(names) + ("," if len(names) == 1 else "")


def straight(plan: Plan, d: Derivation, names: Names) -> list[str]:
    """_one (one example) and _scalar (a few): Python floats, no numpy call overhead."""
    forward, loss, backward, grads = body(d, names, expressions.scalar)
    m, P = d.model, plan.parameters
    xs = _unpacking([names.input[x] for x in m.inputs])
    ys = _unpacking([names.target[o] for o in m.outputs])
    unpack = f"    {', '.join(names.param.values())}, = p"
    if m.batch_mean:
        result = ["    B = len(X)", f"    return total / B, [{', '.join(f'g{i} / B' for i in range(P))}]"]
    else:
        result = [f"    return total, [{', '.join(f'g{i}' for i in range(P))}]"]
    return [
        "", "",
        "def _one(p, x, y):",
        '    """One example in Python floats: no numpy call overhead at all."""',
        unpack,
        f"    {xs} = x",
        f"    {ys} = y",
        *[f"    {line}" for line in forward + [f"value = {loss}"] + backward],
        f"    return value, [{', '.join(grads)}]",
        "", "",
        "def _scalar(p, X, Y):",
        '    """A few examples, one at a time in Python floats: cheaper than numpy for small batches."""',
        unpack,
        "    total = 0.0",
        *[f"    g{i} = 0.0" for i in range(P)],
        f"    for ({xs}), ({ys}) in zip(X, Y):",
        *[f"        {line}" for line in forward],
        f"        total += {loss}",
        *[f"        {line}" for line in backward],
        *[f"        g{i} += {g}" for i, g in enumerate(grads)],
        *result,
        *(_scalar_inputs(d, names, forward, backward, unpack, xs, ys) if plan.input_gradients else []),
    ]


def _scalar_inputs(d: Derivation, names: Names, forward: list[str], backward: list[str], unpack: str, xs: str,
                   ys: str) -> list[str]:
    """_scalar_inputs: dE/dX of a few examples in Python floats, one list per example."""
    scale = " / B" if d.model.batch_mean else ""
    return [
        "", "",
        "def _scalar_inputs(p, X, Y):",
        '    """dE/dX of a few examples, one at a time in Python floats: one row per example."""',
        unpack,
        *(["    B = len(X)"] if scale else []),
        "    out = []",
        f"    for ({xs}), ({ys}) in zip(X, Y):",
        *[f"        {line}" for line in forward + backward],
        f"        out.append([{', '.join(input_terms(d, names, expressions.scalar, scale))}])",
        "    return out",
    ]


def fused(plan: Plan, d: Derivation, names: Names) -> list[str]:
    """The float loop as one numba-compiled pass over the batch: no temporaries, no numpy calls."""
    forward, loss, backward, grads = body(d, names, expressions.scalar)
    m, P = d.model, plan.parameters
    scale = " / B" if m.batch_mean else ""
    return [
        "", "",
        f"@numba.njit({SIGNATURE!r}, cache=False, nogil=True)  # compiled here, for float64 arrays only",
        "def _fused(p, X, Y, grad):",
        '    """Every example in one machine-code loop (numba): the float code, fused; the loss, with the',
        '    gradient written into grad."""',
        f"    if p.shape[0] != {P} or X.shape[1] != {len(m.inputs)} or Y.shape[1] != {len(m.outputs)}"
        " or X.shape[0] != Y.shape[0] or X.shape[0] < 1:",
        "        raise ValueError('shapes')  # the caller says which shape was expected",
        *[f"    {name} = p[{i}]" for i, name in enumerate(names.param.values())],
        "    total = 0.0",
        *[f"    g{i} = 0.0" for i in range(P)],
        "    for i in range(X.shape[0]):",
        *[f"        {names.input[x]} = X[i, {j}]" for j, x in enumerate(m.inputs)],
        *[f"        {names.target[o]} = Y[i, {j}]" for j, o in enumerate(m.outputs)],
        *[f"        {line}" for line in forward],
        f"        total += {loss}",
        *[f"        {line}" for line in backward],
        *[f"        g{i} += {g}" for i, g in enumerate(grads)],
        "    B = X.shape[0]",
        *[f"    grad[{i}] = g{i}{scale}" for i in range(P)],
        f"    return total{scale}",
        *(_fused_inputs(d, names, forward, backward) if plan.input_gradients else []),
    ]


def _fused_inputs(d: Derivation, names: Names, forward: list[str], backward: list[str]) -> list[str]:
    """_fused_inputs: dE/dX of every example in one numba loop, written into out (B, inputs)."""
    m = d.model
    terms = input_terms(d, names, expressions.scalar, " / B" if m.batch_mean else "")
    return [
        "", "",
        f"@numba.njit({INPUTS_SIGNATURE!r}, cache=False, nogil=True)  # compiled here, for float64 arrays only",
        "def _fused_inputs(p, X, Y, out):",
        '    """dE/dX of every example in one machine-code loop (numba), written into out: one row per example."""',
        *[f"    {name} = p[{i}]" for i, name in enumerate(names.param.values())],
        "    B = X.shape[0]",
        "    for i in range(B):",
        *[f"        {names.input[x]} = X[i, {j}]" for j, x in enumerate(m.inputs)],
        *[f"        {names.target[o]} = Y[i, {j}]" for j, o in enumerate(m.outputs)],
        *[f"        {line}" for line in forward + backward],
        *[f"        out[i, {j}] = {term}" for j, term in enumerate(terms)],
    ]
