"""Exact against float64 at a kink: a ReLU whose z is exactly 0 (0.1 · 0.7 − 0.07) where float64
computes −1.39e−17. check names the kink that finite differences straddle and the side float64 is
on; the walkthrough says so at the slope. The float value is Python's own arithmetic here."""

from __future__ import annotations

import numpy as np
from conftest import cli

import symbackprop
from symbackprop.compiler.check import kinked, straddled
from symbackprop.reference.numpy_runtime import Runtime

KINK = """
title = "One ReLU at its kink"
source = "hand"

[network]
inputs = ["x"]
outputs = ["a"]

[[network.neurons]]
name = "a"
activation = "relu"
inputs = ["x"]
weights = ["w"]
bias = "b"

[parameters]
w = {w}
b = {b}

[loss]
function = "half_sse"

[training]
learning_rate = 0.1
iterations = 1

[[examples]]
inputs = {{ x = 0.7 }}
targets = {{ a = 1.0 }}
"""
FLOAT_Z = 0.0 + 0.1 * 0.7 + -0.07  # as float64 sums it: w·x, then the bias


def test_check_names_the_kink_finite_differences_straddle_and_the_side_float64_is_on(tmp_path):
    assert FLOAT_Z < 0
    path = tmp_path / "kink.toml"
    path.write_text(KINK.format(w=0.1, b=-0.07))
    out = cli("check", str(path), "--against", "fd")
    assert out.returncode == 0, out.stdout + out.stderr
    rows = {line.split()[1]: line.split()[-1] for line in out.stdout.splitlines()[1:4]}
    assert rows == {"loss": "ok", "W1": "kink", "b1": "kink"}
    assert "z_a of example 1 changes sign between w - h and + h" in out.stdout
    assert f"z_a of example 1 is 0.0 in the exact trace but {FLOAT_Z:.3e} in float64" in out.stdout


def test_no_kink_is_named_away_from_one(tmp_path):
    """At z = 0.5 (w = 1, b = -0.2, x = 0.7) no difference crosses 0: nothing is excused, nothing noted."""
    path = tmp_path / "smooth.toml"
    path.write_text(KINK.format(w=1.0, b=-0.2))
    model = symbackprop.load(path)
    runtime = Runtime(model)
    params, X = np.array([1.0, -0.2]), np.array([[0.7]])
    assert straddled(runtime, params, X, [0, 1], kinked(model)) == ""
    out = cli("check", str(path), "--against", "fd")
    assert out.returncode == 0 and "kink" not in out.stdout


def test_the_walkthrough_says_where_float64_takes_the_other_slope(tmp_path):
    path = tmp_path / "kink.toml"
    path.write_text(KINK.format(w=0.1, b=-0.07))
    text = " ".join(cli("derive", str(path), "--color", "never").stdout.split())
    shown = f"{FLOAT_Z:.3g}".replace("-", "−")
    assert f"ReLU'(0) = 0, as PyTorch; here z is exactly 0 and float64 computes {shown}, so a float64 program " \
           "takes the slope for z < 0" in text
