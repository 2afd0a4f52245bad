"""``symbackprop check``: the compiled gradients against the NumPy runtime, PyTorch and finite differences.

Each reference is evaluated on the file's own examples at its initial parameters and on seeded
random batches (B = 1, 5, 32) at perturbed parameters. Per parameter group (a layer's weights or
biases; a neuron's weights in a hand-written graph) the error is the largest absolute difference
divided by the group's largest reference gradient (or by 1e-8 when the whole group is smaller;
against finite differences by 1e-3 max(1, |loss|), their absolute noise being of order eps |loss| / h);
the loss is compared the same way. TOLERANCE holds the documented limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.derivation import Derivation
from ..core.errors import InputError
from ..core.limits import check_fd
from ..reference import torch_model
from ..reference.numpy_runtime import Runtime
from .compiled import compile as compile_derivation

TOLERANCE = {"numpy": 1e-10, "torch": 1e-10, "fd": 1e-6}
FLOOR = 1e-8
FD_FLOOR = 1e-3  # central differences carry absolute noise ~ eps |loss| / h: a near-zero group is judged against the loss
BATCHES = (1, 5, 32)


@dataclass(frozen=True)
class Row:
    reference: str
    group: str
    error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.error <= self.tolerance


@dataclass
class Report:
    rows: list[Row]
    absent: list[str]
    skipped: dict[str, str] = field(default_factory=dict)  # reference -> why (its estimated cost, past its bound)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def text(self) -> str:
        out = [f"{'against':8} {'group':24} {'max rel. error':>15} {'tolerance':>10}  result"]
        out += [f"{r.reference:8} {r.group:24} {r.error:15.3e} {r.tolerance:10.0e}  {'ok' if r.ok else 'FAIL'}" for r in self.rows]
        out += [f"{name:8} {'(not installed: skipped)':24}" for name in self.absent]
        out += [f"{name:8} skipped: {why}" for name, why in self.skipped.items()]
        if any(r.error == float("inf") for r in self.rows):
            out.append("a value is not finite (inf or nan): float64 overflows at these values, which the exact"
                       " derivation (derive, verify) does not")
        out.append("all agree" if self.ok else "some gradients disagree")
        return "\n".join(out) + "\n"


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
        yield params, rng.normal(0.0, 1.0, (B, len(model.inputs))), rng.normal(0.0, 1.0, (B, len(model.outputs)))


def finite_differences(loss, params, X, Y) -> tuple[float, np.ndarray]:
    grad = np.empty_like(params)
    for i in range(len(params)):
        h = 1e-6 * max(1.0, abs(params[i]))
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
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
    with np.errstate(all="ignore"):  # an overflow is reported below, as a row that is not finite
        _compare(compiled, model, refs, worst, seed, progress)
    rows = [Row(name, g, e, TOLERANCE[name]) for (name, g), e in worst.items()]
    return Report(rows, absent, skipped)


def _compare(compiled, model, refs: dict, worst: dict, seed: int, progress=None) -> None:
    by_group = groups(model)
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
