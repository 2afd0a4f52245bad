"""The network as inline SVG, for the HTML document and notebooks, laid out by network_layout.py.

Names are set as the notation layer writes them (``w_a1`` as an italic w with the subscript a1, in
tspans), numbers as core.decimals writes them with a Unicode minus. Each label's <text> says which
quantity it shows (``data-name="w_a1"``), so that a reader (or a test) can tell the numbers apart.
The text style is inline: a page's own stylesheet (HTML's italic serif for ``svg.network text``)
would otherwise set numbers in italics.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from ...core.notation import Notation
from ..nodes import Network
from .network_layout import MAX_EDGE_LABELS, Label, Layout, layout
from .network_text import SUB, SUB_DROP, Text

__all__ = ["MAX_EDGE_LABELS", "svg_network"]

FONT = "'DejaVu Serif',Georgia,'Times New Roman',serif"
COLOURS = {"weight": "#234", "bias": "#533", "input": "#222", "neuron": "#222", "loss": "#222"}


def _n(value: float) -> str:
    """A coordinate, to a tenth of a pixel, without a trailing .0."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _letters(text: str) -> str:
    """Letters italic (as TeX sets a subscript's letters), digits and commas upright."""
    out, run, italic = [], "", None
    for c in text:
        kind = c.isalpha()
        if italic is not None and kind != italic:
            out.append(f'<tspan font-style="italic">{escape(run)}</tspan>' if italic else escape(run))
            run = ""
        run, italic = run + c, kind
    if run:
        out.append(f'<tspan font-style="italic">{escape(run)}</tspan>' if italic else escape(run))
    return "".join(out)


def _name(n: Notation, size: float, more: bool) -> str:
    """A symbol: its head (italic unless a word), then a subscript in a smaller, lowered tspan; the
    baseline comes back when ``more`` text follows."""
    if n.derivative_of is not None:
        return "∂E/∂" + _name(n.derivative_of, size, more)
    head = escape(n.head) if n.word else f'<tspan font-style="italic">{escape(n.head)}</tspan>'
    out = ("Δ" if n.adjustment else "") + head
    small = _n(size * SUB)
    drop = size * SUB_DROP
    if n.superscript:
        out += f'<tspan dy="{_n(-drop * 1.4)}" font-size="{small}">({escape(n.superscript)})</tspan>'
        if n.subscript or more:
            out += f'<tspan dy="{_n(drop * 1.4)}"></tspan>'
    if n.subscript:
        out += f'<tspan dy="{_n(drop)}" font-size="{small}">{_letters(",".join(n.subscript))}</tspan>'
        if more:
            out += f'<tspan dy="{_n(-drop)}"></tspan>'
    return out


def _number(text: str, size: float) -> str:
    mantissa, _, exponent = text.partition("e")
    out = mantissa.replace("-", "−")
    if exponent:
        out += f'·10<tspan dy="{_n(-size * 0.4)}" font-size="{_n(size * SUB)}">{str(int(exponent)).replace("-", "−")}</tspan>'
    return out


def _line(t: Text, size: float, names: Mapping[str, str] | None = None) -> str:
    """A label's line; with ``names`` (a page that recomputes), its number and relation marked with the quantity."""
    out = _name(t.name, size, bool(t.number)) if t.name is not None else ""
    if t.number:
        relation = f" {t.relation} " if t.name is not None else "≈" if t.relation == "≈" else ""
        number = _number(t.number, size)
        if names and t.key in names:
            relation = f'<tspan class="rel">{relation}</tspan>'
            number = f'<tspan data-q="{escape(names[t.key])}" data-digits="4">{number}</tspan>'
        out += relation + number
    return out


def _label(lab: Label, names: Mapping[str, str] | None = None) -> list[str]:
    box = lab.box
    out = [f'<rect class="label" x="{_n(box.x0)}" y="{_n(box.y0)}" width="{_n(box.x1 - box.x0)}" height="{_n(box.y1 - box.y0)}"'
           ' fill="#fff"/>']
    for text, baseline in zip(lab.lines, lab.baselines()):
        out.append(f'<text class="{lab.kind}" data-name="{escape(text.key)}" x="{_n(lab.x)}" y="{_n(baseline)}" '
                   f'text-anchor="middle" fill="{COLOURS[lab.kind]}" style="font:{_n(lab.size)}px {FONT}">'
                   f"{_line(text, lab.size, names)}</text>")
    return out


def render(shape: Layout, caption: str = "", names: Mapping[str, str] | None = None) -> str:
    arrows = shape.detail.names  # small dots: no arrow heads
    tip = ' marker-end="url(#arrow)"' if arrows else ""
    out = [f'<svg class="network" xmlns="http://www.w3.org/2000/svg" width="{_n(shape.width)}" height="{_n(shape.height)}"'
           f' viewBox="0 0 {_n(shape.width)} {_n(shape.height)}" role="img" aria-label="{escape(caption or "the network")}">']
    if arrows:
        out.append('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6"'
                   ' orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>')
    for e in shape.edges:
        colour = "#a77" if e.source.startswith("bias:") else "#777"
        out.append(f'<line x1="{_n(e.x1)}" y1="{_n(e.y1)}" x2="{_n(e.x2)}" y2="{_n(e.y2)}" stroke="{colour}"'
                   f' stroke-width="1"{tip}/>')
    for node in shape.nodes:
        x, y, r = _n(node.x), _n(node.y), node.r
        if node.kind == "input":
            out.append(f'<rect class="node" data-name="{escape(node.name)}" x="{_n(node.x - r)}" y="{_n(node.y - r)}"'
                       f' width="{_n(2 * r)}" height="{_n(2 * r)}" fill="#fff" stroke="#224"/>')
        else:
            fill = "#fee" if node.kind == "loss" else "#eef"
            out.append(f'<circle class="node" data-name="{escape(node.name)}" cx="{x}" cy="{y}" r="{_n(r)}"'
                       f' fill="{fill}" stroke="#224" stroke-width="1.5"/>')
        if node.label is not None:
            sub = node.label.name.subscript
            baseline = node.y + shape.name_size * (0.33 - (0.12 if sub else 0.0))
            out.append(f'<text class="name" data-name="{escape(node.name)}" x="{x}" y="{_n(baseline)}" text-anchor="middle"'
                       f' style="font:{_n(shape.name_size)}px {FONT}">{_line(node.label, shape.name_size)}</text>')
    for lab in shape.labels:
        out += _label(lab, names)
    out.append("</svg>")
    return "\n".join(out)


def svg_network(net: Network, tagged: bool = False) -> str:
    """The figure of ``net``: its columns, one loss node E, weights on the edges, values where it has them
    (``tagged``: each marked with its quantity, for a page that recomputes them)."""
    return render(layout(net), net.caption, net.names if tagged else None)
