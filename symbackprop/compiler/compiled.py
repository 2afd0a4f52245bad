"""The compiled callable: the exported module's own text, run in a fresh namespace."""

from __future__ import annotations

import builtins

import numpy as np

from ..core.derivation import Derivation
from .expressions import exact_float
from .generator import module


def numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


class Compiled:
    """``compiled(params, X, Y) -> (loss, grad)``; also ``.loss``, ``.step``, ``.source``, and the
    data-parallel ``.averaged_loss_and_grad(params, shards)``, ``.averaged_step``, ``.split``.

    With an [optimizer] (``.optimizer`` its name, else None), ``.init_state()`` gives the optimizer's
    state and ``.step(params, state, X, Y)``, ``.averaged_step(params, state, shards)`` give (the new
    parameters, the new state); without one, ``.step(params, X, Y, lr)`` gives the new parameters and
    ``.init_state`` is None. Compiled with ``input_gradients=True``, ``.input_gradients(params, X, Y)``
    gives d(batch loss)/dX, shape (B, inputs); else it is None."""

    def __init__(self, d: Derivation, numba: bool | None = None, workers: int = 1, input_gradients: bool = False) -> None:
        self.source, tree = module(d, numba_available() if numba is None else numba, workers, input_gradients)
        self.namespace: dict = {"__name__": "symbackprop_compiled"}
        exec(builtins.compile(tree, "<symbackprop compiled>", "exec"), self.namespace)  # our own generated text, parsed
        self.parameters: tuple[str, ...] = self.namespace["PARAMETERS"]
        self.loss = self.namespace["loss"]
        self.step = self.namespace["step"]
        self.loss_and_grad = self.namespace["loss_and_grad"]
        self.averaged_loss_and_grad = self.namespace["averaged_loss_and_grad"]
        self.averaged_step = self.namespace["averaged_step"]
        self.split = self.namespace["split"]
        self.optimizer: str | None = self.namespace.get("OPTIMIZER")
        self.init_state = self.namespace.get("init_state")
        self.input_gradients = self.namespace.get("input_gradients")  # None unless compiled with input_gradients=True
        self.workers: int = self.namespace["WORKERS"]
        m = d.model
        self.initial = np.array([exact_float(v) for v in m.parameters.values()])
        self.X = np.array([[float(ex.inputs[x]) for x in m.inputs] for ex in m.examples])
        self.Y = np.array([[float(ex.targets[o]) for o in m.outputs] for ex in m.examples])

    def __call__(self, params, X, Y):
        return self.loss_and_grad(params, X, Y)


def compile(derivation: Derivation, numba: bool | None = None, workers: int = 1,  # noqa: A001 - the API's name
            input_gradients: bool = False) -> Compiled:
    """The callable; ``numba=None`` uses the fused numba loop when numba is installed; ``workers``:
    the default shard count of ``.split``; ``input_gradients=True``: also ``.input_gradients(params, X, Y)``,
    d(batch loss)/dX of shape (B, inputs)."""
    return Compiled(derivation, numba, workers, input_gradients)
