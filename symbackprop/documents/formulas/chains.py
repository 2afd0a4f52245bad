"""The chain nodes (Factors, Terms, Listing) for the printers that write text: one definition, each printer
giving its multiplication sign and its brackets."""

from __future__ import annotations

from contextlib import contextmanager

import sympy as sp

from ..nodes import Factors


def signed(term) -> tuple[bool, object]:
    """A term of a Terms node as (negative, term): a chain whose first factor is negative (−η · ∂E/∂w)
    is written with a minus sign, w − η · ∂E/∂w, not w + (−η) · ∂E/∂w."""
    if isinstance(term, Factors) and term.factors and isinstance(term.factors[0], sp.Basic) \
            and not term.factors[0].is_Add and term.factors[0].could_extract_minus_sign():  # (1 − β) · g stays
        return True, Factors((-term.factors[0], *term.factors[1:]))
    return False, term


class BareArguments:
    """Mixin for the formula printers: a number put in as a function's whole argument needs no
    brackets of its own (H(−0.16), tanh(−0.75); not H((−0.16))); anywhere else a negative number
    is bracketed, as ``bracketed`` says."""

    _bare: frozenset = frozenset()

    @contextmanager
    def arguments(self, expr):
        """While the arguments of ``expr`` print: its direct symbols are bare."""
        outer, self._bare = self._bare, frozenset(a for a in expr.args if isinstance(a, sp.Symbol))
        try:
            yield
        finally:
            self._bare = outer

    def bracketed(self, symbol: sp.Symbol, text: str) -> bool:
        return text.startswith("-") and symbol not in self._bare

    def _print_Function(self, expr, *args, **kwargs):
        with self.arguments(expr):
            return super()._print_Function(expr, *args, **kwargs)



class ChainText(BareArguments):
    """Mixin for SymPy string printers: Factors joined by ``chain_dot`` in their given order, a sum or a
    negative factor in ``chain_brackets``; Terms joined by plus signs."""

    chain_dot = " · "
    chain_brackets = ("(", ")")
    chain_ellipsis = "…"

    def _print_Factors(self, node) -> str:
        parts = []
        for f in node.factors:
            text = self._print(f)
            wrap = isinstance(f, sp.Basic) and (f.is_Add or text.startswith("-"))
            parts.append(f"{self.chain_brackets[0]}{text}{self.chain_brackets[1]}" if wrap else text)
        return self.chain_dot.join(parts)

    def _print_Terms(self, node) -> str:
        out = []
        for i, term in enumerate(node.terms):
            negative, term = signed(term) if i else (False, term)
            out.append(("- " if negative else "+ ") * bool(i) + self._print(term))
        return " ".join(out)

    def _print_Listing(self, node) -> str:
        return ", ".join([self._print(t) for t in node.items] + [self.chain_ellipsis] * node.more)
