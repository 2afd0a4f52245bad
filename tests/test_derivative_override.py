"""Derivation(model, derivatives=...): an activation's derivative overridden (ReLU'(0) = 1), by hand.

One ReLU neuron z = w x + b with x = 2, w = 0.5, b = -1 sits exactly on the kink (z = 0, a = 0);
target y = 1, loss 1/2 (y - a)^2, learning rate 0.1, gradient descent. Then dE/da = -(1 - 0) = -1.
PyTorch's ReLU'(0) = 0 gives delta = 0: nothing moves. ReLU'(0) = 1 gives delta = -1, so
dE/dw = delta x = -2, dE/db = -1, w <- 0.5 + 0.1 * 2 = 0.7, b <- -1 + 0.1 = -0.9; the second
pass has z = 0.7 * 2 - 0.9 = 0.5 = a and E = 1/2 (1 - 0.5)^2 = 0.125.
"""

from __future__ import annotations

import pytest
import sympy as sp

import symbackprop
from symbackprop.core.derivation import Derivation
from symbackprop.core.errors import InputError
from symbackprop.verifier.diagnosis import RELU_RIGHT
from symbackprop.verifier.status import Status

R = sp.Rational


@pytest.fixture
def on_the_kink():
    return symbackprop.dense([1, 1], weights=[[["0.5"]]], biases=[["-1"]], examples=[([2], [1])], iterations=2)


def values(trace):
    names = ("z_n1_1", "a_n1_1", "da_n1_1/dz_n1_1", "delta_n1_1", "dE/dw1_1_1", "dE/db1_1",
             "w1_1_1@2", "b1_1@2", "z_n1_1@2", "E@2")
    return {n: trace[n] for n in names}


def test_default_is_pytorchs_relu_prime_zero(on_the_kink):
    assert values(Derivation(on_the_kink).trace()) == {
        "z_n1_1": 0, "a_n1_1": 0, "da_n1_1/dz_n1_1": 0, "delta_n1_1": 0, "dE/dw1_1_1": 0, "dE/db1_1": 0,
        "w1_1_1@2": R(1, 2), "b1_1@2": -1, "z_n1_1@2": 0, "E@2": R(1, 2)}


def test_relu_prime_zero_one_moves_the_weights_by_hand(on_the_kink):
    assert values(Derivation(on_the_kink, derivatives=RELU_RIGHT).trace()) == {
        "z_n1_1": 0, "a_n1_1": 0, "da_n1_1/dz_n1_1": 1, "delta_n1_1": -1, "dE/dw1_1_1": -2, "dE/db1_1": -1,
        "w1_1_1@2": R(7, 10), "b1_1@2": R(-9, 10), "z_n1_1@2": R(1, 2), "E@2": R(1, 8)}


def test_the_override_reaches_every_use_and_nothing_else(on_the_kink):
    default, right = Derivation(on_the_kink), Derivation(on_the_kink, derivatives={"relu": lambda z, a: sp.Heaviside(z, 1)})
    z = right.z["n1_1"]
    assert default.activation_factor["n1_1"].expr == sp.Heaviside(z, 0)
    assert right.activation_factor["n1_1"].expr == sp.Heaviside(z, 1)
    assert right.deltas["n1_1"] == sp.Heaviside(z, 1) * right.dE_da["n1_1"]
    assert right.loss == default.loss and right.z_expr == default.z_expr
    assert all(right.identity(p) for p in on_the_kink.parameters)  # sympy.diff's f' is the override too


def test_an_override_of_an_unknown_activation_is_refused(on_the_kink):
    with pytest.raises(InputError) as e:
        Derivation(on_the_kink, derivatives={"relux": lambda z, a: 1})
    assert e.value.key == "derivatives" and "unknown activation 'relux'" in e.value.what


def test_diagnosis_finds_relu_prime_zero_one(tmp_path, on_the_kink):
    """A text that takes ReLU'(0) = 1 states w = 0.7 after the step; the diagnosis names the convention."""
    path = tmp_path / "kink.toml"
    path.write_text(on_the_kink.to_toml() + '\n[[claims]]\nquantity = "w1_1_1@2"\nstated = "0.7"\n'
                    'source = "kink.txt:1"\nquote = "w = 0.7"\n')
    (r,) = symbackprop.verify(path).results
    assert r.status is Status.MISMATCH and r.exact == R(1, 2) and r.explained
    assert "ReLU'(0) = 1 instead of 0: gives 0.7" in r.diagnosis


@pytest.mark.parametrize("batch", [1, 40])  # one example: the float code; forty copies: the matrix form
def test_compiled_code_follows_the_override(on_the_kink, batch):
    """The compiled module of an overridden derivation takes ReLU'(0) = 1 too, in every code shape:
    dE/dw = -2, dE/db = -1 (the hand-derived numbers above), where the default gives 0 and 0."""
    import numpy as np

    X, Y = np.full((batch, 1), 2.0), np.ones((batch, 1))
    for derivatives, want in ((RELU_RIGHT, [-2.0, -1.0]), (None, [0.0, 0.0])):
        compiled = symbackprop.compile(Derivation(on_the_kink, derivatives=derivatives), numba=False)
        _, grad = compiled(compiled.initial, X, Y)
        np.testing.assert_allclose(grad, want, rtol=1e-12, atol=1e-15)
