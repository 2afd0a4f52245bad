"""Training by PyTorch itself (float64, CPU): the real torch.optim optimizer and torch.optim.lr_scheduler
on autograd gradients, the other side of numpy_training's check. An optional extra.

The trained parameters are one float64 leaf tensor given to the optimizer; the frozen ones are held out
(constants of the forward pass, never stepped). Each step: the batch loss and the gradient of every
parameter by autograd at the parameters before, ``optimizer.step()``, then ``scheduler.step()``. The
learning rate recorded is ``scheduler.get_last_lr()`` before stepping it (the optimizer's, without one);
the states are ``optimizer.state``, renamed as numpy_training names them. torch is imported on the first
``train``, not with this module.
"""

from __future__ import annotations

import numpy as np

from . import torch_model
from .numpy_training import STATE_KEYS, Trajectory, data, initial_parameters, options


def _plain(torch, model, vec):
    """The text's rule as torch.optim.SGD: p - lr g, or p + lr g (``maximize``) with the text's own sign of lr;
    torch takes only lr >= 0, so a negative lr flips the direction instead."""
    lr = float(model.learning_rate)
    ascent = (model.update == "add") == (lr >= 0)
    return torch.optim.SGD([vec], lr=abs(lr), maximize=ascent)


def build(torch, model, vec):
    """(the torch.optim optimizer over ``vec``, the lr_scheduler or None) the model states."""
    if model.optimizer is None:
        return _plain(torch, model, vec), None
    o = options(model.optimizer)
    opt = getattr(torch.optim, model.optimizer.name)([vec], lr=float(model.learning_rate), **o)
    if model.scheduler is None:
        return opt, None
    s = options(model.scheduler)
    if "milestones" in s:
        s["milestones"] = list(s["milestones"])
    return opt, getattr(torch.optim.lr_scheduler, model.scheduler.name)(opt, **s)


def train(model, steps: int | None = None, params=None) -> Trajectory:
    """As numpy_training.train, by torch: ``steps`` (default ``model.iterations``) steps from ``params``
    (default the model's initial values) on the model's examples as one batch."""
    torch_model.require("reference")
    torch = torch_model.torch_module()
    steps = model.iterations if steps is None else steps
    tm = torch_model.TorchModel(model)
    X, Y = (tm.tensor(a) for a in data(model))
    names = list(model.parameters)
    start = initial_parameters(model) if params is None else np.array(params, dtype=float)
    trained = np.array([n in set(model.trained_parameters) for n in names])
    idx_np = np.flatnonzero(trained)
    idx = torch.as_tensor(idx_np, dtype=torch.long)
    full = torch.tensor(start, dtype=torch.float64)  # every parameter's current value (frozen ones stay)
    vec = full[idx].clone().requires_grad_(True)  # the trained ones: what the optimizer steps
    opt, sched = build(torch, model, vec)
    keys = STATE_KEYS.get("plain" if model.optimizer is None else model.optimizer.name, {})
    name = "plain" if model.optimizer is None else model.optimizer.name
    lrs, before, after, losses, gradients, states = [], [], [], [], [], []
    for _ in range(steps):
        if model.optimizer is None:
            lrs.append(float(model.learning_rate))
        else:
            lrs.append(float(sched.get_last_lr()[0] if sched is not None else opt.param_groups[0]["lr"]))
        current = full.detach().clone()
        current[idx] = vec.detach()
        at = current.clone().requires_grad_(True)
        loss = tm.loss(at, X, Y)
        loss.backward()
        opt.zero_grad()
        vec.grad = at.grad[idx].clone()
        opt.step()
        if sched is not None:
            sched.step()
        new = current.clone()
        new[idx] = vec.detach()
        full = new
        state = {}
        for ours, theirs in keys.items():
            value = opt.state[vec].get(theirs)
            if value is not None:
                state[ours] = np.full(len(names), np.nan)
                state[ours][idx_np] = value.detach().numpy()
        before.append(current.numpy().copy())
        after.append(new.numpy().copy())
        losses.append(float(loss.detach()))
        gradients.append(at.grad.numpy().copy())
        states.append(state)
    width = len(names)

    def rows(vectors):
        return np.array(vectors, dtype=float).reshape(len(vectors), width)

    return Trajectory(names, trained, name, start.copy(), np.array(lrs, dtype=float), rows(before), rows(after),
                      np.array(losses, dtype=float), rows(gradients), states)
