"""The schedule's assignments (core/schedule.py) as straight-line JavaScript in float64, for the page.

The same expressions the trace substitutes into and the long run prints as MPFR code (core/program.py),
printed by SymPy's JavaScript printer. No name from a file reaches the code: a program's arguments are
``i0, i1, ...``, its assignments ``v0, v1, ...``; a fraction is its float64 literal; the only other names are
``Math``'s functions. The source is scanned and refused if it names anything else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sympy as sp
from sympy.printing.jscode import JavascriptCodePrinter

from ...core.schedule import Assignment

MATH = frozenset({"exp", "log", "tanh", "max", "min", "abs", "sqrt", "pow", "cos", "sin", "floor"})
TOKEN = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
# a function as ``function`` prints it: one line per assignment, arithmetic and comparisons only (no quote, bracket,
# brace, semicolon, backslash or assignment operator inside an expression)
SHAPE = re.compile(r"function [A-Za-z]\w*\((?:i\d+(?:, i\d+)*)?\) \{\n(?:  const v\d+ = [\w .()+\-*/,?:<>]+;\n)*"
                   r"  return \[(?:v\d+(?:, v\d+)*)?\];\n\}")


class JavaScript(JavascriptCodePrinter):
    """SymPy's JavaScript with the function table's conventions: H(z) = 1 for z > 0, else its value at 0 (ReLU'(0) = 0,
    as PyTorch); a fraction as the float64 it rounds to (as the compiled module's constants)."""

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        x = self._print(expr.args[0])
        return f"(({x}) > 0 ? 1 : ({x}) < 0 ? 0 : {self._print(sp.Float(at_zero))})"

    def _print_Rational(self, expr):
        return repr(float(expr))

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Integer(self, expr):
        return f"{int(expr)}" if abs(int(expr)) < 2 ** 53 else repr(float(expr))


def function(name: str, arguments: Sequence[sp.Symbol], assignments: Sequence[Assignment]) -> str:
    """``function name(i0, ...) { v0 = ...; ...; return [v0, ...]; }``: every assignment's value, in order."""
    local = {s: sp.Symbol(f"i{k}") for k, s in enumerate(arguments)}
    printer, lines = JavaScript({"strict": False}), []
    for k, step in enumerate(assignments):
        expr = sp.sympify(step.expr).xreplace(local)
        free = expr.free_symbols - set(local.values())
        if free:
            raise ValueError(f"{step.name} uses {sorted(map(str, free))} before they are assigned")
        lines.append(f"  const v{k} = {printer.doprint(expr)};")
        local[step.symbol] = sp.Symbol(f"v{k}")
    signature = ", ".join(f"i{k}" for k in range(len(arguments)))
    results = ", ".join(f"v{k}" for k in range(len(assignments)))
    source = "\n".join([f"function {name}({signature}) {{", *lines, f"  return [{results}];", "}"])
    check(source, {name})
    return source


def check(source: str, own: set[str]) -> None:
    """One function of straight-line arithmetic (``SHAPE``) whose every identifier is an argument, an assignment, one
    of ``Math``'s functions or one of ``own``: what the page runs is what this module wrote."""
    if not SHAPE.fullmatch(source):
        raise ValueError("generated page code is not one function of straight-line arithmetic")
    allowed = {"function", "const", "return", "Math", "Infinity", "NaN"} | MATH | own
    for token in TOKEN.findall(re.sub(r"(?<![\w$])\d+\.?\d*(?:e[-+]?\d+)?", " ", source)):
        if token not in allowed and not re.fullmatch(r"[iv]\d+", token):
            raise ValueError(f"generated page code names {token!r}")
