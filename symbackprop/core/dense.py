"""``dense(sizes)``: a layered, fully connected network as a Model, under one naming scheme.

Naming (documented in docs/format.md): inputs ``x1..xn``; neuron j of layer l (l = 1 is the
first layer after the inputs) is ``n{l}_{j}``; the weight into it from unit i of the layer
before is ``w{l}_{j}_{i}``; its additive bias is ``b{l}_{j}``. Targets are keyed by output
neuron. Values are exact: given explicitly, or drawn from a seeded generator as multiples of
1/1000 in ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]`` (PyTorch's nn.Linear range).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import sympy as sp

from . import function_table, optimizers, schedulers
from .errors import InputError
from .model import BATCH_RULES, UPDATE_RULES, Example, Model, Neuron
from .values import rational


def _rows(values: object, key: str) -> list[list[sp.Rational]]:
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise InputError(f"expected a list of rows, got {values!r}", key=key)
    return [[rational(v, f"{key}[{i}][{j}]") for j, v in enumerate(row)] for i, row in enumerate(values)]


def dense(
    sizes: Sequence[int],
    activation: str = "relu",
    output_activation: str | None = None,
    *,
    loss: str = "half_sse",
    batch: str = "mean",
    bias: bool = True,
    weights: Sequence[Sequence[Sequence[object]]] | None = None,
    biases: Sequence[Sequence[object]] | None = None,
    seed: int = 0,
    examples: Sequence[tuple[Sequence[object], Sequence[object]]] | None = None,
    learning_rate: object = "0.1",
    update: str = "subtract",
    iterations: int = 1,
    title: str = "",
    optimizer: dict | None = None,
    scheduler: dict | None = None,
) -> Model:
    """A fully connected Model; ``weights[l][j][i]`` as torch's ``Linear.weight`` (out x in).
    ``optimizer`` and ``scheduler`` are tables as a file's ``[optimizer]`` and ``[scheduler]``
    (``{"name": "Adam", "betas": ["0.9", "0.99"]}``)."""
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise InputError(f"expected at least two layer sizes >= 1, got {list(sizes)!r}", key="sizes")
    output_activation = output_activation or activation
    for key, name in (("activation", activation), ("output_activation", output_activation)):
        function_table.activation(name, key=key)  # named by this function's parameters, not by file keys
    loss_row = function_table.loss(loss, key="loss")
    if batch not in BATCH_RULES:
        raise InputError(f"unknown batch rule {batch!r}; expected {' or '.join(BATCH_RULES)}", key="batch")
    if update not in UPDATE_RULES:
        raise InputError(f"unknown update rule {update!r}; expected {' or '.join(UPDATE_RULES)}", key="update")
    rng = random.Random(seed)
    inputs = [f"x{i + 1}" for i in range(sizes[0])]
    previous, neurons, layers, params = inputs, [], [], {}
    for l, (fan_in, width) in enumerate(zip(sizes, sizes[1:]), start=1):
        bound = 1 / math.sqrt(fan_in)
        w_given = _rows(weights[l - 1], f"weights[{l - 1}]") if weights is not None else None
        b_given = [rational(v, f"biases[{l - 1}][{j}]") for j, v in enumerate(biases[l - 1])] if biases is not None else None
        if w_given is not None and (len(w_given) != width or any(len(r) != fan_in for r in w_given)):
            raise InputError(f"expected a {width} x {fan_in} matrix for layer {l}", key=f"weights[{l - 1}]")
        if b_given is not None and len(b_given) != width:
            raise InputError(f"expected {width} biases for layer {l}", key=f"biases[{l - 1}]")
        layer = []
        for j in range(1, width + 1):
            name = f"n{l}_{j}"
            ws = [f"w{l}_{j}_{i}" for i in range(1, fan_in + 1)]
            for i, w in enumerate(ws):
                params[w] = w_given[j - 1][i] if w_given else _draw(rng, bound)
            b = f"b{l}_{j}" if bias else None
            if b:
                params[b] = b_given[j - 1] if b_given else _draw(rng, bound)
            act = output_activation if l == len(sizes) - 1 else activation
            neurons.append(Neuron(name, act, tuple(previous), tuple(ws), b))
            layer.append(name)
        layers.append(layer)
        previous = layer
    outputs = layers[-1]
    if examples is None:
        examples = [([_draw(rng, 1) for _ in inputs], _targets(rng, loss_row, len(outputs)))]
    exs = []
    for k, (x, y) in enumerate(examples):
        if len(x) != len(inputs) or len(y) != len(outputs):
            raise InputError(f"expected {len(inputs)} inputs and {len(outputs)} targets", key=f"examples[{k}]")
        exs.append(Example(
            {n: rational(v, f"examples[{k}].inputs[{i}]") for i, (n, v) in enumerate(zip(inputs, x))},
            {n: rational(v, f"examples[{k}].targets[{i}]") for i, (n, v) in enumerate(zip(outputs, y))},
        ))
    return Model(
        neurons=neurons, inputs=inputs, outputs=outputs, parameters=params, examples=exs,
        loss=loss, batch=batch, learning_rate=rational(learning_rate, "learning_rate"), update=update,
        iterations=iterations, title=title or f"dense({list(sizes)}, {activation})",
        optimizer=None if optimizer is None else optimizers.optimizer(optimizer),
        scheduler=None if scheduler is None else schedulers.scheduler(scheduler),
    )


def _targets(rng: random.Random, loss: function_table.Loss, outputs: int) -> list[sp.Rational]:
    """Drawn targets the loss takes: one-hot for probabilities, in [0, 1] for bce, else in [-1, 1]."""
    if loss.targets == "probabilities":
        k = rng.randrange(outputs)
        return [sp.Integer(i == k) for i in range(outputs)]
    if loss.targets == "unit":
        return [sp.Rational(rng.randint(0, 1000), 1000) for _ in range(outputs)]
    return [_draw(rng, 1) for _ in range(outputs)]


def _draw(rng: random.Random, bound: float) -> sp.Rational:
    k = math.floor(bound * 1000)
    return sp.Rational(rng.randint(-k, k), 1000)
