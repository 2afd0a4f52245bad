"""The terminal walkthrough (rich) in 100 columns: prose wrapped with its continuation lines indented,
tables through rich, each step numbered; ANSI styles only when the caller asks (the command asks on a
TTY, never through a pipe, into -o or with NO_COLOR), and the plain text is the styled text without them.

Layout rules, each one for a reader who pastes the text somewhere else:

- prose is wrapped at 100 columns, continuation lines indented; a line never breaks beside a relation
  sign, so ``W54 = 1.0`` stays whole and a list of pairs breaks between pairs; a file's notes,
  hard-wrapped in the file, are reflowed by sentence;
- a step is one line when it fits, else one side per line under its first relation; a side too wide
  for its line is cut at its operators (formulas/breaking.py), the continuation rows indented;
- every step's number ``(n)`` stands right-aligned on its first line, numbered in order through the
  whole document; its note and ``using (12), (14)`` (the steps whose values it puts in) follow it in
  brackets;
- a table is set at its natural width when it fits, else its prose and list columns wrap to what the
  others leave; a table still too wide is set in parts, each repeating the first column. Numbers and
  formulas never wrap, and a column of numbers has its decimal points under each other;
- figures are not drawn: each keeps its number and caption, saying where it is drawn (the plot's file
  with ``--plots DIR``, the HTML and PDF documents for the network), so that figure numbers agree
  with the other formats; a section's text refers to its plots by number.

Numbers come from numbering.py, as in every format; tables are set by terminal_tables.py, prose is
wrapped by terminal_text.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from ...core import notation
from ...core.decimals import show
from ..formulas import breaking
from ..formulas.relations import parts
from ..formulas.text import PlainPrinter, plain
from ..nodes import Section, Step, Walkthrough
from .numbering import Figure, Numbers, numbering
from .terminal_tables import table_renderables
from .terminal_text import CONTINUATION as CONTINUATION  # re-exported: the terminal's API, as before the split
from .terminal_text import STYLE, WIDTH, Segments, formula_segments, prose, prose_text, reflow, wrap

STEP_INDENT = "  "
NUMBER_ROOM = 8  # columns a step's first row leaves for its number, "  (123)"
ROW_INDENT = 2  # columns per level of a broken side's continuation rows
RELATION_STYLE = {"=": "relation", "≈": "approx", "←": "assign"}


# -- steps -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Side:
    """One side of a step as text, with the node it came from (None for a number) to break it by."""

    relation: str
    text: str
    node: object = None
    values: Mapping | None = None


def sides(step: Step) -> list[Side]:
    """The step's sides (formulas/relations.py), the left-hand side first (relation ""); a side whose
    text is already written is left out, and a value's exact fraction too (its decimal carries it in brackets)."""
    out: list[Side] = []
    for part in parts(step):
        if part.kind == "fraction":
            continue
        if part.kind == "decimal":
            side = Side(part.relation, show(part.node, plain).removeprefix("≈ ").replace("-", "−"))
        else:
            side = Side(part.relation, plain(part.node, part.values), part.node, part.values)
        if part.kind == "lhs" or side.text not in [s.text for s in out[1:]]:
            out.append(side)
    return out


OP_TEXT = {"+": " + ", "-": " − ", "·": " · ", ",": ", ", "×": "·"}


def side_rows(side: Side, limit: int) -> list[tuple[int, str]]:
    """The side as rows (indent level, text) no wider than ``limit`` where its operators allow, cut by
    breaking.rows; one row when it fits, cannot be cut, or when the rows would not join back to the
    side printed whole (then the caller's fold keeps the line in 100 columns)."""
    if side.node is None or _columns(side.text) <= limit:
        return [(0, side.text)]
    printer = PlainPrinter({"values": side.values})
    text: dict = {}

    def item_text(item) -> str:
        if isinstance(item, breaking.Op):
            return OP_TEXT[item.symbol]
        if item not in text:
            if isinstance(item, breaking.Atom):
                text[item] = plain(item.node, side.values)
            elif isinstance(item, breaking.Open):
                text[item] = (notation.text(notation.of(item.call.func.__name__)) if item.call is not None else "") + "("
            else:
                text[item] = ")"
        return text[item]

    rows = breaking.rows(side.node, printer, limit, lambda item: _columns(item_text(item)))
    printed = ["".join(item_text(i) for i in row.items) for row in rows]
    if len(rows) == 1 or "".join(printed) != side.text:
        return [(0, side.text)]
    return [(row.indent, t.strip()) for row, t in zip(rows, printed)]


def _columns(text: str) -> int:
    """What a text takes of the 100 columns: its cells, or its characters where an accent (m̂) makes those more,
    so that a terminal that gives the accent a column of its own still fits; sides align by cells (``cell_len``)."""
    return max(cell_len(text), len(text))


def _width(line: Segments) -> int:
    return sum(_columns(t) for t, _ in line)


def step_segments(step: Step, number: int | None = None, cited: tuple[int, ...] = ()) -> list[Segments]:
    """The step's lines as styled segments: one line when it fits, else a side per line aligned under
    the first relation; ``(number)`` right-aligned on the first line; the note and the cited equations in brackets."""
    ss = sides(step)
    lhs = ss[0].text
    notes = ([step.note] if step.note else []) + (["using " + ", ".join(f"({n})" for n in cited)] if cited else [])
    annotation = f"[{'; '.join(notes)}]" if notes else ""
    tag = f"({number})" if number is not None else ""
    room = len(tag) + 2 if tag else 0

    one: Segments = [(STEP_INDENT, "")] + formula_segments(lhs)
    for s in ss[1:]:
        one += [(" ", ""), (s.relation, RELATION_STYLE[s.relation]), (" ", "")] + formula_segments(s.text)
    if annotation:
        one += [("    ", ""), (annotation, "note")]
    lines = [one]
    if _width(one) + room > WIDTH and len(ss) > 1:
        start = len(STEP_INDENT) + cell_len(lhs) + 1  # where the relations stand
        column = start + 2  # where each side's text starts
        limit = max(20, WIDTH - column - NUMBER_ROOM)
        lines = []
        for i, s in enumerate(ss[1:]):
            for j, (level, row) in enumerate(side_rows(s, limit)):
                if j == 0:
                    head = [(STEP_INDENT, "")] + formula_segments(lhs) + [(" ", "")] if i == 0 else [(" " * start, "")]
                    lines.append(head + [(s.relation, RELATION_STYLE[s.relation]), (" ", "")] + formula_segments(row))
                else:
                    lines.append([(" " * (column + ROW_INDENT * level), "")] + formula_segments(row))
        if annotation:
            if _width(lines[-1]) + 4 + len(annotation) + (room if len(lines) == 1 else 0) <= WIDTH:
                lines[-1] = lines[-1] + [("    ", ""), (annotation, "note")]
            else:
                lines += [[(" " * column, ""), (text, "note")] for text in wrap(annotation, WIDTH - column, "", "  ")]
    lines = [folded for line in lines for folded in _fold(line, len(STEP_INDENT) + cell_len(lhs) + 3)]
    if tag:
        first = lines[0]
        if _width(first) + room <= WIDTH:
            lines[0] = first + [(" " * (WIDTH - _width(first) - len(tag)), ""), (tag, "tag")]
        else:  # a first line that cannot make room (an unbreakable formula): the number on a line of its own
            lines.insert(0, [(" " * (WIDTH - len(tag)), ""), (tag, "tag")])
    return lines


def _fold(line: Segments, indent: int) -> list[Segments]:
    """A line still wider than WIDTH (a formula with no operator to cut at) wrapped at its spaces."""
    text = "".join(t for t, _ in line)
    if _columns(text) <= WIDTH:
        return [line]
    pieces = wrap(text, WIDTH, "", " " * min(indent, WIDTH // 2))
    return [[(p[:len(p) - len(p.lstrip())], "")] + formula_segments(p.lstrip()) for p in pieces]


def step_lines(step: Step, number: int | None = None, cited: tuple[int, ...] = ()) -> list[str]:
    """The step's lines as plain text."""
    return ["".join(t for t, _ in line).rstrip() for line in step_segments(step, number, cited)]


# -- numbering (numbering.py) ---------------------------------------------------------------------
# -- the document ----------------------------------------------------------------------------------
DRAWN_ELSEWHERE = "(Drawn in the HTML and PDF documents.)"


def _figure(number: int, caption: str, where: str, color: bool) -> Text:
    label = f"Figure {number}"
    return prose_text(f"{label}: {caption.rstrip('.')}. {where}", color, "caption", len(label))


def _plot(figure: Figure, plots_href: str | None, console: Console, color: bool) -> None:
    """A plot's number and caption, and where it is drawn: its file with ``--plots``, else the HTML and PDF documents."""
    where = f"(Plot: {plots_href.rstrip('/')}/{figure.plot.name}.png.)" if plots_href else DRAWN_ELSEWHERE
    console.print()
    console.print(_figure(figure.number, prose(figure.caption), where, color))


def _render_section(section: Section, k: int, numbers: Numbers, plots_href: str | None, console: Console,
                    color: bool) -> None:
    def styled(line: Segments) -> Text:
        return Text.assemble(*((t, STYLE[s] if color and s else "") for t, s in line))

    network, plots = numbers.network[k], numbers.plots[k]
    console.print()
    console.print(Text(section.title, style=STYLE["section"] if color else ""))
    for line in section.text:
        console.print(prose_text(prose(reflow(line)), color))
    if plots:  # the reference to the section's plots, numbered after its network figure
        figures = [str(figure.number) for figure in plots]
        listed = figures[0] if len(figures) == 1 else ", ".join(figures[:-1]) + " and " + figures[-1]
        console.print(prose_text(f"See Figure{'s' if len(figures) > 1 else ''} {listed} at the end of this section.", color))
    blocks = False  # a figure or table set apart by blank lines
    if network is not None:
        console.print()
        console.print(_figure(network.number, prose(network.caption), DRAWN_ELSEWHERE, color))
        blocks = True
    for table, number in zip(section.tables, numbers.tables[k]):
        for renderable in table_renderables(table, number, color):
            if isinstance(renderable, Text):
                console.print()
            console.print(renderable)
        blocks = True
    if blocks and section.steps:
        console.print()
    for step, number, cited in zip(section.steps, numbers.equations[k], numbers.cited[k]):
        for line in step_segments(step, number, cited):
            console.print(styled(line), no_wrap=True, overflow="fold")
    for figure in plots:
        _plot(figure, plots_href, console, color)


TRAILING = re.compile(r"(?:[ \t]|\x1b\[[0-9;]*m)+$", re.M)  # a line's trailing spaces, among its last styles
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _strip_trailing(text: str) -> str:
    """Lines without trailing spaces (rich pads table cells), their styles kept."""
    return TRAILING.sub(lambda m: "".join(ESCAPE.findall(m[0])), text)


def render(doc: Walkthrough, plots_href: str | None = None, color: bool = False) -> str:
    """The walkthrough as text in 100 columns; ``color``: with ANSI styles (for a terminal)."""
    out = io.StringIO()
    console = Console(file=out, width=WIDTH, color_system="standard" if color else None, force_terminal=color,
                      no_color=not color, highlight=False, markup=False, emoji=False, soft_wrap=False,
                      force_jupyter=False, legacy_windows=False, _environ={})  # no environment variable changes the bytes
    title = Text(doc.title, style=STYLE["title"] if color else "")
    if len(doc.title) + 4 <= WIDTH:
        console.rule(title, characters="─", style="dim" if color else "")
    else:
        console.print(prose_text(doc.title, color, "title"))
        console.rule(characters="─", style="dim" if color else "")
    numbers = numbering(doc, True)  # plots are listed, with or without --plots: they say where they are drawn
    for k, section in enumerate(doc.sections):
        _render_section(section, k, numbers, plots_href, console, color)
    if numbers.unplaced:  # plots no section names: in a closing section, as every document keeps them
        console.print()
        console.print(Text("Plots", style=STYLE["section"] if color else ""))
        for figure in numbers.unplaced:
            _plot(figure, plots_href, console, color)
    return _strip_trailing(out.getvalue())
