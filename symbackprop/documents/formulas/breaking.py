"""A formula too wide for its line, cut at its operators into rows: pieces of the expression tree.

Printer-agnostic. ``rows(node, printer, limit, width)`` returns Rows of items: whole sub-expressions
(Atom), the operators between them (Op) and the brackets a break may fall inside (Open, Close); each
printer prints the items in its notation (latex.py for LaTeX; the MathML printer can do the same),
``width`` measures an item as that printer sets it. Only what is too wide is cut, and the cuts
come at the outermost operators first: between the terms of a sum or the paths of a chain (+, -),
then between the factors of a chain (·), inside a bracketed sum, between a function's arguments.
A product's own sign (``×``) is never a break, so ``(a + b) H(z)`` breaks inside its bracket.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.precedence import PRECEDENCE, precedence_traditional

from ..nodes import Factors, Terms
from .chains import signed

BREAK_BEFORE = {"+", "-", "·"}  # a continuation row starts with the operator, as a reader expects
BREAK_AFTER = {","}  # a row ends with the comma, the next argument starts the next row


@dataclass(frozen=True)
class Atom:
    """A sub-expression printed whole."""

    node: object


@dataclass(frozen=True)
class Op:
    """An operator between two items: ``+ - ·`` (between chain factors) ``×`` (the printer's product sign) ``,``.
    ``depth`` is how deep in the tree it joins; a break is made at the shallowest depth that suffices."""

    symbol: str
    depth: int
    alone: bool = False  # when a break is made at this depth, every piece it joins gets a row of its own (a chain's paths)


@dataclass(frozen=True)
class Open:
    """A bracket that a row may leave open: the argument list of ``call`` (an applied function), or ``(`` when None."""

    call: object = None


@dataclass(frozen=True)
class Close:
    """The matching bracket of the last Open."""


@dataclass(frozen=True)
class Row:
    """One row: ``indent`` 0 for the first, 1 for a break at the outermost depth used, 2 for deeper ones."""

    indent: int
    items: tuple


Width = Callable[[object], float]


def rows(node, printer, limit: float, width: Width) -> list[Row]:
    """``node`` cut into rows no wider than ``limit`` (in ``width``'s unit) where its operators allow;
    one row when it fits. ``printer`` is a SymPy printer: it gives the order of a sum's terms and a product's factors."""
    items = _flatten(node, printer, width, limit, 0)
    cached = [width(item) for item in items]
    spans = _pack(items, 0, len(items), lambda a, b: sum(cached[a:b]) <= limit)
    depths = sorted({_break_depth(items, a) for a, _ in spans[1:]})  # the outermost break used indents least

    def indent(i: int, a: int) -> int:
        return 0 if i == 0 else 1 + min(1, depths.index(_break_depth(items, a)))

    return [Row(indent(i, a), tuple(items[a:b])) for i, (a, b) in enumerate(spans)]


def _flatten(node, printer, width: Width, limit: float, depth: int, force: bool = False) -> list:
    """The node as items, opened up only where it is too wide on its own line; where a level has no
    break (a product's ``×``, a bracket), its widest part is opened up too, so that a break is found inside it."""
    parts = _split(node, printer, depth) if force or width(Atom(node)) > limit else None
    if parts is None:
        return [Atom(node)]
    widest = None
    if not any(isinstance(item, Op) and item.symbol in BREAK_BEFORE | BREAK_AFTER for item in parts):
        openable = [i for i, item in enumerate(parts) if isinstance(item, Atom) and _split(item.node, printer, depth + 1)]
        widest = max(openable, key=lambda i: width(parts[i]), default=None)
    out = []
    for i, item in enumerate(parts):
        out += _flatten(item.node, printer, width, limit, depth + 1, i == widest) if isinstance(item, Atom) else [item]
    return out


def _split(node, printer, depth: int) -> list | None:
    """One level of the tree as items, or None where the node has no operator to break at."""
    if isinstance(node, Terms):  # the paths of a chain (three factors or more) read best one to a row
        paths = all(isinstance(t, Factors) and len(t.factors) > 2 for t in node.terms)
        out = []
        for i, term in enumerate(node.terms):
            negative, term = signed(term) if i else (False, term)
            out += [Op("-" if negative else "+", depth, paths), Atom(term)] if i else [Atom(term)]
        return out
    if isinstance(node, Factors):
        if len(node.factors) > 1:  # each factor alone keeps the printer's own bracket rule
            return _joined([Atom(Factors((f,))) for f in node.factors], "·", depth)
        f = node.factors[0]
        if isinstance(f, sp.Basic) and f.is_Add:
            return [Open(), Atom(f), Close()]
        return None if isinstance(f, sp.Basic) and f.could_extract_minus_sign() else [Atom(f)]
    if not isinstance(node, sp.Basic):
        return None
    if node.is_Add:
        return _sum(node, printer, depth)
    if node.is_Mul:
        return _product(node, printer, depth)
    if isinstance(node, AppliedUndef):
        return [Open(node), *_joined([Atom(a) for a in node.args], ",", depth), Close()]
    return None


def _joined(atoms: list, symbol: str, depth: int, alone: bool = False) -> list:
    out = []
    for i, atom in enumerate(atoms):
        out += [Op(symbol, depth, alone), atom] if i else [atom]
    return out


def _sum(node: sp.Add, printer, depth: int) -> list:
    """Terms in the printer's order, a negative one as ``- t``, as SymPy's printers write a sum."""
    out = []
    for i, term in enumerate(printer._as_ordered_terms(node)):
        if i and term.could_extract_minus_sign():
            out += [Op("-", depth), Atom(-term)]
        else:
            out += [Op("+", depth), Atom(term)] if i else [Atom(term)]
    return out


def _product(node: sp.Mul, printer, depth: int) -> list | None:
    """A plain product (no sign, no denominator) with its sums and cases bracketed, as SymPy's printers bracket them."""
    if node.could_extract_minus_sign() or sp.fraction(node, exact=True)[1] != 1:
        return None
    factors = list(node.args) if printer.order in ("old", "none") else node.as_ordered_factors()
    if any(f.is_Mul or f.is_Relational or (f.is_Number and f < 0) for f in factors):
        return None
    atoms = [[Open(), Atom(f), Close()] if f.is_Piecewise or precedence_traditional(f) < PRECEDENCE["Mul"] else [Atom(f)]
             for f in factors]
    out = []
    for i, group in enumerate(atoms):
        out += [Op("×", depth), *group] if i else group
    return out


def _break_depth(items: list, a: int) -> int:
    """The depth of the break that starts a row at ``a``: the operator it starts with, or the comma before it."""
    return items[a].depth if isinstance(items[a], Op) and items[a].symbol in BREAK_BEFORE else items[a - 1].depth


def _breaks(items: list, a: int, b: int) -> list[int]:
    """Where a row may start inside ``items[a:b]``."""
    return [i for i in range(a + 1, b)
            if (isinstance(items[i], Op) and items[i].symbol in BREAK_BEFORE)
            or (isinstance(items[i - 1], Op) and items[i - 1].symbol in BREAK_AFTER)]


def _pack(items: list, a: int, b: int, fits: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """``items[a:b]`` as spans of rows: cut at the shallowest breaks, as many pieces to a row as fit (one
    where the breaks say ``alone``); a piece too wide alone is cut deeper, and what follows it starts a new row."""
    breaks = _breaks(items, a, b)
    if fits(a, b) or not breaks:
        return [(a, b)]
    depth = min(_break_depth(items, i) for i in breaks)
    cuts = [a] + [i for i in breaks if _break_depth(items, i) == depth] + [b]
    alone = all(isinstance(items[i], Op) and items[i].alone for i in cuts[1:-1])
    spans: list[tuple[int, int]] = []
    row: tuple[int, int] | None = None
    for start, end in zip(cuts, cuts[1:]):
        if row is not None and not alone and fits(row[0], end):
            row = (row[0], end)
            continue
        if row is not None:
            spans.append(row)
            row = None
        if fits(start, end):
            row = (start, end)
        else:
            spans += _pack(items, start, end, fits)
    return spans + ([row] if row is not None else [])
