"""The builder: a Derivation and its Trace as a Walkthrough of sections of steps (formula,
substitution, exact value), for printers to read; nothing here prints."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..core.decimals import decimal
from ..core.derivation import Derivation, Factor
from ..core.model import UPDATE_RULES
from ..core.trace import Key, Trace
from . import notation
from .nodes import Factors, Network, Partial, Section, Step, Terms, Walkthrough
from .plots import plots as plot_data

MAX_PATHS_SHOWN = 4


class _Builder:
    def __init__(self, d: Derivation, trace: Trace, only: Sequence[str] | None) -> None:
        self.d, self.trace, self.model = d, trace, d.model
        self.model.check_parameters(only)
        notation.check_distinct([*d.symbols, *(n.name for n in d.order), *d.symbol_of])
        self.shown = list(only) if only else list(self.model.parameters)

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

    def network(self) -> Section:
        d, m = self.d, self.model
        steps = []
        for n in d.order:
            act = d.activation[n.name]
            steps.append(Step(f"z_{n.name}", d.z[n.name], (weighted_sum(d, n),)))
            steps.append(Step(f"a_{n.name}", d.a[n.name], (d.a_expr[n.name],), note=act.convention))
        steps.append(Step("E", d.E, (d.loss,), note=f"loss {m.loss}: {d.loss_function.description}"))
        text = [
            f"Inputs: {', '.join(m.inputs) or '(none)'}; constants: "
            + (", ".join(f"{c} = {decimal(v)}" for c, v in m.constants.items()) or "(none)"),
            "Initial parameters: " + ", ".join(f"{p} = {decimal(v)}" for p, v in m.parameters.items()),
            f"Learning rate {decimal(m.learning_rate)}; update {m.update}: {UPDATE_RULES[m.update]};"
            f" batch of {len(m.examples)} example(s) combined by {m.batch}; {self.trace.iterations} iteration(s).",
        ]
        if m.trained is not None:
            text.append("Trained: " + ", ".join(m.trained) + "; the others are held fixed.")
        text += [f"{label}: {value}" for label, value in (("Source", m.source), ("Notes", m.notes)) if value]
        return Section("The network", tuple(steps), tuple(text), network=network(self.d))

    def forward(self, k: int, t: int) -> list[Step]:
        d, env = self.d, self.env(k, t)
        steps = []
        for n in d.order:
            name = n.name
            total = weighted_sum(d, n)
            steps.append(Step(f"z_{name}[{k}]@{t}", d.z[name], (total,), total, env, env[d.z[name]]))
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
        """Each shown parameter's nesting, where it has at most MAX_PATHS_SHOWN paths: written out, a
        nesting repeats every path (64 paths in a 4-8-8-8-1 net, 160,000 in five layers of 20)."""
        counts = {p: self.d.path_count(p) for p in self.shown}
        steps = [Step(f"E({p})", sp.Function("E")(self.d.symbols[p]), (self.nested(p),))
                 for p in self.shown if counts[p] <= MAX_PATHS_SHOWN]
        text = ["E as nested application down to each parameter; the chain rule differentiates it from the outside in."]
        left = [p for p in self.shown if counts[p] > MAX_PATHS_SHOWN]
        if left:
            text.append(f"{len(left)} parameter(s) reach E through more than {MAX_PATHS_SHOWN} paths (up to "
                        f"{max(counts[p] for p in left):,}) and are left out here; the backward pass gives their chains.")
        return Section("The composed error function", tuple(steps), tuple(text))

    def backward(self, k: int, t: int) -> list[Step]:
        d, env = self.d, self.env(k, t)
        v = self.trace.values
        steps = []
        for n in reversed(d.order):
            name = n.name
            dE_da = Partial(d.E, d.a[name])
            steps.append(Step(f"dE/da_{name}[{k}]@{t}", dE_da, (d.dE_da[name],), d.dE_da[name], env, v[Key(f"dE/da_{name}", k, t)]))
            delta = d.deltas[name]
            chain = Factors((dE_da, partial(d, d.activation_factor[name])))
            steps.append(Step(f"delta_{name}[{k}]@{t}", d.delta_symbol[name], (chain, delta), delta, env, env[d.delta_symbol[name]],
                              note="error term ∂E/∂z"))
        for p in self.shown:
            steps.append(self.chain_step(p, k, t, env))
        return steps

    def chain_step(self, p: str, k: int, t: int, env: dict) -> Step:
        """The Leibniz chain and its local factors as formulas; the numbers go into the error-term
        form (δ_a · x1 = (−0.0784) · 0.2), through the error terms the steps above computed."""
        d = self.d
        forms, note = chain_forms(d, p)
        value = self.trace.values[Key(f"dE/d{p}", k, t)]
        return Step(f"dE/d{p}[{k}]@{t}", Partial(d.E, d.symbols[p]), forms, forms[-1], env, value, note)

    def updates(self, t: int) -> Section:
        d, m, v = self.d, self.model, self.trace.values
        rate = sp.Symbol("eta")
        sign = m.update_sign
        trained = set(m.trained_parameters)
        steps = []
        for p in self.shown:
            g = sp.Symbol(f"dE/d{p}")
            step_rhs = Factors((sign * rate, g))  # η first, as texts write the rule
            env = {rate: m.learning_rate, g: v[Key(f"dE/d{p}", None, t)], d.symbols[p]: v[Key(p, None, t)]}
            delta = v[Key(f"Delta_{p}", None, t)]
            note = "" if p in trained else "held fixed"
            steps.append(Step(f"Delta_{p}@{t}", sp.Symbol(f"Delta_{p}"), (step_rhs if p in trained else sp.Integer(0),),
                              step_rhs if p in trained else None, env, delta, note))
            new = Terms((d.symbols[p], sp.Symbol(f"Delta_{p}")))
            env2 = {d.symbols[p]: v[Key(p, None, t)], sp.Symbol(f"Delta_{p}"): delta}
            steps.append(Step(f"{p}@{t + 1}", d.symbols[p], (new,), new, env2, v[Key(p, None, t + 1)],
                              note="new value" if p in trained else "held fixed", assigns=True))
        return Section(f"Iteration {t}: updates", tuple(steps))


def network(d: Derivation) -> Network:
    """Columns by depth: inputs and constants first, then each neuron one right of its deepest input."""
    m = d.model
    column = {name: 0 for name in (*m.inputs, *m.constants)} | m.depths()
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
        figures = plot_data(d, trace, b.shown)
    return Walkthrough(d.model.title or "Derivation", tuple(sections), figures)


def partial(d: Derivation, f: Factor) -> Partial:
    """A Factor's Leibniz fraction, its names as the derivation's symbols."""
    return Partial(d.symbol_of[f.numerator], d.symbol_of.get(f.denominator, sp.Symbol(f.denominator)))


def chain_forms(d: Derivation, p: str) -> tuple[tuple, str]:
    """dE/dp as Leibniz factors per path, the same with each factor's local form, then the
    error-term form; past MAX_PATHS_SHOWN paths the local forms are left out, and the note says so."""
    count = d.path_count(p)
    paths = d.chain(p, limit=MAX_PATHS_SHOWN)
    leibniz = Terms(tuple(Factors(tuple(partial(d, f) for f in path)) for path in paths))
    if count > len(paths):
        return (leibniz, error_terms(d, p)), f"{count} paths; the first {len(paths)} shown, the value sums all"
    local = Terms(tuple(Factors(tuple(f.expr for f in path)) for path in paths))
    return (leibniz, local, error_terms(d, p)), ""


def weighted_sum(d: Derivation, neuron) -> Terms:
    """z_n as texts write it: weight · input in the file's order, an additive bias last."""
    terms = tuple(Factors((d.symbols[w], d.a[s] if s in d.a else d.symbols[s])) for s, w in zip(neuron.inputs, neuron.weights))
    return Terms(terms + ((d.symbols[neuron.bias],) if neuron.bias else ()))


def error_terms(d: Derivation, p: str) -> Terms:
    """dE/dp as the sum over p's uses of δ_m · input, error term first as texts write it (SymPy's
    own order would print a·δ_b); an additive bias's term is its error term alone."""
    return Terms(tuple(Factors((d.delta_symbol[u.neuron],) + (() if u.source == 1 else (u.source,)))
                       for u in d.uses[p]))


def chain(d: Derivation, p: str | None = None) -> Step:
    """The symbolic chain of one parameter (the first by default), for notebook displays."""
    p = p or next(iter(d.model.parameters))
    return Step(f"dE/d{p}", Partial(d.E, d.symbols[p]), chain_forms(d, p)[0])
