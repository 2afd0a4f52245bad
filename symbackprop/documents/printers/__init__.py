"""One printer per document format; each reads a Walkthrough and computes nothing.

Each takes ``(walkthrough, plots_href=None)`` and gives text, or bytes for PDF; ``plots_href``
is where Markdown and LaTeX find the plot files that ``--plots DIR`` writes.
"""

from . import html, latex, markdown, notebook, pdf, terminal


def _terminal(doc, plots_href=None):
    return terminal.render(doc)


PRINTERS = {"terminal": _terminal, "md": markdown.render, "tex": latex.render, "pdf": pdf.render, "html": html.render}
BINARY = {"pdf"}

__all__ = ["BINARY", "PRINTERS", "notebook"]
