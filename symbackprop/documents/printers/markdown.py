"""The walkthrough as Markdown with ``$$...$$`` display math (GitHub, GitLab, Jupyter, pandoc)."""

from __future__ import annotations

import re

from ..formulas.latex import equation, one_line
from ..nodes import Walkthrough

LONG = 110  # a chain longer than this many characters is set one equality per line


def escape(text: str) -> str:
    """Plain text that Markdown must not read as emphasis, math or markup."""
    return re.sub(r"([\\`*_$<>\[\]#|])", r"\\\1", text)


def anchor(title: str) -> str:
    """The heading anchor GitHub generates: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def math_block(parts: list[tuple[str, str]]) -> str:
    line = one_line(parts)
    if len(line) <= LONG:
        return f"$$\n{line}\n$$"
    lhs = parts[0][1]
    rows = [f"{lhs} &{parts[1][0]} {parts[1][1]}"] + [f"&{r} {t}" for r, t in parts[2:]]
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$"


def render(doc: Walkthrough, plots_href: str | None = None) -> str:
    out = [f"# {escape(doc.title)}", ""]
    out += ["Contents:", ""] + [f"- [{escape(s.title)}](#{anchor(s.title)})" for s in doc.sections] + [""]
    for section in doc.sections:
        out += [f"## {escape(section.title)}", ""]
        for line in section.text:
            out += [escape(line), ""]
        for step in section.steps:
            out.append(math_block(equation(step)))
            if step.note:
                out.append(f"*{escape(step.note)}*")
            out.append("")
    if plots_href is not None and doc.plots:
        out += ["## Plots", ""]
        for plot in doc.plots:
            out += [f"![{escape(plot.title)}]({plots_href.rstrip('/')}/{plot.name}.png)", ""]
    return "\n".join(out).rstrip("\n") + "\n"
