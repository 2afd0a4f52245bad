"""The terminal's prose, in a module of its own so that the document (terminal.py) and its tables (terminal_tables.py) share it.

Text as the formulas write it (minus signs, arrows), wrapped at 100 columns where a line may break
(never beside a relation sign), and the styles that mark numbers, shared by steps and tables.
"""

from __future__ import annotations

import bisect
import itertools
import re

from rich.cells import cell_len
from rich.text import Text

WIDTH = 100
CONTINUATION = "    "  # a wrapped prose line's continuation

STYLE = {  # subtle, and legible on dark and light backgrounds alike (blue and yellow are not); plain output has none
    "title": "bold", "section": "bold underline", "relation": "bold", "approx": "bold magenta", "assign": "bold green",
    "number": "cyan", "note": "dim", "tag": "dim", "caption": "italic", "label": "bold", "head": "bold",
}
NUMBER = re.compile(r"(?<![\w.{,^/])−?\d+(?:\.\d+)?(?:e[−+]?\d+)?(?![\w.])")  # a number, not a subscript's digits

PROSE = [(re.compile(r"<-"), "←"), (re.compile(r"->"), "→"),
         (re.compile(r"(?<![\w.])-(?=\.?\d)|(?<=\d[eE])-(?=\d)|(?<=\s)-(?=\s)"), "−")]
RELATION_WORDS = {"=", "≈", "←", "→", "≠", "<", ">", "≤", "≥", ":="}
REFERENCE_WORDS = {"Table", "Figure", "Tables", "Figures", "table", "figure", "equation", "Equation",
                   "(Plot:"}  # kept with their number or file


SENTENCE_END = re.compile(r"[.:;!?][\"')\]]*\Z")


def reflow(text: str) -> str:
    """A text hard-wrapped in its file (a derivation's notes) as its sentences: a line break after a
    sentence's end is kept, one inside a sentence becomes a space, so that wrapping does not leave a word alone on a line."""
    lines = text.split("\n")
    out = lines[:1]
    for line in lines[1:]:
        if out[-1].strip() and line.strip() and not SENTENCE_END.search(out[-1].rstrip()):
            out[-1] = out[-1].rstrip() + " " + line.lstrip()
        else:
            out.append(line)
    return "\n".join(out)


def prose(text: str) -> str:
    """File and builder text as the formulas write it: a minus sign (U+2212) in numbers and between
    spaces, arrows as arrows; hyphenated words and file names left alone."""
    for pattern, replacement in PROSE:
        text = pattern.sub(replacement, text)
    return text.replace("\t", " ")  # a tab would stand as wide as the terminal likes


# -- prose, wrapped --------------------------------------------------------------------------------
def prose_breaks(text: str) -> list[tuple[int, int]]:
    """The runs of spaces a line may break at (start, end): not beside a relation sign, so that
    ``W54 = 1.0`` stays whole and a list of pairs breaks between them; not inside "Table 1", nor before "…"."""
    pieces = re.split(r"( +)", text)  # word, spaces, word, ...
    out, at = [], 0
    for i, piece in enumerate(pieces):
        if i % 2:
            before, after = pieces[i - 1], pieces[i + 1] if i + 1 < len(pieces) else ""
            if before not in RELATION_WORDS | REFERENCE_WORDS and after not in RELATION_WORDS | {"…"}:
                out.append((at, at + len(piece)))
        at += len(piece)
    return out


def list_breaks(text: str) -> list[tuple[int, int]]:
    """The spaces after the commas of a list (``w_{1,1,1}, w_{1,1,2}, …``), outside any bracket."""
    out, depth = [], 0
    for i, ch in enumerate(text):
        depth += (ch in "([{") - (ch in ")]}")
        if ch == " " and depth == 0 and text[i - 1:i] == ",":
            out.append((i, i + 1))
    return out


def wrap(text: str, width: int = WIDTH, first: str = "", rest: str = CONTINUATION, breaks=prose_breaks) -> list[str]:
    """``text`` in lines no wider than ``width`` terminal cells (a wide character counts two): ``first``
    before the first, ``rest`` before the others (a line break in ``text`` starts a continuation line
    too); breaks only where ``breaks`` allows. A piece with no allowed break in reach (longer than a
    line) is cut at ``width``, as rich folds."""
    if "\n" in text:
        head, *tail = text.split("\n")
        return wrap(head, width, first, rest, breaks) + [line for t in tail for line in wrap(t, width, rest, rest, breaks)]
    cells = list(itertools.accumulate((cell_len(ch) for ch in text), initial=0))  # cells[i]: the width of text[:i]
    breaks = breaks(text)
    starts = [a for a, _ in breaks]
    lines, at, prefix = [], 0, first
    while cell_len(prefix) + cells[-1] - cells[at] > width:
        room = max(1, width - cell_len(prefix))
        limit = max(at + 1, bisect.bisect_right(cells, cells[at] + room) - 1)  # the most that fits from ``at``
        i = bisect.bisect_right(starts, limit) - 1
        if i >= 0 and starts[i] > at:
            a, b = breaks[i]
        else:
            a = b = limit
        lines.append(prefix + text[at:a].rstrip())
        at, prefix = b, rest
        while at < len(text) and text[at] == " ":
            at += 1
    return lines + [prefix + text[at:]]


Segments = list[tuple[str, str]]  # (text, style name or "")


def formula_segments(text: str) -> Segments:
    """A formula's text with its numbers marked."""
    out: Segments = []
    at = 0
    for m in NUMBER.finditer(text):
        out += [(text[at:m.start()], ""), (m[0], "number")]
        at = m.end()
    return out + [(text[at:], "")]


def prose_text(text: str, color: bool, style: str = "", label_style: int = 0) -> Text:
    """Prose wrapped, continuation lines indented; with ``label_style``, that many first characters bold."""
    lines = wrap(text)
    t = Text("\n".join(lines), style=STYLE.get(style, "") if color else "")
    if color and label_style:
        t.stylize(STYLE["label"], 0, label_style)
    return t
