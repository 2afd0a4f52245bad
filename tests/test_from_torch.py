"""PyTorch programs in: ``from_torch`` over a catalogue of modules, each against torch's own autograd (float64 copies
of the same float32 weights) to 1e-12, optimizer steps against torch.optim, seed 004's program as the bundled
derivations/seed004_torch.toml (byte for byte, and its exact trace against torch after 1 and 5 steps), and the
refusals: one line, exit 2, naming the op and the module path."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import sympy as sp
from conftest import DERIVATIONS, ROOT

import symbackprop

torch = pytest.importorskip("torch", reason="PyTorch is an optional extra: pip install 'symbackprop[torch]'")
nn, F = torch.nn, torch.nn.functional
BUNDLED = DERIVATIONS / "seed004_torch.toml"
RTOL = 1e-12


class Functional(nn.Module):
    """A custom forward: torch.relu, F.sigmoid, torch.tanh (the functional forms)."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(3, 4), nn.Linear(4, 3), nn.Linear(3, 2)

    def forward(self, x):
        return torch.tanh(self.fc3(F.sigmoid(self.fc2(torch.relu(self.fc1(x))))))


class Modules(nn.Module):
    """The module forms, one per layer: nn.LeakyReLU (its default slope), nn.Softplus, nn.Sigmoid."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(), nn.Linear(3, 3), nn.Softplus())
        self.out = nn.Linear(3, 1)
        self.act = nn.Sigmoid()

    def forward(self, x):
        return self.act(self.out(self.hidden(x)))


class Matrices(nn.Module):
    """Parameters used by hand: ``x @ W.t() + b`` (t, matmul, add), a weight without a module, and tanh."""

    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(torch.randn(3, 2) * 0.5)
        self.b = nn.Parameter(torch.randn(3) * 0.1)
        self.head = nn.Linear(3, 2, bias=False)

    def forward(self, x):
        return self.head(torch.tanh(x @ self.W.t() + self.b))


class Shared(nn.Module):
    """One module called twice: its weights are one set of shared parameters."""

    def __init__(self):
        super().__init__()
        self.fc, self.out = nn.Linear(2, 2), nn.Linear(2, 1)

    def forward(self, x):
        return self.out(torch.relu(self.fc(torch.relu(self.fc(x)))))


def X(*rows):
    return torch.tensor(rows)


CATALOGUE = {  # name -> (build the module, inputs, targets, loss, optimizer class and settings, the Linear calls' paths)
    "sequential_relu": (lambda: nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)), X([0.5, -1.0], [2.0, 0.25]),
                        X([1.0], [-0.5]), nn.MSELoss(), (torch.optim.SGD, {"lr": 0.1}), ["0", "2"]),
    "sequential_no_bias": (lambda: nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 2, bias=False)),
                           X([0.3, 0.7], [-1.5, 2.0], [1.0, 1.0]), X([1.0, 0.0], [0.5, -0.5], [0.2, 0.1]),
                           nn.MSELoss(reduction="sum"), (torch.optim.SGD, {"lr": 0.05}), ["0", "2"]),
    "functional": (Functional, X([0.1, 0.2, 0.3], [-0.4, 0.5, -0.6]), X([0.5, -0.5], [0.0, 1.0]), nn.MSELoss(),
                   (torch.optim.SGD, {"lr": 0.1}), ["fc1", "fc2", "fc3"]),
    "modules_bce": (Modules, X([1.0, -2.0], [0.5, 0.5]), X([1.0], [0.0]), nn.BCELoss(), (torch.optim.SGD, {"lr": 0.5}),
                    ["hidden.0", "hidden.2", "out"]),
    "softmax_cross_entropy_adam": (lambda: nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3)),
                                   X([0.5, 1.0], [-1.0, 0.5], [2.0, -0.5]), torch.tensor([0, 2, 1]), nn.CrossEntropyLoss(),
                                   (torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}), ["0", "2"]),
    "bce_logits_momentum": (lambda: nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)), X([1.0, 2.0], [-1.0, 0.5]),
                            X([1.0], [0.0]), nn.BCEWithLogitsLoss(),
                            (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
                            ["0", "2"]),
    "log_softmax_nll_sum": (lambda: nn.Sequential(nn.Linear(2, 3), nn.LogSoftmax(dim=1)), X([1.0, 0.0], [0.0, 1.0]),
                            torch.tensor([2, 0]), nn.NLLLoss(reduction="sum"), (torch.optim.SGD, {"lr": 0.1}), ["0"]),
    "matrices_probabilities": (Matrices, X([0.5, -0.5], [1.0, 2.0]), X([0.25, 0.75], [1.0, 0.0]), nn.CrossEntropyLoss(),
                               (torch.optim.AdamW, {"lr": 0.01}), [("W", "b"), "head"]),
    "shared_module": (Shared, X([1.0, 0.5], [-0.5, 2.0]), X([1.0], [2.0]), nn.MSELoss(), (torch.optim.SGD, {"lr": 0.01}),
                      ["fc", "fc", "out"]),
}


def names(module, layers: list) -> dict[str, tuple[str, tuple[int, ...]]]:
    """symbackprop's name of every torch parameter entry, by dense()'s scheme over the linear calls in order
    (an entry used twice keeps its first name): the test's own reading of docs/from_torch.md. A layer is a
    module path (its .weight and .bias) or a (weight, bias) pair of parameter names."""
    params, out, seen = dict(module.named_parameters()), {}, set()
    for l, layer in enumerate(layers, start=1):
        weight, bias = layer if isinstance(layer, tuple) else (f"{layer}.weight", f"{layer}.bias")
        entries = [(weight, (j, i), f"w{l}_{j + 1}_{i + 1}") for j in range(params[weight].shape[0])
                   for i in range(params[weight].shape[1])]
        entries += [(bias, (j,), f"b{l}_{j + 1}") for j in range(len(params[bias]))] if bias in params else []
        for fqn, index, name in entries:
            if (fqn, index) not in seen:
                seen.add((fqn, index))
                out[name] = (fqn, index)
    return out


def torch_run(module, inputs, targets, loss, optimizer, steps: int):
    """torch itself in float64 from the same (float32) weights: the loss and gradients at the start, the parameters
    after ``steps`` optimizer steps."""
    net = copy.deepcopy(module).double()
    x, y = inputs.double(), targets.double() if targets.is_floating_point() else targets
    kind, settings = optimizer
    opt = kind(net.parameters(), **settings)
    start = loss(net(x), y)
    start.backward()
    grads = {n: p.grad.clone() for n, p in net.named_parameters()}
    opt.step()
    for _ in range(steps - 1):
        opt.zero_grad()
        loss(net(x), y).backward()
        opt.step()
    return float(start.detach()), grads, dict(net.named_parameters())


def close(exact, expected: float) -> float:
    """The relative error of an exact value against torch's float64 (an absolute one near zero)."""
    return abs(float(exact) - expected) / max(abs(expected), 1e-3)


@pytest.fixture(scope="module", params=sorted(CATALOGUE))
def case(request):
    build, inputs, targets, loss, (kind, settings), paths = CATALOGUE[request.param]
    torch.manual_seed(sorted(CATALOGUE).index(request.param))
    module = build()
    model = symbackprop.from_torch(module, inputs, targets, loss, kind(module.parameters(), **settings), iterations=2)
    return request.param, module, model


def test_loss_and_gradients_equal_torch_autograd(case):
    name, module, model = case
    _, inputs, targets, loss, optimizer, paths = CATALOGUE[name]
    value, grads, _ = torch_run(module, inputs, targets, loss, optimizer, 1)
    mapping = names(module, paths)
    assert set(mapping) == set(model.parameters)
    trace = symbackprop.derive(model).trace(1)
    errors = [close(trace["E"], value)]
    for p, (fqn, index) in mapping.items():
        assert model.parameters[p] == sp.Rational(float(module.get_parameter(fqn)[index].detach()))  # the binary value, exactly
        errors.append(close(trace[f"dE/d{p}"], float(grads[fqn][index])))
    assert max(errors) < RTOL, (name, max(errors))


def test_optimizer_steps_equal_torch_optim(case):
    """Two steps of the optimizer read from param_groups (SGD with momentum, Nesterov and weight decay; Adam; AdamW)."""
    name, module, model = case
    _, inputs, targets, loss, optimizer, paths = CATALOGUE[name]
    _, _, trained = torch_run(module, inputs, targets, loss, optimizer, 2)
    trace = symbackprop.derive(model).trace(2)
    errors = [close(trace[f"{p}@3"], float(trained[fqn][index].detach())) for p, (fqn, index) in names(module, paths).items()]
    assert max(errors) < RTOL, (name, max(errors))


def test_the_file_round_trips(case, tmp_path):
    _, _, model = case
    path = tmp_path / "m.toml"
    symbackprop.api.write_model(model, path)
    again = symbackprop.load(path)
    assert again.parameters == model.parameters and again.examples == model.examples
    assert again.to_toml() == model.to_toml()


# --- seed 004's program, as written -------------------------------------------------------------------------


def seed004():
    sys.path.insert(0, str(ROOT))
    from examples.seed004_program import seed004 as program

    return program()


def test_the_bundled_file_is_the_command_output_byte_for_byte(run_cli, tmp_path):
    out = tmp_path / "seed004_torch.toml"
    done = run_cli("from-torch", "examples.seed004_program:seed004", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == BUNDLED.read_bytes()


@pytest.mark.parametrize("steps", [1, 5])
def test_seed004_exact_trace_equals_the_program_in_float64(steps):
    objects = seed004()
    net = objects["module"].double()  # the same float32 weights, widened exactly
    x, y = objects["inputs"].double(), objects["targets"].double()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        value = objects["loss"](net(x), y)
        losses.append(float(value.detach()))
        value.backward()
        opt.step()
    model = symbackprop.load(BUNDLED)
    trace = symbackprop.derive(model).trace(steps)
    mapping = names(objects["module"], ["fc1", "fc2"])
    params = dict(net.named_parameters())
    errors = [close(trace[f"{p}@{steps + 1}"], float(params[fqn][index].detach())) for p, (fqn, index) in mapping.items()]
    errors += [close(trace[f"E@{t + 1}"], losses[t]) for t in range(steps)]
    assert max(errors) < RTOL, max(errors)


# --- refusals ------------------------------------------------------------------------------------------------


class Sine(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x):
        return torch.sin(self.fc(x))


class Branch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return torch.relu(self.fc(x))


class Convolution(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 2)

    def forward(self, x):
        return self.conv(x.unsqueeze(1)).squeeze(1)


def refusal(module, loss=None, optimizer=None, targets=None):
    with pytest.raises(symbackprop.InputError) as e:
        symbackprop.from_torch(module, X([1.0, 2.0]), X([1.0]) if targets is None else targets, loss or nn.MSELoss(),
                               optimizer)
    line = e.value.line()
    assert "\n" not in line
    return line


def test_an_unsupported_op_is_named_with_its_module_path():
    assert refusal(Sine()).startswith("Sine.forward at test_from_torch.py:")
    assert "aten.sin.default is not an operation symbackprop reads" in refusal(Sine())
    line = refusal(Convolution())
    assert "aten.unsqueeze.default" in line or "aten.conv1d.default" in line, line


def test_data_dependent_control_flow_is_refused():
    line = refusal(Branch())
    assert line.startswith("Branch.forward: data-dependent control flow at test_from_torch.py:") and "if x.sum() > 0" in line


def test_a_slope_the_table_does_not_have_is_refused():
    line = refusal(nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.2), nn.Linear(2, 1)))
    assert line.startswith("1 (LeakyReLU): aten.leaky_relu.default with negative_slope = 0.2; expected 0.01"), line


def test_parameter_groups_that_differ_are_refused():
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    opt = torch.optim.SGD([{"params": net[0].parameters()}, {"params": net[2].parameters(), "lr": 0.1}], lr=0.01)
    line = refusal(net, optimizer=opt)
    assert line.startswith("optimizer.param_groups[1].lr: param_groups[1].lr = 0.1 differs from param_groups[0].lr = 0.01")
    same = torch.optim.SGD([{"params": net[0].parameters()}, {"params": net[2].parameters()}], lr=0.01)
    assert symbackprop.from_torch(net, X([1.0, 2.0]), X([1.0]), nn.MSELoss(), same).trained is None


def test_frozen_parameters_are_not_trained():
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    net[0].bias.requires_grad_(False)
    model = symbackprop.from_torch(net, X([1.0, 2.0]), X([1.0]), nn.MSELoss(), torch.optim.SGD(net[2].parameters(), lr=0.1))
    assert model.trained == ["w2_1_1", "w2_1_2", "b2_1"]


def test_losses_and_settings_it_cannot_read_are_refused():
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    assert refusal(net, loss=nn.L1Loss()).startswith("loss: L1Loss is not a loss symbackprop reads")
    assert refusal(net, loss=nn.MSELoss(reduction="none")).startswith("loss.reduction: MSELoss(reduction='none')")
    assert refusal(net, targets=X(1.0)).startswith("targets: targets of shape (1,) for 1 outputs; expected the outputs' shape")
    assert "maximize" in refusal(net, optimizer=torch.optim.SGD(net.parameters(), lr=0.1, maximize=True))
    assert "amsgrad" in refusal(net, optimizer=torch.optim.Adam(net.parameters(), amsgrad=True))
    soft = nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=-1))
    assert "CrossEntropyLoss takes logits" in refusal(soft, loss=nn.CrossEntropyLoss(), targets=torch.tensor(1))


PROGRAM = '''
import torch
from torch import nn

class Sine(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)
    def forward(self, x):
        return torch.sin(self.fc(x))

def sine():
    return Sine(), torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0]]), nn.MSELoss()

def three():
    return 1, 2, 3

def good():
    net = nn.Sequential(nn.Linear(2, 1))
    return {"module": net, "inputs": torch.tensor([[1.0, 2.0]]), "targets": torch.tensor([[1.0]]), "loss": nn.MSELoss()}

not_callable = 42
'''


@pytest.mark.parametrize("spec, expected", [
    ("nocolon", "symbackprop: error: PROGRAM: 'nocolon': expected package.module:function (as uvicorn app:main)"),
    ("userprog:sine", "symbackprop: error: userprog:sine: Sine.forward at userprog.py:10: aten.sin.default is not an "
                      "operation symbackprop reads"),
])
def test_the_command_refuses_in_one_line(run_cli, tmp_path, spec, expected):
    (tmp_path / "userprog.py").write_text(PROGRAM)
    done = run_cli("from-torch", spec, "-o", str(tmp_path / "out.toml"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(expected), done.stderr
    assert not (tmp_path / "out.toml").exists()


@pytest.mark.parametrize("spec, expected", [
    ("no_such_module:f", "no_such_module:f: no module named 'no_such_module' (looked in the current directory"),
    ("userprog:missing", "userprog:missing: module userprog has no attribute 'missing'; expected a function returning"),
    ("userprog:not_callable", "userprog:not_callable: not_callable is a int, not callable"),
    ("userprog:three", "userprog:three: the function returned a tuple of 3; expected a function returning (module, "),
    ("userprog:", "PROGRAM: 'userprog:': expected package.module:function"),
    ("user-prog:f", "PROGRAM: 'user-prog:f': expected package.module:function"),
])
def test_bad_programs_are_one_line(tmp_path, monkeypatch, spec, expected):
    (tmp_path / "userprog.py").write_text(PROGRAM)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "userprog", raising=False)
    with pytest.raises(symbackprop.InputError) as e:
        symbackprop.api.from_torch_program(spec)
    assert e.value.line().startswith(expected) and "\n" not in e.value.line(), e.value.line()
    sys.modules.pop("userprog", None)


def test_the_command_imports_from_the_current_directory_and_keeps_its_input(run_cli, tmp_path):
    (tmp_path / "userprog.py").write_text(PROGRAM)
    done = run_cli("from-torch", "userprog:good", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert symbackprop.api.load(_written(tmp_path, done.stdout)).parameters.keys() == {"w1_1_1", "w1_1_2", "b1_1"}
    over = run_cli("from-torch", "userprog:good", "-o", "userprog.py", cwd=tmp_path)
    assert over.returncode == 2 and "is the input file" in over.stderr
    assert (tmp_path / "userprog.py").read_text() == PROGRAM


def test_the_help_says_how_the_program_is_imported(capsys):
    from symbackprop import cli

    with pytest.raises(SystemExit):
        cli.main(["from-torch", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "as uvicorn imports app:main (the current directory first on sys.path)" in text


def _written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "written.toml"
    path.write_text(text)
    return path
