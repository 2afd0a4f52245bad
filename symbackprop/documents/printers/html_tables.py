"""The HTML page's tables, apart from the page (html.py) for length: their cells, their estimated widths, the CSS that stacks them.

A table is a <table> with a <caption> ("Table 2: ..."), numbers as decimals with a Unicode minus
("≈" before a rounded one), formulas in MathML. Its narrowest width is estimated from its cells: a
table that needs more than the text column runs across the window's width, and below the width it
needs its rows stack (each cell under its column's head), so that no table makes a page wider than
a phone's screen; printed, a wide table is set smaller instead, its head repeating on each page.
"""

from __future__ import annotations

import math
import re
from html import escape

from ...core.decimals import decimal
from ..formulas.mathml import MathMLPrinter
from ..formulas.relations import is_exact
from ..nodes import Iteration, Number, Table, Walkthrough
from .html_text import boxes, prose, titled

# table widths, in em of the table's own font (TABLE_FONT rem): estimates on the wide side, so a table stacks
# before it would overflow (a too-early stack costs looks only)
TABLE_FONT = 0.9
CHAR_EM = 0.64  # a digit or letter of system-ui (DejaVu Sans digits are 0.636 em)
CELL_EM = 1.0  # a cell's padding and border
PAGE_EM = 2.0  # the body's padding, in rem
TEXT_COLUMN_REM = 60.0  # body max-width
PRINT_PX = 650.0  # an A4 or Letter page's width inside 1.5 cm margins (680 px and 703 px), with room to spare
PRINT_SMALLEST = 0.65  # a printed table is set no smaller than this; below, its rows stack on paper too


def _stacked(selector: str) -> str:
    """A table's rows as blocks: the row's first cell a heading, each other cell under its column's head."""
    s = selector
    return (f"{s}, {s} caption, {s} tbody, {s} tr, {s} th, {s} td {{ display: block; }}\n"
            f"{s} thead {{ display: none; }}\n"
            f"{s} tbody {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 19rem), 1fr));"
            f" column-gap: 1.5rem; }}\n"
            f"{s} tr {{ border-bottom: 1px solid #ccc; padding: 0.25rem 0; break-inside: avoid; }}\n"
            f"{s} tbody th, {s} td {{ border: none; padding: 0.1rem 0.2rem; }}\n"
            f"{s} td {{ display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; column-gap: 1rem;"
            f" padding-left: 1rem; }}\n"
            f"{s} td > .label {{ display: block; color: #555; text-align: left; }}\n"
            f"{s} td > .value {{ min-width: 0; }}\n")


NUM = ' class="num"'


def number_text(value) -> tuple[str, str]:
    """A Number as (HTML, its text as a reader sees it): the decimal, U+2212 for minus, 1.5 · 10⁻⁵ for 1.5e-05,
    "≈ " before a rounded one."""
    text = decimal(value)
    mantissa, _, exponent = text.partition("e")
    mantissa = mantissa.replace("-", "−")
    html = mantissa if not exponent else f"{mantissa} · 10<sup>{str(int(exponent)).replace('-', '−')}</sup>"
    seen = mantissa if not exponent else f"{mantissa} · 10{str(int(exponent)).replace('-', '−')}"
    if not is_exact(value):
        html, seen = f"≈ {html}", f"≈ {seen}"
    return html, seen


def formula_tree(cell):
    """A formula cell as a piece tree (formulas/mathml.pieces), as a step's side without numbers put in prints."""
    return MathMLPrinter({"values": None, "mul_symbol": None}).pieces(cell)


def cell_html(cell, tagged: bool = False) -> str:
    """A cell's content: prose (str), a Number's decimal, or a formula (a SymPy expression or display node) that
    wraps between its pieces, as a step's side does (its fractions full size, as in the steps)."""
    if tagged and isinstance(cell, Iteration):
        return f'<span data-t="{int(cell)}">{int(cell)}</span>'
    if isinstance(cell, str):
        return prose(cell)
    if isinstance(cell, Number):
        html = number_text(cell.value)[0]
        return f'<span data-q="{escape(cell.name)}">{html}</span>' if tagged and cell.name else html
    tree = formula_tree(cell)
    return f"<math>{tree}</math>" if isinstance(tree, str) else boxes(tree)


def _leaves(tree):
    if isinstance(tree, str):
        yield tree
    else:
        for t in tree:
            yield from _leaves(t)


def _shown_length(mathml_text: str) -> int:
    """The characters a piece of MathML shows (a fraction's numerator and denominator both counted: on the wide side)."""
    return len(re.sub(r"&#\d+;|&\w+;", "x", re.sub(r"<[^>]*>", "", mathml_text)))


FLOAT_TEXT = "≈ −1.234567891 · 10−15"  # the widest a float64 value reads on a page that recomputes (10 digits)


def cell_em(cell, tagged: bool = False) -> float:
    """The narrowest the cell can be set, in em, overestimated: a number does not wrap, a formula wraps between its
    pieces, prose at spaces."""
    if isinstance(cell, str):
        return max((len(w) for w in cell.split()), default=0) * CHAR_EM
    if isinstance(cell, Number):
        return len(FLOAT_TEXT if tagged and cell.name else number_text(cell.value)[1]) * CHAR_EM
    return max(_shown_length(leaf) for leaf in _leaves(formula_tree(cell))) * CHAR_EM


def table_em(table: Table, tagged: bool = False) -> float:
    """The narrowest width of the table, in em of its font: each column as wide as its widest cell."""
    columns = max([len(table.head), *(len(r) for r in table.rows)], default=0)
    widths = [0.0] * columns
    for row in (table.head, *table.rows):
        for j, cell in enumerate(row):
            widths[j] = max(widths[j], cell_em(cell, tagged))
    return sum(w + CELL_EM for w in widths) + 0.5


def table_classes(table: Table, tagged: bool = False) -> tuple[list[str], float]:
    """The table's CSS classes (``stack-<em>``: the viewport width below which its rows stack; ``print-<percent>``
    or ``print-stack``: its type on paper; ``short``: kept on one page) and its narrowest width in rem."""
    need_rem = table_em(table, tagged) * TABLE_FONT
    stack = math.ceil(need_rem + PAGE_EM + 0.5)  # viewport width in em below which its rows stack
    print_scale = min(1.0, PRINT_PX / (need_rem * 16))
    classes = [f"stack-{stack}"]
    if print_scale < PRINT_SMALLEST:
        classes.append("print-stack")
    elif print_scale < 1:
        classes.append(f"print-{math.floor(print_scale * 20) * 5}")
    if len(table.rows) <= 25:
        classes.append("short")
    return classes, need_rem


def table_html(table: Table, number: int, anchor: str, tagged: bool = False) -> str:
    """A <table> with its numbered caption; each body cell holds its column's head too, shown only when rows stack."""
    classes, need_rem = table_classes(table, tagged)
    heads = [cell_html(h) for h in table.head]
    width = max([len(table.head), *(len(r) for r in table.rows)])
    numeric = [bool(table.rows) and all(j >= len(r) or isinstance(r[j], Number) or r[j] == "" for r in table.rows)
               for j in range(width)]  # a column of numbers only: right-aligned, its head too
    out = [f'<div class="table-box{" bleed" if need_rem > TEXT_COLUMN_REM else ""}">',
           f'<table class="t {" ".join(classes)}" id="{anchor}">',
           f"<caption><b>Table {number}:</b> {titled(table.caption, tagged)}</caption>"]
    if table.head:
        out.append("<thead><tr>" + "".join(f'<th scope="col"{NUM if n else ""}>{h}</th>' for h, n in zip(heads, numeric))
                   + "</tr></thead>")
    out.append("<tbody>")
    for row in table.rows:
        cells = []
        for j, cell in enumerate(row):
            content = cell_html(cell, tagged)
            cls = NUM if numeric[j] else ' class="nowrap"' if isinstance(cell, Number) else ""
            if j == 0 and len(row) > 1:
                cells.append(f'<th scope="row"{cls}>{content}</th>')
                continue
            label = heads[j] if j < len(heads) else ""
            cells.append(f'<td{cls}><span class="label" aria-hidden="true">{label}</span>'
                         f'<span class="value">{content}</span></td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>", "</div>"]
    return "\n".join(out)


def table_style(doc: Walkthrough, tagged: bool = False) -> str:
    """The per-width rules of the document's tables: stacked rows below the width each needs, smaller type on paper."""
    stacks, prints = set(), set()
    for section in doc.sections:
        for table in section.tables:
            classes, _ = table_classes(table, tagged)
            stacks.update(int(c[6:]) for c in classes if c.startswith("stack-"))
            prints.update(c for c in classes if c.startswith("print-"))
    css = [f"@media screen and (max-width: {em}em) {{\n{_stacked(f'table.t.stack-{em}')}}}\n" for em in sorted(stacks)]
    for c in sorted(prints):
        if c == "print-stack":
            css.append(f"@media print {{\n{_stacked('table.t.print-stack')}}}\n")
        else:
            css.append(f"@media print {{ table.t.{c} {{ font-size: {TABLE_FONT * int(c[6:]) / 100:.4g}rem; }} }}\n")
    return "".join(css)
