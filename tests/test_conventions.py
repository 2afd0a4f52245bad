"""The conventions texts compute by (verifier/conventions.py and the diagnosis table): each on a
hand-made example where it alone reproduces the stated number, worked here with Fractions and
Decimals, not with the code under test."""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction as F

from conftest import cli

CHAIN = """
title = "Two identity neurons a -> b, hand-made"
source = "hand"

[network]
inputs = ["x"]
outputs = ["b"]

[[network.neurons]]
name = "a"
activation = "identity"
inputs = ["x"]
weights = ["w1"]

[[network.neurons]]
name = "b"
activation = "identity"
inputs = ["a"]
weights = ["w2"]

[parameters]
w1 = {w1}
w2 = {w2}

[loss]
function = "half_sse"

[training]
learning_rate = {rate}
iterations = 1

[[examples]]
inputs = {{ x = {x} }}
targets = {{ b = {y} }}
"""

CLAIM = """
[[claims]]
quantity = "{quantity}"
stated = "{stated}"
source = "hand:1"
quote = "made up"
"""


def verify(tmp_path, text: str) -> dict:
    path = tmp_path / "chain.toml"
    path.write_text(text)
    out = cli("verify", str(path), "--json")
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)[0]["claims"][0]


def test_sequential_update_alone_reproduces_a_weight_updated_after_the_layer_above(tmp_path):
    """a = w1 x, b = w2 a, E = 1/2 (y - b)^2. Standard: both gradients from the old weights.
    Sequential: w2 first, then δ_a = δ_b · w2 (new), w1 from that."""
    w1, w2, x, y, rate = F("0.5"), F("0.8"), F("1.5"), F("2"), F("0.1")
    a = w1 * x
    b = w2 * a
    delta_b = b - y
    w2_new = w2 - rate * delta_b * a
    standard = w1 - rate * (delta_b * w2) * x
    sequential = w1 - rate * (delta_b * w2_new) * x
    stated = f"{float(sequential):.6f}"
    assert f"{float(standard):.6f}" != stated
    text = CHAIN.format(w1=w1.numerator / w1.denominator, w2=0.8, rate=0.1, x=1.5, y=2.0)
    claim = verify(tmp_path, text + CLAIM.format(quantity="w1@2", stated=stated))
    assert claim["status"] == "mismatch" and claim["explained"]
    found = [d for d in claim["diagnosis"] if d.startswith("layers updated during the backward pass")]
    assert found and found[0].endswith(f"gives {float(sequential):.10g}".rstrip("0"))
    assert len(claim["diagnosis"]) == 1  # it alone
    assert len(claim["tried"]) == len(set(claim["tried"]))


def test_rounding_at_the_texts_own_precision(tmp_path):
    """A text that writes 6 decimals and computes on from them: z = w1 x, a = z; b = w2 a; E rounded too.
    Its stated E is the value with every intermediate at 6 decimals (half up), not the exact one, and
    not the one at 1-4 decimals."""
    def r(v: Decimal) -> Decimal:
        return v.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)

    w1, w2, x, y = Decimal("0.1234567"), Decimal("0.7654321"), Decimal("0.9999"), Decimal("2.0")
    z_a = r(w1 * x)
    a = r(z_a)
    z_b = r(w2 * a)
    b = r(z_b)
    stated = r(r((y - b) ** 2) / 2)  # the loss form's own steps: (y - b)^2 / 2, each written out
    exact = (y - w2 * w1 * x) ** 2 / 2
    assert stated not in (exact.quantize(Decimal("0.000001"), rounding=mode) for mode in (ROUND_HALF_UP, ROUND_DOWN))
    text = CHAIN.format(w1=w1, w2=w2, rate=0.1, x=x, y=y)
    claim = verify(tmp_path, text + CLAIM.format(quantity="E", stated=str(stated)))
    assert claim["status"] == "mismatch" and claim["explained"], claim
    assert [d.split(":")[0] for d in claim["diagnosis"]] == [
        "every intermediate value rounded to 6 decimals before going on (as the text writes its numbers)"]
    assert "every intermediate value rounded to 4 decimals before going on" in claim["tried"]


def test_carried_rounded_values_alone_reproduce_a_forward_pass_from_the_texts_weights(tmp_path):
    """The text states the updated weights to 2 decimals (each holds) and computes the next loss from
    those, to 6 decimals: only 'computed on from the text's own stated values' gives it."""
    w1, w2, x, y, rate = F("0.5"), F("0.8"), F("1.5"), F("2"), F("0.1")
    a, b = w1 * x, w2 * w1 * x
    delta_b = b - y
    w2_new, w1_new = w2 - rate * delta_b * a, w1 - rate * delta_b * w2 * x
    w1_text, w2_text = (Decimal(float(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for v in (w1_new, w2_new))
    E_text = (F(str(y)) - F(str(w2_text)) * F(str(w1_text)) * x) ** 2 / 2
    E_exact = (y - w2_new * w1_new * x) ** 2 / 2
    stated = Decimal(E_text.numerator) / Decimal(E_text.denominator)
    stated = stated.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    assert abs(F(str(stated)) - E_exact) > F(1, 10**6)
    text = CHAIN.format(w1=0.5, w2=0.8, rate=0.1, x=1.5, y=2.0)
    text += CLAIM.format(quantity="E@2", stated=stated)
    text += CLAIM.format(quantity="w1@2", stated=w1_text) + CLAIM.format(quantity="w2@2", stated=w2_text)
    claim = verify(tmp_path, text)
    assert claim["quantity"] == "E@2" and claim["status"] == "mismatch" and claim["explained"]
    assert [d.split(" (")[0] for d in claim["diagnosis"]] == ["computed on from the text's own stated values"]
    assert f"w1@2 = {w1_text}" in claim["diagnosis"][0] and f"w2@2 = {w2_text}" in claim["diagnosis"][0]
