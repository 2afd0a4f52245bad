"""Exact values of every named quantity, example by example and iteration by iteration.

Names follow DESIGN's claims section: ``z_a``, ``a_b``, ``E``, ``delta_a``, ``dE/da_b``,
``da_b/dz_b``, ``dz_b/da_a``, ``dz_a/dw_a1``, ``dE/dw_b1``, ``Delta_w_b1`` and parameter values
``w_b1``; ``[k]`` picks example k (1-based) and ``@t`` iteration t (1-based; ``w_b1@2`` is the
value after the first update). Batch quantities (E, dE/dp, Delta_p, p) also exist without
``[k]``. Iteration ``iterations + 1`` holds the forward pass with the trained parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from .errors import InputError
from .limits import check_work

# an index of at most 9 digits: any longer is past every bound, and would not become an int within one
NAME = re.compile(r"(?P<name>[^\[\]@\s]+)(\[(?P<example>\d{1,9})\])?(@(?P<iteration>\d{1,9}))?\Z")
MAX_EXACT_OPS = 80  # beyond this a closed form (nested exp/tanh) is carried as a 50-digit Float
MAX_EXACT_BITS = 1024  # beyond this (about 300 digits) a Rational is carried as a 50-digit Float too
MAX_EXACT_NESTING = 2  # sigmoid of a sigmoid stays exact; deeper, SymPy's own assumption queries on the
# next step grow exponentially with the nesting (a chain of 10 sigmoids: 88 s), so it is carried as a Float
PRECISION = 50  # digits of a value carried as a Float
EXTREME = sp.Float("1e300")  # a power inside a closed form beyond this magnitude: carried as a Float


@dataclass(frozen=True)
class Key:
    name: str
    example: int | None  # None: a batch quantity
    iteration: int

    def __str__(self) -> str:
        ex = f"[{self.example}]" if self.example is not None else ""
        return f"{self.name}{ex}@{self.iteration}"


def _nesting(value: sp.Expr) -> int:
    """How deep functions nest in a closed form (exp(-1/(1 + exp(-x))) is 2), walked without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        depth += bool(node.is_Function)
        deepest = max(deepest, depth)
        stack.extend((arg, depth) for arg in node.args)
    return deepest


def _extreme(value: sp.Expr) -> bool:
    """A closed form holding a power beyond float range (exp(1000), (1 + e^1000)^1000): SymPy's own
    simplification of such forms on the next step can run for minutes, so it is carried as a Float."""
    for node in sp.preorder_traversal(value):
        if isinstance(node, (sp.exp, sp.Pow)):
            size = abs(node.evalf(5))
            if not size.is_finite or size > EXTREME or (size != 0 and size < 1 / EXTREME):
                return True
    return False


class Trace:
    """Runs the derivation on the model's numbers; ``trace[name]`` gives an exact value."""

    def __init__(self, derivation, iterations: int, key: str = "iterations", progress=None) -> None:
        """``progress(t, total)``, if given, is called after each iteration (a long trace on a TTY)."""
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
            raise InputError(f"expected a whole number of iterations >= 0, got {iterations!r}", key="iterations")
        check_work(derivation.model, iterations, key)
        self.derivation = derivation
        self.model = derivation.model
        self.iterations = iterations
        self.values: dict[Key, sp.Expr] = {}
        self.exact = True
        params = dict(self.model.parameters)
        for t in range(1, iterations + 2):
            for p, v in params.items():
                self.values[Key(p, None, t)] = v
            gradients = self._iteration(t, params, backward=t <= iterations)
            if t <= iterations:
                params = self._update(t, params, gradients)
            if progress is not None:
                progress(t, iterations + 1)

    # -- one iteration ------------------------------------------------------------------------
    def _iteration(self, t: int, params: dict, backward: bool) -> dict[str, sp.Expr]:
        d, model = self.derivation, self.model
        per_example_losses, gradients = [], {p: [] for p in params}
        for k, example in enumerate(model.examples, start=1):
            env: dict[sp.Symbol, sp.Expr] = {d.symbols[p]: v for p, v in params.items()}
            env.update({d.symbols[c]: v for c, v in model.constants.items()})
            env.update({d.symbols[x]: v for x, v in example.inputs.items()})
            env.update({d.targets[o]: v for o, v in example.targets.items()})
            put = self._putter(k, t)
            for n in d.order:
                env[d.z[n.name]] = put(f"z_{n.name}", d.z_expr[n.name].xreplace(env))
                env[d.a[n.name]] = put(f"a_{n.name}", d.a_expr[n.name].xreplace(env))
            per_example_losses.append(put("E", d.loss.xreplace(env)))
            if not backward:
                continue
            for f in d.loss_factor.values():
                put(f.name, f.expr.xreplace(env))
            for n in reversed(d.order):
                name = n.name
                put(d.activation_factor[name].name, d.activation_factor[name].expr.xreplace(env))
                put(f"dE/da_{name}", d.dE_da[name].xreplace(env))
                env[d.delta_symbol[name]] = put(f"delta_{name}", d.deltas[name].xreplace(env))
                for consumer, w in d.consumers[name]:
                    put(f"dz_{consumer}/da_{name}", env[w])
            for p in params:
                for f in (path[1] for path in d.delta_chain(p)):
                    put(f.name, f.expr.xreplace(env))
                gradients[p].append(put(f"dE/d{p}", d.gradient(p).xreplace(env)))
        self.values[Key("E", None, t)] = self.model.combine(per_example_losses)
        return {p: self.model.combine(g) for p, g in gradients.items()} if backward else {}

    def _update(self, t: int, params: dict, gradients: dict) -> dict:
        rate, sign = self.model.learning_rate, self.model.update_sign
        trained = set(self.model.trained_parameters)
        new = {}
        for p, value in params.items():
            self.values[Key(f"dE/d{p}", None, t)] = gradients[p]
            step = sign * rate * gradients[p] if p in trained else sp.Integer(0)
            self.values[Key(f"Delta_{p}", None, t)] = step
            new[p] = self._bounded(value + step)
        return new

    def _putter(self, k: int, t: int):
        def put(name: str, value: sp.Expr) -> sp.Expr:
            value = self._bounded(value)
            self.values[Key(name, k, t)] = value
            return value

        return put

    def _bounded(self, value: sp.Expr) -> sp.Expr:
        """Rationals stay exact; a closed form too large to read becomes a 50-digit Float."""
        if value.is_Rational and value.p.bit_length() + value.q.bit_length() > MAX_EXACT_BITS:
            self.exact = False  # each iteration multiplies the digits: carried at 50 digits from here
            return sp.Float(value, PRECISION)
        if value.is_Rational or value.is_Float:
            return value
        if (value.has(sp.Float) or sp.count_ops(value) > MAX_EXACT_OPS or _nesting(value) > MAX_EXACT_NESTING
                or _extreme(value)):
            self.exact = False
            return sp.Float(value.evalf(PRECISION), PRECISION)
        return value

    # -- lookup -------------------------------------------------------------------------------
    def key(self, text: str) -> Key:
        """The Key a quantity name means; a located InputError for a name that means nothing."""
        m = NAME.match(text.strip())
        if not m:
            raise InputError(f"{text!r} is not a quantity name; expected NAME, NAME[k] or NAME@t", key="quantity")
        name, example = m["name"], m["example"]
        t = int(m["iteration"]) if m["iteration"] else 1
        last = self.iterations + 1
        if not 1 <= t <= last:
            raise InputError(f"{text!r}: iteration {t} is beyond this trace; expected 1..{last}", key="quantity")
        if example is not None:
            k = int(example)
            if not 1 <= k <= len(self.model.examples):
                raise InputError(f"{text!r}: no example {k}; expected 1..{len(self.model.examples)}", key="quantity")
            key = Key(name, k, t)
        elif Key(name, None, t) in self.values:
            key = Key(name, None, t)
        elif len(self.model.examples) == 1:
            key = Key(name, 1, t)
        else:
            key = Key(name, None, t)
        if key not in self.values:
            known = {k.name for k in self.values}
            if name in known:
                why = "needs an example index [k]" if example is None else f"has no value at iteration {t}"
                raise InputError(f"{text!r} {why}", key="quantity")
            raise InputError(f"{text!r} names no quantity of this network; expected e.g. z_<neuron>, dE/d<parameter>", key="quantity")
        return key

    def __getitem__(self, text: str) -> sp.Expr:
        return self.values[self.key(text)]

    def names(self) -> list[str]:
        return [str(k) for k in self.values]
