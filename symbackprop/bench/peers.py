"""The peers every gradient bench times the compiled call against, on the same parameters and batch:
PyTorch autograd (CPU, float64) and JAX ``jit(value_and_grad)`` (CPU, float64); None where one is
not installed. The NumPy runtime is reference/numpy_runtime.Runtime itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..reference import torch_model


@dataclass(frozen=True)
class Net:
    """A dense net of the table: relu hidden layers and identity outputs under mse, unless told."""

    sizes: tuple[int, ...]
    activation: str = "relu"
    output: str = "identity"
    loss: str = "mse"
    label: str = ""  # after the sizes in the table's net column

    @property
    def name(self) -> str:
        return "-".join(map(str, self.sizes)) + (f" {self.label}" if self.label else "")

    def targets(self, rng, B: int):
        """Y for a batch: one-hot classes under a classification loss, else normal values."""
        if self.loss in ("cross_entropy", "nll"):
            return np.eye(self.sizes[-1])[rng.integers(0, self.sizes[-1], B)]
        return rng.normal(size=(B, self.sizes[-1]))



def torch_peer(model, params, X, Y):
    if not torch_model.available():
        return None
    torch = torch_model.torch_module()
    tm = torch_model.TorchModel(model)
    p = torch.tensor(params, dtype=torch.float64, requires_grad=True)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)

    def run():
        p.grad = None
        value = tm.loss(p, Xt, Yt)  # torch's own functions: F.cross_entropy of the logits for cross-entropy
        value.backward()
        return value, p.grad

    return run


def _jax_functions(jax, jnp):
    """The hidden activations and the losses (of the output layer's z) the table's nets use, in JAX."""
    hidden = {"relu": lambda Z: jnp.maximum(Z, 0.0), "tanh": jnp.tanh}
    losses = {("identity", "mse"): lambda Z, Y: jnp.mean((Z - Y) ** 2, axis=1),
              ("softmax", "cross_entropy"): lambda Z, Y: -jnp.sum(Y * jax.nn.log_softmax(Z, axis=1), axis=1)}
    return hidden, losses


def jax_peer(model, layers, params, X, Y):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    index = {p: i for i, p in enumerate(model.parameters)}
    Ws = [np.array([[index[w] for w in model.neuron(n).weights] for n in layer]) for layer in layers]
    bs = [np.array([index[model.neuron(n).bias] for n in layer]) for layer in layers]
    hidden, losses = _jax_functions(jax, jnp)
    f_hidden = hidden[model.neuron(layers[0][0]).activation]
    f_loss = losses[(model.neuron(layers[-1][0]).activation, model.loss)]

    def loss(p, X, Y):
        A = X
        for l, (W, b) in enumerate(zip(Ws, bs)):
            Z = A @ p[W].T + p[b]
            A = f_hidden(Z) if l < len(Ws) - 1 else Z
        return jnp.mean(f_loss(A, Y))

    f = jax.jit(jax.value_and_grad(loss))
    pj, Xj, Yj = jnp.asarray(params), jnp.asarray(X), jnp.asarray(Y)
    return lambda: jax.block_until_ready(f(pj, Xj, Yj))
