"""The Python API: load or build a Model, derive it, trace it, print it."""

from __future__ import annotations

import os
from collections.abc import Sequence

from .dense import dense
from .derive import Derivation, derive
from .fileformat import load
from .printers import PRINTERS
from .verification import FileReport
from .verification import verify as _verify_file
from .walkthrough import build

FORMATS = PRINTERS


def document(d: Derivation, fmt: str = "terminal", iterations: int | None = None,
             only: Sequence[str] | None = None, plots: str | os.PathLike | None = None,
             plots_href: str | None = None) -> str | bytes:
    """The walkthrough of a derivation in one format (bytes for ``pdf``).

    With ``plots`` a directory, the plots are written there (PNG and SVG) and embedded: inline in
    HTML and PDF, as links to ``plots_href`` (default: the directory as given) in Markdown and LaTeX.
    """
    trace = d.trace(iterations)
    doc = build(d, trace, only, plots=plots is not None)
    if plots is not None:
        from .printers.figures import write_all

        write_all(doc.plots, plots)
        plots_href = str(plots) if plots_href is None else plots_href
    return PRINTERS[fmt](doc, plots_href)


def verify(path) -> FileReport:
    """Every claim of one derivation file checked: a report with per-claim status and diagnosis."""
    return _verify_file(path)


__all__ = ["FORMATS", "dense", "derive", "document", "load", "verify"]
