"""The relation before each side of a step (formulas/relations.py): = only where the sides are equal."""

from __future__ import annotations

import sympy as sp

from symbackprop.documents.formulas import latex, mathml, relations
from symbackprop.documents.nodes import Step
from symbackprop.documents.printers.terminal import step_lines

x, y = sp.symbols("x y")


def kinds(step):
    return [(p.relation, p.kind) for p in relations.parts(step)]


def test_an_exact_substitution_keeps_equals_and_the_fraction():
    third = sp.Rational(1, 3)  # 0.25 / 0.75, the values put in are exact decimals
    step = Step("q", sp.Symbol("q"), (x / y,), x / y, {x: sp.Rational(1, 4), y: sp.Rational(3, 4)}, third)
    assert kinds(step) == [("", "lhs"), ("=", "form"), ("=", "substitution"), ("=", "fraction"), ("≈", "decimal")]
    assert [s.relation for s in latex.sides(step)] == ["", "=", "=", "=", r"\approx"]


def test_a_rounded_number_put_in_makes_the_rest_approximate():
    a = 1 / (1 + sp.exp(-sp.Rational(1, 2)))  # 0.6224593312..., printed rounded
    value = 2 * a
    step = Step("q", sp.Symbol("q"), (2 * x,), 2 * x, {x: a}, value)
    assert kinds(step) == [("", "lhs"), ("=", "form"), ("≈", "substitution"), ("≈", "decimal")]
    line = step_lines(step)[0]
    assert "≈ 2·0.6224593312 ≈ 1.244918662" in line and "= 2·0.6224593312" not in line
    assert [r for r, _, _ in mathml.parts(step)] == ["", "=", "≈", "≈"]


def test_a_rounded_input_with_an_exact_result_still_says_equals():
    """H(0.6224593312) is exactly 1: the relation to the printed value is =."""
    a = 1 / (1 + sp.exp(-sp.Rational(1, 2)))
    step = Step("h", sp.Symbol("h"), (sp.Heaviside(x, 0),), sp.Heaviside(x, 0), {x: a}, sp.Integer(1))
    assert kinds(step)[-2:] == [("≈", "substitution"), ("=", "decimal")]
    assert latex.sides(step)[-1].text == "1.0"


def test_an_update_assigns():
    step = Step("w@2", sp.Symbol("w"), (x + y,), x + y, {x: sp.Rational(6, 10), y: sp.Rational(1, 20)}, sp.Rational(13, 20),
                assigns=True)
    assert [r for r, _ in kinds(step)] == ["", "←", "=", "="]
    assert [s.relation for s in latex.sides(step)] == ["", r"\leftarrow", "=", "="]


def test_a_lone_number_or_a_constant_is_said_once():
    """E^(1) = E_1 = 1/3 ≈ 0.33 (the substitution of a lone symbol is the value); ∂o/∂z_o = 1, not = 1 = 1.0."""
    e1 = sp.Symbol("E_1")
    lone = Step("E^(1)", sp.Symbol("E^(1)"), (e1,), e1, {e1: sp.Rational(1, 3)}, sp.Rational(1, 3))
    assert kinds(lone) == [("", "lhs"), ("=", "form"), ("=", "fraction"), ("≈", "decimal")]
    one = Step("da/dz", sp.Symbol("s"), (sp.Integer(1),), sp.Integer(1), {}, sp.Integer(1))
    assert kinds(one) == [("", "lhs"), ("=", "form"), ("=", "substitution")]
    assert step_lines(one)[0].split() == ["s", "=", "1"]
