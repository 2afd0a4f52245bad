"""The terminal walkthrough (rich): one line per equality chain, readable in 100 columns."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from ...core.decimals import show
from ..formulas.relations import parts
from ..formulas.text import plain
from ..nodes import Step, Walkthrough

WIDTH = 100


def step_lines(step: Step) -> list[str]:
    """``lhs = form = substitution = value`` on one line, or one equality per line when long; the
    relations as formulas/relations.py gives them (≈ after a rounded number)."""
    lhs, relations, rhs = "", [], []
    for part in parts(step):
        if part.kind == "lhs":
            lhs = plain(part.node)
            continue
        if part.kind == "fraction":
            continue  # the decimal below carries the exact form in brackets
        text = show(part.node).removeprefix("≈ ").replace("-", "−") if part.kind == "decimal" else plain(part.node, part.values)
        if text not in rhs:
            rhs.append(text)
            relations.append(part.relation)
    note = f"    [{step.note}]" if step.note else ""
    line = "  " + lhs + "".join(f" {r} {part}" for r, part in zip(relations, rhs)) + note
    if len(line) <= WIDTH:
        return [line]
    indent = " " * (len(lhs) + 3)
    lines = [f"  {lhs} {relations[0]} {rhs[0]}"] if rhs else [f"  {lhs}"]
    lines += [f"{indent}{r} {part}" for r, part in zip(relations[1:], rhs[1:])]
    if note:
        lines.append(f"{indent}{note.strip()}")
    return lines


def render(doc: Walkthrough, color: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=WIDTH, color_system="standard" if color else None,
                      force_terminal=color, no_color=not color, highlight=False, soft_wrap=False)
    console.rule(Text(doc.title, style="bold"))
    for section in doc.sections:
        console.print()
        console.print(Text(section.title, style="bold underline"))
        for line in section.text:
            console.print(Text(line))
        for step in section.steps:
            for line in step_lines(step):
                console.print(Text(line), overflow="fold")
    return out.getvalue()
