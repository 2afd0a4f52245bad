"""The schedule of one iteration (schedule.py) as straight-line Python, generated once per derivation.

A long run evaluates the same few dozen assignments thousands of times; substituting numbers into
SymPy trees each time is what made 10,000 iterations take hours. Here each assignment becomes one
line of Python over local variables, run in one arithmetic (arithmetic.py): MPFR or mpmath at a chosen
precision (long_run.py), or float64 for a cheap screening pass (the diagnosis).

No name from a file reaches the code: inputs are ``i0, i1, ...``, assignments ``v0, v1, ...``,
fractions ``c0, c1, ...`` (computed once per precision); the only other names are the functions of
an Arithmetic, and the generated source is parsed and refused if it holds anything else.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.pycode import MpmathPrinter

from .arithmetic import MPMATH, Arithmetic
from .schedule import Assignment

# max, min and abs are Python's, for every arithmetic


BUILTINS = {"max": max, "min": min, "abs": abs}


class _Printer(MpmathPrinter):
    """mpmath's printer without module prefixes: the namespace decides what ``exp`` is."""

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": False, "inline": True})


@dataclass(frozen=True)
class Program:
    """``run(*inputs)`` returns the value of every assignment, in order; ``inputs`` are the values of
    ``arguments`` (symbols), in order."""

    arguments: tuple[sp.Symbol, ...]
    assignments: tuple[Assignment, ...]
    source: str

    def bind(self, arithmetic: Arithmetic, rounding: Callable | None = None) -> Callable[..., list]:
        """The program's function in one arithmetic (arithmetic.py), its fractions computed at the
        caller's precision; ``rounding``, if given, is applied to every value as it is computed."""
        names = {**arithmetic.functions, "R": rounding or (lambda x: x), "__builtins__": BUILTINS}
        exec(compile(self.source, "<symbackprop trace program>", "exec"), names)  # noqa: S102 (checked source)
        return names["make"]()


def program(arguments: Sequence[sp.Symbol], assignments: Sequence[Assignment], rounded: bool = False) -> Program:
    """The straight-line code of ``assignments`` over ``arguments``; ``rounded`` wraps every value in R()."""
    local = {s: sp.Symbol(f"i{k}") for k, s in enumerate(arguments)}
    fractions: dict[sp.Rational, sp.Symbol] = {}
    printer, lines = _Printer(), []
    for k, step in enumerate(assignments):
        expr = step.expr.xreplace(local)
        free = expr.free_symbols - set(local.values())
        if free:
            raise ValueError(f"{step.name} uses {sorted(map(str, free))} before they are assigned")
        for r in sorted((r for r in expr.atoms(sp.Rational) if not r.is_Integer), key=lambda r: (r.q, r.p)):
            fractions.setdefault(r, sp.Symbol(f"c{len(fractions)}"))
        try:
            text = printer.doprint(expr.xreplace(fractions))
        except PrintMethodNotImplementedError:
            raise ValueError(f"{step.name}: {expr} has a function trace code cannot hold") from None
        lines.append(f"        v{k} = R({text})" if rounded else f"        v{k} = {text}")
        local[step.symbol] = sp.Symbol(f"v{k}")
    head = [f"    c{k} = mpf({r.p}) / mpf({r.q})" for k, r in enumerate(fractions)]
    signature = ", ".join(f"i{k}" for k in range(len(arguments)))
    results = ", ".join(f"v{k}" for k in range(len(assignments)))
    source = "\n".join(["def make():", *head, f"    def run({signature}):", *lines,
                        f"        return [{results}]", "    return run", ""])
    _check(source, len(arguments), len(assignments), len(fractions))
    return Program(tuple(arguments), tuple(assignments), source)


def _check(source: str, arguments: int, assignments: int, fractions: int) -> None:
    """Every name in the generated source is one of ours or a namespace function, and nothing else
    is there (no attribute, import or subscript): what exec runs is what this module wrote."""
    allowed = ({f"i{k}" for k in range(arguments)} | {f"v{k}" for k in range(assignments)}
               | {f"c{k}" for k in range(fractions)} | set(MPMATH.functions) | set(BUILTINS) | {"R", "make", "run"})
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id not in allowed:
            raise ValueError(f"generated trace code names {node.id!r}")
        if isinstance(node, (ast.Attribute, ast.Import, ast.ImportFrom, ast.Subscript, ast.Lambda)):
            raise ValueError(f"generated trace code holds a {type(node).__name__}")
