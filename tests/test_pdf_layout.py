"""The LaTeX/PDF documents fit the page: compiled by pdflatex, none has an Overfull \\hbox over 1 pt.

Every bundled document (derivations/generated/*.tex, as teachers get them), the dense 2-3-2
sigmoid network of ``--seed 1 --iterations 3``, a ``--only`` document of dense 4-16-16-1, and a
document of tables (test_document_numbering.py's: over 200 rows, 9 columns of rounded decimals,
wrapped prose): their long formulas are broken into continuation rows, their tables set in the type
that fits (a table too wide for any, in parts of a few columns), every equation numbered. The broken
rows must join back to exactly the formula the read-back tests parse (and the broken ones of the
dense documents are read back here), and the PDF must still say the hand-checked numbers, so a
layout that fits by losing text fails.
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import DERIVATIONS, SEED_CHAIN
from latex_roundtrip import close, expected, functions, parse, parts, same
from layout import missing, overfull_boxes
from test_document_numbering import walkthrough as with_tables

from symbackprop import api
from symbackprop.documents.builder import build
from symbackprop.documents.formulas.latex import sides
from symbackprop.documents.printers import latex_document

GENERATED = DERIVATIONS / "generated"
BUNDLED = sorted(p.stem for p in GENERATED.glob("*.tex"))  # NAME and NAME.parallel
DENSE = {"dense_2_3_2_sigmoid": ([2, 3, 2], "sigmoid", 3, None), "dense_4_16_16_1_only": ([4, 16, 16, 1], "relu", None, ["w1_1_1", "b3_1"])}
TABLES = "tables"
BROKEN = {"seed003_two_gpus", *DENSE}  # formulas far wider than the page (a composed E of 4 paths, sums of 17 terms)
TOLERANCE = 1.0  # pt: TeX's own rounding; anything wider is a formula sticking out
BACKWARD = ["0.0784", "0.01568", "0.14896"]  # seed003_chain's backward pass, checked by hand (test_documents.py)
DISPLAY = re.compile(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", re.S)
TAG = re.compile(r"\\tag\{(\d+)\}\\label\{eq-\1\}(\\keepnote)?$")  # the step's number, on its last row
PER_KIND = 3  # broken displays read back per kind of step
CONTINUED = re.compile(r"\\\\\n&\\q?quad ")  # a display with a continuation row


@functools.cache
def walkthrough(name: str):
    """A document's nodes: a bundled file's as regenerate builds them, a dense one's as ``derive`` with its flags."""
    if name == TABLES:
        return with_tables()
    if name in DENSE:
        sizes, activation, iterations, only = DENSE[name]
        d = api.derive(api.dense(sizes, activation, seed=1))
        return build(d, d.trace(iterations), only)
    stem, _, parallel = name.partition(".")
    if parallel:
        return api.parallel_walkthrough(api.load(DERIVATIONS / f"{stem}.toml"), 2)
    d = api.derive(api.load(DERIVATIONS / f"{stem}.toml"))
    return build(d, d.trace())


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """name -> (overfull boxes, PDF path) of every document, two pdflatex runs at a time."""
    reason = missing("pdflatex")
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("pdf-layout")
    sources = {name: GENERATED / f"{name}.tex" for name in BUNDLED}
    for name in [*DENSE, TABLES]:
        sources[name] = root / f"{name}.tex"
        sources[name].write_text(latex_document.render(walkthrough(name)), encoding="utf-8")

    def compile_one(name: str):
        boxes = overfull_boxes(sources[name], root / name, min_points=TOLERANCE)
        return name, (boxes, root / name / f"{sources[name].stem}.pdf")

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(compile_one, sources))


@pytest.mark.parametrize("name", BUNDLED + list(DENSE) + [TABLES])
def test_no_formula_leaves_the_page(compiled, name):
    boxes, pdf = compiled[name]
    assert pdf.read_bytes().startswith(b"%PDF")
    assert not boxes, f"{name}: {len(boxes)} overfull boxes, e.g.\n" + "\n".join(str(b) for b in boxes[:5])


def test_the_pdf_still_says_the_backward_pass_numbers(compiled):
    reason = missing("pdftotext")
    if reason:
        pytest.skip(reason)
    _, pdf = compiled[SEED_CHAIN.stem]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
    for number in BACKWARD:
        assert number in text, number


def displays(name: str) -> list[tuple[object, str, list[str]]]:
    """Each step, its display in the LaTeX document, and the display's sides with continuation rows joined back."""
    doc = walkthrough(name)
    tex = latex_document.render(doc)
    if name in BUNDLED:
        assert tex == (GENERATED / f"{name}.tex").read_text(encoding="utf-8"), "stale: python -m symbackprop.regenerate"
    steps = [s for section in doc.sections for s in section.steps]
    blocks = DISPLAY.findall(tex)
    assert len(blocks) == len(steps)
    assert [int(TAG.search(block)[1]) for block in blocks] == list(range(1, len(steps) + 1))  # each step numbered, in order
    return [(step, block, parts(TAG.sub("", block))) for step, block in zip(steps, blocks)]


@pytest.mark.parametrize("name", BUNDLED + list(DENSE) + [TABLES])
def test_broken_rows_join_back_to_the_printed_formula(name):
    """Every display's sides, rows joined, are exactly the formulas printed whole (the ones the Markdown
    read-back parses and compares with the trace): breaking moves no number and drops no term."""
    shown = displays(name)
    for step, _, joined in shown:
        assert joined == [" ".join(side.text.split()) for side in sides(step)], step.name
    broken = sum(bool(CONTINUED.search(block)) for _, block, _ in shown)
    assert broken > 0 or name not in BROKEN, f"{name} has formulas wider than the page, yet no display is broken"


@pytest.mark.parametrize("name", list(DENSE))
def test_the_broken_formulas_of_the_dense_documents_read_back_to_the_trace(name):
    """The broken sides (not in the bundled Markdown the other tests read back) parsed by latex2sympy: a
    formula equal to the derived one, a substitution within the printed rounding of the exact value."""
    checked, kinds = 0, Counter()
    for step, block, joined in displays(name):
        kind = re.match(r"[A-Za-z/(]+", step.name)[0]  # z, delta, dE/dw, E(w, ...: a few of each keep it quick
        if not CONTINUED.search(block) or kinds[kind] >= PER_KIND:
            continue
        kinds[kind] += 1
        for side, text in zip(sides(step)[1:], joined[1:]):
            if side.node is None:
                continue
            got = parse(text, functions(step))
            assert close(got, step.value) if side.values is not None else same(got, expected(side.node)), \
                f"{step.name}: {text[:80]}... parses to {got}"
            checked += 1
    assert checked >= 10
