"""The vocabulary of a text's LaTeX: its unicode and names made plain, the patterns of names,
Leibniz fractions and primes, what is not supported, and the atoms (holes) names become.

latex_reader.py uses it to read a formula; nothing here calls the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

import sympy as sp

from ..core.function_table import ACTIVATIONS

UNICODE = {
    "−": "-", "–": "-", "—": "-", "⋅": r" \cdot ", "·": r" \cdot ", "∙": r" \cdot ", "×": r" \times ",
    "∗": r" \cdot ", "η": r"\eta ", "∂": r"\partial ", "σ": r"\sigma ", "δ": r"\delta ", "Δ": r"\Delta ",
    "θ": r"\theta ", "ŷ": r"\hat{y}", "’": "'", "′": "'", "ⅇ": "e", "²": "^2", "³": "^3", "\u00a0": " ",
    "\u200b": "", "∑": r"\sum ", "≤": r" \leq ", "≥": r" \geq ", "≈": r" \approx ", "π": r"\pi ",
}
DROP = re.compile(r"\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|\\[bB]igg?[lr]?(?![a-zA-Z])|(?<!\\)\\[,;:! ]|\\quad|\\qquad|\\displaystyle")
GREEK = ("alpha beta gamma delta epsilon varepsilon eta theta lambda mu sigma tau phi psi omega "
         "Delta Gamma Theta Lambda Sigma Phi Psi Omega").split()


FUNCTIONS = {  # a name the text applies to arguments in parentheses -> what it reads as; activations from the table
    **{name.lower(): act.form for act in ACTIVATIONS.values() for name in act.names}, "max": sp.Max,
    "exp": sp.exp, "ln": sp.log, "log": sp.log, "theta": sp.Heaviside, "heaviside": sp.Heaviside,  # theta(z, c): H(0) = c
}
ANGLE_CMDS = {r"\frac", r"\sqrt", r"\cdot", r"\times", r"\tanh", r"\exp", r"\ln", r"\log", r"\max", r"\pi"}
UNSUPPORTED = {r"\int": "integrals", r"\sum": "sums", r"\prod": "products", r"\lim": "limits", r"\begin": "environments other than cases",
               r"\leq": "inequalities", r"\geq": "inequalities", r"\approx": "approximations", r"\neq": "inequalities",
               r"\in": "set membership", r"\nabla": "gradients (nabla)", r"\circ": "composition"}

NAME_CMDS = ("text", "mathrm", "operatorname", "mathit", "textrm", "mathbf", "mathsf")
# what \text{...} may hold: a name, the file's own with its underscores and slashes (w2\_1\_2, dE/dw2_1_2, w2_1_2@2)
CMD_NAME = r"[A-Za-z](?:[A-Za-z0-9 /@]|\\?_)*"
_CMD = r"\\(?:" + "|".join(NAME_CMDS) + r")\s*\{\s*" + CMD_NAME + r"\s*\}"
_NAME = (rf"(?:{_CMD}"
         r"|\\hat\s*\{?\s*[A-Za-z]\s*\}?|\\(?:" + "|".join(GREEK) + r")(?![A-Za-z])|[A-Za-z]+)")
_SUB = r"(?:\s*_\s*(?:\{[^{}]*\}|[A-Za-z0-9]+)|(?<=[A-Za-z])\d+)?"
IDENT = re.compile(rf"(?P<name>{_NAME})(?P<sub>{_SUB})")
_RUN = _NAME.replace("|[A-Za-z]+)", "|(?<![A-Za-z])[A-Za-z]+)")  # a name's letters from their start: searched in linear time
# a name as the file writes it, with its underscores: w2_1_2, delta_n2_1, z_n2_1, w2\_1\_2 (an escaped underscore)
_FILE = r"[A-Za-z][A-Za-z0-9]*(?:\\?_[A-Za-z0-9]+)+(?![A-Za-z0-9])"
FILE_NAME = re.compile(r"(?<![A-Za-z0-9\\])" + _FILE)
# a name with a superscript (a layer, as texts write b^{2}_{1} or \delta^{l}): read as one name where symbols maps it
_BASE = re.compile(rf"(?P<base>\\hat\s*(?:\{{\s*[A-Za-z]\s*\}}|[A-Za-z])|{_CMD}|\\(?:" + "|".join(GREEK)
                   + r")(?![A-Za-z])|(?<![A-Za-z\\])[A-Za-z]+(?P<digits>\d*))")
_SCRIPT = re.compile(r"\s*(?:(?P<op>\^)\s*(?:\{(?P<braced>(?:[^{}]|\{[^{}]*\})*)\}|(?P<bare>\\(?!prime(?![A-Za-z]))[A-Za-z]+|[A-Za-z0-9]))"
                     r"|(?P<sop>_)\s*(?:\{(?P<sbraced>(?:[^{}]|\{[^{}]*\})*)\}|(?P<sbare>\\[A-Za-z]+|[A-Za-z0-9]+)))")
PRIME = re.compile(rf"(?P<ident>{_RUN}{_SUB})\s*(?:'|\^\s*'|\^\s*\{{\s*\\prime\s*\}}|\^\s*\\prime)(?P<more>')?"
                   r"(?:\s*\((?P<arg>[^()]*)\))?")
_BRACED = r"(?:[^{}]|\{[^{}]*\})*"
LEIBNIZ = re.compile(rf"\\frac\s*\{{\s*(?P<d1>\\partial|d|\\mathrm\{{d\}})\s*(?P<num>{_BRACED})\}}\s*"
                     rf"\{{\s*(?P<d2>\\partial|d|\\mathrm\{{d\}})\s*(?P<den>{_BRACED})\}}")
_INLINE = rf"(?:\s*\x00\d+\x01|{_FILE}|{_NAME}{_SUB})"  # a name after \partial or d: a mapped key's hole too
INLINE_LEIBNIZ = re.compile(rf"\\partial\s*(?P<num>{_INLINE})\s*/\s*\\partial\s*(?P<den>{_INLINE})")
PLAIN_LEIBNIZ = re.compile(rf"(?<![A-Za-z0-9\\])d(?P<num>{_INLINE})\s*/\s*d(?P<den>{_INLINE})")  # dE/dw2_1_2, as files name it
TIMES_X = re.compile(r"(?<=[\w)}])\s+x\s+(?=[\w(\\])")
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
HOLE = "\x00{}\x01"
HOLES = re.compile("\x00(\\d+)\x01")

# \begin{cases} blocks: rows of "value & condition"
CASES = re.compile(r"\\begin\s*\{cases\}((?:(?!\\begin\s*\{cases\}).)*?)\\end\s*\{cases\}", re.S)
_WORD = r"\s*,?\s*(?:\\(?:text|mathrm|textrm)\s*\{{\s*(?:{0})\s*[.,]?\s*\}}|(?:{0})(?![A-Za-z]))"
CONDITION_WORD = re.compile(_WORD.format("for|if|when") + "?")
OTHERWISE = re.compile(_WORD.format("otherwise|else") + r"\s*[.,]?\s*")
RELATIONS = {r"\geq": sp.Ge, r"\ge": sp.Ge, r"\leq": sp.Le, r"\le": sp.Le, r"\gt": sp.Gt, r"\lt": sp.Lt, r"\neq": sp.Ne,
             r"\ne": sp.Ne, ">=": sp.Ge, "<=": sp.Le, ">": sp.Gt, "<": sp.Lt, "=": sp.Eq}
RELATION = re.compile("|".join(re.escape(r) + ("(?![A-Za-z])" if r[0] == "\\" else "") for r in RELATIONS))

# the names left once fractions and primes are atoms
SUBSCRIPT = re.compile(r"\s*_\s*(?:\{[^{}]*\}|[A-Za-z0-9]+)")
TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z]+\d*")


class FormulaError(ValueError):
    """A formula that cannot be read: the message says what and where."""


@dataclass(frozen=True)
class Atom:
    """A name the text uses: ``symbol`` (W_53), ``leibniz`` (dL/dW_53), ``prime`` (f'(b)), ``key``;
    internally also ``value``: a part read here, not by the parser (cases, a function applied)."""

    kind: str
    text: str  # canonical
    parts: tuple[str, ...] = ()  # leibniz: (numerator, denominator); prime: (function, argument or "")
    value: sp.Expr | None = None  # value: the SymPy it reads as


def canonical_name(text: str) -> str:
    """``W_{53}``, ``W_53`` and ``W53`` -> ``W_53``; ``\\text{MSE}`` -> ``MSE``; ``\\eta`` -> ``eta``; the file's
    own ``w2\\_1\\_2`` -> ``w2_1_2``; a name with a superscript as scripted_name writes it (``b^{2}_{1}``)."""
    text = text.strip()
    scripted = scripted_name(text)
    if scripted:
        return scripted
    if FILE_NAME.fullmatch(text):
        return text.replace("\\_", "_")
    m = IDENT.fullmatch(text)
    if not m:
        return " ".join(text.split())
    name = re.sub(r"\\(?:text|mathrm|operatorname|mathit|textrm|mathbf|mathsf)\s*\{\s*(.*?)\s*\}", r"\1", m["name"])
    name = re.sub(r"\\hat\s*\{?\s*([A-Za-z])\s*\}?", r"\1hat", name).lstrip("\\").replace(" ", "").replace("\\_", "_")
    sub = re.sub(r"[\s_{}]", "", m["sub"] or "")
    sub = re.sub(r"\\([A-Za-z]+)", r"\1", sub)
    return f"{name}_{sub}" if sub else name


def scripted(text: str, pos: int = 0, search: bool = False) -> tuple[re.Match, str, int] | None:
    """The name with a superscript at ``pos`` (or, with ``search``, the first one from there), its text
    as scripted_name writes it, and where it ends; None when there is none."""
    while (m := (_BASE.search if search else _BASE.match)(text, pos)) is not None:
        scripts, end = {}, m.end()
        while (s := _SCRIPT.match(text, end)) is not None and ("^" if s["op"] else "_") not in scripts:
            arg = next((a for a in (s["braced"], s["bare"], s["sbraced"], s["sbare"]) if a is not None), "")
            scripts["^" if s["op"] else "_"] = "".join(arg.split())
            end = s.end()
        sup, sub = scripts.get("^"), scripts.get("_")
        if sup and sup not in ("'", "\\prime") and (sub is None or not m["digits"]) and (sub is None or sub):
            base = m["base"][:len(m["base"]) - len(m["digits"] or "")]
            base = re.sub(r"^\\hat\s*\{?\s*([A-Za-z])\s*\}?$", r"\\hat{\1}", base)
            base = re.sub(r"^(\\[A-Za-z]+)\s*\{\s*(.*?)\s*\}$", r"\1{\2}", base)
            sub = sub if sub is not None else m["digits"] or None
            return m, base + "^{" + sup + "}" + (f"_{{{sub}}}" if sub else ""), end
        if not search:
            return None
        pos = m.end()
    return None


def scripted_name(text: str) -> str | None:
    """A name with a superscript, however written, as one text: ``b^2_1``, ``b^{2}_{1}``, ``b_1^2``, ``b_{1}^{2}``
    -> ``b^{2}_{1}``; ``\\delta^{l}_{j}``; ``W53^{new}`` -> ``W^{new}_{53}``. None for anything else."""
    found = scripted(text.strip())
    return found[1] if found is not None and found[2] == len(text.strip()) else None


def prepare(text: str, times_x: bool) -> str:
    """Unicode, spacing commands and decimals made plain LaTeX (``0.5`` -> ``\\frac{1}{2}``: exact)."""
    for k, v in UNICODE.items():
        text = text.replace(k, v)
    text = re.sub(r"([A-Za-z])\u0302", r"\\hat{\1}", text)  # y + combining circumflex
    text = DROP.sub(" ", text)
    text = re.sub(r"\\[dt]frac", r"\\frac", text)
    text = re.sub(r"\\log(?![A-Za-z])(?!_)", r"\\ln", text)  # natural, as SymPy prints it (the parser reads base 10)
    text = re.sub(r"\\(?:operatorname|mathrm|text|textrm)\s*\{\s*([A-Za-z]+)\s*\}(?=\s*\()",
                  lambda m: m[1] if m[1].lower() in FUNCTIONS else m[0], text)
    if times_x:
        text = TIMES_X.sub(r" \\times ", text)
    text = DECIMAL.sub(lambda m: "\\frac{{{}}}{{{}}}".format(*Fraction(m[0]).as_integer_ratio()), text)
    return " ".join(text.split()).rstrip(". ")


class Atoms:
    """The atoms found so far in one formula, each one hole; and the names its claim maps."""

    def __init__(self, keys: tuple[str, ...] = (), functions: tuple[str, ...] = ()) -> None:
        self.atoms: list[Atom] = []
        self.index: dict[tuple[str, str], int] = {}  # (kind, text) -> its hole
        self.keys = tuple(k for k in keys if k.strip())  # an empty key names nothing
        self.times_x = "x" not in {canonical_name(k) for k in keys}
        self.names = {canonical_name(k) for k in keys}
        self.functions = {canonical_name(f) for f in functions}

    def hole(self, atom: Atom) -> str:
        if any(c in atom.text or any(c in p for p in atom.parts) for c in "\x00\x01"):  # a name around a hole: its text
            def plain(t: str) -> str:
                return readable(t, self.atoms).replace("\x00", "").replace("\x01", "")

            atom = replace(atom, text=plain(atom.text), parts=tuple(plain(p) for p in atom.parts))
        i = self.index.setdefault((atom.kind, atom.text), len(self.atoms))
        if i == len(self.atoms):
            self.atoms.append(atom)
        return " " + HOLE.format(i) + " "


def check_supported(text: str, atoms: list[Atom] = ()) -> None:
    """What formula claims do not read (sums, integrals, inequalities...) fails here, by name and piece."""
    where = f" in {quoted(text, atoms)}"
    if text.count("{") != text.count("}"):
        raise FormulaError(f"unbalanced braces {{ }}: {text.count('{')} {{ and {text.count('}')} }}{where}")
    if text.count("(") != text.count(")"):
        raise FormulaError(f"unbalanced parentheses ( ): {text.count('(')} ( and {text.count(')')} ){where}")
    if m := re.search(r"\\(?:begin|end)\s*\{cases\}", text):
        raise FormulaError(rf"\begin{{cases}} without its \end{{cases}}, or the reverse: {m[0]}{where}")
    for cmd, what in UNSUPPORTED.items():
        if re.search(re.escape(cmd) + r"(?![A-Za-z])", text):
            raise FormulaError(f"{cmd}: {what} are not supported in formula claims{where}")
    if m := re.search(r"\\frac\s*\{\s*(\\partial|d)\s*\}", text):
        raise FormulaError(f"a derivative operator d/dx applied to an expression is not supported ({m[0]}); write the "
                           f"Leibniz fraction of a named quantity, like \\frac{{\\partial L}}{{\\partial w}}{where}")
    if m := re.search(r"''|\\prime\s*\\prime", text):
        raise FormulaError(f"second derivatives ({m[0]}) are not supported{where}")


def around(text: str, start: int, end: int, found: Atoms) -> str:
    """The piece of the formula around ``text[start:end]`` for a message: all of it when short, else from
    the word 30 characters before to the one 30 after."""
    if len(readable(text, found.atoms)) > 80:
        before, after = text.rfind(" ", 0, max(0, start - 30)), text.find(" ", end + 30)
        text = text[before + 1 if before >= 0 else 0:after if after >= 0 else len(text)]
    return quoted(text, found.atoms)


CHAIN = re.compile(r"(?:\\?_[A-Za-z0-9]+)+(?![A-Za-z0-9])")


def one_name(text: str, found: Atoms) -> bool:
    """Whether a name written with underscores (w2_1_2, delta_n2_1, w2\\_1\\_2) is one name, the file's own,
    rather than letters with a subscript: where LaTeX would misread it (an escaped underscore, a second
    subscript, a subscript on a digit), where it names a quantity kind (delta_a, Delta_w), or where
    symbols maps it."""
    return ("\\_" in text or text.count("_") > 1 or bool(re.match(r"[A-Za-z]+\d+_|(?:delta|Delta)_", text))
            or canonical_name(text) in found.names)


def stray_subscripts(text: str, found: Atoms) -> None:
    """A subscript that no name took (after a superscript, a bracket, a number, a second one) is refused:
    the parser would make a name of its own of it, or drop it (``e^{x}_1`` is e^x)."""
    for m in re.finditer("_", text):
        if re.search(r"\\log\s*$", text[:m.start()]):  # \log_{2}: the base
            continue
        sub = SUBSCRIPT.match(text, m.start())
        end = sub.end() if sub else m.end()
        sup = re.search(r"\x00(\d+)\x01\s*\^\s*(?:\{[^{}]*\}|\x00\d+\x01|\S)\s*$", text[:m.start()])
        if sup and found.atoms[int(sup[1])].kind in ("symbol", "key") and "_" not in found.atoms[int(sup[1])].text:
            base = found.atoms[int(sup[1])].text
            written = ("\\" if base in GREEK else "") + base + "".join(readable(text[sup.end(1) + 1:end], found.atoms).split())
            name = scripted_name(written) or written
            raise FormulaError(f"'{name}' has a superscript before its subscript: it is one name of the text (a layer, as "
                               f"b^{{2}}_{{1}} for b2_1) only where symbols maps it, like symbols = {{ '{name}' = \"...\" }}; "
                               f"a power is written after the subscript (b_{{1}}^{{2}})")
        piece = around(text, m.start(), end, found)
        raise FormulaError(f"a subscript that belongs to no name (a second subscript, or one after a number, a bracket or "
                           f"a power): {quoted(text[m.start():end], found.atoms)} in {piece}")


def explicit_products(text: str) -> str:
    """``2 W (a)`` is read by the parser as 2 * W(a): every adjacency becomes an explicit \\cdot."""
    operand_end = r"(?:\x01|\d|\)|(?<![\^_])\}|\be\b|\\pi)"
    operand_start = r"(?:\x00|\(|\\frac|\\sqrt|\\tanh|\\exp|\\ln|\\log|\\max|\be\b|\\pi|\d)"
    prev = None
    while prev != text:
        prev = text
        text = re.sub(rf"({operand_end})\s+(?={operand_start})", r"\1 \\cdot ", text)
        text = re.sub(rf"(\x01|\))(?={operand_start})", r"\1 \\cdot ", text)
    return " ".join(text.split())


def split_sides(text: str) -> list[str]:
    """The sides of ``=`` outside any brackets."""
    depth, parts, start = 0, [], 0
    for i, ch in enumerate(text):
        depth += ch in "({["
        depth -= ch in ")}]"
        if ch == "=" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def readable(text: str, atoms: list[Atom]) -> str:
    """Placeholder text with each hole written back as its atom's name, for messages."""
    return HOLES.sub(lambda m: atoms[int(m[1])].text if int(m[1]) < len(atoms) else "", text)


def quoted(text: str, atoms: list[Atom] = ()) -> str:
    """A piece of the formula for a message: its names written back, on one line, at most 80 characters."""
    text = " ".join(readable(text, list(atoms)).replace("\x00", " ").replace("\x01", " ").split())
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in (text if len(text) <= 80 else text[:77] + "..."))
    return f"'{text}'"  # as the text writes it: a backslash is one
