"""Feature-major matrix code for layered nets: one row per neuron, one column per example.

A layer whose parameters sit in dense() order (each neuron's weights, then its bias) reads them
as one reshaped block, and its input carries a row of ones, so that one product gives Z and one
gives the weight and bias gradients together (no bias add, no column sums: bench); only a first
layer of many inputs reads X.T as it is, since the row of ones would cost a copy of X. Other layers
gather their parameters through index arrays. An output layer with a Head (plan.py: softmax, a
simplified error term) takes its steps, a reduction over the layer being one over the rows.
With input_gradients, _block_inputs runs the same passes without the parameter gradients and
returns dE/dX = D_1.T @ W_1 (_batch_inputs: in blocks of CHUNK rows).
"""

from __future__ import annotations

import sympy as sp

from ..core.derivation import Derivation
from . import expressions, template
from .emit_fixed import copied
from .names import Names
from .plan import ROW, Head, Layer, Plan


def _input(l: int, layer: Layer) -> str:
    """Layer l's input as its products read it: with the row of ones, or without."""
    return f"H{l - 1}" if layer.ones_row else f"A{l - 1}"


def _in_place(layer: Layer) -> bool:
    """A block with biases read without a row of ones: layer 1 of many inputs, which reads X.T itself."""
    return layer.block is not None and layer.bias and not layer.ones_row


def index_arrays(layers: tuple[Layer, ...]) -> list[str]:
    """The positions in params of each layer that is not one block."""
    lines = []
    for l, layer in enumerate(layers, start=1):
        if layer.block is None:
            lines.append(f"_W{l} = numpy.array({[list(row) for row in layer.weights]!r})  # rows: {', '.join(layer.neurons)}")
            if layer.bias:
                lines.append(f"_b{l} = numpy.array({list(layer.biases)!r})")
    return lines


def _rows(L: int) -> dict[sp.Symbol, sp.Symbol]:
    """A Head's row symbols as the output layer's matrices (one row per neuron)."""
    names = {"Z": f"Z{L}", "A": f"A{L}", "YT": "YT", "D": f"D{L}"}
    return {ROW[k]: sp.Symbol(v, real=True) for k, v in names.items()}


def head_lines(steps, L: int, scale: str = "") -> list[str]:
    """A Head's steps as matrix statements: a reduction over the layer is one over the rows;
    the last step (D) scaled by the batch when ``scale``."""
    lines = []
    for symbol, expr in steps:
        text = expressions.batch(expr.xreplace(_rows(L)))
        if scale and symbol == ROW["D"]:
            text = f"({text}){scale}"
        lines.append(f"    {symbol.xreplace(_rows(L))} = {text}")
    return lines


def forward(d: Derivation, layers: tuple[Layer, ...], head: Head | None = None) -> list[str]:
    """A_l = f(W_l @ A_{l-1} + b_l), layer by layer; H_l where the next layer wants a row of ones;
    the output layer by its Head's steps where it has one."""
    inputs = layers[0].fan_in
    if layers[0].ones_row:
        lines = [f"    H0 = numpy.empty(({inputs + 1}, n))  # the inputs, and a row of ones for the biases",
                 f"    H0[:{inputs}] = X.T", f"    H0[{inputs}] = 1.0"]
    else:
        lines = ["    A0 = X.T"]
    for l, layer in enumerate(layers, start=1):
        act = d.activation[layer.neurons[0]]
        form = None if act.coupled else act.form(sp.Symbol(f"Z{l}", real=True))
        if layer.block:
            start, stop = layer.block
            lines += [f"    P{l} = p[{start}:{stop}].reshape({layer.width}, {layer.columns})  # rows: {', '.join(layer.neurons)};"
                      " columns: weights" + (", bias" if layer.bias else "")]
            if _in_place(layer):  # many inputs: X as it is, the biases added (plan.ONES_ROW_INPUTS)
                lines += [f"    W{l} = P{l}[:, :{layer.fan_in}]", f"    Z{l} = W{l} @ A{l - 1}",
                          f"    Z{l} += P{l}[:, {layer.fan_in}:]  # the biases"]
            else:
                lines += [f"    Z{l} = P{l} @ {_input(l, layer)}"]
                if l > 1:  # for the backward pass
                    lines += [f"    W{l} = P{l}[:, :{layer.fan_in}]" if layer.bias else f"    W{l} = P{l}"]
        else:
            lines += [f"    W{l} = p[_W{l}]", f"    Z{l} = W{l} @ A{l - 1}" + (f" + p[_b{l}][:, None]" if layer.bias else "")]
        if head and l == len(layers):
            lines += [f"    # {layer.activation}, by rows", *head_lines(head.forward, l)]
        elif l < len(layers) and layers[l].ones_row:
            lines += [f"    H{l} = numpy.empty(({layer.width + 1}, n))", f"    H{l}[{layer.width}] = 1.0",
                      f"    A{l} = H{l}[:{layer.width}]", f"    {expressions.batch_into(form, f'A{l}')}  # {layer.activation}"]
        else:
            lines += [f"    A{l} = {expressions.batch(form)}  # {layer.activation}"]
    return lines


def _gradients(l: int, layer: Layer) -> list[str]:
    """Layer l's parameter gradients from D_l and its input, written into grad."""
    if layer.block and _in_place(layer):  # the weights' block from X itself, the biases' column from D1's sums
        start, stop = layer.block
        return [f"    GW{l} = grad[{start}:{stop}].reshape({layer.width}, {layer.columns})",
                f"    numpy.matmul(D{l}, A{l - 1}.T, out=GW{l}[:, :{layer.fan_in}])",
                f"    numpy.sum(D{l}, axis=1, out=GW{l}[:, {layer.fan_in}])"]
    if layer.block:
        start, stop = layer.block
        return [f"    numpy.matmul(D{l}, {_input(l, layer)}.T, out=grad[{start}:{stop}].reshape({layer.width}, {layer.columns}))"]
    return [f"    grad[_W{l}] = D{l} @ A{l - 1}.T", *([f"    grad[_b{l}] = numpy.sum(D{l}, axis=1)"] if layer.bias else [])]


def backward(d: Derivation, layers: tuple[Layer, ...], top: list[str] | None = None, grads: bool = True) -> list[str]:
    """D_l = U * f'(Z_l); the gradients from D_l and the layer's input; U = W_l.T @ D_l for the
    layer before. ``top``: the output layer's D statements, where its Head gives them. ``grads=False``:
    no parameter gradients, and dE/dX = D_1.T @ W_1 returned, one row per example."""
    upstream = sp.Symbol("U", real=True)
    lines = []
    for l in range(len(layers), 0, -1):
        layer = layers[l - 1]
        z, a = sp.Symbol(f"Z{l}", real=True), sp.Symbol(f"A{l}", real=True)
        if top and l == len(layers):
            lines += top
        else:
            lines += [f"    D{l} = {expressions.batch(upstream * d.activation_derivative[layer.neurons[0]](z, a))}  # dE/dZ{l}"]
        if grads:
            lines += _gradients(l, layer)
        if l > 1:  # one neuron: a broadcast product, twice as fast as a matrix product of inner size 1
            lines += [f"    U = W{l}.T {'*' if layer.width == 1 else '@'} D{l}  # dE/dA{l - 1}"]
    if not grads:
        first = layers[0]
        if first.block and not _in_place(first):  # the weights of layer 1 were read as part of its block
            lines += [f"    W1 = P1[:, :{first.fan_in}]" if first.bias else "    W1 = P1"]
        lines += ["    return D1.T @ W1  # dE/dX, one row per example"]
    return lines


def matrix(plan: Plan, d: Derivation, names: Names) -> list[str]:
    """_batch (the batch in blocks of CHUNK rows, from template.py) and _block (one block). An output
    layer with a Head (softmax; a simplified error term) takes its steps: its loss term with stable
    logs, its error terms as the derivation gives them (a - y) or as the Jacobian product."""
    mp, m = plan.matrix, d.model
    layers, head, L = mp.layers, mp.head, len(mp.layers)
    scale = " / B" if m.batch_mean else ""
    yt = sp.Symbol("YT", real=True)
    dloss = d.loss_function.derivative(yt, mp.prediction, len(m.outputs))
    targets = ["    YT = Y.T  # one row per output, as the activations"]
    if head:
        term, top = head.loss.xreplace(_rows(L)), ["    # dE/dZ by rows", *head_lines(head.backward, L, scale)]
        upstream = []
    else:
        term, top = mp.loss_term.xreplace({mp.target: yt}), None
        upstream = [f"    U = ({expressions.batch(dloss)}){scale}  # dE/dA{L}"]
    start = [*(["    n = X.shape[0]"] if any(layer.ones_row for layer in layers) else []),
             *(targets if head else []),  # the head's steps may read the targets
             *forward(d, layers, head),
             *([] if head else targets)]
    inputs = [
        "", "",
        *copied(template._inputs_in_blocks, "_batch_inputs"),
        "", "",
        "def _block_inputs(p, X, Y, B):",
        '    """dE/dX of rows of the batch, by the passes of _block: one row per example; B: the whole batch."""',
        *start,
        *upstream,
        *backward(d, layers, top, grads=False),
    ]
    return [
        "", "",
        *index_arrays(layers),
        "", "",
        *copied(template._batch_in_blocks, "_batch"),
        "", "",
        "def _block(p, X, Y, backward, B):",
        '    """Rows of the batch at once, transposed: A_l = f(W_l @ A_{l-1} + b_l), one column per example;',
        '    B: the whole batch."""',
        *start,
        f"    value = numpy.sum({expressions.batch(term)}){scale}  # {d.loss_function.name}",
        "    if not backward:",
        "        return value",
        "    grad = numpy.empty(N_PARAMETERS)",
        *upstream,
        *backward(d, layers, top),
        "    return value, grad",
        *(inputs if plan.input_gradients else []),
    ]
