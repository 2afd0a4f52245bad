"""A torch.optim.lr_scheduler object as a file's ``[scheduler]`` table: its class, its options read from the
object's attributes, checked fresh (constructed, never stepped) and attached to the optimizer given."""

from __future__ import annotations

from ..core import schedulers
from ..core.errors import InputError
from ..core.schedulers import Scheduler
from .torch_training import decimal

# options torch keeps as integers; the others are floats, written as the program's shortest decimals
COUNTS = {"step_size", "T_max", "total_iters"}


def _value(sched, option: str):
    """The option as the program set it: a count, the milestones in order, or a Python float."""
    value = getattr(sched, option)
    if option == "milestones":  # torch keeps a Counter {milestone: how many times}; the file lists each one
        return sorted(value.elements())
    return int(value) if option in COUNTS else float(value)


def read(sched, optimizer) -> tuple[Scheduler | None, str]:
    """(the Scheduler, how it was read, for the notes); (None, "") without one."""
    if sched is None:
        return None, ""
    kind = type(sched).__name__
    if kind not in schedulers.RULES:
        raise InputError(f"{kind} is not a scheduler symbackprop reads; expected one of {', '.join(schedulers.RULES)} "
                         "(torch.optim.lr_scheduler), stepped once after each optimizer.step()", key="scheduler")
    if optimizer is None:
        raise InputError(f"{kind} given without its optimizer; expected the optimizer it schedules passed as optimizer",
                         key="scheduler.optimizer")
    if getattr(sched, "optimizer", None) is not optimizer:
        raise InputError(f"{kind} is attached to another optimizer than the one given; expected the scheduler of "
                         "the optimizer passed as optimizer", key="scheduler.optimizer")
    if getattr(sched, "last_epoch", None) != 0:
        raise InputError(f"{kind} has stepped already (last_epoch = {getattr(sched, 'last_epoch', None)!r}); expected a "
                         "fresh scheduler (last_epoch 0, as constructed)", key="scheduler.last_epoch")
    values = {o.name: _value(sched, o.name) for o in schedulers.RULES[kind].options}
    table = {"name": kind} | {k: str(decimal(v, f"scheduler.{k}")) if isinstance(v, float) else v for k, v in values.items()}
    shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
    return schedulers.scheduler(table), f"{kind}({shown}), stepped after each optimizer step"
