"""Local checks: one step recomputed from the text's own stated inputs.

Where a text states both the inputs of a step and its result (a loss from a stated output, an
update from a stated adjustment), the step is recomputed from those stated numbers alone, so an
error is located at the step where it enters. Each quantity is rebuilt from its immediate inputs
by the derivation's own formulas; an input the claim's ``local`` table states is taken as stated,
any other is rebuilt in turn (or, when the model itself is unverifiable, must be stated).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..core.errors import InputError
from ..core.trace import Key


class Missing(Exception):
    """The step needs an input the text does not state (strict mode)."""


@dataclass
class LocalResult:
    value: sp.Expr | None  # the step's value from the stated inputs (None when solved or missing)
    inputs: dict[str, sp.Rational]
    missing: str = ""  # a needed input the text does not state
    solved: str = ""  # the free quantity, when solving
    solutions: list[sp.Expr] | None = None
    possible: bool = True  # some solution lies in the activation's range


class Local:
    def __init__(self, derivation, trace, stated: dict[Key, sp.Rational], strict: bool, free: Key | None = None,
                 free_name: str = ""):
        self.free_name = free_name or str(free)
        self.d, self.trace, self.model = derivation, trace, derivation.model
        if len(self.model.examples) != 1:
            raise InputError("local checks need a model with a single training example", key="claims")
        self.stated, self.strict, self.free = stated, strict, free
        self.symbol = sp.Symbol("free")
        d = self.d
        self.kind: dict[sp.Symbol, tuple[str, str]] = {}
        for p in self.model.parameters:
            self.kind[d.symbols[p]] = ("param", p)
        for x in self.model.inputs:
            self.kind[d.symbols[x]] = ("input", x)
        for c in self.model.constants:
            self.kind[d.symbols[c]] = ("constant", c)
        for o, s in d.targets.items():
            self.kind[s] = ("target", o)
        for n in d.z:
            self.kind[d.z[n]] = ("value", f"z_{n}")
            self.kind[d.a[n]] = ("value", f"a_{n}")
            self.kind[d.delta_symbol[n]] = ("value", f"delta_{n}")

    def value(self, key: Key) -> sp.Expr:
        if key in self.stated:
            return self.stated[key]
        if self.free is not None and key == self.free:
            return self.symbol
        return self._rebuild(key)

    def _sub(self, expr: sp.Expr, t: int) -> sp.Expr:
        example = self.model.examples[0]
        mapping = {}
        for s in sorted(sp.sympify(expr).free_symbols, key=str):
            kind, name = self.kind[s]
            if kind == "param":
                mapping[s] = self.value(Key(name, None, t))
            elif kind == "input":
                mapping[s] = self._given(example.inputs[name], name)
            elif kind == "constant":
                mapping[s] = self.model.constants[name]
            elif kind == "target":
                mapping[s] = example.targets[name]
            else:
                mapping[s] = self.value(Key(name, 1, t))
        return sp.sympify(expr).xreplace(mapping)

    def _given(self, value: sp.Expr, name: str) -> sp.Expr:
        if self.strict:
            raise Missing(name)
        return value

    def _rebuild(self, key: Key) -> sp.Expr:
        d, name, t = self.d, key.name, key.iteration
        params = self.model.parameters
        if name in params:
            if t == 1:
                return self._given(self.trace.values[key], str(key))
            trained = name in self.model.trained_parameters
            step = self.value(Key(f"Delta_{name}", None, t - 1)) if trained else 0
            return self.value(Key(name, None, t - 1)) + step
        if name.startswith("Delta_") and name[6:] in params:
            sign = self.model.update_sign
            return sign * self.model.learning_rate * self.value(Key(f"dE/d{name[6:]}", key.example, t))
        if name.startswith("dE/d") and name[4:] in params:
            return self._sub(d.gradient(name[4:]), t)
        for n in d.z:
            if name == f"z_{n}":
                return self._sub(d.z_expr[n], t)
            if name == f"a_{n}":
                return d.activation[n].form(self.value(Key(f"z_{n}", 1, t)))
            if name == f"delta_{n}":
                return self.value(Key(f"da_{n}/dz_{n}", 1, t)) * self.value(Key(f"dE/da_{n}", 1, t))
            if name == f"da_{n}/dz_{n}":
                return self._sub(d.activation_factor[n].expr, t)
            if name == f"dE/da_{n}":
                return self._sub(d.dE_da[n], t)
        if name == "E":
            return self._sub(d.loss, t)
        return self._given(self.trace.values[key], str(key))

    def check(self, key: Key, stated: sp.Rational) -> LocalResult:
        inputs = {str(k): v for k, v in self.stated.items()}
        try:
            value = self.value(key)
        except Missing as e:
            return LocalResult(None, inputs, missing=str(e))
        if self.free is None:
            return LocalResult(value, inputs)
        solutions = [s for s in sp.solve(sp.Eq(value, stated), self.symbol) if s.is_real]
        possible = any(self._in_range(s) for s in solutions)
        return LocalResult(None, inputs, solved=self.free_name, solutions=solutions, possible=possible)

    def _activation(self):
        """The activation whose output is the free quantity, or None when it is no a_<neuron>."""
        name = self.free.name
        return self.d.activation[name[2:]] if name.startswith("a_") and name[2:] in self.d.activation else None

    def _in_range(self, value: sp.Expr) -> bool:
        act = self._activation()
        if act is None:
            return True
        low, high, closed = act.range
        return bool((value >= low if closed else value > low) and value < high)

    def describe_range(self) -> str:
        act = self._activation()
        if act is None or act.range[:2] == (-sp.oo, sp.oo):
            return "any value"
        low, high, closed = act.range
        return f"{act.name}'s range {'[' if closed else '('}{low}, {high})"
