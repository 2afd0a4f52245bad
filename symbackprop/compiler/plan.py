"""What the generated module will be, decided once before any line is printed.

``plan(derivation, numba, workers, input_gradients)`` chooses the code shapes, the batch limits between them and,
for a layered net, how each layer reads its parameters and the steps of an output layer that
needs its own (a Head: softmax over the layer, stable logs, the error terms); the emitters only
print what it says.
The thresholds are measurements (``symbackprop bench``), not tuning knobs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from ..core.derivation import Derivation
from ..core.errors import InputError
from ..core.limits import check_workers
from . import expressions

SCALAR_PARAMS = 64  # straight-line float code only for nets this small (code size grows with P)
SCALAR_BATCH = 16  # ... and batches this small (measured: the float loop beats numpy below it)
FUSED_WORK = 2**15  # numba loop kernel for layered nets while B * P is at most this (measured crossover: 2**15 to 2**16)
SCALAR_WORK = 160  # ... and B * P at most this (bench: 2-2-1 breaks even near B = 20, 2-4-4-1 near B = 5)
KERNEL_LAYERS = 8  # numba's compile time grows steeply with the kernel's layers: 70 took 106 s, and at 100
# numba's SSA pass overflows Python's stack; deeper nets use the NumPy matrix form alone
BLOCK_BYTES = 2**17  # matrix form: a layer's activations per block of rows stay within this (see chunk_rows)
BIG_CHUNK = 1024  # rows per block at least, for a net whose gradient passes BLOCK_BYTES (chunk_rows)
ONES_ROW_INPUTS = 64  # the inputs get a row of ones (H0, a transposed copy of X) only up to this many; beyond, layer 1
# reads X in place and adds its biases (bench: the copy was a tenth of 784-64-10's call at B = 1024)


class Shape(enum.Enum):
    """A form of the code; its value is how the module's docstring names it."""

    STRAIGHT = "straight-line float code"  # _one and _scalar: small nets, batches up to SCALAR_BATCH
    FUSED = "the straight-line float code as one fused numba loop over the batch"  # small nets, every batch
    KERNEL = "a numba loop over examples"  # layered nets, batches up to FUSED_BATCH
    MATRIX = "matrix-form NumPy (layered network)"  # feature-major: one row per neuron, one column per example
    COLUMNS = "straight-line NumPy over columns"  # any other graph


@dataclass(frozen=True)
class Layer:
    """One layer of the matrix form, and where its parameters sit in ``params``."""

    neurons: tuple[str, ...]
    activation: str  # the same for every neuron of the layer
    fan_in: int
    weights: tuple[tuple[int, ...], ...]  # per neuron, the positions of its weights
    biases: tuple[int, ...] | None  # per neuron, the position of its bias; None: no biases
    block: tuple[int, int] | None  # params[start:stop], when they hold the layer in dense() order
    ones_row: bool  # it reads its input with a row of ones appended (a block with biases; layer 1: few inputs)

    @property
    def width(self) -> int:
        return len(self.neurons)

    @property
    def bias(self) -> bool:
        return self.biases is not None

    @property
    def columns(self) -> int:
        """Parameters per neuron: one per input, and the bias."""
        return self.fan_in + self.bias


ROW = {name: sp.Symbol(name, real=True) for name in ("Z", "A", "YT", "D")}  # one output neuron's, in a Head
Step = tuple[sp.Symbol, sp.Expr]


@dataclass(frozen=True)
class Head:
    """The output layer where its activation couples its neurons (softmax), or the derivation
    simplifies its error terms (bce over sigmoid: (a - y)/n), as steps over one neuron's row
    symbols (ROW: its Z, A, target YT, D = dE/dZ) and reductions over the layer
    (expressions.LayerSum, LayerMax) that its neurons share; the emitters print them as matrix
    rows (numpy) or as loops over the layer (numba)."""

    forward: tuple[Step, ...]  # A's own step and what it and the loss read: the layer's largest z, its sum
    loss: sp.Expr  # one neuron's term (its logs stable): the loss is its sum over the layer and the examples
    backward: tuple[Step, ...]  # ending in D's own step, unscaled by the batch


@dataclass(frozen=True)
class MatrixPlan:
    """A layered, unshared net whose loss is a sum of one term per output: ``loss_term`` in
    ``target`` (Y) and ``prediction`` (the last layer's activations); ``head``, where the output
    layer needs its own steps (softmax, or a simplified error term)."""

    layers: tuple[Layer, ...]
    loss_term: sp.Expr
    target: sp.Symbol
    prediction: sp.Symbol
    head: Head | None = None

    @property
    def widths(self) -> tuple[int, ...]:
        """The inputs' count, then each layer's width: widths[l - 1] is layer l's fan-in."""
        return (self.layers[0].fan_in, *(layer.width for layer in self.layers))


@dataclass(frozen=True)
class Plan:
    """The module to emit. ``shapes`` in the order the module tries them: the first whose batch
    limit admits the batch runs (the last takes every batch)."""

    shapes: tuple[Shape, ...]
    parameters: int
    workers: int  # split()'s default shard count
    scalar_batch: int  # SCALAR_BATCH: largest batch of the float code; 0 for nets above SCALAR_PARAMS
    fused_batch: int | None  # FUSED_BATCH, with the kernel only
    chunk: int | None  # CHUNK, rows per block, wherever the net has a matrix plan
    matrix: MatrixPlan | None  # kept even where the fused loop serves every batch: CHUNK is still declared
    masked: bool  # some parameter is frozen: step() multiplies the gradient by TRAINED
    input_gradients: bool = False  # the module also exports input_gradients(params, X, Y): dE/dX, by every shape

    @property
    def numba(self) -> bool:
        return Shape.FUSED in self.shapes or Shape.KERNEL in self.shapes

    @property
    def small_batch(self) -> int | None:
        """The batch limit of the first shape, when another one follows it."""
        if len(self.shapes) == 1:
            return None
        return self.fused_batch if self.shapes[0] is Shape.KERNEL else self.scalar_batch


def plan(derivation: Derivation, numba: bool, workers: int, input_gradients: bool = False) -> Plan:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"expected a number of workers >= 1, got {workers!r}", key="workers")
    check_workers(workers)
    m = derivation.model
    P = len(m.parameters)
    matrix = matrix_plan(derivation)
    small = P <= SCALAR_PARAMS
    large = Shape.MATRIX if matrix else Shape.COLUMNS
    if numba and small:
        shapes = (Shape.FUSED,)  # the fused loop beats both numpy forms at every batch size
    elif small:
        shapes = (Shape.STRAIGHT, large)
    elif numba and matrix and len(matrix.widths) - 1 <= KERNEL_LAYERS and P <= FUSED_WORK:  # else not even B = 1
        shapes = (Shape.KERNEL, large)
    else:
        shapes = (large,)
    return Plan(shapes=shapes, parameters=P, workers=workers,
                scalar_batch=scalar_batch(P) if small else 0,
                fused_batch=fused_batch(P) if Shape.KERNEL in shapes else None,
                chunk=chunk_rows(matrix.widths, P) if matrix else None,
                matrix=matrix, masked=len(m.trained_parameters) != P, input_gradients=bool(input_gradients))


def chunk_rows(widths: Sequence[int], parameters: int = 0) -> int:
    """Rows per block of the matrix form: a power of two that keeps the widest layer's array
    within BLOCK_BYTES (the inputs count as a layer). Measured on 65536-row batches: larger
    blocks run 2-4x slower, not from the cache but from glibc handing the freed temporaries back
    to the system after each block, whose pages then fault in again; the cliff moves between
    runs above 2**17 bytes per array. A net whose gradient alone is larger than that (past 16,384
    parameters) takes blocks of at least BIG_CHUNK rows: each block writes a whole gradient and
    the blocks' gradients are summed, which at 256 rows cost dense 784-64-10 5-10% at B = 1024."""
    rows = max(256, 1 << max(1, BLOCK_BYTES // (8 * max(widths))).bit_length() - 1)
    return max(rows, BIG_CHUNK) if 8 * parameters > BLOCK_BYTES else rows


def fused_batch(parameters: int) -> int:
    """Largest batch for the numba loop kernel; BLAS matrix products win beyond (bench)."""
    return max(1, FUSED_WORK // parameters)


def scalar_batch(parameters: int) -> int:
    """Largest batch for the float loop: its cost grows with B * P, numpy's barely (measured)."""
    return max(1, min(SCALAR_BATCH, SCALAR_WORK // parameters))


def matrix_plan(d: Derivation) -> MatrixPlan | None:
    """The layers, when the net is layered, unshared, uniform per layer and its loss separable."""
    m = d.model
    layers = m.layers()
    if not layers or m.constants:
        return None
    params = [p for n in m.neurons for p in m.parameters_of(n)]
    if len(params) != len(set(params)):
        return None
    for layer in layers:
        ns = [m.neuron(n) for n in layer]
        if len({n.activation for n in ns}) != 1 or len({n.bias is None for n in ns}) != 1:
            return None
    y, p = sp.Symbol("Y", real=True), sp.Symbol(f"A{len(layers)}", real=True)
    term = separable_term(d, y, p)
    if term is None:
        return None
    index = {name: i for i, name in enumerate(m.parameters)}
    fan_in = len(m.inputs)
    planned = []
    for layer in layers:
        ns = [m.neuron(n) for n in layer]
        weights = tuple(tuple(index[w] for w in n.weights) for n in ns)
        biases = tuple(index[n.bias] for n in ns) if ns[0].bias else None
        in_order = [index[q] for n in ns for q in m.parameters_of(n)]  # dense() order: weights, then bias
        start = weights[0][0]
        block = (start, start + len(in_order)) if in_order == list(range(start, start + len(in_order))) else None
        ones = block is not None and biases is not None and (bool(planned) or fan_in <= ONES_ROW_INPUTS)
        planned.append(Layer(neurons=tuple(layer), activation=ns[0].activation, fan_in=fan_in, weights=weights,
                             biases=biases, block=block, ones_row=ones))
        fan_in = len(layer)
    top = head(d, term.xreplace({y: ROW["YT"], p: ROW["A"]})) if has_head(d) else None
    if has_head(d) and top is None:  # no row form: the column code takes the net
        return None
    return MatrixPlan(layers=tuple(planned), loss_term=term, target=y, prediction=p, head=top)


def separable_term(d: Derivation, y: sp.Symbol, p: sp.Symbol) -> sp.Expr | None:
    """The loss's term of one output in ``y`` (its target) and ``p`` (its activation), when the loss
    is the sum of that term over the outputs; else None."""
    outputs = d.model.outputs
    ys, ps = [d.targets[o] for o in outputs], [d.a[o] for o in outputs]
    index = {s: k for k, pair in enumerate(zip(ys, ps)) for s in pair}
    groups: list[list[sp.Expr]] = [[] for _ in outputs]
    for t in sp.Add.make_args(d.loss):
        ks = {index[s] for s in t.free_symbols if s in index}
        if len(ks) != 1:
            return None
        groups[ks.pop()].append(t)
    term = sp.Add(*groups[0]).xreplace({ys[0]: y, ps[0]: p})
    for k, group in enumerate(groups):
        if sp.expand(sp.Add(*group) - term.xreplace({y: ys[k], p: ps[k]})) != 0:
            return None
    return term


def has_head(d: Derivation) -> bool:
    """Whether the output layer needs a Head: a coupled activation, or a simplified error term;
    else the plain layer code serves (A = f(Z), D = U f'(Z, A))."""
    return d.activation[d.model.outputs[0]].coupled or d.simplified


def head(d: Derivation, term: sp.Expr) -> Head | None:
    """The output layer's steps (see Head) from the loss ``term`` of one output in ROW's symbols;
    None where the layer has no row form."""
    outputs = d.model.outputs
    act = d.activation[outputs[0]]
    Z, A, Y, D = ROW.values()
    temporaries, reduced = sp.numbered_symbols("T", real=True), sp.numbered_symbols("R", real=True)
    activation = None if act.coupled else act.form(Z)
    if act.coupled:  # shifted by the layer's largest z, as torch: softmax(z - M) = softmax(z), no exp overflows
        zs, shift = [d.z[o] for o in outputs], sp.Symbol("M", real=True)
        rows = {expressions.layer_form(d.a_expr[o].xreplace({z: z - shift for z in zs}), zs, d.z[o], Z)
                for o in outputs}
        if len(rows) != 1 or None in rows:
            return None
        activation = rows.pop().xreplace({shift: expressions.LayerMax(Z)})
    loss = expressions.stable_logs(term, {A: activation})
    forward, (loss,) = expressions.program([(A, activation)], [loss], {Z, Y}, temporaries, reduced)
    delta = _delta(d, Z, A, Y)
    if delta is None:
        return None
    backward, _ = expressions.program([(D, delta)], [], {Z, A, Y} | {s for s, _ in forward}, temporaries, reduced)
    return Head(forward=tuple(forward), loss=loss, backward=tuple(backward))


def _delta(d: Derivation, Z, A, Y) -> sp.Expr | None:
    """dE/dZ of one output neuron. A scalar activation: the derivation's error term, where it reads
    that neuron alone ((a - y)/n). A coupled one: the Jacobian product of the table's entries with
    U = dE/dA (the loss term's derivative), sum_i U_i da_i/dz_j = U f'(Z, A) - U cross(A, A)
    + h(A) LayerSum(U g(A)) for cross(a_i, a_j) = g(a_i) h(a_j): exact for any targets, and the
    derivation's a - y where they sum to 1 (cross-entropy; nll: exp(a) - y)."""
    outputs = d.model.outputs
    act = d.activation[outputs[0]]
    if not act.coupled:
        own = {o: {d.targets[o]: Y, d.a[o]: A, d.z[o]: Z} for o in outputs}
        rows = {d.error_term(o).xreplace(own[o]) for o in outputs}  # no other neuron reads an output here
        symbols = {s for o in outputs for s in own[o]} | set(d.delta_symbol.values())
        return rows.pop() if len(rows) == 1 and not (next(iter(rows)).free_symbols & symbols) else None
    a_i, a_j = sp.Dummy("a_i", real=True), sp.Dummy("a_j", real=True)
    cross = act.cross(a_i, a_j)
    g = sp.Mul(*[f for f in sp.Mul.make_args(cross) if a_j not in f.free_symbols])
    h = sp.Mul(*[f for f in sp.Mul.make_args(cross) if a_j in f.free_symbols])
    if sp.expand(g * h - cross) != 0 or a_i in h.free_symbols:
        return None
    U = d.loss_function.derivative(Y, A, len(outputs))  # cross-entropy: -Y/A, which the products cancel
    slope = d.activation_derivative[outputs[0]](Z, A)
    own = sp.expand(U * slope - U * cross.xreplace({a_i: A, a_j: A}))
    return own + h.xreplace({a_j: A}) * expressions.LayerSum(sp.expand(U * g.xreplace({a_i: A})))
