"""The verification report as text (the terminal), Markdown (a review to hand on) and JSON (tools)."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable

import sympy as sp

from ..core.decimals import decimal
from ..core.values import CONTROL
from .status import Status
from .verifier import FileReport, Result

SHOWN = 200  # characters of a formula a report line shows: a 1 MB formula is named, not reprinted


def _shown(formula: str) -> str:
    """A formula as a report line shows it: its control characters written out (the reader reports
    them as unparseable; a terminal must not run them), a long one cut."""
    formula = CONTROL.sub(lambda m: f"\\u{ord(m[0]):04x}", formula)
    return formula if len(formula) <= SHOWN else f"{formula[:SHOWN - 40]} ... ({len(formula):,} characters)"


ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
# the ASCII punctuation that opens inline Markdown (escapes, code spans, emphasis, links and images,
# strikethrough, math, attribute lists, a heading's closing #s) or takes part in an autolink ("www.",
# "evil.com", "https:"). Parentheses open nothing once [ ] and ! are escaped (a link needs "](");
# no block construct can start, as file text never begins a line; "|" is the table's: _row escapes it.
MARKDOWN = re.compile(r"([\\`*_\[\]{}!~$:.#])")
LINE_BREAKS = re.compile(r"[ \t]*\n\s*")


def _inert(text: str) -> str:
    """File text (a title, source, quote, note, reason, name, formula) as a Markdown report shows it: as
    it is, never read as markup. One rule for all of it: a newline becomes a space (a table cell is one
    line), < > & " become HTML entities, each Markdown punctuation character is backslash-escaped, and
    an @ is preceded by a word joiner (U+2060), since GFM links a bare e-mail address whatever escapes
    it holds."""
    text = MARKDOWN.sub(r"\\\1", LINE_BREAKS.sub(" ", text))
    return re.sub(r'[&<>"@]', lambda m: "&#8288;@" if m[0] == "@" else ENTITIES[m[0]], text)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _claim_text(r: Result) -> str:
    """A claim as the walkthrough writes it: ``b = 0.9982, iteration 2`` for ``a_b@2``."""
    c = r.claim
    if c.formula:
        return f"formula {_shown(c.formula)}"
    return f"{r.symbol or c.quantity} = {c.stated}" + (f", {r.at}" if r.at else "")


def _as_written(r: Result) -> str:
    """The claim's quantity as its file writes it, where the report's symbol differs from it."""
    c = r.claim
    return "" if c.formula or not r.symbol or (r.symbol, r.at) == (c.quantity, "") else c.quantity


def _exact(r: Result) -> str:
    if r.exact is None:
        return ""
    text = decimal(r.exact)
    if r.exact.is_Rational and sp.Rational(text) != r.exact:
        text = f"{text} (= {r.exact})"
    if r.certain is not None:  # a long run's value
        text += f" ({r.certain} digit{'s' if r.certain != 1 else ''} certain)"
    return text


def _closeness(r: Result) -> str:
    """The same in words: "2 significant digits agree, relative difference 1.9%"; empty where there is none."""
    near = r.near
    return "" if near is None else near.text()


def _status_text(status: Status) -> str:
    """The terminal shouts only a mismatch (a conditional formula's first line says where it holds)."""
    return status.upper() if status is Status.MISMATCH else status.value


def _status_cell(status: Status) -> str:
    """Markdown bolds a mismatch and sets a conditional formula in italics: both stand out of a table of holds."""
    return f"**{status}**" if status is Status.MISMATCH else f"*{status}*" if status is Status.CONDITIONAL else status.value


def _where(r: Result, quote: Callable[[str], str] = str, marks: tuple[str, str] = ('"', '"')) -> str:
    """The claim's source, and its quote where the file gives one (quote is optional)."""
    c = r.claim
    return f"{quote(c.source)}: {marks[0]}{quote(c.quote)}{marks[1]}" if c.quote else quote(c.source)


def _unexplained(r: Result) -> bool:
    """A mismatch that no alternative convention reproduces, after some were tried."""
    return r.status is Status.MISMATCH and bool(r.tried) and not r.explained


def text(reports: list[FileReport]) -> str:
    out = []
    for rep in reports:
        out.append(f"{rep.path}: {rep.title}")
        for r in rep.results:
            c = r.claim
            tag = f" [{r.reading}]" if r.reading else ""
            written = f"{_as_written(r)}; " if _as_written(r) else ""
            out.append(f"  {_status_text(r.status):<12} {_claim_text(r)}{tag}    ({written}{_where(r)})")
            if r.exact is not None and r.status is not Status.HOLDS and not c.formula:
                near = _closeness(r)
                out.append(f"               exact {_exact(r)}, difference {decimal(r.difference)}" + (f"; {near}" if near else ""))
            if r.status is Status.UNVERIFIABLE:
                out.append(f"               reason: {c.reason}")
            if r.local:
                out.append(f"               local: {r.local}")
            for line in r.diagnosis:
                out.append(f"               diagnosis: {line}")
            if _unexplained(r):
                out.append(textwrap.fill(f"no convention reproduces it; tried: {'; '.join(r.tried)}", width=100,
                                         initial_indent=" " * 15, subsequent_indent=" " * 17,
                                         break_long_words=False, break_on_hyphens=False))
        for reading in rep.readings or [None]:
            counts = rep.counts(reading)
            label = f" [{reading}]" if reading else ""
            out.append(f"  summary{label}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
        out.append("")
    return "\n".join(out)


def markdown(reports: list[FileReport]) -> str:
    """The report as Markdown tables. Everything that comes from a file (or from a command line: the
    path) goes through _inert; the stated value is a number checked at load, the rest is symbackprop's."""
    out = ["# Verification report", ""]
    for rep in reports:
        out += [f"## {_inert(rep.path)}: {_inert(rep.title)}", "",
                "| quantity | stated | status | exact | source | notes |", "| --- | --- | --- | --- | --- | --- |"]
        for r in rep.results:
            c = r.claim
            notes = [f"reading: {r.reading}"] if r.reading else []
            notes += [f"reason: {c.reason}"] if r.status is Status.UNVERIFIABLE else []
            notes += [f"difference {decimal(r.difference)}; {near}"] if (near := _closeness(r)) else []
            notes += [f"local: {r.local}"] if r.local else []
            notes += [f"diagnosis: {d}" for d in r.diagnosis]
            if _unexplained(r):
                notes.append("no convention reproduces it; tried: " + "; ".join(r.tried))
            name = f"formula {_shown(c.formula)}" if c.formula else (r.symbol or c.quantity) + (f", {r.at}" if r.at else "")
            name += f" ({_as_written(r)})" if _as_written(r) else ""
            cells = [_inert(name), _inert(c.stated), _status_cell(r.status), _exact(r), _where(r, _inert, ("“", "”")),
                     "<br>".join(map(_inert, notes))]
            out.append(_row(cells))
        out.append("")
        for reading in rep.readings or [None]:
            label = f" ({_inert(reading)} reading)" if reading else ""
            out.append(f"Summary{label}: " + ", ".join(f"{n} {s}" for s, n in rep.counts(reading).items()) + ".")
            out.append("")
    return "\n".join(out)


def to_json(reports: list[FileReport]) -> str:
    data = [{"file": rep.path, "title": rep.title, "readings": rep.readings,
             "summary": {reading or "": rep.counts(reading) for reading in (rep.readings or [None])},
             "claims": [r.as_dict() for r in rep.results]} for rep in reports]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
