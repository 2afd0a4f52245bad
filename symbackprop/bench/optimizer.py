"""``symbackprop bench --optimizer``: one Adam training step of the compiled module against
torch.optim.Adam on the same net, measured in one run.

A step is the batch gradient and the optimizer's update: the compiled module's ``step(params,
state, X, Y)`` (numba's loops where installed, and the numpy-only module beside it), against the
PyTorch code people write: an ``nn.Sequential`` of ``nn.Linear`` and ``nn.Tanh`` in float64,
``zero_grad``, ``F.mse_loss``, ``backward`` and ``torch.optim.Adam.step``. The update alone is timed
too: the module's ``_optimize`` at a given gradient against ``optimizer.step()`` with the gradients
in place. Best of five interleaved rounds, microseconds per call (timing.py).
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from ..compiler.compiled import compile as compile_derivation
from ..compiler.compiled import numba_available
from ..core.dense import dense
from ..core.derivation import derive
from ..reference import torch_model
from .timing import thread_settings, time_calls

NETS = ((4, 16, 16, 1), (8, 32, 32, 4))  # tanh hidden layers, identity outputs, mse
BATCHES = (1, 32, 1024)
QUICK_NETS, QUICK_BATCHES = ((2, 4, 4, 1),), (1, 32)
OPTIMIZER = {"name": "Adam"}  # torch's defaults: betas (0.9, 0.999), eps 1e-8; lr 0.001 (the model's)


def model(sizes: tuple[int, ...]):
    return dense(list(sizes), "tanh", output_activation="identity", loss="mse", seed=0, learning_rate="0.001",
                 optimizer=OPTIMIZER)


def _torch_step(torch, sizes, params: np.ndarray, X: np.ndarray, Y: np.ndarray):
    """(one training step, the optimizer's step alone) of nn.Sequential with torch.optim.Adam, the net
    holding the same parameters as the module (dense() order: each neuron's weights, then its bias)."""
    layers, at = [], 0
    for l, (fan_in, width) in enumerate(zip(sizes, sizes[1:])):
        linear = torch.nn.Linear(fan_in, width, dtype=torch.float64)
        block = params[at:at + width * (fan_in + 1)].reshape(width, fan_in + 1)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(block[:, :fan_in].copy()))
            linear.bias.copy_(torch.from_numpy(block[:, fan_in].copy()))
        at += width * (fan_in + 1)
        layers += [linear, torch.nn.Tanh()] if l < len(sizes) - 2 else [linear]
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=0.001)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    mse = torch.nn.functional.mse_loss

    def step():
        opt.zero_grad()
        loss = mse(net(Xt), Yt)
        loss.backward()
        opt.step()
        return loss

    step()  # the gradients are in place for the optimizer's step alone
    return step, opt.step


def bench_optimizer(quick: bool = False, budget: float | None = None) -> dict:
    """Microseconds per Adam step, compiled and torch, per net and batch size."""
    budget = budget if budget is not None else (0.02 if quick else 0.3)
    torch = torch_model.torch_module() if torch_model.available() else None
    out = {"rows": [], "unit": "microseconds per call", "numba": numba_available(), "threads": thread_settings()}
    rng = np.random.default_rng(0)
    for sizes in QUICK_NETS if quick else NETS:
        m = model(sizes)
        d = derive(m)
        start = time.perf_counter()
        fast = compile_derivation(d)
        compile_s = time.perf_counter() - start
        plain = compile_derivation(d, numba=False)
        for B in QUICK_BATCHES if quick else BATCHES:
            X, Y = rng.normal(size=(B, sizes[0])), rng.normal(size=(B, sizes[-1]))
            params, state = fast.initial, fast.init_state()
            start = time.perf_counter()
            fast.step(params, state, X, Y)  # numba compiles its loops at the first call
            first_s = time.perf_counter() - start
            grad = fast.loss_and_grad(params, X, Y)[1]
            fns = {"compiled": partial(fast.step, params, state, X, Y), "no numba": partial(plain.step, params, state, X, Y),
                   "compiled update": partial(fast.namespace["_optimize"], params, grad, state),
                   "no numba update": partial(plain.namespace["_optimize"], params, grad, state)}
            if torch is not None:
                fns["torch"], fns["torch update"] = _torch_step(torch, sizes, params, X, Y)
            times = time_calls(fns, budget)
            row = {"net": "-".join(map(str, sizes)), "parameters": len(m.parameters), "batch": B,
                   "compile_s": compile_s, "first_call_s": first_s, **{k.replace(" ", "_") + "_us": v for k, v in times.items()}}
            row["torch_us"], row["torch_update_us"] = times.get("torch"), times.get("torch update")
            for k in ("", "_update"):
                torch_us = row[f"torch{k}_us"]
                row[f"speedup{k}"] = None if torch_us is None else torch_us / row[f"compiled{k}_us"]
                row[f"no_numba_speedup{k}"] = None if torch_us is None else torch_us / row[f"no_numba{k}_us"]
            out["rows"].append(row)
    return out


def _cell(value, form: str) -> str:
    return "absent" if value is None else format(value, form)


def render_optimizer(table: dict) -> str:
    threads = ", ".join(f"{k}={v}" for k, v in table["threads"].items() if v is not None)
    lines = [f"Adam, one training step (batch gradient and update) and the update alone; {table['unit']}",
             "compiled: the module's step(params, state, X, Y)" + (" (numba)" if table["numba"] else " (numba absent)")
             + "; no numba: the exported numpy-only module; torch: nn.Sequential float64, zero_grad, mse_loss, backward,"
             " torch.optim.Adam.step; speedup = torch / compiled", f"threads: {threads}", "",
             f"{'net':12} {'params':>6} {'B':>5} {'compiled':>9} {'no numba':>9} {'torch':>9} {'speedup':>8}"
             f" {'(no numba)':>10} {'update':>7} {'no numba':>9} {'torch':>7} {'speedup':>8} {'(no numba)':>10}"]
    for r in table["rows"]:
        lines.append(f"{r['net']:12} {r['parameters']:6d} {r['batch']:5d} {r['compiled_us']:9.1f} {r['no_numba_us']:9.1f}"
                     f" {_cell(r['torch_us'], '9.1f')} {_cell(r['speedup'], '8.2f')} {_cell(r['no_numba_speedup'], '10.2f')}"
                     f" {r['compiled_update_us']:7.1f} {r['no_numba_update_us']:9.1f} {_cell(r['torch_update_us'], '7.1f')}"
                     f" {_cell(r['speedup_update'], '8.2f')} {_cell(r['no_numba_speedup_update'], '10.2f')}")
    return "\n".join(lines) + "\n"
