"""``symbackprop bench``: compiled gradients against their peers, measured in one run.

Peers: the hand-written NumPy runtime, PyTorch autograd (CPU, float64), JAX
``jit(value_and_grad)`` (CPU, float64) and plain ``sympy.lambdify(..., cse=True)`` of the
flattened gradients, the naive baseline. A peer that is not installed, or lambdify on a net whose
build would take minutes, is reported as absent (None), never as an error. Times are the best of
five interleaved rounds of an adaptive number of calls, in microseconds per call (loss and full
gradient). The compiled function uses numba's fused loops when numba is installed (the first call
then compiles them: the "first call" column); the same module without numba, what ``symbackprop
compile`` exports by default, is timed beside it. Peak memory is measured alike for every peer.
"""

from __future__ import annotations

import ctypes
import os
import time
from functools import partial

import numpy as np
import sympy as sp

from . import torchref
from .compile import compile as compile_derivation
from .dense import dense
from .derive import derive
from .runtime import Runtime

NETS = ((2, 2, 1), (2, 4, 4, 1), (4, 16, 16, 1), (8, 32, 32, 4))
BATCHES = (1, 32, 1024, 65536)
QUICK_NETS, QUICK_BATCHES = NETS[:2], (1, 32)
LAMBDIFY_MAX_PARAMS = 400  # measured with cse: 4-16-16-1 (369 parameters) builds in 12 s, 8-32-32-4 not within 7 min
PEERS = ("numpy", "torch", "jax", "lambdify")


def _time(fns: dict, budget: float, rounds: int = 5) -> dict:
    """Microseconds per call for each callable: the best of interleaved rounds, so that load from
    other processes falls on every peer alike; each call count is fitted to the time budget."""
    counts = {}
    for name, fn in fns.items():
        fn()
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        counts[name] = int(min(max(budget / rounds / once, 1), 20000))
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(counts[name]):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / counts[name])
    return {name: t * 1e6 for name, t in best.items()}


def _threads() -> dict:
    """The thread settings the run had: on a shared machine, BLAS and torch threads that spin while
    another process holds the cores slow their peers by 10-50x, so say how the table was measured."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")
    out = {name: os.environ.get(name) for name in names}
    out["cpu_count"] = os.cpu_count()
    out["torch_threads"] = torchref.torch.get_num_threads() if torchref.available() else None
    return out


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def _peak_mib(fn, calls: int = 3) -> float | None:
    """Peak resident memory added by one call, in MiB, the least of a few calls; None where Linux's
    counters are not available. One method for every peer (tracemalloc sees neither torch's nor
    XLA's nor numba's allocations): freed heap goes back to the system first (malloc_trim), the
    high-water mark is reset (clear_refs), and the peak is VmHWM - VmRSS."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
        peaks = []
        for _ in range(calls):
            trim(0)
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before = _status_kib("VmRSS")
            if _status_kib("VmHWM") > before + 1024:  # the reset was accepted but not done: no figure
                return None
            fn()
            peaks.append(max(0, _status_kib("VmHWM") - before) / 1024)
        return min(peaks)
    except (OSError, AttributeError, StopIteration, ValueError):
        return None


def _torch_peer(model, params, X, Y):
    if not torchref.available():
        return None
    torch = torchref.torch
    tm = torchref.TorchModel(model)
    p = torch.tensor(params, dtype=torch.float64, requires_grad=True)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    loss = torchref.LOSSES[model.loss]

    def run():
        p.grad = None
        value = loss(Yt, tm.forward(p, Xt)).mean()
        value.backward()
        return value, p.grad

    return run


def _jax_peer(model, layers, params, X, Y):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    index = {p: i for i, p in enumerate(model.parameters)}
    Ws = [np.array([[index[w] for w in model.neuron(n).weights] for n in layer]) for layer in layers]
    bs = [np.array([index[model.neuron(n).bias] for n in layer]) for layer in layers]

    def loss(p, X, Y):
        A = X
        for l, (W, b) in enumerate(zip(Ws, bs)):
            Z = A @ p[W].T + p[b]
            A = jnp.maximum(Z, 0.0) if l < len(Ws) - 1 else Z
        return jnp.mean(jnp.mean((A - Y) ** 2, axis=1))

    f = jax.jit(jax.value_and_grad(loss))
    pj, Xj, Yj = jnp.asarray(params), jnp.asarray(X), jnp.asarray(Y)
    return lambda: jax.block_until_ready(f(pj, Xj, Yj))


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


def bench(quick: bool = False, budget: float | None = None) -> dict:
    """The table as data: one dict per net (one-time costs) and one per (net, batch) cell."""
    budget = budget if budget is not None else (0.02 if quick else 0.25)
    nets, batches = (QUICK_NETS, QUICK_BATCHES) if quick else (NETS, BATCHES)
    rng = np.random.default_rng(0)
    out = {"nets": [], "rows": [], "unit": "microseconds per call (loss and full gradient)", "threads": _threads()}
    for sizes in nets:
        name = "-".join(map(str, sizes))
        model = dense(list(sizes), activation="relu", output_activation="identity", loss="mse", seed=1)
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
            X, Y = rng.normal(size=(B, sizes[0])), rng.normal(size=(B, sizes[-1]))
            fns = {"compiled": partial(compiled, params, X, Y),
                   "numpy_only": partial(module, params, X, Y) if module else None,
                   "numpy": partial(runtime, params, X, Y),
                   "torch": _torch_peer(model, params, X, Y), "jax": _jax_peer(model, model.layers, params, X, Y),
                   "lambdify": partial(lam, params, X, Y) if lam else None}
            measured = _time({k: f for k, f in fns.items() if f is not None}, budget)
            times = {k: measured.get(k) for k in fns}
            peers = {k: times[k] for k in PEERS if times[k] is not None}
            fastest = min(peers, key=peers.get)
            only = times["numpy_only"]
            out["rows"].append({
                "net": name, "batch": B, **{f"{k}_us": v for k, v in times.items()},
                "fastest_peer": fastest, "speedup_vs_fastest_peer": peers[fastest] / times["compiled"],
                "numpy_only_speedup": peers[fastest] / only if only else None,
                **{f"{k}_peak_mib": _peak_mib(f) if f is not None else None for k, f in fns.items()},
            })
    return out


def render(table: dict) -> str:
    def us(v):
        return f"{v:10.1f}" if v is not None else f"{'absent':>10}"

    threads = ", ".join(f"{k}={v}" for k, v in table["threads"].items() if v is not None)
    lines = [f"times in {table['unit']}; speedup = fastest peer / compiled (> 1: compiled is faster)",
             "no numba: the same module compiled without numba (what `symbackprop compile` exports by default),"
             " and its speedup",
             f"threads: {threads}", "",
             f"{'net':10} {'B':>6} {'compiled':>10} {'numpy':>10} {'torch':>10} {'jax':>10} {'lambdify':>10}"
             f" {'speedup':>8} {'vs':>8} {'no numba':>10} {'speedup':>8}"]
    for r in table["rows"]:
        only = f"{r['numpy_only_speedup']:8.2f}" if r["numpy_only_speedup"] else f"{'':8}"
        lines.append(f"{r['net']:10} {r['batch']:6d} {us(r['compiled_us'])} {us(r['numpy_us'])} {us(r['torch_us'])}"
                     f" {us(r['jax_us'])} {us(r['lambdify_us'])} {r['speedup_vs_fastest_peer']:8.2f}"
                     f" {r['fastest_peer']:>8} {us(r['numpy_only_us'])} {only}")

    def mib(r, k):
        if r[f"{k}_us"] is None:
            return f"{'absent':>10}"
        return f"{r[f'{k}_peak_mib']:10.2f}" if r[f"{k}_peak_mib"] is not None else f"{'n/a':>10}"

    lines += ["", "peak resident memory added by one call, MiB (Linux VmHWM after malloc_trim; least of three calls;"
              " n/a: counters not readable here)",
              f"{'net':10} {'B':>6} {'compiled':>10} {'numpy':>10} {'torch':>10} {'jax':>10} {'lambdify':>10} {'no numba':>10}"]
    for r in table["rows"]:
        lines.append(f"{r['net']:10} {r['batch']:6d} " + " ".join(mib(r, k) for k in ("compiled", *PEERS, "numpy_only")))
    lines += ["", f"{'net':10} {'params':>7} {'derive s':>9} {'compile s':>10} {'first call s':>13} {'lambdify build s':>17}  numba"]
    for n in table["nets"]:
        lam = f"{n['lambdify_build_s']:17.2f}" if n["lambdify_build_s"] is not None else f"{'skipped':>17}"
        lines.append(f"{n['net']:10} {n['parameters']:7d} {n['derive_s']:9.2f} {n['compile_s']:10.2f} {n['first_call_s']:13.2f}"
                     f" {lam}  {'yes' if n['numba'] else 'no'}")
    return "\n".join(lines) + "\n"


# -- symbackprop bench --parallel: the compiled averaged step against a real torch.distributed run ----------
PARALLEL_WORKERS, QUICK_PARALLEL_WORKERS = (1, 2, 4), (1, 2)
PARALLEL_STEPS, QUICK_PARALLEL_STEPS = 200, 20
SEED_EXAMPLES = [(["0.2", "0.1", "0.4"], ["1.0"]), (["0.5", "-0.3", "0.8"], ["0.0"])]  # seed003_two_gpus.toml's


def _examples(inputs: int, outputs: int, n: int, seed: int, first=()) -> list:
    """``first``, then examples of two-decimal values drawn from a seeded generator, up to n."""
    rng = np.random.default_rng(seed)
    drawn = [([f"{v:.2f}" for v in rng.uniform(-1, 1, inputs)], [f"{v:.2f}" for v in rng.uniform(-1, 1, outputs)])
             for _ in range(n - len(first))]
    return [*first, *drawn]


def parallel_nets(quick: bool = False) -> list[tuple[str, object]]:
    """The seed's two-GPU network (derivations/seed003_two_gpus.toml is dense([3, 4, 4, 1]) seed 4)
    with its two examples and six drawn, so that four workers get two each; and dense 4-16-16-1
    (MSE, the table's other nets) with 64 examples."""
    seed = dense([3, 4, 4, 1], activation="relu", output_activation="identity", seed=4,
                 examples=_examples(3, 1, 8, 3, SEED_EXAMPLES), title="seed003 two GPUs, 8 examples")
    nets = [("seed003-3-4-4-1", seed)]
    if not quick:
        nets.append(("4-16-16-1", dense([4, 16, 16, 1], activation="relu", output_activation="identity", loss="mse",
                                        seed=1, examples=_examples(4, 1, 64, 5))))
    return nets


def bench_parallel(quick: bool = False, budget: float | None = None, steps: int | None = None) -> dict:
    """Time per step: the compiled averaged step in one process against K torch.distributed ranks."""
    from . import distributed

    budget = budget if budget is not None else (0.02 if quick else 0.25)
    steps = steps or (QUICK_PARALLEL_STEPS if quick else PARALLEL_STEPS)
    workers = QUICK_PARALLEL_WORKERS if quick else PARALLEL_WORKERS
    out = {"rows": [], "unit": "microseconds per training step (all workers' gradients, averaged, and the update)",
           "steps": steps, "threads": _threads()}
    for name, model in parallel_nets(quick):
        compiled = compile_derivation(derive(model))
        params = compiled.initial
        base = {}
        for K in workers:
            shards = compiled.split(compiled.X, compiled.Y, K)
            compiled_us = _time({"compiled": partial(compiled.averaged_step, params, shards)}, budget)["compiled"]
            autograd_us = _time({"torch": partial(torchref.TorchModel(model), params, *shards[0])}, budget)["torch"]
            timings: dict = {}
            start = time.perf_counter()
            distributed.run(model, K, steps, timeout=120, timings=timings)
            run_s = time.perf_counter() - start
            dist_us = max(timings.values()) * 1e6  # the slowest rank's median step; all-reduce keeps them in step
            base.setdefault("compiled", compiled_us)
            base.setdefault("distributed", dist_us)
            out["rows"].append({
                "net": name, "parameters": len(model.parameters), "examples": len(model.examples), "workers": K,
                "compiled_us": compiled_us, "distributed_us": dist_us, "ratio": dist_us / compiled_us,
                "rank_autograd_us": autograd_us,
                "compiled_growth": compiled_us / base["compiled"], "distributed_growth": dist_us / base["distributed"],
                "distributed_run_s": run_s,
            })
    return out


def render_parallel(table: dict) -> str:
    threads = ", ".join(f"{k}={v}" for k, v in table["threads"].items() if v is not None)
    lines = [f"times in {table['unit']}",
             "compiled: averaged_step over K shards in one process; distributed: K processes (gloo, 127.0.0.1),"
             f" the median step inside each rank's loop, steps 2..{table['steps']} (start and warm-up excluded)",
             "ratio = distributed / compiled; growth = time at K / time at K = 1;"
             " autograd: one rank's shard gradient alone (torch, in this process, no communication)",
             f"threads: {threads}", "",
             f"{'net':16} {'params':>6} {'B':>4} {'K':>3} {'compiled':>10} {'distributed':>12} {'ratio':>8}"
             f" {'compiled growth':>16} {'distributed growth':>19} {'autograd':>9} {'run s':>6}"]
    for r in table["rows"]:
        lines.append(f"{r['net']:16} {r['parameters']:6d} {r['examples']:4d} {r['workers']:3d} {r['compiled_us']:10.1f}"
                     f" {r['distributed_us']:12.1f} {r['ratio']:8.1f} {r['compiled_growth']:16.2f}"
                     f" {r['distributed_growth']:19.2f} {r['rank_autograd_us']:9.1f} {r['distributed_run_s']:6.1f}")
    return "\n".join(lines) + "\n"
