"""The Python API, the one façade: load or build a Model, derive it, print it, verify, compile,
check, run it data-parallel, bench it. The command line calls only this."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from .bench import big_nets
from .bench import derive as derive_bench
from .bench import explore as explore_bench
from .bench import gradients as gradient_bench
from .bench import optimizer as optimizer_bench
from .bench import parallel as parallel_bench
from .bench import trace as trace_bench
from .compiler import check as compiled_check
from .compiler.compiled import Compiled, compile
from .compiler.generator import source
from .core.atomic import write_atomic
from .core.dense import dense
from .core.derivation import Derivation, derive
from .core.derivation_file import load
from .core.errors import InputError, printable
from .core.limits import check_document
from .core.long_run import DIGITS
from .core.model import Model
from .core.trace import check_digits
from .documents.builder import build
from .documents.interactive import page as interactive_page
from .documents.nodes import Walkthrough
from .documents.printers import BINARY, PRINTERS
from .documents.printers.figures import write_all
from .importers import program as torch_program
from .importers.torch_module import from_torch
from .parallel import walkthrough as parallel_story
from .parallel.checked_run import CheckedRun, checked_run
from .parallel.distributed import RunFailed
from .reference import torch_model
from .verifier import reports, text_numbers
from .verifier import scan as text_scan
from .verifier.identity import IdentityReport, identity_report
from .verifier.scan import ScanReport
from .verifier.verifier import FileReport
from .verifier.verifier import verify as _verify_file

FORMATS = PRINTERS
REPORTS: dict[str, Callable[[list[FileReport]], str]] = {"text": reports.text, "md": reports.markdown, "json": reports.to_json}


def document(d: Derivation, fmt: str = "terminal", iterations: int | None = None,
             only: Sequence[str] | None = None, plots: str | os.PathLike | None = None,
             plots_href: str | None = None, progress: Callable[[int, int], None] | None = None,
             color: bool = False, show: str | None = None, digits: int = DIGITS,
             input_gradients: bool = False) -> str | bytes:
    """The walkthrough of a derivation in one format (bytes for ``pdf``).

    With ``plots`` a directory, the plots are written there (PNG and SVG) and embedded: inline in
    HTML and PDF, as links to ``plots_href`` (default: the directory as given) in Markdown and LaTeX.
    ``progress(t, total)`` hears of each traced iteration. ``color``: ANSI styles in the terminal format
    (for a terminal; the other formats have none). ``show``: the iterations written out step by step
    ("1,2,last", "1-3", "all"; default: all of a short run, the first and last of a long one, with a
    table of the loss between); ``digits``: the precision of a long run's values; ``input_gradients``: each
    backward pass also gives ∂E/∂x of every input.
    """
    doc = walkthrough(d, iterations, only, plots is not None, progress, show, digits, input_gradients)
    if plots is not None:
        write_all(doc.plots, plots)
        plots_href = str(plots) if plots_href is None else plots_href
    return render(doc, fmt, plots_href, color)


def walkthrough(d: Derivation, iterations: int | None = None, only: Sequence[str] | None = None, plots: bool = False,
                progress: Callable[[int, int], None] | None = None, show: str | None = None,
                digits: int = DIGITS, input_gradients: bool = False) -> Walkthrough:
    """The document nodes of a derivation, traced once, for ``render`` to print in any number of formats."""
    d.model.check_unambiguous("a document")
    check_document(d.model)
    return build(d, d.trace(iterations, progress, digits), only, plots=plots, show=show, inputs=input_gradients)


def explore(d: Derivation, iterations: int | None = None, only: Sequence[str] | None = None,
            progress: Callable[[int, int], None] | None = None, show: str | None = None, digits: int = DIGITS,
            input_gradients: bool = False) -> str:
    """The interactive page (one self-contained HTML file): the HTML walkthrough with a control for every input,
    target, starting parameter and the learning rate, every number recomputed in the browser in float64 from
    JavaScript printed from the derivation's own schedule; before any control moves, the exact values."""
    d.model.check_unambiguous("a document")
    check_document(d.model)
    trace = d.trace(iterations, progress, digits)
    return interactive_page(d, trace, only, show=show, inputs=input_gradients)


def parallel_walkthrough(model: Model, workers: int, shards: Sequence[int] | None = None,
                         only: Sequence[str] | None = None) -> Walkthrough:
    """The data-parallel story (each worker's gradient, the average, the identities) as document nodes."""
    model.check_parameters(only)
    model.check_unambiguous("a document")
    check_document(model)
    return parallel_story.build(model, workers, shards, only)


def render(doc: Walkthrough, fmt: str = "terminal", plots_href: str | None = None, color: bool = False) -> str | bytes:
    """Document nodes printed in one format (bytes for ``pdf``); ``color``: ANSI styles in the terminal format."""
    if fmt == "terminal":
        return PRINTERS[fmt](doc, plots_href, color=color)
    return PRINTERS[fmt](doc, plots_href)


def parallel_document(model: Model, workers: int, shards: Sequence[int] | None = None,
                      only: Sequence[str] | None = None, fmt: str = "terminal") -> str | bytes:
    """The data-parallel walkthrough in one format."""
    return render(parallel_walkthrough(model, workers, shards, only), fmt)


def verify(path, progress: Callable[[int, int], None] | None = None, digits: int = DIGITS) -> FileReport:
    """Every claim of one derivation file checked: a report with per-claim status and diagnosis.
    ``progress(done, total)`` hears of each traced iteration, then of each claim; ``digits``: the
    precision of a long run's values."""
    check_digits(digits)  # an option, named as one: before the file is read
    return _verify_file(path, progress, digits)


def report(file_reports: list[FileReport], fmt: str = "text") -> str:
    """Verification reports as ``text``, ``md`` or ``json``."""
    return REPORTS[fmt](file_reports)


def scan(text: str | os.PathLike, model: str | os.PathLike, lines: tuple[int, int] | None = None) -> ScanReport:
    """Every number of a text (plain, Markdown or LaTeX) matched against every quantity of the derivation
    file's exact trace and its alternative conventions; ``lines``: only the numbers on lines first..last."""
    found = text_numbers.numbers(text_numbers.read_text(text), str(text))
    if lines is not None:
        found = [n for n in found if lines[0] <= n.line <= lines[1]]
    loaded = load(model)
    try:
        return text_scan.scan(found, loaded, str(text), str(model))
    except InputError as e:  # what needs the trace (its cost, a name it derives) is the derivation file's
        raise e.located(str(model)) from None


def scan_report(report: ScanReport, fmt: str = "text") -> str:
    """A scan report as ``text`` or ``json``."""
    return text_scan.to_json(report) if fmt == "json" else text_scan.text(report)


def write_claims(report: ScanReport, output: str | os.PathLike | None = None) -> tuple[int, int]:
    """The scan's proposed claims written atomically: to ``output`` (a file of claims alone) or, without one,
    appended to the derivation file itself; a claim the file already has is never repeated.
    (claims written, repeats left out)."""
    return text_scan.write(report, None if output is None else str(output))


def identity(d: Derivation, only: Sequence[str] | None = None) -> IdentityReport:
    """Each shown gradient proven equal to sympy.diff of the flattened loss."""
    return identity_report(d, only)


def module_source(d: Derivation, numba: bool = False, workers: int = 1, input_gradients: bool = False) -> str:
    """The standalone module's text (what ``symbackprop compile`` writes); ``input_gradients``: with
    ``input_gradients(params, X, Y)``, d(batch loss)/dX."""
    return source(d, numba=numba, workers=workers, input_gradients=input_gradients)


def check(d: Derivation, against: str = "all", progress=None) -> compiled_check.Report:
    """The compiled gradients against the NumPy runtime, PyTorch and finite differences."""
    return compiled_check.check(d, against=against, progress=progress)


# bench section -> (its table, given quick; the table as text); gradients' default run ends with big's table
BENCHES: dict[str, tuple[Callable[[bool], dict], Callable[[dict], str]]] = {
    "gradients": (lambda quick: gradient_bench.bench(quick=quick), gradient_bench.render),
    "big": (lambda quick: big_nets.bench_big(), big_nets.render_big),
    "parallel": (lambda quick: parallel_bench.bench_parallel(quick=quick), parallel_bench.render_parallel),
    "optimizer": (lambda quick: optimizer_bench.bench_optimizer(quick=quick), optimizer_bench.render_optimizer),
    "derive": (lambda quick: derive_bench.bench_derive(), derive_bench.render_derive),
    "trace": (lambda quick: trace_bench.bench_trace(quick=quick), trace_bench.render_trace),
    "explore": (lambda quick: explore_bench.bench_explore(quick=quick), explore_bench.render_explore),  # no browser: one line
}


def bench(section: str = "gradients", quick: bool = False) -> tuple[dict, str]:
    """(the table as data, as text) for a section of BENCHES; ``big`` is the end of the default ``gradients``
    table alone (dense 784-64-10, 784-128-64-10)."""
    if section not in BENCHES:
        raise InputError(f"unknown bench section {section!r}; expected {', '.join(BENCHES)}", key="section")
    if section == "parallel":
        torch_model.require("section")
    measure, render_table = BENCHES[section]
    table = measure(quick)
    return table, render_table(table)


def from_torch_program(spec: str) -> tuple[Model, str | None]:
    """(the Model, the program's file) of ``package.module:function`` (imported as uvicorn does, the current
    directory first): the function returns (module, inputs, targets, loss[, optimizer]) or a dict of them (and
    optionally scheduler, title, source, notes, iterations), read by ``from_torch``."""
    torch_model.require("from-torch")
    program = torch_program.load(spec)
    objects = program.objects
    try:
        model = from_torch(objects["module"], objects["inputs"], objects["targets"], objects["loss"],
                           objects.get("optimizer"), objects.get("scheduler"), title=objects.get("title"), source=objects.get("source", ""),
                           notes=objects.get("notes", ""), iterations=objects.get("iterations", 1))
    except InputError as e:
        raise e.located(spec) from None
    return model, program.path


def write_model(model: Model, path: str | os.PathLike) -> None:
    """A Model as its derivation file (core/toml_writer.py), written atomically."""
    write_atomic(path, model.to_toml())


__all__ = ["BINARY", "DIGITS", "FORMATS", "CheckedRun", "Compiled", "FileReport", "IdentityReport", "InputError", "RunFailed",
           "bench", "check", "checked_run", "compile", "dense", "derive", "document", "from_torch", "from_torch_program",
           "identity", "load", "module_source",
           "parallel_document", "parallel_walkthrough", "printable", "render", "report", "scan", "scan_report", "ScanReport",
           "verify", "write_atomic", "write_claims", "write_model"]
