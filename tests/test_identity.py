"""The chain-rule gradient equals sympy.diff of the flattened loss, for every parameter."""

import random

import pytest
import sympy as sp
from conftest import DERIVATIONS, function_cases, output_width

import symbackprop

BUNDLED = sorted(DERIVATIONS.glob("*.toml"))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_identity_holds_for_every_bundled_parameter(path):
    d = symbackprop.derive(symbackprop.load(path))
    assert all(d.identity(p) for p in d.model.parameters)


def random_networks():
    rng = random.Random(20261124)
    for activation, output, loss in function_cases():
        sizes = [rng.randint(1, 3) for _ in range(rng.randint(2, 4))]
        sizes[-1] = output_width(output, sizes[-1])
        yield pytest.param(sizes, activation, output, loss, rng.randint(0, 10**6),
                           id=f"{activation}-{output}-{loss}-{'x'.join(map(str, sizes))}")


@pytest.mark.parametrize("sizes,activation,output,loss,seed", list(random_networks()))
def test_identity_holds_for_random_dense_networks(sizes, activation, output, loss, seed):
    d = symbackprop.derive(symbackprop.dense(sizes, activation, output_activation=output, loss=loss, seed=seed))
    failed = [p for p in d.model.parameters if not d.identity(p)]
    assert failed == []


def test_a_deliberately_wrong_chain_fails_the_check():
    d = symbackprop.derive(symbackprop.dense([2, 2, 1], "sigmoid", seed=3))
    hidden = d.order[0].name
    # drop the activation derivative from one error term: the check must notice
    d.deltas[hidden] = d.dE_da[hidden]
    d.__dict__.pop("expanded_deltas", None)
    wrong = [p for p in d.model.parameters if not d.identity(p)]
    assert wrong == ["w1_1_1", "w1_1_2", "b1_1"]


def test_shared_parameter_sums_its_paths():
    d = symbackprop.derive(symbackprop.load(DERIVATIONS / "shared_weight_batch.toml"))
    assert d.path_count("w_s") == 2
    (p1, p2) = d.chain("w_s")
    assert {p1[-1].numerator, p2[-1].numerator} == {"z_h1", "z_h2"}
    x1, x2 = d.symbols["x1"], d.symbols["x2"]
    assert d.gradient("w_s") == d.delta_symbol["h1"] * x1 + d.delta_symbol["h2"] * x2
    flat = d.gradient("w_s", "flat")
    by_diff = sp.diff(d.composed, d.symbols["w_s"])
    point = {s: sp.Rational(k + 1, 7) for k, s in enumerate(sorted(flat.free_symbols | by_diff.free_symbols, key=str))}
    assert abs(sp.N(flat.subs(point) - by_diff.subs(point), 30)) < sp.Float("1e-25")


def test_check_identity_option_reports(run_cli):
    r = run_cli("derive", str(DERIVATIONS / "seed003_chain.toml"), "--check-identity", "--only", "w_a1,w_b1")
    assert r.returncode == 0, r.stderr
    assert "dE/dw_a1: holds" in r.stdout and "dE/dw_b1: holds" in r.stdout
    assert "2 of 2 hold" in r.stdout
