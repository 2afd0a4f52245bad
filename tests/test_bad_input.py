"""Malformed derivation files: exit code 2, one line naming the file, the key and what was expected."""

import pytest
from conftest import SEED_CHAIN

GOOD = SEED_CHAIN.read_text()

CASES = {
    "broken_toml": (GOOD.replace('name = "a"', 'name = "a'), ["not valid TOML", "line"]),
    "unknown_activation": (GOOD.replace("activation = \"relu\"", "activation = \"relux\"", 1),
                           ["network.neurons[0].activation", "unknown activation 'relux'", "expected one of"]),
    "unknown_loss": (GOOD.replace('function = "half_sse"', 'function = "hinge"'), ["loss.function", "unknown loss 'hinge'"]),
    "missing_weight_value": (GOOD.replace("w_b1 = 0.4\n", ""), ["parameters.w_b1", "missing initial value"]),
    "undefined_input": (GOOD.replace('inputs = ["b0", "a"]', 'inputs = ["b0", "c"]'),
                        ["network.neurons[1].inputs[1]", "undefined input 'c'"]),
    "cycle": (GOOD.replace('inputs = ["b0", "x1", "x2", "x3"]', 'inputs = ["b0", "x1", "x2", "b"]'), ["cycle", "a -> b -> a"]),
    "duplicate_neuron": (GOOD.replace('name = "b"', 'name = "a"'), ["network.neurons[1].name", "duplicate neuron 'a'"]),
    "float_where_text_needed": (GOOD.replace('activation = "relu"', "activation = 1.5", 1),
                                ["network.neurons[0].activation", "expected text"]),
    "name_not_identifier": (GOOD.replace('"w_a1"', '"w a1"'), ["network.neurons[0].weights[1]", "not a usable name"]),
    "keyword_name": (GOOD.replace('"x1"', '"lambda"'), ["network.neurons[0].inputs[1]", "'lambda' is not a usable name"]),
    "empty_file": ("", ["the file is empty"]),
    "negative_iterations": (GOOD.replace("iterations = 1", "iterations = -3"), ["training.iterations", "whole number"]),
    "non_numeric_value": (GOOD.replace("w_a1 = 0.1", 'w_a1 = "abc"'), ["parameters.w_a1", "expected a number"]),
    "shape_mismatch": (GOOD.replace('weights = ["w_b0", "w_b1"]', 'weights = ["w_b0"]'), ["network.neurons[1]", "one weight per input"]),
    "unknown_key": (GOOD.replace("[loss]", "[loss]\nfuction = 1"), ["loss.fuction", "unknown key"]),
    "missing_target": (GOOD.replace("targets = { b = 1.0 }", "targets = {}"), ["examples[0].targets.b", "missing target"]),
    "name_collides_with_derived": (GOOD.replace('"x1"', '"z_a"'), ["network.inputs[0]", "symbackprop derives"]),
    "unknown_update_rule": (GOOD.replace('update = "add"', 'update = "plus"'), ["training.update", "subtract or add"]),
    # claims are parsed at load, so any command refuses a bad one
    "claim_stated_not_a_number": (GOOD.replace('stated = "0.804"\nsource = "003_131398abeddd6634.txt:243"',
                                               'stated = "about 0.804"\nsource = "003_131398abeddd6634.txt:243"'),
                                  ["claims[3].stated: 'about 0.804' is not a number"]),
    "claim_source_not_file_line": (GOOD.replace('source = "003_131398abeddd6634.txt:207"', 'source = "line 207"'),
                                   ["claims[1].source: 'line 207': expected FILE:LINE"]),
    "claim_unknown_key": (GOOD.replace('stated = "0.76"', 'stated = "0.76"\nsated = "0.76"'), ["claims[1].sated: unknown key"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_gives_exit_2_and_one_line(tmp_path, run_cli, case):
    text, expected = CASES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    r = run_cli("derive", str(path))
    assert r.returncode == 2, (r.stdout[-500:], r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert str(path) in lines[0]
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])


def test_missing_file(tmp_path, run_cli):
    r = run_cli("derive", str(tmp_path / "nowhere.toml"))
    assert r.returncode == 2 and "nowhere.toml: no such file" in r.stderr and len(r.stderr.splitlines()) == 1


def test_unknown_parameter_in_only(run_cli):
    r = run_cli("derive", str(SEED_CHAIN), "--only", "w_zz")
    assert r.returncode == 2 and "--only" in r.stderr and "'w_zz' is not a parameter" in r.stderr


def test_failed_write_leaves_existing_output_intact(tmp_path, run_cli):
    out = tmp_path / "walkthrough.txt"
    out.write_text("earlier output\n")
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace("w_a1 = 0.1", 'w_a1 = "abc"'))
    r = run_cli("derive", str(bad), "-o", str(out))
    assert r.returncode == 2
    assert out.read_text() == "earlier output\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "walkthrough.txt"]


def test_unwritable_output(tmp_path, run_cli):
    r = run_cli("derive", str(SEED_CHAIN), "-o", str(tmp_path / "no" / "such" / "dir.txt"))
    assert r.returncode == 2 and "cannot write" in r.stderr and len(r.stderr.splitlines()) == 1
