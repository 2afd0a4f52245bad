"""The network as a TikZ picture, for the LaTeX document."""

from __future__ import annotations

from ..formulas.latex import tex_name
from ..nodes import Network

MAX_EDGE_LABELS = 16  # more edges than this are drawn without their weight names


def tikz(net: Network) -> str:
    """Columns left to right, nodes centred vertically; weight names on the edges when few."""
    tall = max(len(c) for c in net.columns)
    dy = 1.3 if tall <= 6 else max(0.35, 8.0 / tall)
    dx = 3.2 if len(net.edges) <= MAX_EDGE_LABELS else 2.6
    size = "7mm" if dy >= 0.8 else "3mm"
    lines = [r"\begin{tikzpicture}[>=stealth, neuron/.style={circle, draw, thick, minimum size=" + size + r", inner sep=1pt},"
             r" input/.style={rectangle, draw, minimum size=" + size + r", inner sep=1pt}]"]
    ids = {}
    for i, column in enumerate(net.columns):
        for j, name in enumerate(column):
            ids[name] = f"n{len(ids)}"
            y = (len(column) - 1) / 2 * dy - j * dy
            style = "input" if i == 0 else "neuron"
            label = f"${tex_name(name)}$" if dy >= 0.8 else ""
            lines.append(rf"\node[{style}] ({ids[name]}) at ({i * dx:.2f},{y:.2f}) {{{label}}};")
    labels = len(net.edges) <= MAX_EDGE_LABELS
    for source, neuron, weight in net.edges:
        edge = rf"\draw[->] ({ids[source]}) -- ({ids[neuron]})"
        if labels:
            edge += rf" node[pos=0.35, fill=white, inner sep=1pt, font=\scriptsize] {{${tex_name(weight)}$}}"
        lines.append(edge + ";")
    for out in net.outputs:
        lines.append(rf"\draw[->] ({ids[out]}) -- ++(1.2,0) node[right] {{$E$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)
