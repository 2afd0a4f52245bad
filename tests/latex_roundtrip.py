"""Reading the documents' LaTeX back through symbackprop.verifier.latex_reader, the one parsing layer.

A printed symbol comes back as the Symbol latex_parse names it (``w_{a0}`` -> ``w_a0``,
``\\frac{\\partial E}{\\partial a}`` -> ``dE/da``); ``expected`` renames the walkthrough's own
objects the same way, so the two compare with ``==``.
"""

from __future__ import annotations

import re

import sympy as sp

from symbackprop.documents.formulas.latex import tex, tex_name
from symbackprop.documents.nodes import Factors, Partial, Step, Terms
from symbackprop.verifier.latex_reader import canonical_key
from symbackprop.verifier.latex_reader import parse as parse_formula

RELATION = re.compile(r"\s(?:=|\\approx|\\leftarrow)\s")


def key(name: str) -> str:
    """The name a printed symbol parses back to: the symbol's name as the LaTeX printer writes it."""
    return canonical_key(tex_name(name))


# a continuation row's break: the brackets its row leaves open (\right.), the row break and indent, the brackets it reopens
CONTINUATION = re.compile(r"(\\right\.)*\s*\\\\\s*&\\q?quad\s*((\\left\.)+\{\})?")


def joined(latex: str) -> str:
    """LaTeX with each continuation row (``&\\quad + ...``) joined to the row it continues, the brackets
    the break closed and reopened taken out: a broken formula as it was printed whole."""
    return CONTINUATION.sub(" ", latex)


def parts(formula: str) -> list[str]:
    """One display's sides: aligned rows joined (continuation rows to the side they continue), split at
    each top-level = and \\approx."""
    text = re.sub(r"\\(begin|end)\{aligned\}|&(?=[=\\])|\\\\(?=\s*&)", " ", joined(formula))
    return [p.strip() for p in RELATION.split(" ".join(text.split()))]


def functions(step: Step) -> tuple[str, ...]:
    """The names a step applies as functions (the composed error function E(b(z_b(w))))."""
    names = set()
    for node in (step.lhs, *step.forms):
        if isinstance(node, sp.Basic):
            names |= {key(f.func.__name__) for f in node.atoms(sp.core.function.AppliedUndef)}
    return tuple(sorted(names))


def parse(side: str, names: tuple[str, ...] = ()) -> sp.Expr:
    """One side of a displayed equation, ``names`` applied as functions."""
    return parse_formula(side, functions=names).rhs


def expected(node) -> sp.Expr:
    """The walkthrough's own object in the names latex_parse gives (Leibniz factors as symbols)."""
    if isinstance(node, Partial):
        return sp.Symbol(f"d{canonical_key(tex(node.numerator))}/d{canonical_key(tex(node.denominator))}")
    if isinstance(node, Factors):
        return sp.Mul(*[expected(f) for f in node.factors])
    if isinstance(node, Terms):
        return sp.Add(*[expected(t) for t in node.terms])
    expr = sp.sympify(node)
    return _rename(expr.xreplace({s: sp.Symbol(key(s.name)) for s in expr.free_symbols}))


def _rename(expr: sp.Basic) -> sp.Basic:
    """Applied functions (E(b(z_b(w)))) renamed as latex_parse names them, innermost first."""
    if not expr.has(sp.core.function.AppliedUndef):
        return expr
    args = [_rename(a) for a in expr.args]
    if isinstance(expr, sp.core.function.AppliedUndef):
        return sp.Function(key(expr.func.__name__))(*args)
    return expr.func(*args)


def same(a: sp.Expr, b: sp.Expr) -> bool:
    """Symbolic equality: identical, or a difference that expands or simplifies to 0."""
    if a == b:
        return True
    difference = sp.piecewise_fold(a - b)
    return sp.expand(difference) == 0 or sp.simplify(difference) == 0


def close(parsed: sp.Expr, value: sp.Expr, rel: float = 1e-8) -> bool:
    """A side with numbers put in: its value within the decimal rounding the documents print."""
    if parsed.free_symbols:
        return False
    x, y = complex(sp.N(parsed)), complex(sp.N(value))
    return abs(x - y) <= rel * max(1.0, abs(y))
