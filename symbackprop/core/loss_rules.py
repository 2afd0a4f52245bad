"""What a loss and a coupled activation ask of a network: softmax over the whole output layer,
cross_entropy over softmax outputs, bce over outputs in (0, 1), probabilities as targets."""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import function_table
from .errors import InputError


def check_coupled(model) -> None:
    """A coupled activation (softmax) is its whole output layer's: every output has it, there are at least
    two, and no neuron reads them."""
    coupled = [(i, n) for i, n in enumerate(model.neurons) if function_table.activation(n.activation).coupled]
    if not coupled:
        return
    i, first = coupled[0]
    key = f"network.neurons[{i}].activation"
    outputs = set(model.outputs)
    for j, n in coupled:
        if n.name not in outputs:
            raise InputError(f"{n.activation} on {n.name!r}, which is not an output; expected {n.activation} on the "
                             "output neurons only (it normalises over them)", key=f"network.neurons[{j}].activation")
    others = [o for o in model.outputs if model.neuron(o).activation != first.activation]
    if others:
        raise InputError(f"{first.activation} on some outputs but not on {others[0]!r}; expected it on every output",
                         key=key)
    if len(model.outputs) < 2:
        raise InputError(f"{first.activation} over one output is the constant "
                         f"{'1' if first.activation == 'softmax' else '0'}; expected two or more outputs "
                         "(for one output, sigmoid with bce)", key=key)
    for j, n in enumerate(model.neurons):
        for src in n.inputs:
            if src in outputs:
                raise InputError(f"neuron {n.name!r} reads the {first.activation} output {src!r}; expected the "
                                 f"{first.activation} outputs to feed the loss only", key=f"network.neurons[{j}].inputs")


def check_loss(model, loss_name: str | None = None) -> None:
    """The output activation a loss (the model's, or ``loss_name``) is defined over (cross_entropy: softmax;
    bce: values in (0, 1))."""
    loss = function_table.loss(loss_name or model.loss, key="loss.function")
    for o in model.outputs:
        act = function_table.activation(model.neuron(o).activation)
        low, high, _ = act.range
        fits = (act.name == loss.output if loss.output not in ("", "unit")
                else loss.output == "" or (low >= 0 and high <= 1))
        if not fits:
            wanted = "sigmoid (values in (0, 1))" if loss.output == "unit" else loss.output
            raise InputError(f"loss {loss.name} is defined over {wanted} outputs, and output {o!r} is {act.name}; "
                             f"expected activation = {wanted.split()[0]!r} on every output"
                             + (" (or loss = bce_logits over identity outputs)" if loss.name == "bce" else ""),
                             key="loss.function")


def check_targets(loss: function_table.Loss, targets: list[sp.Rational], key: str) -> None:
    if loss.targets == "any":
        return
    for t in targets:
        if not 0 <= t <= 1:
            raise InputError(f"target {t} is outside [0, 1]; expected probabilities for loss {loss.name}", key=key)
    if loss.targets == "probabilities" and sp.Add(*targets) != 1:
        raise InputError(f"targets sum to {sp.Add(*targets)}; expected probabilities summing to 1 for loss "
                         f"{loss.name} (or class = k, a class index)", key=key)


def fits(model, loss_name: str) -> bool:
    """Whether the model's outputs and targets are ones the loss takes (a diagnosis tries only those)."""
    try:
        check_loss(model, loss_name)
        for k, ex in enumerate(model.examples):
            check_targets(function_table.loss(loss_name), [ex.targets[o] for o in model.outputs], f"examples[{k}]")
    except InputError:
        return False
    return True


def random_targets(loss_name: str, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Float targets a loss takes, drawn for checks: probabilities (rows summing to 1) for cross_entropy and
    nll, values in [0, 1] for bce, else standard normal."""
    kind = function_table.loss(loss_name).targets
    if kind == "probabilities":
        return rng.dirichlet(np.ones(shape[1]), size=shape[0])
    if kind == "unit":
        return rng.uniform(0.0, 1.0, shape)
    return rng.normal(0.0, 1.0, shape)
