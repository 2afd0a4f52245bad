"""One printer per document format; each reads a Walkthrough and computes nothing.

    terminal.py  rich text, 100 columns        markdown.py  Markdown with $$ display math
    latex.py     a standalone LaTeX document   pdf.py       that document through pdflatex
    html.py      one self-contained HTML file, MathML formulas, the network as inline SVG
    notebook.py  Jupyter displays of a Model or Derivation (registered with core/display.py)
    figures.py   the plots, drawn by matplotlib (an extra)

Each takes ``(walkthrough, plots_href=None)`` and gives text, or bytes for PDF; ``plots_href``
is where Markdown and LaTeX find the plot files that ``--plots DIR`` writes.
"""

from . import html, latex, markdown, notebook, pdf, terminal


def _terminal(doc, plots_href=None):
    return terminal.render(doc)


PRINTERS = {"terminal": _terminal, "md": markdown.render, "tex": latex.render, "pdf": pdf.render, "html": html.render}
BINARY = {"pdf"}

__all__ = ["BINARY", "PRINTERS", "notebook"]
