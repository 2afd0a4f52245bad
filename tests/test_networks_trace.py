"""The exact (then high-precision) trace of the new networks against independent runs: every optimizer
with a scheduler or none, over every loss, on seeded dense nets, 10 steps, against the NumPy training
reference and against torch.optim with torch.optim.lr_scheduler in float64 (1e-12 relative); softmax
and cross-entropy gradients also against finite differences; and the file format's round trip."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
import sympy as sp
from conftest import DERIVATIONS, output_width

import symbackprop
from symbackprop.core import function_table
from symbackprop.core.derivation_file import loads
from symbackprop.core.optimizers import optimizer
from symbackprop.core.schedulers import scheduler
from symbackprop.reference import numpy_training, torch_model

STEPS = 10
OPTIMIZERS = [
    {"name": "SGD"},
    {"name": "SGD", "momentum": "0.9", "nesterov": True},
    {"name": "SGD", "momentum": "0.5", "dampening": "0.3", "weight_decay": "0.01"},
    {"name": "Adam", "betas": ["0.8", "0.99"], "weight_decay": "0.05"},
    {"name": "AdamW"},
    {"name": "RMSprop", "centered": True, "momentum": "0.5"},
    {"name": "Adagrad", "lr_decay": "0.1", "initial_accumulator_value": "0.1"},
]
SCHEDULERS = [None, {"name": "StepLR", "step_size": 3, "gamma": "0.5"}, {"name": "MultiStepLR", "milestones": [2, 6]},
              {"name": "ExponentialLR", "gamma": "0.9"}, {"name": "CosineAnnealingLR", "T_max": 4},
              {"name": "LinearLR", "start_factor": "0.5", "total_iters": 4}]
HIDDEN = ("tanh", "sigmoid", "relu", "softplus")


def cases():
    """Every optimizer x every loss (each of its output activations in turn), the scheduler rotating over none
    and the five: 49 runs, each a seeded dense net."""
    out = []
    for i, (opt, loss) in enumerate((o, l) for o in OPTIMIZERS for l in function_table.LOSSES):
        outputs = function_table.output_activations(loss)
        outputs = [a for a in outputs if a != "relu"] or outputs  # a dead output stops a run: not this test's subject
        output = outputs[i % len(outputs)]
        sched = SCHEDULERS[i % len(SCHEDULERS)]
        out.append(pytest.param(opt, sched, loss, HIDDEN[i % len(HIDDEN)], output, i,
                                id=f"{opt['name']}{i}-{sched['name'] if sched else 'none'}-{loss}-{output}"))
    return out


def model_for(opt, sched, loss, hidden, output, seed):
    rng = random.Random(seed)
    width = output_width(output, 1 + seed % 2)
    row = function_table.LOSSES[loss]

    def target():
        if row.targets == "probabilities":
            k = rng.randrange(width)
            return [int(j == k) for j in range(width)]
        if row.targets == "unit":
            return [str(sp.Rational(rng.randint(0, 10), 10)) for _ in range(width)]
        return [str(sp.Rational(rng.randint(-10, 10), 10)) for _ in range(width)]

    examples = [([str(sp.Rational(rng.randint(-10, 10), 10)) for _ in range(2)], target()) for _ in range(2)]
    model = symbackprop.dense([2, 3, width], hidden, output, loss=loss, seed=seed, examples=examples,
                              learning_rate="0.05", batch=("mean", "sum")[seed % 2])
    return dataclasses.replace(model, optimizer=optimizer(opt), scheduler=None if sched is None else scheduler(sched))


def relative(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def trace_run(model):
    trace = symbackprop.derive(model).trace(STEPS)
    names = list(model.parameters)
    params = np.array([[float(trace[f"{p}@{t}"]) for p in names] for t in range(1, STEPS + 2)])
    losses = np.array([float(trace[f"E@{t}"]) for t in range(1, STEPS + 1)])
    lrs = np.array([float(trace[f"lr@{t}"]) for t in range(1, STEPS + 1)])
    return trace, params, losses, lrs


@pytest.mark.parametrize("opt, sched, loss, hidden, output, seed", cases())
def test_trace_agrees_with_numpy_and_torch_optim(opt, sched, loss, hidden, output, seed):
    model = model_for(opt, sched, loss, hidden, output, seed)
    trace, params, losses, lrs = trace_run(model)
    runs = [numpy_training.train(model, STEPS)]
    if torch_model.available():
        from symbackprop.reference import torch_training

        runs.append(torch_training.train(model, STEPS))
    for run in runs:
        assert relative(params, run.parameters) < 1e-12
        assert relative(losses, run.losses) < 1e-12
        assert relative(lrs, run.lrs) < 1e-12
        for t in (1, STEPS):  # the optimizer's state, by its names in the trace
            for state, values in run.states[t - 1].items():
                ours = [float(trace[f"{state}_{p}@{t}"]) for p, on in zip(run.names, run.trained) if on]
                assert relative(ours, values[run.trained]) < 1e-12, (state, t)


def test_the_catalogue_covers_every_optimizer_scheduler_and_loss():
    seen = [(c.values[0]["name"], (c.values[1] or {"name": None})["name"], c.values[2]) for c in cases()]
    assert {s[0] for s in seen} == {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}
    assert {s[1] for s in seen} == {None, "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR"}
    assert {s[2] for s in seen} == set(function_table.LOSSES)


def test_adam_first_step_is_the_hand_arithmetic():
    """Adam's first step from m = v = 0 is -lr * g / (|g| + eps * sqrt(1 - beta2)) : worked by hand, exactly."""
    model = loads((DERIVATIONS / "seed004_adam.toml").read_text())
    trace = symbackprop.derive(model).trace(1)
    lr, eps = sp.Rational(1, 100), sp.Rational(1, 10**8)
    for p in model.parameters:
        g = trace[f"dE/d{p}@1"]
        assert trace[f"m_{p}@1"] == g / 10 and trace[f"v_{p}@1"] == g**2 / 1000
        assert trace[f"m_hat_{p}@1"] == g and trace[f"v_hat_{p}@1"] == g**2
        expected = -lr * g / (sp.sqrt(g**2) + eps)
        assert sp.simplify(trace[f"Delta_{p}@1"] - expected) == 0
        assert sp.simplify(trace[f"{p}@2"] - (model.parameters[p] + expected)) == 0


def test_softmax_cross_entropy_gradient_against_finite_differences():
    model = loads((DERIVATIONS / "softmax_2_3_3.toml").read_text())
    trace = symbackprop.derive(model).trace(1)
    names = list(model.parameters)
    X, Y = numpy_training.data(model)
    p0 = numpy_training.initial_parameters(model)
    from symbackprop.reference.numpy_runtime import Runtime

    loss = Runtime(model).loss
    h = 1e-6
    for j, p in enumerate(names):
        step = np.zeros(len(names))
        step[j] = h
        fd = (loss(p0 + step, X, Y) - loss(p0 - step, X, Y)) / (2 * h)
        assert abs(float(trace[f"dE/d{p}@1"]) - fd) < 1e-8, p
    # the simplification: delta_j = a_j - y_j, and equal to the Jacobian sum the trace also names
    for k, example in enumerate(model.examples, start=1):
        for o in model.outputs:
            a = trace[f"a_{o}[{k}]@1"]
            assert abs(sp.N(trace[f"delta_{o}[{k}]@1"] - (a - example.targets[o]), 50)) < 1e-45
            jacobian = sum(trace[f"dE/da_{i}[{k}]@1"] * trace[f"da_{i}/dz_{o}[{k}]@1"] for i in model.outputs)
            assert abs(sp.N(jacobian - trace[f"delta_{o}[{k}]@1"], 50)) < 1e-45


@pytest.mark.parametrize("name", ["softmax_2_3_3", "bce_2_2_1", "seed004_momentum", "seed004_adam"])
def test_new_bundled_files_round_trip_through_to_toml(name):
    model = loads((DERIVATIONS / f"{name}.toml").read_text())
    again = loads(model.to_toml())
    assert again.to_toml() == model.to_toml()
    assert (again.optimizer, again.scheduler, [e.label for e in again.examples]) == \
        (model.optimizer, model.scheduler, [e.label for e in model.examples])


def test_class_targets_are_one_hot_and_equal_torch_class_indices():
    model = loads((DERIVATIONS / "softmax_2_3_3.toml").read_text())
    assert model.examples[0].label == 1
    assert [model.examples[0].targets[o] for o in model.outputs] == [0, 1, 0]
    if not torch_model.available():
        pytest.skip("torch is not installed: the class-index form of CrossEntropyLoss needs it")
    import torch

    trace = symbackprop.derive(model).trace(0)
    t = torch_model.TorchModel(model)
    p = torch.tensor(numpy_training.initial_parameters(model), dtype=torch.float64)
    X, Y = numpy_training.data(model)
    Z, _ = t.outputs(p, torch.tensor(X))
    by_index = torch.nn.functional.cross_entropy(Z[:1], torch.tensor([1]))  # example 1 by its class index
    assert abs(float(trace["E[1]@1"]) - float(by_index)) < 1e-14


def test_scheduler_rates_are_the_closed_forms():
    """Each scheduler's exact rate against its formula worked by hand at a few steps."""
    lr0 = sp.Rational(1, 10)
    cases = [({"name": "StepLR", "step_size": 2, "gamma": "0.5"}, [lr0, lr0, lr0 / 2, lr0 / 2, lr0 / 4]),
             ({"name": "MultiStepLR", "milestones": [1, 3], "gamma": "0.1"}, [lr0, lr0 / 10, lr0 / 10, lr0 / 100]),
             ({"name": "ExponentialLR", "gamma": "0.5"}, [lr0, lr0 / 2, lr0 / 4]),
             ({"name": "CosineAnnealingLR", "T_max": 2}, [lr0, lr0 / 2, 0, lr0 / 2, lr0]),
             ({"name": "LinearLR", "start_factor": "0.5", "total_iters": 2}, [lr0 / 2, 3 * lr0 / 4, lr0, lr0])]
    for table, expected in cases:
        s = scheduler(table)
        assert [sp.simplify(s.rate(lr0, t)) for t in range(1, len(expected) + 1)] == expected, table["name"]


def test_verify_checks_optimizer_quantities_and_explains_an_averaged_momentum(tmp_path):
    """Claims on the momentum buffer, a parameter three updates on and an input's gradient, stated from the
    NumPy training reference: those of torch's rule hold; a buffer stated as an average (v <- 0.9 v + 0.1 g)
    is a mismatch the diagnosis explains as dampening = momentum."""
    import json

    from symbackprop.reference.numpy_runtime import Runtime

    source = (DERIVATIONS / "bce_2_2_1.toml").read_text()
    model = loads(source)
    torch_rule = numpy_training.train(model, 3)
    averaged = numpy_training.train(dataclasses.replace(model, optimizer=optimizer(
        {"name": "SGD", "momentum": "0.9", "dampening": "0.9"})), 3)
    j = list(model.parameters).index("w2_1_1")
    X, Y = numpy_training.data(model)
    h, p0 = 1e-6, numpy_training.initial_parameters(model)
    x1 = X.copy()
    x1[0, 0] += h
    x0 = X.copy()
    x0[0, 0] -= h
    runtime = Runtime(model)  # dE/dx1 of example 1, by central differences of example 1's own loss
    grad_x = (runtime.loss(p0, x1[:1], Y[:1]) - runtime.loss(p0, x0[:1], Y[:1])) / (2 * h)
    claims = [("buf_w2_1_1@2", averaged.states[1]["buf"][j], 4), ("w2_1_1@4", torch_rule.after[2][j], 4),
              ("dE/dx1[1]", grad_x, 4), ("buf_w2_1_1@3", torch_rule.states[2]["buf"][j], 5)]
    text = source + "".join(f'\n[[claims]]\nquantity = "{q}"\nstated = "{v:.{d}f}"\nsource = "x.txt:{i}"\nquote = "-"\n'
                            for i, (q, v, d) in enumerate(claims, 1))
    path = tmp_path / "momentum.toml"
    path.write_text(text)
    report = json.loads(symbackprop.api.report([symbackprop.verify(path)], "json"))
    results = {r["quantity"]: r for r in report[0]["claims"]}
    assert [results[q]["status"] for q, _, _ in claims] == ["mismatch", "holds", "holds", "holds"]
    assert any("dampening = momentum" in line for line in results["buf_w2_1_1@2"]["diagnosis"])
