"""The terminal's tables, apart from the document (terminal.py) for length: cells as text, column widths, parts, rich tables.

A table is set at its natural width when it fits, else its prose and list columns wrap to what the
others leave; a table still too wide is set in parts, each repeating the first column. Numbers and
formulas never wrap, and a column of numbers has its decimal points under each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from rich import box
from rich.table import Table as RichTable
from rich.text import Text

from ...core.decimals import decimal
from ..formulas.relations import is_exact
from ..formulas.text import plain
from ..nodes import Listing, Number, Table
from .terminal_text import STYLE, WIDTH, formula_segments, list_breaks, prose, prose_breaks, prose_text, wrap


@dataclass(frozen=True)
class Cell:
    text: str
    kind: str  # "prose" (wraps between words), "list" (wraps after its commas), "number" or "formula" (never wrap)


BREAKS = {"prose": prose_breaks, "list": list_breaks}


def cell(value) -> Cell:
    """A table cell as text: prose as it is, a Number as its decimal (``≈`` when rounded), a formula in
    the steps' notation (a Listing of symbols may wrap after its commas)."""
    if isinstance(value, str):
        return Cell(prose(value), "prose")
    if isinstance(value, Number):
        v = sp.sympify(value.value)
        return Cell(("" if is_exact(v) else "≈ ") + decimal(v).replace("-", "−"), "number")
    return Cell(plain(value), "list" if isinstance(value, Listing) else "formula")


def aligned(column: list[Cell]) -> list[Cell]:
    """A column of numbers (below its head) padded so that their decimal points stand under each other,
    the block and its head flush right."""
    head, body = column[0], column[1:]
    if not body or not all(c.kind == "number" for c in body):
        return column
    split = [c.text.partition(".") for c in body]
    left = max(len(whole) for whole, _, _ in split)
    right = max(len(dot + frac) for _, dot, frac in split)
    width = max(left + right, len(head.text))
    return [Cell(head.text.rjust(width), head.kind)] + [
        Cell((whole.rjust(left) + dot + frac).ljust(left + right).rjust(width), "number") for whole, dot, frac in split]


def _longest_unit(c: Cell) -> int:
    """The widest piece of a cell no line may break inside."""
    if c.kind not in BREAKS:
        return len(c.text)
    longest = 0
    for line in c.text.split("\n"):
        cuts = [0] + [x for a, b in BREAKS[c.kind](line) for x in (a, b)] + [len(line)]
        longest = max([longest] + [cuts[i + 1] - cuts[i] for i in range(0, len(cuts), 2)])
    return longest


def _table_width(widths: list[int]) -> int:
    """What rich sets: the columns, a space either side of each, a rule between them (no outer edge)."""
    return sum(widths) + 3 * len(widths) - 1


MIN_PROSE = 16  # a prose column narrower than this reads badly; the table is set in parts instead


def column_widths(columns: list[list[Cell]], width: int = WIDTH) -> list[int] | None:
    """Each column's width: its widest cell when the table fits; else prose columns share what the
    others leave (no less than their longest unbreakable piece, nor MIN_PROSE); None when it cannot fit."""
    natural = [max(len(c.text) for c in col) for col in columns]
    if _table_width(natural) <= width:
        return natural
    prose_cols = [i for i, col in enumerate(columns) if any(c.kind in BREAKS for c in col)]
    floors = {i: max([min(natural[i], MIN_PROSE)] + [_longest_unit(c) for c in columns[i]]) for i in prose_cols}
    fixed = [natural[i] if i not in floors else floors[i] for i in range(len(columns))]
    spare = width - _table_width(fixed)
    if spare < 0:
        return None
    for _ in range(3):  # the spare columns shared in proportion to what each prose column lacks, then
        # each narrowed to its widest wrapped line and what that frees shared again
        hungry = [i for i in prose_cols if natural[i] > fixed[i]]
        wants = {i: natural[i] - fixed[i] for i in hungry}
        total = sum(wants.values())
        if not total or spare <= 0:
            break
        for i in hungry:
            fixed[i] += wants[i] * spare // total
        fixed[hungry[0]] += width - _table_width(fixed) if _table_width(fixed) < width else 0
        for i in prose_cols:
            fixed[i] = max(len(line) for c in columns[i]
                           for line in (wrap(c.text, fixed[i], "", "", BREAKS[c.kind]) if c.kind in BREAKS else [c.text]))
        spare = width - _table_width(fixed)
    return fixed


def _parts(columns: list[list[Cell]]) -> list[list[int]]:
    """The columns (by index) of each part of a table too wide for one: the first column in every part,
    the others in order, as many as fit."""
    if column_widths(columns) is not None:
        return [list(range(len(columns)))]
    out: list[list[int]] = []
    group = [0]
    for i in range(1, len(columns)):
        if len(group) > 1 and column_widths([columns[j] for j in group + [i]]) is None:
            out.append(group)
            group = [0]
        group.append(i)
    return out + [group]


def _rich_table(columns: list[list[Cell]], widths: list[int], color: bool) -> RichTable:
    """Columns of fixed widths, left-aligned (a column of numbers comes padded by ``aligned``): prose
    wrapped here (never inside ``W54 = 1.0``), numbers and formulas whole."""
    def text(c: Cell, w: int) -> Text:
        if c.kind in BREAKS:
            return Text("\n".join(wrap(c.text, w, "", "", BREAKS[c.kind])))
        if color and c.kind == "number":
            return Text.assemble(*((t, STYLE[s] if s else "") for t, s in formula_segments(c.text)))
        return Text(c.text)

    table = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=True, expand=False,
                      header_style=STYLE["head"] if color else "", safe_box=False)
    for col, w in zip(columns, widths):
        table.add_column(text(col[0], w), width=w, min_width=w, max_width=w, no_wrap=True, overflow="fold", justify="left")
    for r in range(1, len(columns[0])):
        table.add_row(*(text(col[r], w) for col, w in zip(columns, widths)))
    return table


def table_renderables(table: Table, number: int, color: bool) -> list:
    """The table's caption line and one or more rich tables (parts, when too wide for one)."""
    grid = [[cell(v) for v in table.head]] + [[cell(v) for v in row] for row in table.rows]
    ncols = max(len(r) for r in grid)
    grid = [r + [Cell("", "prose")] * (ncols - len(r)) for r in grid]
    columns = [aligned([row[i] for row in grid]) for i in range(ncols)]
    out: list = []
    groups = _parts(columns)
    for k, group in enumerate(groups):
        label = f"Table {number}" + ("" if len(groups) == 1 else f" (part {k + 1} of {len(groups)})")
        caption = f"{label}: {prose(table.caption)}" if k == 0 and table.caption else label
        out.append(prose_text(caption, color, label_style=len(label)))
        chosen = [columns[i] for i in group]
        widths = column_widths(chosen)
        if widths is None:  # one column wider than the page on its own: set it as wide as it is
            widths = [max(len(c.text) for c in col) for col in chosen]
        out.append(_rich_table(chosen, widths, color))
    return out
