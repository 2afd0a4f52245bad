"""How bench measures: interleaved best-of-rounds timing, the thread settings, peak resident memory."""

from __future__ import annotations

import ctypes
import os
import time

from ..reference import torch_model


def time_calls(fns: dict, budget: float, rounds: int = 5) -> dict:
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


def thread_settings() -> dict:
    """The thread settings the run had: on a shared machine, BLAS and torch threads that spin while
    another process holds the cores slow their peers by 10-50x, so say how the table was measured."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")
    out = {name: os.environ.get(name) for name in names}
    out["cpu_count"] = os.cpu_count()
    out["torch_threads"] = torch_model.torch_module().get_num_threads() if torch_model.available() else None
    return out


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def reset_peak() -> bool:
    """Set the process's resident high-water mark (VmHWM) back to its resident size (Linux's clear_refs);
    False where that cannot be done or read here."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kib("VmHWM") <= _status_kib("VmRSS") + 1024
    except (OSError, StopIteration, ValueError):
        return False


def resident_mib() -> tuple[float, float] | None:
    """(resident size, its high-water mark since start or reset_peak()) in MiB; None where unreadable."""
    try:
        return _status_kib("VmRSS") / 1024, _status_kib("VmHWM") / 1024
    except (OSError, StopIteration, ValueError):
        return None


def peak_mib(fn, calls: int = 3) -> float | None:
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
