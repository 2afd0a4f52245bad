"""A real data-parallel run: K processes, torch.distributed (gloo on 127.0.0.1), autograd per
shard, all-reduce mean, the same step on every rank; checked step by step against the compiled
averaged update. Faults are contained: a rank that crashes or hangs stops the run within a
timeout with one line naming it; checkpoints are written atomically and a run resumes from one.
With an [optimizer], every rank feeds the averaged gradient to its own torch.optim optimizer and
lr_scheduler (rank_optimizer.py), and checkpoints carry the optimizer's state. ``rank_steps`` is
the per-rank loop; a rank started by torchrun (launched.py) runs the same one.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import multiprocessing.connection
import os
import queue as queue_module
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..compiler.compiled import compile as compile_gradients
from ..core.atomic import read_input, write_atomic
from ..core.derivation import derive
from ..core.errors import InputError
from ..core.limits import LIMITS, limit
from ..core.model import Model
from ..reference.torch_model import TorchModel
from .averaging import shards as make_shards
from .rank_optimizer import RankOptimizer, decoded, encoded

MAX_TIMEOUT = 86400.0  # seconds a rank may take per step: torch.distributed takes whole seconds as a C int
TOLERANCE = 1e-12  # relative, float64: the run against the compiled averaged update


class RunFailed(Exception):
    """One line: which rank failed and how."""


@dataclass
class Fault:
    """A fault to inject (for tests and drills): ``rank`` crashes or hangs at ``step``."""

    rank: int
    step: int
    mode: str  # "crash" | "hang"

    @classmethod
    def parse(cls, text: str) -> Fault:
        try:
            rank, step, mode = text.split(":")
            fault = cls(int(rank), int(step), mode)
        except ValueError:
            raise InputError(f"{text!r}: expected RANK:STEP:crash or RANK:STEP:hang", key="fault") from None
        if fault.mode not in ("crash", "hang"):
            raise InputError(f"{text!r}: expected crash or hang", key="fault")
        return fault

    def strike(self, timeout: float) -> None:
        """Crash (exit code 17, no clean-up) or hang past the peers' timeout."""
        if self.mode == "crash":
            os._exit(17)
        time.sleep(10 * timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _arrays(model: Model, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[float(model.examples[k - 1].inputs[x]) for x in model.inputs] for k in indices])
    Y = np.array([[float(model.examples[k - 1].targets[o]) for o in model.outputs] for k in indices])
    return X, Y


PEER_FAILED = 3  # a rank's exit code when a collective failed because of another rank


class _Reports:
    """The ranks' reports, one pipe each. A report is in the pipe before its rank goes on, so a rank
    that dies right after a step has still reported it (a Queue's feeder thread would lose it, and
    the failed step would be misnamed)."""

    def __init__(self, ctx, workers: int):
        pairs = [ctx.Pipe(duplex=False) for _ in range(workers)]
        self.readers = [reader for reader, _ in pairs]
        self.writers = [writer for _, writer in pairs]

    def started(self) -> None:
        """The children hold their ends now; ours are closed so that a dead rank reads as end of file."""
        for writer in self.writers:
            writer.close()

    def get(self, timeout: float):
        """The next report from any rank; ``queue.Empty`` when none comes within ``timeout``."""
        for reader in multiprocessing.connection.wait(self.readers, timeout):
            try:
                return reader.recv()
            except (EOFError, OSError):  # that rank has exited; its reports were all read
                self.readers.remove(reader)
        raise queue_module.Empty

    def get_nowait(self):
        return self.get(0)


class PeerFailed(Exception):
    """A collective failed because of another rank (it died, or hung past the timeout)."""


def rank_steps(model: Model, shard: Sequence[int], world: int, start: Sequence[float], first: int, steps: int,
               state: dict | None = None, before=None):
    """One rank's steps, in an initialised process group, under either launch (self-spawned, torchrun):
    its shard's gradient by autograd, all-reduce mean, the step (the file's rule, or its optimizer from
    ``state``). Yields (step, parameters, optimizer state or None); ``before(step)`` runs first (faults)."""
    import torch
    import torch.distributed as dist

    grad_of = TorchModel(model)
    X, Y = _arrays(model, shard)
    params = np.array(start, dtype=np.float64)
    sign = float(model.update_sign)
    mask = np.array([1.0 if p in set(model.trained_parameters) else 0.0 for p in model.parameters])
    rate = float(model.learning_rate)
    optimizer = RankOptimizer(torch, model, params, state) if model.optimizer is not None else None
    for step in range(first + 1, steps + 1):
        if before is not None:
            before(step)
        _, grad = grad_of(params, X, Y)
        g = torch.from_numpy(grad)
        try:
            dist.all_reduce(g, op=dist.ReduceOp.SUM)
        except Exception as e:
            raise PeerFailed(one_line(e)) from None
        if optimizer is None:
            params = params + sign * rate * mask * (g.numpy() / world)
        else:
            params = optimizer.step(params, g.numpy() / world)
        yield step, params, None if optimizer is None else optimizer.state()


def _rank_main(rank, world, port, model, shard, start, first_step, steps, timeout, fault, messages, state=None):
    """One self-spawned worker: rank_steps, each step's parameters and optimizer state reported to the parent."""

    def leave(kind: str, text: str, code: int) -> None:
        messages.send((kind, rank, 0, text))
        os._exit(code)

    def before(step: int) -> None:
        if fault is not None and fault.rank == rank and fault.step == step:
            fault.strike(timeout)

    ends = []  # the loop's own clock at the end of each step: steps after the first (warm-up) are timed
    try:
        import torch.distributed as dist

        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                                timeout=datetime.timedelta(seconds=timeout))
        for step, params, held in rank_steps(model, shard, world, start, first_step, steps, state, before):
            messages.send(("step", rank, step, (params.tolist(), held)))
            ends.append(time.perf_counter())
    except PeerFailed as e:  # a peer died or hung: the parent finds out which
        leave("peer", str(e), PEER_FAILED)
    except Exception as e:
        leave("error", one_line(e), 2)
    per_step = float(np.median(np.diff(ends))) if len(ends) > 1 else None  # the median: robust to other load
    dist.destroy_process_group()
    messages.send(("done", rank, steps, per_step))
    messages.close()


def one_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def _culprit(procs, messages, reported: dict[int, int], peer_failed: set[int], timeout: float, steps: int) -> str:
    """Which rank broke the run: a crashed one, else one alive but silent (hung); past the last
    step, the run was finishing (its ranks leaving the process group), not on a step."""
    deadline = time.monotonic() + 2.0  # a crashed peer's exit code may take a moment to be seen
    while True:
        try:  # steps already reported but not yet read count as done
            while True:
                kind, rank, step, _ = messages.get_nowait()
                if kind == "step":
                    reported[rank] = max(reported[rank], step)
                elif kind == "peer":
                    peer_failed.add(rank)
        except queue_module.Empty:
            pass
        step = max(reported.values()) + 1  # all-reduce is a barrier: one rank past step s means all are
        where = f"during step {step}" if step <= steps else f"while finishing, after step {steps}"
        crashed = [(r, p.exitcode) for r, p in enumerate(procs) if p.exitcode not in (None, 0, PEER_FAILED)]
        if crashed:
            r, code = crashed[0]
            return f"rank {r} exited with code {code} {where}"
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    silent = [r for r, p in enumerate(procs) if p.is_alive() and r not in peer_failed]
    r = min(silent, key=lambda k: reported[k]) if silent else min(reported, key=reported.get)
    on = f"on step {step}" if step <= steps else f"finishing the run after step {steps}"
    return f"rank {r} made no progress {on} within {timeout:g} s"


def read_checkpoint(path: Path, model: Model, workers: int) -> tuple[int, list[float]]:
    """(the step it was written after, the parameters then)."""
    return read_checkpoint_state(path, model, workers)[:2]


def read_checkpoint_state(path: Path, model: Model, workers: int) -> tuple[int, list[float], dict | None]:
    """(the step, the parameters, the optimizer's state in the compiled module's layout or None)."""
    try:
        data = json.loads(read_input(path, "a symbackprop checkpoint"))
        if data["parameters"] != list(model.parameters) or data["workers"] != workers:
            raise InputError("was written for another network or worker count", file=str(path))
        names = None if model.optimizer is None else {"t", "lr", *model.optimizer.states()}
        held = data.get("optimizer")
        if (held is None) != (names is None) or (held is not None and (held.get("name") != model.optimizer.name
                                                                       or set(held["state"]) != names)):
            raise InputError("was written for another optimizer (or none); expected a checkpoint of this file's"
                             f" {model.optimizer.name if model.optimizer else 'plain update rule'}", file=str(path))
        return int(data["step"]), [float.fromhex(h) for h in data["values"]], decoded(held and held["state"])
    except FileNotFoundError:
        raise InputError("no checkpoint to resume from", file=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot read the checkpoint ({e.strerror})", file=str(path)) from None
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"not a symbackprop checkpoint ({e})", file=str(path)) from None


def write_checkpoint(path: Path, model: Model, workers: int, step: int, params: Sequence[float],
                      state: dict | None = None) -> None:
    data = {"parameters": list(model.parameters), "workers": workers, "step": step,
            "values": [float(v).hex() for v in params]}
    if model.optimizer is not None:
        data["optimizer"] = {"name": model.optimizer.name, "state": encoded(state)}
    write_atomic(path, json.dumps(data, indent=1) + "\n")


def check_settings(steps: int, every: int, timeout: float, resume: bool, checkpoint) -> None:
    """A run's settings, each a located InputError naming the parameter when it cannot be."""
    for key, value, least in (("steps", steps, 1), ("every", every, 1), ("timeout", timeout, 1e-3)):
        if value < least:
            raise InputError(f"expected a value >= {least:g}, got {value:g}", key=key)
    if not timeout <= MAX_TIMEOUT:  # also nan
        raise InputError(f"expected a number of seconds up to {MAX_TIMEOUT:g} (a day), got {timeout:g}", key="timeout")
    if steps > limit("steps"):
        raise InputError(f"{steps:,} steps; a run takes at most {limit('steps'):,} ({LIMITS['steps'].why})",
                         key="steps")
    if resume and not checkpoint:
        raise InputError("`resume` needs `checkpoint`, the file to resume from", key="resume")


def run(model: Model, workers: int, steps: int, sizes: Sequence[int] | None = None, *, timeout: float = 30.0,
        checkpoint: str | os.PathLike | None = None, every: int = 1, resume: bool = False,
        fault: Fault | None = None, progress=None, timings: dict | None = None) -> list[np.ndarray]:
    """Parameters after each step (from rank 0); the list starts at the first step run.

    ``timings``, a dict, receives each rank's median seconds per step, timed inside its own loop after
    its first step (process start, rendezvous and warm-up excluded); None for a run of one step."""
    groups = make_shards(len(model.examples), workers, sizes)
    check_settings(steps, every, timeout, resume, checkpoint)
    first, start, state = 0, [float(v) for v in model.parameters.values()], None
    if resume:
        first, start, state = read_checkpoint_state(Path(checkpoint), model, workers)
    ctx = multiprocessing.get_context("spawn")
    messages = _Reports(ctx, workers)
    port = _free_port()
    procs = [ctx.Process(target=_rank_main, daemon=True,
                         args=(r, workers, port, model, groups[r], start, first, steps, timeout, fault, messages.writers[r],
                               state))
             for r in range(workers)]
    for p in procs:
        p.start()
    messages.started()
    history: list[np.ndarray] = []
    reported: dict[int, int] = {r: first for r in range(workers)}
    done: set[int] = set()
    peer_failed: set[int] = set()
    deadline = time.monotonic() + timeout + 30  # process start and the first step
    try:
        while len(done) < workers:
            try:
                kind, rank, step, payload = messages.get(timeout=0.2)
            except queue_module.Empty:
                kind = None
            if kind == "error":
                raise RunFailed(f"rank {rank} failed during step {reported[rank] + 1}: {payload}")
            if kind == "peer":
                peer_failed.add(rank)
                raise RunFailed(_culprit(procs, messages, reported, peer_failed, timeout, steps))
            if kind is None:
                if any(p.exitcode not in (None, 0) for p in procs) or time.monotonic() > deadline:
                    raise RunFailed(_culprit(procs, messages, reported, peer_failed, timeout, steps))
                continue
            if kind == "done":
                done.add(rank)
                if timings is not None:
                    timings[rank] = payload
                continue
            reported[rank] = step
            deadline = time.monotonic() + timeout
            if rank == 0:
                params, state = payload
                history.append(np.array(params))
                if progress is not None:
                    progress(step)
                if checkpoint is not None and (step % every == 0 or step == steps):
                    write_checkpoint(Path(checkpoint), model, workers, step, params, state)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        for p in procs:
            p.join(timeout=5)
    return history


def compiled_reference(model: Model, workers: int, steps: int, sizes: Sequence[int] | None = None,
                       start: Sequence[float] | None = None, first: int = 0, state: dict | None = None) -> list[np.ndarray]:
    """The compiled averaged update, step by step: what every rank must hold after each step; with an
    optimizer, from ``state`` (a checkpoint's) or init_state()."""
    compiled = compile_gradients(derive(model), workers=workers)
    groups = [_arrays(model, g) for g in make_shards(len(model.examples), workers, sizes)]
    params = np.array(start if start is not None else [float(v) for v in model.parameters.values()])
    if compiled.optimizer is not None:
        state = compiled.init_state() if state is None else state
    out = []
    for _ in range(first, steps):
        if compiled.optimizer is None:
            params = compiled.averaged_step(params, groups)  # averaged_loss_and_grad, then the file's update rule
        else:
            params, state = compiled.averaged_step(params, state, groups)  # the optimizer fed the averaged gradient
        out.append(params)
    return out


def largest_relative_error(run_history: Sequence[np.ndarray], reference: Sequence[np.ndarray]) -> float:
    """Infinite when a parameter is not finite on either side: nan must not read as agreement."""
    worst = 0.0
    for a, b in zip(run_history, reference, strict=True):
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            return float("inf")
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))))
    return worst
