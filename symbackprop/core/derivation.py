"""The symbolic derivation: z and a per neuron, the loss, error terms, chain-rule factors.

The backward pass works as micrograd's does: each edge of the graph carries its local
derivative (a Factor); each neuron's error term ``delta_n = dE/dz_n`` is computed once, in
reverse topological order, from its consumers' error-term *symbols*; every parameter's
gradient is then ``sum(delta_m * input)`` over its uses. The cost per parameter stays flat.
Full Leibniz chains (one product per path, as textbooks write them) and the flattened
expressions are expansions of that, built on demand. So are the sums z (one product per edge)
and the backward pass (one per edge between neurons): compiling a layered net reads neither
(its matrix form needs each layer's function-table row and the outputs' error terms alone), and
``built`` counts what was built, so that the tests can say so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from . import function_table
from .display import Displayed
from .errors import InputError
from .long_run import DIGITS
from .model import Model, Neuron
from .trace import Trace

Derivative = Callable[[sp.Expr, sp.Expr], sp.Expr]  # f'(z) given (z, a), as the function table's rows


@dataclass(frozen=True)
class Factor:
    """One local derivative d(numerator)/d(denominator) with its symbolic form.

    Names are quantity names (``E``, ``a_b``, ``z_b``, ``w_b1``); ``name`` is the claim name.
    """

    numerator: str
    denominator: str
    expr: sp.Expr

    @property
    def name(self) -> str:
        return f"d{self.numerator}/d{self.denominator}"


@dataclass(frozen=True)
class Use:
    """Parameter p multiplies ``source`` (a symbol; 1 for an additive bias) in neuron ``neuron``."""

    neuron: str
    source: sp.Expr


class Derivation(Displayed):
    """The exact symbolic story of one Model, for a generic example (symbols for x and y)."""

    def __init__(self, model: Model, derivatives: Mapping[str, Derivative] | None = None) -> None:
        """``derivatives`` replaces the table's f'(z, a) of named activations (a convention at a
        kink, e.g. ``{"relu": lambda z, a: sp.Heaviside(z, 1)}``) everywhere this derivation uses it."""
        self.model = model
        self.order: list[Neuron] = model.topological_order()
        names = list(model.inputs) + list(model.constants) + list(model.parameters)
        self.symbols: dict[str, sp.Symbol] = {n: sp.Symbol(n, real=True) for n in names}
        self.targets = {o: _own(model.target_name(o), self.symbols) for o in model.outputs}
        self.E = sp.Symbol("E")
        self.z = {n.name: _own(f"z_{n.name}", self.symbols) for n in self.order}
        self.a = {n.name: sp.Symbol(n.name, real=True) for n in self.order}  # displayed as the neuron
        self.delta_symbol = {n.name: _own(f"delta_{n.name}", self.symbols) for n in self.order}
        self.activation = {n.name: function_table.activation(n.activation) for n in self.order}
        overrides = {function_table.activation(name, key="derivatives").name: f for name, f in (derivatives or {}).items()}
        self.activation_derivative: dict[str, Derivative] = {
            n: overrides.get(act.name, act.derivative) for n, act in self.activation.items()}  # neuron -> f'(z, a)
        self.loss_function = function_table.loss(model.loss)
        self.parameters: list[sp.Symbol] = [self.symbols[p] for p in model.parameters]

        self.a_expr: dict[str, sp.Expr] = {}
        self.consumers: dict[str, list[tuple[str, sp.Expr]]] = {n.name: [] for n in self.order}
        self.uses: dict[str, list[Use]] = {p: [] for p in model.parameters}
        for n in self.order:
            for src, w in zip(n.inputs, n.weights):
                self.uses[w].append(Use(n.name, self.a[src] if src in self.a else self.symbols[src]))
                if src in self.a:
                    self.consumers[src].append((n.name, self.symbols[w]))
            if n.bias:
                self.uses[n.bias].append(Use(n.name, sp.Integer(1)))
            act = self.activation[n.name]
            group = [self.z[o] for o in model.outputs] if act.coupled else None  # softmax: over every output
            self.a_expr[n.name] = act.group(self.z[n.name], group) if act.coupled else act.form(self.z[n.name])

        outs = [self.a[o] for o in model.outputs]
        ys = [self.targets[o] for o in model.outputs]
        self.loss: sp.Expr = self.loss_function.form(ys, outs)
        self.loss_factor = {
            o: Factor("E", f"a_{o}", self.loss_function.derivative(y, p, len(outs)))
            for o, y, p in zip(model.outputs, ys, outs)
        }
        self.activation_factor = {
            n: Factor(f"a_{n}", f"z_{n}", self.activation_derivative[n](self.z[n], self.a[n])) for n in self.z
        }
        self.coupled = [o for o in model.outputs if self.activation[o].coupled]  # softmax outputs: one layer
        self.cross_factor = {(i, j): Factor(f"a_{i}", f"z_{j}", self.activation[i].cross(self.a[i], self.a[j]))
                             for i in self.coupled for j in self.coupled if i != j}
        self._simplify = self.loss_function.simplified.get(self.activation[model.outputs[0]].name)
        self.simplified = bool(self._simplify) and all(
            self.activation[o].name == self.activation[model.outputs[0]].name and not self.consumers[o]
            for o in model.outputs)
        self.built = Counter()  # what the lazy parts have built so far: "sums", "deltas" (neurons), "gradients"

    # -- built on first use: each holds an expression per edge, which compiling a layered net never reads --
    @cached_property
    def z_expr(self) -> dict[str, sp.Expr]:
        """z_n = sum of weight * input (+ bias) for each neuron, one product per edge."""
        out: dict[str, sp.Expr] = {}
        for n in self.order:
            terms = [self.symbols[w] * (self.a[src] if src in self.a else self.symbols[src])
                     for src, w in zip(n.inputs, n.weights)]
            if n.bias:
                terms.append(self.symbols[n.bias])
            out[n.name] = sp.Add(*terms)
        self.built["sums"] += len(out)
        return out

    @cached_property
    def _backward(self) -> tuple[dict[str, sp.Expr], dict[str, sp.Expr], dict[str, sp.Expr]]:
        """(dE/da, the error terms, the coupled outputs' Jacobian products), every neuron in reverse order."""
        dE_da: dict[str, sp.Expr] = {}
        deltas: dict[str, sp.Expr] = {}
        jacobian: dict[str, sp.Expr] = {}
        for n in reversed(self.order):
            dE_da[n.name], deltas[n.name], own = self._error_term(n.name)
            if own is not None:
                jacobian[n.name] = own
        self.built["deltas"] += len(deltas)
        return dE_da, deltas, jacobian

    @property
    def dE_da(self) -> dict[str, sp.Expr]:
        return self._backward[0]

    @property
    def deltas(self) -> dict[str, sp.Expr]:
        return self._backward[1]

    @property
    def jacobian_deltas(self) -> dict[str, sp.Expr]:
        """Coupled outputs: sum_i dE/da_i da_i/dz_j, before simplifying."""
        return self._backward[2]

    def _error_term(self, name: str) -> tuple[sp.Expr, sp.Expr, sp.Expr | None]:
        """(dE/da, delta, the Jacobian product or None) of one neuron, from its consumers' delta symbols."""
        direct = [self.loss_factor[name].expr] if name in self.loss_factor else []
        through = [self.delta_symbol[c] * w for c, w in self.consumers[name]]
        dE_da = sp.Add(*direct, *through)
        jacobian = None
        if name in self.coupled:
            jacobian = sp.Add(*[self.dE_da_output(i) * f.expr for f, i in self.slopes(name)])
        if self.simplified and name in self.loss_factor:
            delta = self._simplify(self.targets[name], self.a[name], len(self.model.outputs))
        else:
            delta = jacobian if jacobian is not None else self.activation_factor[name].expr * dE_da
        return dE_da, delta, jacobian

    def error_term(self, name: str) -> sp.Expr:
        """delta_name: the backward pass's, once it is built; before, a neuron no other reads (an output
        of a layered net) is computed on its own, as the backward pass computes it."""
        if "_backward" in self.__dict__ or self.consumers[name]:
            return self.deltas[name]
        return self._error_term(name)[1]

    def dE_da_output(self, output: str) -> sp.Expr:
        """dE/da of an output the loss alone reads (a coupled one)."""
        return self.loss_factor[output].expr

    def slopes(self, neuron: str) -> list[tuple[Factor, str]]:
        """(da_i/dz_neuron, i) for each activation z_neuron feeds: its own, and with softmax its layer's."""
        own = [(self.activation_factor[neuron], neuron)]
        if neuron not in self.coupled:
            return own
        return own + [(self.cross_factor[(i, neuron)], i) for i in self.coupled if i != neuron]

    # -- gradients -------------------------------------------------------------------------
    @cached_property
    def input_gradients(self) -> dict[str, sp.Expr]:
        """dE/dx for each network input x, in error-term symbols: what a circuit-style text computes."""
        out: dict[str, sp.Expr] = {x: sp.Integer(0) for x in self.model.inputs}
        for n in self.order:
            for src, w in zip(n.inputs, n.weights):
                if src in out:
                    out[src] += self.delta_symbol[n.name] * self.symbols[w]
        return out

    def _param(self, p: str | sp.Symbol) -> str:
        name = str(p)
        if name not in self.uses:
            raise InputError(f"{name!r} is not a parameter; expected one of {', '.join(self.uses)}")
        return name

    def gradient(self, p: str | sp.Symbol, form: str = "delta") -> sp.Expr:
        """dE/dp: ``delta`` (error-term symbols), ``intermediate`` (z, a symbols) or ``flat``."""
        name = self._param(p)
        self.built["gradients"] += 1
        g = sp.Add(*[self.delta_symbol[u.neuron] * u.source for u in self.uses[name]])
        if form == "delta":
            return g
        g = g.xreplace(self.expanded_deltas)
        if form == "intermediate":
            return g
        if form == "flat":
            return g.xreplace(self.flat_values)
        raise ValueError(f"unknown form {form!r}; expected delta, intermediate or flat")

    @cached_property
    def expanded_deltas(self) -> dict[sp.Symbol, sp.Expr]:
        """Each delta symbol -> its expression in z and a symbols (no delta symbols left)."""
        out: dict[sp.Symbol, sp.Expr] = {}
        for n in reversed(self.order):
            out[self.delta_symbol[n.name]] = self.deltas[n.name].xreplace(out)
        return out

    @cached_property
    def flat_values(self) -> dict[sp.Symbol, sp.Expr]:
        """Each z and a symbol -> its expression in inputs, constants and parameters only."""
        out: dict[sp.Symbol, sp.Expr] = {}
        for n in self.order:
            out[self.z[n.name]] = self.z_expr[n.name].xreplace(out)
            if n.name not in self.coupled:
                out[self.a[n.name]] = self.a_expr[n.name].xreplace({self.z[n.name]: out[self.z[n.name]]})
        for o in self.coupled:  # after every output's z, which each reads
            out[self.a[o]] = self.a_expr[o].xreplace({self.z[c]: out[self.z[c]] for c in self.coupled})
        return out

    @cached_property
    def symbol_of(self) -> dict[str, sp.Symbol]:
        """Quantity name (``E``, ``z_b``, ``a_b``, a parameter, input or constant) -> its symbol."""
        return {**{f"z_{n}": s for n, s in self.z.items()}, **{f"a_{n}": s for n, s in self.a.items()}, **self.symbols,
                "E": self.E}

    @cached_property
    def composed(self) -> sp.Expr:
        """The flattened loss of one example: every intermediate substituted."""
        return self.loss.xreplace(self.flat_values)

    # -- Leibniz chains --------------------------------------------------------------------
    def delta_chain(self, p: str | sp.Symbol) -> list[list[Factor]]:
        """dE/dp = sum over uses of [dE/dz_m, dz_m/dp]: the short form shared deltas give."""
        name = self._param(p)
        return [[Factor("E", f"z_{u.neuron}", self.delta_symbol[u.neuron]), Factor(f"z_{u.neuron}", name, u.source)]
                for u in self.uses[name]]

    def chain(self, p: str | sp.Symbol, limit: int | None = None) -> list[list[Factor]]:
        """Every path from E down to p as its list of Leibniz factors (outermost first)."""
        name = self._param(p)
        paths: list[list[Factor]] = []
        for u in self.uses[name]:
            first = Factor(f"z_{u.neuron}", name, u.source)
            for upward in self._paths_up(u.neuron):
                paths.append(list(reversed(upward)) + [first])
                if limit is not None and len(paths) >= limit:
                    return paths
        return paths

    def _paths_up(self, neuron: str) -> Iterator[list[Factor]]:
        """Paths from z_neuron up to E, innermost factor first (through each activation it feeds)."""
        for head, i in self.slopes(neuron):
            if i in self.loss_factor:
                yield [head, self.loss_factor[i]]
            for consumer, w in self.consumers[i]:
                edge = Factor(f"z_{consumer}", f"a_{i}", w)
                for rest in self._paths_up(consumer):
                    yield [head, edge] + rest

    def path_count(self, p: str | sp.Symbol) -> int:
        counts: dict[str, int] = {}
        for n in reversed(self.order):
            counts[n.name] = sum((i in self.loss_factor) + sum(counts[c] for c, _ in self.consumers[i])
                                 for _, i in self.slopes(n.name))
        return sum(counts[u.neuron] for u in self.uses[self._param(p)])

    def chain_product(self, path: list[Factor]) -> sp.Expr:
        return sp.Mul(*[f.expr for f in path])

    def composed_form(self, p: str | sp.Symbol) -> str:
        """The loss as nested application down to p, e.g. ``E(b(z_b(a(z_a(w_a1)))))``."""
        name = self._param(p)
        users = {u.neuron for u in self.uses[name]}
        memo: dict[str, str | None] = {}

        def through(n: str) -> str | None:  # a_n as a nested application, if it depends on p
            if n not in memo:
                inner = [f"{name}"] if n in users else []
                inner += [s for s in (through(src) for src in self.model.neuron(n).inputs if src in self.a) if s]
                memo[n] = f"{n}(z_{n}({', '.join(inner)}))" if inner else None
            return memo[n]

        args = [s for s in (through(o) for o in self.model.outputs) if s]
        return f"E({', '.join(args)})"

    # -- the identity check ----------------------------------------------------------------
    @cached_property
    def _opaque(self) -> tuple[dict[sp.Symbol, sp.Expr], dict[sp.Function, str]]:
        """z and a symbols flattened with each activation as an undefined function f_n(z)."""
        out: dict[sp.Symbol, sp.Expr] = {}
        functions_of: dict[sp.Function, str] = {}
        for n in self.order:
            f = sp.Function(f"f_{n.name}", real=True)
            functions_of[f] = n.name
            out[self.z[n.name]] = self.z_expr[n.name].xreplace(out)
            if n.name not in self.coupled:
                out[self.a[n.name]] = f(out[self.z[n.name]])
        coupled = {o: sp.Function(f"f_{o}", real=True) for o in self.coupled}
        for o, f in coupled.items():  # softmax: one function of every output's z
            functions_of[f] = o
            out[self.a[o]] = f(*[out[self.z[c]] for c in self.coupled])
        return out, functions_of

    def identity(self, p: str | sp.Symbol) -> bool:
        """Chain-rule gradient == sympy.diff of the flattened loss, proven symbolically.

        The loss is flattened with every activation as an undefined function f_n, so that
        sympy.diff applies its own chain rule through the whole composition; each f_n'(u) it
        leaves is then the table's derivative at u, or this derivation's override (every table
        row is itself proven equal to diff of its SymPy form by the tests). Both sides become one polynomial in the same
        atoms, and their difference must expand to zero. A softmax layer is one function of all
        its z's, each partial derivative the table's Jacobian entry; where the error term is
        simplified (softmax with cross-entropy: a_j - y_j) the targets' sum of 1 is substituted. A loss's
        own fractions (bce with logits: 1/(1 + e^-a)) may need putting over one denominator first.
        """
        name = self._param(p)
        values, functions_of = self._opaque
        by_diff = sp.diff(self.loss.xreplace(values), self.symbols[name])

        function_of = {n: f for f, n in functions_of.items()}

        def table_derivative(derivative: sp.Derivative, at: dict) -> sp.Expr:
            """The table's f'(u) (or a softmax's da_i/dz_j) for diff's derivative of f at the point ``at``."""
            f, args = derivative.expr.func, derivative.expr.args
            point = tuple(arg.xreplace(at) for arg in args)
            (variable, _), = derivative.variable_count
            n, m = functions_of[f], args.index(variable)
            if n not in self.coupled:
                return self.activation_derivative[n](point[0], f(*point))
            j = self.coupled[m]
            a_i, a_j = f(*point), function_of[j](*point)
            act = self.activation[n]
            return self.activation_derivative[n](point[m], a_i) if j == n else act.cross(a_i, a_j)

        mapping = {s: table_derivative(s.expr, dict(zip(s.variables, s.point))) for s in by_diff.atoms(sp.Subs)}
        mapping |= {d: table_derivative(d, {}) for d in by_diff.atoms(sp.Derivative)
                    if any(v in d.expr.args for v in d.variables)}  # f(u) with u a plain symbol
        by_diff = by_diff.xreplace(mapping)
        by_chain = self.gradient(name, "intermediate").xreplace(values)
        difference = by_diff - by_chain
        difference = difference.xreplace(self._constraint)
        return difference == 0 or sp.expand(difference) == 0 or sp.cancel(sp.together(difference)) == 0

    @property
    def _constraint(self) -> dict[sp.Symbol, sp.Expr]:
        """Where the deltas are simplified (softmax with cross-entropy: a_j - y_j), the targets sum to 1."""
        if not self.simplified or self.loss_function.targets != "probabilities":
            return {}
        ys = [self.targets[o] for o in self.model.outputs]
        return {ys[-1]: 1 - sp.Add(*ys[:-1])}

    def trace(self, iterations: int | None = None, progress=None, digits: int = DIGITS) -> Trace:
        """Exact values while they stay small, then a long run at ``digits`` digits (core/long_run.py)."""
        self.model.check_unambiguous("the trace")  # its names are the claims' and the documents'
        if iterations is None:
            return Trace(self, self.model.iterations, key="training.iterations", progress=progress, digits=digits)
        return Trace(self, iterations, progress=progress, digits=digits)


def _own(name: str, taken: Mapping[str, sp.Symbol]) -> sp.Symbol:
    """A symbol the derivation makes (z_b, delta_b, y): primed where a parameter has the name already
    (model.name_clashes), so the two stay two symbols; no file name holds a prime."""
    return sp.Symbol(f"{name}'" if name in taken else name, real=True)


def derive(model: Model) -> Derivation:
    return Derivation(model)
