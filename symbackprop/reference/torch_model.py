"""PyTorch autograd (float64, CPU) on a Model: the third, independent opinion. An optional extra.

torch is imported when a TorchModel is first built, not with this module: ``import symbackprop``
must not cost every user PyTorch's second of start-up and its memory.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np

from ..core.errors import InputError
from .numpy_runtime import matrix_layers  # the structure only; the arithmetic is torch's

ACTIVATIONS = {  # name -> f(F, z), F being torch.nn.functional
    "relu": lambda F, z: z.relu(),
    "leaky_relu": lambda F, z: F.leaky_relu(z, 0.01),
    "sigmoid": lambda F, z: z.sigmoid(),
    "tanh": lambda F, z: z.tanh(),
    "identity": lambda F, z: z,
    "softplus": lambda F, z: F.softplus(z, beta=1.0, threshold=700.0),  # past 700, log1p(exp(z)) is z in float64
}
COUPLED = {  # over the output neurons (the columns): name -> f(F, Z)
    "softmax": lambda F, Z: F.softmax(Z, dim=1),
    "log_softmax": lambda F, Z: F.log_softmax(Z, dim=1),
}


def _F():
    return torch_module().nn.functional


LOSSES = {  # name -> per-example loss of (Y, P), P the outputs' activations (B, outputs)
    "half_sse": lambda Y, P: 0.5 * ((P - Y) ** 2).sum(dim=1),
    "sse": lambda Y, P: ((P - Y) ** 2).sum(dim=1),
    "mse": lambda Y, P: ((P - Y) ** 2).mean(dim=1),
    "nll": lambda Y, P: -(Y * P).sum(dim=1),  # NLLLoss of log-softmax outputs (one-hot targets: F.nll_loss)
    "bce": lambda Y, P: _F().binary_cross_entropy(P, Y, reduction="none").mean(dim=1),
    "bce_logits": lambda Y, P: _F().binary_cross_entropy_with_logits(P, Y, reduction="none").mean(dim=1),
}
LOGIT_LOSSES = {  # name -> per-example loss of (Y, Z), Z the outputs' pre-activations: torch's own, on the logits
    "cross_entropy": lambda Y, Z: _F().cross_entropy(Z, Y, reduction="none"),  # CrossEntropyLoss, probability targets
}


def available() -> bool:
    """Whether PyTorch is installed (found, not imported)."""
    return importlib.util.find_spec("torch") is not None


@functools.cache
def torch_module():
    """The torch module, imported on first use."""
    import torch
    import torch.nn.functional  # noqa: F401 - F, below

    return torch


def require(key: str) -> None:
    """PyTorch is an extra: its absence is bad input for the option that needs it (exit 2)."""
    if not available():
        raise InputError("PyTorch is not installed; expected the extra: pip install 'symbackprop[torch]'", key=key)


class TorchModel:
    """``TorchModel(model)(params, X, Y) -> (loss, grad)`` by autograd; layered nets as F.linear."""

    def __init__(self, model) -> None:
        if not available():
            raise ImportError("PyTorch is not installed; install the extra: pip install 'symbackprop[torch]'")
        self.torch = torch = torch_module()
        self.F = torch.nn.functional
        self.model = model
        self.index = {p: i for i, p in enumerate(model.parameters)}
        self.layers = matrix_layers(model)
        if self.layers:
            self.W = [torch.tensor([[self.index[w] for w in n.weights] for n in layer]) for layer in self.layers]
            self.b = [torch.tensor([self.index[n.bias] for n in layer]) if layer[0].bias else None for layer in self.layers]

    def __call__(self, params, X, Y):
        torch = self.torch
        p = torch.tensor(np.asarray(params, dtype=float), dtype=torch.float64, requires_grad=True)
        value = self.loss(p, self.tensor(X), self.tensor(Y))
        value.backward()
        return float(value.detach()), p.grad.numpy().copy()

    def tensor(self, values):
        """A float64 tensor of an array (examples by inputs or by outputs)."""
        return self.torch.as_tensor(np.asarray(values, dtype=float), dtype=self.torch.float64)

    def loss(self, p, X, Y):
        """The batch loss as a torch scalar of the parameter tensor ``p`` (autograd follows it)."""
        Z, P = self.outputs(p, X)
        name = self.model.loss
        per_example = LOGIT_LOSSES[name](Y, Z) if name in LOGIT_LOSSES else LOSSES[name](Y, P)
        return per_example.mean() if self.model.batch == "mean" else per_example.sum()

    def forward(self, p, X):
        """The outputs' activations, (B, outputs)."""
        return self.outputs(p, X)[1]

    def outputs(self, p, X):
        """(the outputs' pre-activations z, their activations), each (B, outputs)."""
        m, torch, F = self.model, self.torch, self.F
        if self.layers:
            A = X
            for layer, W, b in zip(self.layers, self.W, self.b):
                Z = F.linear(A, p[W], p[b] if b is not None else None)
                act = layer[0].activation
                A = COUPLED[act](F, Z) if act in COUPLED else ACTIVATIONS[act](F, Z)
            return Z, A
        value_of = {x: X[:, i] for i, x in enumerate(m.inputs)}
        value_of |= {c: torch.full((X.shape[0],), float(v), dtype=torch.float64) for c, v in m.constants.items()}
        z_of, coupled = {}, None
        pending = list(m.neurons)
        while pending:
            for n in [n for n in pending if all(s in value_of for s in n.inputs)]:
                z = sum((p[self.index[w]] * value_of[s] for s, w in zip(n.inputs, n.weights)),
                        torch.zeros(X.shape[0], dtype=torch.float64))
                if n.bias:
                    z = z + p[self.index[n.bias]]
                z_of[n.name] = z
                if n.activation in COUPLED:  # an output no neuron reads: its whole layer's, below
                    coupled = n.activation
                    value_of[n.name] = None
                else:
                    value_of[n.name] = ACTIVATIONS[n.activation](F, z)
                pending.remove(n)
        Z = torch.stack([z_of[o] for o in m.outputs], dim=1)
        return Z, (COUPLED[coupled](F, Z) if coupled else torch.stack([value_of[o] for o in m.outputs], dim=1))
