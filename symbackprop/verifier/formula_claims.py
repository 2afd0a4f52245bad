"""Formula claims: a text's LaTeX formula compared with the derivation (docs/formulas.md).

The text's names are resolved to quantities (the claim's ``symbols`` map, else the model's own
names), every quantity to its expression in the network's leaves (inputs, constants, parameters,
targets, the learning rate ``eta``), and the two sides are compared: symbolically where SymPy
can, else at seeded random points (an identity of piecewise expressions). A wrong formula comes
with the correct one in the text's notation and order (formula_print.py) and whether it agrees at
the example's values; one equal to it once each kink only one side has (a ReLU, its step) is fixed
on the example's side is ``conditional``: it holds there, and the text leaves those kinks out.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

import sympy as sp

from ..core import function_table
from ..core.errors import InputError
from ..core.trace import NAME
from .formula_limits import MAX_DIGITS, MAX_EXPAND_TERMS, Undefined, exact_at, expand_terms, value_at, zero_at
from .formula_print import TextOrder, formula_latex, kink, kink_argument, text_order
from .latex_reader import Atom, FormulaError, canonical_key, parse
from .status import Status

ETA = sp.Symbol("eta", real=True)
RANDOM_POINTS = 12
SIMPLIFY_OPS = 60  # beyond this sp.simplify takes minutes on nested exp/tanh; the random points stand


@dataclass(frozen=True)
class FormulaResult:
    status: Status  # holds | conditional | mismatch | unparseable
    message: str = ""  # the parser's message, for unparseable; for a mismatch, why the text's formula has no value
    proof: str = ""  # "symbolic" or "at N random points"
    correct: str = ""  # the derived formula in the text's notation (LaTeX)
    region: str = ""  # where the text's formula holds after all, e.g. "z_O5 > 0": conditional
    correct_in_region: str = ""  # the derived formula on the example's side of every ReLU kink
    branches: str = ""  # those sides, e.g. "z_O5 > 0"
    text_value: sp.Expr | None = None  # the text's formula at the example's values
    exact: sp.Expr | None = None  # the quantity at the example's values
    components: tuple[tuple[str, FormulaResult], ...] = ()  # layer notation (layered_forms.py): each component's result
    omits: str = ""  # conditional: the kinks of the derivation the text's formula leaves out, "the ReLU of O5"
    adds: str = ""  # conditional: kinks of the text's formula the derivation has not

    @property
    def agrees(self) -> bool | None:
        if self.text_value is None or self.exact is None:
            return None
        return _zero(self.text_value - self.exact)


def _zero(x: sp.Expr) -> bool:
    x = sp.sympify(x)
    if x == 0:
        return True
    try:
        return abs(complex(sp.N(x, 30))) < 1e-20
    except TypeError:
        return sp.simplify(x) == 0


class Resolver:
    """Quantity names -> expressions in the leaves (``flat``) and in the text's terms (``shown``)."""

    def __init__(self, derivation) -> None:
        self.d = derivation
        m = derivation.model
        self.sign = m.update_sign
        self.leaves = {**derivation.symbols, **{s.name: s for s in derivation.targets.values()}, "eta": ETA, "lr": ETA}
        self.neurons = {n.name for n in derivation.order}

    def split(self, quantity: str) -> tuple[str, int]:
        m = NAME.match(quantity.strip())
        if not m:
            raise InputError(f"{quantity!r} is not a quantity name; expected NAME or NAME@t")
        return m["name"], int(m["iteration"] or 1)

    def both(self, quantity: str) -> tuple[sp.Expr, sp.Expr]:
        """(flat, shown) for one quantity name."""
        d = self.d
        name, t = self.split(quantity)
        params = set(d.model.parameters)
        if name in params and t == 2:
            g_flat, g_shown = d.gradient(name, "flat"), d.gradient(name, "intermediate")
            s = d.symbols[name]
            return s + self.sign * ETA * g_flat, s + self.sign * ETA * g_shown
        if t != 1:
            raise InputError(f"{quantity!r}: a formula may name iteration 2 of a parameter (its update), nothing later")
        if name in self.leaves:
            return self.leaves[name], self.leaves[name]
        if name in self.neurons:
            name = f"a_{name}"
        kind, _, n = name.partition("_")
        if kind in ("z", "a") and n in self.neurons:
            sym = (d.z if kind == "z" else d.a)[n]
            shown = d.z_expr[n] if kind == "z" else d.a_expr[n]
            return d.flat_values[sym], shown
        if name == "E":
            return d.composed, d.loss
        if kind == "delta" and n in self.neurons:
            shown = d.expanded_deltas[d.delta_symbol[n]]
            return shown.xreplace(d.flat_values), shown
        if kind == "Delta" and n in params:
            g_flat, g_shown = d.gradient(n, "flat"), d.gradient(n, "intermediate")
            return self.sign * ETA * g_flat, self.sign * ETA * g_shown
        m = re.fullmatch(r"d(.+)/d(.+)", name)
        if m:
            return self.derivative(m[1], m[2])
        raise InputError(f"{quantity!r} names no quantity a formula can be compared with; expected a parameter, "
                         "input, target, z_<n>, a_<n>, E, delta_<n>, Delta_<p>, dA/dB, p@2 or eta")

    def derivative(self, num: str, den: str) -> tuple[sp.Expr, sp.Expr]:
        """dA/dB, through every path from B to A, B held as a variable of its own."""
        d = self.d
        if num == "E" and den in d.model.parameters:
            return d.gradient(den, "flat"), d.gradient(den, "intermediate")
        if num == "E" and den.startswith("a_") and den[2:] in self.neurons:
            shown = d.dE_da[den[2:]].xreplace(d.expanded_deltas)
            return shown.xreplace(d.flat_values), shown
        if num == "E" and den.startswith("z_") and den[2:] in self.neurons:
            return self.both(f"delta_{den[2:]}")
        if den in self.neurons:
            den = f"a_{den}"
        if num in self.neurons:
            num = f"a_{num}"
        stop = self._symbol(den)
        if stop is None:
            raise InputError(f"d{num}/d{den}: {den!r} is no quantity to differentiate by")
        partial: dict[sp.Symbol, sp.Expr] = {}
        for n in d.order:
            for sym, expr in ((d.z[n.name], d.z_expr[n.name]), (d.a[n.name], d.a_expr[n.name])):
                partial[sym] = sym if sym == stop else expr.xreplace(partial)
        if num == "E":
            expr = d.loss.xreplace(partial)
        else:
            target = self._symbol(num)
            if target is None or target not in partial:
                raise InputError(f"d{num}/d{den}: expected E, z_<n> or a_<n> above the bar")
            expr = partial[target]
        shown = sp.diff(expr, stop)
        return shown.xreplace(d.flat_values), shown

    def _symbol(self, name: str) -> sp.Symbol | None:
        d = self.d
        if name in self.leaves:
            return self.leaves[name]
        kind, _, n = name.partition("_")
        if kind in ("z", "a") and n in self.neurons:
            return (d.z if kind == "z" else d.a)[n]
        return None


def _atom_quantity(atom: Atom, mapping: dict[str, str], r: Resolver, d) -> tuple[sp.Expr, sp.Expr] | None:
    """An atom of the text as (flat, shown), or None when nothing names it."""
    if atom.text in mapping:
        return r.both(mapping[atom.text])
    if atom.kind == "symbol":
        for name in (atom.text, atom.text.replace("_", "")):
            try:
                return r.both(name)
            except InputError:
                continue
        return None
    if atom.kind == "leibniz":
        num, den = (_name(p, mapping, r) for p in atom.parts)
        num = "E" if function_table.is_loss_name(num) else num
        try:
            return r.derivative(num, den)
        except InputError:
            return None
    if atom.kind == "prime":
        f, arg = atom.parts
        if function_table.is_loss_name(f) and not arg and len(d.model.outputs) == 1:
            return r.derivative("E", f"a_{d.model.outputs[0]}")
        act = function_table.activation_named(f)
        if act is not None and arg:
            inner = _atom_quantity(Atom("symbol", arg), mapping, r, d)
            if inner is None:
                return None
            return tuple(act.derivative(x, act.form(x)) for x in inner)
        target = mapping.get(arg, arg)
        n = target[2:] if target[:2] in ("a_", "z_") else target
        if n in r.neurons:
            return r.derivative(f"a_{n}", f"z_{n}")
    return None


def _name(text: str, mapping: dict[str, str], r: Resolver) -> str:
    """A name inside a Leibniz fraction as a quantity name: mapped, the model's own, or W_53 for W53."""
    if text in mapping:
        return mapping[text]
    for name in (text, text.replace("_", "")):
        if r._symbol(name) is not None or name in r.neurons or name == "E":
            return name
    return text


def check(formula: str, quantity: str | None, mapping: dict[str, str], derivation, trace, where: str) -> FormulaResult:
    """One formula claim against one derivation (one reading of the file)."""
    try:
        parsed = parse(formula, tuple(mapping))
    except FormulaError as e:
        return FormulaResult(Status.UNPARSEABLE, message=str(e))
    lookup = {canonical_key(k): v for k, v in mapping.items()}
    r = Resolver(derivation)
    values: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]] = {}
    for text, atom in parsed.atoms.items():
        try:
            got = _atom_quantity(atom, lookup, r, derivation)
        except InputError as e:  # a symbols entry naming nothing: say which entry
            raise InputError(e.what, key=f"{where}.symbols.{text}") from None
        if got is None:
            raise InputError(f"the formula's name {text!r} is not mapped to a quantity of the model; "
                             f"add it to symbols, like symbols = {{ \"{text}\" = \"a_b\" }}", key=f"{where}.symbols")
        values[sp.Symbol(text)] = got
    if quantity:
        try:
            lhs_flat, lhs_shown = r.both(quantity)
        except InputError as e:
            raise InputError(e.what, key=f"{where}.quantity") from None
    elif parsed.lhs is not None and parsed.lhs.is_Symbol:
        lhs_flat, lhs_shown = values[parsed.lhs]
    else:
        raise InputError("name the quantity the formula gives (quantity = ...) or write it as NAME = ...",
                         key=f"{where}.quantity")
    names = _display_names(mapping, lookup, r)
    point = _example_point(derivation, trace)
    exact, _ = _defined(lhs_flat, point)
    try:  # SymPy evaluates as it substitutes, and refuses some values: Max(0, sqrt(-1 - w**2))
        rhs_flat = parsed.rhs.xreplace({s: v[0] for s, v in values.items()})
    except (ValueError, TypeError, ArithmeticError) as e:
        why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return FormulaResult(Status.MISMATCH, message=f"the text's formula is undefined on the network's values: {why}", exact=exact,
                             **_correction(lhs_shown, lhs_flat, None, names, derivation, point, text_order(parsed, values, derivation)))
    proof = _identity(_plain(lhs_flat - rhs_flat))
    text_value, undefined = _defined(rhs_flat, point)
    if proof != "symbolic" and text_value is not None and exact is not None and not _zero(text_value - exact):
        proof = ""  # random points can all fall where both sides vanish (saturated sigmoids): the example decides
    message = f"at the example's values the text's formula is undefined: {undefined}" if undefined else ""
    if proof:
        return FormulaResult(Status.HOLDS, message=message, proof=proof, text_value=text_value, exact=exact)
    fix = _correction(lhs_shown, lhs_flat, rhs_flat, names, derivation, point, text_order(parsed, values, derivation))
    result = FormulaResult(Status.MISMATCH, message=message, text_value=text_value, exact=exact, **fix)
    conditional = fix.get("region") and not undefined and result.agrees is not False  # right there, not in general
    return replace(result, status=Status.CONDITIONAL) if conditional else result


def _defined(expr: sp.Expr, point: dict) -> tuple[sp.Expr | None, str]:
    """``expr`` at the example's values, or None and why it has none there (overflow, a division by
    zero, a log of 0, not a real number)."""
    try:
        return _value(expr, point, real=True), ""
    except (Undefined, ValueError, TypeError) as e:
        return None, str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _correction(lhs_shown: sp.Expr, lhs_flat: sp.Expr, rhs_flat: sp.Expr | None, names: dict, derivation,
                point: dict, order: TextOrder | None = None) -> dict[str, str]:
    """For a wrong formula: the right one in the text's notation and order, on the example's side of
    every ReLU kink; where the text's formula holds after all (the kinks only one side has fixed on
    the example's side; none where it has no value), and which kinks those are."""
    shown = _plain(lhs_shown)
    out = {"correct": formula_latex(shown, names, order, ETA)}
    local, branches, _ = _region(shown, derivation, point, flat=False)
    if local is not None and local != shown:
        out |= {"correct_in_region": formula_latex(local, names, order, ETA), "branches": " and ".join(branches)}
    if rhs_flat is None:
        return out
    lhs_p, rhs_p = _plain(lhs_flat), _plain(rhs_flat)
    common = {a: sp.Dummy() for a in lhs_p.atoms(sp.Max, sp.Heaviside) & rhs_p.atoms(sp.Max, sp.Heaviside)}
    try:  # the text's kinks at values that are no real numbers have no side
        at = {**point, **{dummy: _value(a, point, real=True) for a, dummy in common.items()}}
        region, conditions, fixed = _region((lhs_p - rhs_p).xreplace(common), derivation, at, opaque=common)
    except (Undefined, ValueError, TypeError):
        return out
    if region is not None and conditions and _identity(region):
        derived = lhs_p.xreplace(common).atoms(sp.Max, sp.Heaviside)
        kinds = {side: sorted({kink(a, derivation, common, side) for a in fixed if (a in derived) == side}) for side in (True, False)}
        out |= {"region": " and ".join(conditions), "omits": " and ".join(kinds[True]), "adds": " and ".join(kinds[False])}
    return out


def _plain(expr: sp.Expr) -> sp.Expr:
    """Heaviside's value at 0 is a convention (ReLU'(0)); identities are judged off the kinks."""
    return expr.xreplace({h: sp.Heaviside(h.args[0]) for h in expr.atoms(sp.Heaviside)})


def _computable(expr: sp.Expr) -> sp.Expr:
    """ITE conditions (a leaky ReLU's Piecewise) as And/Or/Not, which formula_limits computes: SymPy's powers may not end."""
    ites = expr.atoms(sp.ITE)
    return expr.xreplace({i: i.to_nnf() for i in ites}) if ites else expr


def _identity(difference: sp.Expr) -> str:
    """How ``difference == 0`` was established, or "" when it is not an identity."""
    difference = _computable(difference)
    if difference == 0 or (expand_terms(difference) <= MAX_EXPAND_TERMS and sp.expand(difference) == 0):
        return "symbolic"
    free = sorted(difference.free_symbols, key=lambda s: s.name)
    rng = random.Random(8)
    for _ in range(RANDOM_POINTS):
        # within a few units of 0, where no activation saturates to a constant (differences there are not noise)
        point = {s: sp.Rational(rng.randint(-40, 40), rng.choice([7, 11, 13, 17])) or sp.Rational(1, 3) for s in free}
        try:  # within bounds: an overflow or no value here is not shown to be 0
            zero = zero_at(difference, point)
            if zero is None:  # a function computed only by SymPy
                zero = _zero(difference.xreplace(point))
        except (Undefined, ValueError, TypeError):
            return ""
        if not zero:
            return ""
    if sp.count_ops(difference) <= SIMPLIFY_OPS:
        try:
            if sp.simplify(difference) == 0:
                return "symbolic"
        except Exception:  # simplify may give up on piecewise forms; the random points stand
            pass
    return f"at {RANDOM_POINTS} random points"


def _example_point(derivation, trace) -> dict:
    """The leaves at the first example and iteration: where a formula's value is compared."""
    m = derivation.model
    ex = m.examples[0]
    point = {derivation.symbols[p]: trace[f"{p}@1"] for p in m.parameters}
    point.update({derivation.symbols[c]: v for c, v in m.constants.items()})
    point.update({derivation.symbols[x]: v for x, v in ex.inputs.items()})
    point.update({derivation.targets[o]: v for o, v in ex.targets.items()})
    point[ETA] = m.learning_rate
    return point


def _value(expr: sp.Expr, point: dict, real: bool = False) -> sp.Expr:
    """``expr`` at ``point``: exact where it is rational, else its 40-digit value, both computed
    within bounds (formula_limits): a value beyond them raises Undefined instead of running on."""
    expr = _computable(expr)
    exact = exact_at(expr, point)
    if exact is not None:  # exact, unless too long to print
        return exact if max(abs(exact.p), exact.q).bit_length() <= 3.33 * MAX_DIGITS else sp.N(exact, 40)
    value = value_at(expr, point, real=real, digits=40)
    if value is None:  # a symbol not valued here, or a function computed only by SymPy (a Piecewise's ITE)
        value = expr.xreplace(point)
        value = value.xreplace({h: sp.Heaviside(h.args[0], 0) for h in value.atoms(sp.Heaviside)})
        value = value if value.free_symbols or value.is_Rational else sp.N(value, 40)
        if real and value.is_number and abs(sp.im(value)) > abs(value) * sp.Float("1e-30"):  # as value_at judges it
            raise Undefined(f"not a real number: {sp.N(value, 6)}")
        return sp.re(value) if real and value.is_number else value
    return sp.Float(value.real, 40) + sp.I * sp.Float(value.imag, 40) if value.imag else sp.Float(value.real, 40)


def _region(expr: sp.Expr, derivation, point: dict, flat: bool = True,
            opaque: dict | None = None) -> tuple[sp.Expr | None, list[str], set[sp.Expr]]:
    """``expr`` with every ReLU kink fixed on the example's side of it, the conditions, and the
    kinks fixed (max(0, u), θ(u)); None where a kink is at 0 or has no real side here."""
    d = derivation
    names = {}
    for n in d.order:
        names[d.flat_values[d.z[n.name]].xreplace(opaque or {}) if flat else d.z[n.name]] = f"z_{n.name}"
    local_point = point if flat else {**point, **{s: v for s, v in _intermediate_values(d, point).items()}}
    conditions: list[str] = []
    fixed: set[sp.Expr] = set()
    while atoms := expr.atoms(sp.Max, sp.Heaviside):
        mapping = {}
        for atom in atoms:
            if isinstance(atom, sp.Max) and (len(atom.args) != 2 or 0 not in atom.args):
                return None, [], set()
            u = kink_argument(atom)
            try:
                value = _value(u, local_point, real=True)
            except (Undefined, ValueError, TypeError):  # no real number here: no side
                return None, [], set()
            if not value.is_number or not value.is_extended_real or value == 0:
                return None, [], set()
            positive = bool(value > 0)
            fixed.add(atom)
            mapping[atom] = (u if positive else sp.S.Zero) if isinstance(atom, sp.Max) else (sp.S.One if positive else sp.S.Zero)
            conditions.append(f"{names.get(u, sp.sstr(u))} {'>' if positive else '<'} 0")
        expr = expr.xreplace(mapping)
    return expr, sorted(set(conditions)), fixed


def _intermediate_values(d, point: dict) -> dict:
    return {s: e.xreplace(point) for s, e in d.flat_values.items()}


def _display_names(mapping: dict[str, str], lookup: dict[str, str], r: Resolver) -> dict[sp.Symbol, str]:
    """The text's own LaTeX for each plain quantity the claim maps (Y_r for a_O5)."""
    names = {}
    for key, quantity in mapping.items():
        name, t = r.split(quantity)
        shown = r._symbol(f"a_{name}" if name in r.neurons else name) if t == 1 else None
        if shown is not None and shown not in names:
            text = canonical_key(key)
            head, _, sub = text.partition("_")
            names[shown] = f"{head}_{{{sub}}}" if sub and re.fullmatch(r"[A-Za-z]+_\w+", text) else text
    return names
