"""The walkthrough as a standalone LaTeX document (amsmath, A4), the network drawn with TikZ; a formula
too wide for the page continues on rows of its own (formulas.latex.rows)."""

from __future__ import annotations

import re
import unicodedata

from ..formulas.latex import INDENT, Side, one_line, rows, sides, tex_width
from ..nodes import Walkthrough
from .tikz import tikz

LONG = 90  # a chain longer than this many characters is set one equality per line
TEXT_WIDTH = (210 - 2 * 20) / 25.4 * 72.27 / 10.95  # em: A4 less the 2 cm margins, in 11 pt type (1 em = 10.95 pt)
ROOM = 0.95 * TEXT_WIDTH  # the widths are estimated (within a few per cent of TeX's): keep that much in hand
CONTINUATION = 2.0  # em before a row's formula: the relation (= is 1.3 em with its spaces) or a \qquad indent

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage[a4paper, margin=2cm]{geometry}
\usepackage{amsmath}
\usepackage{graphicx}
\usepackage{tikz}
\usepackage[hidelinks]{hyperref}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.4em}
"""

SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
           "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
           "<": r"\textless{}", ">": r"\textgreater{}", "δ": r"$\delta$", "Δ": r"$\Delta$", "η": r"$\eta$",
           "ŷ": r"$\hat{y}$", "≈": r"$\approx$", "→": r"$\to$", "·": r"$\cdot$"}


# characters pdflatex's utf8 input cannot set in text, as the math or text commands that set them
MATH_CHARACTERS = {"∂": r"\partial", "∇": r"\nabla", "∑": r"\sum", "∏": r"\prod", "∞": r"\infty", "≤": r"\leq",
                   "≥": r"\geq", "≠": r"\neq", "±": r"\pm", "×": r"\times", "÷": r"\div", "−": "-", "√": r"\surd",
                   "∈": r"\in", "⊙": r"\odot", "∘": r"\circ", "⁺": "^{+}", "²": "^{2}", "³": "^{3}", "¹": "^{1}",
                   "′": r"\prime", "ϵ": r"\epsilon", "ε": r"\varepsilon", "ϑ": r"\vartheta", "ς": r"\varsigma",
                   "½": r"\tfrac{1}{2}", "°": r"^{\circ}"}
TEXT_CHARACTERS = {"—": "---", "–": "--", "…": r"\ldots{}", "‘": "`", "’": "'", "“": "``", "”": "''", "\u00a0": "~"}
GREEK = re.compile(r"GREEK (SMALL|CAPITAL) LETTER ([A-Z]+)$")
# capital Greek letters that LaTeX (and Greek type) set as the Latin letter
LATIN_CAPITALS = dict(zip("ALPHA BETA EPSILON ZETA ETA IOTA KAPPA MU NU OMICRON RHO TAU CHI".split(), "ABEZHIKMNOPTX"))


def escape(text: str) -> str:
    """File text (a title, a note) as LaTeX: specials escaped, Latin-1 letters as they are, Greek
    and math symbols as commands, and any other character as its code point, so pdflatex never fails."""
    return "".join(_character(c) for c in text)


def _character(c: str) -> str:
    if c in SPECIAL:
        return SPECIAL[c]
    if c.isascii() or ("\u00c0" <= c <= "\u00ff" and c.isalpha() and c not in "ðÐþÞ"):
        return c
    if c in TEXT_CHARACTERS:
        return TEXT_CHARACTERS[c]
    if c in MATH_CHARACTERS:
        return f"${MATH_CHARACTERS[c]}$"
    greek = GREEK.match(unicodedata.name(c, ""))
    if greek:
        case, name = greek[1], greek[2].replace("LAMDA", "LAMBDA")
        if case == "CAPITAL":
            return LATIN_CAPITALS.get(name) or f"$\\{name.capitalize()}$"
        return "o" if name == "OMICRON" else f"$\\{name.lower()}$"
    return rf"\texttt{{U+{ord(c):04X}}}"


def display(chain: list[Side], note: str = "") -> str:
    """One align* per step: on one line when short, else one equality per row, and a side too wide
    for the page in continuation rows (``&\\quad + ...``) cut where formulas.latex.rows finds room."""
    tag = rf"\tag*{{\small\emph{{{escape(note)}}}}}" if note else ""
    line = one_line([(side.relation, side.text) for side in chain])
    if len(chain) < 2 or (len(line) <= LONG and tex_width(line) <= ROOM):
        return f"\\begin{{align*}}\n{line}{tag}\n\\end{{align*}}"
    lhs = chain[0].text
    limit = max(ROOM - tex_width(lhs) - CONTINUATION, ROOM / 2)
    out = []
    for side in chain[1:]:
        for j, (indent, text) in enumerate(rows(side, limit)):
            lead = f"{side.relation} " if j == 0 else f"{INDENT[indent]} "
            out.append(f"{'' if out else lhs + ' '}&{lead}{text}")
    return "\\begin{align*}\n" + " \\\\\n".join(out) + tag + "\n\\end{align*}"


def render(doc: Walkthrough, plots_href: str | None = None, plot_ext: str = "png") -> str:
    out = [PREAMBLE, rf"\title{{{escape(doc.title)}}}", r"\date{}", r"\begin{document}", r"\maketitle",
           r"\tableofcontents", ""]
    for section in doc.sections:
        out.append(rf"\section{{{escape(section.title)}}}")
        if section.network is not None:
            out += [r"\begin{center}", tikz(section.network), r"\end{center}"]
        for line in section.text:  # a long listing (hundreds of parameters) in small type
            out += [rf"{{\footnotesize {escape(line)}\par}}" if len(line) > 400 else escape(line), ""]
        for step in section.steps:
            out.append(display(sides(step), step.note))
        out.append("")
    if plots_href is not None and doc.plots:
        out.append(r"\section{Plots}")
        for plot in doc.plots:
            out += [r"\begin{center}", rf"\includegraphics[width=0.7\textwidth]{{{plots_href.rstrip('/')}/{plot.name}.{plot_ext}}}",
                    r"\end{center}"]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
