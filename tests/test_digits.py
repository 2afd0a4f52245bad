"""A real data set end to end: scikit-learn's digits, the program of examples/digits.py read by from_torch, trained
50 epochs by the compiled module alone, against the same program's loop in torch float64 written here (docs/digits.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

torch = pytest.importorskip("torch", reason="the program is a PyTorch program (the torch extra)")
pytest.importorskip("sklearn", reason="the digits ship with scikit-learn (the data extra)")

from examples import digits  # noqa: E402 - after the skips: it imports torch and scikit-learn

EPOCHS = 50


def torch_float64(X, y, epochs):
    """The program's training loop in torch float64, as a PyTorch user writes it, from the program's float32 weights
    widened exactly: (each step's loss, the trained network)."""
    net = digits.network().double()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for epoch in range(epochs):
        for rows in digits.minibatches(len(X), epoch):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(X[rows])), torch.from_numpy(y[rows]))
            losses.append(loss.item())
            loss.backward()
            optimizer.step()
    return np.array(losses), net


def by_name(net) -> dict[str, float]:
    """The torch network's parameters under from_torch's names (docs/from_torch.md): w{l}_{j}_{i} = weight[j-1, i-1]."""
    out = {}
    for l, layer in enumerate((m for m in net if isinstance(m, torch.nn.Linear)), start=1):
        for j, row in enumerate(layer.weight.detach().tolist(), start=1):
            out.update({f"w{l}_{j}_{i}": v for i, v in enumerate(row, start=1)})
        out.update({f"b{l}_{j}": v for j, v in enumerate(layer.bias.detach().tolist(), start=1)})
    return out


@pytest.fixture(scope="module")
def data():
    return digits.data()


@pytest.fixture(scope="module")
def trained(data):
    X, y, _, _ = data
    f, _ = digits.compiled(digits.program())
    params, losses = digits.train(f, X, y, EPOCHS)
    return f, params, np.array(losses)


@pytest.fixture(scope="module")
def reference(data):
    X, y, _, _ = data
    return torch_float64(X, y, EPOCHS)


def test_the_data_is_the_bundled_digits(data):
    X, y, X_test, y_test = data
    assert (len(X), len(X_test)) == (1437, 360) and X.shape[1] == 64
    assert set(np.unique(np.concatenate([y, y_test]))) == set(range(10))
    assert np.all((X * 16 == np.round(X * 16)) & (X >= 0) & (X <= 1))  # k/16: exact in binary


def test_the_compiled_module_starts_from_torchs_float32_weights(trained):
    f, _, _ = trained
    start = by_name(digits.network())
    assert len(f.parameters) == 64 * 32 + 32 + 32 * 10 + 10 == len(start)
    assert np.array_equal(f.initial, [start[name] for name in f.parameters])


def test_fifty_epochs_equal_torch_float64_loss_by_loss_and_parameter_by_parameter(trained, reference):
    f, params, losses = trained
    torch_losses, net = reference
    assert len(losses) == EPOCHS * 45  # 1437 images in minibatches of 32: 44 full and one of 29, each epoch
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-10, atol=0)
    expected = by_name(net)
    np.testing.assert_allclose(params, [expected[name] for name in f.parameters], rtol=1e-10, atol=0)
    assert torch_losses[-45:].mean() < torch_losses[:45].mean() / 100  # it learned: not a run that went nowhere


def test_test_accuracy_is_torchs(trained, reference, data):
    _, params, _ = trained
    _, net = reference
    _, _, X_test, y_test = data
    ours = digits.predict(params, X_test)
    theirs = net(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    assert np.array_equal(ours, theirs)
    assert np.mean(ours == y_test) > 0.9


def test_from_the_command_line_the_standalone_module_trains_the_same(run_cli, tmp_path, trained, data):
    """from-torch writes the program as a file, compile writes its numpy-only module, and the example script trains
    with it: what it prints is what the in-process run above computes."""
    toml, module = tmp_path / "digits.toml", tmp_path / "digits_grad.py"
    done = run_cli("from-torch", "examples.digits:program", "-o", str(toml))
    assert done.returncode == 0, done.stderr
    done = run_cli("compile", str(toml), "-o", str(module))
    assert done.returncode == 0, done.stderr
    assert "numba" not in module.read_text().split('"""')[2]  # the default export needs numpy alone
    epochs = 2
    run = subprocess.run([sys.executable, "examples/digits.py", "--module", str(module), "--epochs", str(epochs),
                          "--against-torch"], capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    f, _ = digits.compiled(digits.program())
    X, y, X_test, y_test = data
    params, losses = digits.train(f, X, y, epochs)
    printed = dict(re.findall(r"epoch +(\d+): mean minibatch loss ([\d.]+)", run.stdout))
    assert {int(k): float(v) for k, v in printed.items()} == {
        e + 1: round(float(np.mean(losses[e * 45:(e + 1) * 45])), 6) for e in range(epochs)}
    correct = int(np.sum(digits.predict(params, X_test) == y_test))
    assert f"({correct} of 360 held-out images)" in run.stdout
    gaps = re.search(r"losses ([\d.e+-]+), parameters ([\d.e+-]+)", run.stdout)
    assert gaps and max(float(gaps[1]), float(gaps[2])) < 1e-10, run.stdout
