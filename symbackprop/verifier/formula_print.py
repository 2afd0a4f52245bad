"""How a formula claim's correction is written: the derivation's formula in the text's notation
and its own order, and a kink the text leaves out in words (docs/formulas.md, "Statuses").

SymPy prints a sum in its canonical order and squares a difference in its canonical orientation:
the text's ``(Yr − Ye)^2`` comes back as ``(- Yr + Ye)^2``. Here each sum's terms are ordered by
where the text's formula first names them (a quantity the text does not name directly stands
where the text names what it is made of: ``Yr`` = ReLU(H3 W53 + ...) where the text writes H3),
and a squared difference takes the orientation of the signs the text's sum sharing most of its
terms writes (``- Ye`` in the text: ``Yr - Ye``); a difference that is a factor of a product does
so only where one sum of the text has all its terms, the product's sign compensating. Terms the
text does not place keep SymPy's order after the placed ones, a number term its place (``1 - a``);
the result is deterministic.
"""

from __future__ import annotations

import math
import re

import sympy as sp
from sympy.printing.latex import LatexPrinter

LATER = math.inf  # the position of a term the text does not place


class TextOrder:
    """Where the text's formula names each quantity, and the sign it gives each of its terms."""

    def __init__(self, positions: dict[sp.Symbol, int] | None = None, sums: list[dict[sp.Expr, int]] | None = None,
                 parts: dict[sp.Symbol, frozenset] | None = None) -> None:
        self.positions = dict(positions or {})  # a quantity's symbol -> its first position in the text's formula
        self.sums = list(sums or [])  # each sum of the text: a term without its number (W53 H3, y) -> its sign, +1 or -1
        self.parts = dict(parts or {})  # a quantity -> the quantities it is made of (a_O5 -> z_O5 -> H3, W53, ...)
        self._at: dict[sp.Symbol, float] = {}

    def position(self, s: sp.Symbol) -> float:
        """The text's position of ``s``, else of the earliest quantity it is made of (iteratively)."""
        if s in self._at:
            return self._at[s]
        stack, seen = [s], set()
        while stack:  # the parts first: a quantity's position is the least of its own and its parts'
            top = stack[-1]
            if top in self._at:
                stack.pop()
                continue
            todo = [p for p in self.parts.get(top, ()) if p not in self._at and p not in seen]
            if todo:
                seen.update(todo)
                stack.extend(todo)
                continue
            stack.pop()
            own = self.positions.get(top, LATER)
            self._at[top] = own if own < LATER else min((self._at.get(p, LATER) for p in self.parts.get(top, ())),
                                                        default=LATER)
        return self._at[s]

    def key(self, term: sp.Expr) -> float:
        return min((self.position(s) for s in term.free_symbols), default=LATER)

    def score(self, total: sp.Expr, whole: bool = False) -> int:
        """How many of a sum's terms carry the sign that the text's sum sharing most of them gives
        them, less those that carry the other; 0 unless that sum has all of them (``whole``)."""
        terms = [(rest, 1 if coeff > 0 else -1) for coeff, rest in (t.as_coeff_Mul() for t in sp.Add.make_args(total))
                 if coeff.is_extended_real and coeff != 0]
        shared = max(self.sums, key=lambda signs: sum(rest in signs for rest, _ in terms), default={})
        if whole and not all(rest in shared for rest, _ in terms):
            return 0
        return sum(shared[rest] * sign for rest, sign in terms if rest in shared)


def text_order(parsed, values: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]], derivation) -> TextOrder:
    """The TextOrder of a text's formula (latex_reader.Parsed), each of its names standing for
    ``values[name][1]``, a quantity in the derivation's own terms."""
    d = derivation
    defined = {e: s for n in d.order for s, e in ((d.z[n.name], d.z_expr[n.name]), (d.a[n.name], d.a_expr[n.name]))}
    quantity = {name: defined.get(v[1], v[1]) for name, v in values.items()}  # a_O5 for the text's Yr (max(0, z_O5))
    text, start = parsed.latex, (parsed.latex.find("=") + 1 if parsed.lhs is not None else 0)  # its right side
    positions: dict[sp.Symbol, int] = {}
    for name, shown in quantity.items():
        m = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(name.name) + r"(?![A-Za-z0-9_])").search(text, start)
        if m is not None and isinstance(shown, sp.Symbol) and name in parsed.rhs.free_symbols:
            positions[shown] = min(positions.get(shown, m.start()), m.start())
    try:  # the text's right side in the derivation's terms, for the signs it writes
        rhs = parsed.rhs.xreplace(quantity)
    except (ValueError, TypeError, ArithmeticError):
        rhs = None
    sums: list[dict[sp.Expr, int]] = []
    for node in ([] if rhs is None else sp.preorder_traversal(rhs)):
        if isinstance(node, sp.Add):
            pairs = (t.as_coeff_Mul() for t in node.args)
            sums.append({rest: 1 if coeff > 0 else -1 for coeff, rest in pairs if coeff.is_extended_real and coeff != 0})
    parts = {}
    for n in d.order:
        parts[d.z[n.name]] = frozenset(d.z_expr[n.name].free_symbols)
        parts[d.a[n.name]] = frozenset(d.a_expr[n.name].free_symbols)
    return TextOrder(positions, sums, parts)


def orient(expr: sp.Expr, order: TextOrder) -> sp.Expr:
    """``expr`` with each squared difference and each difference in a product turned the way the
    text writes it, the product's sign compensating; unevaluated where turned, so it stays."""
    done: dict[sp.Basic, sp.Basic] = {}
    for e in sp.postorder_traversal(expr):
        if e in done:
            continue
        if not e.args:
            done[e] = e
            continue
        args = [done[a] for a in e.args]
        if isinstance(e, sp.Add):
            new = sp.Add(*args, evaluate=False)
        elif isinstance(e, sp.Pow):  # unevaluated: SymPy would turn an even power's base its own way again
            turn = e.exp.is_Integer and e.exp.is_even and isinstance(args[0], sp.Add) and order.score(args[0]) < 0
            new = sp.Pow(_negated(args[0]) if turn else args[0], args[1], evaluate=False) if turn or args != list(e.args) else e
        elif isinstance(e, sp.Mul):
            turned = [i for i, a in enumerate(args) if isinstance(a, sp.Add) and order.score(a, whole=True) < 0]
            args = [_negated(a) if i in turned else a for i, a in enumerate(args)]
            if len(turned) % 2:
                if args[0].is_Number:
                    args[0] = -args[0]
                else:
                    args.insert(0, sp.S.NegativeOne)
            args = args[1:] if args[0] == 1 and len(args) > 1 else args
            new = sp.Mul(*args, evaluate=False) if turned or args != list(e.args) else e
        else:
            new = e if args == list(e.args) else e.func(*args)
        done[e] = new
    return done[expr]


def _negated(total: sp.Add) -> sp.Add:
    return sp.Add(*[-t for t in total.args], evaluate=False)


class _Printer(LatexPrinter):
    """SymPy's LaTeX printer with each sum's terms in the text's order (ties: SymPy's own; a number
    term stays where SymPy puts it)."""

    def __init__(self, order: TextOrder, settings: dict) -> None:
        super().__init__(settings)
        self.text_order = order

    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)
        if not isinstance(expr, sp.Add):
            return terms
        named = iter(sorted((t for t in terms if t.free_symbols), key=self.text_order.key))  # a number keeps its place: 1 - a
        return [next(named) if t.free_symbols else t for t in terms]


def formula_latex(expr: sp.Expr, names: dict[sp.Symbol, str], order: TextOrder | None, eta: sp.Symbol) -> str:
    """A derived formula as LaTeX: the text's names (``names``), a name it does not give as
    ``W_{53}`` for W_53 (``eta`` as \\eta), common factors taken out, in the text's order."""
    expr = sp.factor_terms(expr)
    symbol_names = dict(names)
    for s in expr.free_symbols:
        if s not in symbol_names:
            head, _, sub = s.name.partition("_")
            symbol_names[s] = ("\\eta" if s == eta else f"{head}_{{{sub}}}" if sub else head)
    return latex(expr, symbol_names, order)


def latex(expr: sp.Expr, symbol_names: dict[sp.Symbol, str], order: TextOrder | None = None) -> str:
    """``expr`` as LaTeX, in the text's order where ``order`` is given, else as SymPy prints it."""
    if order is not None:
        try:
            return _Printer(order, {"symbol_names": symbol_names}).doprint(orient(expr, order))
        except Exception:  # a form the reordering cannot take (a function refusing its turned arguments): SymPy's order stands
            pass
    return sp.latex(expr, symbol_names=symbol_names)


def kink(atom: sp.Expr, derivation, opaque: dict, derived: bool = True) -> str:
    """A kink in words: of the derivation (``derived``), ``the ReLU of O5`` for max(0, z_O5) and
    ``the ReLU derivative θ(z_O5) of O5`` for its step; of the text alone ``max(0, z_O5)``,
    ``θ(z_O5)``; ``max(0, u)``, ``θ(u)`` for a u that is no neuron's z (``opaque``: the stand-ins in u)."""
    u = kink_argument(atom)
    d = derivation
    neuron = next((n.name for n in d.order if d.flat_values[d.z[n.name]].xreplace(opaque) == u), None)
    if neuron is None or not derived:
        arg = sp.sstr(u) if neuron is None else f"z_{neuron}"
        return f"max(0, {arg})" if isinstance(atom, sp.Max) else f"θ({arg})"
    return f"the ReLU of {neuron}" if isinstance(atom, sp.Max) else f"the ReLU derivative θ(z_{neuron}) of {neuron}"


def kink_argument(atom: sp.Expr) -> sp.Expr:
    """u of max(0, u) (in either order) or of θ(u)."""
    return next((a for a in atom.args if a != 0), sp.S.Zero) if isinstance(atom, sp.Max) else atom.args[0]
