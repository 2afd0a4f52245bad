"""The walkthrough: a Derivation and its Trace as a Walkthrough of sections of steps (formula,
substitution, exact value), for printers to read; nothing here prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import sympy as sp

from ...core import notation
from ...core.derivation import Derivation
from ...core.trace import Key, Trace
from ..kinks import Kinks
from ..nodes import Factors, Listing, Network, Number, Partial, Section, Step, Table, Terms, Values, Walkthrough, named, quantity
from ..plots import plots as plot_data
from ..training import shown_iterations, skipped
from . import optimizer_steps, softmax_steps
from .forms import MAX_PATHS_SHOWN, chain_forms, combined, partial, weighted_sum

MAX_LISTED = 6  # symbols of one kind named in the notation table before "…"
MAX_TABLE_ROWS = 64  # a table lists this many rows, then says how many it leaves to the file and the trace


class _Builder:
    def __init__(self, d: Derivation, trace: Trace, only: Sequence[str] | None, inputs: bool = False,
                 live: bool = False) -> None:
        self.d, self.trace, self.model, self.inputs, self.live = d, trace, d.model, inputs, live
        self.model.check_parameters(only)
        notation.check_distinct([*d.symbols, *(n.name for n in d.order), *d.symbol_of])
        self.shown = list(only) if only else list(self.model.parameters)
        self.kinks = Kinks(d, trace)

    def env(self, k: int | None, t: int) -> Values:
        """Symbol -> value for example k at iteration t, as the substitutions print them, each named (nodes.quantity)."""
        d, v, m = self.d, self.trace.values, self.model
        pairs = {d.symbols[p]: (quantity(p, None, t), v[Key(p, None, t)]) for p in m.parameters}
        pairs.update({d.symbols[c]: (quantity(f"c:{c}", None, None), val) for c, val in m.constants.items()})
        if k is not None:
            ex = m.examples[k - 1]
            pairs.update({d.symbols[x]: (quantity(f"x:{x}", k, None), val) for x, val in ex.inputs.items()})
            pairs.update({d.targets[o]: (quantity(f"y:{o}", k, None), val) for o, val in ex.targets.items()})
            for n in d.z:
                for symbol, name in ((d.z[n], f"z_{n}"), (d.a[n], f"a_{n}"), (d.delta_symbol[n], f"delta_{n}")):
                    if Key(name, k, t) in v:
                        pairs[symbol] = (quantity(name, k, t), v[Key(name, k, t)])
        return named(pairs)

    def example(self) -> Section:
        """The example first, as the best worked examples state it: inputs and targets, the parameters'
        starting values, the settings, and the network drawn with example 1's numbers."""
        d, m = self.d, self.model
        inputs, outputs = list(m.inputs), list(m.outputs)
        rows = tuple((str(k), *(Number(ex.inputs[x], quantity(f"x:{x}", k, None)) for x in inputs),
                      *(Number(ex.targets[o], quantity(f"y:{o}", k, None)) for o in outputs))
                     for k, ex in enumerate(m.examples[:MAX_TABLE_ROWS], 1))
        examples = Table("examples", "The training examples: inputs and targets" + _cut(len(m.examples)),
                         ("example", *(d.symbols[x] for x in inputs), *(d.targets[o] for o in outputs)), rows)
        trained = set(m.trained_parameters)
        listed = [p for p in m.parameters if p in self.shown]
        param_rows = [(d.symbols[p], Number(m.parameters[p], quantity(p, None, 1)), "trained" if p in trained else "held fixed")
                      for p in listed[:MAX_TABLE_ROWS]]
        param_rows += [(d.symbols[c], Number(v, quantity(f"c:{c}", None, None)), "constant input") for c, v in m.constants.items()]
        parameters = Table("parameters", "Starting values of the parameters" + _cut(len(listed)),
                           ("parameter", "starting value", "role"), tuple(param_rows))
        settings = optimizer_steps.settings(d, self.trace.iterations)
        text = [f"{label}: {value}" for label, value in (("Source", m.source), ("Notes", m.notes)) if value]
        if m.update_sign > 0:
            text.append("The text adds η · ∂E/∂w in its update, with its own sign of the learning rate; that rule is kept.")
        return Section("The example", text=tuple(text), tables=(examples, parameters, *settings), network=self.figure())

    def figure(self) -> Network:
        """The network with example 1's numbers at iteration 1: inputs, weights, each neuron's z and a, the loss."""
        v, m = self.trace.values, self.model
        names = {x: quantity(f"x:{x}", 1, None) for x in (m.examples[0].inputs if m.examples else ())}
        names |= {c: quantity(f"c:{c}", None, None) for c in m.constants} | {p: quantity(p, None, 1) for p in m.parameters}
        values = dict(m.examples[0].inputs) | dict(m.constants) if m.examples else dict(m.constants)
        values |= {p: v[Key(p, None, 1)] for p in m.parameters}
        if m.examples:
            for n in self.d.order:
                for name in (f"z_{n.name}", f"a_{n.name}"):
                    values[name], names[name] = v[Key(name, 1, 1)], quantity(name, 1, 1)
            values["E"], names["E"] = v[Key("E", 1, 1)], quantity("E", 1, 1)
        net = network(self.d)
        return Network(net.columns, net.edges, net.outputs, net.activations, net.biases, values, names,
                       "The network with the numbers of example 1 before the first update: inputs, weights on the"
                       " edges, each neuron's weighted sum z and activation a, and the loss E.")

    def notation_section(self) -> Section:
        """Every kind of symbol the steps use, defined once."""
        d, m = self.d, self.model
        neurons = [n.name for n in d.order]

        def listing(symbols) -> Listing:
            symbols = list(symbols)
            return Listing(tuple(symbols[:MAX_LISTED]), len(symbols) > MAX_LISTED)

        p0, n0 = self.shown[0], neurons[0]
        rows = [(listing(d.symbols[x] for x in m.inputs), "inputs of one example")] if m.inputs else []
        if m.constants:
            rows.append((listing(d.symbols[c] for c in m.constants), "constant inputs, the same in every example"))
        rows += [
            (listing(d.targets[o] for o in m.outputs), "targets: what the outputs should be"),
            (listing(d.symbols[p] for p in m.parameters), "parameters: the weights and biases training changes"),
            (listing(d.z[n] for n in neurons), "weighted sums: z = Σ weight · input, plus the bias"),
            (listing(d.a[n] for n in neurons), "activations: each neuron's output a = f(z)"),
            (d.E, "the loss" + (", combined over the examples" if len(m.examples) > 1 else "")),
        ]
        if len(m.examples) > 1:
            rows.append((listing(sp.Symbol(f"E_{k}") for k in range(1, len(m.examples) + 1)),
                         "the loss of one example; in example k's backward pass, E stands for it"))
        rows += [
            (Partial(d.a[n0], d.z[n0]), "the activation's slope at the neuron's z"),
        ]
        if len(d.coupled) > 1:
            rows.append((Partial(d.a[d.coupled[0]], d.z[d.coupled[1]]),
                         "the softmax layer's Jacobian: how one output's activation changes with another output's z"))
        rows += [
            (listing(d.delta_symbol[n] for n in neurons), "error terms: δ = ∂E/∂z, how the loss changes with z"),
            (Partial(d.E, d.symbols[p0]), "the gradient: how the loss changes with a parameter"),
            *optimizer_steps.notation_rows(d, p0),
        ]
        used = dict.fromkeys(n.activation for n in d.order)
        activations = Table("activations", "The activations and their slopes", ("activation", "f(z)", "f′(z)", "at a kink"), tuple(
            row for name in used
            for row in softmax_steps.activation_rows(name, d.activation[next(n.name for n in d.order if n.activation == name)])))
        if any(row[2].has(sp.Heaviside) for row in activations.rows):
            rows.append((sp.Heaviside(sp.Symbol("z"), 0), "the step function: 1 for z > 0, 0 for z ≤ 0 (ReLU's slope)"))
        table = Table("notation", "The symbols", ("symbol", "meaning"), tuple(rows))
        return Section("Notation", tables=(table, activations))

    def network(self) -> Section:
        d, m = self.d, self.model
        steps = softmax_steps.in_order(
            d, lambda n: Step(f"z_{n.name}", d.z[n.name], (weighted_sum(d, n),)),
            lambda n: Step(f"a_{n.name}", d.a[n.name], softmax_steps.activation_forms(d, n.name), note=d.activation[n.name].convention))
        steps.append(Step("E", d.E, (d.loss,), note=f"loss {m.loss}"))
        return Section("The network", tuple(steps))

    def forward(self, k: int, t: int) -> list[Step]:
        d, env = self.d, self.env(k, t)

        def z(n) -> Step:
            total = weighted_sum(d, n)
            return Step(f"z_{n.name}[{k}]@{t}", d.z[n.name], (total,), total, env, env[d.z[n.name]])

        def a(n) -> Step:
            forms = softmax_steps.activation_forms(d, n.name)
            return Step(f"a_{n.name}[{k}]@{t}", d.a[n.name], forms, d.a_expr[n.name], env, env[d.a[n.name]])

        steps = softmax_steps.in_order(d, z, a)
        e = self.trace.values[Key("E", k, t)]
        steps.append(Step(f"E[{k}]@{t}", d.E, (d.loss,), d.loss, env, e))
        return steps

    def nested(self, p: str) -> sp.Expr:
        """E(b(z_b(...(p)))) as applied undefined functions, so every printer can typeset it."""
        d, name = self.d, p
        users = {u.neuron for u in d.uses[name]}
        memo: dict[str, sp.Expr | None] = {}

        def weighted(n: str) -> sp.Expr | None:  # z_n(...) where it depends on p
            if n not in memo:
                inner = [d.symbols[name]] if n in users else []
                inner += [s for s in (through(src) for src in self.model.neuron(n).inputs if src in d.a) if s is not None]
                memo[n] = sp.Function(f"z_{n}")(*inner) if inner else None
            return memo[n]

        def through(n: str) -> sp.Expr | None:  # a softmax output reads every z of its layer
            zs = [z for z in (weighted(c) for c in (d.coupled if n in d.coupled else [n])) if z is not None]
            return sp.Function(n)(*zs) if zs else None

        args = [s for s in (through(o) for o in self.model.outputs) if s is not None]
        return sp.Function("E")(*args)

    def composed(self) -> Section:
        """Each shown parameter's nesting, where it has at most MAX_PATHS_SHOWN paths: written out, a
        nesting repeats every path (64 paths in a 4-8-8-8-1 net, 160,000 in five layers of 20)."""
        counts = {p: self.d.path_count(p) for p in self.shown}
        steps = [Step(f"E({p})", sp.Function("E")(self.d.symbols[p]), (self.nested(p),))
                 for p in self.shown if 0 < counts[p] <= MAX_PATHS_SHOWN]
        text = ["E as nested application down to each parameter; the chain rule differentiates it from the outside in."]
        if dead := [p for p in self.shown if counts[p] == 0]:
            text.append(f"{len(dead)} parameter(s) ({', '.join(dead[:MAX_LISTED])}{', …' if len(dead) > MAX_LISTED else ''}) "
                        "reach no output, so E does not depend on them: their gradient is 0.")
        left = [p for p in self.shown if counts[p] > MAX_PATHS_SHOWN]
        if left:
            text.append(f"{len(left)} parameter(s) reach E through more than {MAX_PATHS_SHOWN} paths (up to "
                        f"{max(counts[p] for p in left):,}) and are left out here; the backward pass gives their chains.")
        return Section("The composed error function", tuple(steps), tuple(text))

    def backward(self, k: int, t: int) -> list[Step]:
        """From the outputs in: each neuron's ∂E/∂a, its activation's slope, and their product the error
        term δ, numbers put in from the steps before; then each parameter's gradient through the δs."""
        d, env = self.d, self.env(k, t)
        v = self.trace.values
        steps = []
        for n in reversed(d.order):
            name, at = n.name, f"[{k}]@{t}"
            if name in d.coupled:  # the layer at once: its Jacobian reads every output
                steps += [] if any(s.name.startswith(f"dE/da_{name}[") for s in steps) else softmax_steps.layer(d, self.trace, k, t, env)
                continue
            simplified = d.simplified and name in d.loss_factor  # a sigmoid under bce: (a − y)/n
            dE_da, slope = Partial(d.E, d.a[name]), partial(d, d.activation_factor[name])
            downstream = tuple(f"delta_{c}{at}" for c, _ in d.consumers[name])
            outer = sp.factor_terms(d.dE_da[name])  # 2·(o − y), not −2·y + 2·o
            steps.append(Step(f"dE/da_{name}{at}", dE_da, (outer,), outer, env, v[Key(f"dE/da_{name}", k, t)], uses=downstream))
            local = d.activation_factor[name].expr
            steps.append(Step(f"da_{name}/dz_{name}{at}", slope, (local,), local, env, v[Key(f"da_{name}/dz_{name}", k, t)],
                              note=self.kinks.note(name, k, t)))
            g, h = sp.Symbol(f"dE/da_{name}"), sp.Symbol(f"da_{name}/dz_{name}")
            numbers = named({g: (f"dE/da_{name}{at}", v[Key(f"dE/da_{name}", k, t)]),
                             h: (f"da_{name}/dz_{name}{at}", v[Key(f"da_{name}/dz_{name}", k, t)])})
            steps.append(Step(f"{'dE/dz' if simplified else 'delta'}_{name}{at}", d.delta_symbol[name],
                              (Factors((dE_da, slope)), Factors((outer, local))), Factors((g, h)), numbers,
                              env[d.delta_symbol[name]], note="error term ∂E/∂z", uses=(f"dE/da_{name}{at}", f"da_{name}/dz_{name}{at}"),
                              quantity=f"delta_{name}{at}"))
            if simplified:
                steps.append(softmax_steps.simplified_step(d, v, name, k, t, env, f"dE/dz_{name}{at}"))
        for p in self.shown:
            steps.append(self.chain_step(p, k, t, env))
        if self.inputs:
            steps += [self.input_step(x, k, t, env) for x in self.model.inputs]
        return steps

    def input_step(self, x: str, k: int, t: int, env: dict) -> Step:
        """∂E/∂x of one input, as a circuit-style text computes it: the error terms of the neurons reading
        x, each times its weight (a request: ``derive --input-gradients``)."""
        d = self.d
        readers = [(n.name, w) for n in d.order for src, w in zip(n.inputs, n.weights) if src == x]
        terms = tuple(Factors((d.delta_symbol[n], d.symbols[w])) for n, w in readers)
        form = terms[0] if len(terms) == 1 else Terms(terms) if terms else sp.Integer(0)
        loss = d.E if len(self.model.examples) == 1 else sp.Symbol(f"E_{k}")
        return Step(f"dE/d{x}[{k}]@{t}", Partial(loss, d.symbols[x]), (form,), form, env,
                    self.trace.values[Key(f"dE/d{x}", k, t)], "the gradient of an input: Σ δ · w over the neurons reading it",
                    uses=tuple(dict.fromkeys(f"delta_{n}[{k}]@{t}" for n, _ in readers)))

    def chain_step(self, p: str, k: int, t: int, env: dict) -> Step:
        """The Leibniz chain and its local factors as formulas; the numbers go into the error-term
        form (δ_a · x1 = (−0.0784) · 0.2), through the error terms the steps above computed. With
        several examples, the left-hand side is example k's ∂E_k/∂p."""
        d = self.d
        forms, note = chain_forms(d, p)
        value = self.trace.values[Key(f"dE/d{p}", k, t)]
        loss = d.E if len(self.model.examples) == 1 else sp.Symbol(f"E_{k}")
        uses = tuple(dict.fromkeys(f"delta_{u.neuron}[{k}]@{t}" for u in d.uses[p]))
        return Step(f"dE/d{p}[{k}]@{t}", Partial(loss, d.symbols[p]), forms, forms[-1], env, value, note, uses=uses)

    def batch_loss(self, t: int) -> Step:
        d, v, ks = self.d, self.trace.values, range(1, len(self.model.examples) + 1)
        losses = [sp.Symbol(f"E_{k}") for k in ks]
        form = combined(losses, self.model.batch_mean)
        return Step(f"E@{t}", d.E, (form,), form, named({e: (quantity("E", k, t), v[Key("E", k, t)]) for e, k in zip(losses, ks)}),
                    v[Key("E", None, t)],
                    note=f"the {self.model.batch} of the examples' losses", uses=tuple(f"E[{k}]@{t}" for k in ks))

    def batch(self, t: int) -> Section:
        """The batch's loss and gradients from the examples' own: ∂E/∂w = ½(∂E_1/∂w + ∂E_2/∂w)."""
        d, m, v = self.d, self.model, self.trace.values
        ks = range(1, len(m.examples) + 1)
        steps = [self.batch_loss(t)]
        for p in self.shown:
            gs = [sp.Symbol(f"dE_{k}/d{p}") for k in ks]
            steps.append(Step(f"dE/d{p}@{t}", Partial(d.E, d.symbols[p]), (combined(gs, m.batch_mean),), combined(gs, m.batch_mean),
                              named({g: (quantity(f"dE/d{p}", k, t), v[Key(f"dE/d{p}", k, t)]) for g, k in zip(gs, ks)}),
                              v[Key(f"dE/d{p}", None, t)],
                              uses=tuple(f"dE/d{p}[{k}]@{t}" for k in ks)))
        return Section(f"Iteration {t}: over the batch", tuple(steps))

    def updates(self, t: int) -> Section:
        return Section(f"Iteration {t}: updates", tuple(optimizer_steps.updates(self.d, self.trace, self.shown, t, self.live)))

    def iteration(self, t: int) -> list[Section]:
        """Iteration t: each example's forward pass, then (before the last) the composed loss (at t = 1),
        each example's backward pass, the batch, the updates and the summary."""
        examples = range(1, len(self.model.examples) + 1)
        several = len(examples) > 1
        final = t == self.trace.iterations + 1
        title = "Forward pass with the trained parameters" if final and t > 1 else f"Iteration {t}: forward pass"
        out = [Section(title + (f" (example {k})" if several else ""), tuple(self.forward(k, t))) for k in examples]
        if final:
            if several:
                out.append(Section("Loss over the batch" + (" with the trained parameters" if t > 1 else ""),
                                   (self.batch_loss(t),)))
            return out
        if t == 1:
            out.append(self.composed())
        out += [Section(f"Iteration {t}: backward pass" + (f" (example {k})" if several else ""), tuple(self.backward(k, t)))
                for k in examples]
        if several:
            out.append(self.batch(t))
        return out + [self.updates(t), self.summary(t)]

    def summary(self, t: int) -> Section:
        """Iteration t's numbers in tables, as the best worked examples close an iteration: each neuron's
        z, a, slope and δ per example, each parameter's value, gradient, change and new value."""
        d, m, v = self.d, self.model, self.trace.values
        neurons = [n.name for n in d.order]
        tables = []
        for k in range(1, len(m.examples) + 1):
            rows = tuple((d.a[n], *(Number(v[Key(q, k, t)], quantity(q, k, t))
                                    for q in (f"z_{n}", f"a_{n}", f"da_{n}/dz_{n}", f"delta_{n}")))
                         for n in neurons[:MAX_TABLE_ROWS])
            of = f", example {k}" if len(m.examples) > 1 else ""
            tables.append(Table(f"neurons-{t}-{k}", f"The neurons at iteration {t}{of}" + _cut(len(neurons)),
                                ("neuron", sp.Symbol("z"), sp.Symbol("a"), Partial(sp.Symbol("a"), sp.Symbol("z")),
                                 sp.Symbol("delta")), rows))
        w = sp.Symbol("w")
        rows = tuple((d.symbols[p], *(Number(v[Key(q, None, s)], quantity(q, None, s)) for q, s in
                                      ((p, t), (f"dE/d{p}", t), (f"Delta_{p}", t), (p, t + 1)))) for p in self.shown[:MAX_TABLE_ROWS])
        tables.append(Table(f"parameters-{t}", f"The parameters at iteration {t}" + _cut(len(self.shown)),
                            ("parameter", "value", Partial(self.d.E, w), sp.Symbol("Delta_w"), "new value"), rows))
        return Section(f"Iteration {t}: summary", tables=tuple(tables))


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


def build(d: Derivation, trace: Trace, only: Sequence[str] | None = None, plots: bool = False,
          show: str | None = None, inputs: bool = False, live: bool = False) -> Walkthrough:
    """The whole story: the example, the notation and the network, then per iteration shown (training.py:
    ``show``, e.g. "1,2,last") forward, loss, backward, the batch, the updates and a summary, a table of the
    loss across the iterations skipped, and the forward pass after the last update; plots where they illustrate a step.
    ``inputs``: each backward pass also gives the inputs' gradients ∂E/∂x; ``live``: for a page that recomputes
    and trains on (optimizer_steps.optimizer_steps)."""
    b = _Builder(d, trace, only, inputs, live)
    sections = [b.example(), b.notation_section(), b.network()]
    previous = 0
    for t in (*shown_iterations(show, trace.iterations), trace.iterations + 1):
        if t > previous + 1:
            sections.append(skipped(trace, previous + 1, t - 1))
        sections += b.iteration(t)
        previous = t
    figures = plot_data(d, trace, b.shown) if plots else ()
    return Walkthrough(d.model.title or "Derivation", tuple(_place(sections, figures)), figures)


def _place(sections: list[Section], figures) -> list[Section]:
    """Each plot at the end of the section it illustrates: an activation beside the first forward pass,
    the loss against a weight beside the first updates (its tangent is the gradient used there), the
    loss curve after the last forward pass."""
    def home(plot) -> int:
        last = len(sections) - 1  # with no iterations there are no updates: the plot goes last
        if plot.name.startswith("activation_"):
            return next((i for i, s in enumerate(sections) if "forward pass" in s.title.lower()), last)
        if plot.name.startswith("loss_vs_"):
            return next((i for i, s in enumerate(sections) if s.title.endswith(": updates")), last)
        return last

    placed: dict[int, list[str]] = {}
    for plot in figures:
        placed.setdefault(home(plot), []).append(plot.name)
    return [replace(s, plots=s.plots + tuple(placed.get(i, ()))) for i, s in enumerate(sections)]


def _cut(total: int) -> str:
    """A caption's note when a table lists only its first MAX_TABLE_ROWS rows."""
    return f" (the first {MAX_TABLE_ROWS} of {total})" if total > MAX_TABLE_ROWS else ""
