"""The document model: sections of steps (formula, substitution, exact value).

Printers only read this; nothing here prints. A step's right-hand sides are SymPy expressions
or the three display nodes below, which printers dispatch on by class name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp

from .derive import Derivation, Factor
from .errors import InputError
from .model import UPDATE_RULES
from .trace import Key, Trace

MAX_PATHS_SHOWN = 4


@dataclass(frozen=True)
class Partial:
    """The Leibniz factor d(numerator)/d(denominator)."""

    numerator: sp.Expr
    denominator: sp.Expr


@dataclass(frozen=True)
class Product:
    """Factors shown in their given order, joined by a multiplication dot."""

    factors: tuple


@dataclass(frozen=True)
class Sum:
    terms: tuple


@dataclass(frozen=True)
class Step:
    name: str  # the quantity's claim name, e.g. "z_a[1]@1"
    lhs: object
    forms: tuple = ()  # successive equal right-hand sides, symbolic
    substitution: object | None = None  # a form to print with ``values`` in place of symbols
    values: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)
    value: sp.Expr | None = None
    note: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    steps: tuple[Step, ...] = ()
    text: tuple[str, ...] = ()


@dataclass(frozen=True)
class Network:
    """The graph as figures draw it: columns of node names (inputs first) and weighted edges."""

    columns: tuple[tuple[str, ...], ...]
    edges: tuple[tuple[str, str, str], ...]  # (source, neuron, weight name)
    outputs: tuple[str, ...]
    activations: Mapping[str, str] = field(default_factory=dict)  # neuron -> activation name
    biases: Mapping[str, str] = field(default_factory=dict)  # neuron -> additive bias parameter


@dataclass(frozen=True)
class Plot:
    """One figure's data, computed by the builder so that printers only draw it."""

    name: str  # a file stem, e.g. "loss"
    title: str
    xlabel: str
    ylabel: str
    curves: tuple[tuple[str, tuple[float, ...], tuple[float, ...]], ...]  # (label, xs, ys)
    points: tuple[tuple[str, float, float], ...] = ()  # (label, x, y)


@dataclass(frozen=True)
class Walkthrough:
    title: str
    sections: tuple[Section, ...]
    network: Network | None = None
    plots: tuple[Plot, ...] = ()


def check_only(model, only: Sequence[str] | None) -> None:
    """``--only`` names parameters; anything else is bad input."""
    for p in only or []:
        if p not in model.parameters:
            first = ", ".join(list(model.parameters)[:8])
            raise InputError(f"{p!r} is not a parameter; expected one of {first}...", key="--only")


class _Builder:
    def __init__(self, d: Derivation, trace: Trace, only: Sequence[str] | None) -> None:
        self.d, self.trace, self.model = d, trace, d.model
        check_only(self.model, only)
        self.shown = list(only) if only else list(self.model.parameters)
        self.symbol_of = {**{f"z_{n}": s for n, s in d.z.items()}, **{f"a_{n}": s for n, s in d.a.items()},
                          **{n: s for n, s in d.symbols.items()}, "E": d.E}

    def env(self, k: int | None, t: int) -> dict[sp.Symbol, sp.Expr]:
        """Symbol -> value for example k at iteration t, as the substitutions print them."""
        d, v = self.d, self.trace.values
        env = {d.symbols[p]: v[Key(p, None, t)] for p in self.model.parameters}
        env.update({d.symbols[c]: val for c, val in self.model.constants.items()})
        if k is not None:
            ex = self.model.examples[k - 1]
            env.update({d.symbols[x]: val for x, val in ex.inputs.items()})
            env.update({d.targets[o]: val for o, val in ex.targets.items()})
            for n in d.z:
                env[d.z[n]] = v[Key(f"z_{n}", k, t)]
                env[d.a[n]] = v[Key(f"a_{n}", k, t)]
                if Key(f"delta_{n}", k, t) in v:
                    env[d.delta_symbol[n]] = v[Key(f"delta_{n}", k, t)]
        return env

    def partial(self, f: Factor) -> Partial:
        return Partial(self.symbol_of[f.numerator], self.symbol_of.get(f.denominator, sp.Symbol(f.denominator)))

    def network(self) -> Section:
        d, m = self.d, self.model
        steps = []
        for n in d.order:
            act = d.activation[n.name]
            steps.append(Step(f"z_{n.name}", d.z[n.name], (d.z_expr[n.name],)))
            steps.append(Step(f"a_{n.name}", d.a[n.name], (d.a_expr[n.name],), note=act.convention))
        steps.append(Step("E", d.E, (d.loss,), note=f"loss {m.loss}: {d.loss_function.description}"))
        text = [
            f"Inputs: {', '.join(m.inputs) or '(none)'}; constants: "
            + (", ".join(f"{c} = {_dec(v)}" for c, v in m.constants.items()) or "(none)"),
            "Initial parameters: " + ", ".join(f"{p} = {_dec(v)}" for p, v in m.parameters.items()),
            f"Learning rate {_dec(m.learning_rate)}; update {m.update}: {UPDATE_RULES[m.update]};"
            f" batch of {len(m.examples)} example(s) combined by {m.batch}; {self.trace.iterations} iteration(s).",
        ]
        if m.trained is not None:
            text.append("Trained: " + ", ".join(m.trained) + "; the others are held fixed.")
        return Section("The network", tuple(steps), tuple(text))

    def forward(self, k: int, t: int) -> list[Step]:
        d, env = self.d, self.env(k, t)
        steps = []
        for n in d.order:
            name = n.name
            steps.append(Step(f"z_{name}[{k}]@{t}", d.z[name], (d.z_expr[name],), d.z_expr[name], env, env[d.z[name]]))
            steps.append(Step(f"a_{name}[{k}]@{t}", d.a[name], (d.a_expr[name],), d.a_expr[name], env, env[d.a[name]]))
        e = self.trace.values[Key("E", k, t)]
        steps.append(Step(f"E[{k}]@{t}", d.E, (d.loss,), d.loss, env, e))
        return steps

    def nested(self, p: str) -> sp.Expr:
        """E(b(z_b(...(p)))) as applied undefined functions, so every printer can typeset it."""
        d, name = self.d, p
        users = {u.neuron for u in d.uses[name]}
        memo: dict[str, sp.Expr | None] = {}

        def through(n: str) -> sp.Expr | None:
            if n not in memo:
                inner = [d.symbols[name]] if n in users else []
                inner += [s for s in (through(src) for src in self.model.neuron(n).inputs if src in d.a) if s is not None]
                memo[n] = sp.Function(n)(sp.Function(f"z_{n}")(*inner)) if inner else None
            return memo[n]

        args = [s for s in (through(o) for o in self.model.outputs) if s is not None]
        return sp.Function("E")(*args)

    def composed(self) -> Section:
        steps = [Step(f"E({p})", sp.Function("E")(self.d.symbols[p]), (self.nested(p),)) for p in self.shown]
        return Section("The composed error function", tuple(steps),
                       ("E as nested application down to each parameter; the chain rule differentiates it from the outside in.",))

    def backward(self, k: int, t: int) -> list[Step]:
        d, env = self.d, self.env(k, t)
        v = self.trace.values
        steps = []
        for n in reversed(d.order):
            name = n.name
            dE_da = Partial(d.E, d.a[name])
            steps.append(Step(f"dE/da_{name}[{k}]@{t}", dE_da, (d.dE_da[name],), d.dE_da[name], env, v[Key(f"dE/da_{name}", k, t)]))
            delta = d.deltas[name]
            chain = Product((dE_da, self.partial(d.activation_factor[name])))
            steps.append(Step(f"delta_{name}[{k}]@{t}", d.delta_symbol[name], (chain, delta), delta, env, env[d.delta_symbol[name]],
                              note="error term dE/dz"))
        for p in self.shown:
            steps.append(self.chain_step(p, k, t, env))
        return steps

    def chain_step(self, p: str, k: int, t: int, env: dict) -> Step:
        d = self.d
        count = d.path_count(p)
        paths = d.chain(p, limit=MAX_PATHS_SHOWN)
        leibniz = Sum(tuple(Product(tuple(self.partial(f) for f in path)) for path in paths))
        local = Sum(tuple(Product(tuple(f.expr for f in path)) for path in paths))
        note = f"{count} paths; the first {len(paths)} shown, the value sums all" if count > len(paths) else ""
        forms = (leibniz, local, d.gradient(p)) if count <= len(paths) else (leibniz, d.gradient(p))
        substitution = local if count <= len(paths) else d.gradient(p)
        value = self.trace.values[Key(f"dE/d{p}", k, t)]
        return Step(f"dE/d{p}[{k}]@{t}", Partial(d.E, d.symbols[p]), forms, substitution, env, value, note)

    def updates(self, t: int) -> Section:
        d, m, v = self.d, self.model, self.trace.values
        rate = sp.Symbol("eta")
        sign = 1 if m.update == "add" else -1
        trained = set(m.trained_parameters)
        steps = []
        for p in self.shown:
            g = sp.Symbol(f"dE/d{p}")
            step_rhs = sign * rate * g
            env = {rate: m.learning_rate, g: v[Key(f"dE/d{p}", None, t)], d.symbols[p]: v[Key(p, None, t)]}
            delta = v[Key(f"Delta_{p}", None, t)]
            note = "" if p in trained else "held fixed"
            steps.append(Step(f"Delta_{p}@{t}", sp.Symbol(f"Delta_{p}"), (step_rhs if p in trained else sp.Integer(0),),
                              step_rhs if p in trained else None, env, delta, note))
            new = d.symbols[p] + sp.Symbol(f"Delta_{p}")
            env2 = {d.symbols[p]: v[Key(p, None, t)], sp.Symbol(f"Delta_{p}"): delta}
            steps.append(Step(f"{p}@{t + 1}", d.symbols[p], (new,), new, env2, v[Key(p, None, t + 1)], note="new value"))
        return Section(f"Iteration {t}: updates", tuple(steps))


def _dec(value: sp.Expr) -> str:
    from .numbers import decimal

    return decimal(value)


def network(d: Derivation) -> Network:
    """Columns by depth: inputs and constants first, then each neuron one right of its deepest input."""
    m = d.model
    column = {name: 0 for name in (*m.inputs, *m.constants)}
    for n in d.order:
        column[n.name] = 1 + max((column[s] for s in n.inputs), default=0)
    columns = [[] for _ in range(max(column.values()) + 1)]
    for name, c in column.items():
        columns[c].append(name)
    edges = tuple((s, n.name, w) for n in d.order for s, w in zip(n.inputs, n.weights))
    return Network(tuple(tuple(c) for c in columns), edges, tuple(m.outputs),
                   {n.name: n.activation for n in d.order}, {n.name: n.bias for n in d.order if n.bias})


def build(d: Derivation, trace: Trace, only: Sequence[str] | None = None, plots: bool = False) -> Walkthrough:
    """The whole story: network, then per iteration forward, loss, backward, updates."""
    b = _Builder(d, trace, only)
    examples = range(1, len(d.model.examples) + 1)
    sections = [b.network()]
    for t in range(1, trace.iterations + 2):
        final = t == trace.iterations + 1
        title = "Forward pass with the trained parameters" if final and t > 1 else f"Iteration {t}: forward pass"
        for k in examples:
            suffix = f" (example {k})" if len(examples) > 1 else ""
            sections.append(Section(title + suffix, tuple(b.forward(k, t))))
        if len(examples) > 1:
            e = trace.values[Key("E", None, t)]
            sections.append(Section(f"Iteration {t}: loss over the batch", (
                Step(f"E@{t}", d.E, (), None, {}, e, note=f"{d.model.batch} of the {len(examples)} examples' losses"),)))
        if final:
            break
        if t == 1:
            sections.append(b.composed())
        for k in examples:
            suffix = f" (example {k})" if len(examples) > 1 else ""
            sections.append(Section(f"Iteration {t}: backward pass{suffix}", tuple(b.backward(k, t))))
        sections.append(b.updates(t))
    figures = ()
    if plots:
        from .plotdata import plots as plot_data

        figures = plot_data(d, trace, b.shown)
    return Walkthrough(d.model.title or "Derivation", tuple(sections), network(d), figures)


def chain(d: Derivation, p: str | None = None) -> Step:
    """The symbolic chain of one parameter (the first by default), for notebook displays."""
    p = p or next(iter(d.model.parameters))
    b = _Builder.__new__(_Builder)
    b.d, b.model = d, d.model
    b.symbol_of = {**{f"z_{n}": s for n, s in d.z.items()}, **{f"a_{n}": s for n, s in d.a.items()},
                   **{n: s for n, s in d.symbols.items()}, "E": d.E}
    paths = d.chain(p, limit=MAX_PATHS_SHOWN)
    leibniz = Sum(tuple(Product(tuple(b.partial(f) for f in path)) for path in paths))
    local = Sum(tuple(Product(tuple(f.expr for f in path)) for path in paths))
    forms = (leibniz, local, d.gradient(p)) if d.path_count(p) <= len(paths) else (leibniz, d.gradient(p))
    return Step(f"dE/d{p}", Partial(d.E, d.symbols[p]), forms)
