"""The chain nodes (Factors, Terms) for the printers that write text: one definition, each printer
giving its multiplication sign and its brackets."""

from __future__ import annotations

import sympy as sp


class ChainText:
    """Mixin for SymPy string printers: Factors joined by ``chain_dot`` in their given order, a sum or a
    negative factor in ``chain_brackets``; Terms joined by plus signs."""

    chain_dot = " · "
    chain_brackets = ("(", ")")

    def _print_Factors(self, node) -> str:
        parts = []
        for f in node.factors:
            text = self._print(f)
            wrap = isinstance(f, sp.Basic) and (f.is_Add or text.startswith("-"))
            parts.append(f"{self.chain_brackets[0]}{text}{self.chain_brackets[1]}" if wrap else text)
        return self.chain_dot.join(parts)

    def _print_Terms(self, node) -> str:
        return " + ".join(self._print(t) for t in node.terms)
