"""A rank's optimizer in a torch.distributed run: torch.optim and its lr_scheduler themselves, fed the
all-reduced mean gradient, as every rank of a data-parallel run steps its own copy from the same state.

The state travels in the compiled module's layout (``init_state()``: ``t``, ``lr`` and per state
quantity one value per parameter, NaN where one is frozen), so that a checkpoint can be resumed bit
for bit and the run compared with the compiled ``averaged_step``. torch is imported by the caller.
"""

from __future__ import annotations

import numpy as np

from ..core.model import Model
from ..reference.numpy_training import STATE_KEYS
from ..reference.torch_training import build


class RankOptimizer:
    """The trained parameters as one float64 leaf tensor, its torch.optim optimizer and scheduler."""

    def __init__(self, torch, model: Model, params: np.ndarray, state: dict | None = None) -> None:
        self.torch, self.model = torch, model
        trained = set(model.trained_parameters)
        self.index = np.flatnonzero([p in trained for p in model.parameters])
        self.names = model.optimizer.states()
        self.vec = torch.tensor(params[self.index], dtype=torch.float64).requires_grad_(True)
        self.optimizer, self.scheduler = build(torch, model, self.vec)
        self.t = 0
        if state is not None:
            self.restore(state)

    def restore(self, state: dict) -> None:
        """Continue from a state in the module's layout: the step count, the learning rate of the next
        step (the scheduler at ``t`` steps) and each quantity, in torch's names."""
        torch, keys = self.torch, STATE_KEYS[self.model.optimizer.name]
        self.t = int(state["t"])
        self.optimizer.param_groups[0]["lr"] = float(state["lr"])
        if self.scheduler is not None:
            self.scheduler.last_epoch = self.t
            self.scheduler._last_lr = [float(state["lr"])]  # what get_last_lr() reports; recursive forms read the group's lr
        if self.t:
            kept = {keys[name]: torch.tensor(np.asarray(state[name], dtype=float)[self.index]) for name in self.names}
            if self.model.optimizer.name != "SGD":  # SGD keeps no step count
                kept["step"] = torch.tensor(float(self.t), dtype=torch.float64)
            self.optimizer.state[self.vec] = kept

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """optimizer.step() at the averaged gradient, then scheduler.step(): the new parameters."""
        self.vec.grad = self.torch.from_numpy(np.ascontiguousarray(grad[self.index]))
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        self.t += 1
        out = params.copy()
        out[self.index] = self.vec.detach().numpy()
        return out

    def state(self) -> dict:
        """The state after the last step, in the module's layout, as plain floats (NaN for frozen ones)."""
        out: dict = {"t": self.t, "lr": float(self.optimizer.param_groups[0]["lr"])}
        held = self.optimizer.state.get(self.vec, {})
        keys = STATE_KEYS[self.model.optimizer.name]
        for name in self.names:
            full = np.full(len(self.model.parameters), np.nan)
            if keys[name] in held and held[keys[name]] is not None:
                full[self.index] = held[keys[name]].detach().numpy()
            else:  # before the first step: the module's initial values
                full[self.index] = float((self.model.optimizer.initial()).get(name, 0))
            out[name] = full.tolist()
        return out


def encoded(state: dict | None) -> dict | None:
    """A state as a checkpoint holds it: every float as its hex form (bit for bit)."""
    if state is None:
        return None
    return {k: v if k == "t" else float(v).hex() if k == "lr" else [float(x).hex() for x in v] for k, v in state.items()}


def decoded(data: dict | None) -> dict | None:
    if data is None:
        return None
    return {k: int(v) if k == "t" else float.fromhex(v) if k == "lr" else [float.fromhex(x) for x in v] for k, v in data.items()}
