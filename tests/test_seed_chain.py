"""Seed 003 chapter 2, worked by hand with plain fractions, against the exact trace."""

from fractions import Fraction as F

import pytest
import sympy as sp
from conftest import SEED_CHAIN

import symbackprop


@pytest.fixture(scope="module")
def trace():
    return symbackprop.derive(symbackprop.load(SEED_CHAIN)).trace()


def hand():
    """The chain by hand: E = 1/2 (y - b)^2, ReLU both neurons, lr = -0.6 added."""
    x1, x2, x3, b0, y = F("0.2"), F("0.1"), F("0.4"), F(1), F(1)
    w = {"w_a0": F("0.6"), "w_a1": F("0.1"), "w_a2": F("0.2"), "w_a3": F("0.3"), "w_b0": F("0.5"), "w_b1": F("0.4")}
    z_a = b0 * w["w_a0"] + x1 * w["w_a1"] + x2 * w["w_a2"] + x3 * w["w_a3"]
    a = max(F(0), z_a)
    z_b = b0 * w["w_b0"] + a * w["w_b1"]
    b = max(F(0), z_b)
    E = F(1, 2) * (y - b) ** 2
    delta_b = -(y - b) * (1 if z_b > 0 else 0)
    delta_a = delta_b * w["w_b1"] * (1 if z_a > 0 else 0)
    grads = {"w_a0": delta_a * b0, "w_a1": delta_a * x1, "w_a2": delta_a * x2, "w_a3": delta_a * x3,
             "w_b0": delta_b * b0, "w_b1": delta_b * a}
    new = {p: w[p] + F("-0.6") * grads[p] for p in w}
    return dict(z_a=z_a, z_b=z_b, E=E, delta_a=delta_a, delta_b=delta_b, grads=grads, new=new)


def q(value: F) -> sp.Rational:
    return sp.Rational(value.numerator, value.denominator)


def test_forward_pass_by_hand(trace):
    h = hand()
    assert h["z_a"] == F("0.76") and h["z_b"] == F("0.804")  # the text's own numbers
    assert trace["z_a"] == sp.Rational("0.76")
    assert trace["a_a"] == sp.Rational("0.76")
    assert trace["z_b"] == sp.Rational("0.804")
    assert trace["E"] == sp.Rational(1, 2) * (1 - sp.Rational("0.804")) ** 2 == q(h["E"])


def test_error_terms_and_factors_by_hand(trace):
    h = hand()
    assert trace["delta_b"] == q(h["delta_b"]) == sp.Rational("-0.196")
    assert trace["delta_a"] == q(h["delta_a"]) == sp.Rational("-0.0784")
    assert trace["dE/da_b"] == sp.Rational("-0.196")
    assert trace["da_b/dz_b"] == 1
    assert trace["dz_b/da_a"] == sp.Rational("0.4")
    assert trace["dz_a/dw_a1"] == sp.Rational("0.2")


@pytest.mark.parametrize("p", ["w_a0", "w_a1", "w_a2", "w_a3", "w_b0", "w_b1"])
def test_gradients_and_updates_by_hand(trace, p):
    h = hand()
    assert trace[f"dE/d{p}"] == q(h["grads"][p])
    assert trace[f"Delta_{p}"] == q(h["new"][p]) - trace[p]
    assert trace[f"{p}@2"] == q(h["new"][p])


def test_named_values_by_hand(trace):
    # w_b1: 0.4 + (-0.6)(-0.196)(0.76) = 0.489376; w_a1: 0.1 + (-0.6)(-0.0784)(0.2) = 0.109408
    assert trace["w_b1@2"] == sp.Rational("0.489376")
    assert trace["w_a1@2"] == sp.Rational("0.109408")
    assert trace["Delta_w_b1"] == sp.Rational("0.089376")


def test_second_forward_pass_by_hand(trace):
    new = hand()["new"]
    z_a = new["w_a0"] + F("0.2") * new["w_a1"] + F("0.1") * new["w_a2"] + F("0.4") * new["w_a3"]
    z_b = new["w_b0"] + z_a * new["w_b1"]
    assert trace["z_a@2"] == q(z_a) == sp.Rational("0.8169184")
    assert trace["a_b@2"] == q(z_b)
    assert trace["E@2"] == q(F(1, 2) * (1 - z_b) ** 2)


def test_chain_is_the_texts_leibniz_product():
    d = symbackprop.derive(symbackprop.load(SEED_CHAIN))
    (path,) = d.chain("w_a1")
    assert [f.name for f in path] == ["dE/da_b", "da_b/dz_b", "dz_b/da_a", "da_a/dz_a", "dz_a/dw_a1"]
    assert d.composed_form("w_a1") == "E(b(z_b(a(z_a(w_a1)))))"
    assert d.composed_form("w_b1") == "E(b(z_b(w_b1)))"
    x1, w_b1 = d.symbols["x1"], d.symbols["w_b1"]
    assert path[2].expr == w_b1 and path[4].expr == x1
