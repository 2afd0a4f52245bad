"""Claims and readings are parsed when a file is loaded: a bad claim fails ``load`` (exit 2 for any
command), the typed claims survive ``to_toml``, and the verification pipeline reads them typed."""

from __future__ import annotations

import dataclasses
import json

import pytest
import sympy as sp
from conftest import DERIVATIONS, SEED_CHAIN

import symbackprop
from symbackprop.core.claims import Claim, Reading
from symbackprop.core.derivation_file import loads
from symbackprop.core.errors import InputError
from symbackprop.verifier import reports
from symbackprop.verifier.status import Status

NETWORK = SEED_CHAIN.read_text().split("[[claims]]")[0]
CLAIM = 'quantity = "z_a"\nstated = "0.76"\nsource = "x.txt:1"\nquote = "q"\n'


def claims_file(*tables: str, readings: str = "") -> str:
    return NETWORK + readings + "".join(f"\n[[claims]]\n{t}" for t in tables)


# -- a bad claim fails load, located -----------------------------------------------------------
BAD = {  # the claim table (claims[1], after a good one) -> the whole message after "FILE: "
    "stated not a number": (CLAIM.replace('"0.76"', '"about 0.76"'),
                            "claims[1].stated: 'about 0.76' is not a number; expected a decimal like \"0.0784\" or \"-0.196\""),
    "stated a TOML number": (CLAIM.replace('"0.76"', "0.76"),
                             'claims[1].stated: expected the stated value as text, like stated = "0.0784"; got Decimal 0.76'),
    "source not FILE:LINE": (CLAIM.replace('"x.txt:1"', '"page 1"'),
                             "claims[1].source: 'page 1': expected FILE:LINE, like \"003_131398abeddd6634.txt:332\""),
    "unknown key": (CLAIM + "sated = 1\n", "claims[1].sated: unknown key; expected one of formula, input_layer, layer, local, "
                                           "note, quantity, quote, readings, reason, solve, source, stated, status, symbols"),
    "a status other than unverifiable": (CLAIM + 'status = "holds"\n',
                                         "claims[1].status: 'holds': the only status a file may declare is \"unverifiable\""),
    "unverifiable without a reason": (CLAIM + 'status = "unverifiable"\n',
                                      "claims[1].reason: an unverifiable claim needs a reason (which input the text leaves out)"),
    "a reading the file lacks": (CLAIM + 'readings = ["prose"]\n',
                                 "claims[1].readings: expected a list of the file's readings (none: this file declares no readings)"),
    "a local value not stated as text": (CLAIM + "local = { z_a = 0.76 }\n",
                                         "claims[1].local.z_a: expected a stated value as text, like \"0.804\"; got Decimal('0.76')"),
    "an unknown constant": (CLAIM.replace('"z_a"', '"const:tau"'), "claims[1].quantity: unknown constant 'tau'; expected one of e, pi"),
    "an empty quote": (CLAIM.replace('quote = "q"', 'quote = " "'), "claims[1].quote: expected text, got ' '"),
    "a number claim with a layer": (CLAIM + "layer = 2\n", "claims[1].layer: only a formula claim reads a text's notation: "
                                                            'drop this key or add formula = "..."'),
    "a layer that is no number": ('formula = "z = 1"\nlayer = "hidden"\nsource = "x.txt:1"\n',
                                  "claims[1].layer: expected a layer number, a list of them, or \"all\"; got 'hidden'"),
    "an input layer of 2": ('formula = "z = 1"\ninput_layer = 2\nsource = "x.txt:1"\n',
                            "claims[1].input_layer: expected 0 or 1 (the number the text gives the input layer); got 2"),
    "a formula claim with a number": ('formula = "z_a = w_a1 x1"\nstated = "0.76"\nsource = "x.txt:1"\nquote = "q"\n',
                                      "claims[1].stated: a formula claim states a formula, not a number: drop this key "
                                      "(make a second claim for the number)"),
    "symbols not a table of names": ('formula = "Z = 1"\nsymbols = { Z = 3 }\nsource = "x.txt:1"\nquote = "q"\n',
                                     "claims[1].symbols: expected a table of the text's names -> quantity names, like { Y_r = \"a_O5\" }"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_claim_fails_load_located(tmp_path, case):
    table, message = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(claims_file(CLAIM, table))
    with pytest.raises(InputError) as e:
        symbackprop.load(path)
    assert e.value.line() == f"{path}: {message}"


@pytest.mark.parametrize("case", ["stated not a number", "source not FILE:LINE", "a reading the file lacks"])
def test_derive_exits_2_on_a_bad_claim(tmp_path, run_cli, case):
    """Not only verify: every command loads the file, so every command refuses the bad claim."""
    table, message = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(claims_file(CLAIM, table))
    out = run_cli("derive", str(path))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == f"symbackprop: error: {path}: {message}\n"


BAD_READINGS = {
    "an override of no parameter": ("[readings.other]\nparameters = { w_zz = 0.5 }\n",
                                    "readings.other.parameters.w_zz: 'w_zz' is not one of the file's parameters"),
    "an override that is no number": ('[readings.other]\nparameters = { w_a1 = "abc" }\n',
                                      "readings.other.parameters.w_a1: expected a number (like 0.2 or \"1/3\"), got 'abc'"),
    "an unknown key": ("[readings.other]\nweights = { w_a1 = 0.5 }\n",
                       "readings.other.weights: unknown key; expected one of constants, note, parameters, quote, source"),
    "a note that is no text": ("[readings.other]\nnote = 3\n", "readings.other.note: expected text, got 3"),
}


@pytest.mark.parametrize("case", sorted(BAD_READINGS))
def test_a_bad_reading_fails_load_located(case):
    table, message = BAD_READINGS[case]
    with pytest.raises(InputError) as e:
        loads(claims_file(CLAIM, readings=table))
    assert e.value.line() == message


def test_claims_arrive_typed_and_frozen():
    m = symbackprop.load(DERIVATIONS / "seed002_2_2_1.toml")
    assert all(isinstance(c, Claim) for c in m.claims) and [c.index for c in m.claims] == list(range(len(m.claims)))
    assert m.readings["prose"] == Reading(
        note="the prose: H3 and O5 have a bias of 0.5, H4 a bias of 0", source="002_d1904c5cc3256ef4.txt:37",
        quote="Neurons H3 and O5 have a bias value of 0.5, while neuron H4 has a bias value of 0",
        parameters={"b3": sp.Rational(1, 2), "b4": sp.Integer(0)})
    first = m.claims[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.stated = "1"  # type: ignore[misc]
    # dataclasses.replace re-validates the Model; the typed claims and readings ride along unchanged
    again = dataclasses.replace(m, learning_rate=sp.Rational(1, 2))
    assert again.claims == m.claims and again.readings == m.readings


def test_a_quote_is_optional_and_layer_keys_round_trip(tmp_path):
    table = ('formula = "\\\\delta^l_j = 1"\nlayer = [2, 1, 2]\ninput_layer = 1\nsource = "x.txt:1"\n'
             '\n[[claims]]\nformula = "z = 1"\nlayer = "all"\nsource = "x.txt:2"\n')
    path = tmp_path / "layers.toml"
    path.write_text(claims_file(CLAIM.replace('quote = "q"\n', ""), table))
    m = symbackprop.load(path)
    assert [c.quote for c in m.claims] == ["", "", ""]
    assert (m.claims[1].layer, m.claims[1].input_layer, m.claims[2].layer, m.claims[2].input_layer) == ((1, 2), 1, "all", 0)
    again = tmp_path / "again.toml"
    again.write_text(m.to_toml())
    assert symbackprop.load(again).claims == m.claims and "quote" not in again.read_text()


# -- to_toml writes claims and readings back ---------------------------------------------------
@pytest.fixture(scope="module")
def rewritten(tmp_path_factory):
    """Each bundled file's Model before and after a trip through to_toml, and the written file."""
    out = {}
    folder = tmp_path_factory.mktemp("round_trip")
    for path in sorted(DERIVATIONS.glob("*.toml")):
        m = symbackprop.load(path)
        written = folder / path.name
        written.write_text(m.to_toml())
        out[path.name] = (m, symbackprop.load(written), written)
    return out


@pytest.mark.parametrize("name", sorted(p.name for p in DERIVATIONS.glob("*.toml")))
def test_every_bundled_file_loads_the_same_after_to_toml(rewritten, name):
    """The Models are equal field by field (test_dense_and_format.py): verify, which reads only the Model, says the same."""
    m, again, _ = rewritten[name]
    assert again == m and again.claims == m.claims and again.readings == m.readings


def test_a_rewritten_file_verifies_the_same(rewritten):
    """seed 002 has readings, formulas, local checks and mismatches: its report, before and after."""
    _, _, written = rewritten["seed002_2_2_1.toml"]
    before, after = symbackprop.verify(DERIVATIONS / "seed002_2_2_1.toml"), symbackprop.verify(written)
    assert [r.as_dict() for r in after.results] == [r.as_dict() for r in before.results]
    assert after.counts() == before.counts() and (after.title, after.readings) == (before.title, before.readings)


def test_the_round_trip_keeps_what_the_files_state(rewritten):
    counts = {name: (len(again.claims), len(again.readings)) for name, (_, again, *_) in rewritten.items()}
    assert counts["seed002_2_2_1.toml"] == (16, 2) and counts["seed003_chain.toml"] == (18, 0)
    assert counts["seed001_sigmoid.toml"] == (14, 0) and counts["dense_2_2_1.toml"] == (0, 0)
    prose = rewritten["seed002_2_2_1.toml"][1].readings["prose"]
    assert prose.parameters == {"b3": sp.Rational(1, 2), "b4": 0}


def test_awkward_text_round_trips():
    """Quotes, backslashes, newlines and tabs; keys that need quoting; an empty readings list. (Other control
    characters are refused: test_control_characters_are_refused.)"""
    text = claims_file(
        'quantity = "z_a"\nstated = "+0.760"\nsource = "x.txt:1"\nquote = "he said \\"0.76\\"\\n\\tthen \\\\ and ∂"\n'
        'note = "ünïcödé ∂L/∂w"\nreadings = []\nlocal = { "dz_a/dw_a1" = "0.2" }\n',
        'formula = "\\\\frac{\\\\partial L}{\\\\partial w_{a1}} = 1"\nsource = "x.txt:2"\nquote = "q"\n'
        'symbols = { "\\\\text{MSE}\'" = "E", "W53 (new)" = "w_a1@2" }\n',
        readings="[readings.\"two words\"]\nconstants = { b0 = 2 }\nquote = \"a 'quoted' reading\"\n")
    m = loads(text)
    assert m.claims[0].quote == 'he said "0.76"\n\tthen \\ and ∂' and m.claims[0].readings == ()
    assert m.claims[0].value == sp.Rational("0.76") and m.claims[0].decimals == 3
    assert m.claims[1].symbols == {"\\text{MSE}'": "E", "W53 (new)": "w_a1@2"}
    assert m.readings == {"two words": Reading(quote="a 'quoted' reading", constants={"b0": sp.Integer(2)})}
    assert loads(m.to_toml()) == m
    assert 'quote = "he said \\"0.76\\"\\n\tthen \\\\ and ∂"' in m.to_toml()


def test_control_characters_are_refused():
    """A terminal would run them (an ANSI escape clears the screen); a report prints quotes as they are."""
    text = claims_file('quantity = "z_a"\nstated = "0.76"\nsource = "x.txt:1"\nquote = "bell \\u0007"\n')
    with pytest.raises(InputError, match=r"claims\[0\]\.quote: the text holds the control character U\+0007"):
        loads(text)


def test_a_model_without_claims_writes_no_claims():
    assert "claims" not in symbackprop.dense([2, 1]).to_toml() and "readings" not in symbackprop.dense([2, 1]).to_toml()


# -- the typed results -------------------------------------------------------------------------
def test_statuses_print_as_before():
    rep = symbackprop.verify(DERIVATIONS / "seed000_chain.toml")
    statuses = [r.status for r in rep.results]
    assert all(isinstance(s, Status) for s in statuses) and Status.MISMATCH in statuses and Status.HOLDS in statuses
    data = json.loads(reports.to_json([rep]))
    assert {c["status"] for c in data[0]["claims"]} == {"holds", "mismatch"}
    # four given weights and one formula hold; Wa0 = 0.5 (it is w_b0) and two error-term formulas do not
    assert data[0]["summary"][""] == {"holds": 5, "conditional": 0, "truncated": 0, "mismatch": 3, "unverifiable": 0, "unparseable": 0}
    lines = reports.text([rep]).splitlines()
    assert sum(line.startswith("  MISMATCH     ") for line in lines) == 3
    assert sum(line.startswith("  holds        ") for line in lines) == 5
    assert lines[-1] == "  summary: 5 holds, 0 conditional, 0 truncated, 3 mismatch, 0 unverifiable, 0 unparseable"
    assert "**mismatch**" in reports.markdown([rep]) and "MISMATCH" not in reports.markdown([rep])


def test_results_are_frozen():
    r = symbackprop.verify(DERIVATIONS / "seed000_chain.toml").results[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.status = Status.HOLDS  # type: ignore[misc]
