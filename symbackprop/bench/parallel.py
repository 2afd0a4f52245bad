"""``symbackprop bench --parallel``: the compiled averaged step against a real torch.distributed run."""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from ..compiler.compiled import compile as compile_derivation
from ..core.dense import dense
from ..core.derivation import derive
from ..parallel import distributed
from ..reference import torch_model
from .timing import thread_settings, time_calls

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
    budget = budget if budget is not None else (0.02 if quick else 0.25)
    steps = steps or (QUICK_PARALLEL_STEPS if quick else PARALLEL_STEPS)
    workers = QUICK_PARALLEL_WORKERS if quick else PARALLEL_WORKERS
    out = {"rows": [], "unit": "microseconds per training step (all workers' gradients, averaged, and the update)",
           "steps": steps, "threads": thread_settings()}
    for name, model in parallel_nets(quick):
        compiled = compile_derivation(derive(model))
        params = compiled.initial
        base = {}
        for K in workers:
            shards = compiled.split(compiled.X, compiled.Y, K)
            compiled_us = time_calls({"compiled": partial(compiled.averaged_step, params, shards)}, budget)["compiled"]
            autograd_us = time_calls({"torch": partial(torch_model.TorchModel(model), params, *shards[0])}, budget)["torch"]
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
