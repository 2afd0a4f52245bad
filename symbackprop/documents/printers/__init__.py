"""One printer per document format; each reads a Walkthrough (notebook.py: a Model or Derivation)
and computes nothing.

    terminal.py        rich text, 100 columns
    terminal_tables.py   its tables (column widths, parts)
    terminal_text.py     its prose, wrapped, shared by the two
    markdown.py        Markdown with $$ display math
    latex_document.py  a standalone LaTeX document (amsmath, the network in TikZ)
    pdf.py             that document compiled by pdflatex
    html.py            one self-contained HTML file, MathML formulas, the network as inline SVG
    html_tables.py       its tables (cells, widths, the CSS that stacks them)
    html_text.py         its prose and formula boxes, shared by the two
    numbering.py       the equation, table and figure numbers and their labels, one numbering for every format
    notebook.py        Jupyter displays of a Model or Derivation (registered with core/display.py)
    figures.py         the plots, drawn by matplotlib (an extra)
    tikz.py, svg.py    the network figure, for LaTeX and for HTML and notebooks
    network_layout.py  where that figure puts nodes and labels, for both
    network_text.py      its label lines and their estimated widths
    network_geometry.py  its boxes, and where segments meet them

Each takes ``(walkthrough, plots_href=None)`` and gives text, or bytes for PDF; ``plots_href``
is where Markdown and LaTeX find the plot files that ``--plots DIR`` writes (the terminal names them).
The terminal's also takes ``color``: ANSI styles, for a terminal (the command asks for them on a TTY).
"""

from . import html, latex_document, markdown, notebook, pdf, terminal


def _terminal(doc, plots_href=None, color=False):
    return terminal.render(doc, plots_href, color)


PRINTERS = {"terminal": _terminal, "md": markdown.render, "tex": latex_document.render, "pdf": pdf.render, "html": html.render}
BINARY = {"pdf"}

__all__ = ["BINARY", "PRINTERS", "notebook"]
