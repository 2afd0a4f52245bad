"""Exact values of every named quantity, example by example and iteration by iteration.

Names follow DESIGN's claims section: ``z_a``, ``a_b``, ``E``, ``delta_a``, ``dE/da_b``,
``da_b/dz_b``, ``dz_b/da_a``, ``dz_a/dw_a1``, ``dE/dw_b1``, ``Delta_w_b1`` and parameter values
``w_b1``; ``[k]`` picks example k (1-based) and ``@t`` iteration t (1-based; ``w_b1@2`` is the
value after the first update). Batch quantities (E, dE/dp, Delta_p, p) also exist without
``[k]``. Iteration ``iterations + 1`` holds the forward pass with the trained parameters.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from .errors import InputError
from .limits import check_work
from .long_run import DIGITS, LongRun
from .schedule import backward, forward

# an index of at most 9 digits: any longer is past every bound, and would not become an int within one
NAME = re.compile(r"(?P<name>[^\[\]@\s]+)(\[(?P<example>\d{1,9})\])?(@(?P<iteration>\d{1,9}))?\Z")
MAX_EXACT_OPS = 80  # beyond this a closed form (nested exp/tanh) is carried as a Float, and a long run takes over
MAX_EXACT_BITS = 1024  # beyond this (about 300 digits) a Rational is too
MAX_EXACT_NESTING = 2  # sigmoid of a sigmoid stays exact; deeper, SymPy's own assumption queries on the
# next step grow exponentially with the nesting (a chain of 10 sigmoids: 88 s), so it is carried as a Float
MAX_SUGGESTED = 20_000  # names an unknown one is compared with for a 'did you mean' (difflib is linear in them)
MIN_DIGITS, MAX_DIGITS = 16, 1000  # a long run's precision: past float64, and short of hours per iteration
EXTREME = sp.Float("1e300")  # a power inside a closed form beyond this magnitude: carried as a Float


@dataclass(frozen=True)
class Key:
    name: str
    example: int | None  # None: a batch quantity
    iteration: int

    def __str__(self) -> str:
        ex = f"[{self.example}]" if self.example is not None else ""
        return f"{self.name}{ex}@{self.iteration}"


def _at(most: int) -> str:
    """The iterations 1..most, as a message names them."""
    return "at @1" if most == 1 else f"at @1..@{most}"


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


def check_digits(digits: object) -> None:
    """A long run's precision, checked before anything runs."""
    if isinstance(digits, bool) or not isinstance(digits, int) or not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise InputError(f"expected digits from {MIN_DIGITS} to {MAX_DIGITS} (a long run's precision), got {digits!r}",
                         key="digits")


def _undefined(model, p: str, t: int, head: str) -> InputError:
    """An optimizer's step that divides by zero: eps = 0 where a gradient is 0 (torch would give nan)."""
    return InputError(f"{model.rule.name}'s {head} of {p} at iteration {t} divides by zero (its gradient and state "
                      f"are 0, and eps = 0; torch would give nan); expected eps > 0", key="optimizer.eps")


class Values(Mapping):
    """Every traced value by Key: the exact part as a dict, then the long run's iterations (if any),
    computed when asked for (long_run.py)."""

    def __init__(self) -> None:
        self.exact: dict[Key, sp.Expr] = {}
        self.long: LongRun | None = None
        self._names: dict[bool, frozenset] = {}  # backward pass or not -> the (name, example) pairs of an iteration

    def _in_long(self, key: Key) -> bool:
        long = self.long
        if long is None or not long.start <= key.iteration <= long.iterations + 1:
            return False
        backward_pass = key.iteration <= long.iterations
        if backward_pass not in self._names:
            self._names[backward_pass] = frozenset(long.keys(key.iteration))
        return (key.name, key.example) in self._names[backward_pass]

    def __getitem__(self, key: Key) -> sp.Expr:
        if self._in_long(key):
            return self.long.value(key.iteration, key.name, key.example)[0]
        return self.exact[key]

    def __contains__(self, key: object) -> bool:
        return key in self.exact or (isinstance(key, Key) and self._in_long(key))

    def __iter__(self) -> Iterator[Key]:
        yield from self.exact
        if self.long is not None:
            for t in range(self.long.start, self.long.iterations + 2):
                yield from (Key(name, k, t) for name, k in self.long.keys(t))

    def at(self, t: int) -> Iterator[tuple[Key, sp.Expr]]:
        """Iteration t's keys and values alone (a long run computes that one iteration, not every one)."""
        if self._in_long(Key("E", None, t)):
            yield from ((Key(name, k, t), self.long.value(t, name, k)[0]) for name, k in self.long.keys(t))
        else:
            yield from ((key, value) for key, value in self.exact.items() if key.iteration == t)

    def __len__(self) -> int:
        long = self.long
        if long is None:
            return len(self.exact)
        return len(self.exact) + sum(1 for t in range(long.start, long.iterations + 2) for _ in long.keys(t))


class Trace:
    """Runs the derivation on the model's numbers; ``trace[name]`` gives its value: exact while the
    values stay exact and small, then from a long run at ``digits`` digits (``certain(key)`` says how
    many of them are certain)."""

    long_runs = True  # a subclass that computes otherwise than the schedule (verifier/conventions.py) stays exact

    def __init__(self, derivation, iterations: int, key: str = "iterations", progress=None, digits: int = DIGITS) -> None:
        """``progress(t, total)``, if given, is called after each iteration (a long trace on a TTY)."""
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
            raise InputError(f"expected a whole number of iterations >= 0, got {iterations!r}", key="iterations")
        check_digits(digits)
        check_work(derivation.model, iterations, key)
        self.derivation = derivation
        self.model = derivation.model
        self.iterations = iterations
        self.values = Values()
        self.exact = True
        self.precision = digits  # a long run's (RoundedTrace's ``digits`` are its decimals)
        self.float_digits = 2 * digits + 10  # a value of the exact part too large to keep exact: as precise as the long run's check
        self._forward, self._backward = forward(derivation), backward(derivation)
        params = dict(self.model.parameters)
        self.state = {p: dict(self.model.rule.initial()) for p in self.model.trained_parameters}  # the optimizer's, as carried
        for t in range(1, iterations + 2):
            for p, v in params.items():
                self.values.exact[Key(p, None, t)] = v
            gradients = self._iteration(t, params, backward=t <= iterations)
            if t <= iterations:
                params = self._update(t, params, gradients)
                carried = [*params.values(), *(v for s in self.state.values() for v in s.values())]
                if self.long_runs and any(v.has(sp.Float) for v in carried):  # outgrew exact forms: a long run goes on
                    if progress is not None:
                        progress(t, iterations + 1)
                    self.values.long = LongRun(derivation, iterations, t + 1, params, digits, progress, state=self.state)
                    self.exact = False
                    return
            if progress is not None:
                progress(t, iterations + 1)

    def certain(self, key: Key) -> int | None:
        """How many significant digits of a value are certain; None for an exact one."""
        if key in self.values.exact:
            value = self.values.exact[key]
            return None if not sp.sympify(value).has(sp.Float) else self.precision
        return self.values.long.value(key.iteration, key.name, key.example)[1]

    # -- one iteration ------------------------------------------------------------------------
    def _iteration(self, t: int, params: dict, backward: bool) -> dict[str, sp.Expr]:
        d, model = self.derivation, self.model
        steps = self._forward + (self._backward if backward else ())
        per_example_losses, gradients = [], {p: [] for p in params}
        for k, example in enumerate(model.examples, start=1):
            env = self._numbers(params, example)
            put = self._putter(k, t)
            for step in steps:
                env[step.symbol] = value = put(step.name, step.expr.xreplace(env))
                if step.gradient_of:
                    gradients[step.gradient_of].append(value)
            per_example_losses.append(env[d.E])
        self.values.exact[Key("E", None, t)] = self.model.combine(per_example_losses)
        return {p: self.model.combine(g) for p, g in gradients.items()} if backward else {}

    def _numbers(self, params: dict, example) -> dict[sp.Symbol, sp.Expr]:
        """Symbol -> value of one example's inputs and targets, the constants and the parameters."""
        d, model = self.derivation, self.model
        return ({d.symbols[p]: v for p, v in params.items()} | {d.symbols[c]: v for c, v in model.constants.items()}
                | {d.symbols[x]: v for x, v in example.inputs.items()} | {d.targets[o]: v for o, v in example.targets.items()})

    def _update(self, t: int, params: dict, gradients: dict) -> dict:
        """The new parameters as carried (bounded: a closed form's Float is as precise as a long run's
        check run, which starts from them); the optimizer's state is carried in ``self.state``, and the
        rule's quantities (``m_w``, ``v_hat_w``, ``Delta_w``) and the rate (``lr``) are named at iteration t."""
        model, rule = self.model, self.model.rule
        rate = model.rate(t)
        closed = model.optimizer is not None and model.optimizer.name != "SGD"  # a square root of the gradients
        if model.optimizer is not None:
            self.values.exact[Key("lr", None, t)] = rate
        trained = set(model.trained_parameters)
        exact = {}
        for p, value in params.items():
            self.values.exact[Key(f"dE/d{p}", None, t)] = gradients[p]
            step = sp.Integer(0)
            if p in trained:
                state = {}
                g = gradients[p]
                if closed and not g.is_Rational:  # a closed form under a square root outgrows exact forms at once
                    g = sp.Float(g.evalf(self.float_digits), self.float_digits)
                for head, v in rule.step(value, g, rate, t, self.state[p]):
                    if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                        raise _undefined(model, p, t, head)
                    if head == "Delta":
                        step = v
                    else:
                        self.values.exact[Key(f"{head}_{p}", None, t)] = self._bounded(v)
                        if head in rule.rule.state:
                            state[head] = v
                self.state[p] = {head: self._bounded(v) for head, v in state.items()}
            self.values.exact[Key(f"Delta_{p}", None, t)] = step
            exact[p] = value + step
        return {p: self._bounded(v) for p, v in exact.items()}

    def _putter(self, k: int, t: int):
        def put(name: str, value: sp.Expr) -> sp.Expr:
            value = self._bounded(value)
            self.values.exact[Key(name, k, t)] = value
            return value

        return put

    def _bounded(self, value: sp.Expr) -> sp.Expr:
        """Rationals stay exact; one too long, or a closed form too large to read, becomes a Float of
        ``float_digits`` digits, and the trace is no longer exact (the long run takes over after the update)."""
        if value.is_Rational and value.p.bit_length() + value.q.bit_length() > MAX_EXACT_BITS:
            self.exact = False  # each iteration multiplies the digits
            return sp.Float(value, self.float_digits)
        if value.is_Rational or value.is_Float:
            return value
        if (value.has(sp.Float) or sp.count_ops(value) > MAX_EXACT_OPS or _nesting(value) > MAX_EXACT_NESTING
                or _extreme(value)):
            self.exact = False
            return sp.Float(value.evalf(self.float_digits), self.float_digits)
        return value

    # -- lookup -------------------------------------------------------------------------------
    def key(self, text: str) -> Key:
        """The Key a quantity name means; a located InputError for a name that means nothing, saying what
        would be valid: the examples 1..n, and the iterations the name exists at (forward values and
        parameters at 1..N+1, the backward pass's quantities at 1..N: there is no update after the last)."""
        m = NAME.match(text.strip())
        if not m:
            raise InputError(f"{text!r} is not a quantity name; expected NAME, NAME[k] or NAME@t", key="quantity")
        name, example = m["name"], m["example"]
        t = int(m["iteration"]) if m["iteration"] else 1
        count = len(self.model.examples)
        if example is not None:
            k = int(example)
            if not 1 <= k <= count:
                valid = ("this file has one example: expected [1], or no index" if count == 1 else
                         f"examples are numbered from 1: expected [1]..[{count}] (this file has {count})")
                raise InputError(f"{text!r}: no example {k}; {valid}", key="quantity")
            key = Key(name, k, t)
        elif Key(name, None, t) in self.values:
            key = Key(name, None, t)
        elif count == 1:
            key = Key(name, 1, t)
        else:
            key = Key(name, None, t)
        if key in self.values:
            return key
        iterations = self._iterations_of.get(name, set())
        at = "" if t == 1 else f"@{t}"
        if not iterations:
            raise InputError(f"{text!r}{self._names_hint(name)}", key="quantity")
        if t not in iterations:
            raise InputError(f"{text!r}: {self._iteration_hint(name, t, max(iterations))}", key="quantity")
        if example is None:
            raise InputError(f"{text!r}: {name} has one value per example, so it needs an example index [k]; "
                             f"expected {name}[1]{at}..{name}[{count}]{at}", key="quantity")
        raise InputError(f"{text!r}: {name} is one value for the whole batch, with no example index; "
                         f"expected {name}{at}", key="quantity")

    @cached_property
    def _iterations_of(self) -> dict[str, set[int]]:
        """Each quantity name -> the iterations it has, built once: a failing lookup's message needs it,
        and scanning every traced value per failing claim would be quadratic."""
        out: dict[str, set[int]] = {}
        for q in self.values:
            out.setdefault(q.name, set()).add(q.iteration)
        return out

    def _iteration_hint(self, name: str, t: int, most: int) -> str:
        """Why ``name@t`` does not exist (``name`` exists at 1..most), for key()'s message."""
        n, last = self.iterations, self.iterations + 1
        if t == 0:
            return (f"no iteration 0; iterations are numbered from 1 (@1 is the first pass, with the initial "
                    f"parameters): {name} exists {_at(most)}")
        if most == last:
            after = ("no update, only the forward pass with the initial parameters" if n == 0 else
                     f"@{last} is the forward pass with the parameters after the last update")
            return f"iteration {t} is beyond this trace; {name} exists {_at(last)} (iterations = {n}: {after})"
        return (f"iteration {t} is beyond this trace; {name} belongs to the backward pass (error terms, "
                f"gradients, adjustments and their chain factors), computed once per update, so it exists "
                f"{_at(most)} only (iterations = {n}); @{last} holds only the forward pass after the last update: "
                f"z_, a_, E and the parameters")

    def _names_hint(self, name: str) -> str:
        """What a name that means nothing could have been, for key()'s message."""
        if self.iterations == 0 and re.fullmatch(r"(delta|Delta)_.+|d[^/]+/d.+", name):
            return (": this trace has no backward pass (iterations = 0, no update): error terms, gradients, "
                    "adjustments and their chain factors exist only at iterations 1..N of N >= 1 updates; "
                    "here only the forward pass @1 (z_, a_, E and the parameters)")
        neuron = self.derivation.order[0].name if self.derivation.order else "a"
        parameter = next(iter(self.model.parameters), "w")
        known = sorted(self._iterations_of)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.75) if len(known) <= MAX_SUGGESTED else []
        like = f"did you mean {' or '.join(close)}? " if close else ""
        return (f" names no quantity of this network; {like}expected a name like z_{neuron}, a_{neuron}, "
                f"delta_{neuron}, dE/da_{neuron}, E, dE/d{parameter}, Delta_{parameter} or {parameter} "
                "(docs/format.md, Quantity names)")

    def __getitem__(self, text: str) -> sp.Expr:
        return self.values[self.key(text)]

    def names(self) -> list[str]:
        return [str(k) for k in self.values]
