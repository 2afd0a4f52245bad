"""Any graph the matrix form cannot take (shared weights, bias inputs, skips): the straight-line
code over whole columns, one numpy array per quantity."""

from __future__ import annotations

from ..core.derivation import Derivation
from . import expressions
from .emit_straight import body
from .names import Names
from .plan import Plan


def columns(plan: Plan, d: Derivation, names: Names) -> list[str]:
    forward, loss, backward, grads = body(d, names, expressions.batch, columns=True)
    m = d.model
    lines = [
        "", "",
        "def _batch(p, X, Y, backward):",
        '    """The whole batch at once, one numpy array per quantity."""',
        f"    {', '.join(names.param.values())}, = p",
        "    B = X.shape[0]",
        "    ONES = numpy.ones(B)",
        *[f"    {names.input[x]} = X[:, {i}]" for i, x in enumerate(m.inputs)],
        *[f"    {names.target[o]} = Y[:, {i}]" for i, o in enumerate(m.outputs)],
    ]
    lines += [f"    {line}" for line in forward]
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
    ]
