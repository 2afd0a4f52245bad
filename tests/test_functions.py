"""Every row of the function table: its stated derivative is diff of its SymPy form, its NumPy form
agrees, its range holds, and every field of a row is read by the package."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from conftest import ROOT

from symbackprop.core import function_table
from symbackprop.core.function_table import ACTIVATIONS, Activation, Loss

z = sp.Symbol("z", real=True)
POINTS = [-2.5, -1, -0.3, 0.2, 0.7, 1.9, 3.02]


SCALAR = sorted(function_table.SCALAR)
COUPLED = sorted(set(ACTIVATIONS) - set(SCALAR))
zs = sp.symbols("z1 z2 z3", real=True)


@pytest.mark.parametrize("name", COUPLED)
def test_coupled_jacobian_is_diff_of_group_form(name):
    """A softmax row's da_i/dz_i (``derivative``) and da_i/dz_j (``cross``) are diff of its group form."""
    act = ACTIVATIONS[name]
    a = [act.group(z_i, zs) for z_i in zs]
    point = {z_k: sp.Rational(v) for z_k, v in zip(zs, ("3/10", "-7/5", "2"))}
    for i in range(3):
        for j in range(3):
            stated = act.derivative(zs[i], a[i]) if i == j else act.cross(a[i], a[j])
            assert sp.simplify(sp.diff(a[i], zs[j]) - stated) == 0, (name, i, j)
            assert abs(sp.N((sp.diff(a[i], zs[j]) - stated).subs(point), 40)) < 1e-35


@pytest.mark.parametrize("name", COUPLED)
def test_coupled_numpy_agrees_with_sympy_and_range(name):
    act = ACTIVATIONS[name]
    rows = np.array([[-2.5, 0.2, 3.02], [700.0, 699.0, -5.0], [0.0, 0.0, 0.0]])  # the second overflows a naive exp
    for row in rows:
        exact = [sp.N(act.group(sp.Rational(str(v)), [sp.Rational(str(u)) for u in row]), 30) for v in row]
        np.testing.assert_allclose(act.numpy(row[None, :])[0], [float(e) for e in exact], rtol=1e-13, atol=1e-300)
        low, high, _ = act.range
        assert all(low < e < high or (e == low and low != -sp.oo) for e in exact if e != 0), (name, exact)


def test_coupled_form_refuses_one_neuron_alone():
    with pytest.raises(TypeError, match="whole layer"):
        ACTIVATIONS["softmax"].form(z)


@pytest.mark.parametrize("name", sorted(function_table.LOSSES))
def test_loss_derivative_is_diff_of_form_and_numpy_agrees(name):
    loss = function_table.LOSSES[name]
    ys, ps = sp.symbols("y1 y2", real=True), sp.symbols("p1 p2", real=True)
    form = loss.form(ys, ps)
    point = {ys[0]: sp.Rational(1, 4), ys[1]: sp.Rational(3, 4), ps[0]: sp.Rational(3, 10), ps[1]: sp.Rational(-2, 5)}
    if loss.output in ("unit", "softmax"):
        point[ps[1]] = sp.Rational(7, 10)
    for y, p in zip(ys, ps):
        assert abs(sp.N((sp.diff(form, p) - loss.derivative(y, p, 2)).subs(point), 40)) < 1e-35, (name, p)
    Y = np.array([[float(point[ys[0]]), float(point[ys[1]])]])
    P = np.array([[float(point[ps[0]]), float(point[ps[1]])]])
    np.testing.assert_allclose(loss.numpy(Y, P), [float(form.subs(point))], rtol=1e-13)


@pytest.mark.parametrize("name", [n for n, loss in function_table.LOSSES.items() if loss.simplified])
def test_simplified_error_term_equals_the_chain(name):
    """dE/dz_j = sum_i dE/da_i da_i/dz_j equals the row's simplified form (a_j - y_j) where targets sum to 1."""
    loss = function_table.LOSSES[name]
    for act_name, simplified in loss.simplified.items():
        act = ACTIVATIONS[act_name]
        ys = sp.symbols("y1 y2 y3", real=True)
        if act.coupled:
            a = [act.group(z_i, zs) for z_i in zs]
            form = loss.form(ys, a)
            constraint = {ys[2]: 1 - ys[0] - ys[1]}
        else:
            a = [act.form(z_i) for z_i in zs]
            form = loss.form(ys, a)
            constraint = {}
        for j in range(3):
            difference = (sp.diff(form, zs[j]) - simplified(ys[j], a[j], 3)).xreplace(constraint)
            assert sp.simplify(difference) == 0, (name, act_name, j)


@pytest.mark.parametrize("name", SCALAR)
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


@pytest.mark.parametrize("name", SCALAR)
def test_activation_numpy_agrees_with_sympy(name):
    act = ACTIVATIONS[name]
    xs = np.array(POINTS)
    expected = [float(act.form(z).subs(z, sp.Float(x))) for x in POINTS]
    np.testing.assert_allclose(act.numpy(xs), expected, rtol=1e-13)


@pytest.mark.parametrize("name", SCALAR)
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
    assert function_table.activation_named("swish") is None


READS = """
import dataclasses, json, sys
from symbackprop.core import function_table as table

read = set()
for row in (table.Activation, table.Loss):
    fields = {f.name for f in dataclasses.fields(row)}

    def recording(self, name, _fields=fields, _row=row.__name__):
        if name in _fields:
            read.add(f"{_row}.{name}")
        return object.__getattribute__(self, name)

    row.__getattribute__ = recording

import symbackprop
from symbackprop.documents.builder import build

for path in sys.argv[1:]:
    d = symbackprop.derive(symbackprop.load(path))
    build(d, d.trace(), plots=True)
    symbackprop.verify(path)
    symbackprop.compile(d, numba=False)
print(json.dumps(sorted(read)))
"""


def test_every_field_of_a_row_is_read():
    """A field nothing reads is a fact nobody checks: deriving, documenting (with plot data), verifying
    and compiling every bundled file must read each field of both rows (recorded on the rows themselves)."""
    files = [str(p) for p in sorted((ROOT / "derivations").glob("*.toml"))]
    done = subprocess.run([sys.executable, "-c", READS, *files], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    read = set(json.loads(done.stdout))
    fields = {f"{row.__name__}.{f.name}" for row in (Activation, Loss) for f in dataclasses.fields(row)}
    assert not fields - read, f"fields nothing reads: {sorted(fields - read)}"
