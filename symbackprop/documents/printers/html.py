"""The walkthrough as one self-contained HTML file: MathML formulas, the network as inline SVG.

No script, font or style from the network; sections are <details> elements, collapsed after
the first, so a document with hundreds of steps stays readable.
"""

from __future__ import annotations

from html import escape

from ..formulas.mathml import equation
from ..nodes import Network, Walkthrough
from .figures import svg

MAX_EDGE_LABELS = 16
LONG_TEXT = 400

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; }
nav ol { columns: 2; }
details { border-top: 1px solid #ccc; padding: 0.4rem 0; }
summary { font-size: 1.2rem; font-weight: 600; cursor: pointer; }
.step { margin: 0.6rem 0; overflow-x: auto; overflow-y: hidden; padding: 0.2rem 0; }
math[display=block] mfrac > * { math-style: normal; }
.step math { font-size: 1.15rem; }
.note { color: #666; font-size: 0.85rem; font-style: italic; margin-left: 2rem; }
mtd:first-child { text-align: right; }
mtd { text-align: left; padding: 0.15rem 0; }
svg.network text { font-family: serif; font-style: italic; }
figure { margin: 1rem 0; }
"""


def svg_network(net: Network) -> str:
    """Columns left to right; circles for neurons, squares for inputs; weight names when few edges."""
    tall = max(len(c) for c in net.columns)
    dy = 60 if tall <= 6 else max(14, 420 // tall)
    dx = 170 if len(net.edges) <= MAX_EDGE_LABELS else 140
    r = 16 if dy >= 40 else 5
    width, height = dx * (len(net.columns) - 1) + 2 * r + 90, dy * (tall - 1) + 2 * r + 20
    pos = {}
    for i, column in enumerate(net.columns):
        top = (height - dy * (len(column) - 1)) / 2
        for j, name in enumerate(column):
            pos[name] = (r + 10 + i * dx, top + j * dy)
    out = [f'<svg class="network" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}"'
           f' viewBox="0 0 {width} {height:.0f}" role="img" aria-label="the network">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto">'
           '<path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>']
    labels = len(net.edges) <= MAX_EDGE_LABELS
    for source, neuron, weight in net.edges:
        (x1, y1), (x2, y2) = pos[source], pos[neuron]
        out.append(f'<line x1="{x1 + r}" y1="{y1:.1f}" x2="{x2 - r}" y2="{y2:.1f}" stroke="#777" stroke-width="1"'
                   + (' marker-end="url(#arrow)"/>' if labels else "/>"))
        if labels:
            lx, ly = x1 + r + 0.3 * (x2 - x1 - 2 * r), y1 + 0.3 * (y2 - y1)
            out.append(f'<text x="{lx:.1f}" y="{ly - 3:.1f}" font-size="12" fill="#225">{escape(weight)}</text>')
    for name, (x, y) in pos.items():
        if name in net.activations:
            out.append(f'<circle cx="{x}" cy="{y:.1f}" r="{r}" fill="#eef" stroke="#224" stroke-width="1.5"/>')
        else:
            out.append(f'<rect x="{x - r}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="#fff" stroke="#224"/>')
        if r >= 10:
            out.append(f'<text x="{x}" y="{y + 5:.1f}" font-size="15" text-anchor="middle">{escape(name)}</text>')
    for name in net.outputs:
        x, y = pos[name]
        out.append(f'<line x1="{x + r}" y1="{y:.1f}" x2="{x + r + 50}" y2="{y:.1f}" stroke="#444" marker-end="url(#arrow)"/>')
        out.append(f'<text x="{x + r + 56}" y="{y + 5:.1f}" font-size="15">E</text>')
    out.append("</svg>")
    return "\n".join(out)


def render(doc: Walkthrough, plots_href: str | None = None) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{escape(doc.title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
           f"<h1>{escape(doc.title)}</h1>", "<nav><ol>"]
    out += [f'<li><a href="#s{k}">{escape(s.title)}</a></li>' for k, s in enumerate(doc.sections)]
    if doc.plots:
        out.append('<li><a href="#plots">Plots</a></li>')
    out.append("</ol></nav>")
    for k, section in enumerate(doc.sections):
        out.append(f'<details id="s{k}"{" open" if k == 0 else ""}><summary>{escape(section.title)}</summary>')
        if k == 0 and doc.network is not None:
            out.append(f"<figure>{svg_network(doc.network)}</figure>")
        for line in section.text:  # a long listing (hundreds of parameters) starts collapsed
            head, _, rest = line.partition(": ")
            out.append(f"<details><summary>{escape(head)}</summary><p>{escape(rest)}</p></details>"
                       if len(line) > LONG_TEXT and rest else f"<p>{escape(line)}</p>")
        for step in section.steps:
            out.append(f'<div class="step" id="{escape(step.name)}" title="{escape(step.name)}">{equation(step)}</div>')
            if step.note:
                out.append(f'<div class="note">{escape(step.note)}</div>')
        out.append("</details>")
    if doc.plots:
        out.append('<details id="plots" open><summary>Plots</summary>')
        out += [f"<figure>{svg(plot)}<figcaption>{escape(plot.title)}</figcaption></figure>" for plot in doc.plots]
        out.append("</details>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"
