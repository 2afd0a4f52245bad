"""Plots drawn with matplotlib (an extra: ``pip install symbackprop[docs]``), byte-stable for one version.

Labels are matplotlib mathtext as plots.py writes them (``$w_{a1}$``, ``$\\approx 0.01921$``), tick
labels with a Unicode minus. A point's label is put where it was measured to fit: after a first
draw, each label tries the spots around its point in turn and takes the first whose extent lies
inside the axes, off the curves and clear of the legend, of every marker and of the labels placed
before it; a label set farther out has a thin leader line to its point (one that finds no spot at all
is left out rather than drawn over another, and the caption says which points carry labels). The legend is fixed
where matplotlib first put it, so that it does not move onto the labels when the figure is saved.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ...core.atomic import write_atomic
from ...core.errors import InputError
from ..nodes import Plot

METADATA = {"svg": {"Date": None, "Creator": None}, "png": {"Software": None},
            "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}}
DPI = 110
SIZE = (6.0, 3.6)  # inches
ROOMS = ((0.15, 3.6), (0.3, 3.6), (0.3, 4.8), (0.45, 6.0))  # (margin around the curves, height in inches), tried in turn
LABEL_SIZE = 8  # pt
CLEAR = 2.0  # px kept between a label and anything else
MARKER = 4.0  # px: half a marker's width
# (dx, dy) in points from the point, and the label's alignment there: beside, above or below, then farther out
SPOTS = tuple((k * dx, k * dy, ha, va) for k in range(1, 9) for dx, dy, ha, va in (
    (7, 5, "left", "bottom"), (7, -5, "left", "top"), (-7, 5, "right", "bottom"), (-7, -5, "right", "top"),
    (0, 9, "center", "bottom"), (0, -9, "center", "top"), (10, 0, "left", "center_baseline"),
    (-10, 0, "right", "center_baseline"), (3, 9, "left", "bottom"), (-3, 9, "right", "bottom"),
    (3, -9, "left", "top"), (-3, -9, "right", "top")))


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise InputError("matplotlib not found; expected it for plots (pip install 'symbackprop[docs]')") from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "symbackprop"
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["axes.unicode_minus"] = True
    import matplotlib.pyplot as plt

    return plt


def figure(plot: Plot):
    """The plot drawn on a new matplotlib figure, its point labels placed: (figure, axes, the labels placed).
    Where some label finds no room, the plot is drawn again with more room around its curves (ROOMS)."""
    plt = _pyplot()
    wanted = sum(bool(label) for label, _, _ in plot.points)
    for k, (margin, height) in enumerate(ROOMS):
        fig, ax, legend, renderer = _drawn(plt, plot, margin, height)
        placed = _label_points(fig, ax, plot, legend, renderer)
        if len(placed) == wanted or k == len(ROOMS) - 1:
            return fig, ax, placed
        plt.close(fig)


def _drawn(plt, plot: Plot, margin: float, height: float):
    fig, ax = plt.subplots(figsize=(SIZE[0], height), dpi=DPI)
    for label, xs, ys in plot.curves:
        ax.plot(xs, ys, label=label, linestyle="--" if label.startswith("tangent") else "-",
                marker="o" if plot.name == "loss" else None)
    marked = [(x, y) for label, x, y in plot.points if label]  # the points whose labels follow (the rest: the curve's own markers)
    if marked:
        ax.plot([x for x, _ in marked], [y for _, y in marked], "o", color="crimson", zorder=3)
    if plot.name == "loss":
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(plot.title, fontsize=10)
    ax.set_xlabel(plot.xlabel)
    ax.set_ylabel(plot.ylabel)
    ax.grid(alpha=0.3)
    ax.margins(x=0.1, y=margin)  # room inside the axes for the labels of points near the edges
    legend = ax.legend(fontsize=8) if len(plot.curves) > 1 else None
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    if legend is not None:  # fixed where "best" first put it
        corner = ax.transAxes.inverted().transform(legend.get_window_extent(renderer).p0)
        legend = ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=tuple(corner), borderaxespad=0)
    return fig, ax, legend, renderer


def text_extent(text, renderer):
    """A label's own box, without its leader line (an Annotation's extent covers both)."""
    from matplotlib.text import Text

    text.update_positions(renderer)  # where the offset puts it, as drawing does
    return Text.get_window_extent(text, renderer)


def _label_points(fig, ax, plot: Plot, legend, renderer) -> list:
    """The labels placed, in whichever order (left to right, or right to left) places more of them."""
    best = None
    for order in (plot.points, plot.points[::-1]):
        placed = _place_in_order(ax, plot, order, legend, renderer)
        if best is not None and len(placed) <= len(best):
            for text in placed:
                text.remove()
            continue
        if best is not None:
            for text in best:
                text.remove()
        best = placed
        if len(best) == sum(bool(label) for label, _, _ in plot.points):
            break
    return sorted(best, key=lambda t: [p[0] for p in plot.points].index(t.get_text()))


def _place_in_order(ax, plot: Plot, order, legend, renderer) -> list:
    from matplotlib.transforms import Bbox

    inside = ax.get_window_extent(renderer)
    inside = Bbox.from_extents(inside.x0 + CLEAR, inside.y0 + CLEAR, inside.x1 - CLEAR, inside.y1 - CLEAR)
    obstacles = [legend.get_window_extent(renderer)] if legend is not None else []
    for _, x, y in plot.points:
        px, py = ax.transData.transform((x, y))
        obstacles.append(Bbox.from_extents(px - MARKER, py - MARKER, px + MARKER, py + MARKER))
    lines = [ax.transData.transform(list(zip(xs, ys))) for _, xs, ys in plot.curves]
    placed, boxes = [], []
    for label, x, y in order:
        if not label:  # a point the plot marks without a value
            continue
        px, py = ax.transData.transform((x, y))
        for dx, dy, ha, va in SPOTS:
            far = abs(dx) > 10 or abs(dy) > 10  # away from its point: a thin leader line says whose it is
            text = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, fontsize=LABEL_SIZE,
                               arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.55", "shrinkA": 1, "shrinkB": 4} if far else None)
            box = text_extent(text, renderer)
            clear = Bbox.from_extents(box.x0 - CLEAR, box.y0 - CLEAR, box.x1 + CLEAR, box.y1 + CLEAR)
            leader = np.array([[px, py], [(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2]])
            if (inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
                    and not any(clear.overlaps(t) for t in obstacles + boxes) and not any(_crosses(line, clear) for line in lines)
                    and not (far and any(_crosses(leader, b) for b in boxes))):
                boxes.append(box)
                placed.append(text)
                break
            text.remove()
    return placed


def _crosses(line, box) -> bool:
    """Whether a polyline (display coordinates) enters the box: a vertex inside it, or a segment across it."""
    xs, ys = line[:, 0], line[:, 1]
    if np.any((xs >= box.x0) & (xs <= box.x1) & (ys >= box.y0) & (ys <= box.y1)):
        return True
    for (x1, y1), (x2, y2) in zip(line[:-1], line[1:]):  # a segment longer than the box, passing through it
        if max(x1, x2) < box.x0 or min(x1, x2) > box.x1 or max(y1, y2) < box.y0 or min(y1, y2) > box.y1:
            continue
        corners = [(x2 - x1) * (cy - y1) - (y2 - y1) * (cx - x1) for cx in (box.x0, box.x1) for cy in (box.y0, box.y1)]
        if min(corners) <= 0 <= max(corners):
            return True
    return False


def draw(plot: Plot, fmt: str) -> bytes:
    plt = _pyplot()
    fig, _, _ = figure(plot)
    out = io.BytesIO()
    fig.savefig(out, format=fmt, metadata=METADATA[fmt], dpi=DPI)
    plt.close(fig)
    return out.getvalue()


def svg(plot: Plot) -> str:
    """The plot as an inline <svg> element (no XML prolog), for HTML."""
    text = draw(plot, "svg").decode("utf-8")
    return text[text.index("<svg"):]


def write_all(plots, directory: str | Path, formats=("png", "svg")) -> list[Path]:
    """Each plot as DIR/NAME.FORMAT, written atomically."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the plot directory ({e.strerror})", file=str(directory)) from None
    written = []
    for plot in plots:
        for fmt in formats:
            path = directory / f"{plot.name}.{fmt}"
            write_atomic(path, draw(plot, fmt))
            written.append(path)
    return written
