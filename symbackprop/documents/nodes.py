"""The document nodes: plain data a builder fills in and printers read. Nothing here computes or prints.

A step's right-hand sides are SymPy expressions or the display nodes Partial, Factors and Terms,
which the formula printers dispatch on by class name (``_print_Factors``), as SymPy's own do.

A section reads, in order: its text, its figure of the network, its tables, its steps, then its
plots (by name, from Walkthrough.plots). Printers number equations, tables and figures in the order
they appear, and a step's ``uses`` names the earlier steps whose values it puts in, so that
printers can refer to them by number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp


class Values(dict):
    """Symbol -> exact value, as a step's substitution puts them in, remembering which quantity each one is
    (``names``: symbol -> its name, e.g. "z_a[1]@1"), so that a page can recompute the numbers it shows."""

    def __init__(self, values=(), names: Mapping | None = None) -> None:
        super().__init__(values)
        self.names = dict(names or {})

    def __or__(self, other):
        return Values({**self, **other}, {**self.names, **getattr(other, "names", {})})


def quantity(name: str, k: int | None, t: int | None) -> str:
    """A quantity's name as steps and pages give it: ``z_a[1]@1`` (example 1, iteration 1), ``w_a1@2``; a setting
    that is no iteration's has none: ``x:x1[1]`` (example 1's input), ``y:o[1]`` (its target), ``c:b0`` (a constant)."""
    return name + (f"[{k}]" if k is not None else "") + (f"@{t}" if t is not None else "")


def named(pairs: Mapping[sp.Symbol, tuple[str, sp.Expr]]) -> Values:
    """Values from symbol -> (quantity name, value)."""
    return Values({s: v for s, (_, v) in pairs.items()}, {s: n for s, (n, _) in pairs.items()})


@dataclass(frozen=True)
class Partial:
    """The Leibniz factor d(numerator)/d(denominator)."""

    numerator: sp.Expr
    denominator: sp.Expr


@dataclass(frozen=True)
class Factors:
    """Factors shown in their given order, joined by a multiplication dot (not SymPy's Mul,
    which would reorder them; nor SymPy's Product, which printers print as SymPy does)."""

    factors: tuple


@dataclass(frozen=True)
class Terms:
    """Terms shown in their given order, joined by plus signs (one per path of a chain)."""

    terms: tuple


@dataclass(frozen=True)
class Listing:
    """Symbols of one kind, comma-separated, the list cut short with "…" past its first few (a table cell)."""

    items: tuple
    more: bool = False


@dataclass(frozen=True)
class Step:
    name: str  # the quantity's claim name, e.g. "z_a[1]@1"
    lhs: object
    forms: tuple = ()  # successive equal right-hand sides, symbolic
    substitution: object | None = None  # a form to print with ``values`` in place of symbols
    values: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)
    value: sp.Expr | None = None
    note: str = ""
    assigns: bool = False  # an update: the left-hand side gets the right's value (w ← w + Δw), not an equation
    uses: tuple[str, ...] = ()  # names of earlier steps whose values the substitution takes (printers cite them)
    quantity: str = ""  # the quantity ``value`` is, where it is not ``name`` (a page recomputes it by this name)
    when: str = ""  # "first" or "later": one of two forms of a step, at the first update or after (a page shows one)


@dataclass(frozen=True)
class Number:
    """An exact value in a table cell: printers write its decimal, ≈ marking a rounded one."""

    value: sp.Expr
    name: str = ""  # the quantity it is ("z_a[1]@1"), for a page that recomputes it; "" for a constant


class Iteration(str):
    """An iteration's number in a table cell, as text: a page that trains on shifts it."""


@dataclass(frozen=True)
class Table:
    """Rows of cells under a head. A cell is prose (str), a Number, or a formula (a SymPy
    expression or a display node, printed through the notation layer like a step's sides)."""

    label: str  # a stable id ("example", "summary-1") for anchors and references
    caption: str
    head: tuple[object, ...]
    rows: tuple[tuple[object, ...], ...]


@dataclass(frozen=True)
class Network:
    """The graph as figures draw it: columns of node names (inputs first) and weighted edges; with
    ``values``, the numbers of one example and iteration by name (inputs, weights, biases, z_n, a_n, E)."""

    columns: tuple[tuple[str, ...], ...]
    edges: tuple[tuple[str, str, str], ...]  # (source, neuron, weight name)
    outputs: tuple[str, ...]
    activations: Mapping[str, str] = field(default_factory=dict)  # neuron -> activation name
    biases: Mapping[str, str] = field(default_factory=dict)  # neuron -> additive bias parameter
    values: Mapping[str, sp.Expr] = field(default_factory=dict)  # "x1", "w_a1", "z_a", "a_a", "E" -> exact value
    names: Mapping[str, str] = field(default_factory=dict)  # the same keys -> the quantity each value is ("z_a[1]@1")
    caption: str = "The network: inputs on the left, each neuron to the right of its inputs, the loss E last."


@dataclass(frozen=True)
class Section:
    title: str
    steps: tuple[Step, ...] = ()
    text: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    network: Network | None = None  # a figure of the network, drawn after the text
    plots: tuple[str, ...] = ()  # names of Walkthrough.plots drawn after the steps


@dataclass(frozen=True)
class Plot:
    """One figure's data, computed by the builder so that printers only draw it."""

    name: str  # a file stem, e.g. "loss"
    title: str
    xlabel: str
    ylabel: str
    curves: tuple[tuple[str, tuple[float, ...], tuple[float, ...]], ...]  # (label, xs, ys)
    points: tuple[tuple[str, float, float], ...] = ()  # (label, x, y)
    caption: str = ""  # a sentence under the numbered figure: what it shows and where its numbers come from


@dataclass(frozen=True)
class Walkthrough:
    title: str
    sections: tuple[Section, ...]
    plots: tuple[Plot, ...] = ()  # drawn where a section names them
