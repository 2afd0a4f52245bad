"""The HTML documents as a browser lays them out and prints them: a teacher hands them out as they are.

Every bundled document (and a dense 2-3-2 one with three iterations) at a phone's 420 px and a desktop's
1200 px: no element wider than the viewport, inside a scroll box or not (a long formula wraps, nothing
scrolls) and the pieces a formula is cut into join without gaps; printed to PDF, the collapsed sections come out
too (the backward pass's numbers are in the printed text); a fraction in a multi-row step is full size.

Pages with tables (the builder's own, and ones made here with a 9-column table of 10-digit numbers and a 108-row
one) at 420 to 1200 px and laid out for print at an A4 page's width: nothing wider than the page; every number cell,
read in the browser, is the trace's exact value (≈ only before a rounding); printed to PDF, every table number is on
paper, a long table's head row repeats on each page it runs onto and a figure's caption stands on its drawing's page.
Every link of a page leads to an element of it; the "(n)" a step cites is the number the step it uses shows; the
equation numbers leave the relations aligned; figures are numbered, captioned, and linked from their section's text.
One headless Chromium for the whole file, each page laid out once per width.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from html import unescape

import pytest
import sympy as sp
from conftest import DERIVATIONS
from layout import missing

import symbackprop
from symbackprop import api, regenerate
from symbackprop.core.decimals import decimal
from symbackprop.documents.builder import build
from symbackprop.documents.formulas.relations import symbols
from symbackprop.documents.nodes import Number, Partial, Section, Step, Table, Walkthrough

GENERATED = DERIVATIONS / "generated"
BUNDLED = sorted(p for p in GENERATED.glob("*.html") if not p.name.endswith(".page.html"))  # pages: test_explore_*
WIDTHS = (420, 1200)

# per multi-row step: the font size of each outermost fraction's first numerator token, and of a token outside every
# fraction and script (a token's box is its ink, so heights of different letters do not compare)
FRACTIONS = r"""
const out = [];
const outside = 'mfrac, msub, msup, msubsup, munder, mover, munderover';
for (const step of document.querySelectorAll('.step')) {
  if (step.querySelectorAll(':scope > .rhs').length <= 1) continue;
  const plain = [...step.querySelectorAll('mi, mn')].find(e => !e.closest(outside));
  if (!plain) continue;
  for (const f of step.querySelectorAll('mfrac')) {
    if (f.parentElement.closest(outside)) continue;
    const token = f.firstElementChild.matches('mi, mn') ? f.firstElementChild : f.firstElementChild.querySelector('mi, mn');
    out.push([step.id, parseFloat(getComputedStyle(token).fontSize), parseFloat(getComputedStyle(plain).fontSize)]);
  }
}
return out;
"""
# two pieces of one formula side by side on a line with space between them (a piece's box hangs out by its margin)
GAPS = r"""
const out = [];
for (const rhs of document.querySelectorAll('.rhs')) {
  const boxes = [...rhs.querySelectorAll('math')].map(m => m.getBoundingClientRect());
  for (let i = 1; i < boxes.length; i++) {
    const a = boxes[i - 1], b = boxes[i];
    const sameLine = b.top < a.bottom && a.top < b.bottom && b.left > a.left;  // a wrapped piece starts back at the left
    if (sameLine && b.left - a.right > 0.5) out.push([rhs.parentElement.id, b.left - a.right]);
  }
}
return out;
"""


@pytest.fixture(scope="module")
def dense_232(tmp_path_factory):
    """``symbackprop dense 2,3,2 --activation sigmoid --seed 1``, derived over 3 iterations."""
    page = tmp_path_factory.mktemp("dense") / "dense_2_3_2.html"
    d = symbackprop.derive(symbackprop.dense([2, 3, 2], "sigmoid", seed=1))
    page.write_text(symbackprop.document(d, "html", iterations=3), encoding="utf-8")
    return page


def pages(dense_232):
    return {p.stem: p for p in BUNDLED} | {"dense_2_3_2": dense_232}


def described(offenders: list[dict]) -> str:
    return "\n".join(f"{o['path']} ({o['width']}px, right edge {o['right']}): {o['text'][:60]}" for o in offenders[:8])


@pytest.fixture(scope="module")
def laid_out(browser, dense_232):
    """``(name, width) -> {"offenders", "fractions", "gaps"}``, each page loaded once per width, every section open."""
    done: dict = {}

    def measure(name: str, width: int) -> dict:
        if (name, width) not in done:
            offenders = browser.too_wide(pages(dense_232)[name], width)
            fractions, gaps = browser.driver.execute_script(FRACTIONS), browser.driver.execute_script(GAPS)
            done[name, width] = {"offenders": offenders, "fractions": fractions, "gaps": gaps}
        return done[name, width]

    return measure


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", [p.stem for p in BUNDLED] + ["dense_2_3_2"])
def test_nothing_is_wider_than_the_viewport(laid_out, name, width):
    """Every section opened; an element that only scrolls inside its box counts too: nothing should need scrolling."""
    offenders = laid_out(name, width)["offenders"]
    assert not offenders, f"{name} at {width}px:\n{described(offenders)}"


@pytest.mark.parametrize("width", WIDTHS)
def test_fractions_in_multi_row_steps_are_full_size(laid_out, width):
    """A Leibniz fraction's ∂E (or a value's numerator) is set at the step's own size, not script size."""
    measured = [(p.stem, *m) for p in BUNDLED for m in laid_out(p.stem, width)["fractions"]]
    assert len(measured) > 100
    small = [m for m in measured if m[2] < 0.95 * m[3]]
    assert not small, f"{len(small)} of {len(measured)} fractions are script size, e.g. {small[:3]}"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_pieces_of_a_formula_join_without_gaps(laid_out, width):
    """A formula cut into pieces reads as one where it does not wrap: no space between two pieces on one line."""
    gaps = [(p.stem, *g) for p in BUNDLED for g in laid_out(p.stem, width)["gaps"]]
    assert not gaps, f"{len(gaps)} gaps, e.g. {gaps[:3]}"


def shown(value) -> str:
    """A value as the document prints its decimal: U+2212 for minus; of 2.84e-05 the "2.84 · 10" before its
    superscript (which printed text may put lines later)."""
    mantissa, _, power = decimal(value).partition("e")
    return (mantissa + (" · 10" if power else "")).replace("-", "−")


def collapsed_numbers(page) -> list[str]:
    """Numbers the document shows only in sections that start collapsed: the backward pass's error terms and
    gradients from the trace (dE/dw_a1[1]@1, delta_a[1]@1), or the forward pass's values where there is no
    backward pass; for the data-parallel walkthrough, each worker's gradients. A number that also stands in the
    open first section would prove nothing, so it is left out."""
    stem = page.stem.removesuffix(".parallel")
    model = symbackprop.load(DERIVATIONS / f"{stem}.toml")
    if page.stem.endswith(".parallel"):
        story = api.parallel_walkthrough(model, regenerate.PARALLEL[stem])
        values = [s.value for section in story.sections if section.title.startswith("Worker") for s in section.steps]
    else:
        trace = symbackprop.derive(model).trace()
        examples = range(1, len(model.examples) + 1)
        if trace.iterations:
            names = [f"dE/d{p}[{k}]@1" for p in model.parameters for k in examples]
            names += [f"delta_{n.name}[{k}]@1" for n in model.neurons for k in examples]
        else:
            names = [f"{q}_{n.name}[{k}]@1" for n in model.neurons for q in ("z", "a") for k in examples]
        values = [trace[n] for n in names]
    html = page.read_text(encoding="utf-8")
    first = html[:html.index('<details id="s1"')]
    return sorted({shown(v) for v in values if not re.search(rf"(?<![\d.]){re.escape(shown(abs(v)))}(?!\d)", first)})


def collapsed_notes(page) -> list[str]:
    """The notes under steps of the collapsed sections ("error term ∂E/∂z") that the open first section lacks."""
    html = page.read_text(encoding="utf-8")
    cut = html.index('<details id="s1"')
    note = re.compile(r'<div class="note">(.*?)</div>')
    first = {unescape(n) for n in note.findall(html[:cut])}
    return sorted({unescape(n) for n in note.findall(html[cut:])} - first)


def printed(text: str, wanted: str) -> bool:
    """Whether ``wanted`` is in the printed text as a whole number or phrase (line breaks read as spaces)."""
    return re.search(rf"(?<![\d.]){re.escape(wanted)}(?!\d)", re.sub(r"\s+", " ", text)) is not None


@pytest.mark.parametrize("page", BUNDLED, ids=lambda p: p.stem)
def test_printing_shows_every_section(browser, page):
    """Printed as a reader prints it (nothing opened first): the collapsed sections' numbers and notes are on paper."""
    numbers, notes = collapsed_numbers(page), collapsed_notes(page)
    assert numbers or notes, f"{page.name}: nothing to look for"
    text = browser.printed_text(page)
    lost = [n for n in numbers + notes if not printed(text, n)]
    assert not lost, f"{page.name}: {len(lost)} of {len(numbers) + len(notes)} not printed, e.g. {lost[:5]}"


@pytest.mark.parametrize("page", BUNDLED, ids=lambda p: p.stem)
def test_pages_are_self_contained_and_typeset(page):
    """No fetch from the network; a phone's viewport; U+2212 minus signs, upright names, no doubled brackets."""
    html = page.read_text(encoding="utf-8")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.findall(r"<script[^>]*>", html) == ["<script>"]  # one inline script, nothing loaded
    assert not re.search(r"(src|href)=\"(?!#)", html) and "url(http" not in html and "@import" not in html
    assert "<mo>-</mo>" not in html and not re.search(r"<mn>-|<mo>\(</mo>\s*<mrow>\s*<mo>\(</mo>", html)
    assert "<mi>&#916;</mi>" not in html and "<mi>tanh</mi>" not in html and "&ExponentialE;" not in html
    prose = re.sub(r"<(script|style)>.*?</\1>|<[^>]*>", " ", html, flags=re.S)
    assert not re.search(r"(?<![\w.])-\d", prose), "a hyphen for a minus sign in the text"


# -- tables, figures and equation numbers ------------------------------------------------------------
# Pages made here from real walkthroughs with what the builder is to add (tables of trace values, plots placed in
# sections, each step's ``uses``), rendered by this checkout's printer: the bundled pages may predate it.
TABLE_WIDTHS = (420, 600, 800, 1000, 1200)
PRINT_WIDTH = 680  # CSS px inside an A4 page's 1.5 cm margins: what Chromium lays a printed page out at
TINY = (sp.Rational(1, 30000000), sp.Rational(-3, 200000), sp.Rational(-1, 3))  # 3.333333333e-08, exact, rounded


@dataclass(frozen=True)
class At:
    """A table cell to fill with the trace's value of this name."""

    name: str


def with_uses(doc: Walkthrough) -> Walkthrough:
    """Each step's ``uses``: the latest earlier step whose left-hand side its substitution puts in, and a name no
    step has (which must be skipped)."""
    latest: dict = {}
    sections = []
    for section in doc.sections:
        steps = []
        for step in section.steps:
            named = [] if step.substitution is None else sorted(
                {latest[s] for s in symbols(step.substitution) if s in step.values and s in latest})
            step = replace(step, uses=(*named, "no step has this name"))
            steps.append(step)
            if isinstance(step.lhs, sp.Symbol) and step.value is not None:
                latest[step.lhs] = step.name
        sections.append(replace(section, steps=tuple(steps)))
    return replace(doc, sections=tuple(sections))


def placed(doc: Walkthrough, where: dict[str, str]) -> Walkthrough:
    """Plots named in the sections whose titles start with ``where[plot]``, each with a caption of its own."""
    plots = tuple(replace(p, caption=f"Drawn from the trace: the plot named {p.name}.") for p in doc.plots)
    sections = [replace(s, plots=tuple(n for n, title in where.items() if s.title.startswith(title)))
                for s in doc.sections]
    return replace(doc, sections=tuple(sections), plots=plots)


def add_tables(doc: Walkthrough, tables: dict[str, list[Table]]) -> Walkthrough:
    """Tables put in the sections with these titles."""
    return replace(doc, sections=tuple(replace(s, tables=(*s.tables, *tables.get(s.title, ()))) for s in doc.sections))


def seed002_tabled() -> tuple[Walkthrough, dict]:
    """seed 002 over 3 iterations with an example table, a notation table, a summary table per iteration and a
    108-row table (every parameter over 12 iterations); ``{caption: grid of trace names or exact values}``."""
    d = api.derive(api.load(DERIVATIONS / "seed002_2_2_1.toml"))
    m, trace, long_trace = d.model, d.trace(3), d.trace(12)
    doc = build(d, trace, plots=True)
    expected: dict[str, list[list]] = {}

    def table(label, caption, head, rows, source=trace):
        """Cells given as At(trace name) become Numbers; the names are kept for the check."""
        expected[caption] = [[(source, c.name) if isinstance(c, At) else (None, c.value) if isinstance(c, Number) else None
                              for c in row] for row in rows]
        cells = [tuple(Number(source[c.name]) if isinstance(c, At) else c for c in row) for row in rows]
        return Table(label, caption, tuple(head), tuple(cells))

    example = table("example", "The example and the initial parameters", ("quantity", "value"),
                    [*([d.symbols[x], Number(v)] for x, v in m.examples[0].inputs.items()),
                     *([d.targets[o], Number(v)] for o, v in m.examples[0].targets.items()),
                     *([d.symbols[p], At(f"{p}@1")] for p in m.parameters), [sp.Symbol("eta"), Number(m.learning_rate)]])
    notation_table = Table("notation", "Notation", ("symbol", "meaning"), (
        (Partial(d.E, d.symbols["W31"]), "the gradient of the loss E with respect to the weight W31"),
        (d.delta_symbol["H3"], "the error term of neuron H3, ∂E/∂z at H3"),
        (sp.Heaviside(d.z["H3"]), "the step function: 1 where z > 0, else 0 (the derivative of relu)"),
        (sp.Symbol("eta"), "the learning rate"), (sp.Symbol("Delta_W31"), "the change of W31 in one update")))
    tables = {"The network": [example, notation_table]}
    for t in range(1, 4):
        tables[f"Iteration {t}: updates"] = [table(
            f"summary-{t}", f"Iteration {t}: every quantity of the example",
            ("quantity", f"iteration {t}"),
            [*([q, At(f"{name}[1]@{t}")] for n in m.neurons for q, name in ((d.z[n.name], f"z_{n.name}"), (d.a[n.name], f"a_{n.name}"),
                                                                       (d.delta_symbol[n.name], f"delta_{n.name}"))),
             *([Partial(d.E, d.symbols[p]), At(f"dE/d{p}[1]@{t}")] for p in m.parameters),
             *([d.symbols[p], At(f"{p}@{t + 1}")] for p in m.parameters)])]
    tables["Forward pass with the trained parameters"] = [table(
        "every-iteration", "Every parameter at every iteration",
        ("row", "parameter", "iteration", "before update", "gradient", "after update"),
        [[f"row {i}", d.symbols[p], str(t), At(f"{p}@{t}"), At(f"dE/d{p}[1]@{t}"), At(f"{p}@{t + 1}")]
         for i, (t, p) in enumerate(((t, p) for t in range(1, 13) for p in m.parameters), 1)],
        source=long_trace)]
    doc = add_tables(placed(with_uses(doc), {"activation_relu": "Iteration 1: forward pass", "loss_vs_W31": "Iteration 1: backward",
                                             "loss": "Forward pass with the trained"}), tables)
    second = replace(doc.sections[0].network, caption="The network again, after the first update.")
    doc = replace(doc, sections=tuple(replace(s, network=second) if s.title == "Iteration 1: updates" else s for s in doc.sections))
    return doc, expected


def dense_wide() -> tuple[Walkthrough, dict]:
    """dense 2-3-2 (sigmoid, seed 1) with a 9-column table: every z, a, δ and ∂E/∂w of example 1 over 8
    iterations (rounded values, ≈), a row of exact small values, and the chains of three gradients."""
    d = api.derive(api.dense([2, 3, 2], "sigmoid", seed=1))
    m, trace = d.model, d.trace(8)
    doc = with_uses(build(d, d.trace(1)))
    head = ("quantity", *(f"iteration {t}" for t in range(1, 9)))
    names = [*((q, f"{kind}_{n.name}") for n in m.neurons for kind, q in (("z", d.z[n.name]), ("a", d.a[n.name]),
                                                                         ("delta", d.delta_symbol[n.name]))),
             *((Partial(d.E, d.symbols[p]), f"dE/d{p}") for p in m.parameters)]
    rows = [(q, *(Number(trace[f"{name}[1]@{t}"]) for t in range(1, 9))) for q, name in names]
    rows.append(("exact small values", *(Number(v) for v in TINY), *([""] * 5)))
    expected = {"Example 1 over eight iterations": [[None, *((trace, f"{name}[1]@{t}") for t in range(1, 9))] for _, name in names]
                + [[None, *((None, v) for v in TINY), *([None] * 5)]]}
    backward = next(s for s in doc.sections if s.title.startswith("Iteration 1: backward"))
    chains = [(step.lhs, step.forms[0], Number(step.value)) for step in backward.steps if step.name.startswith("dE/dw1_")][:3]
    expected["Three chains"] = [[None, None, (trace, step.name)] for step in backward.steps if step.name.startswith("dE/dw1_")][:3]
    first = doc.sections[0].title
    doc = add_tables(doc, {first: [Table("iterations", "Example 1 over eight iterations", head, tuple(rows)),
                                   Table("chains", "Three chains", ("gradient", "chain rule", "value"), tuple(chains))]})
    return doc, expected


BUILT = {"seed002_2_2_1": 3, "shared_weight_batch": 2}  # bundled files as the builder writes them, with plots
TABLED = ["seed002_tabled", "dense_wide", *(f"built_{stem}" for stem in BUILT), "built_dense_2_3_2"]


def built(d, iterations: int) -> tuple[Walkthrough, dict]:
    """The builder's own walkthrough (its tables, plots and ``uses``) with plots; cells checked against its Numbers."""
    return build(d, d.trace(iterations), plots=True), {}


@pytest.fixture(scope="module")
def tabled(tmp_path_factory):
    """``name -> (page, walkthrough, {caption: expected cells})`` for the pages with tables."""
    pytest.importorskip("matplotlib", reason="plots need matplotlib (the docs extra)")
    folder = tmp_path_factory.mktemp("tabled")
    made = {"seed002_tabled": seed002_tabled, "dense_wide": dense_wide,
            **{f"built_{stem}": lambda stem=stem: built(api.derive(api.load(DERIVATIONS / f"{stem}.toml")), BUILT[stem])
               for stem in BUILT},
            "built_dense_2_3_2": lambda: built(api.derive(api.dense([2, 3, 2], "sigmoid", seed=1)), 3)}
    out = {}
    for name, make in made.items():
        doc, expected = make()
        page = folder / f"{name}.html"
        page.write_text(api.render(doc, "html"), encoding="utf-8")
        out[name] = (page, doc, expected)
    return out


@pytest.mark.parametrize("width", TABLE_WIDTHS)
@pytest.mark.parametrize("name", TABLED)
def test_tables_fit_the_viewport(browser, tabled, name, width):
    """A wide table (9 columns of 10-digit numbers) and a long one: no element wider than the viewport at any width,
    inside a scroll box or not; where the columns do not fit, the rows stack (and then every row shows its head)."""
    page = tabled[name][0]
    offenders = browser.too_wide(page, width)
    assert not offenders, f"{name} at {width}px:\n{described(offenders)}"
    columns = browser.driver.execute_script(
        "return [...document.querySelectorAll('table.t')].map(t => [t.id, getComputedStyle(t).display,"
        " t.querySelector('thead') ? t.querySelector('thead').getBoundingClientRect().width : 0]);")
    for anchor, display, head in columns:  # a table either stands as a table with its head, or its rows stack
        assert (display == "table" and head > 0) or display == "block", (anchor, display, head)
    if width == 420 and name == "dense_wide":
        assert ["table-iterations", "block", 0] in columns  # the nine columns cannot stand side by side on a phone


@pytest.mark.parametrize("name", TABLED)
def test_tables_fit_the_printed_page(browser, tabled, name):
    """Laid out for print at an A4 page's width, no element sticks out (a wide table is set smaller)."""
    browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        offenders = browser.too_wide(tabled[name][0], PRINT_WIDTH)
        shown = browser.driver.execute_script(
            "return [...document.querySelectorAll('table.t')].map(t => [t.id, getComputedStyle(t).display,"
            " getComputedStyle(t.tHead).display, parseFloat(getComputedStyle(t).fontSize)]);")
    finally:
        browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert not offenders, f"{name} printed:\n{described(offenders)}"
    for anchor, display, head, size in shown:  # a table with its head row (repeated on each page), or stacked rows
        assert (display, head) in {("table", "table-header-group"), ("block", "none")}, (anchor, display, head)
        assert size >= 9.3 or display == "block", (anchor, size)  # 7 pt: set smaller, not unreadable
    assert [a for a, display, _, _ in shown if display == "block"] == (["table-iterations"] if name == "dense_wide" else [])


def seen_value(text: str) -> tuple[bool, sp.Rational]:
    """A cell's text as a reader reads it: (rounded, the decimal) from "≈ −0.1234", "3.3 · 10−8", "0.49"."""
    m = re.fullmatch(r"(≈ )?(−?\d+(?:\.\d+)?)(?: · 10(−?\d+))?", text.strip())
    assert m, f"not a number as the document writes one: {text!r}"
    value = sp.Rational(m[2].replace("−", "-")) * sp.Integer(10) ** int((m[3] or "0").replace("−", "-"))
    return m[1] is not None, value


def matches(text: str, exact) -> bool:
    """The shown decimal is the exact value, or (after ≈) differs from it by at most half a unit of its last digit."""
    rounded, shown = seen_value(text)
    exact = sp.Rational(exact) if isinstance(exact, sp.Float) else sp.sympify(exact)
    if not rounded:
        return shown == exact
    m = re.fullmatch(r"≈ −?\d+(?:\.(\d+))?(?: · 10(−?\d+))?", text.strip())
    unit = sp.Integer(10) ** (int((m[2] or "0").replace("−", "-")) - len(m[1] or ""))
    return shown != exact and abs(sp.N(shown - exact, 60)) <= unit / 2


CELLS = r"""
for (const d of document.querySelectorAll('details')) d.open = true;
return [...document.querySelectorAll('table.t')].map(t => ({
  id: t.id, caption: t.caption.textContent,
  rows: [...t.tBodies[0].rows].map(r => [...r.cells].map(c => (c.querySelector(':scope > .value') || c).innerText))}));
"""


@pytest.mark.parametrize("name", TABLED)
def test_table_numbers_equal_the_trace(browser, tabled, name):
    """Each number cell, read in the browser, is its exact value (≈ only before a rounding, then to the digits shown):
    in the tables made here the trace's value of the name the cell was filled from, in the builder's its Number's.
    Tables are numbered in order, captions "Table n: ...", a row's cells in its columns."""
    page, doc, expected = tabled[name]
    browser.load(page, 1200)
    shown = browser.driver.execute_script(CELLS)
    tables = [t for section in doc.sections for t in section.tables]
    assert len(shown) == len(tables) > 0
    checked = traced = 0
    for n, (seen, table) in enumerate(zip(shown, tables), 1):
        assert seen["caption"].startswith(f"Table {n}: ")
        assert len(seen["rows"]) == len(table.rows)
        want = expected.get(table.caption, [[None] * len(row) for row in table.rows])
        for texts, cells, traces in zip(seen["rows"], table.rows, want, strict=True):
            for text, cell, trace_cell in zip(texts, cells, traces, strict=True):
                if isinstance(cell, Number):
                    assert matches(text, cell.value), f"table {n}: {text!r} for {cell.value}"
                    checked += 1
                if trace_cell is not None:
                    source, key = trace_cell
                    value = key if source is None else source[key]
                    assert matches(text, value), f"table {n}: {text!r} for {key} = {value}"
                    traced += 1
    assert checked > 40 and (traced > 150 or not expected)


@pytest.mark.parametrize("name", TABLED)
def test_printed_tables_show_their_numbers(browser, tabled, name):
    """Printed to PDF as a reader prints it (sections collapsed on screen), every table's numbers are on paper."""
    page = tabled[name][0]
    browser.load(page, 1200)
    tables = browser.driver.execute_script(CELLS)
    wanted = {text.strip() for t in tables for row in t["rows"] for text in row if re.fullmatch(r"(≈ )?−?\d[\d.]*", text.strip())}
    assert len(wanted) > 30
    text = browser.printed_text(page)
    lost = sorted(n for n in wanted if not printed(text, n))
    assert not lost, f"{len(lost)} of {len(wanted)} numbers not printed, e.g. {lost[:5]}"


def pdf_pages(browser, page, tmp_path) -> list[str]:
    pdf = browser.printed_pdf(page, tmp_path / "page.pdf")
    count = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout)[1])
    return [subprocess.run(["pdftotext", "-enc", "UTF-8", "-f", str(i), "-l", str(i), str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout for i in range(1, count + 1)]


def test_printed_long_table_repeats_its_head_and_figures_keep_their_captions(browser, tabled, tmp_path):
    """The 108-row table runs over pages: each page with one of its rows has its head row too, and its caption
    stands on the page of its first rows; each figure's caption is on the page of its drawing."""
    if missing("pdftotext") or not shutil.which("pdfinfo"):
        pytest.skip("needs pdftotext and pdfinfo (Debian: poppler-utils)")
    page, doc = tabled["seed002_tabled"][:2]
    pages = pdf_pages(browser, page, tmp_path)
    with_rows = [i for i, p in enumerate(pages) if re.search(r"\brow \d+\b", p)]
    assert len(with_rows) >= 2, "the long table should run over pages"
    for i in with_rows:
        assert "before update" in pages[i] and "after update" in pages[i], f"page {i + 1}: rows without the head row"
    caption = next(i for i, p in enumerate(pages) if "Every parameter at every iteration" in p)
    assert caption == with_rows[0] and "row 1" in pages[caption]
    for plot in doc.plots:  # the drawing's own text (its title) is on the caption's page
        number = next(i for i, p in enumerate(pages) if f"Drawn from the trace: the plot named {plot.name}." in p)
        assert plot.title in re.sub(r"\s+", " ", pages[number]), f"{plot.name}: caption on page {number + 1}, drawing not"


LINKS = r"""
const out = {broken: [], ids: {}};
for (const e of document.querySelectorAll('*')) {
  if (e.id) out.ids[e.id] = (out.ids[e.id] || 0) + 1;
  for (const name of ['href', 'xlink:href']) {
    const v = e.getAttribute(name);
    if (v && v.startsWith('#') && !document.getElementById(decodeURIComponent(v.slice(1)))) out.broken.push(v);
  }
}
out.ids = Object.entries(out.ids).filter(([, n]) => n > 1);
return out;
"""


@pytest.mark.parametrize("name", [p.stem for p in BUNDLED] + TABLED)
def test_every_link_leads_to_an_element_of_the_page(browser, tabled, name):
    """Every ``href="#..."`` (table of contents, figure and equation references, a figure's own markers) resolves,
    and no id is given twice. (A bundled page is checked as regenerated: one printed before figures were scoped
    may repeat a figure's marker id.)"""
    page = tabled[name][0] if name in tabled else GENERATED / f"{name}.html"
    browser.load(page, 1200)
    found = browser.driver.execute_script(LINKS)
    assert not found["broken"], found["broken"][:5]
    if name in tabled:
        assert not found["ids"], found["ids"][:5]


STEPS = r"""
return [...document.querySelectorAll('.step')].map(s => {
  const no = s.querySelector(':scope > .eqno');
  return {name: s.title, number: no ? no.textContent : null, anchor: no ? no.id : null,
          cited: [...s.querySelectorAll(':scope > .uses a')].map(a => {
            const target = document.getElementById(a.getAttribute('href').slice(1));
            const step = target && target.closest('.step');
            return [a.textContent, a.getAttribute('href'), step && step.title,
                    step && step.querySelector(':scope > .eqno').textContent];
          })};
});
"""


@pytest.mark.parametrize("name", TABLED)
def test_steps_cite_the_numbers_of_the_steps_they_use(browser, tabled, name):
    """Read in the browser: the steps are numbered 1, 2, ... in document order, each with the anchor eq-n; a step's
    "using (n)" links lead to the steps its ``uses`` names, and n is the number those steps show; names no step has
    are left out."""
    page, doc = tabled[name][:2]
    browser.load(page, 1200)
    shown = browser.driver.execute_script(STEPS)
    steps = [s for section in doc.sections for s in section.steps]
    assert [s["name"] for s in shown] == [s.name for s in steps]
    assert [(s["number"], s["anchor"]) for s in shown] == [(f"({n})", f"eq-{n}") for n in range(1, len(steps) + 1)]
    latest: dict[str, int] = {}
    cited = 0
    for n, (step, seen) in enumerate(zip(steps, shown), 1):
        want = sorted(dict.fromkeys(latest[u] for u in step.uses if u in latest))  # ascending, as every format lists them
        assert [c[0] for c in seen["cited"]] == [f"({m})" for m in want], step.name
        for text, href, target, target_number in seen["cited"]:
            assert href == f"#eq-{text[1:-1]}" and target_number == text and target in step.uses, (step.name, text, target)
        cited += len(want)
        latest[step.name] = n
    assert cited > 30


ALIGNED = r"""
const out = [];
for (const steps of document.querySelectorAll('.steps')) {
  const box = steps.getBoundingClientRect();
  const leads = [...steps.querySelectorAll(':scope > .step > .rhs')].map(r => r.querySelector('math.lead > mo, math.lead > mrow > mo')
    .getBoundingClientRect().left);  // the relation that starts each row
  const numbers = [...steps.querySelectorAll(':scope > .step')].map(s => {
    const n = s.querySelector(':scope > .eqno').getBoundingClientRect();
    const overlaps = [...s.querySelectorAll(':scope > .rhs math')].some(m => {
      const r = m.getBoundingClientRect(); return r.right > n.left + 0.5 && r.left < n.right && r.bottom > n.top && r.top < n.bottom; });
    return [box.right - n.right, overlaps];
  });
  out.push({leads: leads, numbers: numbers});
}
return out;
"""


@pytest.mark.parametrize("width", (420, 1200))
@pytest.mark.parametrize("name", TABLED)
def test_equation_numbers_keep_the_relations_aligned(browser, tabled, name, width):
    """In each section the relations (=, ≈, ←) of every row of every step start at one x; each "(n)" stands at the
    right edge and overlaps no formula."""
    browser.load(tabled[name][0], width)
    browser.driver.execute_script("for (const d of document.querySelectorAll('details')) d.open = true;")
    sections = browser.driver.execute_script(ALIGNED)
    assert sections
    for s in sections:
        assert max(s["leads"]) - min(s["leads"]) < 0.5, s["leads"]
        assert all(abs(gap) < 0.5 and not overlaps for gap, overlaps in s["numbers"]), s["numbers"]


@pytest.mark.parametrize("name", TABLED)
def test_figures_are_numbered_captioned_and_referenced(tabled, name):
    """Each figure is a <figure> with "Figure n: ..." in order, in the section that names it, and that section's
    text links to it; no "Plots" section is left over."""
    page, doc = tabled[name][:2]
    html = page.read_text(encoding="utf-8")
    figures = re.findall(r'<figure id="(figure-\d+)">.*?<figcaption><b>Figure (\d+):</b> (.*?)</figcaption>', html, re.S)
    want = [s.network is not None for s in doc.sections].count(True) + sum(len(s.plots) for s in doc.sections)
    assert [(a, n) for a, n, _ in figures] == [(f"figure-{n}", str(n)) for n in range(1, want + 1)]
    assert 'id="plots"' not in html
    for k, section in enumerate(doc.sections):
        body = html[html.index(f'<details id="s{k}"'):]
        body = body[:body.index("</details>\n<details") if "</details>\n<details" in body else len(body)]
        own = re.findall(r'<figure id="(figure-\d+)">', body)
        assert len(own) == (section.network is not None) + len(section.plots), section.title
        see = re.search(r'<p class="see">(.*?)</p>', body)
        for anchor in own:
            assert see and f'href="#{anchor}"' in see[1], (section.title, anchor)


def hostile() -> Walkthrough:
    """Step names and table labels as a builder might write them: brackets, @, /, ^, quotes, spaces, one name twice."""
    x, y = sp.symbols("x y")
    names = ['dE/dw_a1[1]@1', 'E^(1)', 'z "a" <b>', 'same', 'same', 'eq-1', 's0']
    steps = tuple(Step(n, x, (y + i,), y + i, {y: sp.Rational(i, 3)}, sp.Rational(i, 3) + i, uses=tuple(names[:i]))
                  for i, n in enumerate(names))
    tables = (Table("Summary 1", "a label with a space", ("a", "b"), (("p", Number(sp.Rational(-1, 8))),)),
              Table("same", "one label", ("a",), (("q",),)), Table("same", "the label again", ("a",), (("r",),)))
    return Walkthrough("Hostile names", (Section("One", steps, ("text",), tables),))


def test_anchors_come_from_one_mapping_whatever_the_names():
    """Every link of the page leads to an id of the mapping (s<k>, eq-<n>, figure-<n>, table-<label or n>), never to a
    raw step name; a name that is not a valid, unique id (a space, given twice, or shaped like an anchor) is no id at
    all; a repeated name is cited by its latest step."""
    html = api.render(hostile(), "html")
    hrefs = re.findall(r'href="#([^"]*)"', html)
    assert hrefs and all(re.fullmatch(r"s\d+|eq-\d+|figure-\d+(-.+)?|table-[a-z0-9]+(-[a-z0-9]+)*", h) for h in hrefs), hrefs
    ids = re.findall(r'\bid="([^"]*)"', html)
    assert len(ids) == len(set(ids))
    assert [i for i in ids if i.startswith("table-")] == ["table-1", "table-same", "table-3"]
    assert 'id="dE/dw_a1[1]@1"' in html and 'id="E^(1)"' in html  # valid and unique: kept, as pages always had it
    assert "z &quot;a&quot; &lt;b&gt;" in html and 'id="z &quot;' not in html and 'id="same"' not in html
    assert html.count('id="eq-1"') == 1 and html.count('id="s0"') == 1  # the step named like an anchor lost its id
    last = html[html.index('title="s0"'):]
    assert re.findall(r'<a href="#(eq-\d+)">', last[:last.index("</div>")]) == [f"eq-{n}" for n in (1, 2, 3, 5, 6)]
