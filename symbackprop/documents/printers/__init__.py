"""One printer per document format; each reads a Walkthrough (notebook.py: a Model or Derivation)
and computes nothing.

    terminal.py        rich text, 100 columns
    markdown.py        Markdown with $$ display math
    latex_document.py  a standalone LaTeX document (amsmath, the network in TikZ)
    pdf.py             that document compiled by pdflatex
    html.py            one self-contained HTML file, MathML formulas, the network as inline SVG
    notebook.py        Jupyter displays of a Model or Derivation (registered with core/display.py)
    figures.py         the plots, drawn by matplotlib (an extra)
    tikz.py, svg.py    the network figure, for LaTeX and for HTML and notebooks

Each takes ``(walkthrough, plots_href=None)`` and gives text, or bytes for PDF; ``plots_href``
is where Markdown and LaTeX find the plot files that ``--plots DIR`` writes.
"""

from . import html, latex_document, markdown, notebook, pdf, terminal


def _terminal(doc, plots_href=None):
    return terminal.render(doc)


PRINTERS = {"terminal": _terminal, "md": markdown.render, "tex": latex_document.render, "pdf": pdf.render, "html": html.render}
BINARY = {"pdf"}

__all__ = ["BINARY", "PRINTERS", "notebook"]
