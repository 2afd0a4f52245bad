"""Printing expressions as Python: scalar (``math``, Python floats) and batch (NumPy) code, and the
rewrites printing needs: logs of an output's activation in their stable forms (``stable_logs``), and
a layer's sums (softmax's denominator) as reductions over the layer (``layer_form``, ``program``).

The expressions reach these printers already renamed by names.Names, so every symbol they
print is an identifier from its table.

Exact numbers print as themselves while float64 holds them exactly (``2``, ``(1/2)``: the bytes
of ordinary modules); any other, folded from a file's constants, prints as the float64 it rounds
to, and one beyond float64's range as ``math.inf`` or ``numpy.inf`` (``float_literal``, the one
place a float becomes code text, the module header's arrays included): never a bare ``inf``, which
Python reads as an undefined name, nor an integer numba cannot type.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

EXACT = 2**53  # integers up to this, and fractions of them, print exactly; float64 holds them


def float_literal(value: float, module: str) -> str:
    """A float64 as Python text: its repr, or ``module.inf``/``-module.inf``/``module.nan``
    (``module``: math or numpy, whichever the code imports)."""
    if math.isnan(value):
        return f"{module}.nan"
    if math.isinf(value):
        return f"-{module}.inf" if value < 0 else f"{module}.inf"
    return repr(value)


def exact_float(value) -> float:
    """float(value), for a Rational of two integers float64 holds exactly by one division: the same
    correctly rounded float as SymPy's (mpmath's) conversion, ten times as fast (50,890 parameters)."""
    if isinstance(value, sp.Rational) and abs(value.p) <= EXACT and value.q <= EXACT:
        return value.p / value.q
    return float(value)


def float_list(values, module: str) -> str:
    """A list of numbers as Python text: what ``repr`` writes for finite floats, else float_literal's words."""
    return "[" + ", ".join(float_literal(exact_float(v), module) for v in values) + "]"


class _Numbers:
    """Exact numbers that float64 cannot hold, printed as the float they round to (or its inf)."""

    module = "math"

    def _print_Integer(self, expr):
        if abs(expr.p) <= EXACT:
            return super()._print_Integer(expr)
        return float_literal(float(expr), self.module)

    def _print_Rational(self, expr):
        if abs(expr.p) <= EXACT and expr.q <= EXACT:
            return super()._print_Rational(expr)
        return float_literal(float(expr), self.module)

    def _print_Float(self, expr):
        if math.isfinite(float(expr)):
            return super()._print_Float(expr)
        return float_literal(float(expr), self.module)


def _softplus_argument(expr: sp.log):
    """u when expr is log(1 + exp(u)) (softplus), else None: written so, exp(u) overflows past u = 709."""
    inner = expr.args[0]
    if isinstance(inner, sp.Add) and len(inner.args) == 2 and sp.S.One in inner.args:
        other = inner.args[0] if inner.args[1] == 1 else inner.args[1]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def _logistic_argument(expr: sp.Pow):
    """u when expr is 1/(1 + exp(u)) (a sigmoid of -u), else None: math.exp(u) raises past u = 709."""
    if expr.exp == -1:
        return _softplus_argument(sp.log(expr.base, evaluate=False))
    return None


class ScalarPrinter(_Numbers, PythonCodePrinter):
    """Python floats and ``math``: the straight-line code for small batches. Softplus and the
    logistic are written in their overflow-free forms (math.exp raises OverflowError past 709)."""

    def _print_log(self, expr):
        u = _softplus_argument(expr)
        if u is None:
            return super()._print_log(expr)
        u = self._print(u)
        return f"(max({u}, 0.0) + math.log1p(math.exp(-abs({u}))))"

    def _print_Softplus(self, expr):
        return self._print_log(sp.log(1 + sp.exp(expr.args[0]), evaluate=False))

    def _print_Pow(self, expr, rational=False):
        u = _logistic_argument(expr)
        if u is None:
            return super()._print_Pow(expr, rational=rational)
        u, minus_u = self._print(u), self._print(-u)
        return f"(1.0/(1.0 + math.exp({u})) if {minus_u} >= 0 else math.exp({minus_u})/(1.0 + math.exp({minus_u})))"

    def _print_Heaviside(self, expr):
        z = self._print(expr.args[0])
        at0 = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        return f"(1.0 if {z} > 0 else {self._print(sp.Float(at0))} if {z} == 0 else 0.0)" if at0 != 0 else f"(1.0 if {z} > 0 else 0.0)"

    def _print_Max(self, expr):
        if len(expr.args) == 2 and expr.args[0] == 0:  # relu: a branch is cheaper than a call to max
            z = self._print(expr.args[1])
            return f"({z} if {z} > 0 else 0.0)"
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Mul(self, expr):
        step, rest = _split_step(expr)
        if step is None:
            return super()._print_Mul(expr)
        return f"({self._print(rest)} if {self._print(step.args[0])} > 0 else 0.0)"


class BatchPrinter(_Numbers, NumPyPrinter):
    """NumPy elementwise code over whole columns or matrices; a reduction over a layer is over the
    matrix form's rows (axis 0: one row per neuron)."""

    module = "numpy"

    def _print_Softplus(self, expr):
        return f"numpy.logaddexp(0.0, {self._print(expr.args[0])})"

    def _print_LayerSum(self, expr):
        return f"numpy.sum({self._print(expr.args[0])}, axis=0)"

    def _print_LayerMax(self, expr):
        return f"numpy.max({self._print(expr.args[0])}, axis=0)"

    def _print_Heaviside(self, expr):
        at0 = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        return f"numpy.heaviside({self._print(expr.args[0])}, {self._print(sp.Float(at0))})"

    def _print_Mul(self, expr):
        step, rest = _split_step(expr)
        if step is None:
            return super()._print_Mul(expr)
        return f"{self.parenthesize(rest, 50)}*({self._print(step.args[0])} > 0)"

    def _print_Pow(self, expr, rational=False):
        if expr.exp == -1:
            return f"1/{self.parenthesize(expr.base, 60)}"
        return super()._print_Pow(expr, rational=rational)

    def _print_log(self, expr):
        u = _softplus_argument(expr)
        if u is None:
            return super()._print_log(expr)
        return f"numpy.logaddexp(0.0, {self._print(u)})"

    def _print_Max(self, expr):
        args = [self._print(a) for a in _arrays_first(expr)]
        out = args[0]
        for a in args[1:]:
            out = f"numpy.maximum({out}, {a})"
        return out


def _arrays_first(expr: sp.Max) -> list:
    """Max's arguments with the constants last, as floats: numpy.maximum(Z, 0.0) is a third
    faster than numpy.maximum(0, Z) (measured)."""
    return sorted((sp.Float(a) if a.is_number else a for a in expr.args), key=lambda a: a.is_number)


def _split_step(expr: sp.Mul):
    """A product holding Heaviside(z, 0) (relu'): (that step, the rest), else (None, expr).

    Printed as a branch or a boolean mask, which is faster than multiplying by 0.0 or 1.0.
    """
    for i, f in enumerate(expr.args):
        if isinstance(f, sp.Heaviside) and len(f.args) == 2 and f.args[1] == 0:
            return f, sp.Mul(*(expr.args[:i] + expr.args[i + 1:]))
    return None, expr


def scalar(expr: sp.Expr) -> str:
    return ScalarPrinter({"fully_qualified_modules": True}).doprint(expr)


def batch(expr: sp.Expr) -> str:
    return BatchPrinter().doprint(expr)


def batch_into(expr: sp.Expr, out: str) -> str:
    """A statement writing expr into the existing array ``out``: relu's Max as numpy.maximum(...,
    out=) with no temporary, anything else as an assignment into it."""
    if isinstance(expr, sp.Max) and len(expr.args) == 2:
        a, b = (batch(e) for e in _arrays_first(expr))
        return f"numpy.maximum({a}, {b}, out={out})"
    return f"{out}[...] = {batch(expr)}"


class Reduction(sp.Function):
    """Over the neurons of one layer, for one example: the argument is a row expression (one neuron's)."""

    is_real = True


class LayerSum(Reduction):
    """The sum over the layer's neurons; a constant factor outside it."""

    @classmethod
    def eval(cls, arg):
        c, rest = sp.sympify(arg).as_coeff_Mul()
        return c * cls(rest) if c != 1 and rest != 1 else None


class LayerMax(Reduction):
    """The largest over the layer's neurons."""


class Softplus(sp.Function):
    """log(1 + exp(u)), printed overflow-free; in place of that pattern so that cse keeps it whole."""

    is_real = True


def kept_whole(expr: sp.Expr) -> sp.Expr:
    """expr with each softplus pattern as Softplus(u): cse would otherwise share its 1 + exp(u),
    and the printers no longer see the pattern whose stable form they print."""
    return expr.replace(lambda e: isinstance(e, sp.log) and _softplus_argument(e) is not None,
                        lambda e: Softplus(_softplus_argument(e)))


def _reciprocal_inside_log(expr: sp.Expr) -> bool:
    return any(isinstance(p, sp.Pow) and p.exp.is_negative for f in expr.atoms(sp.log) for p in f.args[0].atoms(sp.Pow))


def stable_logs(expr: sp.Expr, forms: Mapping[sp.Symbol, sp.Expr]) -> sp.Expr:
    """expr with each log of output activations (``log(a)``, ``log(1 - a)``: cross-entropy, bce) taken
    from the activations' ``forms`` in z, logs expanded: log(softmax) as z - M - log(sum exp(z - M)),
    log(sigmoid(z)) as -log(1 + exp(-z)), so that no log of a vanishing (or rounded-to-one)
    probability is taken. Logs holding exp or log of an activation (bce with logits: softplus) stay."""
    def rewrite(node):
        arg = node.args[0]
        if not arg.free_symbols & set(forms) or arg.has(sp.exp, sp.log):
            return node
        value = arg.xreplace(dict(forms))
        for candidate in (value, sp.together(value)):
            out = sp.expand_log(sp.log(candidate), force=True)
            if not _reciprocal_inside_log(out):
                return out
        return node
    return expr.replace(lambda e: isinstance(e, sp.log), rewrite)


def layer_form(expr: sp.Expr, zs: Sequence[sp.Symbol], own: sp.Symbol, row: sp.Symbol) -> sp.Expr | None:
    """An output's value in every output's z (a softmax) as a row expression: each sum with one term
    per z becomes LayerSum of that term in ``row``, then the output's ``own`` z is ``row``; None
    where some other z remains (no row form)."""
    zset = set(zs)

    def summed(node):
        if not isinstance(node, sp.Add) or len(node.args) != len(zs):
            return None
        terms = {}
        for t in node.args:
            mine = t.free_symbols & zset
            if len(mine) != 1:
                return None
            terms[mine.pop()] = t.xreplace({z: row for z in zset})
        if len(terms) != len(zs) or len(set(terms.values())) != 1:
            return None
        return LayerSum(terms[zs[0]])

    out = expr.replace(lambda e: summed(e) is not None, summed).xreplace({own: row})
    return None if out.free_symbols & zset else out


def program(named: Sequence[tuple[sp.Symbol, sp.Expr]], extra: Sequence[sp.Expr], available: set,
            temporaries: Iterator[sp.Symbol], reduced: Iterator[sp.Symbol]):
    """Straight-line steps computing each (symbol, expr) of ``named``, and ``extra`` in their terms:
    every reduction its own step (``R0 = LayerMax(Z)``), shared subexpressions once (``T0``, SymPy's
    cse), each step after what it reads (``available``: given). Returns (steps, extra rewritten)."""
    exprs = [kept_whole(e) for _, e in named] + [kept_whole(e) for e in extra]
    reductions: list[tuple[sp.Symbol, sp.Expr]] = []

    def innermost(e):
        return isinstance(e, Reduction) and not any(a.has(Reduction) for a in e.args)

    while any(e.has(Reduction) for e in exprs):
        found: dict[sp.Expr, sp.Symbol] = {}
        for e in exprs:
            for node in sorted(e.find(innermost), key=sp.default_sort_key):
                if node not in found:
                    found[node] = next(reduced)
        reductions += [(s, node) for node, s in found.items()]
        exprs = [e.xreplace(found) for e in exprs]
    inner = [node.args[0] for _, node in reductions]
    temps, out = sp.cse(inner + exprs, symbols=temporaries)
    pending = list(temps) + [(s, type(node)(e, evaluate=False)) for (s, node), e in zip(reductions, out)]
    pending += [(s, e) for (s, _), e in zip(named, out[len(inner):])]
    steps, done = [], set(available)
    while pending:
        ready = next((i for i, (_, e) in enumerate(pending) if e.free_symbols <= done), None)
        if ready is None:
            raise RuntimeError(f"no order computes {pending!r} from {sorted(map(str, done))}")
        s, e = pending.pop(ready)
        steps.append((s, e))
        done.add(s)
    return steps, out[len(inner) + len(named):]
