"""Small batches of a layered net as one numba loop over examples: the matrix-vector products
written as loops, so that no numpy call overhead remains (bench: below FUSED_BATCH it beats BLAS).
An output layer with a Head (softmax) runs its steps as loops over the layer's neurons. With
input_gradients, _fused_inputs runs the same loop for dE/dX."""

from __future__ import annotations

import sympy as sp

from ..core.derivation import Derivation
from . import expressions
from .names import Names
from .plan import ROW, Layer, Plan


def index_arrays(layers: tuple[Layer, ...]) -> list[str]:
    """Module constants: the positions in params of each layer's weights (_KW) and biases (_KB)."""
    lines = []
    for l, layer in enumerate(layers, start=1):
        lines.append(f"_KW{l} = numpy.array({[list(row) for row in layer.weights]!r})")
        if layer.bias:
            lines.append(f"_KB{l} = numpy.array({list(layer.biases)!r})")
    return lines


def _rows(plan: Plan) -> dict[sp.Symbol, sp.Symbol]:
    """The Head's symbols in the loop over the output layer (j): its arrays' elements, and each
    temporary that reads one (a row) as an element of its own array; the reductions stay scalars."""
    L = len(plan.matrix.layers)
    out = {ROW[k]: sp.Symbol(v, real=True) for k, v in
           {"Z": f"Z{L}[j]", "A": f"A{L}[j]", "YT": "Y[i, j]", "D": f"D{L}[j]"}.items()}
    head = plan.matrix.head
    for symbol, expr in (head.forward + head.backward) if head else ():
        if symbol not in out and not isinstance(expr, expressions.Reduction) and expr.free_symbols & set(out):
            out[symbol] = sp.Symbol(f"{symbol}[j]", real=True)
    return out


def head_lines(plan: Plan, steps) -> list[str]:
    """A Head's steps as loops over the output layer: consecutive row steps share one loop, a
    reduction accumulates in its own, a step of reductions alone is one statement."""
    rows, width, pr = _rows(plan), plan.matrix.layers[-1].width, expressions.scalar
    lines, in_loop = [], False
    for symbol, expr in steps:
        target = rows.get(symbol, symbol)
        if isinstance(expr, expressions.Reduction):
            value, largest = pr(expr.args[0].xreplace(rows)), isinstance(expr, expressions.LayerMax)
            lines += [f"{target} = {'-math.inf' if largest else '0.0'}", f"for j in range({width}):",
                      f"    {target} = max({target}, {value})" if largest else f"    {target} += {value}"]
            in_loop = False
        elif symbol in rows:
            if not in_loop:
                lines.append(f"for j in range({width}):")
            lines.append(f"    {target} = {pr(expr.xreplace(rows))}")
            in_loop = True
        else:
            lines.append(f"{target} = {pr(expr.xreplace(rows))}")
            in_loop = False
    return lines


def buffers(layers: tuple[Layer, ...], temporaries=(), grads: bool = True) -> list[str]:
    """Per layer: its weights gathered into a matrix, the gradient accumulators (unless not ``grads``)
    and the per-example vectors; an array over the output layer for each of the Head's row ``temporaries``."""
    lines = []
    for l, layer in enumerate(layers, start=1):
        rows, cols = layer.width, layer.fan_in
        lines += [f"W{l} = numpy.empty(({rows}, {cols}))", *([f"GW{l} = numpy.zeros(({rows}, {cols}))"] if grads else []),
                  f"for j in range({rows}):", f"    for k in range({cols}):", f"        W{l}[j, k] = p[_KW{l}[j, k]]",
                  f"Z{l} = numpy.empty({rows})", f"A{l} = numpy.empty({rows})", f"D{l} = numpy.empty({rows})",
                  f"U{l} = numpy.empty({rows})"]
        if layer.bias and grads:
            lines += [f"GB{l} = numpy.zeros({rows})"]
    lines += [f"{symbol} = numpy.empty({layers[-1].width})" for symbol in temporaries]
    return lines


def example(plan: Plan, d: Derivation, grads: bool = True) -> list[str]:
    """One example's forward pass, loss and backward pass, accumulating into GW and GB (``grads=False``:
    neither the loss nor GW and GB, the error terms D alone, down to layer 1's)."""
    layers, pr, head = plan.matrix.layers, expressions.scalar, plan.matrix.head
    z, a, u, y = (sp.Symbol(n, real=True) for n in ("z", "a", "u", "y"))
    lines = []
    L, m, loss = len(layers), d.model, d.loss_function
    for l, layer in enumerate(layers, start=1):
        prev = "X[i, k]" if l == 1 else f"A{l - 1}[k]"
        lines += [f"for j in range({layer.width}):  # layer {l}: {layer.activation}",
                  f"    z = {f'p[_KB{l}[j]]' if layer.bias else '0.0'}",
                  f"    for k in range({layer.fan_in}):", f"        z += W{l}[j, k] * {prev}", f"    Z{l}[j] = z"]
        if not (head and l == L):
            lines += [f"    A{l}[j] = {pr(d.activation[layer.neurons[0]].form(z))}"]
    dloss = loss.derivative(y, a, len(m.outputs))
    if head:  # the output layer by its Head's steps
        rows = _rows(plan)
        lines += head_lines(plan, head.forward)
        if grads:
            lines += [f"for j in range({layers[-1].width}):  # {loss.name}", f"    total += {pr(head.loss.xreplace(rows))}"]
        lines += head_lines(plan, head.backward)
    else:
        term = plan.matrix.loss_term.xreplace({plan.matrix.target: y, plan.matrix.prediction: a})
        lines += [f"for j in range({layers[-1].width}):  # {loss.name}", "    y = Y[i, j]", f"    a = A{L}[j]",
                  *([f"    total += {pr(term)}"] if grads else []), f"    U{L}[j] = {pr(dloss)}"]
    for l in range(L, 0, -1):
        layer = layers[l - 1]
        prev = "X[i, k]" if l == 1 else f"A{l - 1}[k]"
        accumulate = [*([f"    GB{l}[j] += D{l}[j]"] if layer.bias else []),
                      f"    for k in range({layer.fan_in}):", f"        GW{l}[j, k] += D{l}[j] * {prev}"]
        if head and l == L:
            lines += [f"for j in range({layer.width}):", *accumulate] if grads else []
        else:
            lines += [f"for j in range({layer.width}):", f"    z = Z{l}[j]", f"    a = A{l}[j]", f"    u = U{l}[j]",
                      f"    D{l}[j] = {pr(u * d.activation_derivative[layer.neurons[0]](z, a))}",
                      *(accumulate if grads else [])]
        if l > 1:
            lines += [f"for k in range({layer.fan_in}):", "    u = 0.0", f"    for j in range({layer.width}):",
                      f"        u += D{l}[j] * W{l}[j, k]", f"    U{l - 1}[k] = u"]
    return lines


def kernel(plan: Plan, d: Derivation, names: Names) -> list[str]:
    """The index constants, then _fused(p, X, Y, grad): the loss, the gradient written into grad."""
    layers = plan.matrix.layers
    scale = " / B" if d.model.batch_mean else ""
    out = []
    for l, layer in enumerate(layers, start=1):
        out += [f"for j in range({layer.width}):", f"    for k in range({layer.fan_in}):",
                f"        grad[_KW{l}[j, k]] = GW{l}[j, k]{scale}"]
        if layer.bias:
            out += [f"    grad[_KB{l}[j]] = GB{l}[j]{scale}"]
    return [
        *index_arrays(layers),
        "", "",
        "@numba.njit(cache=False, nogil=True)  # compiled at the first call",
        "def _fused(p, X, Y, grad):",
        '    """Small batches of a layered net in one machine-code loop (numba), no numpy call overhead:',
        '    the loss, with the gradient written into grad."""',
        "    B = X.shape[0]",
        *[f"    {line}" for line in buffers(layers, [s for s in _rows(plan) if s not in ROW.values()])],
        "    total = 0.0",
        "    for i in range(B):",
        *[f"        {line}" for line in example(plan, d)],
        *[f"    {line}" for line in out],
        f"    return total{scale}",
        *(kernel_inputs(plan, d) if plan.input_gradients else []),
    ]


def kernel_inputs(plan: Plan, d: Derivation) -> list[str]:
    """_fused_inputs(p, X, Y, out): the kernel's passes without the parameter gradients, and per example
    dE/dx_k = sum_j D1[j] W1[j, k], written into out (B, inputs)."""
    layers = plan.matrix.layers
    scale = " / B" if d.model.batch_mean else ""
    return [
        "", "",
        "@numba.njit(cache=False, nogil=True)  # compiled at the first call",
        "def _fused_inputs(p, X, Y, out):",
        '    """dE/dX of small batches of a layered net in one machine-code loop (numba), written into out:',
        '    one row per example."""',
        "    B = X.shape[0]",
        *[f"    {line}" for line in buffers(layers, [s for s in _rows(plan) if s not in ROW.values()], grads=False)],
        "    for i in range(B):",
        *[f"        {line}" for line in example(plan, d, grads=False)],
        f"        for k in range({layers[0].fan_in}):",
        "            u = 0.0",
        f"            for j in range({layers[0].width}):",
        "                u += D1[j] * W1[j, k]",
        f"            out[i, k] = u{scale}",
    ]
