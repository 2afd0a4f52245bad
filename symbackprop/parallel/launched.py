"""A run under torchrun (or any launcher of env:// ranks): one process per rank, started by the launcher,
its rank and the world read from the environment. Each rank runs the self-spawned mode's steps
(distributed.rank_steps) on its shard; rank 0 checkpoints, a restarted group resumes from rank 0's
checkpoint (broadcast, so the other machines need no copy of it), and rank 0 checks the run against
the compiled averaged update and writes the result.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.atomic import write_atomic
from ..core.errors import InputError
from ..core.model import Model
from ..reference import torch_model
from . import distributed
from .averaging import shards as make_shards
from .checked_run import CheckedRun
from .distributed import Fault, PeerFailed, RunFailed, one_line, rank_steps

ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")  # what torchrun gives every rank


@dataclass(frozen=True)
class Launch:
    """Where this process stands in the run, as the launcher's environment says."""

    rank: int
    world: int
    local_rank: int
    nodes: int  # torchrun's GROUP_WORLD_SIZE: the node processes (agents) of the run
    restart: int  # TORCHELASTIC_RESTART_COUNT: how often this node's agent has restarted its workers
    launcher: str = "torchrun"  # for the verdict: torchrun (TORCHELASTIC_RUN_ID set), another env:// launcher, or none

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> tuple[Launch, dict[str, str]]:
        """The launch and the variables env:// still needs: with none of ENV set, a world of one on loopback."""
        if not any(k in env for k in ENV):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            return cls(0, 1, 0, 1, 0, "one process"), {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        missing = [k for k in ENV if k not in env]
        if missing:
            raise InputError(f"{', '.join(missing)} not set; expected all of {', '.join(ENV)} (as torchrun sets them)"
                             " or none (a world of one)", key=missing[0])
        values = {}
        for key, least in (("RANK", 0), ("WORLD_SIZE", 1), ("LOCAL_RANK", 0), ("GROUP_WORLD_SIZE", 1),
                           ("TORCHELASTIC_RESTART_COUNT", 0)):
            text = env.get(key, str(least))
            try:
                values[key] = int(text)
            except ValueError:
                values[key] = least - 1
            if values[key] < least:
                raise InputError(f"{text!r}: expected a whole number >= {least}", key=key)
        if values["RANK"] >= values["WORLD_SIZE"]:
            raise InputError(f"{values['RANK']}: expected a rank below WORLD_SIZE {values['WORLD_SIZE']}", key="RANK")
        return cls(values["RANK"], values["WORLD_SIZE"], values["LOCAL_RANK"], values["GROUP_WORLD_SIZE"],
                   values["TORCHELASTIC_RESTART_COUNT"], "torchrun" if "TORCHELASTIC_RUN_ID" in env else "env://"), {}


@dataclass(frozen=True)
class Settings:
    steps: int = 1
    every: int = 1
    timeout: float = 30.0  # seconds a collective may wait for a peer
    checkpoint: str | None = None
    result: str | None = None
    sizes: Sequence[int] | None = None
    fault: Fault | None = None


def prepare(model: Model, launch: Launch, settings: Settings) -> list[int]:
    """Everything checkable before the process group, so that bad input fails every rank alike: this rank's shard."""
    torch_model.require("torch")
    distributed.check_settings(settings.steps, settings.every, settings.timeout, False, settings.checkpoint)
    return make_shards(len(model.examples), launch.world, settings.sizes)[launch.rank]


def run_rank(model: Model, launch: Launch, settings: Settings, say: Callable[[str], None] = print) -> int:
    """This rank's part of the run, in a process group it joins by env://; the exit code (rank 0's is the verdict's)."""
    import torch
    import torch.distributed as dist

    shard = prepare(model, launch, settings)
    timeout = datetime.timedelta(seconds=settings.timeout)
    try:
        if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True":
            dist.init_process_group("gloo", store=_attempt_store(launch, settings.timeout), rank=launch.rank,
                                    world_size=launch.world, timeout=timeout)
        else:
            dist.init_process_group("gloo", init_method="env://", rank=launch.rank, world_size=launch.world,
                                    timeout=timeout)
    except Exception as e:
        raise RunFailed(f"rank {launch.rank} could not join the process group: {one_line(e)}") from None
    try:
        try:
            restarts = torch.tensor([launch.restart], dtype=torch.int64)  # a healthy node restarted for a peer stays at 0
            dist.all_reduce(restarts, op=dist.ReduceOp.MAX)
            attempt = int(restarts)
            first, start, state = _resumed(model, launch, settings)
        except InputError:
            raise
        except Exception as e:
            raise RunFailed(f"rank {launch.rank}: a peer failed before the first step: {one_line(e)}") from None
        history, final = _steps(model, launch, settings, shard, attempt, first, start, state)
    finally:
        dist.destroy_process_group()
    if launch.rank != 0:
        return 0
    reference = distributed.compiled_reference(model, launch.world, settings.steps, settings.sizes, start, first, state)
    engine = (f"{launch.launcher} (gloo, {_count(launch.world, 'rank')} on {_count(launch.nodes, 'node')}"
              f"{f', restart {attempt}' if attempt else ''})")
    checked = CheckedRun(launch.world, first, settings.steps, distributed.largest_relative_error(history, reference),
                         dict(zip(model.parameters, (float(v) for v in final))), engine)
    if settings.result:
        write_atomic(Path(settings.result), json.dumps(_result(model, launch, settings, checked, history, attempt),
                                                       indent=1) + "\n")
    say(checked.verdict())
    return 0 if checked.ok else 1


def _attempt_store(launch: Launch, timeout: float):
    """This attempt's own store, hosted by rank 0 and found through torchrun's. torchrun's agent store
    (MASTER_ADDR:MASTER_PORT) outlives a restart, and gloo would read the addresses a killed attempt
    left in it as this one's (pytorch/pytorch#135712): its workers' restart counts are per node, so no
    key prefix is common to all. A killed attempt's store died with its rank 0, so a client that finds
    an old port cannot connect, and reads the key again until rank 0 has published this attempt's."""
    from torch.distributed import TCPStore

    host, world = os.environ["MASTER_ADDR"], launch.world
    agent = TCPStore(host, int(os.environ["MASTER_PORT"]), world, is_master=False,
                     timeout=datetime.timedelta(seconds=timeout))
    key = "symbackprop/attempt_store"
    if launch.rank == 0:
        own = TCPStore(host, 0, world, is_master=True, timeout=datetime.timedelta(seconds=timeout),
                       wait_for_workers=False)
        agent.set(key, str(own.port))
        return own
    deadline = time.monotonic() + timeout
    while True:
        port = int(agent.get(key))
        try:
            socket.create_connection((host, port), timeout=2).close()  # quietly, before TCPStore's logged retries
            return TCPStore(host, port, world, is_master=False, timeout=datetime.timedelta(seconds=timeout))
        except OSError:  # a killed attempt's: none listens there now
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _resumed(model: Model, launch: Launch, settings: Settings) -> tuple[int, list[float], dict | None]:
    """Rank 0's checkpoint when there is one (step, parameters, optimizer state), broadcast to every rank."""
    import torch.distributed as dist

    held: list = [None]
    if launch.rank == 0:
        held[0] = ("start", 0, [float(v) for v in model.parameters.values()], None)
        path = settings.checkpoint
        if path and os.path.lexists(path):
            try:
                first, start, state = distributed.read_checkpoint_state(Path(path), model, launch.world)
                if first >= settings.steps:
                    raise InputError(f"the checkpoint is at step {first} already; expected `steps` above it, or"
                                     " another `checkpoint`", key="steps")
                held[0] = ("resume", first, start, state)
            except InputError as e:
                held[0] = ("bad", e.what, e.file, e.key)
    dist.broadcast_object_list(held, src=0)
    if held[0][0] == "bad":
        _, what, file, key = held[0]
        raise InputError(what, file=file, key=key)
    return held[0][1], held[0][2], held[0][3]


def _steps(model, launch, settings, shard, attempt, first, start, state) -> tuple[list[np.ndarray], np.ndarray]:
    """rank_steps, rank 0 checkpointing; the fault strikes on the first attempt only (a restart continues)."""
    fault, rank = settings.fault, launch.rank

    def before(step: int) -> None:
        if fault is not None and attempt == 0 and fault.rank == rank and fault.step == step:
            fault.strike(settings.timeout)

    history, final, step = [], np.array(start), first
    try:
        for step, params, held in rank_steps(model, shard, launch.world, start, first, settings.steps, state, before):
            final = params
            if rank == 0:
                history.append(params)
                if settings.checkpoint and (step % settings.every == 0 or step == settings.steps):
                    distributed.write_checkpoint(Path(settings.checkpoint), model, launch.world, step, params, held)
    except PeerFailed as e:
        raise RunFailed(f"rank {rank}: a peer failed during step {step + 1}: {e}") from None
    except InputError:
        raise
    except Exception as e:
        raise RunFailed(f"rank {rank} failed during step {step + 1}: {one_line(e)}") from None
    return history, final


def _result(model: Model, launch: Launch, settings: Settings, checked: CheckedRun, history, attempt: int) -> dict:
    """What rank 0 writes: the run, each step's parameters (float hex, bit for bit) and the comparison."""
    return {"workers": launch.world, "nodes": launch.nodes, "restart": attempt,
            "shards": make_shards(len(model.examples), launch.world, settings.sizes),
            "first": checked.first, "steps": checked.steps, "parameters": list(model.parameters),
            "history": [[float(v).hex() for v in params] for params in history],
            "final": {name: float(v).hex() for name, v in checked.final.items()},
            "final_values": {name: repr(v) for name, v in checked.final.items()},
            "error": checked.error if np.isfinite(checked.error) else None, "tolerance": distributed.TOLERANCE, "ok": checked.ok,
            "verdict": checked.verdict()}
