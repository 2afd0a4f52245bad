"""How near a mismatched stated number comes (symbackprop/verifier/closeness.py): the agreeing
significant digits and the relative difference, worked by hand, then through the command line on
seed003_chain's three mismatches, in text, Markdown and JSON."""

from __future__ import annotations

import json

import pytest
import sympy as sp
from conftest import DERIVATIONS, cli

from symbackprop.verifier.closeness import (
    agreeing_digits,
    agreement,
    exponent,
    measure,
    relative_difference,
    round_significant,
    shown,
    significant_digits,
    written,
)

R = sp.Rational
SEED_CHAIN = DERIVATIONS / "seed003_chain.toml"
B_AT_2 = R(9935354091, 9765625000)  # b at iteration 2 of seed003_chain: 1.0173802589...
E_AT_2 = R(28807964331686281, 190734863281250000000)  # E at iteration 2: 0.0001510367...


def digits_of(stated: str, exact) -> int | None:
    """agreeing_digits for a stated decimal given as the text writes it."""
    return agreeing_digits(R(stated), len(stated.partition(".")[2]), exact)


@pytest.mark.parametrize("x, place", [
    (R("0.0017"), -3), (R("1.0173"), 0), (R("0.001"), -3), (R(2, 3), -1), (R(1000), 3), (R(999), 2),
    (R("-0.5"), -1), (R(1, 10**400), -400), (R(1, 1000) - R(1, 10**30), -4), (R(10**30 + 1), 30),
])
def test_exponent_is_the_place_of_the_first_significant_digit(x, place):
    assert exponent(x) == place


@pytest.mark.parametrize("x, s, rounded", [
    (R("0.9982"), 1, R(1)),  # to the next power of ten
    (R("0.9982"), 2, R(1)),  # 1.0
    (R("0.9982"), 3, R("0.998")),
    (R("-0.25"), 1, R("-0.3")),  # half away from zero
    (R("0.25"), 1, R("0.3")),
    (R(1234), 2, R(1200)),
    (R(0), 3, R(0)),
])
def test_round_significant(x, s, rounded):
    assert round_significant(x, s) == rounded


@pytest.mark.parametrize("stated, count", [("0.0017", 2), ("0.50", 2), ("100", 3), ("0", 0), ("0.000", 0),
                                           ("-0.196", 3), ("1.3287", 5)])
def test_significant_digits_are_those_the_text_writes(stated, count):
    assert significant_digits(R(stated), len(stated.partition(".")[2])) == count


@pytest.mark.parametrize("stated, exact, count", [
    # 1.3287 / 1.3287 at 5 digits (1, 1.3, 1.33, 1.329 before): every written digit agrees
    ("1.3287", R("1.328659998"), 5),
    # 0.002 against 0.0002 at one digit: an order of magnitude apart
    ("0.0017", R("0.000151"), 0),
    ("0.0017", E_AT_2, 0),
    # 0.9982 and 1.0173... are both 1 at one digit and 1.0 at two, 0.998 and 1.02 at three: rounding
    # agrees across the power of ten where no written digit is the same
    ("0.9982", R("1.0173"), 2),
    ("0.9982", B_AT_2, 2),
    ("0.5", R("0.6"), 0),  # the first digit apart
    ("-0.196", R("-0.19612"), 3),  # negatives: -0.196 / -0.196 at 3, -0.1960 / -0.1961 at 4 (the stated has 3)
    ("-0.1962", R("-0.19612"), 3),  # -0.196 at 3, -0.1962 against -0.1961 at 4
    ("-0.5", R("0.5"), 0),  # the sign apart
    ("0.5", R("-0.5"), 0),
    ("0", R("0.3"), 0),  # a stated 0 has no significant digit
    ("0.000", R("0.3"), 0),
    ("0.3", R(0), 0),  # nothing but 0 rounds to an exact 0
    ("0.149", R("0.15"), 2),  # 0.1 / 0.2 at one digit, 0.15 / 0.15 at two: the largest s counts
    ("1.0001", R("0.99996"), 4),  # 1.000 / 1.000 at 4, across the power of ten
    ("3.1415", sp.Float("3.14159265358979", 15), 4),  # a Float (a long run's): 3.142 / 3.142, 3.1415 / 3.1416
    ("3.1415", sp.pi, 4),  # a closed form, evaluated
    ("2.7128", sp.E, 2),  # 2.7 / 2.7, then 2.71 / 2.72
    ("123.4", R(1235), 0),  # 100 against 1000: ten times over
])
def test_agreeing_digits(stated, exact, count):
    assert digits_of(stated, exact) == count


def test_a_value_that_is_no_number_has_no_agreeing_digits():
    assert digits_of("0.5", sp.I) is None
    assert digits_of("0.5", sp.zoo) is None
    assert measure(R("0.5"), 1, sp.nan) is None


@pytest.mark.parametrize("stated, exact, relative", [
    ("0.5", R("0.6"), R(1, 6)),  # 0.1 / 0.6
    # (9935354091 - 0.9982 * 9765625000) / 9935354091 = (9935354091 - 9748046875) / 9935354091
    ("0.9982", B_AT_2, R(187307216, 9935354091)),
    # (0.0017 * 190734863281250000000 - 28807964331686281) / 28807964331686281
    ("0.0017", E_AT_2, R(324249267578125000 - 28807964331686281, 28807964331686281)),
    ("-0.5", R("0.5"), R(2)),  # |-0.5 - 0.5| / 0.5
    ("-0.196", R("-0.19612"), R(12, 19612)),  # 0.00012 / 0.19612
    ("0", R("0.3"), R(1)),
    ("0.3", R(0), None),  # undefined for an exact 0: only the difference is said
])
def test_relative_difference(stated, exact, relative):
    assert relative_difference(R(stated), exact) == relative


def test_relative_difference_of_a_float_and_a_closed_form():
    # (pi - 3.1415) / pi = 0.0000926535.../3.14159265... = 2.9492e-5
    for exact in (sp.Float("3.14159265358979", 15), sp.pi):
        relative = relative_difference(R("3.1415"), exact)
        assert abs(relative - R("0.000029492")) < R(1, 10**9)
        assert shown(relative) == "2.9e-5"


@pytest.mark.parametrize("relative, text", [
    (R(1, 6), "17%"), (R(187307216, 9935354091), "1.9%"), (R(295441303246438719, 28807964331686281), "1026%"),
    (R(2), "200%"), (R(1), "100%"), (R("0.9996"), "100%"), (R("0.001"), "0.1%"), (R("0.000999"), "0.1%"),
    (R("0.00099"), "9.9e-4"), (R("3.1e-7"), "3.1e-7"), (R("0.00003"), "3e-5"), (R(2500), "2.5e3"), (R(0), "0"),
])
def test_a_report_line_shows_the_relative_difference_short(relative, text):
    assert shown(relative) == text


@pytest.mark.parametrize("x, text", [
    (R(1, 6), "0.1666666667"), (R(2), "2"), (R(187307216, 9935354091), "0.01885259592"),
    (R(295441303246438719, 28807964331686281), "10.25554252"), (R("3.1e-7"), "3.1e-7"),
    (R(7, 49998), "0.0001400056002"), (R(10**12), "1e12"), (R(0), "0"),
])
def test_json_writes_ten_significant_digits(x, text):
    assert written(x) == text


def test_the_count_in_words_is_singular_or_plural():
    assert agreement(0) == "no significant digit agrees"
    assert agreement(1) == "1 significant digit agrees"
    assert agreement(5) == "5 significant digits agree"


def test_measure_gives_both_for_the_reports():
    near = measure(R("0.9982"), 4, B_AT_2)
    assert near.text() == "2 significant digits agree, relative difference 1.9%"
    assert near.as_dict() == {"agreeing_digits": 2, "relative_difference": "0.01885259592"}
    zero = measure(R("0.3"), 1, R(0))
    assert zero.text() == "no significant digit agrees"  # no relative difference to give
    assert zero.as_dict() == {"agreeing_digits": 0, "relative_difference": None}
    assert measure(R("1.3287"), 4, R("1.328659998")).text() == "5 significant digits agree, relative difference 3e-5"


MISMATCHES = {  # seed003_chain's three mismatches, worked above: (symbol, stated) -> (digits, relative)
    "w_a0": ("0.5", 0, "17%", "0.1666666667"),
    "a_b@2": ("0.9982", 2, "1.9%", "0.01885259592"),
    "E@2": ("0.0017", 0, "1026%", "10.25554252"),
}


def test_the_text_report_says_how_close_each_mismatch_comes():
    out = cli("verify", str(SEED_CHAIN)).stdout
    assert ("               exact 0.6, difference 0.1; no significant digit agrees, relative difference 17%\n") in out
    assert ("               exact 1.0173802589 (= 9935354091/9765625000), difference 0.0191802589; "
            "2 significant digits agree, relative difference 1.9%\n") in out
    assert ("               exact 0.0001510367 (= 28807964331686281/190734863281250000000), difference -0.0015489633; "
            "no significant digit agrees, relative difference 1026%\n") in out
    assert out.count("significant digit") == 3  # on the mismatches only


def test_the_json_report_carries_the_numbers():
    claims = json.loads(cli("verify", "--json", str(SEED_CHAIN)).stdout)[0]["claims"]
    numbers = [c for c in claims if "formula" not in c]
    seen = {}
    for c in numbers:
        if c["status"] == "mismatch":
            seen[c["quantity"]] = (c["stated"], c["agreeing_digits"], c["relative_difference"])
        else:  # only a mismatch has a closeness
            assert c["agreeing_digits"] is None and c["relative_difference"] is None, c
    assert seen == {q: (stated, digits, full) for q, (stated, digits, _, full) in MISMATCHES.items()}
    assert all("agreeing_digits" not in c for c in claims if "formula" in c)  # a formula claim has no digits


def test_the_markdown_report_has_it_in_the_notes():
    out = cli("verify", "--format", "md", str(SEED_CHAIN)).stdout
    assert "| difference 0\\.1; no significant digit agrees, relative difference 17%<br>" in out
    assert "| difference 0\\.0191802589; 2 significant digits agree, relative difference 1\\.9%<br>" in out
    assert "| difference -0\\.0015489633; no significant digit agrees, relative difference 1026%<br>" in out
