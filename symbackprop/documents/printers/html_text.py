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


def boxes(tree, cls: str = "g") -> str:
    """A piece tree (formulas/mathml.pieces) as wrapping boxes: a leaf is one <math>, a list a flex row of its pieces."""
    if isinstance(tree, str):
        return f'<math display="block">{tree}</math>'
    while len(tree) == 1 and isinstance(tree[0], list):
        tree = tree[0]
    return f'<span class="{cls}">' + "".join(boxes(t) for t in tree) + "</span>"
