"""Equation, table and figure numbers, and the labels they reach a document as: computed once, here, so that every printer numbers alike.

``numbering`` walks a Walkthrough in document order: every step one equation number; its ``uses``
resolved to the latest earlier step of each name (a name no earlier step has is skipped, so is a
later step); tables counted on their own; figures counted on their own, a section's network first,
then its plots (each name once per section, names with no plot skipped), then the plots no section
names, which the printers draw in a closing "Plots" section so that none is lost. ``label`` is the
one identifier a number may reach the output as (``eq-12``, ``tab-2``, ``fig-3``; the HTML page's
``figure-3`` and ``table-2``), never a step's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..nodes import Plot, Walkthrough

# eq, tab, fig: the LaTeX and Markdown labels; figure, table: the HTML page's ids, spelt out as its links always were
KINDS = ("eq", "tab", "fig", "figure", "table")


def label(kind: str, number: int) -> str:
    """The one identifier a number may reach the output as: ``eq-12``, ``tab-2``, ``fig-3`` (``figure-3``, ``table-2``)."""
    if kind not in KINDS or type(number) is not int or number < 1:
        raise ValueError(f"no label for {kind!r} {number!r}")
    return f"{kind}-{number}"


@dataclass(frozen=True)
class Figure:
    """A numbered figure: a section's network (``plot`` None) or one of the walkthrough's plots."""

    number: int
    caption: str
    plot: Plot | None = None


@dataclass(frozen=True)
class Numbers:
    """Every number a document prints. ``[k]`` is section k of the walkthrough; ``unplaced`` holds the
    plots no section names, drawn in a closing "Plots" section so that none is lost."""

    equations: tuple[tuple[int, ...], ...]  # [k][i]: step i's number
    cited: tuple[tuple[tuple[int, ...], ...], ...]  # [k][i]: the numbers of the earlier steps its ``uses`` name, ascending
    tables: tuple[tuple[int, ...], ...]  # [k][j]: table j's number
    network: tuple[Figure | None, ...]  # [k]: the network's figure, if the section draws one
    plots: tuple[tuple[Figure, ...], ...]  # [k]: the plots drawn at the end of the section
    unplaced: tuple[Figure, ...] = ()


def numbering(doc: Walkthrough, plots: bool) -> Numbers:
    """The numbers of ``doc`` as printed with (``plots``) or without its plots: every step one equation
    number; ``uses`` resolved to the latest earlier step of each name (a name no earlier step has is
    skipped); tables, then figures (a section's network, then its plots) counted on their own."""
    equation = table = figure = 0
    last: dict[str, int] = {}
    by_name = {plot.name: plot for plot in doc.plots} if plots else {}
    placed: set[str] = set()
    equations, cited, tables, networks, drawn = [], [], [], [], []
    for section in doc.sections:
        numbers, refs = [], []
        for step in section.steps:
            found = tuple(dict.fromkeys(last[name] for name in step.uses if name in last))
            refs.append(tuple(sorted(found)))
            equation += 1
            numbers.append(equation)
            last[step.name] = equation
        equations.append(tuple(numbers))
        cited.append(tuple(refs))
        tables.append(tuple(range(table + 1, table + 1 + len(section.tables))))
        table += len(section.tables)
        if section.network is not None:
            figure += 1
            networks.append(Figure(figure, section.network.caption))
        else:
            networks.append(None)
        here = []
        for name in dict.fromkeys(section.plots):
            if name in by_name:
                figure += 1
                here.append(Figure(figure, by_name[name].caption or by_name[name].title, by_name[name]))
                placed.add(name)
        drawn.append(tuple(here))
    unplaced = []
    for plot in by_name.values():
        if plot.name not in placed:
            figure += 1
            unplaced.append(Figure(figure, plot.caption or plot.title, plot))
    return Numbers(tuple(equations), tuple(cited), tuple(tables), tuple(networks), tuple(drawn), tuple(unplaced))


def plot_sentence(plot: Plot) -> str:
    """What a section's text says of a plot drawn at its end, after "Figure N, at the end of this section, plots"
    (or "shows"): its title, without a closing full stop, lower-cased where a word begins it ("Loss over the
    iterations" as "loss over the iterations"; a symbol, E or W31, kept)."""
    title = plot.title.rstrip(".")
    if len(title) > 1 and title[0].isupper() and title[1].islower():
        title = title[0].lower() + title[1:]
    return title
