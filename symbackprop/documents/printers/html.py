"""The walkthrough as one self-contained HTML file: MathML formulas, the network and plots as inline SVG.

No script, font or style from the network. Sections are <details> elements, collapsed after the
first, so a document with hundreds of steps stays readable; a few lines of inline script give
"expand all / collapse all", open the section a link leads into, and open every section for
printing (the print stylesheet does so too, where the browser lets CSS). A formula is cut into
pieces (formulas/mathml.rows) that wrap at the page's width, so nothing scrolls sideways, on a
phone or on paper.

A section reads: its text (with a linked reference to each of its figures), its network figure, its
tables (html_tables.py), its steps, its plots. Steps, tables and figures are numbered as in every
document (numbering.py), in the order they appear: each step carries "(n)" in a column of its own
right of the formulas (the relations stay aligned under each other) and an anchor ``eq-n``; a step's
``uses`` become links to those numbers. Every id a link can lead to is derived from numbering.label
and handed out by one registry (``Anchors``), which checks it; a step's name stays in its
``id``/``title`` only as the name the derivation gives it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html import escape

from ..formulas.mathml import rows
from ..nodes import Section, Step, Walkthrough
from .figures import svg
from .html_tables import PAGE_EM, TABLE_FONT, TEXT_COLUMN_REM, table_html, table_style
from .html_text import boxes, prose, titled
from .numbering import Figure, label, numbering, plot_sentence
from .svg import svg_network

LONG_TEXT = 400
INDENT = "1.2em"  # how far a wrapped formula's continuation lines stand in

STYLE = f"""
body {{ font-family: system-ui, sans-serif; max-width: {TEXT_COLUMN_REM:g}rem; margin: 2rem auto; padding: 0 1rem; color: #222;
       overflow-wrap: break-word; }}
h1 {{ font-size: 1.6rem; }}
nav ol {{ columns: 2 16rem; column-gap: 2.5rem; }}
details {{ border-top: 1px solid #ccc; padding: 0.4rem 0; }}
summary {{ font-size: 1.2rem; font-weight: 600; cursor: pointer; }}
details details {{ border-top: none; }}
details details > summary {{ font-size: 1rem; }}  /* a long listing inside a section */
.controls button {{ font: inherit; font-size: 0.85rem; margin-right: 0.4rem; }}
.steps {{ display: grid; grid-template-columns: minmax(2.5em, max-content) minmax(0, 1fr) max-content; }}
.steps > * {{ grid-column: 1 / -1; }}
.step {{ display: grid; grid-template-columns: subgrid; align-items: baseline; row-gap: 0.25rem; margin: 0.6rem 0 0.6rem 0.5rem;
        font-size: 1.15rem; }}  /* a section's relations stand under each other, as in an aligned display */
.step > .lhs {{ grid-column: 1; justify-self: end; }}
.step > .blank {{ grid-column: 1; }}
.step > .rhs {{ grid-column: 2; }}
.step > .eqno {{ grid-column: 3; grid-row: 1; justify-self: end; padding-left: 0.6em; font-size: 1rem; white-space: nowrap; }}
.step > .uses {{ grid-column: 2 / -1; padding-left: {INDENT}; font-size: 0.85rem; color: #555; }}
.g {{ display: flex; flex-wrap: wrap; align-items: baseline; row-gap: 0.2rem; min-width: 0; }}
.g > math {{ flex: none; }}
.rhs {{ padding-left: {INDENT}; }}
.rhs .lead {{ margin-left: -{INDENT}; }}  /* the relation's piece hangs out: a flex item's margin box never shrinks below 0 */
.note {{ color: #666; font-size: 0.85rem; font-style: italic; margin-left: 2rem; }}
figure svg {{ max-width: 100%; height: auto; }}
svg.network text {{ font-family: serif; font-style: italic; }}
figure {{ margin: 1rem 0; }}
figcaption, caption {{ font-size: 0.9rem; text-align: left; }}
figcaption b, caption b {{ font-weight: 600; }}
.table-box {{ margin: 1rem 0; }}
.table-box.bleed {{ width: calc(100vw - {PAGE_EM:g}rem); margin-left: calc(50% - 50vw + {PAGE_EM / 2:g}rem); }}
.table-box.bleed > table {{ margin: 0 auto; }}
table.t {{ border-collapse: collapse; font-size: {TABLE_FONT:g}rem; }}
table.t caption {{ caption-side: top; padding: 0 0 0.3rem; min-width: min(24rem, calc(100vw - {PAGE_EM:g}rem)); }}
table.t th, table.t td {{ padding: 0.2rem 0.45rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: baseline; }}
table.t thead th {{ border-bottom: 2px solid #888; vertical-align: bottom; }}
table.t .num {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
table.t .nowrap {{ white-space: nowrap; }}
table.t math {{ font-size: 1.15em; }}
table.t .label {{ display: none; }}
"""


# the page's own (a notebook shares STYLE only): printed, every section opens and the controls go
PRINT_STYLE = """
@page { margin: 1.5cm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; }
  .controls { display: none; }
  details::details-content { content-visibility: visible; display: block; }
  summary { list-style: none; break-after: avoid; }
  summary::-webkit-details-marker { display: none; }
  .step, figure { break-inside: avoid; }
  figcaption { break-before: avoid; }
  a { color: inherit; text-decoration: none; }
  .table-box.bleed { width: auto; margin-left: 0; }
  .table-box.bleed > table { margin: 0; }
  table.t thead { display: table-header-group; }  /* repeated on each page the table runs onto */
  table.t caption, table.t thead { break-after: avoid; }
  table.t tr { break-inside: avoid; }
  table.t.short { break-inside: avoid; }
}
"""

# "Expand all" / "Collapse all"; a link into a collapsed section opens it; every section open while printing
SCRIPT = """<script>
(() => {
  const all = open => { for (const d of document.querySelectorAll('details')) d.open = open; };
  let closed = [];
  addEventListener('beforeprint', () => { closed = [...document.querySelectorAll('details:not([open])')]; all(true); });
  addEventListener('afterprint', () => { for (const d of closed) d.open = false; closed = []; });
  const reveal = () => {
    let id = location.hash.slice(1);
    try { id = decodeURIComponent(id); } catch (e) { /* a malformed escape: the fragment as written */ }
    const target = id && document.getElementById(id);
    if (!target) return;
    for (let d = target.closest('details'); d; d = d.parentElement.closest('details')) d.open = true;
    target.scrollIntoView();
  };
  addEventListener('hashchange', reveal);
  reveal();
  const controls = document.querySelector('.controls');
  controls.hidden = false;
  controls.addEventListener('click', e => { if (e.target.value) all(e.target.value === 'open'); });
})();
</script>"""
CONTROLS = ('<p class="controls" hidden><button type="button" value="open">Expand all</button>'
            '<button type="button" value="close">Collapse all</button></p>')


# -- anchors -------------------------------------------------------------------------------------
ANCHOR = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z")
LABEL = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


class Anchors:
    """Every id a link of the page leads to, handed out once each and checked: ``s<k>`` for a section,
    ``eq-<n>`` for step n, ``figure-<n>``, ``table-<label>`` (``table-<n>`` when the label is not a plain
    lower-case word or is taken). Nothing else a builder writes (step names hold [, @, /, ^) becomes an anchor."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, anchor: str) -> str:
        if not ANCHOR.match(anchor) or anchor in self.used:
            raise ValueError(f"not a fresh anchor: {anchor!r}")
        self.used.add(anchor)
        return anchor

    def section(self, k: int) -> str:
        return self.take(f"s{k}")

    def equation(self, n: int) -> str:
        return self.take(label("eq", n))

    def figure(self, n: int) -> str:
        return self.take(label("figure", n))

    def table(self, name: str, n: int) -> str:
        wanted = f"table-{name}"
        return self.take(wanted if LABEL.match(name) and wanted not in self.used else label("table", n))


@dataclass
class Layout:
    """The numbers (numbering.py) and anchors of one section, assigned in document order before anything is printed."""

    anchor: str
    network: tuple[Figure, str] | None = None  # (figure, anchor)
    tables: list[tuple[int, str]] = field(default_factory=list)  # (number, anchor)
    steps: list[tuple[int, str, list[tuple[int, str]], bool]] = field(default_factory=list)  # (number, anchor, cited, keep id)
    plots: list[tuple[Figure, str]] = field(default_factory=list)  # (figure, anchor)


def layout(doc: Walkthrough) -> tuple[list[Layout], Layout | None]:
    """Anchors for the numbers of every section (the page draws its plots, with or without ``--plots``), plus a
    last section for the plots no section places (so none is lost); a step cites in the order its ``uses`` name."""
    numbers = numbering(doc, True)
    anchors = Anchors()
    twice = {n for n, c in Counter(s.name for section in doc.sections for s in section.steps).items() if c > 1}
    out = []
    for k, section in enumerate(doc.sections):
        lay = Layout(anchors.section(k))
        if (network := numbers.network[k]) is not None:
            lay.network = (network, anchors.figure(network.number))
        for table, number in zip(section.tables, numbers.tables[k]):
            lay.tables.append((number, anchors.table(table.label, number)))
        for step, number, cited in zip(section.steps, numbers.equations[k], numbers.cited[k]):
            lay.steps.append((number, anchors.equation(number), [(n, label("eq", n)) for n in cited], step.name not in twice))
        lay.plots = [(figure, anchors.figure(figure.number)) for figure in numbers.plots[k]]
        out.append(lay)
    if not numbers.unplaced:
        return out, None
    last = Layout(anchors.take("plots"))
    last.plots = [(figure, anchors.figure(figure.number)) for figure in numbers.unplaced]
    return out, last


def keeps_name_id(name: str, unique: bool) -> bool:
    """Whether a step keeps its name as its element's id (as pages always gave it, so that a reader's old link still
    works): only where that id is valid and clashes with no other (links themselves lead to ``eq-n``)."""
    return unique and bool(name) and not re.search(r"\s", name) and not ANCHOR.match(name)


# -- steps ---------------------------------------------------------------------------------------
def _link(number: int, anchor: str) -> str:
    return f'<a href="#{anchor}">({number})</a>'


def step_html(step: Step, number: int | None = None, anchor: str | None = None, cited: list | None = None,
              keep_id: bool = True, tagged: bool = False) -> str:
    """A grid of rows: the left-hand side right-aligned, the relations of every row under each other, the
    equation's number right of the first row, and the steps it puts in ("using (12), (14)") under it.
    ``tagged``: every number marked with its quantity (formulas/mathml.rows), for a page that recomputes it."""
    cells = []
    for lhs, right in rows(step, tagged):
        cells.append(f'<span class="lhs">{boxes(lhs)}</span>' if lhs else '<span class="blank"></span>')
        cells.append(boxes(right, "g rhs").replace("<math ", '<math class="lead" ', 1))
    if number is not None:
        cells.append(f'<span class="eqno" id="{anchor}">({number})</span>')
    if cited:
        cells.append('<span class="uses">using ' + ", ".join(_link(n, a) for n, a in cited) + "</span>")
    name = escape(step.name)
    named = f' id="{name}"' if keeps_name_id(step.name, keep_id) else ""
    when = f' data-when="{step.when}"' if tagged and step.when else ""
    return f'<div class="step"{named}{when} title="{name}">{"".join(cells)}</div>'


# -- figures -------------------------------------------------------------------------------------
SVG_ID = re.compile(r'\bid="([^"]+)"')


def scoped(svg_text: str, prefix: str) -> str:
    """An inline SVG's own ids (markers, clip paths, glyphs) prefixed, so that two figures on one page never share
    an id and every ``href="#..."``/``url(#...)`` of a figure leads into that figure."""
    ids = set(SVG_ID.findall(svg_text))
    if not ids:
        return svg_text

    def renamed(m: re.Match) -> str:
        name = m.group(2)
        return f"{m.group(1)}{prefix}-{name}{m.group(3)}" if name in ids else m.group(0)

    svg_text = re.sub(r'(\bid=")([^"]+)(")', renamed, svg_text)
    svg_text = re.sub(r'(href="#)([^"]+)(")', renamed, svg_text)
    return re.sub(r"(url\(#)([^)]+)(\))", renamed, svg_text)


def figure_html(fig: Figure, anchor: str, section: Section | None = None, tagged: bool = False) -> str:
    """A numbered figure: the network, or a plot (``tagged``: marked by its name, for a page that redraws it)."""
    if fig.plot is None:
        drawing = svg_network(section.network, tagged)
    else:  # a page that redraws its plots (interactive/page.js) needs no matplotlib
        drawing = '<svg class="plot" viewBox="0 0 640 360" role="img"></svg>' if tagged else svg(fig.plot)
    plot = f' data-plot="{escape(fig.plot.name)}"' if tagged and fig.plot is not None else ""
    return (f'<figure id="{anchor}"{plot}>{scoped(drawing, anchor)}'
            f"<figcaption><b>Figure {fig.number}:</b> {prose(fig.caption)}</figcaption></figure>")



def references(lay: Layout) -> str:
    """The sentence of a section's text that points to its figures ("Figure 1 shows the network.")."""
    sentences = []
    if lay.network is not None:
        network, anchor = lay.network
        sentences.append(f'<a href="#{anchor}">Figure {network.number}</a> shows the network.')
    for fig, anchor in lay.plots:
        sentences.append(f'<a href="#{anchor}">Figure {fig.number}</a>, at the end of this section, shows '
                         f"{prose(plot_sentence(fig.plot))}.")
    return f'<p class="see">{" ".join(sentences)}</p>' if sentences else ""


def render(doc: Walkthrough, plots_href: str | None = None, tagged: bool = False, style: str = "", top: str = "",
           tail: str = "") -> str:
    """The page. ``tagged`` and the rest are for the interactive page (interactive/page.py): every number marked
    with its quantity, its own ``style``, the ``top`` (its controls) after the title and the ``tail`` (its script)."""
    layouts, orphans = layout(doc)
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{prose(doc.title)}</title>", f"<style>{STYLE}{table_style(doc, tagged)}{PRINT_STYLE}{style}</style>",
           "</head>", "<body>",
           f"<h1>{prose(doc.title)}</h1>", CONTROLS, top, "<nav><ol>"]
    out += [f'<li><a href="#{lay.anchor}">{titled(s.title, tagged)}</a></li>' for s, lay in zip(doc.sections, layouts)]
    if orphans:
        out.append(f'<li><a href="#{orphans.anchor}">Plots</a></li>')
    out.append("</ol></nav>")
    for k, (section, lay) in enumerate(zip(doc.sections, layouts)):
        out.append(f'<details id="{lay.anchor}"{" open" if k == 0 else ""}><summary>{titled(section.title, tagged)}</summary>')
        for line in section.text:  # a long listing (hundreds of parameters) starts collapsed
            head, _, rest = line.partition(": ")
            out.append(f"<details><summary>{prose(head)}</summary><p>{prose(rest)}</p></details>"
                       if len(line) > LONG_TEXT and rest else f"<p>{prose(line)}</p>")
        if see := references(lay):
            out.append(see)
        if lay.network is not None:
            out.append(figure_html(*lay.network, section, tagged))
        out += [table_html(table, n, a, tagged) for table, (n, a) in zip(section.tables, lay.tables)]
        if section.steps:
            out.append('<div class="steps">')
        for step, (n, anchor, cited, unique) in zip(section.steps, lay.steps):
            out.append(step_html(step, n, anchor, cited, unique, tagged))
            if step.note:
                when = f' data-when="{step.when}"' if tagged and step.when else ""
                out.append(f'<div class="note"{when}>{prose(step.note)}</div>')
        if section.steps:
            out.append("</div>")
        out += [figure_html(fig, anchor, tagged=tagged) for fig, anchor in lay.plots]
        out.append("</details>")
    if orphans:  # plots no section names (a builder that does not place them): at the end, not lost
        out.append(f'<details id="{orphans.anchor}" open><summary>Plots</summary>')
        out += [figure_html(fig, anchor, tagged=tagged) for fig, anchor in orphans.plots]
        out.append("</details>")
    out += [SCRIPT, tail, "</body>", "</html>"]
    return "\n".join(line for line in out if line) + "\n"
