"""The sides of a step and the relation before each, one rule for every printer: ``=`` between equal
sides, ``≈`` where a rounded number comes in, ``←`` for an update.

A substitution puts each value in as its decimal (formulas print ``decimal(v)``); when one of those
decimals is rounded, the substituted formula only approximates the quantity, so it follows ``≈``,
and the exact fraction is not written after it (it would read as the rounded formula's value). A
value that is exactly its decimal (``H(0.804) = 1``, ``max(0, −0.31) = 0``) still follows ``=``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from ...core.decimals import decimal
from ..nodes import Factors, Partial, Step, Terms

EQUAL, APPROX, ASSIGN = "=", "≈", "←"
LONG_FRACTION = 40  # an exact fraction longer than this many characters is shown by its decimal only


@dataclass(frozen=True)
class Part:
    """One side: its relation ("" for the left-hand side), what it is (``lhs``, ``form``,
    ``substitution``: ``node`` printed with ``values``; ``fraction`` or ``decimal``: ``node`` is the value)."""

    relation: str
    kind: str
    node: object
    values: Mapping | None = None


def is_exact(value: sp.Expr) -> bool:
    """The value is its printed decimal."""
    value = sp.sympify(value)
    if not value.is_Rational:
        return False
    dec = decimal(value)
    return "e" not in dec and sp.Rational(dec) == value


def symbols(node) -> set[sp.Symbol]:
    """The symbols a formula node names, through the display nodes."""
    if isinstance(node, sp.Basic):
        return node.free_symbols
    if isinstance(node, Factors | Terms):
        return set().union(*(symbols(n) for n in (node.factors if isinstance(node, Factors) else node.terms)))
    if isinstance(node, Partial):
        return symbols(node.numerator) | symbols(node.denominator)
    return set()


def exact_substitution(node, values: Mapping) -> bool:
    """Every number the substitution puts in is printed exactly."""
    return all(is_exact(values[s]) for s in symbols(node) if s in values)


def parts(step: Step) -> list[Part]:
    """The step's sides in order: left-hand side, forms, substitution, then the value (its fraction
    when short and not after a rounding, then its decimal, ``≈`` when rounded). Printers print
    each part and leave out one whose text they have already written."""
    out = [Part("", "lhs", step.lhs)]
    out += [Part(EQUAL if i else (ASSIGN if step.assigns else EQUAL), "form", form) for i, form in enumerate(step.forms)]
    rounded_in = False
    lone = isinstance(step.substitution, sp.Symbol) and step.substitution in step.values  # one number: the value says it
    if step.substitution is not None and not lone:
        rounded_in = not exact_substitution(step.substitution, step.values)
        out.append(Part(APPROX if rounded_in else EQUAL, "substitution", step.substitution, step.values))
    said = out[-1].node
    if step.value is not None and not (isinstance(said, sp.Number) and said == step.value):  # ∂o/∂z_o = 1, not = 1 = 1.0
        value = sp.sympify(step.value)
        if is_exact(value):
            out.append(Part(EQUAL, "decimal", value))
        else:
            if not rounded_in and value.is_Rational and len(str(value)) <= LONG_FRACTION:
                out.append(Part(EQUAL, "fraction", value))
            out.append(Part(APPROX, "decimal", value))
    return out
