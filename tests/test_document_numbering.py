"""Numbers, references and tables in the LaTeX/PDF and Markdown documents, measured on what they print.

A real walkthrough (seed 002, built with its plots and the builder's tables and ``uses``) with three
tables added by hand from the exact trace of the dense 2-3-2 sigmoid network: a long one (every value
of three iterations, over 200 rows), a wide one (one column per iteration and gradient, 9 columns of
rounded decimals) and one of prose with Markdown's and LaTeX's special characters. Steps cite names
no step has, and a later step: those are skipped.

PDF (pdflatex, as tests/test_pdf_layout.py compiles): no Overfull \\hbox over 1 pt; no undefined or
multiply defined reference; the tags pdftotext reads are 1..N in order; each "using (a), (b)" under a
tag names the numbers of the steps the step's ``uses`` name (counted here by walking the steps), and
the tag line of each cited number ends with that step's value; "Table n" and "Figure n" captions in
order, the long table over several pages, every number of the tables in the text.
Markdown (markdown-it-py): every table a table of the head's cell count in each row, each number cell
the trace's exact value (``≈`` exactly when rounded, within the printed rounding), ``\\tag{n}`` on the
n-th block, every link to an anchor that exists, each plot's figure inside its section.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import subprocess

import pytest
import sympy as sp
from conftest import DERIVATIONS
from layout import missing, overfull_boxes

from symbackprop import api
from symbackprop.core.decimals import decimal
from symbackprop.core.trace import Key
from symbackprop.documents.builder import build
from symbackprop.documents.nodes import Number, Partial, Section, Table
from symbackprop.documents.printers import latex_document, markdown

TOLERANCE = 1.0  # pt, as test_pdf_layout.py
ITERATIONS = 3
LABEL = re.compile(r"(eq|tab|fig)-[1-9][0-9]*")
BOGUS = ("no such step", "w[0]@/^(")  # names no step has: skipped, never an identifier


@functools.cache
def dense():
    d = api.derive(api.dense([2, 3, 2], "sigmoid", seed=1))
    return d, d.trace(ITERATIONS)


def long_table() -> Table:
    """Every value of the dense network's trace: name (prose, with [ ] @ / _), its symbol, its value."""
    _, trace = dense()
    rows = tuple((str(key), sp.Symbol(key.name), Number(value)) for key, value in trace.values.items())
    return Table("trace", "Every value of the trace", ("value", "symbol", "exact value"), rows)


def wide_table() -> Table:
    """One row per parameter: its name, its symbol, its value at each iteration and its gradient at each update (9 columns)."""
    d, trace = dense()
    parameters = list(d.model.parameters)[:6]
    head = ("parameter", sp.Symbol("w"), *(f"value @{t}" for t in range(1, ITERATIONS + 2)),
            *(Partial(sp.Symbol("E"), sp.Symbol(f"w@{t}")) for t in range(1, ITERATIONS + 1)))
    rows = tuple((p, sp.Symbol(p), *(Number(trace.values[Key(p, None, t)]) for t in range(1, ITERATIONS + 2)),
                  *(Number(trace.values[Key(f"dE/d{p}", None, t)]) for t in range(1, ITERATIONS + 1))) for p in parameters)
    return Table("wide", "Parameters and gradients of the dense network, per iteration", head, rows)


def prose_table() -> Table:
    head = ("symbol", "meaning | with a pipe")
    rows = ((sp.Symbol("eta"), "the learning rate: a long sentence that goes on to say that every parameter trained moves "
             "by eta times its gradient, against it, and so must wrap in its column | a pipe & an ampersand"),
            (Partial(sp.Symbol("E"), sp.Symbol("w_a1")), "the gradient, 100% $ # _ {braces} ^ ~ \\ < > * [x](y) `code`"),
            (sp.Heaviside(sp.Symbol("z")), "the step function"), ("", ""))
    return Table("prose", "Symbols & special characters", head, rows)


@functools.cache
def walkthrough():
    """seed 002 as the builder makes it with plots, the three tables in a section of their own after
    the first, and some ``uses`` that name no step or a later one."""
    d = api.derive(api.load(DERIVATIONS / "seed002_2_2_1.toml"))
    doc = build(d, d.trace(1), plots=True)
    sections = list(doc.sections)
    later = sections[-1].steps[-1].name
    for k, section in enumerate(sections):
        steps = tuple(dataclasses.replace(s, uses=(*s.uses, *BOGUS, later)) if i % 3 == 0 else s for i, s in enumerate(section.steps))
        sections[k] = dataclasses.replace(section, steps=steps)
    tables = Section("Tables", text=("The values of the dense 2-3-2 sigmoid network, exact.",),
                     tables=(long_table(), wide_table(), prose_table()))
    return dataclasses.replace(doc, sections=(sections[0], tables, *sections[1:]))


def steps():
    return [s for section in walkthrough().sections for s in section.steps]


def expected_citations() -> list[tuple[int, ...]]:
    """Each step's number is its place among all steps (1-based); ``uses`` cite the latest earlier step of each name."""
    last, out = {}, []
    for n, step in enumerate(steps(), 1):
        out.append(tuple(sorted({last[u] for u in step.uses if u in last})))
        last[step.name] = n
    return out


def shown(value) -> str:
    """A value as pdftotext reads it from the PDF: its decimal, with a minus sign."""
    return decimal(value).replace("-", "\u2212")


# -- PDF -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """(overfull boxes, the last run's log, the PDF's text in layout, the PDF's pages' text) of the document."""
    reason = missing("pdflatex") or missing("pdftotext")
    if reason:
        pytest.skip(reason)
    pytest.importorskip("matplotlib", reason="the plots are drawn by matplotlib (the docs extra)")
    from symbackprop.documents.printers.figures import write_all

    work = tmp_path_factory.mktemp("numbering")
    doc = walkthrough()
    write_all(doc.plots, work / "plots", formats=("pdf",))
    tex = latex_document.render(doc, "plots", plot_ext="pdf")
    boxes = overfull_boxes(tex, work, min_points=TOLERANCE)
    log = (work / "doc.log").read_text(encoding="latin-1")
    pdf = work / "doc.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
    return boxes, log, text, text.split("\f"), tex


def test_the_tables_fit_the_page_and_every_reference_resolves(compiled):
    boxes, log, _, _, _ = compiled
    assert not boxes, f"{len(boxes)} overfull boxes, e.g.\n" + "\n".join(str(b) for b in boxes[:5])
    assert "undefined references" not in log and not re.search(r"Reference `[^']*' on page \d+ undefined", log)
    assert "multiply defined" not in log and "multiply-defined" not in log


def test_the_labels_are_numbers_never_step_names(compiled):
    tex = compiled[4]
    labels = re.findall(r"\\label\{([^}]*)\}", tex)
    assert labels and all(LABEL.fullmatch(x) for x in labels) and len(labels) == len(set(labels))
    cited = re.findall(r"\\(?:eq)?ref\{([^}]*)\}", tex)
    assert cited and set(cited) <= set(labels)
    assert sum(x.startswith("eq-") for x in labels) == len(steps())


TAG = re.compile(r"\s{3,}\((\d+)\)\s*$")
USING = re.compile(r"using ((?:\(\d+\)(?:, )?)+)")


def test_the_pdf_cites_the_numbers_of_the_steps_named(compiled):
    """pdftotext's lines: the tags in order are 1..N; the "using" line under tag n has the numbers of step n's uses."""
    text = compiled[2]
    tags, cited, tag_lines = [], {}, {}
    for line in text.splitlines():
        m = TAG.search(line)
        if m:
            tags.append(int(m[1]))
            tag_lines[int(m[1])] = line
        u = USING.search(line)
        if u:
            assert tags, line
            cited[tags[-1]] = tuple(int(n) for n in re.findall(r"\d+", u[1]))
    all_steps = steps()
    assert tags == list(range(1, len(all_steps) + 1))
    want = expected_citations()
    assert sum(bool(w) for w in want) >= 20
    for n, (step, numbers) in enumerate(zip(all_steps, want), 1):
        assert cited.get(n, ()) == numbers, f"({n}) {step.name}: the PDF says using {cited.get(n)}, its uses name {numbers}"
        for m in numbers:  # the cited number is the named step's: its tag line ends with that step's value
            named = all_steps[m - 1]
            if named.value is not None and "e" not in decimal(named.value):
                assert tag_lines[m].split()[-2] == shown(named.value), (step.name, m, tag_lines[m])


def test_the_pdf_numbers_its_tables_and_figures_in_order(compiled):
    text, pages = compiled[2], compiled[3]
    doc = walkthrough()
    tables = [t for s in doc.sections for t in s.tables]
    captions = re.findall(r"^\s*Table (\d+): (.*?)\s*$", text, re.M)
    firsts = [(int(n), c) for n, c in captions if not c.startswith("(continued")]
    assert [n for n, _ in firsts] == list(range(1, len(tables) + 1))
    flat = " ".join(text.split())
    where = [flat.find(f"Table {n}: {' '.join(t.caption.split())}") for n, t in enumerate(tables, 1)]
    assert -1 not in where and where == sorted(where), where
    number = {t.label: n for n, t in enumerate(tables, 1)}
    assert any(c.startswith("(continued: columns") for n, c in captions if int(n) == number["wide"])  # in parts, one number
    trace_pages = [i for i, page in enumerate(pages) if re.search(rf"Table {number['trace']}: (Every value|\(continued\))", page)]
    assert len(trace_pages) >= 3 and trace_pages == list(range(trace_pages[0], trace_pages[-1] + 1))  # over pages in turn
    for table in (long_table(), wide_table()):
        for row in table.rows:
            for value in row:
                if isinstance(value, Number) and "e" not in decimal(value.value):
                    assert shown(value.value) in flat, (table.label, row[0], value)
    figures = [int(n) for n in re.findall(r"^\s*Figure (\d+): ", text, re.M)]
    placed = [p for s in doc.sections for p in s.plots if p in {q.name for q in doc.plots}]
    networks = sum(s.network is not None for s in doc.sections)
    assert figures == list(range(1, networks + len(placed) + 1)) and placed
    for n in figures[networks:]:  # each plot cited in its section's text before its figure
        assert flat.index(f"Figure {n}, at the end of this section") < flat.index(f"Figure {n}: ")


def test_each_figure_is_drawn_in_its_section(compiled):
    """In the LaTeX source (figures are [H], never floated): a section's figures between its heading and the next."""
    tex = compiled[4]
    doc = walkthrough()
    bodies = re.split(r"\\section\{", tex)[1:]
    assert len(bodies) == len(doc.sections)
    for section, body in zip(doc.sections, bodies):
        images = re.findall(r"\\includegraphics\[[^]]*\]\{plots/([^.}]+)\.pdf\}", body)
        assert images == [p for p in section.plots if p in {q.name for q in doc.plots}]
        assert body.count(r"\begin{tikzpicture}") == (section.network is not None)


# -- Markdown --------------------------------------------------------------------------------------
@functools.cache
def rendered() -> str:
    return markdown.render(walkthrough(), "plots")


def md_tables():
    """Each table markdown-it-py finds: its rows, each a list of the cells' source text."""
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py (the dev extras) parses the Markdown")
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(rendered())
    tables, rows, row = [], None, None
    for t in tokens:
        if t.type == "table_open":
            rows = []
        elif t.type == "tr_open":
            row = []
        elif t.type == "inline" and row is not None:
            row.append(t.content)
        elif t.type == "tr_close":
            rows.append(row)
            row = None
        elif t.type == "table_close":
            tables.append(rows)
    return tables


def number(cell: str) -> tuple[bool, sp.Rational]:
    """A number cell as (rounded, value): ``$\\approx 1.5 \\cdot 10^{-5}$`` -> (True, 3/200000)."""
    m = re.fullmatch(r"\$(\\approx )?(-?[0-9.]+)(?: \\cdot 10\^\{(-?\d+)\})?\$", cell)
    assert m, cell
    return bool(m[1]), sp.Rational(m[2]) * sp.Rational(10) ** int(m[3] or 0)


def test_markdown_tables_parse_with_every_cell_and_the_trace_values():
    tables = md_tables()
    nodes = [t for s in walkthrough().sections for t in s.tables]
    assert len(tables) == len(nodes)
    checked = 0
    for rows, node in zip(tables, nodes):
        assert len(rows) == 1 + len(node.rows), node.label
        assert all(len(row) == len(node.head) for row in rows), node.label
        for row, want in zip(rows[1:], node.rows):
            for cell, value in zip(row, want):
                if isinstance(value, Number):
                    rounded, got = number(cell)
                    exact = sp.Rational(value.value) == got if value.value.is_Rational else False
                    assert rounded == (not exact), (node.label, cell, value.value)
                    assert abs(got - value.value) <= sp.Rational(1, 10**9) * max(1, abs(value.value)), (cell, value.value)
                    checked += 1
    assert checked >= 200 + 6 * 8
    prose = tables[[n.label for n in nodes].index("prose")]
    assert prose[0][1] == "meaning | with a pipe" and "column | a pipe" in prose[1][1]  # the pipe is the cell's, not a new cell


def test_markdown_cites_by_number_with_links_that_resolve():
    text = rendered()
    blocks = re.findall(r"\$\$\n(.*?)\n\$\$", text, flags=re.S)
    assert [int(re.search(r"\\tag\{(\d+)\}$", b)[1]) for b in blocks] == list(range(1, len(steps()) + 1))
    ids = re.findall(r'<a id="([^"]+)"></a>', text)
    assert all(LABEL.fullmatch(i) for i in ids) and len(ids) == len(set(ids))
    links = re.findall(r"\]\(#((?:eq|tab|fig)-[^)]*)\)", text)
    assert links and set(links) <= set(ids)
    # the line after each block: the uses as links (n) to #eq-n, the numbers of the steps named
    after = re.findall(r"\\tag\{(\d+)\}\n\$\$\n([^\n]*)", text)
    cited = {int(n): tuple(int(m) for m in re.findall(r"\[\((\d+)\)\]\(#eq-\1\)", line)) for n, line in after}
    assert [cited[n] for n in range(1, len(steps()) + 1)] == expected_citations()
    for name in BOGUS:
        assert name not in text


def test_markdown_draws_each_plot_in_its_section():
    text, doc = rendered(), walkthrough()
    bodies = re.split(r"^## ", text, flags=re.M)[1:]
    assert len(bodies) == len(doc.sections) and "## Plots" not in text
    figure = sum(s.network is not None for s in doc.sections)
    for section, body in zip(doc.sections, bodies):
        for name in section.plots:
            figure += 1
            plot = next(p for p in doc.plots if p.name == name)
            assert f"](plots/{name}.png)" in body and f"**Figure {figure}:** " in body
            assert body.index(f"[Figure {figure}](#fig-{figure}), at the end of this section") < body.index(f"**Figure {figure}:**")
            assert (plot.caption or plot.title).split()[0] in body
    assert "**Figure 1:**" in bodies[0] and "Markdown draws no figure" in bodies[0]


def test_the_documents_are_the_same_bytes_each_time():
    again = dataclasses.replace(walkthrough())
    assert markdown.render(again, "plots") == rendered()
    assert latex_document.render(again, "plots") == latex_document.render(walkthrough(), "plots")


def test_a_plot_no_section_names_is_kept_in_a_closing_section():
    doc = walkthrough()
    unplaced = dataclasses.replace(doc, sections=tuple(dataclasses.replace(s, plots=()) for s in doc.sections))
    text, tex = markdown.render(unplaced, "plots"), latex_document.render(unplaced, "plots")
    last = re.split(r"^## ", text, flags=re.M)[-1]
    assert last.startswith("Plots\n") and all(f"](plots/{p.name}.png)" in last for p in doc.plots)
    assert tex.split(r"\section{")[-1].startswith("Plots}") and tex.count(r"\includegraphics") == len(doc.plots)
    assert "at the end of this section" not in text  # no section cites a figure it does not draw


@pytest.mark.parametrize("engine", ["latexmk", "pdflatex"])
def test_pdf_render_settles_every_reference_with_either_engine(engine, monkeypatch):
    """pdf.render itself: through latexmk, or pdflatex run until nothing asks for a rerun; no "??" in the text."""
    from symbackprop.documents.printers import pdf

    reason = missing("pdflatex") or missing("pdftotext") or (missing("latexmk") if engine == "latexmk" else None)
    if reason:
        pytest.skip(reason)
    if engine == "pdflatex":
        monkeypatch.setattr(pdf, "engine", lambda: [])
    d = api.derive(api.load(DERIVATIONS / "seed002_2_2_1.toml"))
    doc = build(d, d.trace(1))
    data = pdf.render(doc)
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True, timeout=60).stdout.decode()
    assert "??" not in text and len(re.findall(r"using \(\d+\)", text)) >= 10
    assert pdf.render(doc) == data  # the same bytes again
