"""The default bench's big nets: dense 784-64-10 and 784-128-64-10 (relu, identity outputs, mse).

For each, one fresh process (after a warm-up on a small net, so that imports and SymPy's first
calls are not counted) times ``dense()``, ``derive()``, ``compile()`` and the first call at B = 1,
and reads the process's peak resident memory (Linux VmHWM: the whole process, the interpreter
and its imports included; ``added`` is the part over its resident size just before ``dense()``).
Not tracemalloc: it sees neither numpy's nor numba's allocations, and it slows SymPy down 2-3x.
Then, in the bench's own process, the compiled call is timed against the NumPy runtime, PyTorch
autograd and JAX at B = 1, 64, 1024, interleaved best-of-rounds as the rest of the bench.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial

import numpy as np

from ..compiler.compiled import compile as compile_derivation
from ..core.dense import dense
from ..core.derivation import derive
from ..reference.numpy_runtime import Runtime
from .peers import Net, jax_peer, torch_peer
from .timing import peak_mib, time_calls

BIG_NETS = (Net((784, 64, 10)), Net((784, 128, 64, 10)))
BIG_BATCHES = (1, 64, 1024)
PEERS = ("numpy", "torch", "jax")

_PROBE = """
import json, sys, time
import numpy as np
import symbackprop
from symbackprop.bench.timing import reset_peak, resident_mib

spec = json.loads(sys.argv[1])
warm = symbackprop.compile(symbackprop.derive(symbackprop.dense([3, 3, 1], seed=9)))
warm(warm.initial, warm.X, warm.Y)
warm(warm.initial, np.zeros((64, 3)), np.zeros((64, 1)))
reset = reset_peak()
before = resident_mib()
t0 = time.perf_counter()
model = symbackprop.dense(spec["sizes"], activation=spec["activation"], output_activation=spec["output"],
                          loss=spec["loss"], seed=1)
t1 = time.perf_counter()
d = symbackprop.derive(model)
t2 = time.perf_counter()
f = symbackprop.compile(d)
t3 = time.perf_counter()
f(f.initial, np.zeros((1, spec["sizes"][0])), np.zeros((1, spec["sizes"][-1])))
t4 = time.perf_counter()
after = resident_mib()
print(json.dumps({"parameters": len(model.parameters), "dense_s": t1 - t0, "derive_s": t2 - t1, "compile_s": t3 - t2,
                  "first_call_s": t4 - t3, "numba": "import numba" in f.source, "module_bytes": len(f.source),
                  "peak_mib": after[1] if after else None,
                  "added_mib": after[1] - before[0] if after and reset else None}))
"""


def one_time(net: Net) -> dict:
    """dense(), derive(), compile() and the first call of one net, in a fresh process, with its peak memory."""
    spec = {"sizes": list(net.sizes), "activation": net.activation, "output": net.output, "loss": net.loss}
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(spec)], capture_output=True, text=True, check=True)
    return {"net": net.name, **json.loads(out.stdout.strip().splitlines()[-1])}


def bench_big(nets=None, batches=None, budget: float = 0.25) -> dict:
    """One-time costs per net and, per (net, batch), the call times with their ratios to each peer
    (default: BIG_NETS at BIG_BATCHES)."""
    rng = np.random.default_rng(0)
    out = {"nets": [], "rows": []}
    for net in nets or BIG_NETS:
        out["nets"].append(one_time(net))
        model = dense(list(net.sizes), activation=net.activation, output_activation=net.output, loss=net.loss, seed=1)
        compiled = compile_derivation(derive(model))
        runtime, params = Runtime(model), compiled.initial
        for B in batches or BIG_BATCHES:
            X, Y = rng.normal(size=(B, net.sizes[0])), net.targets(rng, B)
            fns = {"compiled": partial(compiled, params, X, Y), "numpy": partial(runtime, params, X, Y),
                   "torch": torch_peer(model, params, X, Y), "jax": jax_peer(model, model.layers(), params, X, Y)}
            times = {k: None for k in fns} | time_calls({k: f for k, f in fns.items() if f is not None}, budget)
            peers = {k: times[k] for k in PEERS if times[k] is not None}
            fastest = min(peers, key=peers.get)
            out["rows"].append({
                "net": net.name, "batch": B, **{f"{k}_us": v for k, v in times.items()},
                **{f"vs_{k}": (times[k] / times["compiled"] if times[k] is not None else None) for k in PEERS},
                "fastest_peer": fastest, "speedup_vs_fastest_peer": peers[fastest] / times["compiled"],
                **{f"{k}_peak_mib": peak_mib(f) if f is not None else None for k, f in fns.items()},
            })
    return out


def render_big(table: dict) -> str:
    def num(v, width, digits=1):
        return f"{v:{width}.{digits}f}" if v is not None else f"{'absent':>{width}}"

    lines = ["big nets, one-time costs (a fresh process; peak: its resident high-water mark, VmHWM, imports included;"
             " added: over its resident size before dense())",
             f"{'net':14} {'params':>7} {'dense s':>8} {'derive s':>9} {'compile s':>10} {'first call s':>13}"
             f" {'peak MiB':>9} {'added MiB':>10}  numba"]
    for n in table["nets"]:
        lines.append(f"{n['net']:14} {n['parameters']:7d} {n['dense_s']:8.2f} {n['derive_s']:9.2f} {n['compile_s']:10.2f}"
                     f" {n['first_call_s']:13.2f} {num(n['peak_mib'], 9)} {num(n['added_mib'], 10)}"
                     f"  {'yes' if n['numba'] else 'no'}")
    lines += ["", "big nets, calls in microseconds (loss and full gradient); vs: the peer's time over the compiled one"
              " (> 1: compiled is faster); peak: resident memory one call adds, MiB",
              f"{'net':14} {'B':>5} {'compiled':>9} {'numpy':>9} {'torch':>9} {'jax':>9} {'vs numpy':>9} {'vs torch':>9}"
              f" {'vs jax':>7} {'peak':>6} {'numpy':>6} {'torch':>6} {'jax':>6}"]
    for r in table["rows"]:
        lines.append(f"{r['net']:14} {r['batch']:5d} {num(r['compiled_us'], 9)} {num(r['numpy_us'], 9)}"
                     f" {num(r['torch_us'], 9)} {num(r['jax_us'], 9)} {num(r['vs_numpy'], 9, 2)} {num(r['vs_torch'], 9, 2)}"
                     f" {num(r['vs_jax'], 7, 2)} " + " ".join(num(r[f"{k}_peak_mib"], 6) for k in ("compiled", *PEERS)))
    return "\n".join(lines) + "\n"
