"""The one validated mapping from a Derivation's symbols to the identifiers of generated code.

Every name from a file reaches the code only through ``Names``: a kind prefix (``p_`` parameter,
``x_`` input, ``y_`` target, ``z_``/``a_``/``d_`` a neuron's sum, activation and error term) on a
name the model validator has already proven an identifier, checked again here. The helpers
the generated code uses (``numpy``, ``math``, ``X``, ``B``, ``total``...) carry none of those
prefixes, so no file name can shadow them, and no file text is ever printed outside a string
literal written with ``repr``.
"""

from __future__ import annotations

import re

import sympy as sp

from ..core.errors import InputError

SAFE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def safe(name: str) -> str:
    if not SAFE.match(name):
        raise InputError(f"{name!r} cannot become a Python name; expected an identifier")
    return name



class Names:
    """Symbol -> generated identifier (with its kind prefix), and exact constants -> values."""

    def __init__(self, d) -> None:
        m = d.model
        self.mapping: dict[sp.Symbol, sp.Expr] = {}
        self.param = {p: f"p_{safe(p)}" for p in m.parameters}
        self.input = {x: f"x_{safe(x)}" for x in m.inputs}
        self.target = {o: f"y_{safe(o)}" for o in m.outputs}
        for p, name in self.param.items():
            self.mapping[d.symbols[p]] = sp.Symbol(name, real=True)
        for x, name in self.input.items():
            self.mapping[d.symbols[x]] = sp.Symbol(name, real=True)
        for c, value in m.constants.items():
            self.mapping[d.symbols[c]] = value  # exact, folded into the code
        for o, name in self.target.items():
            self.mapping[d.targets[o]] = sp.Symbol(name, real=True)
        for n in d.order:
            safe(n.name)
            self.mapping[d.z[n.name]] = sp.Symbol(f"z_{n.name}", real=True)
            self.mapping[d.a[n.name]] = sp.Symbol(f"a_{n.name}", real=True)
            self.mapping[d.delta_symbol[n.name]] = sp.Symbol(f"d_{n.name}", real=True)

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        return sp.sympify(expr).xreplace(self.mapping)
