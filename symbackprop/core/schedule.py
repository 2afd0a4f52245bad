"""One iteration of a derivation for one example, as the ordered assignments a trace evaluates.

The exact trace (trace.py) substitutes numbers into these expressions; the long-run engine
(long_run.py) turns the same list into straight-line code. One list, so the two compute the same
quantities in the same order under the same names (DESIGN's claims section): ``z_a``, ``a_a``,
``E``, ``dE/da_b``, ``da_b/dz_b``, ``delta_b``, ``dz_b/da_a``, ``dz_a/dw_a1``, ``dE/dw_a1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class Assignment:
    """``name`` := ``expr``, an expression in the model's symbols and the ``symbol`` of earlier
    assignments; ``gradient_of`` names the parameter of a ``dE/dp``."""

    name: str
    expr: sp.Expr
    symbol: sp.Symbol
    gradient_of: str = ""


def forward(d) -> tuple[Assignment, ...]:
    """Each neuron's weighted sum and activation in topological order, then the example's loss."""
    out = []
    for n in d.order:
        out.append(Assignment(f"z_{n.name}", d.z_expr[n.name], d.z[n.name]))
        out.append(Assignment(f"a_{n.name}", d.a_expr[n.name], d.a[n.name]))
    out.append(Assignment("E", d.loss, d.E))
    return tuple(out)


def backward(d) -> tuple[Assignment, ...]:
    """From the outputs in: the loss's factors; per neuron its slope, ∂E/∂a, the error term (the
    product of the two, as computed) and the edge factors to its inputs; then each parameter's chain
    factors and gradient."""
    out = [Assignment(f.name, f.expr, sp.Dummy(f.name)) for f in d.loss_factor.values()]
    for n in reversed(d.order):
        name = n.name
        slope = Assignment(d.activation_factor[name].name, d.activation_factor[name].expr, sp.Dummy(f"slope_{name}"))
        dE_da = Assignment(f"dE/da_{name}", d.dE_da[name], sp.Dummy(f"dE_da_{name}"))
        out += [slope, dE_da, Assignment(f"delta_{name}", slope.symbol * dE_da.symbol, d.delta_symbol[name])]
        out += [Assignment(f"dz_{consumer}/da_{name}", w, sp.Dummy()) for consumer, w in d.consumers[name]]
    for p in d.model.parameters:
        out += [Assignment(f.name, f.expr, sp.Dummy()) for f in (path[1] for path in d.delta_chain(p))]
        out.append(Assignment(f"dE/d{p}", d.gradient(p), sp.Dummy(), gradient_of=p))
    return tuple(out)
