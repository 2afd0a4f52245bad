"""The functions every module carries, copied from template.py with its three documented edits; with
an [optimizer], its update printed from the rule's expressions (core/schedule.update) as ``_update``."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable

import sympy as sp

from ..core.derivation import Derivation
from ..core.optimizers import Optimizer
from ..core.schedule import update
from . import expressions, template
from .plan import Plan, Shape

LIMITS = {"FUSED_BATCH": Shape.KERNEL, "SCALAR_BATCH": Shape.STRAIGHT}  # a batch limit, and the code it admits
SCHEDULES = {None: template._constant_lr, "StepLR": template._step_lr, "MultiStepLR": template._multi_step_lr,
             "ExponentialLR": template._exponential_lr, "CosineAnnealingLR": template._cosine_annealing_lr,
             "LinearLR": template._linear_lr}  # the scheduler's closed form, copied as _rate


def copied(function: Callable, name: str | None = None, without: frozenset[str] = frozenset()) -> list[str]:
    """The function's source lines as template.py writes them, under ``name`` if given, less each
    ``if X.shape[0] <= LIMIT:`` statement (and its body) for a LIMIT in ``without``."""
    text = inspect.getsource(function)
    lines = text.splitlines()
    dropped = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.If) and _limit(node.test) in without:
            dropped.update(range(node.lineno - 1, node.end_lineno))
    lines = [line for i, line in enumerate(lines) if i not in dropped]
    if name:
        head = f"def {function.__name__}("
        if not lines[0].startswith(head):
            raise RuntimeError(f"template.py changed shape: {lines[0]!r} does not start with {head!r}")
        lines[0] = f"def {name}(" + lines[0][len(head):]
    return lines


def _limit(test: ast.expr) -> str | None:
    """LIMIT, when the test reads ``X.shape[0] <= LIMIT``."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.LtE):
        bound = test.comparators[0]
        if ast.unparse(test.left) == "X.shape[0]" and isinstance(bound, ast.Name):
            return bound.id
    return None


def with_update_rule(lines: list[str], sign: str, masked: bool) -> list[str]:
    """The template's ``p += lr`` and ``p + lr * grad * TRAINED``, with the file's sign and the
    mask only where some parameter is frozen."""
    text = "\n".join(lines)
    edits = {"p += lr": f"p {sign}= lr", "p + lr * grad * TRAINED": f"p {sign} lr * grad{' * TRAINED' if masked else ''}"}
    for written, wanted in edits.items():
        if text.count(written) != 1:
            raise RuntimeError(f"template.py changed shape: {written!r} is not written once in {lines[0]!r}")
        text = text.replace(written, wanted)
    return text.split("\n")


def fixed(plan: Plan, d: Derivation) -> list[str]:
    """_check, the entry points and the data-parallel functions, two blank lines before each; with an
    [optimizer], init_state and the optimizer's step in place of the plain ones."""
    m = d.model
    sign = m.update_operator
    if Shape.FUSED in plan.shapes:  # the fused loop takes every batch: no dispatch on its size
        entry = [copied(template.loss_and_grad_fused, "loss_and_grad"), copied(template.loss_fused, "loss")]
        inputs = copied(template.input_gradients_fused, "input_gradients")
    else:
        absent = frozenset(limit for limit, shape in LIMITS.items() if shape not in plan.shapes)
        entry = [copied(template.loss_and_grad, without=absent), copied(template.loss, without=absent)]
        inputs = copied(template.input_gradients, without=absent)
    if plan.input_gradients:
        entry.append(inputs)
    if m.optimizer is None:
        functions = [copied(template._check), *entry,
                     with_update_rule(copied(template.step), sign, plan.masked),
                     copied(template.split), copied(template.averaged_loss_and_grad),
                     with_update_rule(copied(template.averaged_step), sign, plan.masked)]
    else:
        optimize = template._optimize_masked if plan.masked else template._optimize
        schedule = SCHEDULES[m.scheduler.name if m.scheduler else None]
        functions = [copied(template._check), *entry, copied(template.init_state),
                     copied(template.step_optimized, "step"), copied(template.split),
                     copied(template.averaged_loss_and_grad), copied(template.averaged_step_optimized, "averaged_step"),
                     copied(template._state), copied(optimize, "_optimize"), optimizer_update(m.optimizer, plan.numba),
                     copied(schedule, "_rate")]
    return [line for function in functions for line in ("", "", *function)]


def optimizer_update(optimizer: Optimizer, numba: bool) -> list[str]:
    """``_update(p, g, lr, t, *STATE)``: the rule's assignments (core/schedule.update) printed over NumPy
    arrays of the trained parameters, each state named as the rule names it (its previous value is
    read only by its own assignment, so one name serves both); where the first step differs (SGD's
    momentum buffer starts as g), an ``if t == 1:`` branch. Under numba the same function is jitted:
    its array expressions become one fused loop."""
    states = optimizer.states()
    plain = {sp.Symbol(f"previous_{k}", real=True): sp.Symbol(k) for k in states}
    bodies = {}
    for first in (True, False):
        arguments, assignments = update(optimizer, first)
        if [str(a) for a in arguments] != ["p", "g", "lr", "t", *(f"previous_{k}" for k in states)]:
            raise RuntimeError(f"core/schedule.update changed shape: arguments {arguments}")
        assigned: set[str] = set()
        for a in assignments:
            late = {str(s) for s in a.expr.free_symbols} & {f"previous_{k}" for k in assigned}
            if late:
                raise RuntimeError(f"{optimizer.name}: {a.name} reads {late} after it was assigned; expected each previous"
                                   " state read before its own assignment only")
            assigned.add(a.name)
        bodies[first] = [(a.name, expressions.batch(a.expr.xreplace(plain))) for a in assignments]
    first, later = bodies[True], bodies[False]
    if later[-1][0] != "Delta":
        raise RuntimeError(f"{optimizer.name}: the rule's last quantity is {later[-1][0]}; expected Delta")
    result = "(" + ", ".join(states) + ("," if len(states) == 1 else "") + ")"
    lines = [*(["@numba.njit(cache=False, nogil=True)  # compiled at the first call: one fused loop"] if numba else []),
             f"def _update(p, g, lr, t{''.join(', ' + k for k in states)}):",
             f'    """{optimizer.name}\'s step, elementwise over the trained parameters, printed from symbackprop\'s rule',
             '    (t: 1 at the first step): the new parameters, and the new value of each name in STATE."""']
    if [h for h, _ in first] != [h for h, _ in later]:  # no rule does this today; printed whole, both ways
        lines += ["    if t == 1:", *(f"        {h} = {e}" for h, e in first), f"        return p + Delta, {result}",
                  *(f"    {h} = {e}" for h, e in later)]
    else:
        for (head, at_first), (_, expr) in zip(first, later):
            if at_first == expr:
                lines.append(f"    {head} = {expr}")
            else:
                lines += ["    if t == 1:", f"        {head} = {at_first}", "    else:", f"        {head} = {expr}"]
    return lines + [f"    return p + Delta, {result}"]
