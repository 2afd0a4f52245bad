"""Compiled gradients: a Derivation printed as a standalone NumPy module (compiled.py loads it).

One generator serves both ``symbackprop.compile`` and ``symbackprop compile FILE -o module.py``:
the callable *is* the exported module, run in a fresh namespace. The code is shaped for the
work (measured by ``symbackprop bench``): small nets get straight-line float code for small
batches (numpy per-call overhead dominates there); layered nets get matrix-form NumPy; any
other graph gets straight-line NumPy over whole columns. Every formula is printed from the
Derivation (its z, activation, loss and error-term expressions, or the function table's
forms for the matrix code), never written by hand here. plan.py decides the shapes; one
emitter per shape prints it; the fixed functions come from template.py.
"""

from __future__ import annotations

import ast

from ..core.derivation import Derivation
from .emit_columns import columns
from .emit_fixed import fixed
from .emit_header import header
from .emit_kernel import kernel
from .emit_matrix import matrix
from .emit_straight import fused, straight
from .names import Names
from .plan import Shape, plan

EMITTERS = {Shape.FUSED: fused, Shape.STRAIGHT: straight, Shape.KERNEL: kernel, Shape.MATRIX: matrix, Shape.COLUMNS: columns}


def source(d: Derivation, numba: bool = False, workers: int = 1, input_gradients: bool = False) -> str:
    """The standalone module's text; the same Derivation (and options) gives the same bytes.

    ``numba=True`` makes the module import numba: nets up to SCALAR_PARAMS parameters get one fused
    numba loop for every batch, larger layered nets a numba loop kernel for small batches (any other
    graph stays numpy); without it the module needs numpy alone.
    ``workers`` is only the default shard count of ``split()``: the averaged functions take any.
    ``input_gradients=True`` adds ``input_gradients(params, X, Y)``: d(batch loss)/dX, shape (B, inputs),
    by each of the module's shapes; without it the module's bytes are what they were before it.
    """
    return module(d, numba, workers, input_gradients)[0]


def module(d: Derivation, numba: bool = False, workers: int = 1, input_gradients: bool = False) -> tuple[str, ast.Module]:
    """(source's text, its parsed tree): the tree its names were checked on, which compile() runs, so
    that a large module is parsed once (dense 784-64-10's is 3 MB: a second parse cost a second)."""
    decided, names = plan(d, numba, workers, input_gradients), Names(d)
    lines = header(decided, d)
    for shape in decided.shapes:
        lines += EMITTERS[shape](decided, d, names)
    text = "\n".join(lines + fixed(decided, d)) + "\n"
    tree = ast.parse(text)
    stray = names.undeclared(tree)
    if stray:  # an identifier built outside names.Names, or a helper missing from names.EMITTED
        raise RuntimeError(f"generated code uses {', '.join(stray[:5])}, neither in names.Names nor a declared helper")
    return text, tree
