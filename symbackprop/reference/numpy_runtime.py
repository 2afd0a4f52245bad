"""An independent NumPy forward and backward pass: the reference the compiled code is checked against.

It shares no code with the symbolic side on purpose: it reads only the Model's plain structure
(names, activations, values) and carries its *own* small table of activations and losses below,
duplicating functions.py by design, so that a mistake there cannot hide in both. Layered nets
without shared weights run in matrix form; any other graph (shared weights, bias inputs,
skip connections) runs through a general reverse-mode graph evaluator.
"""

from __future__ import annotations

import numpy as np

# name -> (f(z), f'(z)); conventions as PyTorch: relu'(0) = 0, leaky slope 0.01
ACTIVATIONS = {
    "relu": (lambda z: np.where(z > 0, z, 0.0), lambda z: np.where(z > 0, 1.0, 0.0)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1.0, 0.01)),
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z: (1.0 / (1.0 + np.exp(-z))) * (1.0 / (1.0 + np.exp(z)))),
    "tanh": (np.tanh, lambda z: 1.0 / np.cosh(z) ** 2),
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "softplus": (lambda z: np.logaddexp(0.0, z), lambda z: 1.0 / (1.0 + np.exp(-z))),
}

# name -> (per-example loss of (Y, P) over axis 1, dloss/dP); P, Y of shape (B, O)
LOSSES = {
    "half_sse": (lambda Y, P: 0.5 * ((P - Y) ** 2).sum(axis=1), lambda Y, P: P - Y),
    "sse": (lambda Y, P: ((P - Y) ** 2).sum(axis=1), lambda Y, P: 2.0 * (P - Y)),
    "mse": (lambda Y, P: ((P - Y) ** 2).mean(axis=1), lambda Y, P: 2.0 * (P - Y) / Y.shape[1]),
}


def matrix_layers(model) -> list[list] | None:
    """Neurons layer by layer when each layer reads exactly the previous one and nothing is shared."""
    previous, remaining, layers = list(model.inputs), list(model.neurons), []
    while remaining:
        layer = [n for n in remaining if list(n.inputs) == previous]
        if not layer:
            return None
        layers.append(layer)
        previous = [n.name for n in layer]
        remaining = [n for n in remaining if n not in layer]
    names = [p for n in model.neurons for p in (*n.weights, *([n.bias] if n.bias else []))]
    uniform = all(len({n.activation for n in layer}) == 1 and len({n.bias is None for n in layer}) == 1 for layer in layers)
    if previous != list(model.outputs) or len(names) != len(set(names)) or not uniform:
        return None
    return layers


class Runtime:
    """``Runtime(model)(params, X, Y) -> (loss, grad)`` with grad in ``model.parameters`` order."""

    def __init__(self, model) -> None:
        self.model = model
        self.names = list(model.parameters)
        self.index = {p: i for i, p in enumerate(self.names)}
        self.loss_f, self.loss_d = LOSSES[model.loss]
        self.mean = model.batch == "mean"
        self.layers = matrix_layers(model)
        if self.layers:
            self.W = [np.array([[self.index[w] for w in n.weights] for n in layer]) for layer in self.layers]
            self.b = [np.array([self.index[n.bias] for n in layer]) if layer[0].bias else None for layer in self.layers]
        order, done = [], set(model.inputs) | set(model.constants)
        pending = list(model.neurons)
        while pending:  # Kahn's order; the model validator has refused cycles already
            ready = [n for n in pending if all(s in done for s in n.inputs)]
            order += ready
            done |= {n.name for n in ready}
            pending = [n for n in pending if n not in ready]
        self.order = order

    def __call__(self, params, X, Y):
        p = np.asarray(params, dtype=float)
        X = np.asarray(X, dtype=float)
        Y = np.asarray(Y, dtype=float)
        return self._matrix(p, X, Y) if self.layers else self._graph(p, X, Y)

    def loss(self, params, X, Y) -> float:
        return self(params, X, Y)[0]

    def pre_activations(self, params, X) -> dict[str, np.ndarray]:
        """Each neuron's weighted sum z, one per example: where a kink lies (check names one that finite
        differences straddle, or that float64 puts on the other side of 0 than the exact trace)."""
        return self._forward(np.asarray(params, dtype=float), np.asarray(X, dtype=float))[0]

    def _forward(self, p, X) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(each neuron's z, each input's, constant's and neuron's value), neuron by neuron."""
        m = self.model
        value_of = {x: X[:, i] for i, x in enumerate(m.inputs)} | {c: np.full(len(X), float(v)) for c, v in m.constants.items()}
        z = {}
        for n in self.order:
            total = np.zeros(len(X))
            for src, w in zip(n.inputs, n.weights):
                total = total + p[self.index[w]] * value_of[src]
            if n.bias:
                total = total + p[self.index[n.bias]]
            z[n.name] = total
            value_of[n.name] = ACTIVATIONS[n.activation][0](total)
        return z, value_of

    def _combine(self, per_example: np.ndarray) -> float:
        return float(per_example.mean() if self.mean else per_example.sum())

    def _matrix(self, p, X, Y):
        A, Z = [X], []
        for layer, W, b in zip(self.layers, self.W, self.b):
            z = A[-1] @ p[W].T + (p[b] if b is not None else 0.0)
            Z.append(z)
            A.append(ACTIVATIONS[layer[0].activation][0](z))
        value = self._combine(self.loss_f(Y, A[-1]))
        grad = np.zeros(len(self.names))
        upstream = self.loss_d(Y, A[-1]) / (len(X) if self.mean else 1)
        for l in range(len(self.layers) - 1, -1, -1):
            dz = upstream * ACTIVATIONS[self.layers[l][0].activation][1](Z[l])
            grad[self.W[l]] = dz.T @ A[l]
            if self.b[l] is not None:
                grad[self.b[l]] = dz.sum(axis=0)
            upstream = dz @ p[self.W[l]]
        return value, grad

    def _graph(self, p, X, Y):
        m, B = self.model, len(X)
        z, value_of = self._forward(p, X)
        P = np.stack([value_of[o] for o in m.outputs], axis=1)
        value = self._combine(self.loss_f(Y, P))
        dP = self.loss_d(Y, P) / (B if self.mean else 1)
        upstream = {n.name: np.zeros(B) for n in self.order}  # dE/da per neuron
        for j, o in enumerate(m.outputs):
            upstream[o] = upstream[o] + dP[:, j]
        grad = np.zeros(len(self.names))
        for n in reversed(self.order):
            dz = upstream[n.name] * ACTIVATIONS[n.activation][1](z[n.name])
            for src, w in zip(n.inputs, n.weights):
                grad[self.index[w]] += float(np.dot(dz, value_of[src]))
                if src in upstream:
                    upstream[src] = upstream[src] + dz * p[self.index[w]]
            if n.bias:
                grad[self.index[n.bias]] += float(dz.sum())
        return value, grad


def loss_and_grad(model, params, X, Y):
    """One call of the reference: the batch loss and its gradient in ``model.parameters`` order."""
    return Runtime(model)(params, X, Y)
