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
