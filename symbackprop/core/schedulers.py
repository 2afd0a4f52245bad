"""The learning-rate schedulers of torch.optim.lr_scheduler, as exact rates: one row each.

``rate(k)`` is the learning rate after ``k`` calls of ``scheduler.step()`` (torch's ``last_epoch``),
in the closed form torch documents (``_get_closed_form_lr``): iteration t's update uses ``rate(t - 1)``.
Torch computes most of them recursively in float64; the two agree to rounding (the tests compare).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy as sp

from .optimizers import Option, read


def _step(lr0, k, o):
    return lr0 * o["gamma"] ** (k // o["step_size"])


def _multistep(lr0, k, o):
    return lr0 * o["gamma"] ** bisect.bisect_right(list(o["milestones"]), k)


def _exponential(lr0, k, o):
    return lr0 * o["gamma"] ** k


def _cosine(lr0, k, o):
    return o["eta_min"] + (lr0 - o["eta_min"]) * (1 + sp.cos(sp.pi * sp.Rational(k, o["T_max"]))) / 2


def _linear(lr0, k, o):
    start, end, total = o["start_factor"], o["end_factor"], o["total_iters"]
    return lr0 * (start + (end - start) * sp.Rational(min(k, total), total))


@dataclass(frozen=True)
class Rule:
    name: str
    options: tuple[Option, ...]
    rate: Callable[[sp.Expr, int, dict], sp.Expr]  # (initial lr, steps taken, options) -> lr
    formula: str  # in words, for documents


TENTH = sp.Rational(1, 10)
RULES: dict[str, Rule] = {r.name: r for r in (
    Rule("StepLR", (Option("step_size", None, "count"), Option("gamma", TENTH, "positive")), _step,
         "lr0 gamma^floor(k / step_size)"),
    Rule("MultiStepLR", (Option("milestones", None, "milestones"), Option("gamma", TENTH, "positive")), _multistep,
         "lr0 gamma^(number of milestones <= k)"),
    Rule("ExponentialLR", (Option("gamma", None, "positive"),), _exponential, "lr0 gamma^k"),
    Rule("CosineAnnealingLR", (Option("T_max", None, "count"), Option("eta_min", sp.Integer(0), "nonnegative")), _cosine,
         "eta_min + (lr0 - eta_min) (1 + cos(pi k / T_max)) / 2"),
    Rule("LinearLR", (Option("start_factor", sp.Rational(1, 3), "factor"), Option("end_factor", sp.Integer(1), "fraction"),
                      Option("total_iters", 5, "count")), _linear,
         "lr0 (start_factor + (end_factor - start_factor) min(k, total_iters) / total_iters)"),
)}


@dataclass(frozen=True)
class Scheduler:
    name: str
    options: dict[str, object] = field(default_factory=dict)

    @property
    def rule(self) -> Rule:
        return RULES[self.name]

    def rate(self, lr0: sp.Expr, t: int) -> sp.Expr:
        """The learning rate iteration t (1-based) updates with."""
        return self.rule.rate(lr0, t - 1, self.options)


def scheduler(table: Mapping[str, object] | None, key: str = "scheduler") -> Scheduler | None:
    """The Scheduler a file's ``[scheduler]`` table states, checked; None without one."""
    if table is None:
        return None
    return Scheduler(*read(table, RULES, "scheduler", "torch.optim.lr_scheduler", key))
