"""from_torch with a learning-rate scheduler: each of torch.optim.lr_scheduler's five that the format has, read from the
object, against the same program trained by torch float64 (torch.optim and the scheduler themselves) step by step;
the refusals in one line (docs/from_torch.md)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import sympy as sp

import symbackprop

torch = pytest.importorskip("torch", reason="from_torch reads PyTorch programs (the torch extra)")
from torch import nn  # noqa: E402
from torch.optim import lr_scheduler  # noqa: E402

STEPS = 5
RTOL = 1e-12
SCHEDULERS = {  # name -> (the optimizer and its settings, the scheduler built on it)
    "StepLR": ((torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}), lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    "MultiStepLR": ((torch.optim.SGD, {"lr": 0.1}), lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, 3, 3], gamma=0.7)),
    "ExponentialLR": ((torch.optim.Adam, {"lr": 0.05}), lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9)),
    "CosineAnnealingLR": ((torch.optim.SGD, {"lr": 0.2, "nesterov": True, "momentum": 0.5}),
                          lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.001)),
    "LinearLR": ((torch.optim.AdamW, {"lr": 0.02}),
                 lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=3)),
}


def program(name: str):
    torch.manual_seed(sorted(SCHEDULERS).index(name))
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x, y = torch.randn(4, 3), torch.randn(4, 2)
    (kind, settings), build = SCHEDULERS[name]
    optimizer = kind(net.parameters(), **settings)
    return net, x, y, optimizer, build(optimizer)


def torch_float64(name: str):
    """The program's loop in float64 from the same float32 weights: each step's rate and the parameters after it."""
    net, x, y, _, _ = program(name)
    net = copy.deepcopy(net).double()
    (kind, settings), build = SCHEDULERS[name]
    optimizer = kind(net.parameters(), **settings)
    scheduler = build(optimizer)
    rates, after = [], []
    for _ in range(STEPS):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.zero_grad()
        nn.functional.mse_loss(net(x.double()), y.double()).backward()
        optimizer.step()
        scheduler.step()
        after.append({k: v.detach().clone() for k, v in net.named_parameters()})
    return rates, after


def name_of(fqn: str, index: tuple[int, ...]) -> str:
    layer = {"0": 1, "2": 2}[fqn.split(".")[0]]
    return f"w{layer}_{index[0] + 1}_{index[1] + 1}" if len(index) == 2 else f"b{layer}_{index[0] + 1}"


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_the_exact_trace_and_the_compiled_module_follow_torchs_scheduler(name):
    net, x, y, optimizer, scheduler = program(name)
    model = symbackprop.from_torch(net, x, y, nn.MSELoss(), optimizer, scheduler, iterations=STEPS)
    assert model.scheduler.name == name
    rates, after = torch_float64(name)
    d = symbackprop.derive(model)
    trace = d.trace(STEPS)
    f = symbackprop.compile(d)
    params, state = f.initial, f.init_state()
    errors = []
    for t in range(1, STEPS + 1):
        assert abs(float(trace[f"lr@{t}"]) - rates[t - 1]) <= RTOL * rates[t - 1], (t, trace[f"lr@{t}"], rates[t - 1])
        assert abs(state["lr"] - rates[t - 1]) <= RTOL * rates[t - 1]
        params, state = f.step(params, state, f.X, f.Y)
        for fqn, tensor in after[t - 1].items():
            for index in np.ndindex(*tensor.shape):
                expected = float(tensor[index])
                errors.append(abs(float(trace[f"{name_of(fqn, index)}@{t + 1}"]) - expected) / max(abs(expected), 1e-3))
                errors.append(abs(params[f.parameters.index(name_of(fqn, index))] - expected) / max(abs(expected), 1e-3))
    assert max(errors) < RTOL, (name, max(errors))


def test_the_file_states_the_scheduler_and_round_trips(tmp_path):
    net, x, y, optimizer, scheduler = program("MultiStepLR")
    model = symbackprop.from_torch(net, x, y, nn.MSELoss(), optimizer, scheduler)
    text = model.to_toml()
    assert '[scheduler]\nname = "MultiStepLR"' in text and "milestones = [1, 3, 3]" in text
    assert '[optimizer]\nname = "SGD"' in text  # plain SGD stays a table: a [scheduler] needs one
    assert "Scheduler: MultiStepLR(milestones=[1, 3, 3], gamma=0.7), stepped after each optimizer step." in model.notes
    path = tmp_path / "m.toml"
    symbackprop.api.write_model(model, path)
    assert symbackprop.load(path).to_toml() == text


def refusal(optimizer, scheduler) -> str:
    net = nn.Sequential(nn.Linear(2, 1))
    with pytest.raises(symbackprop.InputError) as e:
        symbackprop.from_torch(net, torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0]]), nn.MSELoss(),
                               optimizer(net) if optimizer else None, scheduler)
    line = e.value.line()
    assert "\n" not in line
    return line


def test_schedulers_it_cannot_read_are_refused_in_one_line():
    sgd = lambda net: torch.optim.SGD(net.parameters(), lr=0.1)  # noqa: E731
    net = nn.Sequential(nn.Linear(2, 1))
    own = torch.optim.SGD(net.parameters(), lr=0.1)
    lambda_lr = lr_scheduler.LambdaLR(own, lambda k: 0.5 ** k)
    assert refusal(sgd, lambda_lr).startswith("scheduler: LambdaLR is not a scheduler symbackprop reads; expected one of StepLR")
    assert refusal(sgd, lr_scheduler.StepLR(own, step_size=1)).startswith(
        "scheduler.optimizer: StepLR is attached to another optimizer than the one given")
    assert refusal(None, lr_scheduler.StepLR(own, step_size=1)).startswith(
        "scheduler.optimizer: StepLR given without its optimizer; expected the optimizer it schedules")
    stepped = lr_scheduler.ExponentialLR(own, gamma=0.9)
    own.step()
    stepped.step()
    with pytest.raises(symbackprop.InputError) as e:
        symbackprop.from_torch(net, torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0]]), nn.MSELoss(), own, stepped)
    assert e.value.line().startswith("scheduler.last_epoch: ExponentialLR has stepped already (last_epoch = 1)")

    def attached(net):
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        lr_scheduler.StepLR(opt, step_size=1)
        return opt

    assert refusal(attached, None).startswith("optimizer.param_groups[0].initial_lr: SGD has a learning-rate scheduler "
                                              "attached (initial_lr); expected it passed too, as scheduler")


SCHEDULED = '''
import torch
from torch import nn

def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    return {"module": net, "inputs": torch.tensor([[1.0, 2.0]]), "targets": torch.tensor([[1.0]]),
            "loss": nn.MSELoss(), "optimizer": optimizer, "iterations": 3,
            "scheduler": torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)}
'''


def test_the_command_reads_a_programs_scheduler(run_cli, tmp_path):
    (tmp_path / "scheduled.py").write_text(SCHEDULED)
    done = run_cli("from-torch", "scheduled:main", "-o", str(tmp_path / "out.toml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    model = symbackprop.load(tmp_path / "out.toml")
    assert model.scheduler.name == "StepLR" and model.iterations == 3
    trace = symbackprop.derive(model).trace(3)
    assert [trace[f"lr@{t}"] for t in (1, 2, 3)] == [sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 8)]
