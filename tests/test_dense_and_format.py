"""dense(): naming, exact values, seeded determinism; files round-trip; output is byte-identical."""

import dataclasses

import pytest
import sympy as sp
from conftest import DERIVATIONS, SEED_CHAIN

import symbackprop
from symbackprop.core.derivation_file import loads


def test_naming_scheme_and_explicit_values():
    m = symbackprop.dense([2, 2, 1], weights=[[[1, 2], [3, 4]], [["0.5", "-0.25"]]], biases=[[0, "0.1"], ["1/3"]],
                          examples=[([1, 2], [1])])
    assert m.inputs == ["x1", "x2"] and m.outputs == ["n2_1"]
    assert [n.name for n in m.neurons] == ["n1_1", "n1_2", "n2_1"]
    assert m.neuron("n1_2").weights == ("w1_2_1", "w1_2_2") and m.neuron("n1_2").bias == "b1_2"
    assert m.parameters["w1_2_1"] == 3 and m.parameters["w2_1_2"] == sp.Rational(-1, 4)
    assert m.parameters["b2_1"] == sp.Rational(1, 3)
    # z of n1_2 on x = (1, 2): 3*1 + 4*2 + 0.1, by hand
    assert symbackprop.derive(m).trace()["z_n1_2"] == sp.Rational("11.1")


def test_seeded_initialisation_is_deterministic_and_bounded():
    a, b = symbackprop.dense([4, 16, 1], seed=7), symbackprop.dense([4, 16, 1], seed=7)
    assert a.parameters == b.parameters
    assert a.parameters != symbackprop.dense([4, 16, 1], seed=8).parameters
    assert all(abs(v) <= sp.Rational(1, 2) and (v * 1000).is_Integer for v in a.parameters.values())


@pytest.mark.parametrize("path", sorted(DERIVATIONS.glob("*.toml")), ids=lambda p: p.name)
def test_files_round_trip_through_to_toml(path):
    """Every field, claims and readings included (their verify results: test_claims_load.py)."""
    m = symbackprop.load(path)
    again = loads(m.to_toml())
    for field in dataclasses.fields(m):
        assert getattr(again, field.name) == getattr(m, field.name), field.name
    assert again == m


def test_dense_file_equals_dense_model():
    m = symbackprop.dense([2, 2, 1], seed=1)
    from_file = symbackprop.load(DERIVATIONS / "dense_2_2_1.toml")
    assert from_file.parameters == m.parameters and from_file.neurons == m.neurons


def test_decimals_are_exact():
    m = symbackprop.load(SEED_CHAIN)
    assert m.parameters["w_a1"] == sp.Rational(1, 10) and isinstance(m.parameters["w_a1"], sp.Rational)
    assert m.learning_rate == sp.Rational(-3, 5)


def test_same_input_byte_identical_output(run_cli, tmp_path):
    first = run_cli("derive", str(DERIVATIONS / "shared_weight_batch.toml"))
    second = run_cli("derive", str(DERIVATIONS / "shared_weight_batch.toml"))
    assert first.returncode == 0 and first.stdout == second.stdout and len(first.stdout) > 1000
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    assert run_cli("dense", "2,3,1", "--seed", "4", "-o", str(a)).returncode == 0
    assert run_cli("dense", "2,3,1", "--seed", "4", "-o", str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes()


def test_derive_cli_iterations_and_only(run_cli):
    r = run_cli("derive", str(SEED_CHAIN), "--iterations", "2", "--only", "w_b1")
    assert r.returncode == 0, r.stderr
    assert "∂E/∂w_b1" in r.stdout and "∂E/∂w_a1" not in r.stdout
    assert "Iteration 2: updates" in r.stdout
    # w_b1 after one step is 0.489376, by hand: 0.4 + (-0.6)(-0.196)(0.76)
    assert "0.489376" in r.stdout


@pytest.mark.parametrize("option, flag, message", [
    ({"activation": "foo"}, "--activation", "unknown activation 'foo'"),
    ({"output_activation": "foo"}, "--output-activation", "unknown activation 'foo'"),
    ({"loss": "foo"}, "--loss", "unknown loss 'foo'"),
])
def test_dense_names_its_own_parameters_and_the_command_its_flags(option, flag, message, run_cli):
    from symbackprop.core.errors import InputError

    with pytest.raises(InputError) as caught:
        symbackprop.dense([2, 2, 1], **option)
    assert caught.value.key == next(iter(option)) and message in caught.value.what
    done = run_cli("dense", "2,2,1", flag, "foo")
    assert done.returncode == 2 and done.stderr == f"symbackprop: error: {flag}: {caught.value.what}\n"
