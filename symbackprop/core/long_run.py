"""The iterations past the exact part of a trace, in arbitrary precision, with their certain digits.

Once a trace's values stop being small exact numbers (a sigmoid's closed form after one update,
a Rational of thousands of digits after many), trace.py hands the parameters over here, still
exact. From there each iteration runs the derivation's schedule as generated straight-line code
(program.py) in MPFR (gmpy2) or mpmath (arithmetic.py) at two precisions side by side:
``digits`` and twice that. A value is
given at ``digits`` digits from the finer run, and carries how many of its digits the two runs
agree on: the digits that are certain (``certain``).

Only what a long run needs at every iteration is kept: the parameters and the batch loss, per
precision. Every other quantity of iteration t (z, a, error terms, gradients per example) is
recomputed from those parameters when it is asked for, and the last few iterations asked for are
kept; so 10,000 iterations hold about 30 numbers each, not the 90 of a full record.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

import mpmath
import sympy as sp

from .arithmetic import Arithmetic, high_precision
from .program import program
from .schedule import backward, forward, update

DIGITS = 50  # the working precision a long run is given in, by default (``--digits``)
KEPT = 4  # recomputed iterations kept


def agreement(fine: mpmath.mpf, coarse: mpmath.mpf, digits: int) -> int:
    """How many significant digits two runs' values (as mpmath numbers) agree on, at most ``digits``."""
    if fine == coarse:
        return digits
    with mpmath.workdps(30):
        scale = max(abs(fine), abs(coarse))
        return max(0, min(digits, int(mpmath.floor(-mpmath.log10(abs(fine - coarse) / scale)))))


class _Run:
    """One precision's run: the bound programs, the examples' numbers, and per iteration the
    parameters and the batch loss."""

    def __init__(self, owner: LongRun, digits: int, params: dict[str, sp.Expr]) -> None:
        self.owner, self.digits, self.arithmetic = owner, digits, owner.arithmetic
        m, number = owner.model, self.arithmetic.number
        with self.precision():
            carried = min(digits, 17) if owner.arithmetic.name == "float" else digits  # float64 carries 17
            self.rounding = None if owner.rounding is None else self.arithmetic.rounding(owner.rounding, carried)
            self.forward = owner.forward_program.bind(self.arithmetic, self.rounding)
            self.full = owner.full_program.bind(self.arithmetic, self.rounding)
            self.constants = [number(m.constants[c], digits) for c in m.constants]
            self.examples = [([number(e.inputs[x], digits) for x in m.inputs], [number(e.targets[o], digits) for o in m.outputs])
                             for e in m.examples]
            self.updates = {first: p.bind(self.arithmetic, self.rounding) for first, p in owner.update_programs.items()}
            self._rates: dict[int, object] = {}
            self.scale = 1 / self.arithmetic.functions["mpf"](len(m.examples)) if m.batch_mean else 1
            self.params: list[list] = [[number(params[p], digits) for p in m.parameters]]
            # the optimizer's state before each iteration's update, per trained parameter: [state names' values]
            self.states: list[dict] = [{p: [number(owner.state[p][k], digits) for k in owner.state_names]
                                        for p in owner.trained_names}] if owner.state_names else []
        self.losses: list = []

    def rate(self, t: int):
        """Iteration t's learning rate (signed: Delta = -rate * step) in this arithmetic."""
        if t not in self._rates:
            self._rates = {t: self.arithmetic.number(self.owner.model.rate(t), self.digits)}  # one kept: t only grows
        return self._rates[t]

    def update(self, t: int, params: list, gradients: list, i: int) -> tuple[list, dict, dict]:
        """Iteration t's update from the state before it (``self.states[i]``): the new parameters, the
        new state and every quantity of the rule (``m``, ``v_hat``, ``Delta``), per parameter."""
        o, run = self.owner, self.updates[t == 1]
        rate, step = self.rate(t), self.arithmetic.functions["mpf"](t)
        new, state, quantities = list(params), {}, {}
        for j, (p, g) in enumerate(zip(params, gradients)):
            name = o.model_parameters[j]
            if not o.trained[j]:
                continue
            before = self.states[i][name] if self.states else []
            values = run(p, g, rate, step, *before)
            quantities[name] = dict(zip(o.update_heads[t == 1], values))
            new[j] = p + quantities[name]["Delta"]
            state[name] = [quantities[name].get(k, b) for k, b in zip(o.state_names, before)]
            if self.rounding is not None:
                state[name] = [self.rounding(v) for v in state[name]]
        return new, state, quantities

    def precision(self):
        return self.arithmetic.precision(self.digits)

    def combine(self, values: list):
        """The batch value of per-example values (one example's is its own)."""
        return values[0] if len(values) == 1 else sum(values[1:], values[0]) * self.scale

    def iteration(self, params: list, backward_pass: bool) -> tuple[list[list], list]:
        """Each example's values, and the batch gradients (empty without a backward pass)."""
        run = self.full if backward_pass else self.forward
        records = [run(*params, *self.constants, *x, *y) for x, y in self.examples]
        gradients = [self.combine([r[i] for r in records]) for i in self.owner.gradient_index] if backward_pass else []
        return records, gradients

    def step(self, t: int) -> None:
        """Iteration t (the newest parameters): its loss kept and, before the last, the update."""
        o = self.owner
        with self.precision():
            records, gradients = self.iteration(self.params[-1], t <= o.iterations)
            self.losses.append(self.combine([r[o.loss_index] for r in records]))
            if t <= o.iterations:
                new, state, _ = self.update(t, self.params[-1], gradients, len(self.params) - 1)
                self.params.append(new if self.rounding is None else [self.rounding(p) for p in new])
                if self.states:
                    self.states.append(state)


class LongRun:
    """Iterations ``start`` .. ``iterations + 1`` of a trace, from its exact parameters at ``start``."""

    def __init__(self, derivation, iterations: int, start: int, params: dict[str, sp.Expr], digits: int = DIGITS,
                 progress: Callable[[int, int], None] | None = None, arithmetic: Arithmetic | None = None,
                 check: bool = True, rounding: int | None = None, state: dict | None = None) -> None:
        """``check``: run the second precision (the certain digits) too; ``rounding``: every value rounded
        to that many decimals as it is computed, as a text that rounds as it goes (the diagnosis)."""
        d = self.derivation = derivation
        m = self.model = derivation.model
        self.iterations, self.start, self.digits, self.rounding = iterations, start, digits, rounding
        self.arithmetic = arithmetic or high_precision()
        arguments = [d.symbols[p] for p in m.parameters] + [d.symbols[c] for c in m.constants] + \
                    [d.symbols[x] for x in m.inputs] + [d.targets[o] for o in m.outputs]
        self.forward_steps, backward_steps = forward(d), backward(d)
        self.full_steps = self.forward_steps + backward_steps
        self.forward_program = program(arguments, self.forward_steps, rounded=rounding is not None)
        self.full_program = program(arguments, self.full_steps, rounded=rounding is not None)
        self.loss_index = len(self.forward_steps) - 1
        self.gradient_index = [next(i for i, s in enumerate(self.full_steps) if s.gradient_of == p) for p in m.parameters]
        trained = set(m.trained_parameters)
        self.trained = [p in trained for p in m.parameters]
        self.model_parameters, self.trained_names = list(m.parameters), [p for p in m.parameters if p in trained]
        rule = m.rule
        self.state_names = rule.states()  # what the rule keeps between steps (SGD's buffer: 0 until its first step)
        initial = {k: sp.Integer(0) for k in self.state_names} | rule.initial()
        self.state = {p: initial | (state or {}).get(p, {}) for p in self.trained_names}
        self.update_programs, self.update_heads = {}, {}
        for first in (True, False):
            arguments, assignments = update(rule, first)
            self.update_programs[first] = program(arguments, assignments)  # the state rounded as carried, Delta not
            self.update_heads[first] = [a.name for a in assignments]
        self.parameter_index = {p: j for j, p in enumerate(m.parameters)}
        self.held = {p: sp.sympify(params[p]) for p in m.parameters if p not in trained}
        self.held |= {f"Delta_{p}": sp.Integer(0) for p in m.parameters if p not in trained}
        given = _Run(self, digits, params)
        self.runs = (given, _Run(self, 2 * digits, params) if check else given)  # (given, check)
        self._kept: OrderedDict[int, dict] = OrderedDict()
        for t in range(start, iterations + 2):
            for run in dict.fromkeys(self.runs):
                run.step(t)
            if progress is not None:
                progress(t, iterations + 1)

    # -- what the trace asks for ----------------------------------------------------------------
    def record(self, t: int) -> dict[tuple[str, int | None], tuple[mpmath.mpf, mpmath.mpf]]:
        """Iteration t's every value, (name, example or None) -> (fine, coarse), in the exact trace's order."""
        if t in self._kept:
            self._kept.move_to_end(t)
            return self._kept[t]
        m, i = self.model, t - self.start
        backward_pass = t <= self.iterations
        steps = self.full_steps if backward_pass else self.forward_steps
        out: dict = {}
        per_run = []
        for run in dict.fromkeys(reversed(self.runs)):  # the finer run first: it is the value given
            with run.precision():
                per_run.append((run.params[i], *run.iteration(run.params[i], backward_pass), run))
        (fine_p, fine_r, fine_g, fine), (coarse_p, coarse_r, coarse_g, coarse) = per_run[0], per_run[-1]
        for name, a, b in zip(m.parameters, fine_p, coarse_p):
            out[(name, None)] = (a, b)
        for k, (ra, rb) in enumerate(zip(fine_r, coarse_r), start=1):
            for step, a, b in zip(steps, ra, rb):
                out[(step.name, k)] = (a, b)
        out[("E", None)] = (fine.losses[i], coarse.losses[i])
        if backward_pass:
            steps = []
            for p, g, run in ((fine_p, fine_g, fine), (coarse_p, coarse_g, coarse)):
                with run.precision():
                    steps.append((run.rate(t), run.update(t, p, g, i)[2]))
            (fine_rate, fine_q), (coarse_rate, coarse_q) = steps
            if m.optimizer is not None:
                out[("lr", None)] = (fine_rate, coarse_rate)
            for name, ga, gb in zip(m.parameters, fine_g, coarse_g):
                out[(f"dE/d{name}", None)] = (ga, gb)
                for head, a in fine_q.get(name, {}).items():
                    if head != "Delta":
                        out[(f"{head}_{name}", None)] = (a, coarse_q[name][head])
                out[(f"Delta_{name}", None)] = ((fine_q[name]["Delta"], coarse_q[name]["Delta"]) if name in fine_q
                                                else (0 * ga, 0 * gb))
        self._kept[t] = out
        if len(self._kept) > KEPT:
            self._kept.popitem(last=False)
        return out

    def keys(self, t: int) -> Iterator[tuple[str, int | None]]:
        """Iteration t's names without computing it: the batch parameters, each example's values, the
        batch loss, then (before the last iteration) the batch gradients and adjustments."""
        steps = self.full_steps if t <= self.iterations else self.forward_steps
        names = list(dict.fromkeys(s.name for s in steps))
        yield from ((p, None) for p in self.model.parameters)
        for k in range(1, len(self.model.examples) + 1):
            yield from ((name, k) for name in names)
        yield ("E", None)
        if t <= self.iterations:
            if self.model.optimizer is not None:
                yield ("lr", None)
            heads = [a.name for a in self.update_steps(t) if a.name != "Delta"]
            for p in self.model.parameters:
                yield (f"dE/d{p}", None)
                if p in self.state:
                    yield from ((f"{head}_{p}", None) for head in heads)
                yield (f"Delta_{p}", None)

    def update_steps(self, t: int):
        """The optimizer's assignments at iteration t (its first differs: SGD's buffer starts as g)."""
        return update(self.model.rule, t == 1)[1]

    def value(self, t: int, name: str, example: int | None) -> tuple[sp.Expr, int | None]:
        """The value at ``digits`` digits (from the finer run) and how many of its digits are certain;
        a parameter held fixed keeps its exact value (and its adjustment is exactly 0): None digits."""
        if example is None and name in self.held:
            return self.held[name], None
        if name == "E" and example is None:
            i = t - self.start
            fine, coarse = self.runs[1].losses[i], self.runs[0].losses[i]
        elif example is None and name in self.parameter_index:
            i, j = t - self.start, self.parameter_index[name]
            fine, coarse = self.runs[1].params[i][j], self.runs[0].params[i][j]
        else:
            fine, coarse = self.record(t)[(name, example)]
        if isinstance(fine, int) and isinstance(coarse, int) and fine == coarse:  # a constant of the schedule (a slope of 1)
            return sp.Integer(fine), None
        to_mpf = self.arithmetic.to_mpf
        fine, coarse = to_mpf(fine), to_mpf(coarse)
        if fine == coarse and self.runs[0] is not self.runs[1] and mpmath.isfinite(fine):
            # the same binary number at both precisions: a value no rounding touched (a weight a dead ReLU
            # leaves as it was, a product with 0), given as the fraction it is
            sign, man, exp, _ = fine._mpf_  # mpf.man_exp drops the sign
            return (-1) ** sign * sp.Rational(int(man)) * sp.Rational(2) ** exp, self.digits
        return sp.Float(fine, self.digits), agreement(fine, coarse, self.digits)

    def loss_curve(self) -> list[tuple[int, sp.Float]]:
        """(t, E@t) for every iteration of the run, without recomputing any."""
        return [(self.start + i, self.arithmetic.value(e, self.digits)) for i, e in enumerate(self.runs[1].losses)]
