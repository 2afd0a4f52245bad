"""Formulas in layer notation (vector and index forms): the four backpropagation equations hold
component by component, and each deliberately wrong version is a mismatch naming the components
that fail. Values are checked against backpropagation written here in NumPy matrices."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import DERIVATIONS

import symbackprop
from symbackprop.verifier.status import Status

EQUATIONS = DERIVATIONS / "backprop_equations.toml"


@pytest.fixture(scope="module")
def report():
    return {r.claim.source: r for r in symbackprop.verify(EQUATIONS).results}


@pytest.fixture(scope="module")
def network():
    """W^l, b^l, z^l, a^l and delta^l in NumPy, with Nielsen's numbering (the inputs are layer 1)."""
    m = symbackprop.load(EQUATIONS)
    p = {k: float(v) for k, v in m.parameters.items()}
    sizes = [2, 2, 2, 1]
    W = {l + 1: np.array([[p[f"w{l}_{j}_{i}"] for i in range(1, sizes[l - 1] + 1)] for j in range(1, sizes[l] + 1)])
         for l in range(1, 4)}
    b = {l + 1: np.array([p[f"b{l}_{j}"] for j in range(1, sizes[l] + 1)]) for l in range(1, 4)}
    ex = m.examples[0]
    a = {1: np.array([float(ex.inputs["x1"]), float(ex.inputs["x2"])])}
    z = {}
    for l in (2, 3, 4):
        z[l] = W[l] @ a[l - 1] + b[l]
        a[l] = 1 / (1 + np.exp(-z[l]))
    y = np.array([float(ex.targets["n3_1"])])
    slope = {l: a[l] * (1 - a[l]) for l in (2, 3, 4)}
    delta = {4: (a[4] - y) * slope[4]}
    for l in (3, 2):
        delta[l] = (W[l + 1].T @ delta[l + 1]) * slope[l]
    return {"W": W, "a": a, "y": y, "slope": slope, "delta": delta}


def line(n: int) -> str:
    return f"four_equations.md:{n}"


CORRECT = {10: "BP1 vector", 11: "BP1 with a - y", 12: "BP2 vector", 13: "BP3 vector", 14: "BP4 vector", 15: "forward",
           19: "BP1 index", 20: "BP2 index", 21: "BP3 index", 22: "BP4 index"}
COMPONENTS = {10: 1, 11: 1, 12: 4, 13: 5, 14: 10, 15: 5, 19: 1, 20: 4, 21: 5, 22: 10}  # by the sizes 2-2-2-1, by hand


@pytest.mark.parametrize("n", sorted(CORRECT))
def test_the_four_equations_hold_in_both_forms_for_every_component(report, n):
    r = report[line(n)]
    assert r.status is Status.HOLDS, (CORRECT[n], r.diagnosis)
    assert len(r.formula.components) == COMPONENTS[n]
    assert all(c.status is Status.HOLDS for _, c in r.formula.components)


def _values(r) -> dict[str, tuple[float, float]]:
    """Each failing component's left side -> (the text's formula, the derivation) at the example."""
    return {f.partition(" = ")[0]: (float(c.text_value), float(c.exact)) for f, c in r.formula.components
            if c.status is Status.MISMATCH}


def test_forgetting_the_output_slope_fails_with_numpy_values(report, network):
    r = report[line(26)]
    assert r.status is Status.MISMATCH
    got = _values(r)
    assert sorted(got) == [r"\delta^{4}_{1}"]
    n = network
    for j in (1,):
        text, exact = got[rf"\delta^{{4}}_{{{j}}}"]
        assert text == pytest.approx(n["a"][4][j - 1] - n["y"][j - 1], rel=1e-12)
        assert exact == pytest.approx(n["delta"][4][j - 1], rel=1e-12)


@pytest.mark.parametrize("n, why", [(27, "the index j runs over 2 in \\delta^{3}_{j} but over 1 in w^{4}_{jk}"),
                                    (28, "w^{l+1} \\delta^{l+1} is a 1x2 matrix times a 1-vector: the shapes do not "
                                         "conform ((w^{l+1})^T \\delta^{l+1} would)")])
def test_w_in_place_of_its_transpose_fails_each_component_of_the_square_layer(report, network, n, why):
    """The wrong index and the missing transpose compute W delta: wrong at every component of
    layer 2 (a 2x2 weight matrix above it), not even defined at layer 3 (1x2 above it)."""
    r = report[line(n)]
    assert r.status is Status.MISMATCH
    got = _values(r)
    assert sorted(got) == [rf"\delta^{{2}}_{{{j}}}" for j in (1, 2)]
    wrong = (network["W"][3] @ network["delta"][3]) * network["slope"][2]
    for j in (1, 2):
        text, exact = got[rf"\delta^{{2}}_{{{j}}}"]
        assert text == pytest.approx(wrong[j - 1], rel=1e-12) and exact == pytest.approx(network["delta"][2][j - 1], rel=1e-12)
    assert f"at l = 3: {why}" in r.diagnosis
    assert r.diagnosis[0] == "at l = 2: does not hold for $\\delta^{2}_{1}$, $\\delta^{2}_{2}$"


def test_leaving_out_the_hidden_slope_fails_at_both_hidden_layers(report, network):
    r = report[line(29)]
    got = _values(r)
    assert sorted(got) == sorted(rf"\delta^{{{l}}}_{{{j}}}" for l in (2, 3) for j in (1, 2))
    for l in (2, 3):
        text = network["W"][l + 1].T @ network["delta"][l + 1]
        for j in (1, 2):
            assert got[rf"\delta^{{{l}}}_{{{j}}}"][0] == pytest.approx(text[j - 1], rel=1e-12)


def test_swapped_weight_indices_hold_only_on_the_diagonal(report, network):
    """a_j delta_k in place of a_k delta_j: right where j = k, so only on the square layers' diagonals."""
    r = report[line(30)]
    assert r.status is Status.MISMATCH
    for l in (2, 3):
        held = re.search(rf"at l = {l}: holds for (.*?); does not hold for (.*)", "\n".join(r.diagnosis))
        assert held[1].split(", ") == [rf"$\frac{{\partial C}}{{\partial w^{{{l}}}_{{{j}{j}}}}}$" for j in (1, 2)]
        assert held[2].split(", ") == [rf"$\frac{{\partial C}}{{\partial w^{{{l}}}_{{{j}{k}}}}}$" for j, k in ((1, 2), (2, 1))]
    for lhs, (text, exact) in _values(r).items():
        l, j, k = map(int, re.search(r"w\^\{(\d)\}_\{(\d)(\d)\}", lhs).groups())
        assert exact == pytest.approx(network["a"][l - 1][k - 1] * network["delta"][l][j - 1], rel=1e-12)
        assert text == pytest.approx(network["a"][l - 1][j - 1] * network["delta"][l][k - 1], rel=1e-12)
    assert "at l = 4: the index j runs over 1 in w^{4}_{jk} but over 2 in a^{3}_{j}" in r.diagnosis


def test_the_derivation_is_printed_in_the_notation(report):
    assert report[line(29)].formula.correct == (
        r"\delta^{2}_{1} = a^{2}_{1} \left(1 - a^{2}_{1}\right) \left(\delta^{3}_{1} w^{3}_{11} + \delta^{3}_{2} w^{3}_{21}\right)")


# -- the same formula in symbackprop's own numbering, and where the notation cannot be read -----
def _file(tmp_path, *claims: str, sizes: str = "2,3,2", activation: str = "sigmoid") -> str:
    path = tmp_path / "net.toml"
    net = symbackprop.dense([int(s) for s in sizes.split(",")], activation, seed=5)
    path.write_text(net.to_toml() + "".join(f"\n[[claims]]\n{c}source = \"t.txt:1\"\n" for c in claims))
    return str(path)


def test_input_layer_zero_is_symbackprops_numbering(tmp_path):
    bp2 = 'formula = "\\\\delta^l_j = \\\\sum_k w^{l+1}_{kj} \\\\delta^{l+1}_k \\\\sigma\'(z^l_j)"\n'
    path = _file(tmp_path, bp2 + "layer = 1\n", bp2 + "layer = [2]\ninput_layer = 1\n")
    first, second = symbackprop.verify(path).results
    assert first.status is second.status is Status.HOLDS
    assert first.formula.components[0][0].startswith(r"\delta^{1}_{1} = w^{2}_{11} \delta^{2}_{1}")
    assert second.formula.components[0][0].startswith(r"\delta^{2}_{1} = w^{3}_{11} \delta^{3}_{1}")
    assert [c.exact for _, c in first.formula.components] == [c.exact for _, c in second.formula.components]


def test_f_prime_is_the_neurons_own_slope(tmp_path):
    bp1 = "\\\\delta^L_j = \\\\frac{\\\\partial C}{\\\\partial a^L_j} "
    path = _file(tmp_path, f'formula = "{bp1}f\'(z^L_j)"\n', f'formula = "{bp1}\\\\sigma\'(z^L_j)"\n', activation="tanh")
    own, sigmoid = symbackprop.verify(path).results
    assert own.status is Status.HOLDS and sigmoid.status is Status.MISMATCH


BAD = {  # claim table -> the message after "FILE: "
    "l unbound": ('formula = "\\\\delta^l = \\\\delta^l"\n', "claims[0].layer: the formula's generic layer l is not bound: "
                                                            'add layer = N, a list, or "all"'),
    "a layer the net lacks": ('formula = "\\\\delta^l = (w^{l+1})^T \\\\delta^{l+1}"\nlayer = [2]\n',
                              "claims[0].layer: at l = 2: w^{3}: the network has weights at layers 1 to 2 only"),
    "an entry beyond its layer": ('formula = "\\\\delta^{2}_{7} = 1"\n', "claims[0].formula: \\delta^{2}_{7}: \\delta^{2} has 2 entries"),
    "layer bound but unused": ('formula = "\\\\delta^2 = \\\\delta^2"\nlayer = 1\n',
                               "claims[0].layer: layer binds l, which the formula does not use"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_claim_the_network_cannot_stand_for_exits_2_located(tmp_path, run_cli, case):
    table, message = BAD[case]
    path = _file(tmp_path, table)
    done = run_cli("verify", path)
    assert done.returncode == 2 and done.stderr.strip() == f"symbackprop: error: {path}: {message}"


def test_a_non_layered_network_is_refused_in_one_line(run_cli, tmp_path):
    path = tmp_path / "chain.toml"
    path.write_text((DERIVATIONS / "seed003_chain.toml").read_text().split("[[claims]]")[0]
                    + '[[claims]]\nformula = "\\\\delta^l_j = 1"\nlayer = 1\nsource = "t.txt:1"\n')
    done = run_cli("verify", str(path))
    assert done.returncode == 2
    assert "layer notation needs a layered network (built as dense() names it): its neuron 'a' is not named" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("formula, why", [
    ("\\\\delta^{l+} = 1", "the superscript '{l+}' is not a layer"),
    ("\\\\delta^l = ", "the formula ends too early"),
    ("\\\\delta^l + 1 = \\\\delta^l", "the left side of a formula in layer notation is one letter"),
    ("\\\\delta^l = \\\\frac{\\\\partial a^l}{\\\\partial z^l}", "differentiates the loss (C, E, L or J), not 'a^l'"),
    ("\\\\delta^l = \\\\delta^l = \\\\delta^l", "write one equation per claim"),
])
def test_unreadable_layer_notation_is_unparseable_with_the_reason(tmp_path, formula, why):
    (r,) = symbackprop.verify(_file(tmp_path, f'formula = "{formula}"\nlayer = 1\n')).results
    assert r.status is Status.UNPARSEABLE and why in r.diagnosis[0] and "\x00" not in r.diagnosis[0]


def test_sides_of_different_shapes_are_a_mismatch_at_that_layer(tmp_path):
    (r,) = symbackprop.verify(_file(tmp_path, 'formula = "\\\\delta^l = b^{l+1}"\nlayer = 1\n')).results
    assert r.status is Status.MISMATCH and r.diagnosis == ("at l = 1: the left side is a 3-vector, the right side a 2-vector",)


def test_a_formula_that_only_looks_like_layer_notation_is_read_as_any_other(tmp_path):
    """No ``layer`` key and not readable as layer notation (W^{1/3} is a power): the ordinary reader's verdict."""
    (r,) = symbackprop.verify(_file(tmp_path, 'formula = "D = w^{1/3}"\nsymbols = { D = "a_n1_1", w = "w1_1_1" }\n')).results
    assert r.status is Status.MISMATCH and not r.formula.components


def test_on_a_relu_network_a_component_right_where_its_kinks_are_is_conditional(tmp_path):
    """delta^L = a^L - y leaves out the output ReLU's slope: right where z^L > 0, which the report says per component."""
    path = tmp_path / "relu.toml"
    net = symbackprop.dense([2, 2, 1], "relu", output_activation="relu", seed=1, examples=[(["0.5", "0.4"], ["0.1"])],
                            weights=[[["0.3", "0.2"], ["0.4", "-0.1"]], [["0.5", "0.6"]]], biases=[["0.1", "0.1"], ["0.2"]])
    path.write_text(net.to_toml() + '\n[[claims]]\nformula = "\\\\delta^L = a^L - y"\nsource = "t.txt:1"\n')
    (r,) = symbackprop.verify(path).results
    assert r.status is Status.CONDITIONAL
    assert r.diagnosis[0].startswith("holds only where its kinks are as at the example for $\\delta^{2}_{1}$ (where z_n2_1 > 0")


def test_the_json_report_lists_each_component(run_cli):
    done = run_cli("verify", str(EQUATIONS), "--json")
    claims = {c["source"]: c for c in json.loads(done.stdout)[0]["claims"]}
    swapped = claims[line(30)]
    assert swapped["layer"] == "all" and swapped["input_layer"] == 1 and swapped["status"] == "mismatch"
    statuses = {c["formula"].partition(" = ")[0]: c["status"] for c in swapped["components"]}
    assert statuses[r"\frac{\partial C}{\partial w^{2}_{11}}"] == "holds"
    assert statuses[r"\frac{\partial C}{\partial w^{2}_{12}}"] == "mismatch" and len(statuses) == 8


def test_a_claim_that_maps_its_names_is_read_through_its_symbols(tmp_path):
    """symbols = { "z^{2}_{1}" = ... }: the text's own names, not layer notation (which would refuse this left side)."""
    claim = 'formula = "\\\\sigma\'(z^{2}_{1}) = 1"\nsymbols = { "z^{2}_{1}" = "z_n2_1" }\n'
    (r,) = symbackprop.verify(_file(tmp_path, claim)).results
    assert r.status is Status.MISMATCH and not r.formula.components
