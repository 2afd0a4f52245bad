"""The formulas a step shows, as texts write them: a weighted sum, a parameter's chain (Leibniz factors per
path, their local forms, the error-term form), a batch rule."""

from __future__ import annotations

import sympy as sp

from ...core.derivation import Derivation, Factor
from ..nodes import Factors, Partial, Step, Terms

MAX_PATHS_SHOWN = 4


def combined(symbols: list[sp.Symbol], mean: bool):
    """A batch rule on the examples' (or workers') symbols as texts write it: ½ · (E_1 + E_2), or E_1 + E_2."""
    total = sp.Add(*symbols)
    return Factors((sp.Rational(1, len(symbols)), total)) if mean and len(symbols) > 1 else total


def partial(d: Derivation, f: Factor) -> Partial:
    """A Factor's Leibniz fraction, its names as the derivation's symbols."""
    return Partial(d.symbol_of[f.numerator], d.symbol_of.get(f.denominator, sp.Symbol(f.denominator)))


def chain_forms(d: Derivation, p: str) -> tuple[tuple, str]:
    """dE/dp as Leibniz factors per path, the same with each factor's local form, then the
    error-term form; past MAX_PATHS_SHOWN paths the local forms are left out, and the note says so."""
    count = d.path_count(p)
    if count == 0:  # its neuron feeds no output: no chain, and its error term is 0
        return (error_terms(d, p),), "no path from it reaches the loss (its neuron feeds no output): its gradient is 0"
    paths = d.chain(p, limit=MAX_PATHS_SHOWN)
    leibniz = Terms(tuple(Factors(tuple(partial(d, f) for f in path)) for path in paths))
    if count > len(paths):
        return (leibniz, error_terms(d, p)), f"{count} paths; the first {len(paths)} shown, the value sums all"
    local = Terms(tuple(Factors(tuple(sp.factor_terms(f.expr) for f in path)) for path in paths))
    return (leibniz, local, error_terms(d, p)), ""


def weighted_sum(d: Derivation, neuron) -> Terms:
    """z_n as texts write it: weight · input in the file's order, an additive bias last."""
    terms = tuple(Factors((d.symbols[w], d.a[s] if s in d.a else d.symbols[s])) for s, w in zip(neuron.inputs, neuron.weights))
    return Terms(terms + ((d.symbols[neuron.bias],) if neuron.bias else ()))


def error_terms(d: Derivation, p: str) -> Terms:
    """dE/dp as the sum over p's uses of δ_m · input, error term first as texts write it (SymPy's
    own order would print a·δ_b); an additive bias's term is its error term alone."""
    return Terms(tuple(Factors((d.delta_symbol[u.neuron],) + (() if u.source == 1 else (u.source,)))
                       for u in d.uses[p]))


def chain(d: Derivation, p: str | None = None) -> Step:
    """The symbolic chain of one parameter (the first by default), for notebook displays."""
    p = p or next(iter(d.model.parameters))
    return Step(f"dE/d{p}", Partial(d.E, d.symbols[p]), chain_forms(d, p)[0])
