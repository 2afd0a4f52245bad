"""``symbackprop bench``: compiled gradients against their peers, measured in one run.

Peers: the hand-written NumPy runtime, PyTorch autograd (CPU, float64), JAX
``jit(value_and_grad)`` (CPU, float64) and plain ``sympy.lambdify(..., cse=True)`` of the
flattened gradients, the naive baseline. A peer that is not installed, or lambdify on a net whose
build would take minutes, is reported as absent (None), never as an error. Times are the best of
five interleaved rounds of an adaptive number of calls, in microseconds per call (loss and full
gradient). The compiled function uses numba's fused loops when numba is installed (the first call
then compiles them: the "first call" column); the same module without numba, what ``symbackprop
compile`` exports by default, is timed beside it. Peak memory is measured alike for every peer.
The nets: dense relu nets with identity outputs under mse (the default run adds big_nets.py's two,
784-64-10 and 784-128-64-10, with their one-time costs and peak memory), and a classifier (``8-32-32-4 ce``:
tanh hidden layers, softmax outputs, cross-entropy against one-hot targets), each peer with its own
stable softmax (torch's and JAX's cross-entropy of the logits).
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
import sympy as sp

from ..compiler.compiled import compile as compile_derivation
from ..core.dense import dense
from ..core.derivation import derive
from ..reference.numpy_runtime import Runtime
from . import big_nets
from .peers import Net, jax_peer, torch_peer
from .timing import peak_mib, thread_settings, time_calls

NETS = (Net((2, 2, 1)), Net((2, 4, 4, 1)), Net((4, 16, 16, 1)), Net((8, 32, 32, 4)),
        Net((8, 32, 32, 4), "tanh", "softmax", "cross_entropy", "ce"))  # tanh hidden, softmax, cross-entropy
BATCHES = (1, 32, 1024, 65536)
QUICK_NETS, QUICK_BATCHES = NETS[:2], (1, 32)
LAMBDIFY_MAX_PARAMS = 400  # measured with cse: 4-16-16-1 (369 parameters) builds in 12 s, 8-32-32-4 not within 7 min
PEERS = ("numpy", "torch", "jax", "lambdify")


def _lambdify_peer(d):
    """Plain lambdify of the per-example loss and flattened gradients, averaged over the batch."""
    m = d.model
    args = [d.symbols[p] for p in m.parameters] + [d.symbols[x] for x in m.inputs] + [d.targets[o] for o in m.outputs]
    exprs = [d.composed] + [d.gradient(p, "flat") for p in m.parameters]
    f = sp.lambdify(args, exprs, modules="numpy", cse=True)

    def call(params, X, Y):
        out = f(*params, *X.T, *Y.T)
        return np.mean(out[0]), np.array([np.mean(g) for g in out[1:]])

    return call


def bench(quick: bool = False, budget: float | None = None, nets=None, batches=None, big: bool | None = None) -> dict:
    """The table as data: one dict per net (one-time costs) and one per (net, batch) cell; ``big``
    (the default run's, not --quick's nor one given ``nets``): big_nets.py's section, dense 784-64-10 and
    784-128-64-10."""
    big = (not quick and nets is None) if big is None else big
    budget = budget if budget is not None else (0.02 if quick else 0.25)
    nets = nets or (QUICK_NETS if quick else NETS)
    batches = batches or (QUICK_BATCHES if quick else BATCHES)
    rng = np.random.default_rng(0)
    out = {"nets": [], "rows": [], "unit": "microseconds per call (loss and full gradient)", "threads": thread_settings()}
    for net in nets:
        name, sizes = net.name, net.sizes
        model = dense(list(sizes), activation=net.activation, output_activation=net.output, loss=net.loss, seed=1)
        start = time.perf_counter()
        d = derive(model)
        derive_s = time.perf_counter() - start
        start = time.perf_counter()
        compiled = compile_derivation(d)
        compile_s = time.perf_counter() - start
        module = compile_derivation(d, numba=False) if "import numba" in compiled.source else None
        lam, lam_s = None, None
        if len(model.parameters) <= LAMBDIFY_MAX_PARAMS:
            start = time.perf_counter()
            lam = _lambdify_peer(d)
            lam_s = time.perf_counter() - start
        start = time.perf_counter()
        compiled(compiled.initial, np.zeros((2, sizes[0])), np.zeros((2, sizes[-1])))
        first_call_s = time.perf_counter() - start  # numba's just-in-time compilation, when it is used
        out["nets"].append({"net": name, "parameters": len(model.parameters), "derive_s": derive_s,
                            "compile_s": compile_s, "first_call_s": first_call_s, "lambdify_build_s": lam_s,
                            "numba": "import numba" in compiled.source})
        runtime, params = Runtime(model), compiled.initial
        for B in batches:
            X, Y = rng.normal(size=(B, sizes[0])), net.targets(rng, B)
            fns = {"compiled": partial(compiled, params, X, Y),
                   "numpy_only": partial(module, params, X, Y) if module else None,
                   "numpy": partial(runtime, params, X, Y),
                   "torch": torch_peer(model, params, X, Y), "jax": jax_peer(model, model.layers(), params, X, Y),
                   "lambdify": partial(lam, params, X, Y) if lam else None}
            measured = time_calls({k: f for k, f in fns.items() if f is not None}, budget)
            times = {k: measured.get(k) for k in fns}
            peers = {k: times[k] for k in PEERS if times[k] is not None}
            fastest = min(peers, key=peers.get)
            only = times["numpy_only"]
            out["rows"].append({
                "net": name, "batch": B, **{f"{k}_us": v for k, v in times.items()},
                "fastest_peer": fastest, "speedup_vs_fastest_peer": peers[fastest] / times["compiled"],
                "numpy_only_speedup": peers[fastest] / only if only else None,
                **{f"{k}_peak_mib": peak_mib(f) if f is not None else None for k, f in fns.items()},
            })
    out["big"] = big_nets.bench_big(budget=budget) if big else None
    return out


def render(table: dict) -> str:
    def us(v):
        return f"{v:10.1f}" if v is not None else f"{'absent':>10}"

    threads = ", ".join(f"{k}={v}" for k, v in table["threads"].items() if v is not None)
    lines = [f"times in {table['unit']}; speedup = fastest peer / compiled (> 1: compiled is faster)",
             "no numba: the same module compiled without numba (what `symbackprop compile` exports by default),"
             " and its speedup",
             f"threads: {threads}", "",
             f"{'net':12} {'B':>6} {'compiled':>10} {'numpy':>10} {'torch':>10} {'jax':>10} {'lambdify':>10}"
             f" {'speedup':>8} {'vs':>8} {'no numba':>10} {'speedup':>8}"]
    for r in table["rows"]:
        only = f"{r['numpy_only_speedup']:8.2f}" if r["numpy_only_speedup"] else f"{'':8}"
        lines.append(f"{r['net']:12} {r['batch']:6d} {us(r['compiled_us'])} {us(r['numpy_us'])} {us(r['torch_us'])}"
                     f" {us(r['jax_us'])} {us(r['lambdify_us'])} {r['speedup_vs_fastest_peer']:8.2f}"
                     f" {r['fastest_peer']:>8} {us(r['numpy_only_us'])} {only}")

    def mib(r, k):
        if r[f"{k}_us"] is None:
            return f"{'absent':>10}"
        return f"{r[f'{k}_peak_mib']:10.2f}" if r[f"{k}_peak_mib"] is not None else f"{'n/a':>10}"

    lines += ["", "peak resident memory added by one call, MiB (Linux VmHWM after malloc_trim; least of three calls;"
              " n/a: counters not readable here)",
              f"{'net':12} {'B':>6} {'compiled':>10} {'numpy':>10} {'torch':>10} {'jax':>10} {'lambdify':>10} {'no numba':>10}"]
    for r in table["rows"]:
        lines.append(f"{r['net']:12} {r['batch']:6d} " + " ".join(mib(r, k) for k in ("compiled", *PEERS, "numpy_only")))
    lines += ["", f"{'net':12} {'params':>7} {'derive s':>9} {'compile s':>10} {'first call s':>13} {'lambdify build s':>17}  numba"]
    for n in table["nets"]:
        lam = f"{n['lambdify_build_s']:17.2f}" if n["lambdify_build_s"] is not None else f"{'skipped':>17}"
        lines.append(f"{n['net']:12} {n['parameters']:7d} {n['derive_s']:9.2f} {n['compile_s']:10.2f} {n['first_call_s']:13.2f}"
                     f" {lam}  {'yes' if n['numba'] else 'no'}")
    text = "\n".join(lines) + "\n"
    return text + "\n" + big_nets.render_big(table["big"]) if table.get("big") else text
