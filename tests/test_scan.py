"""``symbackprop scan``: a text's numbers found, structure skipped, each matched to the trace's quantities.

The expected values come from outside the scan: a text written here by hand whose numbers are the
seed-003 chain's arithmetic done in plain Python floats (independent of symbackprop), and the
hand-written claims of the bundled derivation files (recall and precision)."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import DERIVATIONS, SEED_CHAIN

import symbackprop
from symbackprop import api, cli
from symbackprop.verifier import scan as scan_module
from symbackprop.verifier import text_numbers

SEEDS = DERIVATIONS.parent.parent / "shared" / "seeds"
TEXT_003 = SEEDS / "003_131398abeddd6634.txt"


def chain(iterations: int, lr: float = -0.6) -> list[dict]:
    """Seed 003's two ReLU neurons in plain floats: each iteration's z_a, z_b, E, error terms, w_b1 (update added)."""
    w, x, y, out = dict(a0=.6, a1=.1, a2=.2, a3=.3, b0=.5, b1=.4), (.2, .1, .4), 1.0, []
    for t in range(iterations + 1):
        za = w["a0"] + w["a1"] * x[0] + w["a2"] * x[1] + w["a3"] * x[2]
        zb = w["b0"] + w["b1"] * max(0.0, za)
        b = max(0.0, zb)
        db = (b - y) * (zb > 0)
        da = db * w["b1"] * (za > 0)
        out.append(dict(za=za, zb=zb, E=(y - b) ** 2 / 2, E_sse=(y - b) ** 2, db=db, da=da, w_a1=w["a1"], w_b1=w["b1"]))
        if t < iterations:
            for p, g in (("b0", db), ("b1", db * max(0.0, za)), ("a0", da), ("a1", da * x[0]), ("a2", da * x[1]),
                         ("a3", da * x[2])):
                w[p] += lr * g
    return out


F = chain(1)  # iteration 1, and the forward pass after the update
HAND = f"""---
title: a hand-made text
weight: 10
---
# 2 The forward pass
Friday 19 July 2024, version v2.1 (Python 3.11); see Figure 3, Fig. 2, Table 1, Section 2.1 and p. 12.
As in [1], the network \\label{{eq:7}} of \\ref{{fig:2}} is 2-2-1, trained on 60,000 images.
1. Input X1 = 0.2 enters via weight Wa1 = 0.1.
Step 3: in our example, the weighted sum za is {F[0]['za']:.2f} (4)
The output zb = {F[0]['zb']:.4f}, and the loss E = {F[0]['E']:.4f} (cut off: 0.01920).
Without the 1/2 the loss would be {F[0]['E_sse']:.4f}.
Rounding as it goes, the text says MSE = 0.0190; and later MSE = 0.0500.
The error term for neuron-a is {F[0]['da']:.4f}.
Another number: {F[0]['db']:.3f}.
With the learning rate of -0.6 the new weight wa1 (new) = {F[1]['w_a1']:.6f}.
A bare 0 and 1 say nothing.
In Europe one writes za = 0,76.
"""
NO_CLAIMS = SEED_CHAIN.read_text().split("\n[[claims]]")[0] + "\n"  # the seed-003 chain, without its claims


def test_the_hand_text_states_the_floats_arithmetic():
    """The text's numbers are the plain-float arithmetic, so what scan matches is checked against that."""
    assert (f"{F[0]['za']:.2f}", f"{F[0]['zb']:.4f}", f"{F[0]['E']:.4f}", f"{F[0]['E_sse']:.4f}") == (
        "0.76", "0.8040", "0.0192", "0.0384")
    assert (f"{F[0]['da']:.4f}", f"{F[0]['db']:.3f}", f"{F[1]['w_a1']:.6f}") == ("-0.0784", "-0.196", "0.109408")
    assert f"{F[0]['E']:.5f}" == "0.01921" and f"{F[0]['E']:.6f}" == "0.019208"  # 0.01920 holds truncated only


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("scan")
    (root / "hand.md").write_text(HAND)
    (root / "model.toml").write_text(NO_CLAIMS)
    return root


@pytest.fixture(scope="module")
def hand(files):
    return api.scan(files / "hand.md", files / "model.toml")


def found(report, line: int, written: str, index: int = 0):
    """The finding of the ``index``-th number written ``written`` on ``line``."""
    return [f for f in report.findings if f.number.line == line and f.number.written == written][index]


STRUCTURE = [(3, "10", "front matter"), (5, "2", "heading number"), (6, "19", "date"), (6, "2024", "date"),
             (6, "v2.1", "version"), (6, "3.11", "version"), (6, "3", "figure/table/equation/section/step number"),
             (6, "1", "figure/table/equation/section/step number"), (6, "2.1", "figure/table/equation/section/step number"),
             (6, "12", "figure/table/equation/section/step number"), (7, "1", "citation"), (7, "7", "LaTeX reference"),
             (7, "2", "LaTeX reference"), (7, "60,000", "count"), (8, "1", "list numbering"),
             (9, "3", "figure/table/equation/section/step number"), (9, "4", "equation tag")]


@pytest.mark.parametrize("line, written, rule", STRUCTURE)
def test_structure_is_skipped_with_its_rule(hand, line, written, rule):
    f = found(hand, line, written)
    assert (f.group, f.number.structure) == ("structure", rule)
    assert f.how == next(r.why for r in text_numbers.STRUCTURE if r.name == rule)


def test_layer_sizes_citations_and_references_apart(hand):
    assert [f.number.structure for f in hand.findings if f.number.line == 7] == [
        "citation", "LaTeX reference", "LaTeX reference", "layer sizes", "layer sizes", "layer sizes", "count"]


MATCHED = [(8, "0.1", "w_a1", "named 'Wa1' in the text"), (9, "0.76", "z_a", "named 'za' in the text"),
           (10, "0.8040", "z_b", "named 'zb' in the text"), (10, "0.0192", "E", "named 'E' in the text"),
           (13, "-0.0784", "delta_a", "by its words: the text calls it an error term"),
           (15, "0.109408", "w_a1@2", "named 'wa1 (new)' in the text"), (17, "0,76", "z_a", "named 'za' in the text")]


@pytest.mark.parametrize("line, written, quantity, how", MATCHED)
def test_numbers_the_trace_gives_are_matched_to_one_quantity(hand, line, written, quantity, how):
    f = found(hand, line, written)
    assert (f.group, f.matches[0].quantity.name, f.how) == ("matched", quantity, how)
    assert scan_module.claim(f, "hand.md").quantity == quantity


def test_a_truncated_number_matches_and_says_so(hand):
    f = found(hand, 10, "0.01920")
    assert f.group == "matched" and f.matches[0].quantity.name == "E" and f.matches[0].truncated


def test_the_files_own_inputs_are_matches_but_not_claims(hand):
    x1, rate = found(hand, 8, "0.2"), found(hand, 15, "-0.6")
    assert (x1.group, x1.matches[0].quantity.name) == ("matched", "input:x1")
    assert (rate.group, rate.matches[0].quantity.name) == ("matched", "rate:learning_rate")
    assert scan_module.claim(x1, "hand.md") is None and scan_module.claim(rate, "hand.md") is None
    assert found(hand, 17, "0,76").number.stated == "0.76"  # a decimal comma is a claim's point


def test_several_equal_quantities_are_ambiguous_and_named(hand):
    f = found(hand, 14, "-0.196")
    names = [m.quantity.name for m in f.matches]
    assert f.group == "ambiguous" and set(names) == {"delta_b", "dE/da_b", "dE/dw_b0"}
    assert all(n in f.note for n in names[1:]) and f.note.startswith("ambiguous: equally")


def test_a_number_only_a_convention_gives(hand):
    sse, rounded = found(hand, 11, f"{F[0]['E_sse']:.4f}"), found(hand, 12, "0.0190")
    assert (sse.group, sse.matches[0].quantity.name) == ("convention", "E")
    assert any("loss sse" in c for c in sse.matches[0].conventions)
    assert (rounded.group, rounded.matches[0].quantity.name) == ("convention", "E")
    assert any("rounded to 3 decimals" in c for c in rounded.matches[0].conventions)
    assert rounded.note.startswith("matches only under a convention")


def test_a_named_number_nothing_gives_is_proposed_for_verify(hand):
    f = found(hand, 12, "0.0500")
    assert f.group == "unmatched" and f.matches[0].quantity.name == "E" and "the text calls it 'MSE'" in f.how


def test_bare_digits_are_too_short_to_attribute(hand):
    assert [found(hand, 16, d).group for d in ("0", "1")] == ["short", "short"]
    assert found(hand, 11, "1").group == "short"  # the 1/2 of "without the 1/2"


LATEX = r"""\section{Forward pass}\label{sec:2}
The weighted sum is $z_{a} = 0.76$, and $E = \frac{1}{2}(y - b)^{2}$ as in Eq.~(3) and \eqref{eq:1} \cite{r2019}.
| quantity | value |
|---|---|
| $\delta_{b}$ | -0.196 |
"""


def test_latex_and_a_markdown_table(files):
    (files / "text.tex").write_text(LATEX)
    r = api.scan(files / "text.tex", files / "model.toml")
    got = [(f.number.line, f.number.written, f.group, f.matches[0].quantity.name if f.group == "matched" else f.number.structure)
           for f in r.findings if f.group != "short"]
    assert got == [(1, "2", "structure", "LaTeX reference"), (2, "0.76", "matched", "z_a"), (2, "2", "structure", "index"),
                   (2, "3", "structure", "figure/table/equation/section/step number"), (2, "1", "structure", "LaTeX reference"),
                   (5, "-0.196", "matched", "delta_b")]
    assert [f.number.written for f in r.findings if f.group == "short"] == ["1", "2"]  # \frac{1}{2}


def test_the_summary_counts_every_number_once(hand):
    counts = hand.counts()
    assert sum(counts.values()) == len(hand.findings) and counts["structure"] >= len(STRUCTURE)


def test_claims_written_load_and_verify(files, hand):
    """-o's claims, appended to the model, load, and verify judges them as the scan matched them."""
    out = files / "claims.toml"
    written, _ = api.write_claims(hand, out)
    combined = files / "combined.toml"
    combined.write_text(NO_CLAIMS + "\n" + out.read_text())
    model = symbackprop.load(combined)
    assert len(model.claims) == written >= 9
    results = {(r.claim.source, r.claim.stated): r for r in api.verify(combined).results}
    assert results[("hand.md:9", "0.76")].status == "holds"
    assert results[("hand.md:10", "0.01920")].status == "truncated"
    assert results[("hand.md:15", "0.109408")].status == "holds"
    named = results[("hand.md:12", "0.0500")]
    assert named.status == "mismatch" and named.claim.quantity == "E"
    convention = results[("hand.md:11", f"{F[0]['E_sse']:.4f}")]
    assert convention.status == "mismatch" and any("loss sse" in d for d in convention.diagnosis)


def test_write_appends_atomically_and_never_twice(files, tmp_path):
    model = tmp_path / "seed003_chain.toml"
    shutil.copy(SEED_CHAIN, model)
    before = symbackprop.load(model).claims
    report = api.scan(TEXT_003, model, (106, 371))
    written, repeats = api.write_claims(report)
    after = symbackprop.load(model).claims
    assert after[:len(before)] == before and len(after) == len(before) + written and written > 0 and repeats > 0
    trace = symbackprop.derive(symbackprop.load(model)).trace()
    keys = [(str(trace.key(c.quantity)), c.stated) for c in after if not c.formula]
    new = keys[len([c for c in before if not c.formula]):]
    assert len(set(new)) == len(new) and not set(new) & set(keys[:len(keys) - len(new)])
    text = model.read_text()
    assert api.write_claims(api.scan(TEXT_003, model, (106, 371))) == (0, written + repeats)
    assert model.read_text() == text  # nothing new: the file untouched


def recall(text, model, lines=None):
    """(hand-written number claims of ``model`` the scan proposes with the same quantity and stated value, of how many;
    the proposals no hand-written claim makes)."""
    m = symbackprop.load(model)
    trace = symbackprop.derive(next(iter(m.under_readings().values()))).trace()
    proposed, _ = scan_module.proposed(api.scan(text, model, lines))
    pairs = {(str(trace.key(c.quantity)), c.stated) for c in proposed}
    lo, hi = lines or (1, 10**9)
    hand = [c for c in m.claims if not c.formula and lo <= int(c.source.rpartition(":")[2]) <= hi
            and c.source.startswith(text.name)]
    hits = [c for c in hand if (str(trace.key(c.quantity)), c.stated) in pairs]
    others = pairs - {(str(trace.key(c.quantity)), c.stated) for c in hand}
    return len(hits), len(hand), others


def test_recall_on_seed_000():
    assert recall(SEEDS / "000_d21e529fc4d87f38.txt", DERIVATIONS / "seed000_chain.toml") == (5, 5, set())


def test_recall_on_seed_003_chapter_2():
    hits, total, others = recall(TEXT_003, SEED_CHAIN, (106, 371))
    assert (hits, total) == (11, 14)  # missed: two bare 1s (too short) and wb1 =0.4, proposed as w_b1 (= dz_b/da_a)
    assert others == {("w_a1@1", "0.1"), ("w_a2@1", "0.2"), ("w_a3@1", "0.3"), ("w_a0@1", "0.6"), ("w_b1@1", "0.4")}


def test_recall_on_seed_002():
    hits, total, _ = recall(SEEDS / "002_d1904c5cc3256ef4.txt", DERIVATIONS / "seed002_2_2_1.toml")
    assert (hits, total) == (6, 8)


def test_a_long_run_is_cut_by_its_bound_and_says_so(tmp_path, monkeypatch):
    """30 iterations, one of the first and last indexed: a number of iteration 2 is not searched, one of 31 is."""
    monkeypatch.setattr(scan_module, "MAX_VALUES", 1)
    monkeypatch.setattr(scan_module, "VARIANT_WORK", 0)
    run = chain(30)
    model = tmp_path / "long.toml"
    model.write_text(NO_CLAIMS.replace("iterations = 1", "iterations = 30"))
    text = tmp_path / "long.txt"
    text.write_text(f"At first the loss is {run[0]['E']:.6f}.\nAfter one update wb1 is {run[1]['w_b1']:.6f}.\n"
                    f"At the end wb1 is {run[30]['w_b1']:.11f}.\n")
    report = api.scan(text, model)
    assert [f.group for f in report.findings] == ["matched", "unmatched", "matched"]
    assert report.findings[2].matches[0].quantity.name == "w_b1@31"
    assert any("iterations 2..30 of 1..31 not searched" in b for b in report.bounds)
    assert any("conventions tried at no iteration" in b for b in report.bounds)


def test_json_report_has_stable_keys(files, capsys):
    assert cli.main(["scan", str(files / "hand.md"), "--model", str(files / "model.toml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"text", "model", "title", "summary", "bounds", "numbers"}
    assert set(data["summary"]) == {"numbers", *scan_module.GROUPS}
    number = next(n for n in data["numbers"] if n["written"] == "0.76")
    assert set(number) == {"line", "column", "written", "stated", "quote", "group", "reason", "rule", "name", "matches",
                           "note", "claim"}
    assert number["claim"]["quantity"] == "z_a" and number["claim"]["source"] == "hand.md:9"
    assert number["matches"][0]["decimal"] == "0.76" and number["matches"][0]["exact"] == "19/25"


def test_a_text_without_numbers(files, capsys):
    (files / "words.txt").write_text("No numbers here at all.\n")
    assert cli.main(["scan", str(files / "words.txt"), "--model", str(files / "model.toml")]) == 0
    assert "no numbers in this text" in capsys.readouterr().out


BAD = {
    "missing": (lambda d: ["scan", str(d / "nowhere.txt"), "--model", str(d / "model.toml")], "nowhere.txt: no such file"),
    "directory": (lambda d: ["scan", str(d), "--model", str(d / "model.toml")], "is a directory; expected a text"),
    "binary": (lambda d: ["scan", str(d / "binary.txt"), "--model", str(d / "model.toml")], "binary.txt: a binary file"),
    "latin1": (lambda d: ["scan", str(d / "latin1.txt"), "--model", str(d / "model.toml")], "latin1.txt: not UTF-8 text"),
    "huge": (lambda d: ["scan", str(d / "huge.txt"), "--model", str(d / "model.toml")], "huge.txt: 4,194,305 bytes"),
    "bad_model": (lambda d: ["scan", str(d / "hand.md"), "--model", str(d / "bad.toml")], "bad.toml: not valid TOML"),
    "no_model": (lambda d: ["scan", str(d / "hand.md"), "--model", str(d / "none.toml")], "none.toml: no such file"),
    "both_outputs": (lambda d: ["scan", str(d / "hand.md"), "--model", str(d / "model.toml"), "-o", str(d / "o.toml"),
                                "--write"], "--write: -o "),
    "bad_lines": (lambda d: ["scan", str(d / "hand.md"), "--model", str(d / "model.toml"), "--lines", "a-b"],
                  "--lines: 'a-b': expected a line range"),
}


@pytest.fixture(scope="module")
def bad_files(files):
    (files / "binary.txt").write_bytes(b"x = 0.5\x00\x01")
    (files / "latin1.txt").write_bytes("z = 0.5 \xe9t\xe9\n".encode("latin-1"))
    (files / "huge.txt").write_bytes(b"1 " * (2 * 2**20) + b"\n")
    (files / "bad.toml").write_text("[network\n")
    return files


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_exit_2(bad_files, capsys, case):
    argv, expected = BAD[case]
    assert cli.main(argv(bad_files)) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in captured.err and captured.out == ""
    assert not (bad_files / "o.toml").exists()


def test_the_command_end_to_end(files, run_cli):
    """As a user runs it: the report on standard output, the claims written, exit 0; then bad input, exit 2."""
    out = files / "e2e.toml"
    r = run_cli("scan", str(files / "hand.md"), "--model", str(files / "model.toml"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "matched to one quantity" in r.stdout and "line 9: z_a = 0.76    named 'za' in the text" in r.stdout
    assert "claims written to" in r.stderr and 'quantity = "z_a"' in out.read_text()
    r = run_cli("scan", str(files / "missing.txt"), "--model", str(files / "model.toml"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "missing.txt: no such file" in r.stderr
