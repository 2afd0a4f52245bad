"""One printer per output format; each reads a Walkthrough and computes nothing.

Each takes ``(walkthrough, plots_href=None)`` and gives text, or bytes for PDF; ``plots_href``
is where Markdown and LaTeX find the plot files that ``--plots DIR`` writes.
"""

from . import html, markdown, pdf, tex
from .terminal import render as render_terminal


def _terminal(doc, plots_href=None):
    return render_terminal(doc)


PRINTERS = {"terminal": _terminal, "md": markdown.render, "tex": tex.render, "pdf": pdf.render, "html": html.render}
BINARY = {"pdf"}

__all__ = ["BINARY", "PRINTERS", "render_terminal"]
