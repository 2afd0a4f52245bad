"""The walkthrough as Markdown with ``$$...$$`` display math (GitHub, GitLab, Jupyter, pandoc).

Numbered as every document is (numbering.py): every step's block ends in ``\\tag{n}``
(GitHub's MathJax and KaTeX set it) under an anchor ``eq-n``, and the steps its ``uses`` name are
linked as "(n)"; tables are pipe tables under a "Table n: caption" line, cells escaped, formulas and
numbers inline ``$...$``; plots, with ``--plots``, at the end of their section over a "Figure n:
caption" line, cited from the section's text. Markdown draws no network: its figure is one line
that says so, keeping the figure numbers of the other documents.
"""

from __future__ import annotations

import re

from ...core.decimals import decimal
from ..formulas.latex import equation, one_line, tex, tex_decimal
from ..formulas.relations import is_exact
from ..nodes import Number, Table, Walkthrough
from .numbering import Figure, label, numbering, plot_sentence

LONG = 110  # a chain longer than this many characters is set one equality per line


def escape(text: str) -> str:
    """Plain text that Markdown must not read as emphasis, math or markup."""
    return re.sub(r"([\\`*_$<>\[\]#|&])", r"\\\1", text)


def anchor(title: str) -> str:
    """The heading anchor GitHub generates: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def math_block(parts: list[tuple[str, str]], number: int | None = None) -> str:
    """A display: one line when short, else an aligned block of one equality per row; ``\\tag{n}`` last."""
    tag = rf" \tag{{{number}}}" if number is not None else ""
    line = one_line(parts)
    if len(line) <= LONG:
        return f"$$\n{line}{tag}\n$$"
    lhs = parts[0][1]
    rows = [f"{lhs} &{parts[1][0]} {parts[1][1]}"] + [f"&{r} {t}" for r, t in parts[2:]]
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + f"\n\\end{{aligned}}{tag}\n$$"


def link(number: int) -> str:
    return f"[({number})](#{label('eq', number)})"


def cell(value) -> str:
    """A table cell: prose escaped (a pipe too, so the row keeps its cells), a Number its decimal with
    ``≈`` when rounded, anything else a formula; numbers and formulas inline math."""
    if value is None:
        return ""
    if isinstance(value, str):
        return escape(" ".join(value.split()))
    if isinstance(value, Number):
        number = tex_decimal(decimal(value.value))
        return f"${number}$" if is_exact(value.value) else rf"$\approx {number}$"
    math = " ".join(tex(value).split()).replace("|", r"\|")
    return f"$\\displaystyle {math}$" if r"\frac" in math else f"${math}$"  # a fraction as the steps set it


def table_md(table: Table, number: int) -> list[str]:
    """A pipe table under its numbered caption; a column of numbers right-aligned."""
    width = max([len(table.head)] + [len(row) for row in table.rows])
    grid = [[cell(v) for v in (*row, *[None] * (width - len(row)))] for row in (table.head, *table.rows)]
    numeric = [bool(table.rows) and all(isinstance(row[i] if i < len(row) else None, Number) for row in table.rows)
               for i in range(width)]
    rule = ["---:" if n else "---" for n in numeric]
    lines = ["| " + " | ".join(row) + " |" for row in (grid[0], rule, *grid[1:])]
    return [f'<a id="{label("tab", number)}"></a>', "", f"**Table {number}:** {escape(table.caption)}", "", *lines, ""]


def figure_line(figure: Figure) -> str:
    return f"**Figure {figure.number}:** {escape(figure.caption)}"


def render(doc: Walkthrough, plots_href: str | None = None) -> str:
    numbers = numbering(doc, plots_href is not None)
    out = [f"# {escape(doc.title)}", ""]
    titles = [s.title for s in doc.sections] + (["Plots"] if numbers.unplaced else [])
    out += ["Contents:", ""] + [f"- [{escape(t)}](#{anchor(t)})" for t in titles] + [""]

    def plot(figure: Figure) -> list[str]:
        return [f'<a id="{label("fig", figure.number)}"></a>', "",
                f"![{escape(figure.plot.title)}]({plots_href.rstrip('/')}/{figure.plot.name}.png)", "", figure_line(figure), ""]

    for k, section in enumerate(doc.sections):
        out += [f"## {escape(section.title)}", ""]
        for line in section.text:
            out += [escape(line), ""]
        network, plots = numbers.network[k], numbers.plots[k]
        for figure in plots:
            out += [f"[Figure {figure.number}](#{label('fig', figure.number)}), at the end of this section, plots "
                    f"{escape(plot_sentence(figure.plot))}.", ""]
        if network is not None:  # Markdown draws no network: the HTML and PDF documents do, under this number
            out += [figure_line(network) + " *(Markdown draws no figure: see the HTML or PDF document.)*", ""]
        for table, number in zip(section.tables, numbers.tables[k]):
            out += table_md(table, number)
        for step, number, cited in zip(section.steps, numbers.equations[k], numbers.cited[k]):
            out += [f'<a id="{label("eq", number)}"></a>', "", math_block(equation(step), number)]
            said = [f"*{escape(step.note)}*"] if step.note else []
            if cited:
                said.append("using " + ", ".join(link(n) for n in cited))
            if said:
                out.append("; ".join(said))
            out.append("")
        for figure in plots:
            out += plot(figure)
    if numbers.unplaced:
        out += ["## Plots", ""]
        for figure in numbers.unplaced:
            out += plot(figure)
    return "\n".join(out).rstrip("\n") + "\n"
