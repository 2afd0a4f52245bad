"""One iteration of a derivation for one example, as the ordered assignments a trace evaluates.

The exact trace (trace.py) substitutes numbers into these expressions; the long-run engine
(long_run.py) turns the same list into straight-line code. One list, so the two compute the same
quantities in the same order under the same names (DESIGN's claims section): ``z_a``, ``a_a``,
``E``, ``dE/da_b``, ``da_b/dz_b``, ``delta_b``, ``dz_b/da_a``, ``dz_a/dw_a1``, ``dE/dw_a1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .optimizers import Optimizer, Symbols


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
    out, coupled = [], []
    for n in d.order:
        out.append(Assignment(f"z_{n.name}", d.z_expr[n.name], d.z[n.name]))
        activation = Assignment(f"a_{n.name}", d.a_expr[n.name], d.a[n.name])
        (coupled if n.name in d.coupled else out).append(activation)
    out += coupled  # softmax reads every output's z
    out.append(Assignment("E", d.loss, d.E))
    return tuple(out)


def backward(d) -> tuple[Assignment, ...]:
    """From the outputs in: the loss's factors; per neuron its slope, ∂E/∂a, the error term (the
    product of the two, as computed) and the edge factors to its inputs; then each parameter's chain
    factors and gradient; then each input's ∂E/∂x (a circuit-style text's gradient of the inputs)."""
    out = [Assignment(f.name, f.expr, sp.Dummy(f.name)) for f in d.loss_factor.values()]
    for n in reversed(d.order):
        name = n.name
        slope = Assignment(d.activation_factor[name].name, d.activation_factor[name].expr, sp.Dummy(f"slope_{name}"))
        dE_da = Assignment(f"dE/da_{name}", d.dE_da[name], sp.Dummy(f"dE_da_{name}"))
        if name in d.coupled:  # softmax: the layer's Jacobian, then the error term (simplified where the loss allows)
            out += [slope, *(Assignment(f.name, f.expr, sp.Dummy()) for f, _ in d.slopes(name)[1:]), dE_da,
                    Assignment(f"delta_{name}", d.deltas[name], d.delta_symbol[name])]
        else:
            out += [slope, dE_da, Assignment(f"delta_{name}", slope.symbol * dE_da.symbol, d.delta_symbol[name])]
        out += [Assignment(f"dz_{consumer}/da_{name}", w, sp.Dummy()) for consumer, w in d.consumers[name]]
    for p in d.model.parameters:
        out += [Assignment(f.name, f.expr, sp.Dummy()) for f in (path[1] for path in d.delta_chain(p))]
        out.append(Assignment(f"dE/d{p}", d.gradient(p), sp.Dummy(), gradient_of=p))
    out += [Assignment(f"dE/d{x}", g, sp.Dummy()) for x, g in d.input_gradients.items()]
    return tuple(out)


def update(optimizer: Optimizer, first: bool) -> tuple[tuple[sp.Symbol, ...], tuple[Assignment, ...]]:
    """One parameter's optimizer step as (arguments, assignments): the arguments are the parameter, its
    gradient, the learning rate, the step count and each state's previous value (``optimizer.states()``); the assignments are the
    rule's quantities in order (state, bias-corrected moments, ``Delta``). ``first``: at step 1 (SGD's
    momentum buffer starts as the gradient)."""
    rule = optimizer.rule
    s = Symbols(*sp.symbols("p g lr t", real=True),
                previous={k: sp.Symbol(f"previous_{k}", real=True) for k in optimizer.states()})
    arguments = (s.p, s.g, s.lr, s.t, *s.previous.values())
    return arguments, tuple(Assignment(head, expr, sp.Symbol(head)) for head, expr in rule.update(optimizer.options, s, first))
