"""The LaTeX reader under random and mutated formulas (hypothesis, derandomised): whatever the text
and the keys, ``latex_reader.parse`` returns or raises FormulaError with a one-line message that
names no placeholder, within a time bound; and a formula claim built from such a text ends in a
FormulaResult or an InputError, never anything else.

The seeds are every formula claim of the bundled derivations and every formula docs/formulas.md
shows; each example mutates one (inserting, deleting, replacing and duplicating characters and
LaTeX tokens) or strings tokens together at random."""

from __future__ import annotations

import re
import time
import tomllib
from datetime import timedelta

import pytest
from conftest import DERIVATIONS, ROOT
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import symbackprop
from symbackprop.core.derivation import Derivation
from symbackprop.core.errors import InputError
from symbackprop.verifier import formula_claims
from symbackprop.verifier.latex_reader import FormulaError, Parsed, parse

BOUND_S = 5.0  # per formula: the reader's aim is milliseconds; generous, so that only a runaway fails
PLACEHOLDER = re.compile(r"[\x00\x01]|\\text\{v\d+\}")


def _seeds() -> list[tuple[str, tuple[str, ...]]]:
    """(formula, its claim's symbols keys) for every formula claim of derivations/*.toml and every
    formula of docs/formulas.md (its TOML example and its code spans)."""
    seeds = []
    for path in sorted(DERIVATIONS.glob("*.toml")):
        for claim in tomllib.loads(path.read_text()).get("claims", []):
            if isinstance(claim.get("formula"), str):
                seeds.append((claim["formula"], tuple(claim.get("symbols") or {})))
    doc = (ROOT / "docs" / "formulas.md").read_text()
    for line in re.findall(r"^formula = (\".*\")\s*$", doc, re.M):
        seeds.append((tomllib.loads(f"f = {line}")["f"], ()))
    seeds += [(span, ()) for span in re.findall(r"`([^`\n]+)`", doc)]
    return seeds


SEEDS = _seeds()
TOKENS = [
    r"\frac{", "}", "{", "^", "_", r"\partial", r"\sigma'", "(", ")", r"\sqrt", r"\sqrt[", "]", "0", "1", "7", "9" * 40,
    "1" + "0" * 400, "0.5", "−", "·", "σ", "∂", "δ", "η", "²", "\x00", "\x01", "\x00" + "3" + "\x01", "'", "''", "=", r"\\",
    "&", r"\begin{cases}", r"\end{cases}", r"\text{", r"\mathrm{", r"\_", "_{", "^{", r"\delta", r"\Delta", r"\odot",
    r"\cdot", r"\times", r"\left(", r"\right)", r"\hat", r"\prime", r"\max(", r"\ln", r"\log_", r"\exp", r"\tanh",
    " ", "x", "/", ",", ".", "e", "\\", "$", "%", "#", "~", "!", "|", "<", ">", r"\leq", r"\sum", r"\int",
    "b^{2}_{1}", "w2_1_2", "delta_n2_1", "dE/d", r"\text{w2\_1\_2}", "\n", "\t", "W53", "f'", r"\theta(",
]
CHARS = st.characters(min_codepoint=0, max_codepoint=0x3FF) | st.sampled_from("−·σ∂δηθπŷ’′×²³∑≤\u00a0\u200b")
PIECE = st.sampled_from(TOKENS) | CHARS
EDIT = st.tuples(st.sampled_from(["insert", "delete", "replace", "duplicate"]), st.floats(0, 1), PIECE, st.integers(1, 12))


def _edit(text: str, edit) -> str:
    kind, where, piece, n = edit
    at = int(where * len(text))
    if kind == "insert":
        return text[:at] + piece + text[at:]
    if kind == "delete":
        return text[:at] + text[at + n:]
    if kind == "replace":
        return text[:at] + piece + text[at + len(piece):]
    return text[:at + n] + text[at:at + n] + text[at + n:]


@st.composite
def formulas(draw) -> tuple[str, tuple[str, ...]]:
    """A formula and the keys it is read with: a mutated seed, or tokens strung together."""
    if draw(st.integers(0, 4)) == 0:
        text = "".join(draw(st.lists(PIECE, min_size=1, max_size=30)))
        keys: tuple[str, ...] = ()
    else:
        text, keys = draw(st.sampled_from(SEEDS))
        for edit in draw(st.lists(EDIT, min_size=1, max_size=6)):
            text = _edit(text, edit)
    choice = draw(st.integers(0, 3))
    if choice == 0:
        keys = ()
    elif choice == 1:  # the seed's keys, mutated
        keys = tuple(_edit(k, draw(EDIT)) for k in keys)
    elif choice == 2:  # keys of tokens, and the formula's own pieces
        pieces = draw(st.lists(st.lists(PIECE, min_size=1, max_size=5).map("".join), max_size=3))
        cut = draw(st.integers(0, len(text)))
        keys = (*keys, *pieces, text[cut:cut + draw(st.integers(1, 12))])
    return text, keys


def _assert_message(message: str, text: str, keys: tuple[str, ...]) -> None:
    assert message and message.strip(), (text, keys)
    assert "\n" not in message and "\r" not in message, (text, keys, message)
    assert not PLACEHOLDER.search(message) or r"\text{v" in text, (text, keys, message)


def _timed_parse(text: str, keys: tuple[str, ...]) -> Parsed | FormulaError:
    start = time.perf_counter()
    try:
        result: Parsed | FormulaError = parse(text, keys)
    except FormulaError as e:
        result = e
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND_S, (text, keys, elapsed)
    return result


@pytest.fixture(scope="module")
def warm():
    parse("a + b^2", ())  # the parser's grammar loaded once, outside the examples' time


@settings(max_examples=2000, derandomize=True, deadline=timedelta(seconds=BOUND_S), database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(formulas())
def test_reader_returns_or_refuses_in_one_line(warm, case):
    text, keys = case
    result = _timed_parse(text, keys)
    event("refused" if isinstance(result, FormulaError) else "read")
    if isinstance(result, FormulaError):
        _assert_message(str(result), text, keys)
        return
    assert isinstance(result, Parsed)
    for name, atom in result.atoms.items():  # the names a caller resolves: never a placeholder
        assert not PLACEHOLDER.search(name + "".join(atom.parts)) or r"\text{v" in text, (text, keys, name)


# -- long runs of one piece: the shapes that cost the parser most (chains, bars, signs) ------------
HOSTILE = ["a/" * 700 + "a", "|a" * 700, "|a|" * 460, "|" * 1400, "-" * 1400 + "a", "+" * 1400 + "a", "a!" * 700,
           "dx/d" * 999, "a_1" * 1300, "b^2_1" * 780, r"\delta" + "_1" * 1990, "(a" * 700, "a^{b}" * 500, "e^{a}" * 280]


@pytest.mark.parametrize("text", HOSTILE, ids=[f"{t[:6]}x{len(t)}" for t in HOSTILE])
def test_long_runs_end_quickly(warm, text):
    result = _timed_parse(text, ("b^2_1", "a_1"))
    if isinstance(result, FormulaError):
        _assert_message(str(result), text, ())


@settings(max_examples=60, derandomize=True, deadline=timedelta(seconds=BOUND_S), database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECE, min_size=1, max_size=3).map("".join), st.integers(20, 1400), st.sampled_from(SEEDS))
def test_a_piece_repeated_ends_quickly(warm, piece, times, seed):
    text = (seed[0] + " " + piece * times)[:4000]
    result = _timed_parse(text, seed[1])
    if isinstance(result, FormulaError):
        _assert_message(str(result), text, seed[1])


# -- the same texts as formula claims, through formula_claims.check as verifier.py calls it ---------
@pytest.fixture(scope="module")
def claim_setup():
    model = symbackprop.load(DERIVATIONS / "seed003_chain.toml")
    derivation = Derivation(model)
    parse("a + b^2", ())
    return derivation, derivation.trace(model.iterations)


def _chain_claims() -> list[tuple[str, str | None, dict[str, str]]]:
    claims = tomllib.loads((DERIVATIONS / "seed003_chain.toml").read_text()).get("claims", [])
    return [(c["formula"], c.get("quantity"), dict(c.get("symbols") or {})) for c in claims if isinstance(c.get("formula"), str)]


CHAIN_CLAIMS = _chain_claims()
QUANTITIES = st.sampled_from([None, "dE/dw_b1", "delta_a", "a_b", "w_a1@2", "E", "z_a"])
KNOWN = ["E", "a_b", "a_a", "z_a", "z_b", "w_b1", "w_a1", "x1", "delta_a", "delta_b", "dE/dw_b1", "eta", "w_a1@2", "nothing"]


@st.composite
def claims(draw) -> tuple[str, str | None, dict[str, str]]:
    """A formula claim of seed003_chain with its own symbols, mutated a little (most still read and
    compare), or any formula of the reader's test with symbols drawn from the model's names."""
    if draw(st.booleans()):
        text, quantity, mapping = draw(st.sampled_from(CHAIN_CLAIMS))
        for edit in draw(st.lists(EDIT, max_size=2)):
            text = _edit(text, edit)
        return text, draw(st.sampled_from([quantity, quantity, None, "dE/dw_b1"])), mapping
    text, keys = draw(formulas())
    return text, draw(QUANTITIES), dict(zip(keys, draw(st.lists(st.sampled_from(KNOWN), max_size=4))))


@settings(max_examples=300, derandomize=True, deadline=timedelta(seconds=4 * BOUND_S), database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(claims())
def test_claim_ends_in_a_result_or_an_input_error(claim_setup, claim):
    derivation, trace = claim_setup
    text, quantity, mapping = claim
    keys = tuple(mapping)
    start = time.perf_counter()
    try:
        result = formula_claims.check(text, quantity, mapping, derivation, trace, "claims[0]")
    except InputError as e:
        event("input error")
        _assert_message(str(e), text, keys)
        return
    finally:
        assert time.perf_counter() - start < 4 * BOUND_S, (text, keys)
    assert isinstance(result, formula_claims.FormulaResult)
    event(str(result.status))
    assert result.status in ("holds", "mismatch", "unparseable")
    if result.status == "unparseable" or result.message:
        _assert_message(result.message, text, keys)
