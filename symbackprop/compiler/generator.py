"""Compiled gradients: a Derivation printed as a standalone NumPy module, and loaded as a callable.

One generator serves both ``symbackprop.compile`` and ``symbackprop compile FILE -o module.py``:
the callable *is* the exported module, run in a fresh namespace. The code is shaped for the
work (measured by ``symbackprop bench``): small nets get straight-line float code for small
batches (numpy per-call overhead dominates there); layered nets get matrix-form NumPy; any
other graph gets straight-line NumPy over whole columns. Every formula is printed from the
Derivation (its z, activation, loss and error-term expressions, or the function table's
forms for the matrix code), never written by hand here.
"""

from __future__ import annotations

import textwrap

import sympy as sp

from ..core.derivation import Derivation
from ..core.errors import InputError
from . import expressions
from .names import Names

SCALAR_PARAMS = 64  # straight-line float code only for nets this small (code size grows with P)
SCALAR_BATCH = 16  # ... and batches this small (measured: the float loop beats numpy below it)
FUSED_WORK = 2**15  # numba loop kernel for layered nets while B * P is at most this (measured crossover: 2**15 to 2**16)
SCALAR_WORK = 160  # ... and B * P at most this (bench: 2-2-1 breaks even near B = 20, 2-4-4-1 near B = 5)
BLOCK_BYTES = 2**17  # matrix form: a layer's activations per block of rows stay within this (bench, below)
VERSION = "0.1.0"


SIGNATURE = "float64(float64[:], float64[:, :], float64[:, :], float64[::1])"  # params, X, Y, gradient out
STRAIGHT_FUSED = [  # the gradient array is made here: numba returning a new one costs more than the whole 2-2-1 pass
    "    grad = _empty(N_PARAMETERS)",
    "    try:",
    "        return _fused(params, X, Y, grad), grad",
    "    except (TypeError, ValueError):  # not float64 arrays of the expected shapes: convert, or say which was expected",
    "        params, X, Y = _check(params, X, Y)",
    "        return _fused(params, X, Y, grad), grad",
]
READY = ("type(params) is _ndarray and type(X) is _ndarray and type(Y) is _ndarray"
         "\n            and params.dtype is _float and X.dtype is _float and Y.dtype is _float"
         "\n            and params.shape == _P_SHAPE and X.shape[1:] == _X_COLUMNS and Y.shape[1:] == _Y_COLUMNS"
         "\n            and 0 < X.shape[0] == Y.shape[0]")


def _sanitize(text: str) -> str:
    """File text made harmless inside a docstring: printable, no quotes, no backslashes."""
    return "".join(c if c.isprintable() and c not in '"\\' else "?" for c in text)[:200]


class Source:
    def __init__(self, d: Derivation, numba: bool = False, workers: int = 1) -> None:
        self.d, self.m, self.names = d, d.model, Names(d)
        self.want_numba = numba
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise InputError(f"expected a number of workers >= 1, got {workers!r}", key="workers")
        self.workers = workers
        self.numba = ""  # "straight": the float code fused for every batch; "layered": a loop kernel for small ones
        self.P = len(self.m.parameters)
        self.index = {p: i for i, p in enumerate(self.m.parameters)}
        self.lines: list[str] = []

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    # -- the module -----------------------------------------------------------------------
    def text(self) -> str:
        m = self.m
        matrix = self.matrix_plan()
        scalar = self.P <= SCALAR_PARAMS
        if self.want_numba:
            self.numba = "straight" if scalar else "layered" if matrix else ""
        self.header(matrix, scalar)
        if self.numba == "straight":
            self.fused_function()
        elif scalar:
            self.scalar_function()
        if self.numba == "layered":
            self.layered_kernel(matrix)
        if self.numba != "straight":  # with "straight", the fused loop serves every batch
            if matrix:
                self.matrix_function(matrix)
            else:
                self.column_function()
        sign = "+" if m.update == "add" else "-"
        trained = m.trained_parameters
        mask = "" if len(trained) == self.P else " * TRAINED"
        small, small_loss = [], []
        if scalar:
            small = ["    if X.shape[0] <= SCALAR_BATCH:",
                     "        try:",
                     "            if X.shape[0] == 1:",
                     "                value, grad = _one(p.tolist(), X[0].tolist(), Y[0].tolist())",
                     "            else:",
                     "                value, grad = _scalar(p.tolist(), X.tolist(), Y.tolist())",
                     "            return value, numpy.array(grad, dtype=float)",
                     "        except OverflowError:  # math.exp overflows where numpy gives inf: take the numpy path",
                     "            pass"]
            small_loss = ["    if X.shape[0] <= SCALAR_BATCH:", "        return loss_and_grad(p, X, Y)[0]"]
        fused, fused_loss = [], []
        if self.numba == "layered":
            fused = ["    if X.shape[0] <= FUSED_BATCH:", "        grad = _empty(N_PARAMETERS)",
                     "        return _fused(p, X, Y, grad), grad"]
            fused_loss = ["    if X.shape[0] <= FUSED_BATCH:", "        return _fused(p, X, Y, _empty(N_PARAMETERS))"]
        self.emit(
            "", "",
            "def _check(params, X, Y):",
            '    """Writeable float64 arrays (numba takes no others) of the expected shapes, or a ValueError',
            '    that names them."""',
            "    p, X, Y = (array if type(array) is _ndarray and array.dtype is _float and array.flags.writeable",
            "               else numpy.array(array, dtype=float) for array in (params, X, Y))",
            "    if p.shape != _P_SHAPE:",
            "        raise ValueError(f'params has shape {p.shape}; expected ({N_PARAMETERS},), one value per name in PARAMETERS')",
            "    if X.shape[1:] != _X_COLUMNS or X.shape[0] < 1:",
            "        raise ValueError(f'X has shape {X.shape}; expected (B, {len(INPUTS)}) with B >= 1, columns {INPUTS}')",
            "    if Y.shape[1:] != _Y_COLUMNS or Y.shape[0] != X.shape[0]:",
            "        raise ValueError(f'Y has shape {Y.shape}; expected ({X.shape[0]}, {len(OUTPUTS)}), columns {OUTPUTS}')",
            "    return p, X, Y",
            "",
            "",
            "def loss_and_grad(params, X, Y):",
            '    """(loss, gradient): the batch loss and dE/dp for every p in PARAMETERS (float64)."""',
            *(STRAIGHT_FUSED if self.numba == "straight" else [
                f"    if not ({READY}):  # else convert, or say which shape was expected",
                "        params, X, Y = _check(params, X, Y)",
                "    p = params",
                *fused,
                *small,
                "    return _batch(p, X, Y, True)"]),
            "",
            "",
            "def loss(params, X, Y):",
            '    """The batch loss alone."""',
            *(["    return loss_and_grad(params, X, Y)[0]"] if self.numba == "straight" else [
                f"    if not ({READY}):  # else convert, or say which shape was expected",
                "        params, X, Y = _check(params, X, Y)",
                "    p = params",
                *fused_loss,
                *small_loss,
                "    return _batch(p, X, Y, False)"]),
            "",
            "",
            "def step(params, X, Y, lr=LEARNING_RATE):",
            f'    """One training step: p {sign}= lr * dE/dp for the trained parameters; the new parameters."""',
            "    p = numpy.asarray(params, dtype=float)",
            "    grad = loss_and_grad(p, X, Y)[1]",
            f"    return p {sign} lr * grad{mask}",
        )
        self.averaged_functions(sign, mask)
        return "\n".join(self.lines) + "\n"

    def averaged_functions(self, sign: str, mask: str) -> None:
        """Data parallelism: K workers' (loss, gradient), each over its own shard, averaged."""
        self.emit(
            "", "",
            "def split(X, Y, workers=WORKERS):",
            '    """The batch cut into `workers` contiguous shards of equal size, as (X, Y) pairs."""',
            "    X, Y = numpy.asarray(X, dtype=float), numpy.asarray(Y, dtype=float)",
            "    if workers < 1 or X.shape[0] % workers:",
            "        raise ValueError(f'{X.shape[0]} examples do not split into {workers} equal shards;'",
            "                         ' expected a batch size that is a multiple of workers')",
            "    size = X.shape[0] // workers",
            "    return [(X[k * size:(k + 1) * size], Y[k * size:(k + 1) * size]) for k in range(workers)]",
            "", "",
            "def averaged_loss_and_grad(params, shards):",
            '    """(loss, gradient) averaged over workers, as an all-reduce mean computes them: shards holds',
            "    one (X, Y) pair per worker; each worker combines its own examples as loss_and_grad does, and",
            '    the workers count alike, whatever their shard sizes."""',
            "    p = params if type(params) is _ndarray and params.dtype is _float else numpy.asarray(params, dtype=float)",
            "    if p.shape != _P_SHAPE:",
            "        raise ValueError(f'params has shape {p.shape}; expected ({N_PARAMETERS},), one value per name in PARAMETERS')",
            "    total, grad, workers = 0.0, numpy.zeros(N_PARAMETERS), 0",
            "    for k, shard in enumerate(shards):",
            "        try:",
            "            X, Y = shard",
            "        except (TypeError, ValueError):",
            "            raise ValueError(f'shard {k} is not an (X, Y) pair') from None",
            "        try:",
            "            value, g = loss_and_grad(p, X, Y)",
            "        except ValueError as e:",
            "            raise ValueError(f'shard {k}: {e}') from None",
            "        total += value",
            "        grad += g",
            "        workers += 1",
            "    if not workers:",
            "        raise ValueError('no shards; expected one (X, Y) pair per worker')",
            "    return total / workers, grad / workers",
            "", "",
            "def averaged_step(params, shards, lr=LEARNING_RATE):",
            f'    """One data-parallel step, as every worker applies it: p {sign}= lr * averaged dE/dp (trained ones)."""',
            "    p = numpy.asarray(params, dtype=float)",
            "    grad = averaged_loss_and_grad(p, shards)[1]",
            f"    return p {sign} lr * grad{mask}",
        )

    def header(self, matrix, scalar: bool) -> None:
        m, d = self.m, self.d
        lf = d.loss_function
        rule = "w <- w + lr * dE/dw" if m.update == "add" else "w <- w - lr * dE/dw"
        neurons = ", ".join(f"{n.name} ({n.activation})" for n in m.neurons)
        shape = "matrix-form NumPy (layered network)" if matrix else "straight-line NumPy over columns"
        small = f"straight-line float code for batches of up to {self.scalar_batch()} examples, " if scalar else ""
        if self.numba == "straight":
            small = "the straight-line float code as one fused numba loop over the batch; "
        elif self.numba:
            small = f"a numba loop over examples for batches of up to {self.fused_batch()} examples, "
        if self.numba == "straight":
            code = f"Code: {small.rstrip('; ')}."
        else:
            code = f"Code: {small}{shape} otherwise." if small else f"Code: {shape}."
        used_in = {}
        for n in m.neurons:
            for p in (*n.weights, *([n.bias] if n.bias else [])):
                used_in.setdefault(p, []).append(n.name)
        self.emit(
            f'"""Loss and gradients of: {_sanitize(m.title or "a symbackprop model")}.',
            "",
            f"Generated by symbackprop {VERSION}; regenerate rather than edit. Needs {'numpy and numba' if self.numba else 'only numpy'}.",
            "",
            f"Inputs (columns of X): {', '.join(m.inputs)}. Outputs (columns of Y): {', '.join(m.outputs)}.",
            *textwrap.wrap(f"Neurons: {neurons}.", 100),
            *textwrap.wrap(f"Loss: {lf.name} per example ({lf.description}); {m.batch} over the batch.", 100),
            f"step(): {rule}, lr = {float(m.learning_rate)!r} unless given;"
            f" trained: {'all parameters' if m.trained is None else ', '.join(m.trained_parameters) or 'none'}.",
            *textwrap.wrap(code, 100),
            *textwrap.wrap("averaged_loss_and_grad(), averaged_step(): data-parallel, the mean over workers of each"
                           f" worker's result on its own shard; split(): {self.workers} equal shards unless told.", 100),
            "",
            "Parameters, in the order of `params` and of the gradient:",
            *[f"    {i:4d}  {p}  (in {', '.join(used_in[p])})" for i, p in enumerate(m.parameters)],
            '"""',
            "",
            "import math",
            "",
            *(["import numba"] if self.numba else []),
            "import numpy",
            "",
            f"TITLE = {m.title!r}",
            f"PARAMETERS = {tuple(m.parameters)!r}",
            "N_PARAMETERS = len(PARAMETERS)",
            f"INPUTS = {tuple(m.inputs)!r}",
            f"OUTPUTS = {tuple(m.outputs)!r}",
            f"INITIAL = numpy.array({[float(v) for v in m.parameters.values()]!r})",
            f"LEARNING_RATE = {float(m.learning_rate)!r}",
            f"TRAINED = numpy.array({[float(p in set(m.trained_parameters)) for p in m.parameters]!r})",
            f"WORKERS = {self.workers}  # split()'s default number of data-parallel workers",
            f"SCALAR_BATCH = {self.scalar_batch() if scalar else 0}",
            *([f"FUSED_BATCH = {self.fused_batch()}"] if self.numba == "layered" else []),
            *([f"CHUNK = {self.chunk(matrix)}  # rows per block of the matrix form"] if matrix else []),
            "_ndarray, _float, _empty = numpy.ndarray, numpy.dtype(float), numpy.empty",
            "_P_SHAPE, _X_COLUMNS, _Y_COLUMNS = (N_PARAMETERS,), (len(INPUTS),), (len(OUTPUTS),)",
        )

    def chunk(self, plan) -> int:
        """Rows per block of the matrix form: a power of two that keeps the widest layer's array
        within BLOCK_BYTES (the inputs count as a layer). Measured on 65536-row batches: larger
        blocks run 2-4x slower, not from the cache but from glibc handing the freed temporaries back
        to the system after each block, whose pages then fault in again; the cliff moves between
        runs above 2**17 bytes per array."""
        widest = max(len(self.m.inputs), *(len(layer) for layer in plan[0]))
        return max(256, 1 << max(1, BLOCK_BYTES // (8 * widest)).bit_length() - 1)

    def fused_batch(self) -> int:
        """Largest batch for the numba loop kernel; BLAS matrix products win beyond (bench)."""
        return max(1, FUSED_WORK // self.P)

    def scalar_batch(self) -> int:
        """Largest batch for the float loop: its cost grows with B * P, numpy's barely (measured)."""
        return max(1, min(SCALAR_BATCH, SCALAR_WORK // self.P))

    # -- straight-line code, shared by the float and the column form --------------------------
    def body(self, pr) -> tuple[list[str], list[str], str, list[str]]:
        d, N = self.d, self.names
        forward = []
        for n in d.order:
            forward.append(f"z_{n.name} = {pr(N(d.z_expr[n.name]))}")
            forward.append(f"a_{n.name} = {pr(N(d.a_expr[n.name]))}")
        loss = pr(N(d.loss))
        backward = [f"d_{n.name} = {pr(N(d.deltas[n.name]))}" for n in reversed(d.order)]
        grads = [pr(N(d.gradient(p))) for p in self.m.parameters]
        return forward, backward, loss, grads

    def scalar_function(self) -> None:
        forward, backward, loss, grads = self.body(expressions.scalar)
        N, m = self.names, self.m
        xs = ", ".join(N.input[x] for x in m.inputs) + ("," if len(m.inputs) == 1 else "")
        ys = ", ".join(N.target[o] for o in m.outputs) + ("," if len(m.outputs) == 1 else "")
        unpack = f"    {', '.join(N.param.values())}, = p"
        self.emit(
            "", "",
            "def _one(p, x, y):",
            '    """One example in Python floats: no numpy call overhead at all."""',
            unpack,
            f"    {xs} = x",
            f"    {ys} = y",
            *[f"    {line}" for line in forward + [f"value = {loss}"] + backward],
            f"    return value, [{', '.join(grads)}]",
            "", "",
            "def _scalar(p, X, Y):",
            '    """A few examples, one at a time in Python floats: cheaper than numpy for small batches."""',
            unpack,
            "    total = 0.0",
            *[f"    g{i} = 0.0" for i in range(self.P)],
            f"    for ({xs}), ({ys}) in zip(X, Y):",
            *[f"        {line}" for line in forward],
            f"        total += {loss}",
            *[f"        {line}" for line in backward],
            *[f"        g{i} += {g}" for i, g in enumerate(grads)],
        )
        if m.batch == "mean":
            self.emit("    B = len(X)", f"    return total / B, [{', '.join(f'g{i} / B' for i in range(self.P))}]")
        else:
            self.emit(f"    return total, [{', '.join(f'g{i}' for i in range(self.P))}]")

    def fused_function(self) -> None:
        """The float loop as one numba-compiled pass over the batch: no temporaries, no numpy calls."""
        forward, backward, loss, grads = self.body(expressions.scalar)
        N, m = self.names, self.m
        scale = " / B" if m.batch == "mean" else ""
        self.emit(
            "", "",
            f"@numba.njit({SIGNATURE!r}, cache=False, nogil=True)  # compiled here, for float64 arrays only",
            "def _fused(p, X, Y, grad):",
            '    """Every example in one machine-code loop (numba): the float code, fused; the loss, with the',
            '    gradient written into grad."""',
            f"    if p.shape[0] != {self.P} or X.shape[1] != {len(m.inputs)} or Y.shape[1] != {len(m.outputs)}"
            " or X.shape[0] != Y.shape[0] or X.shape[0] < 1:",
            "        raise ValueError('shapes')  # the caller says which shape was expected",
            *[f"    {name} = p[{i}]" for i, name in enumerate(N.param.values())],
            "    total = 0.0",
            *[f"    g{i} = 0.0" for i in range(self.P)],
            "    for i in range(X.shape[0]):",
            *[f"        {N.input[x]} = X[i, {j}]" for j, x in enumerate(m.inputs)],
            *[f"        {N.target[o]} = Y[i, {j}]" for j, o in enumerate(m.outputs)],
            *[f"        {line}" for line in forward],
            f"        total += {loss}",
            *[f"        {line}" for line in backward],
            *[f"        g{i} += {g}" for i, g in enumerate(grads)],
            "    B = X.shape[0]",
            *[f"    grad[{i}] = g{i}{scale}" for i in range(self.P)],
            f"    return total{scale}",
        )

    def layered_kernel(self, plan) -> None:
        """A layered net as one numba loop over examples: matrix-vector products written as loops."""
        layers, term, ysym, psym = plan
        m, d, pr = self.m, self.d, expressions.scalar
        L = len(layers)
        z, a, u, y = (sp.Symbol(n, real=True) for n in ("z", "a", "u", "y"))
        sizes = [len(m.inputs)] + [len(layer) for layer in layers]
        lines = []
        for l, layer in enumerate(layers, start=1):
            ns = [m.neuron(n) for n in layer]
            self.emit(f"_KW{l} = numpy.array({[[self.index[w] for w in n.weights] for n in ns]!r})")
            if ns[0].bias:
                self.emit(f"_KB{l} = numpy.array({[self.index[n.bias] for n in ns]!r})")
            lines += [f"W{l} = numpy.empty(({sizes[l]}, {sizes[l - 1]}))", f"GW{l} = numpy.zeros(({sizes[l]}, {sizes[l - 1]}))",
                      f"for j in range({sizes[l]}):", f"    for k in range({sizes[l - 1]}):", f"        W{l}[j, k] = p[_KW{l}[j, k]]",
                      f"Z{l} = numpy.empty({sizes[l]})", f"A{l} = numpy.empty({sizes[l]})", f"D{l} = numpy.empty({sizes[l]})",
                      f"U{l} = numpy.empty({sizes[l]})"]
            if ns[0].bias:
                lines += [f"GB{l} = numpy.zeros({sizes[l]})"]
        body = []
        for l, layer in enumerate(layers, start=1):
            n = m.neuron(layer[0])
            f = d.activation[n.name]
            prev = "X[i, k]" if l == 1 else f"A{l - 1}[k]"
            body += [f"for j in range({sizes[l]}):  # layer {l}: {n.activation}",
                     f"    z = {f'p[_KB{l}[j]]' if n.bias else '0.0'}",
                     f"    for k in range({sizes[l - 1]}):", f"        z += W{l}[j, k] * {prev}",
                     f"    Z{l}[j] = z", f"    A{l}[j] = {pr(f.form(z))}"]
        loss_term = pr(term.xreplace({ysym: y, psym: a}))
        dloss = pr(d.loss_function.derivative(y, a, len(m.outputs)))
        body += [f"for j in range({sizes[L]}):  # {d.loss_function.name}", "    y = Y[i, j]", f"    a = A{L}[j]",
                 f"    total += {loss_term}", f"    U{L}[j] = {dloss}"]
        for l in range(L, 0, -1):
            n = m.neuron(layers[l - 1][0])
            f = d.activation[n.name]
            prev = "X[i, k]" if l == 1 else f"A{l - 1}[k]"
            body += [f"for j in range({sizes[l]}):", f"    z = Z{l}[j]", f"    a = A{l}[j]", f"    u = U{l}[j]",
                     f"    D{l}[j] = {pr(u * f.derivative(z, a))}"]
            if n.bias:
                body += [f"    GB{l}[j] += D{l}[j]"]
            body += [f"    for k in range({sizes[l - 1]}):", f"        GW{l}[j, k] += D{l}[j] * {prev}"]
            if l > 1:
                body += [f"for k in range({sizes[l - 1]}):", "    u = 0.0", f"    for j in range({sizes[l]}):",
                         f"        u += D{l}[j] * W{l}[j, k]", f"    U{l - 1}[k] = u"]
        scale = " / B" if m.batch == "mean" else ""
        out = []
        for l, layer in enumerate(layers, start=1):
            out += [f"for j in range({sizes[l]}):", f"    for k in range({sizes[l - 1]}):",
                    f"        grad[_KW{l}[j, k]] = GW{l}[j, k]{scale}"]
            if m.neuron(layer[0]).bias:
                out += [f"    grad[_KB{l}[j]] = GB{l}[j]{scale}"]
        self.emit(
            "", "",
            "@numba.njit(cache=False, nogil=True)  # compiled at the first call",
            "def _fused(p, X, Y, grad):",
            '    """Small batches of a layered net in one machine-code loop (numba), no numpy call overhead:',
            '    the loss, with the gradient written into grad."""',
            "    B = X.shape[0]",
            *[f"    {line}" for line in lines],
            "    total = 0.0",
            "    for i in range(B):",
            *[f"        {line}" for line in body],
            *[f"    {line}" for line in out],
            f"    return total{scale}",
        )

    def column_function(self) -> None:
        forward, backward, loss, grads = self.body(expressions.batch)
        N, m = self.names, self.m
        arrays = {N.mapping[self.d.symbols[x]] for x in m.inputs}
        self.emit(
            "", "",
            "def _batch(p, X, Y, backward):",
            '    """The whole batch at once, one numpy array per quantity."""',
            f"    {', '.join(N.param.values())}, = p",
            "    B = X.shape[0]",
            "    ONES = numpy.ones(B)",
            *[f"    {N.input[x]} = X[:, {i}]" for i, x in enumerate(m.inputs)],
            *[f"    {N.target[o]} = Y[:, {i}]" for i, o in enumerate(m.outputs)],
        )
        for n, (zline, aline) in zip(self.d.order, zip(forward[::2], forward[1::2])):
            free = N(self.d.z_expr[n.name]).free_symbols
            constant = not (free & arrays) and not any(str(s).startswith("a_") for s in free)
            self.emit(f"    {zline}{' * ONES' if constant else ''}", f"    {aline}")
        total = "numpy.sum(E) / B" if m.batch == "mean" else "numpy.sum(E)"
        scale = " / B" if m.batch == "mean" else ""
        self.emit(
            f"    E = {loss}",
            f"    value = {total}",
            "    if not backward:",
            "        return value",
            *[f"    {line}" for line in backward],
            "    grad = numpy.empty(N_PARAMETERS)",
            *[f"    grad[{i}] = numpy.sum({g}){scale}" for i, g in enumerate(grads)],
            "    return value, grad",
        )

    # -- matrix form for layered networks -------------------------------------------------------
    def matrix_plan(self):
        """The layers, when the net is layered, unshared, uniform per layer and its loss separable."""
        m, d = self.m, self.d
        layers = m.layers()
        if not layers or m.constants:
            return None
        params = [p for n in m.neurons for p in (*n.weights, *([n.bias] if n.bias else []))]
        if len(params) != len(set(params)):
            return None
        for layer in layers:
            ns = [m.neuron(n) for n in layer]
            if len({n.activation for n in ns}) != 1 or len({n.bias is None for n in ns}) != 1:
                return None
        y, p = sp.Symbol("Y", real=True), sp.Symbol(f"A{len(layers)}", real=True)
        ys, ps = list(d.targets.values()), [d.a[o] for o in m.outputs]
        term = d.loss.xreplace({ys[0]: y, ps[0]: p} | {s: 0 for s in ys[1:] + ps[1:]})
        if sp.expand(sum(term.xreplace({y: a, p: b}) for a, b in zip(ys, ps)) - d.loss) != 0:
            return None
        return layers, term, y, p

    def matrix_function(self, plan) -> None:
        """Feature-major matrix code: one row per neuron, one column per example. A layer whose
        parameters sit in dense() order (each neuron's weights, then its bias) reads them as one
        reshaped block, and its input carries a row of ones, so that one product gives Z and one
        gives the weight and bias gradients together (no bias add, no column sums: bench)."""
        layers, term, ysym, psym = plan
        m, d, pr = self.m, self.d, expressions.batch
        L = len(layers)
        width = [len(m.inputs)] + [len(layer) for layer in layers]  # width[l - 1]: layer l's fan-in
        block, bias, cols = {}, {}, {}  # cols[l]: the weights and bias of one neuron of layer l
        self.emit("", "")
        for l, layer in enumerate(layers, start=1):
            ns = [m.neuron(n) for n in layer]
            W = [[self.index[w] for w in n.weights] for n in ns]
            b = [self.index[n.bias] for n in ns] if ns[0].bias else None
            bias[l] = b is not None
            cols[l] = width[l - 1] + bias[l]
            flat = [i for j, row in enumerate(W) for i in row + ([b[j]] if b else [])]
            if flat == list(range(W[0][0], W[0][0] + len(W) * cols[l])):
                block[l] = (W[0][0], W[0][0] + len(W) * cols[l])
            else:
                self.emit(f"_W{l} = numpy.array({W!r})  # rows: {', '.join(layer)}")
                if b:
                    self.emit(f"_b{l} = numpy.array({b!r})")
        ones = {l for l in block if bias[l]}  # layer l reads H{l-1}: A{l-1} with a row of ones

        def source_of(l):  # the input of layer l, as its products read it
            return f"H{l - 1}" if l in ones else f"A{l - 1}"

        self.emit(
            "", "",
            "def _batch(p, X, Y, backward):",
            '    """Large batches in blocks of CHUNK rows, so that the temporaries stay in cache (bench)."""',
            "    B = X.shape[0]",
            "    if B <= CHUNK:",
            "        return _block(p, X, Y, backward, B)",
            "    parts = [_block(p, X[s:s + CHUNK], Y[s:s + CHUNK], backward, B) for s in range(0, B, CHUNK)]",
            "    if not backward:",
            "        return sum(parts)",
            "    return sum(v for v, _ in parts), sum(g for _, g in parts)",
            "", "",
            "def _block(p, X, Y, backward, B):",
            '    """Rows of the batch at once, transposed: A_l = f(W_l @ A_{l-1} + b_l), one column per example;',
            '    B: the whole batch."""',
            *(["    n = X.shape[0]"] if ones else []),
        )
        if 1 in ones:
            self.emit(f"    H0 = numpy.empty(({width[0] + 1}, n))  # the inputs, and a row of ones for the biases",
                      f"    H0[:{width[0]}] = X.T", f"    H0[{width[0]}] = 1.0")
        else:
            self.emit("    A0 = X.T")
        act = {}
        for l, layer in enumerate(layers, start=1):
            n = m.neuron(layer[0])
            f = d.activation[n.name]
            z, a = sp.Symbol(f"Z{l}", real=True), sp.Symbol(f"A{l}", real=True)
            act[l] = f.derivative(z, a)
            if l in block:
                s0, s1 = block[l]
                self.emit(f"    P{l} = p[{s0}:{s1}].reshape({width[l]}, {cols[l]})  # rows: {', '.join(layer)}; columns: weights"
                          + (", bias" if bias[l] else ""),
                          f"    Z{l} = P{l} @ {source_of(l)}")
                if l > 1:  # for the backward pass
                    self.emit(f"    W{l} = P{l}[:, :{width[l - 1]}]" if bias[l] else f"    W{l} = P{l}")
            else:
                self.emit(f"    W{l} = p[_W{l}]", f"    Z{l} = W{l} @ A{l - 1}" + (f" + p[_b{l}][:, None]" if bias[l] else ""))
            if l + 1 in ones:
                self.emit(f"    H{l} = numpy.empty(({width[l] + 1}, n))", f"    H{l}[{width[l]}] = 1.0",
                          f"    A{l} = H{l}[:{width[l]}]", f"    {expressions.batch_into(f.form(z), f'A{l}')}  # {n.activation}")
            else:
                self.emit(f"    A{l} = {pr(f.form(z))}  # {n.activation}")
        yt = sp.Symbol("YT", real=True)
        dloss = d.loss_function.derivative(yt, psym, len(m.outputs))
        scale = " / B" if m.batch == "mean" else ""
        self.emit(
            "    YT = Y.T  # one row per output, as the activations",
            f"    value = numpy.sum({pr(term.xreplace({ysym: yt}))}){scale}  # {d.loss_function.name}",
            "    if not backward:",
            "        return value",
            "    grad = numpy.empty(N_PARAMETERS)",
            f"    U = ({pr(dloss)}){scale}  # dE/dA{L}",
        )
        upstream = sp.Symbol("U", real=True)
        for l in range(L, 0, -1):
            self.emit(f"    D{l} = {pr(upstream * act[l])}  # dE/dZ{l}")
            if l in block:
                s0, s1 = block[l]
                self.emit(f"    numpy.matmul(D{l}, {source_of(l)}.T, out=grad[{s0}:{s1}].reshape({width[l]}, {cols[l]}))")
            else:
                self.emit(f"    grad[_W{l}] = D{l} @ A{l - 1}.T")
                if bias[l]:
                    self.emit(f"    grad[_b{l}] = numpy.sum(D{l}, axis=1)")
            if l > 1:  # one neuron: a broadcast product, twice as fast as a matrix product of inner size 1
                self.emit(f"    U = W{l}.T {'*' if width[l] == 1 else '@'} D{l}  # dE/dA{l - 1}")
        self.emit("    return value, grad")


def source(d: Derivation, numba: bool = False, workers: int = 1) -> str:
    """The standalone module's text; the same Derivation (and options) gives the same bytes.

    ``numba=True`` adds a fused numba loop for batches of two or more (nets up to SCALAR_PARAMS
    parameters) and makes the module import numba; without it the module needs numpy alone.
    ``workers`` is only the default shard count of ``split()``: the averaged functions take any.
    """
    return Source(d, numba, workers).text()
