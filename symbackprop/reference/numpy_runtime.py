"""An independent NumPy forward and backward pass: the reference the compiled code is checked against.

It shares no code with the symbolic side on purpose: it reads only the Model's plain structure
(names, activations, values) and carries its *own* small table of activations and losses below,
duplicating functions.py by design, so that a mistake there cannot hide in both. Layered nets
without shared weights run in matrix form; any other graph (shared weights, bias inputs,
skip connections) runs through a general reverse-mode graph evaluator.

A coupled activation (softmax, log_softmax) is a function of all the outputs' z at once: its backward
step is a Jacobian-vector product over the output neurons (dE/dz_j = sum_i dE/da_i da_i/dz_j), with
the Jacobian written out per example, in both paths.
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



def _softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))  # shifted by the row's largest z: no overflow
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(Z):
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _softmax_jacobian(Z, A):
    """J[b, i, j] = da_i/dz_j = a_i (delta_ij - a_j)."""
    return A[:, :, None] * (np.eye(A.shape[1])[None] - A[:, None, :])


def _log_softmax_jacobian(Z, A):
    """J[b, i, j] = da_i/dz_j = delta_ij - softmax(z)_j."""
    return np.eye(A.shape[1])[None] - _softmax(Z)[:, None, :]


# coupled over the output neurons: name -> (f(Z) of (B, O) over axis 1, Jacobian (B, O, O) given (Z, A))
COUPLED = {
    "softmax": (_softmax, _softmax_jacobian),
    "log_softmax": (_log_softmax, _log_softmax_jacobian),
}


def coupled_backward(name: str, Z, A, dA):
    """dE/dz_j = sum_i dE/da_i J_ij, example by example: the vector-Jacobian product."""
    return np.einsum("bi,bij->bj", dA, COUPLED[name][1](Z, A))


def _where_y(Y, values):
    """values where the target is not 0, else 0: a zero target takes no log of a vanishing probability."""
    return np.where(Y != 0, values, 0.0)


def _cross_entropy(Y, P):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -_where_y(Y, Y * np.log(P)).sum(axis=1)


def _cross_entropy_d(Y, P):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -_where_y(Y, Y / P)


def _bce(Y, P):
    return -(Y * np.log(P) + (1.0 - Y) * np.log1p(-P)).mean(axis=1)


def _bce_d(Y, P):
    return -(Y / P - (1.0 - Y) / (1.0 - P)) / Y.shape[1]


def _bce_logits(Y, P):
    # -(y log sigma(x) + (1 - y) log(1 - sigma(x))) = max(x, 0) - x y + log(1 + exp(-|x|)), as torch computes it
    return (np.maximum(P, 0.0) - P * Y + np.log1p(np.exp(-np.abs(P)))).mean(axis=1)


def _bce_logits_d(Y, P):
    return (0.5 * (1.0 + np.tanh(0.5 * P)) - Y) / Y.shape[1]  # (sigma(x) - y) / outputs


# name -> (per-example loss of (Y, P) over axis 1, dloss/dP); P, Y of shape (B, O)
LOSSES = {
    "half_sse": (lambda Y, P: 0.5 * ((P - Y) ** 2).sum(axis=1), lambda Y, P: P - Y),
    "sse": (lambda Y, P: ((P - Y) ** 2).sum(axis=1), lambda Y, P: 2.0 * (P - Y)),
    "mse": (lambda Y, P: ((P - Y) ** 2).mean(axis=1), lambda Y, P: 2.0 * (P - Y) / Y.shape[1]),
    "cross_entropy": (_cross_entropy, _cross_entropy_d),  # P: softmax outputs; torch CrossEntropyLoss of z
    "nll": (lambda Y, P: -(Y * P).sum(axis=1), lambda Y, P: -Y),  # P: log_softmax outputs; torch NLLLoss
    "bce": (_bce, _bce_d),  # P in (0, 1); torch BCELoss, the mean over outputs
    "bce_logits": (_bce_logits, _bce_logits_d),  # P: logits; torch BCEWithLogitsLoss, the mean over outputs
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
    """``Runtime(model)(params, X, Y) -> (loss, grad)`` with grad in ``model.parameters`` order.
    ``matrix=False`` runs a layered net through the graph evaluator too (the two paths checked alike)."""

    def __init__(self, model, matrix: bool = True) -> None:
        self.model = model
        self.names = list(model.parameters)
        self.index = {p: i for i, p in enumerate(self.names)}
        self.loss_f, self.loss_d = LOSSES[model.loss]
        self.mean = model.batch == "mean"
        self.layers = matrix_layers(model) if matrix else None
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
        # the coupled activation of the outputs (the validator puts it on every output and nowhere else), if any
        self.coupled = next((n.activation for n in model.neurons if n.activation in COUPLED), None)

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

    def outputs(self, params, X) -> np.ndarray:
        """The outputs' activations, (B, outputs)."""
        _, value_of = self._forward(np.asarray(params, dtype=float), np.asarray(X, dtype=float))
        return np.stack([value_of[o] for o in self.model.outputs], axis=1)

    def _forward(self, p, X) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(each neuron's z, each input's, constant's and neuron's value), neuron by neuron; coupled
        outputs last, together (no neuron reads them)."""
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
            if n.activation not in COUPLED:
                value_of[n.name] = ACTIVATIONS[n.activation][0](total)
        if self.coupled:
            A = COUPLED[self.coupled][0](np.stack([z[o] for o in m.outputs], axis=1))
            value_of |= {o: A[:, j] for j, o in enumerate(m.outputs)}
        return z, value_of

    def _combine(self, per_example: np.ndarray) -> float:
        return float(per_example.mean() if self.mean else per_example.sum())

    def _matrix(self, p, X, Y):
        A, Z = [X], []
        for layer, W, b in zip(self.layers, self.W, self.b):
            z = A[-1] @ p[W].T + (p[b] if b is not None else 0.0)
            Z.append(z)
            act = layer[0].activation
            A.append(COUPLED[act][0](z) if act in COUPLED else ACTIVATIONS[act][0](z))
        value = self._combine(self.loss_f(Y, A[-1]))
        grad = np.zeros(len(self.names))
        upstream = self.loss_d(Y, A[-1]) / (len(X) if self.mean else 1)
        for l in range(len(self.layers) - 1, -1, -1):
            act = self.layers[l][0].activation
            if act in COUPLED:
                dz = coupled_backward(act, Z[l], A[l + 1], upstream)
            else:
                dz = upstream * ACTIVATIONS[act][1](Z[l])
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
        given = {}  # dE/dz of the coupled outputs, from their Jacobian
        if self.coupled:
            dZ = coupled_backward(self.coupled, np.stack([z[o] for o in m.outputs], axis=1), P, dP)
            given = {o: dZ[:, j] for j, o in enumerate(m.outputs)}
        grad = np.zeros(len(self.names))
        for n in reversed(self.order):
            dz = given[n.name] if n.name in given else upstream[n.name] * ACTIVATIONS[n.activation][1](z[n.name])
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
