"""Training in NumPy (float64): the optimizers of torch.optim and its learning-rate schedulers, written
again from torch's documentation, step by step, on the gradients of the NumPy Runtime.

Independent of the symbolic side on purpose (core/optimizers.py and core/schedulers.py): it reads only
the Model's plain fields, the optimizer's and scheduler's names and option values, and keeps its own
update rules below (the pseudo-code of the torch.optim docs) and its own closed forms of the schedules.

``train(model, steps)`` gives a Trajectory: per step t = 1..steps the learning rate used, the
parameters before and after, the batch loss and gradient at the parameters before, and the optimizer's
state after the step. Parameters ``model.trained_parameters`` leaves out are frozen: never stepped,
given no state (NaN in the state arrays).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from .numpy_runtime import Runtime

# our state name -> torch.optim's state key, per optimizer (the order they are updated in)
STATE_KEYS = {
    "SGD": {"buf": "momentum_buffer"},
    "Adam": {"m": "exp_avg", "v": "exp_avg_sq"},
    "AdamW": {"m": "exp_avg", "v": "exp_avg_sq"},
    "RMSprop": {"v": "square_avg", "gbar": "grad_avg", "buf": "momentum_buffer"},
    "Adagrad": {"sum": "sum"},
}


@dataclass
class Trajectory:
    """A training run, step by step; arrays over parameters are in ``model.parameters`` order."""

    names: list[str]  # the parameters, in model.parameters order
    trained: np.ndarray  # (P,) bool: which are stepped (the others are frozen)
    optimizer: str  # "plain" (model.optimizer None: the update rule of model.update) or the torch.optim name
    initial: np.ndarray  # (P,): the parameters before the first step
    lrs: np.ndarray  # (steps,): the learning rate step t used (the plain rule: the text's signed lr)
    before: np.ndarray  # (steps, P): the parameters step t started from
    after: np.ndarray  # (steps, P): the parameters after step t
    losses: np.ndarray  # (steps,): the batch loss at ``before[t - 1]``
    gradients: np.ndarray  # (steps, P): the batch gradient there (frozen parameters' too)
    states: list[dict[str, np.ndarray]] = field(default_factory=list)  # per step: state name -> (P,), NaN if frozen

    @property
    def steps(self) -> int:
        return len(self.lrs)

    @property
    def parameters(self) -> np.ndarray:
        """(steps + 1, P): the initial parameters, then those after each step."""
        return np.vstack([self.initial[None], self.after])

    @property
    def final(self) -> np.ndarray:
        return self.after[-1] if self.steps else self.initial


def data(model) -> tuple[np.ndarray, np.ndarray]:
    """The model's examples as float64 arrays X (B, inputs) and Y (B, outputs)."""
    X = np.array([[float(ex.inputs[i]) for i in model.inputs] for ex in model.examples], dtype=float)
    Y = np.array([[float(ex.targets[o]) for o in model.outputs] for ex in model.examples], dtype=float)
    return X, Y


def initial_parameters(model) -> np.ndarray:
    return np.array([float(v) for v in model.parameters.values()], dtype=float)


def options(opt) -> dict:
    """An Optimizer's or Scheduler's options as plain floats, ints, bools and tuples."""

    def plain(value):
        if isinstance(value, bool):
            return value
        if isinstance(value, (tuple, list)):
            return tuple(plain(v) for v in value)
        if isinstance(value, int):
            return value
        return float(value)

    return {k: plain(v) for k, v in opt.options.items()}


# ---- learning-rate schedules: lr after k calls of scheduler.step(), the closed forms torch documents


def _step_lr(lr0, k, o):
    return lr0 * o["gamma"] ** (k // o["step_size"])


def _multi_step_lr(lr0, k, o):
    return lr0 * o["gamma"] ** bisect.bisect_right(sorted(o["milestones"]), k)


def _exponential_lr(lr0, k, o):
    return lr0 * o["gamma"] ** k


def _cosine_annealing_lr(lr0, k, o):
    return o["eta_min"] + (lr0 - o["eta_min"]) * (1.0 + math.cos(math.pi * k / o["T_max"])) / 2.0


def _linear_lr(lr0, k, o):
    start, end, total = o["start_factor"], o["end_factor"], o["total_iters"]
    return lr0 * (start + (end - start) * min(k, total) / total)


SCHEDULES = {
    "StepLR": _step_lr,
    "MultiStepLR": _multi_step_lr,
    "ExponentialLR": _exponential_lr,
    "CosineAnnealingLR": _cosine_annealing_lr,
    "LinearLR": _linear_lr,
}


def learning_rate(model, t: int) -> float:
    """The learning rate step t (1-based) uses: the scheduler's after t - 1 steps, else the file's."""
    lr0 = float(model.learning_rate)
    if model.scheduler is None:
        return lr0
    return SCHEDULES[model.scheduler.name](lr0, t - 1, options(model.scheduler))


# ---- the optimizers: one step of a vector of trained parameters; ``state`` is updated in place


def _decay(o, p, g):
    return g + o["weight_decay"] * p if o.get("weight_decay") else g


def _sgd(o, p, g, lr, t, state):
    g = _decay(o, p, g)
    mu = o["momentum"]
    if mu:
        state["buf"] = g.copy() if t == 1 else mu * state["buf"] + (1.0 - o["dampening"]) * g
        g = g + mu * state["buf"] if o["nesterov"] else state["buf"]
    return p - lr * g


def _adam(o, p, g, lr, t, state, decoupled=False):
    beta1, beta2 = o["betas"]
    if decoupled:
        p = p * (1.0 - lr * o["weight_decay"])
    else:
        g = _decay(o, p, g)
    if t == 1:
        state["m"], state["v"] = np.zeros_like(p), np.zeros_like(p)
    state["m"] = beta1 * state["m"] + (1.0 - beta1) * g
    state["v"] = beta2 * state["v"] + (1.0 - beta2) * g * g
    m_hat = state["m"] / (1.0 - beta1**t)
    v_hat = state["v"] / (1.0 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + o["eps"])


def _adamw(o, p, g, lr, t, state):
    return _adam(o, p, g, lr, t, state, decoupled=True)


def _rmsprop(o, p, g, lr, t, state):
    g = _decay(o, p, g)
    alpha, mu = o["alpha"], o["momentum"]
    if t == 1:
        state["v"] = np.zeros_like(p)
        if o["centered"]:
            state["gbar"] = np.zeros_like(p)
        if mu > 0:
            state["buf"] = np.zeros_like(p)
    state["v"] = alpha * state["v"] + (1.0 - alpha) * g * g
    if o["centered"]:
        state["gbar"] = alpha * state["gbar"] + (1.0 - alpha) * g
        avg = np.sqrt(state["v"] - state["gbar"] ** 2) + o["eps"]
    else:
        avg = np.sqrt(state["v"]) + o["eps"]
    if mu > 0:
        state["buf"] = mu * state["buf"] + g / avg
        return p - lr * state["buf"]
    return p - lr * g / avg


def _adagrad(o, p, g, lr, t, state):
    g = _decay(o, p, g)
    if t == 1:
        state["sum"] = np.full_like(p, o["initial_accumulator_value"])
    rate = lr / (1.0 + (t - 1) * o["lr_decay"])
    state["sum"] = state["sum"] + g * g
    return p - rate * g / (np.sqrt(state["sum"]) + o["eps"])


OPTIMIZERS = {"SGD": _sgd, "Adam": _adam, "AdamW": _adamw, "RMSprop": _rmsprop, "Adagrad": _adagrad}


def train(model, steps: int | None = None, params=None) -> Trajectory:
    """``steps`` (default ``model.iterations``) steps of the model's optimizer and scheduler from
    ``params`` (default the model's initial values), on the model's examples as one batch."""
    steps = model.iterations if steps is None else steps
    runtime = Runtime(model)
    X, Y = data(model)
    names = list(model.parameters)
    p = initial_parameters(model) if params is None else np.array(params, dtype=float)
    initial = p.copy()
    trained = np.array([n in set(model.trained_parameters) for n in names])
    idx = np.flatnonzero(trained)
    name = "plain" if model.optimizer is None else model.optimizer.name
    o = {} if model.optimizer is None else options(model.optimizer)
    state: dict[str, np.ndarray] = {}
    lrs, before, after, losses, gradients, states = [], [], [], [], [], []
    for t in range(1, steps + 1):
        lr = learning_rate(model, t)
        loss, g = runtime(p, X, Y)
        new = p.copy()
        if model.optimizer is None:  # the text's rule: p - lr g, or p + lr g with its own sign of lr
            new[idx] = p[idx] + (1.0 if model.update == "add" else -1.0) * lr * g[idx]
        else:
            new[idx] = OPTIMIZERS[name](o, p[idx], g[idx], lr, t, state)
        full = {}
        for k in STATE_KEYS.get(name, {}):
            if k in state:
                full[k] = np.full(len(names), np.nan)
                full[k][idx] = state[k]
        lrs.append(lr)
        before.append(p)
        after.append(new)
        losses.append(loss)
        gradients.append(g)
        states.append(full)
        p = new
    return Trajectory(names, trained, name, initial, np.array(lrs, dtype=float), _rows(before, len(names)),
                      _rows(after, len(names)), np.array(losses, dtype=float), _rows(gradients, len(names)), states)


def _rows(vectors: list, width: int) -> np.ndarray:
    return np.array(vectors, dtype=float).reshape(len(vectors), width)
