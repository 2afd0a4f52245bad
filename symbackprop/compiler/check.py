"""``symbackprop check``: the compiled gradients against the NumPy runtime, PyTorch and finite differences.

Each reference is evaluated on the file's own examples at its initial parameters and on seeded
random batches (B = 1, 5, 32) at perturbed parameters. Per parameter group (a layer's weights or
biases; a neuron's weights in a hand-written graph) the error is the largest absolute difference
divided by the group's largest reference gradient (or by 1e-8 when the whole group is smaller;
against finite differences by 1e-3 max(1, |loss|), their absolute noise being of order eps |loss| / h);
the loss is compared the same way. TOLERANCE holds the documented limits.

A file with an [optimizer] also has the compiled module's first TRAINING_STEPS steps (``init_state``,
then ``step``) compared with each reference's own training run (reference/numpy_training.py,
reference/torch_training.py: torch.optim and torch.optim.lr_scheduler themselves): the learning
rate of every step, the parameters after it and each state quantity of the trained parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..core import function_table
from ..core.decimals import decimal
from ..core.derivation import Derivation
from ..core.errors import InputError
from ..core.limits import check_fd
from ..core.loss_rules import random_targets
from ..core.trace import Key
from ..reference import numpy_training, torch_model, torch_training
from ..reference.numpy_runtime import Runtime
from .compiled import compile as compile_derivation

TOLERANCE = {"numpy": 1e-10, "torch": 1e-10, "fd": 1e-6}
FLOOR = 1e-8
FD_FLOOR = 1e-3  # central differences carry absolute noise ~ eps |loss| / h: a near-zero group is judged against the loss
BATCHES = (1, 5, 32)
TRAINING_STEPS, TRAINING_TOLERANCE = 5, 1e-12
TRAINERS = {"numpy": numpy_training.train, "torch": torch_training.train}


@dataclass(frozen=True)
class Row:
    reference: str
    group: str
    error: float
    tolerance: float
    kink: str = ""  # finite differences straddle a kink here: their quotient mixes two slopes (not a gradient error)

    @property
    def ok(self) -> bool:
        return self.error <= self.tolerance or bool(self.kink)


@dataclass
class Report:
    rows: list[Row]
    absent: list[str]
    skipped: dict[str, str] = field(default_factory=dict)  # reference -> why (its estimated cost, past its bound)
    notes: list[str] = field(default_factory=list)  # where float64 and the exact trace sit on two sides of a kink

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def text(self) -> str:
        out = [f"{'against':8} {'group':24} {'max rel. error':>15} {'tolerance':>10}  result"]
        out += [f"{r.reference:8} {r.group:24} {r.error:15.3e} {r.tolerance:10.0e}  {_verdict(r)}" for r in self.rows]
        out += [f"{r.reference:8} {r.group:24} {r.kink}" for r in self.rows if r.kink and r.error > r.tolerance]
        out += self.notes
        out += [f"{name:8} {'(not installed: skipped)':24}" for name in self.absent]
        out += [f"{name:8} skipped: {why}" for name, why in self.skipped.items()]
        if any(r.error == float("inf") for r in self.rows):
            out.append("a value is not finite (inf or nan): float64 overflows at these values, which the exact"
                       " derivation (derive, verify) does not")
        out.append("all agree" if self.ok else "some gradients disagree")
        return "\n".join(out) + "\n"


def _verdict(r: Row) -> str:
    if r.error <= r.tolerance:
        return "ok"
    return "kink" if r.kink else "FAIL"


def kinked(model) -> set[str]:
    """The neurons whose activation has a kink (the function table states its convention there)."""
    return {n.name for n in model.neurons if function_table.ACTIVATIONS[n.activation].convention}


def straddled(runtime, params, X, indices, neurons: set[str]) -> str:
    """A kink the central difference of one of ``indices`` steps across (some z changes sign between
    p - h and p + h, or sits at 0), named; "" when none does."""
    for i in indices:
        h, up, down = _stepped(params, i)
        z_up, z_down = runtime.pre_activations(up, X), runtime.pre_activations(down, X)
        for n in sorted(neurons):
            crossing = np.flatnonzero(np.sign(z_up[n]) != np.sign(z_down[n]))
            if crossing.size:
                return (f"finite differences straddle a kink: z_{n} of example {crossing[0] + 1} changes sign between "
                        f"{runtime.names[i]} - h and + h (h = {h:.1e}), so their quotient mixes two slopes")
    return ""


def exact_against_float(derivation: Derivation, runtime, compiled) -> list[str]:
    """Where the exact trace's z of a kinked neuron is 0 at the file's examples but float64's is not (or
    the reverse, or the two have opposite signs): each slope taken there is a different side of the kink."""
    neurons = kinked(derivation.model)
    if not neurons or not derivation.model.examples:
        return []
    try:
        trace = derivation.trace(0)
    except InputError:  # too large to trace: nothing to say
        return []
    floats = runtime.pre_activations(compiled.initial, compiled.X)
    out = []
    for n in sorted(neurons):
        for k in range(len(derivation.model.examples)):
            exact = trace.values[Key(f"z_{n}", k + 1, 1)]
            got = float(floats[n][k])
            if int(sp.sign(exact)) != int(np.sign(got)):
                convention = function_table.ACTIVATIONS[derivation.model.neuron(n).activation].convention
                out.append(f"at a kink: z_{n} of example {k + 1} is {decimal(exact)} in the exact trace but {got:.3e} in "
                           "float64, so the compiled and reference gradients take the slope of that side there; the "
                           f"exact derivation takes {convention}")
    return out


def groups(model) -> dict[str, list[int]]:
    """Parameter indices by group: W<l>/b<l> for layered nets, else the neurons a parameter feeds."""
    index = {p: i for i, p in enumerate(model.parameters)}
    out: dict[str, list[int]] = {}
    layers = model.layers()
    if layers:
        for l, layer in enumerate(layers, start=1):
            for n in map(model.neuron, layer):
                out.setdefault(f"W{l}", []).extend(index[w] for w in n.weights)
                if n.bias:
                    out.setdefault(f"b{l}", []).append(index[n.bias])
        return out
    users: dict[str, list[str]] = {}
    for n in model.neurons:
        for p in model.parameters_of(n):
            users.setdefault(p, []).append(n.name)
    for p, ns in users.items():
        out.setdefault("neuron " + ", ".join(dict.fromkeys(ns)), []).append(index[p])
    return out


def cases(compiled, model, seed: int = 0):
    """(params, X, Y): the file's own examples, then seeded random batches."""
    rng = np.random.default_rng(seed)
    yield compiled.initial, compiled.X, compiled.Y
    for B in BATCHES:
        params = compiled.initial + rng.normal(0.0, 0.1, compiled.initial.shape)
        yield params, rng.normal(0.0, 1.0, (B, len(model.inputs))), random_targets(model.loss, rng, (B, len(model.outputs)))


def _stepped(params: np.ndarray, i: int) -> tuple[float, np.ndarray, np.ndarray]:
    """(h, params with p_i + h, with p_i - h): the central difference's two points."""
    h = 1e-6 * max(1.0, abs(params[i]))
    up, down = params.copy(), params.copy()
    up[i] += h
    down[i] -= h
    return h, up, down


def finite_differences(loss, params, X, Y) -> tuple[float, np.ndarray]:
    grad = np.empty_like(params)
    for i in range(len(params)):
        h, up, down = _stepped(params, i)
        grad[i] = (loss(up, X, Y) - loss(down, X, Y)) / (2 * h)
    return loss(params, X, Y), grad


def _error(got: np.ndarray, ref: np.ndarray, floor: float = FLOOR) -> float:
    """The relative error; infinite when either side is not finite (nan compares as nothing, so it
    must not pass as "no error")."""
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(ref))):
        return float("inf")
    return float(np.max(np.abs(got - ref)) / max(float(np.max(np.abs(ref))), floor))


def check(derivation: Derivation, against: str = "all", seed: int = 0, progress=None) -> Report:
    """Compare; against is numpy, torch, fd or all (all skips torch when it is not installed).
    ``progress(done, total)``, if given, is called after each comparison (a long check on a TTY)."""
    names = ("numpy", "torch", "fd") if against == "all" else (against,)
    if any(n not in TOLERANCE for n in names):
        raise InputError(f"unknown reference {against!r}; expected numpy, torch, fd or all", key="against")
    model = derivation.model
    skipped = {}
    if "fd" in names:  # priced before anything runs
        try:
            check_fd(model)
        except InputError as e:  # asked for by name: refused; as part of all: skipped, and the report says why
            if against == "fd":
                raise
            skipped["fd"] = e.what
            names = tuple(n for n in names if n != "fd")
    compiled = compile_derivation(derivation)
    runtime = Runtime(model)
    absent = []
    refs = {}
    for name in names:
        if name == "torch" and not torch_model.available():
            if against == "torch":
                torch_model.require("against")
            absent.append(name)
        elif name == "torch":
            refs[name] = torch_model.TorchModel(model)
        elif name == "numpy":
            refs[name] = runtime
        else:
            refs[name] = lambda p, X, Y: finite_differences(runtime.loss, p, X, Y)
    worst: dict[tuple[str, str], float] = {}
    kinks: dict[tuple[str, str], str] = {}
    with np.errstate(all="ignore"):  # an overflow is reported below, as a row that is not finite
        _compare(compiled, model, refs, worst, seed, progress, kinks, runtime)
    rows = [Row(name, g, e, TOLERANCE[name], kinks.get((name, g), "")) for (name, g), e in worst.items()]
    notes = exact_against_float(derivation, runtime, compiled)
    if compiled.optimizer is not None and any(name in TRAINERS for name in refs):
        with np.errstate(all="ignore"):
            rows += training_rows(compiled, model, [name for name in refs if name in TRAINERS])
        schedule = f" and {model.scheduler.name}" if model.scheduler else ""
        notes.append(f"steps: {TRAINING_STEPS} training steps of {compiled.optimizer}{schedule} from the file's parameters on"
                     " its examples, each reference's own run (float64; torch.optim itself for torch)")
    return Report(rows, absent, skipped, notes)


def trajectory(compiled, steps: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The compiled module's own training run: (each step's learning rate, the parameters after each
    step, each state quantity after each step), from init_state() on the file's examples."""
    params, state = compiled.initial, compiled.init_state()
    lrs, after, states = [], [], {name: [] for name in compiled.namespace["STATE"]}
    for _ in range(steps):
        lrs.append(state["lr"])
        params, state = compiled.step(params, state, compiled.X, compiled.Y)
        after.append(params)
        for name in states:
            states[name].append(state[name])
    return np.array(lrs), np.array(after), {name: np.array(v) for name, v in states.items()}


def training_rows(compiled, model, names: list[str]) -> list[Row]:
    """The compiled run against each reference's run: the worst relative error of the learning
    rates, of the parameters and of each state quantity (the trained parameters': frozen ones have none)."""
    lrs, after, states = trajectory(compiled, TRAINING_STEPS)
    trained = np.array([p in set(model.trained_parameters) for p in model.parameters])
    rows = []
    for name in names:
        ref = TRAINERS[name](model, TRAINING_STEPS)
        errors = {"steps: lr": _error(lrs, ref.lrs), "steps: parameters": _error(after, ref.after)}
        for k, got in states.items():
            if all(k in s for s in ref.states):
                expected = np.array([s[k] for s in ref.states])
                errors[f"steps: {k}"] = _error(got[:, trained], expected[:, trained])
        rows += [Row(name, g, e, TRAINING_TOLERANCE) for g, e in errors.items()]
    return rows


def _compare(compiled, model, refs: dict, worst: dict, seed: int, progress=None, kinks: dict | None = None,
             runtime=None) -> None:
    """The worst error per (reference, group) over the cases; ``kinks`` gets, per failing finite-difference
    group, the kink its differences straddled in every failing case (a failure with no kink is one)."""
    by_group, neurons = groups(model), kinked(model)
    unexplained: set[tuple[str, str]] = set()
    total, done = (1 + len(BATCHES)) * len(refs), 0
    for params, X, Y in cases(compiled, model, seed):
        value, grad = compiled(params, X, Y)
        for name, ref in refs.items():
            done += 1
            if progress is not None:
                progress(done, total)
            ref_value, ref_grad = ref(params, X, Y)
            floor = max(FLOOR, FD_FLOOR * max(1.0, abs(value))) if name == "fd" else FLOOR
            errors = {"loss": _error(np.array([value]), np.array([ref_value]), floor)}
            errors |= {g: _error(grad[idx], ref_grad[idx], floor) for g, idx in by_group.items()}
            for g, e in errors.items():
                worst[(name, g)] = max(worst.get((name, g), 0.0), e)
                if name == "fd" and g != "loss" and e > TOLERANCE["fd"] and kinks is not None:  # a difference quotient
                    cause = straddled(runtime, params, X, by_group.get(g, range(len(params))), neurons) if neurons else ""
                    if cause and (name, g) not in unexplained:
                        kinks.setdefault((name, g), cause)
                    else:
                        unexplained.add((name, g))
                        kinks.pop((name, g), None)
