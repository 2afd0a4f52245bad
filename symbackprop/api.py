"""The Python API: load or build a Model, derive it, trace it, print it."""

from __future__ import annotations

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
             only: Sequence[str] | None = None) -> str:
    """The walkthrough of a derivation in one format."""
    trace = d.trace(iterations)
    return PRINTERS[fmt](build(d, trace, only))


def verify(path) -> FileReport:
    """Every claim of one derivation file checked: a report with per-claim status and diagnosis."""
    return _verify_file(path)


__all__ = ["FORMATS", "dense", "derive", "document", "load", "verify"]
