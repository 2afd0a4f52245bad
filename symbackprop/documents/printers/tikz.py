"""The network as a TikZ picture, for the LaTeX document, laid out by network_layout.py.

The layout (the SVG figure's, in pixels) is drawn at 1 px = PT_PER_PX pt
(labels \\scriptsize, names \\small in an 11 pt document). Each label is a node named after the
quantity it shows (``(v-w_a1)``), so that the source says which number is which.
"""

from __future__ import annotations

from ...core import notation
from ..formulas.latex import tex_decimal
from ..nodes import Network
from .network_layout import MAX_EDGE_LABELS, PAD, PT_PER_PX, Layout, layout
from .network_text import Text

__all__ = ["MAX_EDGE_LABELS", "tikz"]

TEXT_WIDTH = 480.0  # pt: A4 less 2 cm margins is 483.7 pt; a wider picture is scaled down to the line


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _pt(px: float) -> str:
    return f"{px * PT_PER_PX:.2f}pt"


def _line(t: Text) -> str:
    out = notation.latex(t.name) if t.name is not None else ""
    if t.number:
        relation = {"≈": r"\approx"}.get(t.relation, t.relation)
        out += f" {relation} " if t.name is not None else r"\approx " if t.relation == "≈" else ""
        out += tex_decimal(t.number)
    return f"${out}$"


def render(shape: Layout) -> str:
    r = shape.nodes[0].r if shape.nodes else 5.0
    dots = not shape.detail.names
    lines = [rf"\begin{{tikzpicture}}[x={PT_PER_PX:.4f}pt, y=-{PT_PER_PX:.4f}pt, >=stealth,"
             rf" input/.style={{rectangle, draw, minimum size={_pt(2 * r)}, inner sep=0pt, font=\small}},"
             rf" neuron/.style={{circle, draw, thick, fill=blue!4, minimum size={_pt(2 * r)}, inner sep=0pt, font=\small}},"
             rf" loss/.style={{circle, draw, thick, fill=red!6, minimum size={_pt(2 * shape.node('E').r)}, inner sep=0pt, font=\small}},"
             rf" label/.style={{font=\scriptsize, inner sep={PAD * PT_PER_PX:.2f}pt, align=center, fill=white}}]"]
    ids = {}
    for node in shape.nodes:
        ids[node.name] = f"n{len(ids)}"
        text = _line(node.label) if node.label is not None else ""
        lines.append(rf"\node[{node.kind}] ({ids[node.name]}) at ({_n(node.x)},{_n(node.y)}) {{{text}}};")
    for e in shape.edges:
        style = "-" if dots else "->"
        if e.source.startswith("bias:"):
            lines.append(rf"\draw[->, red!45!black] ({_n(e.x1)},{_n(e.y1)}) -- ({ids[e.target]});")
        else:
            colour = ", black!55" if dots else ""
            lines.append(rf"\draw[{style}{colour}] ({ids[e.source]}) -- ({ids[e.target]});")
    for lab in shape.labels:  # named after the quantity of its first line: (v-w_a1), (v-z_a)
        text = r"\\".join(_line(t) for t in lab.lines)
        lines.append(rf"\node[label] (v-{lab.lines[0].key}) at ({_n(lab.x)},{_n(lab.y)}) {{{text}}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def tikz(net: Network) -> str:
    """The figure of ``net``: its columns, one loss node E, weights on the edges, values where it has them;
    scaled to the line's width (graphicx's \\resizebox) where it is wider than TEXT_WIDTH."""
    shape = layout(net)
    picture = render(shape)
    if shape.width * PT_PER_PX > TEXT_WIDTH:
        return r"\resizebox{\linewidth}{!}{%" + "\n" + picture + "}"
    return picture
