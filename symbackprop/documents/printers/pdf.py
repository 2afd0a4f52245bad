r"""The LaTeX document compiled to PDF by a real engine: latexmk if installed, else pdflatex until its
cross-references settle (the contents, the equation and figure numbers \eqref and \ref cite, longtable's
column widths), at most RUNS times."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ...core.errors import InputError
from ..nodes import Walkthrough
from . import latex_document
from .figures import write_all

TIMEOUT = 300
RUNS = 4  # pdflatex runs at most: the contents shift pages, then labels, then longtable's widths
RERUN = ("Rerun to get", "Label(s) may have changed", "Table widths have changed")


def engine() -> list[str]:
    """The compile command, or an InputError naming the program that is missing."""
    if shutil.which("pdflatex") is None:
        raise InputError("pdflatex not found; expected a LaTeX engine on PATH for --format pdf"
                         " (Debian: apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures)")
    if shutil.which("latexmk"):
        return ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet"]
    return []


def render(doc: Walkthrough, plots_href: str | None = None) -> bytes:
    command = engine()
    with tempfile.TemporaryDirectory(prefix="symbackprop-pdf-") as tmp:
        work = Path(tmp)
        if doc.plots:
            write_all(doc.plots, work / "plots", formats=("pdf",))
        (work / "doc.tex").write_text(latex_document.render(doc, "plots" if doc.plots else None, plot_ext="pdf"), encoding="utf-8")
        env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
        runs = [command + ["doc.tex"]] if command else [["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]] * RUNS
        for run in runs:
            try:
                result = subprocess.run(run, cwd=work, capture_output=True, text=True, env=env, timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                raise InputError(f"{run[0]} took longer than {TIMEOUT} s") from None
            log = (work / "doc.log").read_text(errors="replace") if (work / "doc.log").exists() else result.stdout
            if result.returncode != 0:
                first = next((line for line in log.splitlines() if line.startswith("!")), "see its log")
                raise InputError(f"{run[0]} failed: {first}")
            if not any(message in log for message in RERUN):
                break
        return (work / "doc.pdf").read_bytes()
