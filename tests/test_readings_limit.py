"""Readings and claims are bounded per file (core/limits.py), refused at load with one located line;
within the bound verify runs one trace per reading, shared as the other readings' alternative, so
its work grows linearly with the readings: the traces are counted here against a hand count."""

from __future__ import annotations

import pytest
import sympy as sp
from conftest import SEED_CHAIN, cli

import symbackprop
from symbackprop.core import trace as trace_module
from symbackprop.core.derivation_file import loads
from symbackprop.core.errors import InputError
from symbackprop.core.limits import LIMITS
from symbackprop.verifier.status import Status

CHAIN = SEED_CHAIN.read_text().split("\n[[claims]]")[0]
CLAIM = '\n[[claims]]\nquantity = "z_a"\nstated = "{stated}"\nsource = "t.txt:{line}"\nquote = "q"\n'


def with_readings(count: int, stated: str = "0.5") -> str:
    """The seed chain with ``count`` readings, reading i giving w_a1 = 0.1 + (i + 1)/1000, and one claim."""
    readings = "".join(f"\n[readings.r{i}]\nparameters = {{ w_a1 = \"{sp.Rational(100 + i + 1, 1000)}\" }}\n"
                       for i in range(count))
    return CHAIN + readings + CLAIM.format(stated=stated, line=1)


def with_claims(count: int) -> str:
    return CHAIN + "".join(CLAIM.format(stated="0.76", line=i + 1) for i in range(count))


def test_the_bounds_are_the_documented_ones():
    assert LIMITS["readings"].value == 16 and LIMITS["claims"].value == 1000


def test_readings_up_to_the_bound_load():
    assert len(loads(with_readings(16)).readings) == 16


def test_one_reading_past_the_bound_is_refused_at_load():
    with pytest.raises(InputError) as e:
        loads(with_readings(17))
    assert e.value.key == "readings"
    assert e.value.what.startswith("17 readings in a file; expected at most 16 (each reading is a trace of its own")


def test_claims_up_to_the_bound_load_and_one_more_is_refused():
    assert len(loads(with_claims(1000)).claims) == 1000
    with pytest.raises(InputError) as e:
        loads(with_claims(1001))
    assert e.value.key == "claims" and e.value.what.startswith("1,001 claims in a file; expected at most 1,000 (")


@pytest.mark.parametrize("text, line", [
    (with_readings(17), "many.toml: readings: 17 readings in a file; expected at most 16 ("),
    (with_claims(1001), "many.toml: claims: 1,001 claims in a file; expected at most 1,000 ("),
])
@pytest.mark.parametrize("command", ["verify", "derive"])  # refused at load, so by every command
def test_the_command_line_refuses_in_one_line(tmp_path, text, line, command):
    path = tmp_path / "many.toml"
    path.write_text(text)
    out = cli(command, str(path))
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and line in out.stderr


def count_traces(monkeypatch) -> list[int]:
    runs = []
    real = trace_module.Trace.__init__

    def counted(self, *args, **kwargs):
        runs.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(trace_module.Trace, "__init__", counted)
    return runs


# The seed chain's alternatives for z_a = 0.5 at @1, each a trace of its own: loss sse, loss mse; the
# update reversed; the bias weights w_a0 = 0.6 and w_b0 = 0.5 swapped; rounding to 1, 2, 3, 4 decimals;
# layer 1, layer 2, the bias weights not updated; the layers updated during the backward pass; a step
# done twice, the update applied twice in one step. 14 (a step skipped needs @0, which no trace holds: it
# is not built; the claim is the file's only one, so no stated values are carried). The readings add none.
OWN_ALTERNATIVES = 14


@pytest.mark.parametrize("count", [2, 5, 10])
def test_traces_grow_linearly_with_the_readings(tmp_path, monkeypatch, count):
    path = tmp_path / "readings.toml"
    path.write_text(with_readings(count))
    runs = count_traces(monkeypatch)
    report = symbackprop.verify(path)
    assert len(runs) == count * (1 + OWN_ALTERNATIVES)  # was count * (1 + 14 + 1 + count - 1): quadratic
    assert len(report.results) == count
    for r in report.results:
        # z_a = 0.6 + 0.2 w_a1 + 0.02 + 0.12: 0.7604 .. 0.762 under these readings, nothing gives 0.5
        assert r.status is Status.MISMATCH and not r.explained
        others = [t for t in r.tried if t.endswith("reading of the text")]
        assert others == [f"the 'r{i}' reading of the text" for i in range(count) if f"r{i}" != r.reading]
        assert len(r.tried) == len(set(r.tried)) == OWN_ALTERNATIVES + count - 1


def test_a_reading_is_found_by_the_others(tmp_path):
    """A claim only reading r1 satisfies is explained, under every other reading, by r1 and nothing else."""
    path = tmp_path / "readings.toml"
    path.write_text(with_readings(4, stated="0.7604"))  # reading r1: w_a1 = 0.102, z_a = 0.7604 exactly
    results = symbackprop.verify(path).results
    assert [r.status for r in results] == [Status.MISMATCH, Status.HOLDS, Status.MISMATCH, Status.MISMATCH]
    for r in (results[0], results[2], results[3]):
        assert r.diagnosis == ("the 'r1' reading of the text: gives 0.7604",)


def test_readings_with_the_same_values_are_no_alternative_for_each_other(tmp_path):
    path = tmp_path / "same.toml"
    path.write_text(CHAIN + "\n[readings.a]\nparameters = { w_a1 = 0.2 }\n[readings.b]\nparameters = { w_a1 = 0.2 }\n"
                    "[readings.c]\nparameters = { w_a1 = 0.1 }\n[readings.d]\n" + CLAIM.format(stated="0.5", line=1))
    tried = {r.reading: [t for t in r.tried if "reading" in t] for r in symbackprop.verify(path).results}
    # c overrides w_a1 with the file's own 0.1: it is the same model as d, which overrides nothing
    assert tried == {"a": ["the 'c' reading of the text", "the 'd' reading of the text"],
                     "b": ["the 'c' reading of the text", "the 'd' reading of the text"],
                     "c": ["the 'a' reading of the text", "the 'b' reading of the text"],
                     "d": ["the 'a' reading of the text", "the 'b' reading of the text"]}
