"""Plots drawn with matplotlib (an extra: ``pip install symbackprop[docs]``), byte-stable for one version."""

from __future__ import annotations

import io
from pathlib import Path

from ...core.atomic import write_atomic
from ...core.errors import InputError
from ..nodes import Plot

METADATA = {"svg": {"Date": None, "Creator": None}, "png": {"Software": None},
            "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}}


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise InputError("matplotlib not found; expected it for plots (pip install 'symbackprop[docs]')") from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "symbackprop"
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as plt

    return plt


def draw(plot: Plot, fmt: str) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, xs, ys in plot.curves:
        ax.plot(xs, ys, label=label, linestyle="--" if label == "tangent" else "-",
                marker="o" if plot.name == "loss" else None)
    for i, (label, x, y) in enumerate(plot.points):
        ax.plot([x], [y], "o", color="crimson")
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(8, 6 - 12 * i), fontsize=8)
    if plot.name == "loss":
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(plot.title, fontsize=10)
    ax.set_xlabel(plot.xlabel)
    ax.set_ylabel(plot.ylabel)
    ax.grid(alpha=0.3)
    if len(plot.curves) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format=fmt, metadata=METADATA[fmt], dpi=110)
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
