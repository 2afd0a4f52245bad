"""from_torch(): a PyTorch network, its data, loss and optimizer as a Model, starting exactly where torch starts.

The forward is read through torch.export (torch_graph.py), the loss and the optimizer from their objects
(torch_training.py). Weights, inputs and targets are torch's binary values written as exact decimals, so
the derivation's first forward pass is the one torch computes, to the last bit, in exact arithmetic.
"""

from __future__ import annotations

from ..core.errors import InputError
from ..core.model import Example, Model
from ..reference import torch_model
from . import torch_graph, torch_scheduler, torch_training


def from_torch(module, inputs, targets, loss, optimizer=None, scheduler=None, *, title: str | None = None,
               source: str = "", notes: str = "", iterations: int = 1) -> Model:
    """The Model of ``module`` trained on (``inputs``, ``targets``) with the ``loss`` module and ``optimizer``
    (default: none, plain gradient descent at the file's default rate) and the optimizer's lr ``scheduler``
    (stepped after each optimizer step; default none); ``iterations`` optimizer steps."""
    torch_model.require("from_torch")
    torch = torch_model.torch_module()
    if not isinstance(module, torch.nn.Module):
        raise InputError(f"the network is a {type(module).__name__}; expected a torch.nn.Module", key="module")
    for key, value in (("inputs", inputs), ("targets", targets)):
        if not isinstance(value, torch.Tensor):
            raise InputError(f"{key} is a {type(value).__name__}; expected a torch.Tensor", key=key)
    if not inputs.is_floating_point():
        raise InputError(f"inputs of dtype {inputs.dtype}; expected floating-point inputs", key="inputs")
    network = torch_graph.read(module, inputs)
    outputs = len(network.output.weights)
    read_loss = torch_training.loss(loss, network, targets, outputs)
    schedule, scheduled = torch_scheduler.read(scheduler, optimizer)  # first: it says whether one is attached to it
    settings = torch_training.optimizer(optimizer, module, network, scheduled=scheduler is not None)
    rows = inputs.detach().double().reshape(-1, len(network.inputs)).tolist()
    if len(rows) != len(read_loss.targets):
        raise InputError(f"{len(rows)} examples of inputs and {len(read_loss.targets)} of targets; expected one target "
                         "row (or class) per example", key="targets")
    examples = [Example({x: torch_graph.exact(v, f"inputs[{k}][{i}]") for i, (x, v) in enumerate(zip(network.inputs, row))},
                        ys, label) for k, (row, (ys, label)) in enumerate(zip(rows, read_loss.targets))]
    told = describe(module, network, read_loss, settings, iterations) + (f"\nScheduler: {scheduled}." if schedule else "")
    return Model(neurons=network.neurons(), inputs=network.inputs, outputs=list(network.output.names),
                 parameters=network.parameters, examples=examples, loss=read_loss.name, batch=read_loss.batch,
                 learning_rate=settings.learning_rate, update="subtract", iterations=iterations, trained=settings.trained,
                 title=title or f"{type(module).__name__}, read from PyTorch", source=source,
                 notes=(notes.strip() + "\n\n" if notes.strip() else "") + told, optimizer=settings.optimizer,
                 scheduler=schedule)


def describe(module, network, read_loss, settings, iterations: int) -> str:
    """Where every name and number of the file comes from, for its notes."""
    dtypes = sorted({str(p.dtype).removeprefix("torch.") for p in module.parameters()})
    lines = [f"Read from PyTorch by symbackprop's from_torch (torch.export of {type(module).__name__}.forward)."]
    for layer in network.layers:
        lines.append(f"Layer {layer.index}: {layer.where}, then {layer.activation}; {_mapping(layer, network)}.")
    lines.append(f"Weights, inputs and targets are torch's binary values ({', '.join(dtypes)}) as exact decimals; "
                 "hyperparameters are the program's Python floats as their shortest decimals.")
    lines.append(f"Loss: {read_loss.described}. Optimizer: {settings.described}; {iterations} step"
                 f"{'s' if iterations != 1 else ''}" + ("" if settings.trained is None else
                                                          f"; trained: {', '.join(settings.trained) or 'none'}") + ".")
    return "\n".join(lines)


def _mapping(layer, network) -> str:
    """``w2_j_i = fc2.weight[j-1, i-1]`` when the layer's names follow one torch tensor, else each shared name."""
    l = layer.index
    parts = []
    for kind, names in (("weight", [(w, (j, i)) for j, row in enumerate(layer.weights) for i, w in enumerate(row)]),
                        ("bias", [(b, (j,)) for j, b in enumerate(layer.bias or [])])):
        if not names:
            continue
        fqns = {network.origin[n][0] for n, _ in names}
        own = all(network.origin[n][1] == index and n == _own(kind, l, index) for n, index in names)
        swapped = all(network.origin[n][1] == index[::-1] and n == _own(kind, l, index) for n, index in names)
        if len(fqns) == 1 and (own or swapped):
            fqn = fqns.pop()
            at = "j-1, i-1" if own and kind == "weight" else "i-1, j-1" if kind == "weight" else "j-1"
            parts.append(f"{_own(kind, l, None)} = {fqn}[{at}]")
        else:
            parts.append(f"{kind}s shared with an earlier layer: " + ", ".join(
                f"{n} = {network.origin[n][0]}[{', '.join(map(str, network.origin[n][1]))}]" for n, _ in names[:6]))
    return "; ".join(parts) if parts else "no parameters"


def _own(kind: str, l: int, index) -> str:
    if index is None:
        return f"w{l}_j_i" if kind == "weight" else f"b{l}_j"
    return f"w{l}_{index[0] + 1}_{index[1] + 1}" if kind == "weight" else f"b{l}_{index[0] + 1}"
