r"""The walkthrough as a standalone LaTeX document (article, A4): every step a numbered display, its
``uses`` cited by \eqref; tables as captioned longtables that break across pages and fit the text width;
the network (TikZ) and the plots as numbered figures where their section puts them, cited by \ref.

A formula too wide for the page continues on rows of its own (formulas.latex.rows). Numbers and labels
come from numbering.py (equations, tables and figures in order of appearance), which every printer
shares, so the documents number alike; a label is ``eq-N``, ``tab-N`` or ``fig-N``, never a step's name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sympy as sp

from ...core.decimals import decimal
from ..formulas.latex import INDENT, Side, one_line, rows, sides, tex, tex_decimal, tex_width
from ..formulas.relations import is_exact
from ..nodes import Number, Section, Table, Walkthrough
from .numbering import Figure, Numbers, label, numbering, plot_sentence
from .tikz import tikz

LONG = 90  # a chain longer than this many characters is set one equality per line
TEXT_WIDTH = (210 - 2 * 20) / 25.4 * 72.27 / 10.95  # em: A4 less the 2 cm margins, in 11 pt type (1 em = 10.95 pt)
ROOM = 0.95 * TEXT_WIDTH  # the widths are estimated (within a few per cent of TeX's): keep that much in hand
CONTINUATION = 2.0  # em before a row's formula: the relation (= is 1.3 em with its spaces) or a \qquad indent
KEEP_ROWS = 8  # a display of this many rows or fewer is not broken across pages
TAG_ROOM = 4.0  # em the equation number takes at the right, "(123)" and amsmath's least gap before it

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage[a4paper, margin=2cm]{geometry}
\usepackage{amsmath}
\usepackage{graphicx}
\usepackage{tikz}
\usepackage{array}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{float}
\usepackage[hidelinks]{hyperref}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.4em}
\setlength{\emergencystretch}{3em}  % a paragraph with a long token (a path, a module name) stretches rather than overflows
\newsavebox{\figurebox}
% a picture no wider than the line: scaled down to it when it is wider, else as drawn
\newcommand{\fitted}{\ifdim\wd\figurebox>\linewidth\resizebox{\linewidth}{!}{\usebox{\figurebox}}\else\usebox{\figurebox}\fi}
% a table row with a fraction in it: room above and below the display-style fraction
\newcommand{\tallrow}{\rule[-11pt]{0pt}{28pt}}
% a page break here unless that much room is left (needspace's rule, needspace not being among the
% packages texlive-latex-recommended installs); none right after a heading, which is not to be left
% alone at the foot of a page: a section that opens with a table asks for its room before its heading
\makeatletter
\newcommand{\roomfor}[1]{\par\if@nobreak\else\penalty-100\begingroup\setlength{\dimen@}{#1}\dimen@ii\pagegoal
\advance\dimen@ii-\pagetotal\ifdim\dimen@>\dimen@ii\ifdim\dimen@ii>\z@\vfil\fi\break\fi\endgroup\fi}
\makeatother
% a display of a few rows kept on one page (\allowdisplaybreaks lets longer ones break)
\newenvironment{together}{\interdisplaylinepenalty=10000\relax}{}
% a step's note and the equations it uses, right-aligned under its number, on the display's page:
% \keepnote, in a display's last row, forbids the page breaks after it (amsmath puts the penalty
% between rows after each row, the last one too), and \stepnote allows them again
\edef\rowbreakpenalty{\the\interdisplaylinepenalty}
\edef\afterdisplaypenalty{\the\postdisplaypenalty}
\makeatletter
\newcommand{\keepnote}{\ifmeasuring@\else\global\interdisplaylinepenalty=\@M\global\postdisplaypenalty=\@M\fi}
\makeatother
\newcommand{\stepnote}[1]{\par\global\interdisplaylinepenalty=\rowbreakpenalty\relax
\global\postdisplaypenalty=\afterdisplaypenalty\relax\vspace{-\belowdisplayskip}\vspace{-\parskip}\vspace{2pt}%
{\raggedleft\small #1\par}}
"""

SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
           "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
           "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", "δ": r"$\delta$", "Δ": r"$\Delta$", "η": r"$\eta$",
           "ŷ": r"$\hat{y}$", "≈": r"$\approx$", "→": r"$\to$", "·": r"$\cdot$"}
TYPED_HYPHENS = re.compile(r"-(?=-)")  # TeX joins -- into an en dash: --show would read –show


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


# a token too long for a line (a module path, a file name) may break after its dots, colons, slashes and underscores
LONG_TOKEN, BREAK_AFTER = re.compile(r"[^\s\x00\x01]{24,}"), re.compile(r"[.:/_]")
MINUS = re.compile(r"(?<![\w.])-(?=\.?\d)|(?<=\d[eE])-(?=\d)|(?<=\s)-(?=\s)")  # as the HTML printer's prose


def escape(text: str) -> str:
    """File text (a title, a note) as LaTeX: specials escaped, Latin-1 letters as they are, Greek
    and math symbols as commands, a hyphen that is a minus sign (``-0.0784``, ``y - b``) as one, and
    any other character as its code point, so pdflatex never fails; a long token may break after . : / _."""
    text = LONG_TOKEN.sub(lambda m: BREAK_AFTER.sub("\\g<0>\1", m[0]), text)  # \1: a break, marked as \0 is
    pieces = (TYPED_HYPHENS.sub("\0", piece) for piece in MINUS.split(text))  # a marker no file text holds
    return "$-$".join("".join(_character(c) for c in piece).replace("\0", "-{}").replace("\1", r"\allowbreak{}")
                      for piece in pieces)


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


# -- steps -----------------------------------------------------------------------------------------
def display(chain: list[Side], tag: str = "") -> str:
    """One align* per step: on one line when short, else one equality per row, and a side too wide
    for the page in continuation rows (``&\\quad + ...``) cut where formulas.latex.rows finds room.
    ``tag`` (``\\tag{12}\\label{eq-12}``) goes on the last row, with room kept for it on every row."""
    room = ROOM - (TAG_ROOM if tag else 0.0)
    line = one_line([(side.relation, side.text) for side in chain])
    if len(chain) < 2 or (len(line) <= LONG and tex_width(line) <= room):
        return f"\\begin{{align*}}\n{line}{tag}\n\\end{{align*}}"
    lhs = chain[0].text
    limit = max(room - tex_width(lhs) - CONTINUATION, room / 2)
    out = []
    for side in chain[1:]:
        for j, (indent, text) in enumerate(rows(side, limit)):
            lead = f"{side.relation} " if j == 0 else f"{INDENT[indent]} "
            out.append(f"{'' if out else lhs + ' '}&{lead}{text}")
    body = "\\begin{align*}\n" + " \\\\\n".join(out) + tag + "\n\\end{align*}"
    return f"\\begin{{together}}\n{body}\n\\end{{together}}" if len(out) <= KEEP_ROWS else body


def step_tex(step, number: int, cited: tuple[int, ...]) -> str:
    """The step's display, numbered, then its note and the equations it uses, under the number."""
    said = [rf"\emph{{{escape(step.note)}}}"] if step.note else []
    if cited:
        said.append("using " + ", ".join(rf"\eqref{{{label('eq', n)}}}" for n in cited))
    tag = rf"\tag{{{number}}}\label{{{label('eq', number)}}}" + (r"\keepnote" if said else "")
    return display(sides(step), tag) + ("\n" + rf"\stepnote{{{'; '.join(said)}}}" if said else "")


# -- tables ----------------------------------------------------------------------------------------
PROSE_EM = 0.5  # em per character of roman text, a little over Computer Modern's average
WRAP_MIN = 8.0  # em: a prose column narrower than this is never wrapped
SIZES = (("", 1.0, 6.0), (r"\small", 10 / 10.95, 5.0), (r"\footnotesize", 9 / 10.95, 4.0), (r"\scriptsize", 8 / 10.95, 3.0))
CHUNK_SIZE = 1  # the size (index into SIZES) a table too wide for any is set in, a few columns at a time


@dataclass(frozen=True)
class Cell:
    text: str  # LaTeX, in a tabular cell
    width: float  # em at 11 pt, as set on one line
    kind: str  # "prose", "number" or "formula"


def cell(value) -> Cell:
    """A table cell: prose escaped, a Number its decimal (``≈`` when rounded), anything else a formula."""
    if value is None:
        return Cell("", 0.0, "prose")
    if isinstance(value, str):
        text = " ".join(value.split())
        return Cell(escape(text), PROSE_EM * len(text), "prose")
    if isinstance(value, Number):
        number = tex_decimal(decimal(value.value))
        math = number if is_exact(value.value) else rf"\approx {number}"
        return Cell(f"${math}$", tex_width(math), "number")
    math = tex(value if not isinstance(value, int | float) else sp.sympify(value))
    if r"\frac" in math:  # a fraction as the steps set it, not in script size (its row made taller: \tallrow)
        return Cell(rf"$\displaystyle {math}$", tex_width(math), "formula")
    return Cell(f"${math}$", tex_width(math), "formula")


@dataclass(frozen=True)
class Layout:
    size: str  # a font size command, or ""
    sep: float  # \tabcolsep, pt
    specs: tuple[str, ...]  # each column's preamble


def _layout(columns: list[list[Cell]], room: float) -> Layout | None:
    """The largest type in which the columns fit ``room`` em: on one line each, else the widest prose
    columns wrapped (ragged right, at least WRAP_MIN em); None when no size fits."""
    natural = [max(c.width for c in column) for column in columns]
    plain = ["r" if all(c.kind == "number" for c in column[1:]) and len(column) > 1 else "l" for column in columns]
    for size, scale, sep in SIZES:
        seps = 2 * sep / 10.95 * (len(columns) - 1)
        if scale * sum(natural) + seps <= room:
            return Layout(size, sep, tuple(plain))
        wrap = [i for i, column in enumerate(columns) if all(c.kind == "prose" for c in column) and scale * natural[i] > WRAP_MIN]
        fixed = scale * sum(w for i, w in enumerate(natural) if i not in wrap) + seps
        left = room - fixed
        if wrap and left >= WRAP_MIN * len(wrap):
            total = sum(natural[i] for i in wrap)
            specs = list(plain)
            for i in wrap:  # in 11 pt em: \linewidth does not change with the type size
                width = max(WRAP_MIN, left * natural[i] / total)
                specs[i] = rf">{{\raggedright\arraybackslash}}p{{{width * 10.95 / 72.27 * 2.54:.2f}cm}}"
            return Layout(size, sep, tuple(specs))
    return None


def _chunks(columns: list[list[Cell]], room: float) -> list[list[int]]:
    """Column indices in groups that fit ``room`` in the type CHUNK_SIZE, each group after the first
    repeating the first column (the rows' names)."""
    _, scale, sep = SIZES[CHUNK_SIZE]
    natural = [scale * max(c.width for c in column) + 2 * sep / 10.95 for column in columns]
    groups, current = [], [0]
    for i in range(1, len(columns)):
        if len(current) > 1 and sum(natural[j] for j in current) + natural[i] > room:
            groups.append(current)
            current = [0]
        current.append(i)
    groups.append(current)
    return groups


def _longtable(cells: list[list[Cell]], layout: Layout, caption: str, part: int = 0) -> str:
    """One longtable: its caption, the head repeated on every page, the rows, a note where it continues.
    A ``part`` after the first continues the table before it: the same number, an anchor of its own."""
    n = len(cells[0])
    head = " & ".join(c.text for c in cells[0]) + (r"\tallrow" if any(r"\displaystyle" in c.text for c in cells[0]) else "") + r" \\"
    spec = "@{}" + "".join(layout.specs) + "@{}"
    body = [r"\begin{longtable}{" + spec + "}", caption + r" \\", r"\toprule", head, r"\midrule", r"\endfirsthead",
            r"\caption[]{(continued)} \\", r"\toprule", head, r"\midrule", r"\endhead",
            r"\midrule", rf"\multicolumn{{{n}}}{{r@{{}}}}{{\emph{{continued on the next page}}}} \\", r"\endfoot",
            r"\bottomrule", r"\endlastfoot"]
    body += [" & ".join(c.text for c in row) + (r"\tallrow" if any(r"\displaystyle" in c.text for c in row) else "") + r" \\"
             for row in cells[1:]]
    body.append(r"\end{longtable}")
    settings = [rf"\setlength{{\tabcolsep}}{{{layout.sep:g}pt}}"] + ([layout.size] if layout.size else [])
    if part:  # longtable steps the table counter: step it back, and keep hyperref's anchors apart
        settings += [r"\addtocounter{table}{-1}", rf"\renewcommand{{\theHtable}}{{\arabic{{table}}.part{part}}}"]
    return "\\roomfor{8\\baselineskip}\n\\begingroup\n" + "\n".join(settings) + "\n" + "\n".join(body) + "\n\\endgroup"


def table_tex(table: Table, number: int) -> str:
    """The table as one longtable in the largest type that fits the text width, or, far too wide for
    that, as several in turn, a few columns each (the first, the rows' names, in every one), one number."""
    width = max([len(table.head)] + [len(row) for row in table.rows])
    grid = [[cell(v) for v in (*row, *[""] * (width - len(row)))] for row in (table.head, *table.rows)]
    columns = [list(column) for column in zip(*grid)]
    tag = rf"\label{{{label('tab', number)}}}"
    layout = _layout(columns, ROOM)
    if layout is not None:
        return _longtable(grid, layout, rf"\caption{{{escape(table.caption)}}}{tag}")
    out = []
    for part, group in enumerate(_chunks(columns, ROOM)):
        layout = _layout([columns[i] for i in group], ROOM) or Layout(SIZES[-1][0], SIZES[-1][2], ("l",) * len(group))
        shown = f"columns {group[1] + 1}--{group[-1] + 1} of {width}" if len(group) > 1 else ""
        caption = rf"\caption{{{escape(table.caption)} ({shown})}}{tag}" if part == 0 else rf"\caption[]{{(continued: {shown})}}"
        out.append(_longtable([[row[i] for i in group] for row in grid], layout, caption, part))
    return "\n".join(out)


# -- figures and the document ----------------------------------------------------------------------
def figure_tex(body: str, figure: Figure) -> str:
    """A figure where the text puts it (float's [H]), scaled down to the line when wider, captioned and labelled."""
    return "\n".join([r"\begin{figure}[H]", r"\centering", r"\begin{lrbox}{\figurebox}", body, r"\end{lrbox}",
                      r"\fitted", rf"\caption{{{escape(figure.caption)}}}\label{{{label('fig', figure.number)}}}",
                      r"\end{figure}"])


def plot_tex(figure: Figure, href: str, ext: str) -> str:
    return figure_tex(rf"\includegraphics[width=0.7\textwidth]{{{href.rstrip('/')}/{figure.plot.name}.{ext}}}", figure)


def references(network: Figure | None, plots: tuple[Figure, ...]) -> list[str]:
    """The sentences of a section's text that cite its figures."""
    out = [rf"Figure~\ref{{{label('fig', network.number)}}} shows the network."] if network else []
    out += [rf"Figure~\ref{{{label('fig', f.number)}}}, at the end of this section, plots {escape(plot_sentence(f.plot))}."
            for f in plots]
    return out


def section_tex(section: Section, k: int, numbers: Numbers, href: str | None, ext: str) -> list[str]:
    """A section in the order nodes.py gives: text (and what cites its figures), network, tables, steps, plots."""
    opens_with_table = section.tables and not section.text and numbers.network[k] is None and not numbers.plots[k]
    out = ([r"\roomfor{12\baselineskip}"] if opens_with_table else []) + [rf"\section{{{escape(section.title)}}}"]
    for line in section.text:  # a long listing (hundreds of parameters) in small type
        out += [rf"{{\footnotesize {escape(line)}\par}}" if len(line) > 400 else escape(line), ""]
    network, plots = numbers.network[k], numbers.plots[k]
    for sentence in references(network, plots):
        out += [sentence, ""]
    if network is not None:
        out += [figure_tex(tikz(section.network), network), ""]
    for table, number in zip(section.tables, numbers.tables[k]):
        out += [table_tex(table, number), ""]
    for step, number, cited in zip(section.steps, numbers.equations[k], numbers.cited[k]):
        out.append(step_tex(step, number, cited))
    out.append("")
    for figure in plots:
        out += [plot_tex(figure, href, ext), ""]
    return out


def render(doc: Walkthrough, plots_href: str | None = None, plot_ext: str = "png") -> str:
    numbers = numbering(doc, plots_href is not None)
    out = [PREAMBLE, rf"\title{{{escape(doc.title)}}}", r"\date{}", r"\begin{document}", r"\maketitle",
           r"\tableofcontents", ""]
    for k, section in enumerate(doc.sections):
        out += section_tex(section, k, numbers, plots_href, plot_ext)
    if numbers.unplaced:
        out += [r"\section{Plots}", ""] + [plot_tex(figure, plots_href, plot_ext) for figure in numbers.unplaced]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
