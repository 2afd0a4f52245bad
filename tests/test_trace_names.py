"""Quantity names resolve as DESIGN says, and nonsense names are refused with a located message."""

import pytest
import sympy as sp
from conftest import DERIVATIONS, SEED_CHAIN

import symbackprop
from symbackprop.core.errors import InputError


@pytest.fixture(scope="module")
def batch():
    return symbackprop.derive(symbackprop.load(DERIVATIONS / "shared_weight_batch.toml")).trace()


def test_batch_quantities_combine_examples(batch):
    # mse over one output, batch mean: E = mean of (y - o)^2
    assert batch["E@1"] == (batch["E[1]@1"] + batch["E[2]@1"]) / 2
    assert batch["dE/dv1"] == (batch["dE/dv1[1]"] + batch["dE/dv1[2]"]) / 2
    # v1 is trained with lr 0.05, subtract; b_o is frozen
    # iteration 2 is a long run's (its closed forms outgrew exact ones): equal to its 50 digits
    want = (batch["v1@1"] - sp.Rational(1, 20) * batch["dE/dv1@1"]).evalf(60)
    assert abs(batch["v1@2"] - want) < 1e-48 and batch.values.long.start == 2
    assert batch["b_o@3"] == sp.Rational("0.1") and batch["Delta_b_o@2"] == 0


def test_first_example_values_by_hand(batch):
    # example 1: x = (1, 0.5); z_h1 = 0.5*1 - 0.25*0.5 = 0.375; z_h2 = 0.75*1 + 0.5*0.5 = 1
    assert batch["z_h1[1]"] == sp.Rational(3, 8)
    assert batch["z_h2[1]"] == 1
    assert batch["a_h1[1]"] == sp.tanh(sp.Rational(3, 8))
    assert batch["a_h2[1]"] == 1 / (1 + sp.exp(-1))


@pytest.mark.parametrize("name,fragment", [
    ("z_q", "names no quantity"),
    ("z_h1", "needs an example index"),
    ("z_h1[3]", "no example 3"),
    ("w_s@9", "iteration 9 is beyond"),
    ("w s", "not a quantity name"),
])
def test_bad_names(batch, name, fragment):
    with pytest.raises(InputError, match=fragment):
        batch[name]


def test_single_example_needs_no_index():
    t = symbackprop.derive(symbackprop.load(SEED_CHAIN)).trace()
    assert t["z_a"] == t["z_a[1]@1"] == sp.Rational("0.76")
