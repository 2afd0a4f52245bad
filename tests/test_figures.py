"""The network figure (SVG and TikZ, one layout) and the plots, measured.

- In headless Chromium, every bundled derivation's SVG figure and dense 2-3-2's: no two text boxes
  (getBBox) intersect, no label touches a node's circle or square, every name sits inside its node,
  every text inside the drawing, each label inside the background box the layout estimated for it.
- The numbers the figures show, read back from the SVG text and from the TikZ source, equal the
  exact trace values (example 1, iteration 1): exactly after "=", within the last digit after "≈".
- The TikZ figures compile with pdflatex, without an overfull box or an error; in the PDF no two
  words of a figure overlap (pdftotext's word boxes) and every word lies within the text width.
- matplotlib: every text of every plot lies inside the figure after drawing, no two point labels
  overlap, every point is labelled, labels are mathtext (no ``E@1``), minus signs are U+2212, and the
  files are byte-stable.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from functools import cache

import pytest
import sympy as sp
from conftest import DERIVATIONS
from layout import missing, overfull_boxes

from symbackprop import api
from symbackprop.core import notation
from symbackprop.core.trace import Key
from symbackprop.documents.builder import build, network
from symbackprop.documents.nodes import Network
from symbackprop.documents.printers import network_layout, svg, tikz

BUNDLED = sorted(p.stem for p in DERIVATIONS.glob("*.toml"))
DENSE = {"dense_2_3_2_sigmoid": ([2, 3, 2], "sigmoid")}
NAMES = BUNDLED + list(DENSE)
FULL = ["seed002_2_2_1", "dense_2_2_1", "seed003_chain", "dense_2_3_2_sigmoid"]  # every value and weight drawn
SVG_NS = "{http://www.w3.org/2000/svg}"
TOLERANCE = 0.5  # px: a browser's rounding


@cache
def derivation(name: str):
    if name in DENSE:
        sizes, activation = DENSE[name]
        return api.derive(api.dense(sizes, activation, seed=1))
    return api.derive(api.load(DERIVATIONS / f"{name}.toml"))


def trace_values(d) -> dict:
    """What the figure shows, from the trace itself: example 1 at iteration 1."""
    m, v = d.model, d.trace(1).values
    values = {**m.examples[0].inputs, **m.constants} | {p: v[Key(p, None, 1)] for p in m.parameters}
    for n in d.order:
        values[f"z_{n.name}"] = v[Key(f"z_{n.name}", 1, 1)]
        values[f"a_{n.name}"] = v[Key(f"a_{n.name}", 1, 1)]
    values["E"] = v[Key("E", 1, 1)]
    return values


@cache
def figure_network(name: str) -> Network:
    """The walkthrough's own network figure (the builder's values), or the trace's values where it has none."""
    d = derivation(name)
    doc = build(d, d.trace(1))
    net = next(s.network for s in doc.sections if s.network is not None)
    return net if net.values else replace(net, values=trace_values(d))


# -- reading the numbers back ----------------------------------------------------------------------
def number(text: str) -> sp.Rational:
    text = text.replace("−", "-").replace(r"\cdot 10^{", "·10").rstrip("}").replace(" ", "")
    mantissa, _, exponent = text.partition("·10")
    return sp.Rational(mantissa) * (sp.Integer(10) ** int(exponent) if exponent else 1)


def agrees(relation: str, shown: str, exact) -> bool:
    """``=``: the decimal is the value; ``≈``: the value rounds to it (half a unit of its last digit)."""
    value = number(shown)
    if relation == "=":
        return value == exact
    digits = shown.replace("−", "-").lstrip("-").split("e")[0].split("·")[0]
    last = len(digits.split(".")[1]) if "." in digits else 0
    return abs(sp.N(exact, 30) - value) <= sp.Rational(1, 2) * sp.Rational(10) ** -last * (1 + sp.Rational(1, 10**6))


def shown_key(key: str) -> str:
    """The label's name as the SVG text reads (tspans joined): ``w_a1`` -> ``wa1``, ``a_n1_1`` -> ``a1,1``."""
    n = notation.of(key[2:] if key.startswith("a_") else key)
    return ("Δ" if n.adjustment else "") + n.head + (f"({n.superscript})" if n.superscript else "") + ",".join(n.subscript)


def svg_labels(drawing: str) -> list[tuple[str, str, str]]:
    """(data-name, relation, number) of every value label of an SVG figure."""
    root = ET.fromstring(drawing)
    out = []
    for text in root.iter(f"{SVG_NS}text"):
        if text.get("class") == "name":
            continue
        content = "".join(text.itertext())
        key = text.get("data-name")
        m = re.fullmatch(r"(?:(.+?) ([=≈]) )?(≈)?([−\d.·e]+)", content)
        assert m, f"unreadable label {content!r}"
        name, relation, alone, shown = m.groups()
        if name is not None:
            assert name == shown_key(key), f"{key} drawn as {name!r}"
        out.append((key, relation or alone or "=", shown))
    return out


def tikz_labels(source: str) -> list[tuple[str, str, str]]:
    """(key, relation, number) of every line of every label node of a TikZ figure, the key found from
    the name as the notation layer writes it in LaTeX (a node ``(v-KEY)`` names its first line)."""
    out = []
    for first, body in re.findall(r"\\node\[label\] \(v-([^)]+)\) at \([^)]*\) \{(.*)\};", source):
        for i, piece in enumerate(re.findall(r"\$([^$]*)\$", body)):
            m = re.fullmatch(r"(?:(.+?) (=|\\approx) )?(\\approx )?(-?[\d.]+(?: \\cdot 10\^\{-?\d+\})?)", piece)
            assert m, f"unreadable label {piece!r}"
            name, relation, alone, shown = m.groups()
            key = first if i == 0 else "a_" + first[2:]  # a neuron's block: z, then a
            if name is not None:
                expected = notation.latex(notation.of(key[2:] if key.startswith("a_") else key))
                assert name == expected, f"{key} typeset as {name!r}, expected {expected!r}"
            out.append((key, "≈" if (relation or alone or "").strip() == r"\approx" else "=", shown))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_the_numbers_in_both_figures_are_the_trace_values(name):
    net, d = figure_network(name), derivation(name)
    exact = trace_values(d)
    for printer, labels in (("svg", svg_labels(svg.svg_network(net))), ("tikz", tikz_labels(tikz.tikz(net)))):
        assert labels, f"{printer}: no values drawn"
        for key, relation, shown in labels:
            assert key in exact, f"{printer}: {key} is not a quantity of the example"
            assert agrees(relation, shown, exact[key]), f"{printer}: {key} {relation} {shown}, the trace has {exact[key]}"
        drawn = {key for key, _, _ in labels}
        if name in FULL:  # every input, weight, bias, z, a and E
            assert drawn == set(exact), f"{printer}: missing {sorted(set(exact) - drawn)}"
        else:
            assert {k for k in exact if k.startswith(("z_", "a_"))} <= drawn and "E" in drawn


def test_numbers_read_exact_or_rounded():
    from symbackprop.documents.plots import figure_number

    assert figure_number(sp.Rational(19208, 10**6)) == ("=", "0.019208")
    assert figure_number(sp.Rational(-432, 1000)) == ("=", "-0.432")
    assert figure_number(sp.Rational(-199994, 10**6)) == ("≈", "-0.2")
    assert figure_number(1 / (1 + sp.exp(-sp.Rational(1, 2)))) == ("≈", "0.6225")
    assert figure_number(sp.Integer(0)) == ("=", "0.0")


# -- the layout, without a browser -----------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_the_layout_boxes_are_apart(name):
    shape = network_layout.layout(figure_network(name))
    boxes = [lab.box for lab in shape.labels]
    for i, a in enumerate(boxes):
        assert not any(a.meets(b) for b in boxes[i + 1:]), f"{shape.labels[i].lines[0].key} overlaps another label"
        assert not any(network_layout._circle_meets(n, a) for n in shape.nodes), f"{shape.labels[i].lines[0].key} is on a node"
        assert 0 <= a.x0 and a.x1 <= shape.width and 0 <= a.y0 and a.y1 <= shape.height
    assert shape.width <= network_layout.MAX_WIDTH and shape.height <= network_layout.MAX_HEIGHT
    assert [n.name for n in shape.nodes].count("E") == 1
    into_loss = [e for e in shape.edges if e.target == "E"]
    assert sorted(e.source for e in into_loss) == sorted(figure_network(name).outputs)


def test_biases_are_drawn_and_large_networks_drop_their_weight_labels():
    net = figure_network("seed002_2_2_1")
    drawing = svg.svg_network(net)
    assert {k for k, _, _ in svg_labels(drawing)} >= {"b3", "b4", "b5"}
    assert drawing.count('stroke="#a77"') == 3  # one arrow per bias
    assert "\\node[label] (v-b3)" in tikz.tikz(net)
    for sizes in ([2, 5, 5, 1], [4, 16, 16, 1]):  # 40 and 336 edges: no labels on them, every node drawn
        d = api.derive(api.dense(sizes, "relu", seed=1))
        big = replace(network(d), values=trace_values(d))
        drawing = svg.svg_network(big)
        assert 'class="weight"' not in drawing and "w1_1_1" not in drawing
        root = ET.fromstring(drawing)
        nodes = [e.get("data-name") for e in root.iter() if e.get("class") == "node"]
        assert sorted(nodes) == sorted([*d.model.inputs, *(n.name for n in d.order), "E"])
        assert root.find(f"{SVG_NS}text[@class='name']") is not None or sizes[1] > network_layout.MAX_NAMED_ROWS


def test_without_values_the_figures_name_everything():
    """A notebook's figure (no values): names on the edges and in the nodes, biases by name, no numbers."""
    for name in ("seed003_chain", "seed002_2_2_1"):
        d = derivation(name)
        drawing, source = svg.svg_network(network(d)), tikz.tikz(network(d))
        root = ET.fromstring(drawing)
        weights = {t.get("data-name"): "".join(t.itertext()) for t in root.iter(f"{SVG_NS}text") if t.get("class") == "weight"}
        assert set(weights) == {w for n in d.model.neurons for w in n.weights}
        assert all(text == shown_key(key) for key, text in weights.items())
        biases = {t.get("data-name") for t in root.iter(f"{SVG_NS}text") if t.get("class") == "bias"}
        assert biases == {n.bias for n in d.model.neurons if n.bias}
        assert not re.search(r"\d\.\d", "".join(root.itertext())) and " = " not in source


def test_both_figures_are_deterministic():
    net = figure_network("dense_2_3_2_sigmoid")
    first = (svg.svg_network(net), tikz.tikz(net))
    network_layout._layout.cache_clear()
    assert (svg.svg_network(net), tikz.tikz(net)) == first


def test_names_are_typeset_in_the_svg():
    drawing = svg.svg_network(figure_network("seed003_chain"))
    # w_a1: an italic w, then the subscript a1 lowered and smaller (its letter italic too), as TeX sets it
    subscript = r'<tspan dy="[\d.]+" font-size="[\d.]+"><tspan font-style="italic">a</tspan>1</tspan>'
    assert re.search(r'<tspan font-style="italic">w</tspan>' + subscript, drawing)
    assert "w_a1" not in drawing.replace('data-name="w_a1"', "")
    assert "-" not in "".join(ET.fromstring(drawing).itertext())  # minus signs are U+2212


# -- the SVG in a browser --------------------------------------------------------------------------
MEASURE = r"""
const out = [];
for (const svg of document.querySelectorAll('svg.network')) {
  const box = e => { const b = e.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; };
  out.push({
    id: svg.id,
    width: svg.viewBox.baseVal.width, height: svg.viewBox.baseVal.height,
    texts: [...svg.querySelectorAll('text')].map(t => ({cls: t.getAttribute('class'), name: t.dataset.name, box: box(t)})),
    circles: [...svg.querySelectorAll('circle.node')].map(c => ({name: c.dataset.name, cx: c.cx.baseVal.value,
                                                                cy: c.cy.baseVal.value, r: c.r.baseVal.value})),
    squares: [...svg.querySelectorAll('rect.node')].map(r => ({name: r.dataset.name, box: box(r)})),
    backgrounds: [...svg.querySelectorAll('rect.label')].map(box),
  });
}
return out;
"""


def _meets(a, b, tolerance=TOLERANCE) -> bool:
    return a[0] < b[2] - tolerance and b[0] < a[2] - tolerance and a[1] < b[3] - tolerance and b[1] < a[3] - tolerance


def _on_circle(c, box) -> bool:
    nx, ny = min(max(c["cx"], box[0]), box[2]), min(max(c["cy"], box[1]), box[3])
    return (c["cx"] - nx) ** 2 + (c["cy"] - ny) ** 2 < (c["r"] - TOLERANCE) ** 2


def _within(inner, outer, tolerance=TOLERANCE) -> bool:
    return (outer[0] - tolerance <= inner[0] and inner[2] <= outer[2] + tolerance
            and outer[1] - tolerance <= inner[1] and inner[3] <= outer[3] + tolerance)


@pytest.fixture(scope="module")
def measured(browser, tmp_path_factory):
    """name -> the browser's boxes of that figure (all figures on one page, laid out once)."""
    page = tmp_path_factory.mktemp("figures") / "figures.html"
    drawings = [svg.svg_network(figure_network(name)).replace('<svg class="network"', f'<svg class="network" id="f{i}"', 1)
                for i, name in enumerate(NAMES)]
    page.write_text("<!doctype html><meta charset='utf-8'><body>" + "\n".join(f"<figure>{s}</figure>" for s in drawings)
                    + "</body>", encoding="utf-8")
    browser.load(page, 1200)
    return dict(zip(NAMES, browser.driver.execute_script(MEASURE)))


@pytest.mark.parametrize("name", NAMES)
def test_no_svg_text_meets_another_or_a_node(measured, name):
    fig = measured[name]
    texts, labels = fig["texts"], [t for t in fig["texts"] if t["cls"] != "name"]
    assert labels or name not in FULL
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            assert not _meets(a["box"], b["box"]), f"{name}: {a['name']} ({a['cls']}) meets {b['name']} ({b['cls']})"
        assert _within(a["box"], [0, 0, fig["width"], fig["height"]]), f"{name}: {a['name']} is cut off"
    for t in labels:
        for c in fig["circles"]:
            assert not _on_circle(c, t["box"]), f"{name}: {t['name']} lies on the node {c['name']}"
        for s in fig["squares"]:
            assert not _meets(t["box"], s["box"]), f"{name}: {t['name']} lies on the input {s['name']}"
        # the layout's estimate holds the browser's measure: the white box behind it covers it
        assert any(_within(t["box"], bg, 1.0) for bg in fig["backgrounds"]), f"{name}: {t['name']} is wider than estimated"
    shapes = {c["name"]: [c["cx"] - c["r"], c["cy"] - c["r"], c["cx"] + c["r"], c["cy"] + c["r"]] for c in fig["circles"]}
    shapes |= {s["name"]: s["box"] for s in fig["squares"]}
    for t in texts:
        if t["cls"] == "name":
            assert _within(t["box"], shapes[t["name"]], 1.0), f"{name}: the name {t['name']} does not fit its node"


# -- TikZ in pdflatex ------------------------------------------------------------------------------
PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper, margin=2cm]{geometry}
\usepackage{graphicx}
\usepackage{tikz}
\setlength{\parindent}{0pt}
\begin{document}
"""
MARGIN = 2 / 2.54 * 72  # bp: the page's side margins, as pdftotext measures


@cache
def compiled_figures() -> dict[str, Network]:
    """Every figure above, a names-only one (a notebook's) and one of small dots (dense 4-16-16-1)."""
    figures = {name: figure_network(name) for name in NAMES}
    figures["seed003_chain, names only"] = network(derivation("seed003_chain"))
    figures["dense 4-16-16-1"] = network(api.derive(api.dense([4, 16, 16, 1], "relu", seed=1)))
    return figures


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    reason = missing("pdflatex")
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("tikz")
    body = "\n\\newpage\n".join(f"\\begin{{center}}\n{tikz.tikz(net)}\n\\end{{center}}" for net in compiled_figures().values())
    boxes = overfull_boxes(PREAMBLE + body + "\n\\end{document}\n", root, min_points=0.1)
    return boxes, root / "doc.pdf"


def test_the_tikz_figures_compile_without_overfull_boxes(compiled):
    boxes, pdf = compiled
    assert pdf.read_bytes().startswith(b"%PDF")
    assert not boxes, "\n".join(str(b) for b in boxes)


def test_no_two_words_of_a_tikz_figure_overlap(compiled):
    reason = missing("pdftotext")
    if reason:
        pytest.skip(reason)
    _, pdf = compiled
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
    pages = xml.split("<page ")[1:]
    assert len(pages) == len(compiled_figures())
    for name, page in zip(compiled_figures(), pages):
        width = float(re.match(r'width="([\d.]+)"', page)[1])
        words = [(tuple(float(v) for v in m[:4]), m[4]) for m in
                 re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)]
        assert words
        for i, (a, wa) in enumerate(words):
            assert MARGIN - 1 <= a[0] and a[2] <= width - MARGIN + 1, f"{name}: {wa!r} outside the text width"
            for b, wb in words[i + 1:]:
                assert not _meets(a, b, 0.3), f"{name}: {wa!r} overlaps {wb!r}"


# -- plots -----------------------------------------------------------------------------------------
PLOTTED = {"seed002_2_2_1": 3, "seed003_chain": 1, "dense_2_3_2_sigmoid": 3, "shared_weight_batch": 1}


@cache
def plots_of(name: str):
    from symbackprop.documents.plots import plots

    d = derivation(name)
    return plots(d, d.trace(PLOTTED[name]), list(d.model.parameters)[:1])


@pytest.mark.parametrize("name", list(PLOTTED))
def test_plot_texts_fit_and_point_labels_are_apart(name):
    pytest.importorskip("matplotlib", reason="plots need matplotlib (the docs extra)")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from symbackprop.documents.printers import figures

    for plot in plots_of(name):
        fig, ax, placed = figures.figure(plot)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        whole = fig.bbox
        ticks = set(ax.get_xticklabels() + ax.get_yticklabels())
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        drawn = [t for t in ax.get_xticklabels() if x0 <= t.get_position()[0] <= x1]  # ticks outside the limits are not drawn
        drawn += [t for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1]
        texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text() and t not in ticks] + drawn
        assert len(drawn) >= 4
        for t in texts:
            box = t.get_window_extent(renderer)
            assert whole.x0 <= box.x0 and box.x1 <= whole.x1 and whole.y0 <= box.y0 and box.y1 <= whole.y1, \
                f"{plot.name}: {t.get_text()!r} is cut off"
        assert len(placed) == sum(bool(label) for label, _, _ in plot.points), f"{plot.name}: a point left without its label"
        boxes = [figures.text_extent(t, renderer) for t in placed]  # the words, not their leader lines
        inside = ax.get_window_extent(renderer)
        for i, a in enumerate(boxes):
            assert inside.x0 <= a.x0 and a.x1 <= inside.x1 and inside.y0 <= a.y0 and a.y1 <= inside.y1
            assert not any(a.overlaps(b) for b in boxes[i + 1:]), f"{plot.name}: {placed[i].get_text()} overlaps another label"
        legend = ax.get_legend()
        if legend is not None:
            assert not any(legend.get_window_extent(renderer).overlaps(b) for b in boxes), f"{plot.name}: a label under the legend"
        ticks = [t.get_text() for t in drawn]
        assert not any("-" in t for t in ticks) and (any("−" in t for t in ticks) or not plot.name.startswith("activation"))
        plt.close(fig)


@pytest.mark.parametrize("name", list(PLOTTED))
def test_plot_labels_are_typeset_and_captioned(name):
    d = derivation(name)
    for plot in plots_of(name):
        assert plot.caption and plot.caption.endswith(".") and "@" not in plot.caption + plot.title
        assert plot.ylabel.startswith("$") and (plot.xlabel.startswith("$") or plot.xlabel == "iteration")
        assert "$" not in plot.title  # the drawing's own words, as any reader of the file finds them
        for label, _, _ in plot.points:
            assert label.startswith("$") and label.endswith("$") and "@" not in label and "_" not in label.replace("_{", "")
    loss, *activations, weight = plots_of(name)
    trace = d.trace(PLOTTED[name])
    for (label, t, _), k in zip(loss.points, range(1, PLOTTED[name] + 2)):
        m = re.fullmatch(r"\$(\\approx )?(-?[\d.]+)\$", label)
        assert t == k and m and agrees("≈" if m[1] else "=", m[2], trace.values[Key("E", None, k)])
    for plot in activations:
        for label, _, _ in plot.points:
            m = re.fullmatch(r"\$z_\{(.+)\} (=|\\approx) (-?[\d.]+)\$", label)
            neuron = next(n.name for n in d.order if notation.latex(notation.of(f"z_{n.name}")) == f"z_{{{m[1]}}}")
            assert agrees("=" if m[2] == "=" else "≈", m[3], trace.values[Key(f"z_{neuron}", 1, 1)])
    p = list(d.model.parameters)[0]
    assert rf"\partial E/\partial {notation.latex(notation.of(p))}" in weight.curves[1][0]
    assert weight.xlabel == f"${notation.latex(notation.of(p))}$"


def test_plots_are_byte_stable():
    pytest.importorskip("matplotlib", reason="plots need matplotlib (the docs extra)")
    from symbackprop.documents.printers import figures

    for plot in plots_of("seed002_2_2_1"):
        for fmt in ("svg", "png", "pdf"):
            assert figures.draw(plot, fmt) == figures.draw(plot, fmt), f"{plot.name}.{fmt}"
