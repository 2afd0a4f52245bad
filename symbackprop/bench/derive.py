"""The one-time cost of deriving: time and peak memory per network, per parameter.

Each network is derived in a fresh process (after a warm-up on another network), so SymPy's
cache holds nothing of it: the figure is what a user's first ``derive`` costs. The derivation
is ``derive()`` plus every parameter's gradient and short Leibniz chain; the flattened-diff
identity check is not part of it.
"""

from __future__ import annotations

import json
import subprocess
import sys

NETS = ([2, 2, 1], [4, 16, 16, 1], [8, 32, 32, 4])

_PROBE = """
import json, sys, time, tracemalloc
import symbackprop
from sympy.core.cache import clear_cache

def run(sizes):
    m = symbackprop.dense(sizes, seed=0)
    d = symbackprop.derive(m)
    for p in m.parameters:
        d.gradient(p)
        d.delta_chain(p)
    return m, d

symbackprop.derive(symbackprop.dense([3, 3, 1], "tanh", seed=9)).trace(1)
sizes = json.loads(sys.argv[1])
t0 = time.perf_counter(); m, d = run(sizes); seconds = time.perf_counter() - t0
t0 = time.perf_counter(); d.trace(1); trace_seconds = time.perf_counter() - t0
clear_cache()
tracemalloc.start(); run(sizes); peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
print(json.dumps({"parameters": len(m.parameters), "seconds": seconds, "peak_mib": peak / 2**20,
                  "trace_seconds": trace_seconds}))
"""


def bench_derive(nets=NETS) -> dict:
    rows = []
    for sizes in nets:
        out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(list(sizes))], capture_output=True, text=True, check=True)
        row = {"net": "-".join(map(str, sizes)), **json.loads(out.stdout)}
        row["us_per_parameter"] = row["seconds"] / row["parameters"] * 1e6
        rows.append(row)
    base = rows[0]["us_per_parameter"]
    for row in rows:
        row["per_parameter_vs_first"] = row["us_per_parameter"] / base
    return {"rows": rows}


def render_derive(table: dict) -> str:
    lines = [f"{'net':>10} {'params':>7} {'derive ms':>10} {'us/param':>9} {'vs first':>9} {'peak MiB':>9} {'trace(1) ms':>12}"]
    for r in table["rows"]:
        lines.append(f"{r['net']:>10} {r['parameters']:>7} {r['seconds'] * 1e3:>10.1f} {r['us_per_parameter']:>9.0f}"
                     f" {r['per_parameter_vs_first']:>9.2f} {r['peak_mib']:>9.2f} {r['trace_seconds'] * 1e3:>12.1f}")
    return "\n".join(lines) + "\n"
