"""The parser's side of the LaTeX reader: placeholder text through latex2sympy2_extended, checked.

latex_reader.py gives this module text in which every name is a hole (``\\x00N\\x01``). Here each
bracket's content is read on its own (antlr's cost grows with the brackets around a piece), each
hole is given to the parser as a placeholder ``\\text{vN}``, the parser's bounds are checked before
it runs (formula_limits.py), and its reading is checked before SymPy evaluates it: only the
functions listed here, numbers within bounds, and no name but the placeholders. A message says
what stopped and where, in the text's own names: never a placeholder.
"""

from __future__ import annotations

import functools
import re

import sympy as sp
from latex2sympy2_extended import latex2sympy
from latex2sympy2_extended.latex2sympy2 import ConversionConfig
from latex2sympy2_extended.math_normalization import NormalizationConfig

from . import formula_limits as limits
from .latex_names import HOLES, Atom, Atoms, FormulaError, quoted, readable

PLACEHOLDER = "\\text{{v{}}}"  # what the parser is given for hole N: antlr reads v_{N} 25 times slower
PLACEHOLDER_NAME = re.compile(r"v(\d+)")
PARSER_FUNCTIONS = (sp.exp, sp.log, sp.tanh, sp.Abs, sp.Max, sp.Min)  # what the parser may make (the rest is read here)


class Found(Atoms):
    """The atoms of one formula, and how much of the parser's budget its pieces have used."""

    def __init__(self, keys: tuple[str, ...], functions: tuple[str, ...]) -> None:
        super().__init__(keys, functions)
        self.tokens = 0


@functools.lru_cache(maxsize=4096)
def _parsed(given: str) -> sp.Basic:
    """The parser's reading of placeholder text; formulas of one shape (``v_0 + v_1 v_2``) share it."""
    return _parser()(given)


def _parser():
    conversion = ConversionConfig(interpret_as_mixed_fractions=False, interpret_simple_eq_as_assignment=False,
                                  interpret_contains_as_eq=False, lowercase_symbols=False)
    normalization = NormalizationConfig(basic_latex=False, units=False, malformed_operators=False, nits=False,
                                        boxed="none", equations=False)
    return lambda text: latex2sympy(text, conversion_config=conversion, normalization_config=normalization)


def groups(text: str, found: Found) -> str:
    """Each bracket's content read on its own, innermost first, and left in its brackets as one atom:
    antlr reads ahead to the closing bracket at every opening one, so read whole, a bracket's content
    costs once per bracket around it (bare braces more: antlr weighs a set against a group). Left
    as they are: subscripts, a command's own braces (``\\frac{a}{b}``, ``\\sqrt[3]{x}``), contents
    with a comma (a tuple, an interval), empty ones, and short ones, which cost less than a call.
    An absolute value ``|x|`` becomes one atom, its bars never reach antlr (20 of them take it seconds):
    a bar opens where an operand would start and closes an open one after an operand, as texts write them."""
    frames: list[list[str]] = [[]]  # the text of each open bracket so far
    opened: list[tuple[str, bool]] = []  # each open bracket, and whether its content is read on its own
    closer = {"(": ")", "[": "]", "{": "}", "|": "|"}
    for ch in text:
        before = "".join(frames[-1][-24:]).rstrip()
        if ch == "|" and opened and opened[-1][0] == "|" and _operand_end(before):
            opened.pop()
            inner = "".join(frames.pop())
            shown = "|" + " ".join(readable(inner, found.atoms).split()) + "|"
            frames[-1].append(found.hole(Atom("value", shown, value=sp.Abs(read(inner, found)))))
        elif ch in closer:
            alone = ch == "(" or not (before.endswith(("_", "}", "]", "\\")) or re.search(r"\\[A-Za-z]+$", before))
            opened.append((ch, alone))
            frames.append([])
            if len(opened) > limits.MAX_DEPTH:
                raise FormulaError(f"the formula nests brackets and bars | | more than {limits.MAX_DEPTH} deep; the reader "
                                   f"reads at most {limits.MAX_DEPTH}, in {quoted(text, found.atoms)}")
        elif opened and ch == closer[opened[-1][0]]:
            opener, alone = opened.pop()
            inner = "".join(frames.pop())
            if alone and inner.strip() and not _comma(inner) and (opener == "{" or len(limits.PARSER_TOKEN.findall(inner)) > 24):
                shown = opener + " ".join(readable(inner, found.atoms).split()) + ch
                inner = found.hole(Atom("value", shown, value=read(inner, found)))
            frames[-1].append(opener + inner + ch)
        else:
            frames[-1].append(ch)
    while opened:  # never closed: left for the parser to refuse, but a bar, which costs it seconds
        inner = "".join(frames.pop())
        opener = opened.pop()[0]
        if opener == "|":
            raise FormulaError(f"an absolute value | that is never closed, in {quoted(text, found.atoms)}")
        frames[-1].append(opener + inner)
    return "".join(frames[0])


def _operand_end(text: str) -> bool:
    """Whether the text so far ends an operand (a bar after it closes an absolute value)."""
    return bool(text) and not re.search(r"\\[A-Za-z]+$", text) and (text[-1].isalnum() or text[-1] in ")]}\x01!'")


def _comma(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch in "([{") - (ch in ")]}")
        if ch == "," and depth == 0:
            return True
    return False


def _names_back(text: str, atoms: list[Atom]) -> str:
    """The parser's own text (a message, a name it made) with every placeholder written back as its name."""
    def name(m: re.Match) -> str:
        return atoms[int(m[1])].text if int(m[1]) < len(atoms) else "?"

    text = re.sub(r"\\text\s*\{\s*v(\d+)\s*\}", name, text)
    return re.sub(r"(?<![A-Za-z])v(\d+)(?![0-9])", name, text)


def _check_nesting(expr: sp.Basic, where: str) -> None:
    """The parser's reading nested at most MAX_NESTING deep, measured without recursion and before any
    SymPy walk (even hashing it recurses once per level)."""
    stack, seen = [(expr, 1)], set()
    while stack:
        e, depth = stack.pop()
        if depth > limits.MAX_NESTING:
            raise FormulaError(f"the formula nests more than {limits.MAX_NESTING} operations inside each other (a chain "
                               f"like a/b/c/...); the reader reads at most {limits.MAX_NESTING}, {where}")
        if id(e) not in seen:
            seen.add(id(e))
            stack.extend((a, depth + 1) for a in getattr(e, "args", ()))


def read(text: str, found: Found) -> sp.Expr:
    """One piece of placeholder text through the parser, checked before SymPy evaluates it, its atoms put back."""
    atoms = found.atoms
    one = HOLES.fullmatch(text.strip())
    if one:  # a name or a part read already: no call to the parser
        atom = atoms[int(one[1])]
        return atom.value if atom.kind == "value" else sp.Symbol(atom.text)
    if re.fullmatch(r"[0-9]{1,20}", text.strip()):
        return sp.Integer(text.strip())
    where = f"in {quoted(text, atoms)}"
    if "!" in text:  # antlr nests a chain of them as deep as the chain, before its reading is refused
        raise FormulaError(f"formula claims do not read factorials (!), {where}")
    if signs := re.search(r"(?:[-+]\s*){" + str(limits.MAX_DEPTH + 1) + ",}", text):  # each nests antlr one level deeper
        raise FormulaError(f"the formula has a run of {len(re.findall('[-+]', signs[0]))} signs + -; the reader reads at "
                           f"most {limits.MAX_DEPTH} in a row, {where}")
    if double := re.search(r"\^\s*(?:\{[^{}]*\}|\\[A-Za-z]+|\x00\d+\x01|\S)\s*\^", text):  # TeX refuses it, antlr nests it
        raise FormulaError(f"a double superscript {quoted(double[0], atoms)} (a^b^c): write a^{{b^{{c}}}} or "
                           f"(a^{{b}})^{{c}}, {where}")
    given = HOLES.sub(lambda m: PLACEHOLDER.format(m[1]), text)
    found.tokens = limits.parser_tokens(found.tokens, given)
    try:
        expr = _parsed(given)
    except Exception as e:  # the parser raises bare Exceptions with its own message
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise FormulaError(f"the parser (latex2sympy2_extended) stopped: {_names_back(first, atoms)}, {where}") from None
    _check_nesting(expr, where)
    if not isinstance(expr, sp.Expr) or isinstance(expr, (sp.Derivative, sp.Integral)):
        raise FormulaError(f"{quoted(text, atoms)} is not an arithmetic expression (parsed as {type(expr).__name__})")
    holes = {}
    for s in expr.free_symbols:
        m = PLACEHOLDER_NAME.fullmatch(s.name)
        if not m or int(m[1]) >= len(atoms):
            raise FormulaError(f"the parser read {_names_back(s.name, atoms)!r} as a name of its own, which is no name "
                               f"of the text: write it as one name (W_{{53}}) or map it in symbols, {where}")
        holes[s] = atoms[int(m[1])]
    for f in limits.applications(expr):
        if not isinstance(f, PARSER_FUNCTIONS):
            what = "unknown function" if isinstance(f, sp.core.function.AppliedUndef) else "formula claims do not read"
            raise FormulaError(f"{what} {_names_back(sp.sstr(f), atoms)}, {where}")
    try:
        limits.check_numbers(expr, {s: a.value for s, a in holes.items() if a.kind == "value" and not a.value.free_symbols})
    except FormulaError as e:
        raise FormulaError(f"{e}, {where}") from None
    expr = expr.xreplace({s: a.value if a.kind == "value" else sp.Symbol(a.text) for s, a in holes.items()})
    if expr.has(sp.Float):
        expr = expr.xreplace({x: sp.Rational(str(x)) for x in expr.atoms(sp.Float)})
    return expr
