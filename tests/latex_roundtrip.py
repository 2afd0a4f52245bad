"""Reading the documents' LaTeX back with latex2sympy, whose quirks are normalised here (and tested)."""

from __future__ import annotations

import re

import sympy as sp
from latex2sympy2_extended import latex2sympy

from symbackprop.printers.latex import tex, tex_name
from symbackprop.walkthrough import Partial, Product, Sum

PARTIAL = re.compile(r"\\frac\{\\partial ([^{}]*(?:\{[^{}]*\})?)\}\{\\partial ([^{}]*(?:\{[^{}]*\})?)\}")
APPLIED = re.compile(r"(?<![\\A-Za-z])([A-Za-z](?:_\{[^{}]*\})?)\\left\(")
RELATION = re.compile(r"\s(?:=|\\approx)\s")


def key(name: str) -> str:
    """latex2sympy lowercases and keeps braces: compare names with both dropped."""
    return re.sub(r"\\(text|mathrm)|[\\{}_ ]", "", name).lower()


def leibniz(numerator: str, denominator: str) -> sp.Symbol:
    return sp.Symbol(f"d{key(numerator)}/d{key(denominator)}")


def parts(formula: str) -> list[str]:
    """One display's sides: aligned rows joined, split at each top-level = and \\approx."""
    text = re.sub(r"\\(begin|end)\{aligned\}|&|\\\\", " ", formula)
    return [p.strip() for p in RELATION.split(" ".join(text.split()))]


WHOLE_APPLICATION = re.compile(r"([A-Za-z](?:_\{[^{}]*\})?)\\left\((.*)\\right\)\Z")


def _application(side: str) -> tuple[str, list[str]] | None:
    """``f\\left(args\\right)`` as (f, [arg, ...]) when the whole side is one application."""
    m = WHOLE_APPLICATION.match(side)
    if not m:
        return None
    inner, depth, args, start = m.group(2), 0, [], 0
    for token in (re.finditer(r"\\left\(|\\right\)|,", inner)):
        if token.group() == r"\left(":
            depth += 1
        elif token.group() == r"\right)":
            depth -= 1
            if depth < 0:
                return None  # the first \\left( closes before the end: not one application
        elif depth == 0:
            args.append(inner[start:token.start()])
            start = token.end()
    return m.group(1), args + [inner[start:]]


def parse(side: str) -> sp.Expr:
    """A side of a displayed equation as a SymPy expression in normalised names.

    latex2sympy cannot read a function applied to a function's value (``E(b(z_b(w)))``), so a
    side that is one application is taken apart here and its arguments parsed in turn.
    """
    side = side.strip()
    applied = _application(side)
    if applied is not None:
        name, args = applied
        return sp.Function(key(name))(*[parse(a) for a in args])
    partials: list[tuple[str, str]] = []

    def placeholder(m: re.Match) -> str:
        partials.append((m.group(1), m.group(2)))
        return f"P_{{{len(partials) - 1}}}"

    text = PARTIAL.sub(placeholder, side)
    text = re.sub(r"\\Delta ([A-Za-z](?:_\{[^{}]*\})?)", r"\\Delta_{\1}", text)
    text = APPLIED.sub(lambda m: rf"\mathrm{{{key(m.group(1))}}}\left(", text)
    expr = latex2sympy(text)
    mapping: dict = {}
    for s in expr.free_symbols:
        m = re.fullmatch(r"p_\{?(\d+)\}?", s.name)
        mapping[s] = leibniz(*partials[int(m.group(1))]) if m else sp.Symbol(key(s.name))
    return _functions(expr.xreplace(mapping), lambda name: sp.Heaviside if key(name) == "h" else sp.Function(key(name)))


def _functions(expr: sp.Expr, rename) -> sp.Expr:
    """Rename every undefined function, innermost first, until nothing changes."""
    while True:
        for f in expr.atoms(sp.core.function.AppliedUndef):
            new = rename(f.func.__name__)(*f.args)
            if new != f:
                expr = expr.xreplace({f: new})
                break
        else:
            return expr


def expected(node) -> sp.Expr:
    """The walkthrough's own object in the same normalised names (Leibniz factors as symbols)."""
    if isinstance(node, Partial):
        return leibniz(tex(node.numerator), tex(node.denominator))
    if isinstance(node, Product):
        return sp.Mul(*[expected(f) for f in node.factors])
    if isinstance(node, Sum):
        return sp.Add(*[expected(t) for t in node.terms])
    expr = sp.sympify(node)
    mapping = {}
    for s in expr.free_symbols:
        if s.name.startswith("dE/d"):
            mapping[s] = leibniz("E", tex_name(s.name[4:]))
        else:
            mapping[s] = sp.Symbol(key(tex_name(s.name)))
    expr = expr.xreplace(mapping)
    expr = expr.xreplace({h: sp.Heaviside(h.args[0]) for h in expr.atoms(sp.Heaviside)})
    return _functions(expr, lambda name: sp.Function(key(tex_name(name))))


def same(a: sp.Expr, b: sp.Expr) -> bool:
    a, b = sp.nsimplify(a, rational=True), sp.nsimplify(b, rational=True)
    return a == b or sp.expand(a - b) == 0


def close(parsed: sp.Expr, value: sp.Expr, rel: float = 1e-8) -> bool:
    if parsed.free_symbols:
        return False
    x, y = complex(sp.N(parsed)), complex(sp.N(value))
    return abs(x - y) <= rel * max(1.0, abs(y))
