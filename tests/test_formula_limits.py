"""The formula reader is bounded: formulas that would crash it or run for ever (huge, deeply nested,
exponent towers, numbers beyond any network's, values that overflow or are undefined, the reader's
own placeholder characters) end quickly in a status with a one-line reason, through the Python API
and the command line; the legitimate formula claims still hold (docs/formulas.md, Limits)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DERIVATIONS, ROOT, SEED_CHAIN

import symbackprop
from symbackprop.verifier import formula_limits as limits

BOUND_S = 20  # per case: generous (the aim is well under 2 s), so that a regression fails instead of hanging
NETWORK = SEED_CHAIN.read_text().split("[[claims]]")[0]  # seed 003's network, without its claims


def _toml(text: str) -> str:
    """A TOML basic string, control characters escaped."""
    out = []
    for ch in text:
        out.append("\\\\" if ch == "\\" else '\\"' if ch == '"' else f"\\u{ord(ch):04x}" if ord(ch) < 32 or ord(ch) == 127 else ch)
    return '"' + "".join(out) + '"'


def claim_file(tmp_path: Path, formula: str, quantity: str | None = "dE/dw_b1", symbols: dict | None = None) -> Path:
    text = NETWORK + "[[claims]]\nformula = " + _toml(formula) + "\n"
    if quantity:
        text += f'quantity = "{quantity}"\n'
    if symbols:
        text += "symbols = { " + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in symbols.items()) + " }\n"
    path = tmp_path / "claim.toml"
    path.write_text(text + 'source = "limits:1"\nquote = "a formula beyond the reader"\n')
    return path


def nested(open_: str, inner: str, close: str, n: int) -> str:
    return open_ * n + inner + close * n


# (id, formula, quantity, symbols, status, a fragment of the reason)
CASES = [
    # the cases
    ("1 MB", "w_{a1} + " * 111_111 + "w_{a1}", "dE/dw_b1", None, "unparseable", "characters; the reader reads at most 4000"),
    ("10,000 nested braces", nested("{", "w_{a1}", "}", 10_000), "dE/dw_b1", None, "unparseable", "the reader reads at most 4000"),
    ("a sum of 10,000 terms", " + ".join(["w_{a1}"] * 10_000), "dE/dw_b1", None, "unparseable", "the reader reads at most 4000"),
    ("tower of 2s", "2^{2^{2^{2^{2^{2}}}}}", "dE/dw_b1", None, "unparseable", "a tower of 5 exponents; the reader reads at most 3"),
    ("2,000 nested max", nested(r"\max(0, ", "w_{a1}", ")", 2000), "dE/dw_b1", None, "unparseable", "the reader reads at most 4000"),
    ("tower of x_1", "x_1^{x_1^{x_1^{x_1^{x_1}}}}", "dE/dw_b1", None, "unparseable", "a tower of 4 exponents"),
    ("exp of exp of exp of exp", r"\exp(\exp(\exp(\exp(100 w_{a1}))))", "dE/dw_b1", None, "mismatch", "is beyond 10^"),
    ("placeholder bytes", "\x00 9 \x01", "dE/dw_b1", None, "unparseable", "control character U+0000"),
    ("a placeholder itself", "w_{a1} + \x009\x01", "dE/dw_b1", None, "unparseable", "control character U+0000"),
    ("a placeholder's end", "w_{a1} \x01 2", "dE/dw_b1", None, "unparseable", "control character U+0001"),
    ("sqrt of a negative in max", r"\max(0, \sqrt{-1 - w_{a1}^2})", "dE/dw_b1", None, "mismatch", "undefined"),
    ("sqrt of a negative at the example", r"\max(0, \sqrt{-w_{a1}})", "dE/dw_b1", None, "mismatch", "not real"),
    ("1/0", r"\frac{1}{0}", "dE/dw_b1", None, "mismatch", "division by zero"),
    # more of the same kinds
    ("100 nested braces", nested("{", "x_1", "}", 100), "dE/dw_b1", None, "unparseable", "nests brackets 100 deep"),
    ("20 nested max", nested(r"\max(0, ", "x_1", ")", 20), "dE/dw_b1", None, "unparseable", "nests brackets 20 deep"),
    ("30 nested fractions", nested(r"\frac{1}{", "x_1", "}", 30), "dE/dw_b1", None, "unparseable", "nests brackets 30 deep"),
    ("a sum of 2,000 ones", "+".join(["1"] * 2000), "dE/dw_b1", None, "unparseable", "tokens for the parser"),
    ("10^{10^{10}}", "10^{10^{10}}", "dE/dw_b1", None, "unparseable", "the exponent 1.0e+10 is beyond"),
    ("w^100000", "w_{a1}^{100000}", "dE/dw_b1", None, "unparseable", "the exponent 100000.0 is beyond"),
    ("(10^1000)^1000", "(10^{1000})^{1000}", "dE/dw_b1", None, "unparseable", "the reader reads numbers up to 10^1000"),
    ("a number of 3000 digits", "9" * 3000 + " w_{a1}", "dE/dw_b1", None, "unparseable", "is beyond 10^"),
    ("a factorial", "(10^{10})!", "dE/dw_b1", None, "unparseable", "formula claims do not read factorial"),
    ("unbalanced braces", r"\frac{1}{w_{a1}", "dE/dw_b1", None, "unparseable", "unbalanced braces"),
    ("only =", "=", None, None, "unparseable", "an empty side of '='"),
    ("log of 0", r"\log(0)", "dE/dw_b1", None, "mismatch", "undefined"),
    ("0^-1", "0^{-1}", "dE/dw_b1", None, "mismatch", "division by zero"),
    ("log of a negative", r"\ln(w_{a1} - 1)", "dE/dw_b1", None, "mismatch", "not a real number"),
    ("exp of exp, defined", r"\exp(\exp(w_{a1}))", "dE/dw_b1", None, "mismatch", ""),
    ("a power too big to expand", "(w_{a1} + w_{a2} + w_{a3} + x_1)^{1000}", "dE/dw_b1", None, "mismatch", ""),
    ("a digit as a key", "2 \\cdot 1 + w_{a1}", "z_a", {"1": "w_a2"}, "mismatch", ""),
    # within the bounds, and read in time
    ("16 nested fractions", nested(r"\frac{1}{", "x_1", "}", 16), "dE/dw_b1", None, "mismatch", ""),
    ("16 nested max", nested(r"\max(0, ", "z_a", ")", 16), "a_a", None, "holds", ""),
    ("16 nested parentheses around 90 terms", nested("(", " + ".join(["w_a1 x_1"] * 90), ")", 16), "dE/dw_b1", None,
     "mismatch", ""),
    ("1,499 tokens", "+".join(["x_1"] * 750), "dE/dw_b1", None, "mismatch", ""),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, formula, quantity, symbols, status, reason", CASES, ids=IDS)
def test_bounded_through_the_api(tmp_path, name, formula, quantity, symbols, status, reason):
    path = claim_file(tmp_path, formula, quantity, symbols)
    start = time.monotonic()
    report = symbackprop.verify(path)
    took = time.monotonic() - start
    [r] = report.results
    assert r.status == status, (r.formula.message, r.diagnosis)
    assert reason in r.formula.message
    assert "\n" not in r.formula.message
    assert report.failed == (status != "holds")
    assert took < BOUND_S, f"{name}: {took:.1f} s"


def run(*args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    """The command line as a user runs it, killed (and failing) if it does not end in time."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "symbackprop", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout)


CLI_CASES = ["1 MB", "tower of 2s", "2,000 nested max", "exp of exp of exp of exp", "placeholder bytes",
             "sqrt of a negative in max", "1/0", "10^{10^{10}}"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_bounded_through_the_command_line(tmp_path, name):
    _, formula, quantity, symbols, status, reason = CASES[IDS.index(name)]
    path = claim_file(tmp_path, formula, quantity, symbols)
    start = time.monotonic()
    done = run("verify", str(path))
    assert time.monotonic() - start < BOUND_S
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) <= 1
    assert (status.upper() if status == "mismatch" else status) in done.stdout
    as_json = run("verify", "--json", str(path))
    assert as_json.returncode == 1 and "Traceback" not in as_json.stderr
    [claim] = json.loads(as_json.stdout)[0]["claims"]
    assert claim["status"] == status and reason in claim["message"]


def test_legitimate_formulas_still_hold():
    """The bundled files' formula claims keep their statuses (tests/test_formulas.py has each by hand)."""
    report = symbackprop.verify(DERIVATIONS / "seed003_chain.toml")
    formulas = [r for r in report.results if r.claim.formula]
    assert formulas and all(r.status == "holds" for r in formulas)
    assert all(not r.formula.message for r in formulas)


def test_the_docs_list_every_bound():
    """docs/formulas.md's Limits table gives each bound with the value the module uses."""
    docs = (ROOT / "docs" / "formulas.md").read_text()
    table = docs.split("## Limits", 1)[1]
    names = [n for n in dir(limits) if n.startswith("MAX_") or n == "PRECISION_BITS"]
    for name in names:
        row = re.search(rf"^\| `{name}` \| ([^|]+) \|", table, re.M)
        assert row, f"{name} is not in the Limits table"
        shown = row[1].strip().replace(",", "").replace("10^7", str(10**7))
        assert int(re.match(r"\d+", shown)[0]) == getattr(limits, name), (name, shown)
