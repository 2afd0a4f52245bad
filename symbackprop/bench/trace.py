"""The cost and the accuracy of a long trace: time, peak memory and certain digits per network.

A trace of thousands of iterations is exact for its first few, then a long run (core/long_run.py)
in MPFR or mpmath at two precisions. This table says what that costs and whether its digits hold,
against what it did not compute: the float64 compiled training loop (compiler/, an independent
code path; agreement there is float64's, about 1e-14) and the same engine at twice the digits
(every value within the digits it claims certain). Against float64 a parameter's difference is
taken relative to max(1, |p|), as float64 rounds a sum of O(1) terms to about 1e-17 absolute: in
4-16-16-1 w2_2_3 ends at -5.7e-6, 9e-18 from float64's, 1.6e-12 of itself (the JSON's
``params_vs_float64_relative``); against twice the digits, relative to |p| (significant digits).

Each row runs in a fresh process, after a warm-up trace of a one-neuron net (imports, gmpy2),
so its peak memory (``ru_maxrss``: tracemalloc would slow MPFR code twentyfold) is its own; the
``base`` column is that process's peak before the row's trace. The rows:

    2-2-2 sigmoid     the classic step-by-step example (inputs 0.05, 0.1; targets 0.01, 0.99; rate 0.5,
                      seed 1), 10,000 iterations (--quick: 1,000)
    4-16-16-1 tanh    seed 0, two examples, rate 0.01, 1,000 iterations (--quick: 100): two, as a trace's
                      work bound (limits' "work") allows three only up to about 400 iterations; rate 0.01
                      so the loss is still 2e-5 at the end, not collapsing towards zero as at 0.1 (5e-32)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import sympy as sp

from ..compiler.compiled import compile as compile_derivation
from ..core.dense import dense
from ..core.derivation import derive
from ..core.trace import Key, Trace

NETS = {
    "2-2-2 sigmoid": ([2, 2, 2], "sigmoid", dict(examples=[(["0.05", "0.1"], ["0.01", "0.99"])], learning_rate="0.5", seed=1)),
    "4-16-16-1 tanh": ([4, 16, 16, 1], "tanh", dict(examples=[(["0.1", "-0.2", "0.3", "-0.4"], ["0.5"]),
                                                              (["-0.3", "0.4", "0.1", "0.2"], ["-0.6"])],
                                                    learning_rate="0.01", seed=0)),
}
ROWS = (("2-2-2 sigmoid", 10_000), ("4-16-16-1 tanh", 1_000))
QUICK = (("2-2-2 sigmoid", 1_000), ("4-16-16-1 tanh", 100))
CHECK_DIGITS = 100  # the same engine at twice the trace's 50 digits

_PROBE = "import sys; from symbackprop.bench.trace import measure; measure(sys.argv[1], int(sys.argv[2]))"


def _mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _relative(a, b) -> float:
    """|a - b| / max(|a|, |b|) of two numbers (SymPy's or floats), at 120 digits."""
    a, b = sp.Float(a, 120), sp.Float(b, 120)
    return float(abs(a - b) / max(abs(a), abs(b))) if a != b else 0.0


def measure(net: str, iterations: int) -> None:
    """One row, in this (fresh) process: the row's JSON on stdout."""
    derive(dense([1, 1], "sigmoid", seed=2, iterations=10)).trace()  # warm-up
    sizes, activation, kwargs = NETS[net]
    model = dense(sizes, activation, iterations=iterations, **kwargs)
    base = _mib()
    t0 = time.perf_counter()
    d = derive(model)
    derive_seconds = time.perf_counter() - t0
    marks: dict[int, float] = {}  # iteration -> when it was done (the exact part's last: at the handover)
    t0 = time.perf_counter()
    trace = d.trace(progress=lambda t, total: marks.__setitem__(t, time.perf_counter()))
    seconds = time.perf_counter() - t0
    peak = _mib()
    last, long = iterations + 1, trace.values.long
    exact_seconds = marks[long.start - 1] - t0 if long else seconds
    keys = [Key(p, None, last) for p in model.parameters]
    loss = Key("E", None, last)
    certain = [trace.certain(k) for k in keys]

    c = compile_derivation(d, numba=False)  # the float64 training loop
    p = c.initial.copy()
    for _ in range(iterations):
        p = c.step(p, c.X, c.Y)
    pairs = [(float(trace.values[k]), float(got)) for k, got in zip(keys, p)]
    vs_float64 = max(abs(a - b) / max(1.0, abs(a), abs(b)) for a, b in pairs)
    vs_float64_relative = max(_relative(trace.values[k], got) for k, (_, got) in zip(keys, pairs))
    first = trace.values[Key("E", None, 1)]
    loss_vs_float64 = abs(float(trace.values[loss]) - float(c.loss(p, c.X, c.Y))) / float(first)

    twice = Trace(d, iterations, digits=CHECK_DIGITS)
    differences, holds = [], True
    for k in (*keys, loss):
        a, b, digits = trace.values[k], twice.values[k], trace.certain(k)
        differences.append(r := _relative(a, b))
        holds &= a == b if digits is None else r < 10.0 ** -(digits - 1)  # an exact value: exactly
    print(json.dumps({
        "net": net, "iterations": iterations, "parameters": len(model.parameters), "examples": len(model.examples),
        "seconds": seconds, "us_per_iteration": seconds / iterations * 1e6, "derive_seconds": derive_seconds,
        "exact_seconds": exact_seconds,
        "long_us_per_iteration": (seconds - exact_seconds) / (last - long.start + 1) * 1e6 if long else None,
        "peak_mib": peak, "base_mib": base, "long_from": long.start if long else None,
        "arithmetic": long.arithmetic.name if long else "exact",
        "certain_params": min((x for x in certain if x is not None), default=None), "certain_E": trace.certain(loss),
        "E_first": float(first), "E_last": float(trace.values[loss]),
        "params_vs_float64": vs_float64, "params_vs_float64_relative": vs_float64_relative, "E_vs_float64": loss_vs_float64,
        "params_vs_twice": max(differences[:-1]), "E_vs_twice": differences[-1], "certain_holds": bool(holds),
    }))


def bench_trace(quick: bool = False) -> dict:
    rows = []
    for net, iterations in QUICK if quick else ROWS:
        out = subprocess.run([sys.executable, "-c", _PROBE, net, str(iterations)], capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"bench --trace {net}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"rows": rows, "check_digits": CHECK_DIGITS}


def _digits(x) -> str:
    return "exact" if x is None else str(x)


def render_trace(table: dict) -> str:
    head = (f"{'net':>15} {'iters':>6} {'trace s':>8} {'us/iter':>8} {'exact s':>8} {'long us/it':>10} {'peak MiB':>9}"
            f" {'base MiB':>9} {'long':>5}"
            f" {'arith':>6} {'digits p':>8} {'digits E':>8} {'p vs f64':>9} {'E vs f64':>9} {'p vs 2x':>8} {'E vs 2x':>8}"
            f" {'holds':>5}")
    lines = [head]
    for r in table["rows"]:
        long_us = "-" if r["long_us_per_iteration"] is None else f"{r['long_us_per_iteration']:.0f}"
        lines.append(f"{r['net']:>15} {r['iterations']:>6} {r['seconds']:>8.2f} {r['us_per_iteration']:>8.0f}"
                     f" {r['exact_seconds']:>8.2f} {long_us:>10}"
                     f" {r['peak_mib']:>9.1f} {r['base_mib']:>9.1f} {_digits(r['long_from']):>5} {r['arithmetic']:>6}"
                     f" {_digits(r['certain_params']):>8} {_digits(r['certain_E']):>8} {r['params_vs_float64']:>9.1e}"
                     f" {r['E_vs_float64']:>9.1e} {r['params_vs_twice']:>8.1e} {r['E_vs_twice']:>8.1e}"
                     f" {'yes' if r['certain_holds'] else 'NO':>5}")
    lines.append("exact s: the trace's exact part (SymPy), long us/it: each long-run iteration after it (both precisions);"
                 " long: the iteration the long run starts at; digits: the fewest certain, of the final parameters (p) and"
                 " loss E@N+1; vs f64: to the float64 compiled loop (p: relative to max(1, |p|), E: to E@1);"
                 f" vs 2x: to {table['check_digits']} digits; holds: every value within its certain digits")
    return "\n".join(lines) + "\n"
