"""Every row of the function table: its stated derivative is diff of its SymPy form, its NumPy form
agrees, its range holds, and every field of a row is read by the package."""

import ast
import dataclasses

import numpy as np
import pytest
import sympy as sp
from conftest import ROOT

from symbackprop.core import function_table
from symbackprop.core.function_table import ACTIVATIONS, LOSSES, Activation, Loss

z = sp.Symbol("z", real=True)
POINTS = [-2.5, -1, -0.3, 0.2, 0.7, 1.9, 3.02]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_is_diff_of_form(name):
    act = ACTIVATIONS[name]
    form = act.form(z)
    stated = act.derivative(z, form)
    by_diff = sp.diff(form, z)
    for x in POINTS:  # away from any kink, the two must agree exactly
        x = sp.Rational(str(x))
        assert sp.simplify(by_diff.subs(z, x) - stated.subs(z, x)) == 0, (name, x)
    if name not in ("relu", "leaky_relu"):
        assert sp.simplify(by_diff - stated) == 0


def test_kink_conventions_follow_pytorch():
    assert ACTIVATIONS["relu"].derivative(sp.Integer(0), sp.Integer(0)) == 0
    assert ACTIVATIONS["leaky_relu"].derivative(sp.Integer(0), sp.Integer(0)) == sp.Rational(1, 100)
    assert ACTIVATIONS["relu"].convention and ACTIVATIONS["leaky_relu"].convention


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_numpy_agrees_with_sympy(name):
    act = ACTIVATIONS[name]
    xs = np.array(POINTS)
    expected = [float(act.form(z).subs(z, sp.Float(x))) for x in POINTS]
    np.testing.assert_allclose(act.numpy(xs), expected, rtol=1e-13)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_range_holds_and_is_reached(name):
    """Exact values over a wide grid lie in the stated range; towards both ends they come within 1e-6 of it."""
    act = ACTIVATIONS[name]
    low, high, closed = act.range
    values = [act.form(sp.Rational(k, 4)) for k in range(-80, 81)]
    for v in values:
        v = sp.N(v, 30)
        assert (v >= low if closed else v > low) and v < high, (name, v)
    ends = [sp.N(act.form(sp.Integer(-60)), 30), sp.N(act.form(sp.Integer(60)), 30)]
    for end, bound in zip(ends, (low, high)):
        assert bound in (-sp.oo, sp.oo) or abs(end - bound) < 1e-6, (name, end, bound)


def test_text_names_find_their_row():
    for act in ACTIVATIONS.values():
        for text_name in act.names:
            assert function_table.activation_named(text_name) is act
    assert function_table.activation_named("softmax") is None


@pytest.mark.parametrize("row", [Activation, Loss], ids=["Activation", "Loss"])
def test_every_field_of_a_row_is_read(row):
    """A field nothing reads is a fact nobody checks: each must be read (``.field``) outside the table."""
    read = set()
    for path in (ROOT / "symbackprop").rglob("*.py"):
        if path.name != "function_table.py":
            read |= {n.attr for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Attribute)}
    unread = [f.name for f in dataclasses.fields(row) if f.name not in read]
    assert not unread, f"{row.__name__} fields nothing reads: {unread}"


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_derivative_and_numpy(name):
    loss = LOSSES[name]
    ys, ps = sp.symbols("y1 y2"), sp.symbols("p1 p2")
    form = loss.form(ys, ps)
    for y, p in zip(ys, ps):
        assert sp.simplify(sp.diff(form, p) - loss.derivative(y, p, 2)) == 0
    Y, P = np.array([[1.0, -2.0], [0.5, 0.25]]), np.array([[0.3, 0.1], [-1.0, 2.0]])
    expected = [float(form.subs(dict(zip(ys + ps, (*Y[i], *P[i]))))) for i in range(2)]
    np.testing.assert_allclose(loss.numpy(Y, P), expected, rtol=1e-14)


def test_loss_values_by_hand():
    y, p = sp.Rational(1), sp.Rational("0.804")
    assert LOSSES["half_sse"].form([y], [p]) == sp.Rational(196, 1000) ** 2 / 2
    assert LOSSES["sse"].form([y], [p]) == sp.Rational(196, 1000) ** 2
    # torch MSELoss over two outputs: mean of squared errors
    assert LOSSES["mse"].form([1, 2], [0, 0]) == sp.Rational(5, 2)
