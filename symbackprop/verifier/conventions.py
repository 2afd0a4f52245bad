"""Traces of the conventions texts compute by that are not the model's own: the diagnosis's variants
that change how a trace goes rather than the numbers it starts from.

- RoundedTrace: every value rounded to k decimals before going on, as a text that writes its
  numbers out and computes on from what it wrote;
- SequentialTrace: the layers updated during the backward pass, output layer first, so that an
  earlier layer's error terms use the already-updated weights of the later layers;
- CarriedTrace: the next steps computed from the text's own stated (rounded) values, its updated
  weights above all, rather than from the exact ones.

All stay exact (SymPy substitution, never handed to a long run: its generated code has neither
convention's order of work); a long claim screens them only where long_run.py can (rounding).
"""

from __future__ import annotations

import sympy as sp

from ..core.trace import Key, Trace
from .rounding import rounded


class RoundedTrace(Trace):
    """A trace that rounds every value to ``digits`` decimals before going on, as texts do."""

    long_runs = False

    def __init__(self, derivation, iterations: int, digits: int) -> None:
        self.digits = digits
        super().__init__(derivation, iterations)

    def _bounded(self, value: sp.Expr) -> sp.Expr:
        return rounded(super()._bounded(value), self.digits)


class SequentialTrace(Trace):
    """Backpropagation that updates as it goes: each layer, deepest first, gets its error terms (with
    the later layers' weights as already updated in this iteration), its gradients over the batch, and
    its update, before the layer below it is reached. The forward pass is the model's own."""

    long_runs = False

    def _iteration(self, t: int, params: dict, backward: bool) -> dict[str, sp.Expr]:
        if not backward:
            return super()._iteration(t, params, backward)
        d, model = self.derivation, self.model
        envs = []
        for k, example in enumerate(model.examples, start=1):
            env = self._numbers(params, example)
            put = self._putter(k, t)
            for step in self._forward:
                env[step.symbol] = put(step.name, step.expr.xreplace(env))
            for f in d.loss_factor.values():
                put(f.name, f.expr.xreplace(env))
            envs.append(env)
        self.values.exact[Key("E", None, t)] = model.combine([env[d.E] for env in envs])
        depth = model.depths()
        trained = set(model.trained_parameters)
        gradients: dict[str, sp.Expr] = {}
        for level in sorted(set(depth.values()), reverse=True):
            layer = [n for n in reversed(d.order) if depth[n.name] == level]
            for k, env in enumerate(envs, start=1):
                put = self._putter(k, t)
                for n in layer:
                    slope = put(d.activation_factor[n.name].name, d.activation_factor[n.name].expr.xreplace(env))
                    dE_da = put(f"dE/da_{n.name}", d.dE_da[n.name].xreplace(env))  # later layers' weights: updated
                    env[d.delta_symbol[n.name]] = put(f"delta_{n.name}", self._bounded(slope * dE_da))
                    for consumer, w in d.consumers[n.name]:
                        put(f"dz_{consumer}/da_{n.name}", env[w])
            for p in (p for n in layer for p in model.parameters_of(n)):
                per_example = []
                for k, env in enumerate(envs, start=1):
                    put = self._putter(k, t)
                    for f in (path[1] for path in d.delta_chain(p)):
                        put(f.name, f.expr.xreplace(env))
                    per_example.append(put(f"dE/d{p}", d.gradient(p).xreplace(env)))
                gradients[p] = model.combine(per_example)
                if p in trained:  # the layer's update, before the layer below computes its error terms
                    new = self._bounded(params[p] + model.update_sign * model.learning_rate * gradients[p])
                    for env in envs:
                        env[d.symbols[p]] = new
        return gradients


class CarriedTrace(Trace):
    """A text that computes on from the numbers it wrote: each value it states (``stated``, by key; a
    parameter at iteration t as it states it after an update) replaces the exact one as soon as it is
    reached, and every later step is computed from it."""

    long_runs = False

    def __init__(self, derivation, iterations: int, stated: dict[Key, sp.Rational]) -> None:
        self.stated = stated
        super().__init__(derivation, iterations)

    def _iteration(self, t: int, params: dict, backward: bool) -> dict[str, sp.Expr]:
        for p in params:
            if Key(p, None, t) in self.stated:  # the text's own rounded parameter, from here on
                params[p] = self.values.exact[Key(p, None, t)] = self.stated[Key(p, None, t)]
        return super()._iteration(t, params, backward)

    def _putter(self, k: int, t: int):
        put = super()._putter(k, t)

        def carried(name: str, value: sp.Expr) -> sp.Expr:
            return put(name, self.stated.get(Key(name, k, t), value))

        return carried
