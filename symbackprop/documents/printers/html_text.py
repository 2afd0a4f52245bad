"""Text and formulas as HTML, in a module of their own so that the page (html.py) and its tables (html_tables.py) share them.

Prose gets a minus sign and arrows; a formula's piece tree (formulas/mathml.pieces) becomes boxes that wrap.
"""

from __future__ import annotations

import re
from html import escape

PROSE = [(re.compile(r"<-"), "←"), (re.compile(r"->"), "→"),
         (re.compile(r"(?<![\w.])-(?=\.?\d)|(?<=\d[eE])-(?=\d)|(?<=\s)-(?=\s)"), "−")]


def prose(text: str) -> str:
    """File and builder text as HTML: a minus sign (U+2212), not a hyphen, in numbers and between spaces;
    arrows as arrows; hyphenated words left alone."""
    for pattern, replacement in PROSE:
        text = pattern.sub(replacement, text)
    return escape(text)


ITERATION = re.compile(r"\b([Ii]teration) (\d+)\b")


def titled(text: str, tagged: bool = False) -> str:
    """A title or caption as prose; ``tagged``: its iteration number marked (a page that trains on shifts it)."""
    html = prose(text)
    return ITERATION.sub(lambda m: f'{m[1]} <span data-t="{m[2]}">{m[2]}</span>', html) if tagged else html


def boxes(tree, cls: str = "g") -> str:
    """A piece tree (formulas/mathml.pieces) as wrapping boxes: a leaf is one <math>, a list a flex row of its pieces."""
    if isinstance(tree, str):
        return f'<math display="block">{tree}</math>'
    while len(tree) == 1 and isinstance(tree[0], list):
        tree = tree[0]
    return f'<span class="{cls}">' + "".join(boxes(t) for t in tree) + "</span>"
