"""The functions every module carries, copied from template.py with its three documented edits."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable

from ..core.derivation import Derivation
from . import template
from .plan import Plan, Shape

LIMITS = {"FUSED_BATCH": Shape.KERNEL, "SCALAR_BATCH": Shape.STRAIGHT}  # a batch limit, and the code it admits


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
    """_check, the entry points and the data-parallel functions, two blank lines before each."""
    sign = d.model.update_operator
    if Shape.FUSED in plan.shapes:  # the fused loop takes every batch: no dispatch on its size
        entry = [copied(template.loss_and_grad_fused, "loss_and_grad"), copied(template.loss_fused, "loss")]
    else:
        absent = frozenset(limit for limit, shape in LIMITS.items() if shape not in plan.shapes)
        entry = [copied(template.loss_and_grad, without=absent), copied(template.loss, without=absent)]
    functions = [copied(template._check), *entry,
                 with_update_rule(copied(template.step), sign, plan.masked),
                 copied(template.split), copied(template.averaged_loss_and_grad),
                 with_update_rule(copied(template.averaged_step), sign, plan.masked)]
    return [line for function in functions for line in ("", "", *function)]
