"""A real torch.distributed run checked step by step against the compiled averaged update."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import InputError
from ..core.model import Model
from ..reference import torch_model
from .distributed import TOLERANCE, Fault, check_settings, compiled_reference, largest_relative_error, read_checkpoint_state, run


@dataclass(frozen=True)
class CheckedRun:
    workers: int
    first: int  # the step the run resumed after (0: from the start)
    steps: int
    error: float  # largest relative difference from the compiled averaged update
    final: dict[str, float]  # rank 0's parameters after the last step
    engine: str = ""  # how it ran, for the verdict: the self-spawned processes by default

    @property
    def ok(self) -> bool:
        return self.error <= TOLERANCE

    def verdict(self) -> str:
        """One line: the steps checked, the largest difference and whether it is within the tolerance."""
        engine = self.engine or f"torch.distributed (gloo, {self.workers} processes)"
        return (f"{engine}, steps {self.first + 1}..{self.steps}: largest relative difference from the compiled"
                f" averaged update {self.error:.3g} ({'within' if self.ok else 'ABOVE'} {TOLERANCE:g})")

    def text(self) -> str:
        lines = [self.verdict()]
        if self.error == float("inf"):
            lines.append("  a parameter is not finite (inf or nan): float64 overflows at these values, which the exact"
                         " derivation (parallel without --run) does not")
        lines += [f"  {name} = {value!r}" for name, value in self.final.items()]
        return "\n".join(lines) + "\n"


def checked_run(model: Model, workers: int, steps: int, shards: Sequence[int] | None = None, *, timeout: float = 30.0,
                checkpoint: str | os.PathLike | None = None, every: int = 1, resume: bool = False,
                fault: Fault | str | None = None, progress: Callable[[int], None] | None = None) -> CheckedRun:
    """K processes for ``steps`` steps (or from a checkpoint on), then the comparison; a failed
    rank raises distributed.RunFailed naming it."""
    torch_model.require("engine")
    check_settings(steps, every, timeout, resume, checkpoint)
    fault = Fault.parse(fault) if isinstance(fault, str) else fault
    first, start, state = 0, None, None
    if resume:
        first, start, state = read_checkpoint_state(Path(checkpoint), model, workers)
        if first >= steps:
            raise InputError(f"the checkpoint is at step {first} already; expected `steps` above it", key="steps")
    if progress is not None:
        progress(first)
    history = run(model, workers, steps, shards, timeout=timeout, checkpoint=checkpoint, every=every, resume=resume,
                  fault=fault, progress=progress)
    reference = compiled_reference(model, workers, steps, shards, start, first, state)
    final = dict(zip(model.parameters, (float(v) for v in history[-1]))) if history else {}
    return CheckedRun(workers, first, steps, largest_relative_error(history, reference), final)
