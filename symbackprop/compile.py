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

import builtins

import numpy as np
import sympy as sp

from . import codegen
from .dense import layers_of
from .derive import Derivation

SCALAR_PARAMS = 64  # straight-line float code only for nets this small (code size grows with P)
SCALAR_BATCH = 16  # ... and batches this small (measured: the float loop beats numpy below it)
SCALAR_WORK = 160  # ... and B * P at most this (bench: 2-2-1 breaks even near B = 20, 2-4-4-1 near B = 5)
VERSION = "0.1.0"


READY = ("type(params) is _ndarray and type(X) is _ndarray and type(Y) is _ndarray"
         "\n            and params.dtype is _float and X.dtype is _float and Y.dtype is _float"
         "\n            and params.shape == _P_SHAPE and X.shape[1:] == _X_COLUMNS and Y.shape[1:] == _Y_COLUMNS"
         "\n            and 0 < X.shape[0] == Y.shape[0]")


def _sanitize(text: str) -> str:
    """File text made harmless inside a docstring: printable, no quotes, no backslashes."""
    return "".join(c if c.isprintable() and c not in '"\\' else "?" for c in text)[:200]


class Source:
    def __init__(self, d: Derivation, numba: bool = False) -> None:
        self.d, self.m, self.names = d, d.model, codegen.Names(d)
        self.numba = numba and len(d.model.parameters) <= SCALAR_PARAMS
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
        self.header(matrix, scalar)
        if self.numba:
            self.fused_function()
        elif scalar:
            self.scalar_function()
        if self.numba:
            pass  # the fused loop serves every batch
        elif matrix:
            self.matrix_function(matrix)
        else:
            self.column_function()
        sign = "+" if m.update == "add" else "-"
        trained = m.trained_parameters
        mask = "" if len(trained) == self.P else " * TRAINED"
        small = "X.shape[0] <= SCALAR_BATCH" if scalar else "False"
        fused = ["    return _fused(p, X, Y)"] if self.numba else []
        fused_loss = ["    return _fused(p, X, Y)[0]"] if self.numba else []
        self.emit(
            "", "",
            "def _check(params, X, Y):",
            '    """Arrays of the expected shapes, or a ValueError that names them."""',
            "    p = params if type(params) is _ndarray and params.dtype is _float else numpy.asarray(params, dtype=float)",
            "    X = X if type(X) is _ndarray and X.dtype is _float else numpy.asarray(X, dtype=float)",
            "    Y = Y if type(Y) is _ndarray and Y.dtype is _float else numpy.asarray(Y, dtype=float)",
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
            f"    if not ({READY}):  # else convert, or say which shape was expected",
            "        params, X, Y = _check(params, X, Y)",
            "    p = params",
            *(fused or [
                f"    if {small}:",
                "        try:",
                "            if X.shape[0] == 1:",
                "                value, grad = _one(p.tolist(), X[0].tolist(), Y[0].tolist())",
                "            else:",
                "                value, grad = _scalar(p.tolist(), X.tolist(), Y.tolist())",
                "            return value, numpy.array(grad, dtype=float)",
                "        except OverflowError:  # math.exp overflows where numpy gives inf: take the numpy path",
                "            pass",
                "    return _batch(p, X, Y, True)"]),
            "",
            "",
            "def loss(params, X, Y):",
            '    """The batch loss alone."""',
            f"    if not ({READY}):  # else convert, or say which shape was expected",
            "        params, X, Y = _check(params, X, Y)",
            "    p = params",
            *(fused_loss or [
                f"    if {small}:",
                "        return loss_and_grad(p, X, Y)[0]",
                "    return _batch(p, X, Y, False)"]),
            "",
            "",
            "def step(params, X, Y, lr=LEARNING_RATE):",
            f'    """One training step: p {sign}= lr * dE/dp for the trained parameters; the new parameters."""',
            "    p = numpy.asarray(params, dtype=float)",
            "    grad = loss_and_grad(p, X, Y)[1]",
            f"    return p {sign} lr * grad{mask}",
        )
        return "\n".join(self.lines) + "\n"

    def header(self, matrix, scalar: bool) -> None:
        m, d = self.m, self.d
        lf = d.loss_function
        rule = "w <- w + lr * dE/dw" if m.update == "add" else "w <- w - lr * dE/dw"
        neurons = ", ".join(f"{n.name} ({n.activation})" for n in m.neurons)
        shape = "matrix-form NumPy (layered network)" if matrix else "straight-line NumPy over columns"
        small = f"straight-line float code for batches of up to {self.scalar_batch()} examples, " if scalar else ""
        if self.numba:
            small = "the straight-line float code as one fused numba loop over the batch; "
        used_in = {}
        for n in m.neurons:
            for p in (*n.weights, *([n.bias] if n.bias else [])):
                used_in.setdefault(p, []).append(n.name)
        self.emit(
            f'"""Loss and gradients of: {_sanitize(m.title or "a symbackprop model")}.',
            "",
            f"Generated by symbackprop {VERSION}; regenerate rather than edit. Needs only numpy.",
            "",
            f"Inputs (columns of X): {', '.join(m.inputs)}. Outputs (columns of Y): {', '.join(m.outputs)}.",
            f"Neurons: {neurons}.",
            f"Loss: {lf.name} per example ({lf.description}); {m.batch} over the batch.",
            f"step(): {rule}, lr = {float(m.learning_rate)!r} unless given;"
            f" trained: {'all parameters' if m.trained is None else ', '.join(m.trained_parameters) or 'none'}.",
            f"Code: {small}{shape} otherwise." if not self.numba else f"Code: {small.rstrip('; ')}.",
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
            f"SCALAR_BATCH = {self.scalar_batch() if scalar else 0}",
            "_ndarray, _float = numpy.ndarray, numpy.dtype(float)",
            "_P_SHAPE, _X_COLUMNS, _Y_COLUMNS = (N_PARAMETERS,), (len(INPUTS),), (len(OUTPUTS),)",
        )

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
        forward, backward, loss, grads = self.body(codegen.scalar)
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
        forward, backward, loss, grads = self.body(codegen.scalar)
        N, m = self.names, self.m
        scale = " / B" if m.batch == "mean" else ""
        self.emit(
            "", "",
            "@numba.njit(cache=False, nogil=True)  # compiled at the first call",
            "def _fused(p, X, Y):",
            '    """Every example in one machine-code loop (numba): the float code, fused."""',
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
            "    grad = numpy.empty(N_PARAMETERS)",
            *[f"    grad[{i}] = g{i}{scale}" for i in range(self.P)],
            f"    return total{scale}, grad",
        )

    def column_function(self) -> None:
        forward, backward, loss, grads = self.body(codegen.batch)
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
        layers = layers_of(m)
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
        layers, term, ysym, psym = plan
        m, d, pr = self.m, self.d, codegen.batch
        L = len(layers)
        self.emit("", "")
        blocks = {}
        for l, layer in enumerate(layers, start=1):
            ns = [m.neuron(n) for n in layer]
            W = [[self.index[w] for w in n.weights] for n in ns]
            b = [self.index[n.bias] for n in ns] if ns[0].bias else None
            width, fan_in = len(W), len(W[0])
            cols = fan_in + (b is not None)
            start = W[0][0]
            flat = [i for j, row in enumerate(W) for i in row + ([b[j]] if b else [])]
            if flat == list(range(start, start + width * cols)):  # dense() order: one neuron's weights, then its bias
                blocks[l] = (start, start + width * cols, width, fan_in, cols)
            else:
                self.emit(f"_W{l} = numpy.array({W!r})  # rows: {', '.join(layer)}")
                if b:
                    self.emit(f"_b{l} = numpy.array({b!r})")
        self.emit(
            "", "",
            "def _batch(p, X, Y, backward):",
            '    """The whole batch at once in matrix form: A_l = f(A_{l-1} @ W_l.T + b_l)."""',
            "    B = X.shape[0]",
            "    A0 = X",
        )
        act, upstream = {}, sp.Symbol("U", real=True)
        for l, layer in enumerate(layers, start=1):
            n = m.neuron(layer[0])
            f = d.activation[n.name]
            z, a = sp.Symbol(f"Z{l}", real=True), sp.Symbol(f"A{l}", real=True)
            act[l] = f.derivative(z, a)
            if l in blocks:
                s0, s1, width, fan_in, cols = blocks[l]
                self.emit(f"    P{l} = p[{s0}:{s1}].reshape({width}, {cols})  # rows: {', '.join(layer)}; columns: weights"
                          + (", bias" if n.bias else ""), f"    W{l} = P{l}[:, :{fan_in}]")
                bias = f" + P{l}[:, {fan_in}]" if n.bias else ""
            else:
                self.emit(f"    W{l} = p[_W{l}]")
                bias = f" + p[_b{l}]" if n.bias else ""
            self.emit(f"    Z{l} = A{l - 1} @ W{l}.T{bias}", f"    A{l} = {pr(f.form(z))}  # {n.activation}")
        dloss = d.loss_function.derivative(ysym, psym, len(m.outputs))
        scale = " / B" if m.batch == "mean" else ""
        self.emit(
            f"    E = numpy.sum({pr(term)}, axis=1)  # {d.loss_function.name}, per example",
            f"    value = numpy.sum(E){scale}",
            "    if not backward:",
            "        return value",
            "    grad = numpy.empty(N_PARAMETERS)",
            f"    U = ({pr(dloss)}){scale}  # dE/dA{L}",
        )
        for l in range(L, 0, -1):
            n = m.neuron(layers[l - 1][0])
            self.emit(f"    D{l} = {pr(upstream * act[l])}  # dE/dZ{l}")
            if l in blocks:
                s0, s1, width, fan_in, cols = blocks[l]
                self.emit(f"    G{l} = grad[{s0}:{s1}].reshape({width}, {cols})", f"    G{l}[:, :{fan_in}] = D{l}.T @ A{l - 1}")
                if n.bias:
                    self.emit(f"    G{l}[:, {fan_in}] = numpy.sum(D{l}, axis=0)")
            else:
                self.emit(f"    grad[_W{l}] = D{l}.T @ A{l - 1}")
                if n.bias:
                    self.emit(f"    grad[_b{l}] = numpy.sum(D{l}, axis=0)")
            if l > 1:
                self.emit(f"    U = D{l} @ W{l}  # dE/dA{l - 1}")
        self.emit("    return value, grad")


def source(d: Derivation, numba: bool = False) -> str:
    """The standalone module's text; the same Derivation (and option) gives the same bytes.

    ``numba=True`` adds a fused numba loop for batches of two or more (nets up to SCALAR_PARAMS
    parameters) and makes the module import numba; without it the module needs numpy alone.
    """
    return Source(d, numba).text()


def numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


class Compiled:
    """``compiled(params, X, Y) -> (loss, grad)``; also ``.loss``, ``.step``, ``.source``."""

    def __init__(self, d: Derivation, numba: bool | None = None) -> None:
        self.source = source(d, numba_available() if numba is None else numba)
        self.namespace: dict = {"__name__": "symbackprop_compiled"}
        exec(builtins.compile(self.source, "<symbackprop compiled>", "exec"), self.namespace)  # our own generated text
        self.parameters: tuple[str, ...] = self.namespace["PARAMETERS"]
        self.loss = self.namespace["loss"]
        self.step = self.namespace["step"]
        self.loss_and_grad = self.namespace["loss_and_grad"]
        m = d.model
        self.initial = np.array([float(v) for v in m.parameters.values()])
        self.X = np.array([[float(ex.inputs[x]) for x in m.inputs] for ex in m.examples])
        self.Y = np.array([[float(ex.targets[o]) for o in m.outputs] for ex in m.examples])

    def __call__(self, params, X, Y):
        return self.loss_and_grad(params, X, Y)


def compile(derivation: Derivation, numba: bool | None = None) -> Compiled:  # noqa: A001 - the API's name
    """The callable; ``numba=None`` uses the fused numba loop when numba is installed."""
    return Compiled(derivation, numba)
