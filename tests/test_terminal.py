"""The terminal walkthrough as a reader sees it: colour on a TTY only, 100 columns, prose wrapped
between ``name = value`` pairs, tables whose numbers stay whole, equation numbers that cite the right steps."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys

import pytest
import sympy as sp
from conftest import DERIVATIONS, ROOT, SEED_CHAIN, cli, on_a_tty
from rich.cells import cell_len

import symbackprop
from symbackprop.core.decimals import decimal
from symbackprop.core.trace import Key
from symbackprop.documents.builder import build
from symbackprop.documents.formulas.relations import is_exact
from symbackprop.documents.formulas.text import plain
from symbackprop.documents.nodes import Network, Number, Partial, Plot, Section, Step, Table, Walkthrough
from symbackprop.documents.printers import terminal
from symbackprop.documents.printers.numbering import numbering

WIDTH = 100
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLOUR = re.compile(r"\x1b\[[0-9;]*3[0-7](;[0-9]+)*m|\x1b\[[0-9;]*1m")  # a foreground colour or bold
BUNDLED = sorted(DERIVATIONS.glob("*.toml"))


def walkthrough(path, iterations=None):
    d = symbackprop.derive(symbackprop.load(path))
    trace = d.trace(iterations)
    return d, trace, build(d, trace)


def widths(text: str) -> list[int]:
    """Each line's width in terminal cells (rich's measure, which counts wide characters twice) and in characters."""
    return [max(cell_len(line), len(line)) for line in text.splitlines()]


# -- colour: a terminal gets it, a pipe, a file and NO_COLOR do not --------------------------------
def _stdout_on_a_tty(*argv: str, env: dict | None = None) -> tuple[int, str]:
    """``symbackprop ARGV`` with its standard output on a pseudo-terminal: (exit code, what it wrote there)."""
    code, seen = on_a_tty(*argv, env={"TERM": "xterm-256color", **(env or {})}, unset=("NO_COLOR", "FORCE_COLOR"))
    return code, seen.decode("utf-8").replace("\r\n", "\n")


def test_colour_on_a_tty_and_none_when_piped_written_or_no_color(tmp_path):
    piped = cli("derive", str(SEED_CHAIN))
    assert piped.returncode == 0 and "\x1b" not in piped.stdout

    code, tty = _stdout_on_a_tty("derive", str(SEED_CHAIN))
    assert code == 0 and COLOUR.search(tty), tty[:300]
    assert ANSI.sub("", tty) == piped.stdout  # the same text, only styled
    # the section titles, relations, numbers and equation numbers are what is styled
    assert "\x1b[1;4mIteration 1: backward pass\x1b[0m" in tty
    assert "\x1b[36m0.804\x1b[0m" in tty and "\x1b[1m=\x1b[0m" in tty and "\x1b[2m(17)\x1b[0m" in tty

    code, no_color = _stdout_on_a_tty("derive", str(SEED_CHAIN), env={"NO_COLOR": "1"})
    assert code == 0 and "\x1b" not in no_color and no_color == piped.stdout
    code, never = _stdout_on_a_tty("derive", str(SEED_CHAIN), "--color", "never")
    assert code == 0 and never == piped.stdout
    code, dumb = _stdout_on_a_tty("derive", str(SEED_CHAIN), env={"TERM": "dumb"})
    assert code == 0 and dumb == piped.stdout

    out = tmp_path / "walk.txt"
    code, shown = _stdout_on_a_tty("derive", str(SEED_CHAIN), "-o", str(out))
    assert code == 0 and shown == "" and out.read_text(encoding="utf-8") == piped.stdout

    forced = cli("derive", str(SEED_CHAIN), "--color", "always")  # asked for: through a pipe too (less -R)
    assert COLOUR.search(forced.stdout) and ANSI.sub("", forced.stdout) == piped.stdout
    code, md = _stdout_on_a_tty("derive", str(SEED_CHAIN), "--format", "md")  # only the terminal format has colour
    assert code == 0 and "\x1b" not in md and md == cli("derive", str(SEED_CHAIN), "--format", "md").stdout


def test_the_environment_does_not_change_the_bytes():
    """Rich reads COLUMNS, NO_COLOR, FORCE_COLOR, TERM; the printer's output must not depend on them."""
    _, _, doc = walkthrough(SEED_CHAIN)
    plain_text, coloured = terminal.render(doc), terminal.render(doc, color=True)
    script = ("import sys; from symbackprop import derive, load; from symbackprop.documents.builder import build;"
              "from symbackprop.documents.printers import terminal; d = derive(load(sys.argv[1]));"
              "doc = build(d, d.trace()); sys.stdout.write(terminal.render(doc) + '\\0' + terminal.render(doc, color=True))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "40", "NO_COLOR": "1", "FORCE_COLOR": "1", "TERM": "dumb"}
    run = subprocess.run([sys.executable, "-c", script, str(SEED_CHAIN)], capture_output=True, text=True, env=env,
                         check=True, encoding="utf-8")
    assert run.stdout.split("\0") == [plain_text, coloured]
    assert "\x1b" not in plain_text and ANSI.sub("", coloured) == plain_text


# -- 100 columns -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_no_line_is_longer_than_100_columns(path):
    _, _, doc = walkthrough(path)
    text = terminal.render(doc)
    assert "\x1b" not in text
    assert max(widths(text)) <= WIDTH
    assert text == terminal.render(doc)  # deterministic
    numbers = [n for section in numbering(doc, True).equations for n in section]
    assert numbers == list(range(1, sum(len(s.steps) for s in doc.sections) + 1))


def test_a_wide_dense_network_keeps_to_100_columns_and_breaks_its_sums_at_operators(tmp_path):
    model = tmp_path / "x.toml"
    assert cli("dense", "4,16,16,1", "-o", str(model)).returncode == 0
    run = cli("derive", str(model), "--only", "w1_1_1,b3_1")
    assert run.returncode == 0, run.stderr
    text = run.stdout
    assert max(widths(text)) <= WIDTH and "\x1b" not in text
    d = symbackprop.derive(symbackprop.load(model))
    doc = build(d, d.trace(), ["w1_1_1", "b3_1"])
    assert terminal.render(doc) == text
    # z_{2,1}, a sum of 17 terms (129 characters), comes in rows cut before a "+", each row indented under its side
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  z_{2,1} = "))
    block = [lines[first]] + [line for line in lines[first + 1:first + 8] if line.startswith(" " * 14 + "+ ")]
    whole = plain(next(s for section in doc.sections for s in section.steps if s.name == "z_n2_1").forms[0])
    joined = " ".join(re.sub(r"\s+\(\d+\)$", "", line).strip() for line in block).removeprefix("z_{2,1} = ")
    assert len(block) > 2 and joined == whole
    # its tables (a notation table of long lists among them) read back whole, its citations name the steps used
    assert check_tables(doc, text) > 0
    check_citations(doc, text)


# -- prose -----------------------------------------------------------------------------------------
def test_prose_wraps_between_pairs_and_indents_its_continuations():
    pairs = [f"W{i}{j} = {'−' if j % 3 == 0 else ''}{i}.{j}" for i in range(1, 10) for j in range(1, 8)]
    text = "Initial parameters: " + ", ".join(pairs)
    lines = terminal.wrap(text)
    assert len(lines) > 3 and max(map(len, lines)) <= WIDTH
    assert all(line.startswith(terminal.CONTINUATION) and line[len(terminal.CONTINUATION)] != " " for line in lines[1:])
    assert " ".join(line.strip() for line in lines) == text  # nothing lost, nothing added
    got = [p for line in lines for p in line.removeprefix("Initial parameters:").strip().rstrip(",").split(", ")]
    assert got == pairs  # every line holds whole pairs: none is split at its spaces


def test_prose_never_breaks_beside_a_relation_sign():
    text = "The update " + " ".join(["w ← w − η ∂E/∂w = 0.5 − 0.1 · 0.25 ≈ 0.475"] * 6)
    lines = terminal.wrap(text, 37)
    assert len(lines) > 6 and max(map(len, lines)) <= 37 and " ".join(line.strip() for line in lines) == text
    for line in lines:
        words = line.split()
        assert words[0] not in {"=", "≈", "←"} and words[-1] not in {"=", "≈", "←"}, line


def test_notes_hard_wrapped_in_the_file_are_reflowed_by_sentence():
    text = "one two\nthree four.\nFive six: seven\neight"
    assert terminal.reflow(text) == "one two three four.\nFive six: seven eight"
    assert terminal.wrap(terminal.reflow(text), 20) == ["one two three four.", "    Five six: seven", "    eight"]


def test_wide_characters_count_two_cells():
    text = "Notes: " + "中文注释，" * 40 + " then W54 = 1.0, W55 = 2.0"
    lines = terminal.wrap(text)
    assert max(cell_len(line) for line in lines) <= WIDTH and len(lines) >= 5
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
    assert any("W54 = 1.0," in line for line in lines) and any("W55 = 2.0" in line for line in lines)


def test_prose_minus_signs_and_arrows():
    assert terminal.prose("lr = -0.6, w <- w - 1e-5, neuron-b's lines 344-360") == \
        "lr = −0.6, w ← w − 1e−5, neuron-b's lines 344-360"


# -- tables ----------------------------------------------------------------------------------------
NUMBER_TEXT = re.compile(r"(≈ )?−?\d+(\.\d+)?(e[−+]\d+)?(?![\w,}])")


def _table_doc():
    """A summary as the builder gives it, wide and long: 100 rows (each parameter, its gradient and change)
    and 8 columns (iterations), plus a prose table with a pair in its text, from seed 003's two-GPU network."""
    d, trace, doc = walkthrough(DERIVATIONS / "seed003_two_gpus.toml", iterations=8)
    v = trace.values
    rows, expected = [], []
    for p in d.model.parameters:
        for name, lhs in ((p, d.symbols[p]), (f"dE/d{p}", Partial(d.E, d.symbols[p])), (f"Delta_{p}", sp.Symbol(f"Delta_{p}"))):
            values = [v[Key(name, None, t)] for t in range(1, 9)]
            rows.append((lhs, *(Number(x) for x in values)))
            expected.append((plain(lhs), values))
    rows, expected = rows[:100], expected[:100]
    summary = Table("summary", "Parameters and gradients, iterations 1 to 8", ("quantity", *(f"t = {t}" for t in range(1, 9))),
                    tuple(rows))
    meaning = ("the learning rate; the text writes its update w ← w − η ∂E/∂w with W54 = 1.0 and W55 = 2.0 as its "
               "example values, over the mean of the batch of examples, " * 2).strip()
    notation = Table("notation", "Notation", ("symbol", "meaning"), ((sp.Symbol("eta"), meaning),
                                                                     (sp.Heaviside(sp.Symbol("z_a"), 0), "the step")))
    first = next(s for s in doc.sections if s.steps)  # a section with text, a figure, the tables, then steps
    section = dataclasses.replace(first, text=("Inputs: x1, x2, x3.",), network=doc.sections[0].network,
                                  tables=(notation, summary))
    return dataclasses.replace(doc, sections=(section,)), expected, meaning


def _parts(text: str, label: str) -> list[list[str]]:
    """The body rows of each part of a table: the lines between its head rule and the next blank line."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith(label):
            rule = next(j for j in range(i, len(lines)) if set(lines[j].strip()) == {"─"})
            end = next((j for j in range(rule, len(lines)) if not lines[j].strip()), len(lines))
            out.append(lines[rule + 1:end])
    return out


def test_a_wide_long_table_keeps_every_number_whole_in_100_columns():
    doc, expected, _ = _table_doc()
    text = terminal.render(doc)
    assert max(widths(text)) <= WIDTH
    parts = _parts(text, "Table 2")
    assert check_tables(doc, text) == 3 * 2 + 101 * (8 + len(parts))  # both tables, every cell whole, the name in each part
    assert len(parts) > 1 and all(len(part) == len(expected) for part in parts)  # each part: every row, one line each
    assert text.count(f"Table 2 (part 1 of {len(parts)}): Parameters and gradients, iterations 1 to 8") == 1
    assert [text.count(f"Table 2 (part {k} of {len(parts)})") for k in range(1, len(parts) + 1)] == [1] * len(parts)
    for r, (name, values) in enumerate(expected):
        cells = []
        for part in parts:
            row = part[r]
            assert row.split()[0] == name  # the first column in every part
            cells += [m[0] for m in NUMBER_TEXT.finditer(row[len(name) + 1:])]
        assert cells == [("" if is_exact(x) else "≈ ") + decimal(x).replace("-", "−")
                         for x in values], name
        for text, x in zip(cells, values):  # and each is the trace's value: exact, or rounded to its last digit
            digits = text.removeprefix("≈ ").replace("−", "-")
            mantissa, _, exponent = digits.partition("e")
            places = len(mantissa.partition(".")[2])
            error = abs(sp.Rational(digits) - x)
            assert error == 0 if not text.startswith("≈") else error <= sp.Rational(1, 2 * 10**places) * 10 ** int(exponent or 0)
    # in each column of numbers, the decimal points stand under each other
    for part in parts:
        points = [[row.index(".", m.start()) for m in NUMBER_TEXT.finditer(row) if "." in m[0]] for row in part]
        assert len({tuple(p) for p in points if len(p) == max(map(len, points))}) == 1


def _columns(lines: list[str]) -> list[int]:
    """Where the columns of a set table start: after three spaces in every line, text in some."""
    width = max(map(len, lines))
    padded = [line.ljust(width + 1) for line in lines]
    return [0] + [p for p in range(4, width) if all(line[p - 3:p] == "   " for line in padded)
                  and any(line[p] != " " for line in padded)]


def read_table(lines: list[str], expected: list[list[str]]) -> int:
    """The table's lines (head first, then its rule, then the body) read back against the cells expected
    (head first): each cell's lines, joined by spaces, must give the whole cell, so a number or a pair cut
    across lines fails. Returns the number of cells checked."""
    head, body = lines[0], lines[2:]
    starts = _columns([head] + body)
    assert len(starts) == len(expected[0]), (starts, head)

    def cells(line: str) -> list[str]:
        return [line[a:b].strip() for a, b in zip(starts, starts[1:] + [len(line) + 1])]

    assert cells(head) == expected[0]
    at = 0
    for want in expected[1:]:
        got = [""] * len(want)
        while got != want:
            assert at < len(body), (want, got)
            for i, piece in enumerate(cells(body[at])):
                got[i] = f"{got[i]} {piece}".strip() if piece else got[i]
            at += 1
            assert all(want[i].startswith(got[i]) for i in range(len(want))), (want, got)
    assert at == len(body)
    return len(expected) * len(expected[0])


def shown(value) -> str:
    """A cell as the reader should see it, from the node: the trace's number, a formula in the steps' notation."""
    if isinstance(value, str):
        return terminal.prose(value)
    if isinstance(value, Number):
        return ("" if is_exact(value.value) else "≈ ") + decimal(value.value).replace("-", "−")
    return plain(value)


def table_blocks(text: str, number: int) -> list[list[str]]:
    """Each part of Table ``number``: its lines from the head to the blank line after it."""
    lines, out = text.splitlines(), []
    for i, line in enumerate(lines):
        if re.match(rf"Table {number}(:| \(part)", line):
            rule = next(j for j in range(i, len(lines)) if lines[j].strip() and set(lines[j].strip()) == {"─"})
            end = next((j for j in range(rule, len(lines)) if not lines[j].strip()), len(lines))
            out.append(lines[rule - 1:end])
    return out


def check_tables(doc: Walkthrough, text: str) -> int:
    """Every table of the document read back, cell by cell, in 100 columns; a table set in parts repeats its first column."""
    checked, number = 0, 0
    for section in doc.sections:
        for table in section.tables:
            number += 1
            grid = [[shown(v) for v in table.head]] + [[shown(v) for v in row] for row in table.rows]
            blocks = table_blocks(text, number)
            assert blocks, f"Table {number} not found"
            assert max(widths("\n".join(line for b in blocks for line in b))) <= WIDTH
            at = 1
            for block in blocks:
                n = len(_columns([block[0]] + block[2:])) - (1 if len(blocks) > 1 else 0)
                cols = [0] + list(range(at, at + n)) if len(blocks) > 1 else list(range(n))
                checked += read_table(block, [[row[c] for c in cols] for row in grid])
                at += n
            assert at - 1 == len(grid[0]) - 1 or len(blocks) == 1
    return checked


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_table_reads_back_cell_by_cell(path):
    _, _, doc = walkthrough(path)
    if not any(s.tables for s in doc.sections):
        pytest.skip("the builder gives this document no table")
    assert check_tables(doc, terminal.render(doc)) > 0


def test_a_prose_column_wraps_without_splitting_a_pair():
    doc, _, meaning = _table_doc()
    text = terminal.render(doc)
    (rows,) = _parts(text, "Table 1")
    assert max(map(len, rows)) <= WIDTH and len(rows) > 3  # the meaning wrapped in its column
    meaning_column = rows[0].index("the learning rate")
    pieces = [row[meaning_column:].strip() for row in rows if row[meaning_column:].strip()]
    assert " ".join(pieces[:-1]) == meaning.strip() and pieces[-1] == "the step"
    for row in rows:
        assert not re.search(r"(W5\d|=)\s*$", row) and not re.match(r"\s*(=|1\.0|2\.0)", row[meaning_column:])
    assert "W54 = 1.0" in text and "W55 = 2.0" in text


def test_a_table_is_placed_after_the_text_and_figure_and_before_the_steps():
    doc, _, _ = _table_doc()
    lines = terminal.render(doc).splitlines()
    order = [next(i for i, line in enumerate(lines) if line.startswith(key))
             for key in ("Inputs:", "Figure 1: ", "Table 1: Notation", "Table 2 (part 1", "  z_{1,1} = ")]
    assert order == sorted(order)


# -- equation numbers and what a step cites --------------------------------------------------------
def check_citations(doc: Walkthrough, text: str) -> int:
    """Each step's number stands at the end of its first line, in order; its "using (…)" lists the numbers of
    the latest earlier steps of the names in ``uses`` (computed here from the nodes), ascending, names no step has left out.
    Returns how many citations were checked."""
    steps = [s for section in doc.sections for s in section.steps]
    lines = text.splitlines()
    starts, at = [], 0
    for n, step in enumerate(steps, 1):
        tag = f"({n})"
        at = next(i for i in range(at, len(lines)) if lines[i].endswith(tag) and len(lines[i]) == WIDTH
                  and lines[i][WIDTH - len(tag) - 1] == " ")
        first = lines[at][:WIDTH - len(tag)].strip()
        assert first == plain(step.lhs) or first.startswith(plain(step.lhs) + " "), (n, first)
        starts.append(at)
        at += 1
    checked = 0
    for n, (step, a, b) in enumerate(zip(steps, starts, starts[1:] + [len(lines)]), 1):
        block = " ".join([lines[a][:WIDTH - len(f"({n})")].strip()] + [line.strip() for line in lines[a + 1:b]])
        want = []
        for name in step.uses:
            earlier = [i for i, s in enumerate(steps[:n - 1], 1) if s.name == name]
            if earlier and earlier[-1] not in want:
                want.append(earlier[-1])
        cited = re.search(r"using ((?:\(\d+\)(?:, )?)+)\]", block)
        got = [int(x) for x in re.findall(r"\d+", cited[1])] if cited else []
        assert got == sorted(want), (step.name, block)
        checked += len(got)
    return checked


def test_equation_numbers_and_citations_name_the_steps_used():
    _, _, doc = walkthrough(SEED_CHAIN)
    sections = []
    for section in doc.sections:  # each gradient uses the error terms before it, and a name no step has
        steps = []
        for step in section.steps:
            uses = ()
            if step.name.startswith("dE/dw_"):
                uses = ("delta_a[1]@1", "delta_b[1]@1", "no such step", "delta_a[1]@1")
            elif step.name.startswith("Delta_"):
                uses = (f"dE/d{step.name.removeprefix('Delta_').split('@')[0]}[1]@1",)
            elif step.name == "z_a[1]@1":
                uses = ("z_b[1]@1",)  # a later step (in the first iteration): not cited
            steps.append(dataclasses.replace(step, uses=uses))
        sections.append(dataclasses.replace(section, steps=tuple(steps)))
    doc = dataclasses.replace(doc, sections=tuple(sections))
    text = terminal.render(doc)
    assert check_citations(doc, text) == 6 * 2 + 6
    assert max(widths(text)) <= WIDTH
    # by the numbers printed beside δ_a and δ_b in the backward pass
    lines = text.splitlines()
    backward = lines.index("Iteration 1: backward pass")
    number = {lhs: next(re.search(r"\((\d+)\)$", line)[1] for line in lines[backward:] if line.startswith(f"  {lhs} = "))
              for lhs in ("δ_a", "δ_b")}
    assert f"= −0.01568    [using ({number['δ_b']}), ({number['δ_a']})]" in text  # in the order they stand


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_the_builders_citations(path):
    """Whatever the builder puts in ``uses``, the printed numbers are those of the named steps."""
    _, _, doc = walkthrough(path)
    check_citations(doc, terminal.render(doc))


# -- figures ---------------------------------------------------------------------------------------
def test_figures_keep_their_numbers_and_captions_and_say_where_they_are_drawn():
    network = Network((("x1",), ("a",)), (("x1", "a", "w_a1"),), ("a",))
    plots = (Plot("loss", "Loss", "t", "E", (("E", (1.0, 2.0), (0.5, 0.25)),), caption="The loss falls with each update."),
             Plot("weights", "Weights over the iterations", "t", "w", ()))
    step = Step("E", sp.Symbol("E"), (sp.Symbol("a") ** 2,))
    doc = Walkthrough("T", (Section("One", (step,), ("Text.",), network=network, plots=("loss", "missing")),
                            Section("Two", (step,), network=dataclasses.replace(network, caption="Seed 3's net, W54 = 1.0"),
                                    plots=("weights",))), plots)
    text = terminal.render(doc, plots_href="plots")
    figures = [line for line in text.splitlines() if line.startswith("Figure")]
    assert figures == [
        "Figure 1: The network: inputs on the left, each neuron to the right of its inputs, the loss E last.",
        "Figure 2: The loss falls with each update. (Plot: plots/loss.png.)",
        "Figure 3: Seed 3's net, W54 = 1.0. (Drawn in the HTML and PDF documents.)",
        "Figure 4: Weights over the iterations. (Plot: plots/weights.png.)",
    ]
    lines = text.splitlines()
    assert lines[lines.index(figures[0]) + 1] == "    (Drawn in the HTML and PDF documents.)"
    # each section's text refers to its plots by the numbers they get; a name with no plot is left out
    assert lines[lines.index("One") + 1:lines.index("One") + 3] == ["Text.", "See Figure 2 at the end of this section."]
    assert lines[lines.index("Two") + 1] == "See Figure 4 at the end of this section."
    assert "Figure 2" in terminal.render(doc) and "(Drawn in the HTML and PDF documents.)" in terminal.render(doc)
