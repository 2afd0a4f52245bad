"""The walkthrough as one self-contained HTML file: MathML formulas, the network as inline SVG.

No script, font or style from the network. Sections are <details> elements, collapsed after the
first, so a document with hundreds of steps stays readable; a few lines of inline script give
"expand all / collapse all" and open every section for printing (the print stylesheet does so
too, where the browser lets CSS). A formula is cut into pieces (formulas/mathml.rows) that wrap
at the page's width, so nothing scrolls sideways, on a phone or on paper.
"""

from __future__ import annotations

import re
from html import escape

from ..formulas.mathml import rows
from ..nodes import Step, Walkthrough
from .figures import svg
from .svg import svg_network

LONG_TEXT = 400
INDENT = "1.2em"  # how far a wrapped formula's continuation lines stand in

STYLE = f"""
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222;
       overflow-wrap: break-word; }}
h1 {{ font-size: 1.6rem; }}
nav ol {{ columns: 2; }}
details {{ border-top: 1px solid #ccc; padding: 0.4rem 0; }}
summary {{ font-size: 1.2rem; font-weight: 600; cursor: pointer; }}
details details {{ border-top: none; }}
details details > summary {{ font-size: 1rem; }}  /* a long listing inside a section */
.controls button {{ font: inherit; font-size: 0.85rem; margin-right: 0.4rem; }}
.steps, .step {{ display: grid; grid-template-columns: minmax(2.5em, max-content) minmax(0, 1fr); }}
.steps > * {{ grid-column: 1 / -1; }}
.step {{ grid-template-columns: subgrid; align-items: baseline; row-gap: 0.25rem; margin: 0.6rem 0 0.6rem 0.5rem;
        font-size: 1.15rem; }}  /* a section's relations stand under each other, as in an aligned display */
.step > .lhs {{ justify-self: end; }}
.g {{ display: flex; flex-wrap: wrap; align-items: baseline; row-gap: 0.2rem; min-width: 0; }}
.g > math {{ flex: none; }}
.rhs {{ padding-left: {INDENT}; }}
.rhs .lead {{ margin-left: -{INDENT}; }}  /* the relation's piece hangs out: a flex item's margin box never shrinks below 0 */
.note {{ color: #666; font-size: 0.85rem; font-style: italic; margin-left: 2rem; }}
figure svg {{ max-width: 100%; height: auto; }}
svg.network text {{ font-family: serif; font-style: italic; }}
figure {{ margin: 1rem 0; }}
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
  a { color: inherit; text-decoration: none; }
}
"""

# "Expand all" / "Collapse all", and every section open while printing (as it was again after)
SCRIPT = """<script>
(() => {
  const all = open => { for (const d of document.querySelectorAll('details')) d.open = open; };
  let closed = [];
  addEventListener('beforeprint', () => { closed = [...document.querySelectorAll('details:not([open])')]; all(true); });
  addEventListener('afterprint', () => { for (const d of closed) d.open = false; closed = []; });
  const controls = document.querySelector('.controls');
  controls.hidden = false;
  controls.addEventListener('click', e => { if (e.target.value) all(e.target.value === 'open'); });
})();
</script>"""
CONTROLS = ('<p class="controls" hidden><button type="button" value="open">Expand all</button>'
            '<button type="button" value="close">Collapse all</button></p>')

PROSE = [(re.compile(r"<-"), "←"), (re.compile(r"->"), "→"),
         (re.compile(r"(?<![\w.])-(?=\.?\d)|(?<=\d[eE])-(?=\d)|(?<=\s)-(?=\s)"), "−")]


def prose(text: str) -> str:
    """File and builder text as HTML: a minus sign (U+2212), not a hyphen, in numbers and between spaces;
    arrows as arrows; hyphenated words left alone."""
    for pattern, replacement in PROSE:
        text = pattern.sub(replacement, text)
    return escape(text)


def _pieces(tree, cls: str = "g") -> str:
    """A piece tree (formulas/mathml.pieces) as wrapping boxes: a leaf is one <math>, a list a flex row of its pieces."""
    if isinstance(tree, str):
        return f'<math display="block">{tree}</math>'
    while len(tree) == 1 and isinstance(tree[0], list):
        tree = tree[0]
    return f'<span class="{cls}">' + "".join(_pieces(t) for t in tree) + "</span>"


def step_html(step: Step) -> str:
    """A grid of rows: the left-hand side right-aligned, the relations of every row under each other."""
    cells = []
    for lhs, right in rows(step):
        cells.append(f'<span class="lhs">{_pieces(lhs)}</span>' if lhs else "<span></span>")
        cells.append(_pieces(right, "g rhs").replace("<math ", '<math class="lead" ', 1))
    name = escape(step.name)
    return f'<div class="step" id="{name}" title="{name}">{"".join(cells)}</div>'


def render(doc: Walkthrough, plots_href: str | None = None) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{prose(doc.title)}</title>", f"<style>{STYLE}{PRINT_STYLE}</style>", "</head>", "<body>",
           f"<h1>{prose(doc.title)}</h1>", CONTROLS, "<nav><ol>"]
    out += [f'<li><a href="#s{k}">{prose(s.title)}</a></li>' for k, s in enumerate(doc.sections)]
    if doc.plots:
        out.append('<li><a href="#plots">Plots</a></li>')
    out.append("</ol></nav>")
    for k, section in enumerate(doc.sections):
        out.append(f'<details id="s{k}"{" open" if k == 0 else ""}><summary>{prose(section.title)}</summary>')
        if section.network is not None:
            out.append(f"<figure>{svg_network(section.network)}</figure>")
        for line in section.text:  # a long listing (hundreds of parameters) starts collapsed
            head, _, rest = line.partition(": ")
            out.append(f"<details><summary>{prose(head)}</summary><p>{prose(rest)}</p></details>"
                       if len(line) > LONG_TEXT and rest else f"<p>{prose(line)}</p>")
        if section.steps:
            out.append('<div class="steps">')
        for step in section.steps:
            out.append(step_html(step))
            if step.note:
                out.append(f'<div class="note">{prose(step.note)}</div>')
        if section.steps:
            out.append("</div>")
        out.append("</details>")
    if doc.plots:
        out.append('<details id="plots" open><summary>Plots</summary>')
        out += [f"<figure>{svg(plot)}<figcaption>{prose(plot.title)}</figcaption></figure>" for plot in doc.plots]
        out.append("</details>")
    out += [SCRIPT, "</body>", "</html>"]
    return "\n".join(out) + "\n"
