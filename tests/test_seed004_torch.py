"""Seed 004's PyTorch program, run as written, and symbackprop's exact trace and compiled module beside it.

The program: nn.Linear(2, 2), ReLU, nn.Linear(2, 1), MSELoss, SGD(lr=0.01), inputs [[1, 2], [3, 4]],
targets [[1], [2]] (float64, CPU, fixed seed). Its initial weights are read exactly (every float64
is a rational) into a derivation file. The exact trace is compared for 1 and 5 steps: exact
rationals triple their digits each step here (the update is cubic in the weights), so 100 exact
steps would carry ~10^47 digits; the compiled module is compared for 1 and 100 steps.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symbackprop

torch = pytest.importorskip("torch", reason="PyTorch is an optional extra: pip install 'symbackprop[torch]'")

X = [[1.0, 2.0], [3.0, 4.0]]
Y = [[1.0], [2.0]]


def torch_program(steps: int, seed: int = 0):
    """The seed's program; returns the initial and trained (W1, b1, W2, b2) as float64 arrays."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1)).double()
    initial = [p.detach().numpy().copy() for p in net.parameters()]
    loss_fn, opt = torch.nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.01)
    inputs, targets = torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(net(inputs), targets).backward()
        opt.step()
    return initial, [p.detach().numpy().copy() for p in net.parameters()]


def as_vector(W1, b1, W2, b2) -> np.ndarray:
    """torch's tensors in symbackprop's dense() parameter order: each neuron's weights, then its bias."""
    return np.concatenate([np.column_stack([W1, b1]).ravel(), np.column_stack([W2, b2]).ravel()])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    (W1, b1, W2, b2), _ = torch_program(0)
    exact = [[[sp.Rational(v) for v in row] for row in W] for W in (W1, W2)]
    model = symbackprop.dense([2, 2, 1], activation="relu", output_activation="identity", loss="mse", weights=exact,
                              biases=[[sp.Rational(v) for v in b] for b in (b1, b2)], examples=[([1, 2], [1]), ([3, 4], [2])],
                              learning_rate="0.01", title="seed 004: PyTorch nn.Linear(2, 2), ReLU, nn.Linear(2, 1)")
    path = tmp_path_factory.mktemp("seed004") / "seed004_torch.toml"
    path.write_text(model.to_toml())
    loaded = symbackprop.load(path)
    assert loaded.parameters == model.parameters  # the file holds torch's floats exactly
    return path


@pytest.mark.parametrize("steps", [1, 5])
def test_exact_trace_equals_torch(model_file, steps):
    _, trained = torch_program(steps)
    trace = symbackprop.derive(symbackprop.load(model_file)).trace(steps)
    exact = np.array([float(trace[f"{p}@{steps + 1}"]) for p in symbackprop.load(model_file).parameters])
    np.testing.assert_allclose(exact, as_vector(*trained), rtol=0, atol=1e-12)


@pytest.mark.parametrize("steps", [1, 100])
def test_compiled_module_equals_torch(model_file, steps, tmp_path, run_cli):
    out = tmp_path / "seed004_gradients.py"
    assert run_cli("compile", str(model_file), "-o", str(out)).returncode == 0
    namespace: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)
    initial, trained = torch_program(steps)
    params = namespace["INITIAL"]
    np.testing.assert_array_equal(params, as_vector(*initial))
    for _ in range(steps):
        params = namespace["step"](params, X, Y)
    np.testing.assert_allclose(params, as_vector(*trained), rtol=0, atol=1e-12)
    # and the loss torch reports, for the trained weights
    assert namespace["loss"](params, X, Y) == pytest.approx(
        float(np.mean((np.maximum(np.array(X) @ trained[0].T + trained[1], 0) @ trained[2].T + trained[3] - Y) ** 2)), rel=1e-12)
