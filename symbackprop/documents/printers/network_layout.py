"""Where the network figure puts things, for tikz.py and svg.py alike: nodes, edges and labels with
their boxes, measured with estimated text widths so that no two label boxes overlap and no label
sits on a node.

Columns run left to right (inputs and constants first), every output feeds one loss node E, and
with the Network's ``values`` the labels carry numbers: ``x_1 = 0.2`` beside an input, ``w_{a1} =
0.1`` on its edge, ``z_a = 0.76`` and ``a = 0.76`` beside a neuron, a bias ``b_3 = 0`` at the tail
of a short arrow into its neuron, ``E = 0.019208`` at the loss. Labels are placed greedily, each at
the candidate spot that overlaps no label or node (a weight label: nor the crossing of its edge
with another) and crosses the fewest edges; where one finds no spot, the rows or columns move apart
and the placement starts again. Of the spacings that work, the one with the fewest edges through
labels wins, each crossing weighed against CROSSING of the area. A figure that does not fit
MAX_WIDTH x MAX_HEIGHT says less, in the steps of DETAILS: weight labels as values alone, then no
weight labels (from the start past MAX_EDGE_LABELS edges), then names only, then small dots (from
the start where a column is taller than MAX_NAMED_ROWS).

Units are CSS pixels (SVG user units); the TikZ printer sets 1 px = PT_PER_PX pt, so a 12 px label is
8 pt (\\scriptsize in an 11 pt document). Widths come from DejaVu Serif's advance table, the SVG
figure's font: it is wider than Computer Modern, so the TikZ figure, laid out the same, has room
too. The same Network gives the same Layout, and the same bytes from both printers.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from ...core import notation
from ..nodes import Network
from ..plots import figure_number
from .network_geometry import Box, intersection, segment_meets
from .network_text import ASCENT, DESCENT, SUB_DROP, Text, name_width, text_width

MAX_EDGE_LABELS = 16  # more edges than this are drawn without their labels
MAX_NAMED_ROWS = 6  # a column taller than this is drawn as small unnamed nodes
MAX_WIDTH = 840.0  # px: an HTML column (60 rem); TikZ scales a figure wider than its text width (725 px) down
MAX_HEIGHT = 1000.0
PT_PER_PX = 2 / 3
CROSSING = 0.25  # an edge through a label costs as much as this much more area (of the smallest layout)
STEPS = 7  # spacings tried across and down, each 12 % roomier than the last

LABEL_SIZE = 12.0  # px: value and weight labels
NAME_SIZE = 15.0  # px: names inside nodes
GAP = 3.0  # px kept clear between two label boxes, and between a label and a node
PAD = 1.5  # px a label's box reaches beyond its text (its white background; TikZ's inner sep)
STUB = 20.0  # px: the bias arrow's length
INPUT_ROWS = 0.6  # a column of inputs is this much tighter than one of neurons (their labels are beside them)


def _text(net: Network, key: str, name: str | None = None, values: bool = True) -> Text:
    shown = notation.of(name or key)
    if values and key in net.values:
        relation, number = figure_number(net.values[key])
        return Text(key, shown, relation, number)
    return Text(key, shown)


# -- the layout --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    name: str
    kind: str  # "input", "neuron" or "loss"
    x: float
    y: float
    r: float  # a circle's radius, a square's half side
    label: Text | None  # the name inside it, None for a dot

    def box(self) -> Box:
        return Box(self.x - self.r, self.y - self.r, self.x + self.r, self.y + self.r)

    def rim(self, dx: float, dy: float) -> tuple[float, float]:
        """Where the ray from the centre along (dx, dy) leaves the shape."""
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        reach = self.r if self.kind != "input" else self.r / max(abs(ux), abs(uy))
        return self.x + ux * reach, self.y + uy * reach


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    weight: str  # the weight's name; "" for an output's edge into E and a bias's arrow
    x1: float  # from the source's rim to the target's
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Label:
    kind: str  # "input", "neuron" (z and a), "bias", "weight", "loss"
    lines: tuple[Text, ...]
    x: float  # the centre of its box
    y: float
    box: Box
    size: float = LABEL_SIZE

    def baselines(self) -> tuple[float, ...]:
        """Each line's baseline, so that the lines' ascent-to-descent boxes stack inside ``box``."""
        out, top = [], self.box.y0 + PAD
        for text in self.lines:  # each line under the one before, a subscript's drop included
            out.append(top + ASCENT * self.size)
            top += _line_height(text, self.size)
        return tuple(out)


@dataclass(frozen=True)
class Detail:
    """How much a figure says: weight labels ("named": ``w_{a1} = 0.1``, "values": ``0.1``, or none),
    values and biases at the nodes, names inside the nodes (else small dots)."""

    weights: str
    values: bool
    names: bool


DETAILS = (Detail("named", True, True), Detail("values", True, True), Detail("", True, True),
           Detail("", False, True), Detail("", False, False))  # from the most said to the least


@dataclass(frozen=True)
class Layout:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]  # the weighted edges, then the outputs' edges into E, then the bias arrows
    labels: tuple[Label, ...]
    width: float
    height: float
    name_size: float
    detail: Detail
    crossings: int = 0  # edges running through labels (other than a weight label's own edge)
    spacing: int = 0  # how many 12 % steps roomier than the tightest spacing

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)


def _line_height(text: Text, size: float) -> float:
    sub = text.name is not None and (text.name.subscript or text.name.derivative_of is not None)
    return (ASCENT + DESCENT + (SUB_DROP if sub else 0.0)) * size


def _box_size(lines: tuple[Text, ...], size: float = 0.0) -> tuple[float, float]:
    size = size or LABEL_SIZE
    width = max(text_width(t, size) for t in lines)
    height = sum(_line_height(t, size) for t in lines)
    return width + 2 * PAD, height + 2 * PAD


def _circle_meets(node: Node, box: Box) -> bool:
    if node.kind == "input":
        return node.box().meets(box)
    nx, ny = min(max(node.x, box.x0), box.x1), min(max(node.y, box.y0), box.y1)
    return math.hypot(node.x - nx, node.y - ny) < node.r


class _Unplaced(Exception):
    """A label found no spot clear of the others: the figure needs more room."""


def layout(net: Network) -> Layout:
    """The figure of ``net`` with the most detail that fits within MAX_WIDTH x MAX_HEIGHT (the same
    Network, the same Layout: both printers of one document share it)."""
    return _layout(net.columns, net.edges, net.outputs, tuple(net.activations.items()), tuple(net.biases.items()),
                   tuple(net.values.items()))


@functools.lru_cache(maxsize=32)
def _layout(columns, edges, outputs, activations, biases, values) -> Layout:
    net = Network(columns, edges, outputs, dict(activations), dict(biases), dict(values))
    tall = max(len(c) for c in net.columns)
    first = len(DETAILS) - 1 if tall > MAX_NAMED_ROWS else 2 if len(net.edges) > MAX_EDGE_LABELS else 0
    steps = sorted(((wide, high) for wide in range(STEPS) for high in range(STEPS)), key=lambda s: (s[0] + s[1], s))
    for detail in DETAILS[first:]:
        if detail.weights == "values" and not any(w in net.values for _, _, w in net.edges):
            continue
        found: list[Layout] = []
        for wide, high in steps:
            if any(o.crossings == 0 and wide + high > o.spacing for o in found):
                break  # nothing roomier can do better
            try:
                out = _attempt(net, detail, wide, high)
            except _Unplaced:
                continue
            if out.width <= MAX_WIDTH and out.height <= MAX_HEIGHT:
                found.append(out)
        if found:  # each edge through a label weighs as much as CROSSING of the smallest one's area
            small = min(o.width * o.height for o in found)
            return min(found, key=lambda o: (o.crossings * CROSSING + o.width * o.height / small, o.width * o.height))
    return _attempt(net, DETAILS[-1], 0, 0)


def _attempt(net: Network, detail: Detail, wide: int, high: int) -> Layout:
    """One placement at a spacing ``wide`` and ``high`` steps roomier than the tightest; _Unplaced when a label finds no spot."""
    tall = max(len(c) for c in net.columns)
    names = {name: Text(name, notation.of(name)) for column in net.columns for name in column}
    if detail.names:
        widest = max(name_width(t.name, NAME_SIZE) for t in names.values())
        r = max(17.0, widest / 2 + 4)
    else:
        r = 5.0 if tall > MAX_NAMED_ROWS else 9.0
    # room: columns far enough apart for a weight label between two nodes, rows for a neuron's labels
    across, down = 1.12 ** wide, 1.12 ** high
    if detail.weights:
        widest_weight = max((_box_size((_weight_text(net, w, detail),))[0] for _, _, w in net.edges), default=0.0)
        dx = max(130.0, widest_weight + 2 * r + 40) * across
    else:
        dx = (130.0 if detail.names else 110.0) * across
    if detail.values:
        block = 2 * (ASCENT + DESCENT + SUB_DROP) * LABEL_SIZE if net.values else 0  # a neuron's z and a over it
        bias = STUB + 1.6 * LABEL_SIZE if net.biases else 0  # a bias arrow under the neuron next to it
        dy = (2 * r + block + bias + 16) * down
    elif detail.names:
        dy = (2 * r + 16) * down
    else:
        dy = max(14.0, 420.0 / tall) * down

    nodes: dict[str, Node] = {}
    for i, column in enumerate(net.columns):
        neurons = any(name in net.activations for name in column)
        step = dy if neurons or not detail.values else max(2 * r + 14, INPUT_ROWS * dy)  # an input's label is beside it
        for j, name in enumerate(column):
            kind = "neuron" if name in net.activations else "input"
            nodes[name] = Node(name, kind, i * dx, (j - (len(column) - 1) / 2) * step, r, names[name] if detail.names else None)
    loss_x = (len(net.columns) - 1) * dx + max(0.45 * dx, 2 * r + 50)
    outputs_y = [nodes[o].y for o in net.outputs if o in nodes]
    loss_y = sum(outputs_y) / len(outputs_y) if outputs_y else 0.0
    loss = Node("E", "loss", loss_x, loss_y, max(r, 14.0) if detail.names else r + 2,
                Text("E", notation.of("E")) if detail.names else None)
    nodes["E"] = loss

    def edge(source: Node, target: Node, weight: str) -> Edge:
        (x1, y1), (x2, y2) = source.rim(target.x - source.x, target.y - source.y), target.rim(source.x - target.x, source.y - target.y)
        return Edge(source.name, target.name, weight, x1, y1, x2, y2)

    edges = [edge(nodes[s], nodes[n], w) for s, n, w in net.edges]
    edges += [edge(nodes[o], loss, "") for o in net.outputs if o in nodes]
    placer = _Placer(list(nodes.values()), edges)

    labels: list[Label] = []
    bias_edges = []
    if detail.values:
        # a bias: a short arrow from below (or above) the neuron, its name and value at the tail
        for name in (n for n in nodes if n in net.biases):
            node = nodes[name]
            text = _text(net, net.biases[name])
            w, h = _box_size((text,))
            spots = []
            for side in (1, -1):  # below first, then above
                tail = node.y + side * (node.r + STUB)
                stub = Box(node.x - 1, min(tail, node.y + side * node.r), node.x + 1, max(tail, node.y + side * node.r))
                arrow = Edge(f"bias:{name}", name, net.biases[name], node.x, tail, node.x, node.y + side * node.r)
                spots.append(((node.x, tail + side * h / 2), stub, arrow))
            label, chosen = placer.place("bias", (text,), w, h, spots)
            labels.append(label)
            bias_edges.append(chosen)
        # a neuron's z and a, above it (or below, or to a side); an input's value beside it; E's under it
        for name, node in nodes.items():
            if node.kind == "neuron":
                lines = tuple(t for t in (_text(net, f"z_{name}", f"z_{name}"), _text(net, f"a_{name}", name)) if t.number)
            else:
                lines = (_text(net, name),) if name in net.values else ()
            if lines:
                w, h = _box_size(lines)
                labels.append(placer.place(node.kind, lines, w, h, _around(node, w, h))[0])
    if not detail.names:  # small dots: E's name beside its dot
        w, h = _box_size((Text("E", notation.of("E")),))
        labels.append(placer.place("loss", (Text("E", notation.of("E")),), w, h, _around(loss, w, h))[0])
    if detail.weights:
        for e in edges[:len(net.edges)]:
            text = _weight_text(net, e.weight, detail)
            w, h = _box_size((text,))
            spots = [((e.x1 + t * (e.x2 - e.x1), e.y1 + t * (e.y2 - e.y1)), None, None) for t in ALONG]
            labels.append(placer.place("weight", (text,), w, h, spots, own=e)[0])
    all_edges = edges + bias_edges
    boxes = [n.box() for n in nodes.values()] + [lab.box for lab in labels]
    boxes += [Box(min(e.x1, e.x2), min(e.y1, e.y2), max(e.x1, e.x2), max(e.y1, e.y2)) for e in all_edges]
    margin = 4.0
    x0, y0 = min(b.x0 for b in boxes) - margin, min(b.y0 for b in boxes) - margin
    x1, y1 = max(b.x1 for b in boxes) + margin, max(b.y1 for b in boxes) + margin
    sx, sy = -x0, -y0

    def moved_node(n: Node) -> Node:
        return Node(n.name, n.kind, round(n.x + sx, 1), round(n.y + sy, 1), n.r, n.label)

    def moved_edge(e: Edge) -> Edge:
        return Edge(e.source, e.target, e.weight, round(e.x1 + sx, 1), round(e.y1 + sy, 1), round(e.x2 + sx, 1), round(e.y2 + sy, 1))

    def moved_label(lab: Label) -> Label:
        box = lab.box.shifted(sx, sy)
        return Label(lab.kind, lab.lines, round(lab.x + sx, 1), round(lab.y + sy, 1),
                     Box(round(box.x0, 1), round(box.y0, 1), round(box.x1, 1), round(box.y1, 1)), lab.size)

    return Layout(tuple(moved_node(n) for n in nodes.values()), tuple(moved_edge(e) for e in all_edges),
                  tuple(moved_label(lab) for lab in labels), math.ceil(x1 - x0), math.ceil(y1 - y0),
                  NAME_SIZE, detail, placer.crossings, wide + high)


def _weight_text(net: Network, weight: str, detail: Detail) -> Text:
    text = _text(net, weight)
    return Text(weight, None, text.relation, text.number) if detail.weights == "values" and text.number else text


ALONG = (0.5, 0.4, 0.6, 0.3, 0.7, 0.35, 0.65, 0.25, 0.75, 0.45, 0.55, 0.2, 0.8, 0.15, 0.85)  # where on its edge a weight label may sit


def _around(node: Node, w: float, h: float) -> list:
    """Candidate centres for a node's value label, in order of preference."""
    r, x, y = node.r, node.x, node.y
    gap = GAP + 1
    above, below = y - r - gap - h / 2, y + r + gap + h / 2
    left, right = x - r - gap - w / 2, x + r + gap + w / 2
    if node.kind == "input":
        spots = [(left, y), (x, above), (x, below), (left, y - h / 2 - 2), (left, y + h / 2 + 2)]
    elif node.kind == "loss":
        spots = [(x, below), (x, above), (right, y), (right, y + h), (right, y - h)]
    else:
        spots = [(x, above), (x, below), (x + w / 3, above), (x - w / 3, above), (x + w / 3, below), (x - w / 3, below),
                 (right, y - r), (left, y - r), (right, y + r), (left, y + r)]
    return [((sx, sy), None, None) for sx, sy in spots]


class _Placer:
    """Puts labels one by one where they overlap no label, node or bias arrow, crossing the fewest edges."""

    def __init__(self, nodes: list[Node], edges: list[Edge]) -> None:
        self.nodes, self.edges = nodes, edges
        self.taken: list[Box] = []
        self.crossings = 0
        self.crossings_of: dict[Edge, list[tuple[float, float]]] = {}
        self.stubs: list[Box] = []

    def crossing_points(self, own: Edge) -> list[tuple[float, float]]:
        if own not in self.crossings_of:
            self.crossings_of[own] = [p for e in self.edges if e is not own and (p := intersection(own, e)) is not None]
        return self.crossings_of[own]

    def place(self, kind, lines, w, h, spots, own: Edge | None = None):
        best, crowded = None, False
        for rank, ((cx, cy), stub, extra) in enumerate(spots):
            box = Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            clear = box.grown(GAP)
            if (any(clear.meets(t) for t in self.taken) or any(_circle_meets(n, clear) for n in self.nodes)
                    or any(box.meets(s) for s in self.stubs)
                    or stub is not None and (any(stub.meets(t) for t in self.taken) or
                                             any(_circle_meets(n, stub) for n in self.nodes if n.name != extra.target))):
                crowded = True
                continue
            if own is not None and any(box.grown(GAP).holds(p) for p in self.crossing_points(own)):
                crowded = True  # on the crossing of its edge with another, it would read as either's
                continue
            crossings = sum(segment_meets(e.x1, e.y1, e.x2, e.y2, box) for e in self.edges if e is not own)
            if stub is not None:
                crossings += sum(segment_meets(e.x1, e.y1, e.x2, e.y2, stub) for e in self.edges)
            cost = 100 * crossings + rank
            if best is None or cost < best[0]:
                best = (cost, box, (cx, cy), stub, extra)
        if best is None:  # taller rows where labels or nodes were in the way, else wider (flatter edges)
            raise _Unplaced("down" if crowded and kind != "weight" else "across", lines[0].key)
        _, box, (cx, cy), stub, extra = best
        self.taken.append(box)
        self.crossings += best[0] // 100
        if stub is not None:
            self.stubs.append(stub)
        return Label(kind, tuple(lines), cx, cy, box), extra
