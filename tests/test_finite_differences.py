"""Gradients of the trace against central differences of the loss (forward passes only)."""

import dataclasses

import pytest
import sympy as sp
from conftest import DERIVATIONS

import symbackprop

H = sp.Rational(1, 10**8)


def loss_at(model, params):
    moved = dataclasses.replace(model, parameters=params, iterations=0)
    return symbackprop.derive(moved).trace()["E"]


@pytest.mark.parametrize("name", ["seed003_chain.toml", "dense_2_2_1.toml", "shared_weight_batch.toml"])
def test_gradient_matches_central_differences(name):
    model = symbackprop.load(DERIVATIONS / name)
    trace = symbackprop.derive(model).trace(1)
    for p, value in model.parameters.items():
        up = loss_at(model, {**model.parameters, p: value + H})
        down = loss_at(model, {**model.parameters, p: value - H})
        fd = sp.N((up - down) / (2 * H), 30)
        exact = sp.N(trace[f"dE/d{p}@1"], 30)  # the batch gradient
        assert abs(fd - exact) < sp.Float("1e-12"), (p, fd, exact)
