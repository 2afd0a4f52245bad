"""Formulas as presentation MathML: SymPy's MathML printer with the symbols of documents/notation.py.

``rows(step)`` cuts a step into its equalities and each side into pieces at its top-level operators
(+ between terms, · between factors, again inside a piece), so that HTML can wrap a long formula at
any width instead of scrolling it; ``equation(step)`` is the same step as one <math> element.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE, precedence_traditional

from ...core import notation
from ...core.decimals import decimal
from ..nodes import Factors, Step, Terms
from . import relations
from .chains import BareArguments, signed

UPRIGHT = {"Δ"}  # single letters set upright; a one-letter <mi> is italic by default
SCRIPTS = {"msub", "msup", "msubsup", "munder", "mover", "munderover"}  # a fraction in their scripts stays small
TALL = {"mfrac", "munderover", "mtable", "msqrt", "mroot"}  # content that brackets must stretch around
MATH = '<math display="block" xmlns="http://www.w3.org/1998/Math/MathML">'


class MathMLPrinter(BareArguments, MathMLPresentationPrinter):
    """``w_a0`` as w with subscript a0, ``delta_b`` as δ_b, ``dE/dw`` as a Leibniz fraction; ``values`` put numbers in."""

    _default_settings = {**MathMLPresentationPrinter._default_settings, "values": None, "order": "none", "names": None}

    def doprint(self, expr) -> str:
        return xml(self.element(expr))

    def element(self, node, fenced: bool = False):
        """The node printed (in brackets if ``fenced``), with the typesetting SymPy leaves out (see ``tidy``)."""
        el = self._print(node)
        return tidy(self._fenced(el) if fenced else el)

    def _el(self, tag: str, *children, text: str | None = None):
        el = self.dom.createElement(tag)
        if text is not None:
            el.appendChild(self.dom.createTextNode(text))
        for c in children:
            el.appendChild(c)
        return el

    def _row(self, *children):
        return self._el("mrow", *children)

    def _fenced(self, inner):
        return self._row(self._el("mo", text="("), inner, self._el("mo", text=")"))

    def _name(self, name: str):
        """A derivation name in its notation (documents/notation.py), the symbol LaTeX and the terminal print."""
        return self._notation(notation.of(name))

    def _notation(self, n: notation.Notation):
        if n.derivative_of is not None:
            return self._leibniz(self._notation(notation.numerator(n)), self._notation(n.derivative_of))
        base = self._el("mi", text=n.head)
        if n.accent:  # m̂, ḡ: the accent set over the letter
            base = self._el("mover", base, self._el("mo", text={"hat": "^", "bar": "¯"}[n.accent]))
            base.setAttribute("accent", "true")
        if n.superscript:  # E^(1): worker 1's loss
            base = self._el("msup", base, self._subscript(f"({n.superscript})"))
        body = self._el("msub", base, self._subscript(",".join(n.subscript))) if n.subscript else base
        if n.parameter is not None:  # an optimizer's state: the parameter's head and indices as one subscript
            head = self._el("mi", text=n.parameter.head)
            if n.parameter.word:
                head.setAttribute("mathvariant", "normal")
            rest = self._subscript(",".join(n.parameter.subscript)) if n.parameter.subscript else None
            body = self._el("msub", body, self._row(head, self._el("mo", text=","), rest) if rest is not None else head)
        return self._row(self._el("mi", text="Δ"), body) if n.adjustment else body

    def _subscript(self, text: str):
        """``a1`` as italic a, upright 1 (as LaTeX sets w_{a1}); ``2,1`` with its comma; a longer word stays one name."""
        tokens = [self._el("mn" if t.isdigit() else "mi" if t.isalpha() else "mo", text=t)
                  for t in re.findall(r"\d+|[A-Za-z]+|[^\dA-Za-z]", text)]
        return tokens[0] if len(tokens) == 1 else self._row(*tokens)

    def _leibniz(self, numerator, denominator):
        return self._el("mfrac", self._row(self._el("mo", text="∂"), numerator), self._row(self._el("mo", text="∂"), denominator))

    def _decimal(self, text: str):
        """A decimal as a reader writes it: a minus sign, not a hyphen; ``1.5e-05`` as 1.5 · 10^−5."""
        if text.startswith("-"):
            return self._row(self._el("mo", text="−"), self._decimal(text[1:]))
        if "e" in text:
            mantissa, exponent = text.split("e")
            return self._row(self._el("mn", text=mantissa), self._el("mo", text="·"),
                             self._el("msup", self._el("mn", text="10"), self._decimal(str(int(exponent)))))
        return self._el("mn", text=text)

    def _print_Symbol(self, sym, style="plain"):
        values: Mapping | None = self._settings["values"]
        if values is not None and sym in values:
            text = decimal(values[sym])
            el = self._fenced(self._decimal(text)) if self.bracketed(sym, text) else self._decimal(text)
            names = self._settings["names"]
            return el if names is None or sym not in names else self._tagged(el, names[sym], sym not in self._bare)
        return self._name(sym.name)

    def _tagged(self, el, name: str, brackets: bool = False):
        """A number marked with the quantity it is, for a page that recomputes it (``brackets``: bracketed
        when negative, as a substituted number is where it is not a function's whole argument)."""
        el = el if el.tagName == "mrow" else self._row(el)
        el.setAttribute("data-q", name)
        if brackets:
            el.setAttribute("data-b", "1")
        return el

    def _print_Pow(self, e):
        """A Leibniz fraction squared in brackets, (∂E/∂w)²."""
        if isinstance(e.base, sp.Symbol) and e.exp.is_Integer and e.exp > 1:
            base = self._print(e.base)
            if base.tagName == "mfrac":
                return self._el("msup", self._fenced(base), self._print(e.exp))
        return super()._print_Pow(e)

    def _print_Heaviside(self, expr):
        with self.arguments(expr):
            return self._row(self._el("mi", text="H"), self._fenced(self._print(expr.args[0])))

    def _joined(self, elements, separator: str):
        """One row of elements with an operator between each two."""
        row = self._row()
        for i, el in enumerate(elements):
            if i:
                row.appendChild(self._el("mo", text=separator))
            row.appendChild(el)
        return row

    def _print_Max(self, expr):
        args = sorted(expr.args, key=lambda a: not a.is_Number)
        with self.arguments(expr):
            return self._row(self._el("mi", text="max"), self._fenced(self._joined([self._print(a) for a in args], ",")))

    def _print_AppliedUndef(self, expr):
        with self.arguments(expr):
            return self._row(self._name(expr.func.__name__), self._fenced(self._joined([self._print(a) for a in expr.args], ",")))

    def _print_Partial(self, node):
        return self._leibniz(self._print(node.numerator), self._print(node.denominator))

    def _factor(self, f, i: int = 0):
        """A chain's factor, bracketed when it is a sum or a negative number (after the first, any negative factor)."""
        el = self._print(f)
        return self._fenced(el) if fenced_factor(f, i) else el

    def _print_Factors(self, node):
        return self._joined([self._factor(f, i) for i, f in enumerate(node.factors)], "·")

    def _print_Terms(self, node):
        row = self._row()
        for i, (op, term, _) in enumerate(self.split(node)):
            if i:
                row.appendChild(self._el("mo", text=op))
            row.appendChild(self._print(term))
        return row

    def _print_Listing(self, node):
        return self._joined([self._print(t) for t in node.items] + [self._el("mi", text="…")] * node.more, ",")

    # -- pieces: where a long formula may wrap --
    def split(self, node) -> list[tuple[str, object, bool]] | None:
        """The node's top-level pieces as (joining operator, subnode, bracketed), the first joined by "";
        None when it has none. Operators and brackets are the ones the whole node prints with."""
        if isinstance(node, Terms):
            signs = [signed(t) if i else (False, t) for i, t in enumerate(node.terms)]
            return [(("−" if negative else "+") if i else "", t, False) for i, (negative, t) in enumerate(signs)]
        if isinstance(node, Factors):
            return [("·" if i else "", f, fenced_factor(f, i)) for i, f in enumerate(node.factors)]
        if isinstance(node, sp.Add):
            terms = self._as_ordered_terms(node)
            return [("", terms[0], False)] + [("−", -t, False) if t.could_extract_minus_sign() else ("+", t, False)
                                              for t in terms[1:]]
        if isinstance(node, sp.Mul) and not node.could_extract_minus_sign() and sp.fraction(node)[1] == 1:
            coeff, factors = node.as_coeff_mul()
            factors = [coeff] * (coeff != 1) + list(sp.Mul._from_args(factors).as_ordered_factors())
            dot = self.mathml_tag(node)
            if len(factors) > 1:
                return [(dot if i else "", f, precedence_traditional(f) <= PRECEDENCE["Mul"]) for i, f in enumerate(factors)]
        return None

    def pieces(self, node):
        """The node as a tree of MathML strings: a leaf is one unbreakable piece, a list its pieces in order, each
        but the first starting with its joining operator; cut inside brackets and function arguments too."""
        if isinstance(node, AppliedUndef):
            return self._applied_pieces(node)
        if isinstance(node, sp.Pow) and node.exp.is_Integer and node.exp > 1 and node.base.is_Add:
            return self._power_pieces(node)
        if isinstance(node, sp.Mul) and sp.fraction(node)[1].is_Add and len(sp.fraction(node)[1].args) > LONG_DENOMINATOR:
            return self._division_pieces(node)
        parts = self.split(node)
        if parts is None:
            return xml(self.element(node))
        return [joined(operator(op), self._bracketed(sub) if fenced else self.pieces(sub)) for op, sub, fenced in parts]

    def _bracketed(self, node):
        tree = self.pieces(node)
        return xml(self.element(node, fenced=True)) if isinstance(tree, str) else closed(joined(OPEN, tree), CLOSE)

    def _applied_pieces(self, node):
        """E(b(z_b(w)), c(z_c(w))): a break may come after an opening bracket or a comma; an argument between
        commas stays together where it fits."""
        head = xml(tidy(self._name(node.func.__name__))) + OPEN
        args = [self.pieces(a) for a in node.args]
        if len(args) == 1:  # a chain of one-argument functions is one flat run of pieces
            inner = args[0] if isinstance(args[0], list) and isinstance(node.args[0], AppliedUndef) else args[:1]
            return closed([head, *inner], CLOSE)
        return closed([head, *(closed(t, COMMA) for t in args[:-1]), args[-1]], CLOSE)

    def _division_pieces(self, node):
        """A fraction over a long sum (softmax's e^{z_j}/(e^{z_1} + … + e^{z_n})) set inline, a/(b + c + d), so that
        its denominator may wrap: stacked, it could be wider than the page with nowhere to break."""
        numerator, denominator = sp.fraction(node)
        top = xml(self.element(numerator, fenced=numerator.is_Add or numerator.is_Mul))
        return [top, closed(joined(operator("/") + OPEN, self.pieces(denominator)), CLOSE)]

    def _power_pieces(self, node):
        """(a − b)² cut inside its brackets, the exponent on the closing one."""
        tree = self.pieces(node.base)
        if isinstance(tree, str):
            return xml(self.element(node))
        return closed(joined(OPEN, tree), f"<msup>{CLOSE}{xml(self.element(node.exp))}</msup>")

def fenced_factor(f, i: int) -> bool:
    """A chain's i-th factor is bracketed: a sum, a negative number, and after the first any negative product
    (a · (−b·c), not a · −b·c)."""
    return isinstance(f, sp.Basic) and (f.is_Add or (f.is_Number and f < 0) or (i > 0 and f.is_Mul and f.could_extract_minus_sign()))


LONG_DENOMINATOR = 2  # a fraction over a sum of more terms than this wraps as a/(b + c + d) in HTML
OPEN, CLOSE, COMMA = '<mo stretchy="false">(</mo>', '<mo stretchy="false">)</mo>', "<mo>,</mo>"


def operator(op: str) -> str:
    """A joining operator at the start of a piece, spaced as between two operands (a lone + would be a sign)."""
    return f'<mo form="infix">{op.encode("ascii", "xmlcharrefreplace").decode()}</mo>' if op else ""


def joined(prefix: str, tree):
    """A piece tree with MathML put before its first leaf (its operator, or an opening bracket)."""
    if not prefix:
        return tree
    if isinstance(tree, list):
        return [joined(prefix, tree[0]), *tree[1:]]
    return prefix + tree


def closed(tree, suffix: str):
    """A piece tree with MathML put after its last leaf (a closing bracket, a comma)."""
    if isinstance(tree, list):
        return [*tree[:-1], closed(tree[-1], suffix)]
    return tree + suffix


def xml(el) -> str:
    """As SymPy's doprint: the element's XML with non-ASCII as character references."""
    return el.toxml().encode("ascii", "xmlcharrefreplace").decode()


def _text(el) -> str:
    return el.firstChild.data if el.firstChild is not None and el.firstChild.nodeType == el.TEXT_NODE else ""


def _fence(el):
    """The bracketed content of ``( ... )`` as one row, or None."""
    kids = [c for c in el.childNodes if c.nodeType == c.ELEMENT_NODE]
    if el.tagName == "mrow" and len(kids) == 3 and _text(kids[0]) == "(" and _text(kids[2]) == ")":
        return kids[1]
    return None


def tidy(el, scripted: bool = False):
    """What SymPy's printer leaves out, for any MathML renderer: U+2212 for minus; multi-letter names and Δ upright
    (mathvariant="normal"); e as e; full-size fractions (displaystyle) outside scripts; brackets that do not stretch
    around flat content (stretched, they stand apart from it); and one pair of brackets, not two, around a number
    (nor any around an argument between commas)."""
    for i, child in enumerate(list(el.childNodes)):
        if child.nodeType == child.ELEMENT_NODE:
            new = tidy(child, scripted or el.tagName == "mfrac" or (el.tagName in SCRIPTS and i > 0))
            if new is not child:
                el.replaceChild(new, child)
    tag, text = el.tagName, _text(el)
    if tag == "mo" and text == "-":
        el.firstChild.data = "−"
    if tag == "mi" and text == "&ExponentialE;":
        el.firstChild.data = "e"
    elif tag == "mi" and ((len(text) > 1 and not text.startswith("&")) or text in UPRIGHT):
        el.setAttribute("mathvariant", "normal")
    if tag == "mfrac" and not scripted:
        el.setAttribute("displaystyle", "true")
    inner = _fence(el)
    if inner is not None and _fence(inner) is not None:
        return inner
    if inner is not None and any(_text(c) == "," for c in inner.childNodes):  # max(0, −0.5): commas part the arguments
        for item in [c for c in inner.childNodes if _fence(c) is not None]:
            inner.replaceChild(_fence(item), item)
    if inner is not None and not any(inner.getElementsByTagName(t) for t in TALL) and inner.tagName not in TALL:
        for mo in (el.firstChild, el.lastChild):
            mo.setAttribute("stretchy", "false")
    return el


def mathml(expr, values: Mapping | None = None) -> str:
    return _printer(values).doprint(expr)


def _printer(values: Mapping | None = None, tagged: bool = False) -> MathMLPrinter:
    names = getattr(values, "names", {}) if tagged else None
    return MathMLPrinter({"values": values, "mul_symbol": "dot" if values is not None else None, "names": names})


def _side(node, values: Mapping | None, cut: bool = False, tagged: bool = False):
    """One side of a step as MathML (``cut``: as a piece tree); a side that is one number needs no brackets.
    ``tagged``: each number put in carries the quantity it is (``data-q``), for a page that recomputes it."""
    printer = _printer(values, tagged)
    if isinstance(node, str):
        return node
    if values is not None and isinstance(node, sp.Symbol) and node in values:
        el = printer._decimal(decimal(values[node]))
        names = printer._settings["names"]
        return xml(printer._tagged(el, names[node]) if names and node in names else el)
    return printer.pieces(node) if cut else printer.doprint(node)


def parts(step: Step, tagged: bool = False) -> list[tuple[str, object, Mapping | None]]:
    """The step's sides in order (formulas/relations.py), each once: (relation, node, values), a value as
    printed MathML. A substitution that only rounds the value gives way to it (≈ 0.3333333333, not
    ≈ 0.3333333333 ≈ 0.3333333333). ``tagged``: the value carries its quantity (``data-q``) and an exact
    fraction is marked ``exact`` (a page that recomputes in float64 hides it)."""
    printer = _printer()
    out, texts = [], []
    for part in relations.parts(step):
        if part.kind in ("decimal", "fraction"):
            node = xml(printer._decimal(decimal(part.node))) if part.kind == "decimal" else mathml(part.node)
            if out and out[-1][1] is step.substitution and texts[-1] == node:
                out.pop()
                texts.pop()
            text = node
            if tagged:
                el = printer._decimal(decimal(part.node)) if part.kind == "decimal" else printer.element(part.node)
                el = printer._tagged(el, step.quantity or step.name) if part.kind == "decimal" else printer._row(el)
                if part.kind == "fraction":
                    el.setAttribute("class", "exact")
                node = xml(el)
            values = None
        else:
            node, values = part.node, part.values
            text = _side(node, values)
        if text not in texts:
            out.append((part.relation, node, values))
            texts.append(text)
    return out


def rows(step: Step, tagged: bool = False) -> list[tuple[str, list]]:
    """The step as rows of (left-hand side or "", piece tree of the right): one row when it has at most two
    equalities, else one per equality, so that its relations line up under each other. ``tagged``: see ``parts``;
    the relation before a number or a substitution is marked ``rel`` (a float64 page makes it ≈)."""
    def relation(r: str, node, values) -> str:
        numeric = tagged and (values is not None or isinstance(node, str))
        return operator(r).replace("<mo ", '<mo class="rel" ', 1) if numeric and r else operator(r)

    lhs, *right = [joined(relation(r, node, values), _side(node, values, cut=i > 0, tagged=tagged))
                   for i, (r, node, values) in enumerate(parts(step, tagged))]
    if len(right) <= 2:
        return [(lhs, right)]
    return [(lhs if i == 0 else "", [tree]) for i, tree in enumerate(right)]


def equation(step: Step) -> str:
    """The step as one <math> element: lhs = forms = substitution = value (for notebooks, which do not wrap)."""
    sides = [(relation, _side(node, values)) for relation, node, values in parts(step)]
    if len(sides) > 3:  # one equality per row, aligned at the relation
        first = f"<mtr><mtd>{sides[0][1]}</mtd><mtd><mo>{sides[1][0]}</mo>{sides[1][1]}</mtd></mtr>"
        rest = "".join(f"<mtr><mtd></mtd><mtd><mo>{r}</mo>{t}</mtd></mtr>" for r, t in sides[2:])
        body = f"<mtable>{first}{rest}</mtable>"
    else:
        body = "<mrow>" + "".join(f"<mo>{r}</mo>{t}" if r else t for r, t in sides) + "</mrow>"
    return f"{MATH}{body}</math>"
