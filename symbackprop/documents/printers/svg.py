"""The network as inline SVG, for the HTML document and notebooks."""

from __future__ import annotations

from html import escape

from ..nodes import Network

MAX_EDGE_LABELS = 16


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
