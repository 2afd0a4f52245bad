"""The one table of every identifier that generated code takes from the model.

``Names`` maps each (kind, model name) key to the identifier the code writes: a parameter
(``p_``), input (``x_``), target (``y_``), and per neuron its sum, activation and error term
(``z_``, ``a_``, ``d_``). Every other identifier in a module is a helper the compiler writes
itself: the names template.py uses (read from its source), those the emitters print
(``EMITTED``, and the numbered families ``g0``, ``A1``, ``_KW2``... of ``NUMBERED``), Python's
keywords and builtins. The table is built in two passes, the same for the same derivation:

1. every key whose plain form (prefix + name) is at most ``LIMIT`` characters and no helper's
   name gets that plain form;
2. each other key, in the table's order: its plain form's first ``LIMIT - 9`` characters, ``_``
   and the first ``HASH`` (8) hex digits of the SHA-256 of the whole plain form; then, while that
   is taken (by an earlier key or a helper), ``_2``, ``_3``... in place of its last characters.

So no two keys share an identifier, none is a helper, none is longer than ``LIMIT``, and an
ordinary name keeps its plain form (what the golden modules hold). ``generator.source`` checks
each module against the table (``undeclared``): a name in the code that is neither the table's
nor a declared helper is a compiler error, not a module. No file text is ever printed outside a
string literal written with ``repr``, the docstring (the title sanitized) or a comment.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import inspect
import keyword
import re
from functools import cached_property

import sympy as sp

from ..core.errors import InputError
from . import template

SAFE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
LIMIT = 64  # longest identifier from the table; numba (LLVM) takes local names up to ~1022 characters, Python any
HASH = 8  # hex digits of SHA-256 that end a shortened identifier
PREFIX = {"parameter": "p_", "input": "x_", "target": "y_", "sum": "z_", "activation": "a_", "error": "d_"}
NEURON_KINDS = ("sum", "activation", "error")

# What the emitters print themselves (emit_*.py), beyond template.py's names.
EMITTED = frozenset({
    "math", "numpy", "numba",  # the imports
    "TITLE", "PARAMETERS", "N_PARAMETERS", "INPUTS", "OUTPUTS", "INITIAL", "LEARNING_RATE", "TRAINED",
    "WORKERS", "SCALAR_BATCH", "FUSED_BATCH", "CHUNK",  # the header's constants
    "_one", "_scalar", "_fused", "_batch", "_block",  # the network code's functions
    "p", "x", "y", "X", "Y", "B", "n", "i", "j", "k", "z", "a", "u",  # their arguments and loop variables
    "total", "value", "grad", "backward", "ONES", "E", "YT", "U",  # their accumulators and arrays
    "M",  # a softmax layer's largest z (the shift)
})
# g<parameter>, per-layer arrays; a softmax layer's shared subexpressions (t, T) and reductions over a layer (R)
NUMBERED = re.compile(r"(?:g|A|Z|H|W|P|D|U|GW|GB|_W|_b|_KW|_KB|t|T|R)[0-9]+\Z")


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def identifiers_in(tree: ast.AST) -> set[str]:
    """Every name the code binds or reads (attributes aside: ``numpy.exp`` reads ``numpy``).

    A walk that steps over constants, which are most of a large module's nodes (its PARAMETERS and
    INITIAL: 50,890 of each for dense 784-64-10): ast.walk took ten times as long."""
    out: set[str] = set()
    stack: list[ast.AST] = [tree]
    Name, Constant, AST = ast.Name, ast.Constant, ast.AST
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is Name:
            out.add(node.id)
            continue
        if kind is ast.arg:
            out.add(node.arg)
        elif kind in _DEFINITIONS:
            out.add(node.name)
        elif kind is ast.alias:
            out.add(node.asname or node.name.split(".")[0])
        elif kind is ast.ExceptHandler and node.name:
            out.add(node.name)
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend(v for v in value if type(v) is not Constant and isinstance(v, AST))
            elif type(value) is not Constant and isinstance(value, AST):
                stack.append(value)
    return out


TEMPLATE = frozenset(identifiers_in(ast.parse(inspect.getsource(template))))
HELPERS = EMITTED | TEMPLATE | frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


def helper(identifier: str) -> bool:
    """Whether generated code may use the identifier for something of its own."""
    return identifier in HELPERS or NUMBERED.match(identifier) is not None


def safe(name: str) -> str:
    if not isinstance(name, str) or not SAFE.match(name):
        raise InputError(f"{name!r} cannot become a Python name; expected an identifier")
    return name


def shortened(plain: str) -> str:
    """The plain form cut to LIMIT characters, ending in a hash of all of it; as is when it fits."""
    if len(plain) <= LIMIT:
        return plain
    return f"{plain[:LIMIT - HASH - 1]}_{hashlib.sha256(plain.encode()).hexdigest()[:HASH]}"


def table(keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(kind, name) -> identifier, in the keys' order; see the module docstring for the rule."""
    plain = {key: PREFIX[key[0]] + safe(key[1]) for key in keys}
    if len(plain) != len(keys):
        raise RuntimeError("a key is in the table twice; the model validator lets no name repeat")
    out: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for key, name in plain.items():
        if len(name) <= LIMIT and not helper(name) and name not in taken:
            out[key] = name
            taken.add(name)
    for key, name in plain.items():
        if key in out:
            continue
        base = candidate = shortened(name)
        count = 1
        while candidate in taken or helper(candidate):
            count += 1
            candidate = f"{base[:LIMIT - len(str(count)) - 1]}_{count}"
        out[key] = candidate
        taken.add(candidate)
    verify(out)
    return {key: out[key] for key in keys}


def verify(mapped: dict[tuple[str, str], str]) -> None:
    """The table's promise, checked: distinct identifiers, none a helper, none beyond LIMIT."""
    seen: dict[str, tuple[str, str]] = {}
    for key, identifier in mapped.items():
        if identifier in seen:
            raise RuntimeError(f"{seen[identifier]} and {key} both map to {identifier!r}")
        if helper(identifier) or len(identifier) > LIMIT or not SAFE.match(identifier):
            raise RuntimeError(f"{key} maps to {identifier!r}, a helper's name or no usable identifier")
        seen[identifier] = key


class Names:
    """The table of generated identifiers, by kind; and the renaming of the Derivation's expressions
    (symbols -> identifiers, exact constants -> their values, folded into the code)."""

    def __init__(self, d) -> None:
        m = d.model
        keys = [("parameter", p) for p in m.parameters] + [("input", x) for x in m.inputs]
        keys += [("target", o) for o in m.outputs] + [(kind, n.name) for n in d.order for kind in NEURON_KINDS]
        self.table = table(keys)
        self.identifiers = frozenset(self.table.values())
        self.param = {p: self.table["parameter", p] for p in m.parameters}
        self.input = {x: self.table["input", x] for x in m.inputs}
        self.target = {o: self.table["target", o] for o in m.outputs}
        self.sum, self.activation, self.error = ({n.name: self.table[kind, n.name] for n in d.order} for kind in NEURON_KINDS)
        self._d = d

    @cached_property
    def mapping(self) -> dict[sp.Symbol, sp.Expr]:
        """The Derivation's symbols -> the table's (exact constants -> their values), made on first use:
        the matrix code of a layered net renames no expression, and a symbol per parameter is most of
        a large net's table."""
        d, m = self._d, self._d.model
        symbol = self._symbol
        mapping: dict[sp.Symbol, sp.Expr] = {}
        for p, name in self.param.items():
            mapping[d.symbols[p]] = symbol(name)
        for x, name in self.input.items():
            mapping[d.symbols[x]] = symbol(name)
        for c, value in m.constants.items():
            mapping[d.symbols[c]] = value  # exact, folded into the code
        for o, name in self.target.items():
            mapping[d.targets[o]] = symbol(name)
        for n in d.order:
            mapping[d.z[n.name]] = symbol(self.sum[n.name])
            mapping[d.a[n.name]] = symbol(self.activation[n.name])
            mapping[d.delta_symbol[n.name]] = symbol(self.error[n.name])
        return mapping

    @staticmethod
    def _symbol(identifier: str) -> sp.Symbol:
        return sp.Symbol(identifier, real=True)

    @cached_property
    def activations(self) -> frozenset[sp.Symbol]:
        return frozenset(self._symbol(name) for name in self.activation.values())

    @cached_property
    def inputs(self) -> frozenset[sp.Symbol]:
        return frozenset(self._symbol(name) for name in self.input.values())

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        return sp.sympify(expr).xreplace(self.mapping)

    def undeclared(self, source: str | ast.AST) -> list[str]:
        """The names a module's text (or its parsed tree) uses that are neither this table's nor a declared helper."""
        tree = ast.parse(source) if isinstance(source, str) else source
        return sorted(n for n in identifiers_in(tree) if n not in self.identifiers and not helper(n))
