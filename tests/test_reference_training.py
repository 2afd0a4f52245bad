"""The NumPy optimizers and schedulers (reference/numpy_training.py) against the real torch.optim and
torch.optim.lr_scheduler (reference/torch_training.py): a seeded catalogue, 10 steps each, compared
step by step (learning rates, parameters, losses, gradients, optimizer states) to 1e-12 relative.

Errors are normwise: the largest difference over a step's vector over the largest reference value.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import sympy as sp

import symbackprop
from symbackprop.core import optimizers, schedulers
from symbackprop.reference import numpy_training

TORCH_REASON = "PyTorch is an optional extra: pip install 'symbackprop[torch]'"
RTOL = 1e-12
STEPS = 10

OPTIMIZERS = {
    "SGD": {"name": "SGD"},
    "SGD-nesterov": {"name": "SGD", "momentum": "0.9", "nesterov": True},
    "SGD-dampening-wd": {"name": "SGD", "momentum": "0.8", "dampening": "0.5", "weight_decay": "0.01"},
    "Adam-wd": {"name": "Adam", "betas": ["0.8", "0.99"], "weight_decay": "0.05"},
    "AdamW": {"name": "AdamW", "betas": ["0.85", "0.995"], "weight_decay": "0.1", "eps": "0.000001"},
    "RMSprop": {"name": "RMSprop"},
    "RMSprop-centered-momentum": {"name": "RMSprop", "alpha": "0.9", "centered": True, "momentum": "0.5",
                                  "weight_decay": "0.01"},
    "Adagrad-lr_decay": {"name": "Adagrad", "lr_decay": "0.1", "initial_accumulator_value": "0.05"},
}
SCHEDULERS = {
    "none": None,
    "StepLR": {"name": "StepLR", "step_size": 3, "gamma": "0.5"},
    "MultiStepLR": {"name": "MultiStepLR", "milestones": [2, 5, 5], "gamma": "0.3"},
    "ExponentialLR": {"name": "ExponentialLR", "gamma": "0.9"},
    "CosineAnnealingLR": {"name": "CosineAnnealingLR", "T_max": 4, "eta_min": "0.001"},
    "LinearLR": {"name": "LinearLR", "start_factor": "0.25", "end_factor": "1", "total_iters": 4},
}


def _numbers(rng, count: int, low: int = -1000, high: int = 1000) -> list[str]:
    return [str(sp.Rational(int(k), 1000)) for k in rng.integers(low, high + 1, size=count)]


def _probabilities(rng, count: int) -> list[str]:
    cuts = np.sort(rng.integers(0, 1001, size=count - 1))
    parts = np.diff(np.concatenate([[0], cuts, [1000]]))
    return [str(sp.Rational(int(k), 1000)) for k in parts]


def base_model(loss: str, seed: int = 7):
    """A seeded dense net for the loss: 3 inputs, 4 hidden (tanh), 3 or 2 outputs, 5 examples."""
    rng = np.random.default_rng(seed)
    sizes, out, targets, batch = {
        "mse": ([3, 4, 2], "identity", lambda: _numbers(rng, 2), "mean"),
        "cross_entropy": ([3, 4, 3], "softmax", lambda: _probabilities(rng, 3), "mean"),
        "nll": ([3, 4, 3], "log_softmax", lambda: _probabilities(rng, 3), "sum"),
        "bce": ([3, 4, 2], "sigmoid", lambda: _numbers(rng, 2, 0, 1000), "sum"),
        "bce_logits": ([3, 4, 2], "identity", lambda: _numbers(rng, 2, 0, 1000), "mean"),
    }[loss]
    examples = [(_numbers(rng, 3), targets()) for _ in range(5)]
    return symbackprop.dense(sizes, "tanh", out, loss=loss, batch=batch, seed=seed, examples=examples,
                             learning_rate="0.05")


def configured(loss: str, opt: str | None, sched: str = "none", **changes):
    model = base_model(loss)
    return dataclasses.replace(model, optimizer=None if opt is None else optimizers.optimizer(OPTIMIZERS[opt]),
                               scheduler=schedulers.scheduler(SCHEDULERS[sched]), **changes)


def relative(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.nanmax(np.abs(b)) if b.size and not np.all(np.isnan(b)) else 0.0
    assert np.array_equal(np.isnan(a), np.isnan(b))
    if not b.size or np.all(np.isnan(b)):
        return 0.0
    return float(np.nanmax(np.abs(a - b)) / max(scale, 1e-300))


def differences(a: numpy_training.Trajectory, b: numpy_training.Trajectory) -> dict[str, float]:
    """The largest relative difference per quantity over the steps."""
    assert a.names == b.names and a.steps == b.steps and a.optimizer == b.optimizer
    assert np.array_equal(a.trained, b.trained)
    out = {"lr": relative(a.lrs, b.lrs), "loss": max(relative(x, y) for x, y in zip(a.losses, b.losses))}
    for field in ("before", "after", "gradients"):
        out[field] = max(relative(x, y) for x, y in zip(getattr(a, field), getattr(b, field)))
    for sa, sb in zip(a.states, b.states):
        assert sa.keys() == sb.keys()
        for k in sa:
            out[f"state {k}"] = max(out.get(f"state {k}", 0.0), relative(sa[k], sb[k]))
    return out


CATALOGUE = [(loss, opt, sched) for loss, (opt, sched) in itertools.product(
    ("mse", "cross_entropy", "bce_logits"), itertools.product(OPTIMIZERS, SCHEDULERS))]
CATALOGUE += [(loss, opt, sched) for loss in ("nll", "bce")
              for opt, sched in (("Adam-wd", "StepLR"), ("SGD-nesterov", "CosineAnnealingLR"),
                                 ("RMSprop-centered-momentum", "LinearLR"), ("Adagrad-lr_decay", "none"))]


@pytest.fixture(scope="module")
def torch_training():
    pytest.importorskip("torch", reason=TORCH_REASON)
    from symbackprop.reference import torch_training

    return torch_training


@pytest.mark.parametrize("loss, opt, sched", CATALOGUE, ids=["-".join(c) for c in CATALOGUE])
def test_numpy_training_equals_torch_optim(torch_training, loss, opt, sched):
    model = configured(loss, opt, sched)
    ours, theirs = numpy_training.train(model, STEPS), torch_training.train(model, STEPS)
    assert ours.steps == STEPS and set(ours.states[-1]) == set(theirs.states[-1])
    worst = differences(ours, theirs)
    assert max(worst.values()) < RTOL, worst
    assert not np.allclose(ours.final, ours.initial)  # it trained


def test_states_are_the_ones_the_options_ask_for():
    expected = {"SGD": set(), "SGD-nesterov": {"buf"}, "SGD-dampening-wd": {"buf"}, "Adam-wd": {"m", "v"},
                "AdamW": {"m", "v"}, "RMSprop": {"v"}, "RMSprop-centered-momentum": {"v", "gbar", "buf"},
                "Adagrad-lr_decay": {"sum"}}
    for opt, names in expected.items():
        run = numpy_training.train(configured("mse", opt), 2)
        assert all(set(s) == names for s in run.states), (opt, run.states)


@pytest.mark.parametrize("sched", [s for s in SCHEDULERS if s != "none"])
def test_learning_rates_are_the_closed_forms_core_states(sched):
    """The NumPy schedules beside core/schedulers.py's exact rates (a third opinion, in floats)."""
    model = configured("mse", "SGD", sched)
    run = numpy_training.train(model, STEPS)
    exact = np.array([float(model.scheduler.rate(model.learning_rate, t)) for t in range(1, STEPS + 1)])
    assert relative(run.lrs, exact) < 1e-14


@pytest.mark.parametrize("opt", ["SGD-nesterov", "Adam-wd", "AdamW", "RMSprop-centered-momentum", "Adagrad-lr_decay"])
def test_frozen_parameters_are_not_stepped(torch_training, opt):
    model = configured("cross_entropy", opt, "ExponentialLR")
    frozen = [p for p in model.parameters if p.startswith("b")]
    model = dataclasses.replace(model, trained=[p for p in model.parameters if p not in frozen])
    ours, theirs = numpy_training.train(model, STEPS), torch_training.train(model, STEPS)
    index = [ours.names.index(p) for p in frozen]
    for run in (ours, theirs):
        assert np.array_equal(run.after[:, index], np.repeat(run.initial[None, index], STEPS, axis=0))
        assert all(np.all(np.isnan(v[index])) for s in run.states for v in s.values())
        assert np.all(run.gradients[:, index] != 0)  # their gradients are there, unused
    worst = differences(ours, theirs)
    assert max(worst.values()) < RTOL, worst


@pytest.mark.parametrize("update, lr", [("subtract", "0.1"), ("add", "-0.6"), ("add", "0.05"), ("subtract", "-0.02")])
def test_the_plain_rule_follows_the_texts_sign(torch_training, update, lr):
    model = configured("bce", None, update=update, learning_rate=sp.Rational(lr))
    ours, theirs = numpy_training.train(model, 5), torch_training.train(model, 5)
    sign = 1.0 if update == "add" else -1.0
    np.testing.assert_allclose(ours.after, ours.before + sign * float(lr) * ours.gradients, rtol=0, atol=1e-15)
    assert ours.optimizer == "plain" and np.all(ours.lrs == float(lr)) and ours.states == [{}] * 5
    worst = differences(ours, theirs)
    assert max(worst.values()) < RTOL, worst


def test_a_trajectory_starts_from_given_parameters():
    model = configured("mse", "Adam-wd", "StepLR")
    start = numpy_training.initial_parameters(model) + 0.25
    run = numpy_training.train(model, 3, params=start)
    assert np.array_equal(run.initial, start) and np.array_equal(run.before[0], start)
    assert np.array_equal(run.parameters[1:], run.after) and np.array_equal(run.before[1:], run.after[:-1])
    assert numpy_training.train(model, 0).steps == 0
