"""A real data set: scikit-learn's handwritten digits (1,797 8x8 images, shipped with scikit-learn, no download),
learned by a PyTorch program's network whose gradients symbackprop compiles.

The program is what an engineer writes: ``nn.Sequential(Linear(64, 32), ReLU(), Linear(32, 10))`` after
``torch.manual_seed(0)``, ``CrossEntropyLoss``, ``SGD(lr=0.1, momentum=0.9)``, minibatches of 32 reshuffled every
epoch. ``symbackprop.from_torch`` reads it (float32 weights as their exact decimals), ``symbackprop.compile`` gives
the float64 module, and ``train`` runs the 50 epochs on it alone: ``f.step(params, state, X, Y)`` per minibatch.
``--against-torch`` runs the same program in torch float64 on the same minibatches and prints how far apart
the two are; ``--module`` trains with a module ``symbackprop compile`` wrote instead (numpy alone). docs/digits.md
says what was measured.

    python examples/digits.py [--epochs 50] [--against-torch]
    symbackprop from-torch examples.digits:program -o digits.toml   # the program as a derivation file
    symbackprop compile digits.toml -o digits_grad.py               # its gradients as a standalone module
    python examples/digits.py --module digits_grad.py

Needs the torch and data extras (``pip install 'symbackprop[torch,data]'``: scikit-learn).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import time
from types import SimpleNamespace

import numpy as np
import torch
from sklearn.datasets import load_digits

import symbackprop

BATCH = 32
TEST = 360  # images held out, a fifth of the set
SPLIT_SEED = 0  # which images are held out
SHUFFLE_SEED = 1000  # epoch e's order: numpy's default_rng(SHUFFLE_SEED + e)
CLASSES = 10
SIZES = (64, 32, CLASSES)  # pixels, the hidden layer, the classes


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test): pixels scaled from 0..16 to 0..1 (k/16, exact in binary), class labels."""
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(SPLIT_SEED).permutation(len(X))
    test, train = order[:TEST], order[TEST:]
    return X[train], y[train], X[test], y[test]


def minibatches(examples: int, epoch: int) -> list[np.ndarray]:
    """Epoch ``epoch``'s minibatches (row indices), a fresh shuffle each epoch; the last one is smaller."""
    order = np.random.default_rng(SHUFFLE_SEED + epoch).permutation(examples)
    return [order[i:i + BATCH] for i in range(0, examples, BATCH)]


def network() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(*SIZES[:2]), torch.nn.ReLU(), torch.nn.Linear(*SIZES[1:]))


def program() -> dict:
    """The program's objects before it trains, for from_torch and ``symbackprop from-torch``: the network, its
    first minibatch as the derivation's examples, the loss and the optimizer."""
    net = network()
    X, y, _, _ = data()
    first = minibatches(len(X), 0)[0]
    return {
        "module": net,
        "inputs": torch.tensor(X[first], dtype=torch.float32),
        "targets": torch.tensor(y[first]),
        "loss": torch.nn.CrossEntropyLoss(),
        "optimizer": torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
        "title": "Digits: Linear(64, 32), relu, Linear(32, 10), CrossEntropyLoss, SGD(lr=0.1, momentum=0.9)",
        "source": "examples/digits.py, through symbackprop from-torch examples.digits:program",
        "notes": "scikit-learn's digits, pixels / 16; the examples below are the first minibatch of 32 training images.",
    }


def compiled(objects: dict):
    """The program read by from_torch, derived and compiled: (the Compiled module, seconds for each stage)."""
    seconds = {}
    start = time.perf_counter()
    model = symbackprop.from_torch(objects["module"], objects["inputs"], objects["targets"], objects["loss"],
                                   objects["optimizer"], title=objects["title"], source=objects["source"])
    seconds["from_torch"] = time.perf_counter() - start
    start = time.perf_counter()
    d = symbackprop.derive(model)
    seconds["derive"] = time.perf_counter() - start
    start = time.perf_counter()
    f = symbackprop.compile(d)
    seconds["compile"] = time.perf_counter() - start
    return f, seconds


def standalone(path: str) -> SimpleNamespace:
    """A module written by ``symbackprop compile``, imported from its path, with the names ``train`` uses."""
    spec = importlib.util.spec_from_file_location("digits_gradients", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return SimpleNamespace(initial=module.INITIAL, init_state=module.init_state, loss=module.loss, step=module.step,
                           parameters=module.PARAMETERS)


def train(f, X: np.ndarray, y: np.ndarray, epochs: int) -> tuple[np.ndarray, list[float]]:
    """``epochs`` epochs of minibatch steps on the compiled module alone: (the final parameters, each step's
    minibatch loss before its step)."""
    Y = np.eye(CLASSES)[y]  # the file's targets are one probability row per example (CrossEntropyLoss's classes)
    params, state, losses = f.initial, f.init_state(), []
    for epoch in range(epochs):
        for rows in minibatches(len(X), epoch):
            losses.append(f.loss(params, X[rows], Y[rows]))
            params, state = f.step(params, state, X[rows], Y[rows])
    return params, losses


def train_torch(net: torch.nn.Module, X: np.ndarray, y: np.ndarray, epochs: int) -> tuple[torch.nn.Module, list[float]]:
    """The program's own loop in float64, from ``net``'s starting weights, on the same minibatches."""
    net = copy.deepcopy(net).double()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    criterion = torch.nn.CrossEntropyLoss()
    inputs, targets, losses = torch.tensor(X, dtype=torch.float64), torch.tensor(y), []
    for epoch in range(epochs):
        for rows in minibatches(len(X), epoch):
            optimizer.zero_grad()
            loss = criterion(net(inputs[rows]), targets[rows])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return net, losses


def flat(net: torch.nn.Module) -> np.ndarray:
    """A Sequential of Linear layers' parameters in the compiled module's order: neuron by neuron, its weights then
    its bias (PARAMETERS: w1_1_1 .. w1_1_64, b1_1, w1_2_1, ...)."""
    layers = [m for m in net if isinstance(m, torch.nn.Linear)]
    return np.concatenate([torch.cat([m.weight, m.bias[:, None]], 1).detach().double().numpy().ravel() for m in layers])


def predict(params: np.ndarray, X: np.ndarray) -> np.ndarray:
    """The class each image gets: argmax of the last layer's z (softmax keeps the order), from the flat parameters."""
    A, start = X, 0
    for layer, (fan_in, width) in enumerate(zip(SIZES, SIZES[1:])):
        block = params[start:start + width * (fan_in + 1)].reshape(width, fan_in + 1)
        start += block.size
        Z = A @ block[:, :fan_in].T + block[:, fan_in]
        A = np.maximum(Z, 0.0) if layer < len(SIZES) - 2 else Z
    return A.argmax(axis=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--against-torch", action="store_true", help="also train in torch float64 and compare")
    parser.add_argument("--module", metavar="PATH", help="train with this module from symbackprop compile")
    args = parser.parse_args(argv)
    objects = program()
    X, y, X_test, y_test = data()
    if args.module:
        f = standalone(args.module)
        print(f"{len(f.parameters)} parameters; the module {args.module}")
    else:
        f, seconds = compiled(objects)
        print(f"{len(f.parameters)} parameters; from_torch {seconds['from_torch']:.2f} s, derive {seconds['derive']:.2f} s, "
              f"compile {seconds['compile']:.2f} s")
    start = time.perf_counter()
    f.step(f.initial, f.init_state(), X[:BATCH], np.eye(CLASSES)[y[:BATCH]])  # a numba module compiles at its first call
    print(f"first call {time.perf_counter() - start:.2f} s (numba compiles the module's loops there; numpy alone: none)")
    start = time.perf_counter()
    params, losses = train(f, X, y, args.epochs)
    took = time.perf_counter() - start
    steps = len(losses) // args.epochs
    for epoch in range(args.epochs):
        if epoch % 10 == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1:3d}: mean minibatch loss {np.mean(losses[epoch * steps:(epoch + 1) * steps]):.6f}")
    accuracy = np.mean(predict(params, X_test) == y_test)
    print(f"{len(losses)} steps in {took:.2f} s; test accuracy {accuracy:.4f} ({int(round(accuracy * len(y_test)))} "
          f"of {len(y_test)} held-out images)")
    if args.against_torch:
        start = time.perf_counter()
        net, torch_losses = train_torch(objects["module"], X, y, args.epochs)
        took = time.perf_counter() - start
        loss_gap = np.max(np.abs(np.subtract(losses, torch_losses)) / np.abs(torch_losses))
        expected = flat(net)
        param_gap = np.max(np.abs(params - expected) / np.abs(expected))
        scaled = np.max(np.abs(params - expected)) / np.max(np.abs(expected))
        print(f"torch float64: {len(torch_losses)} steps in {took:.2f} s; largest relative difference: losses "
              f"{loss_gap:.1e}, parameters {param_gap:.1e} ({scaled:.1e} of the largest parameter)")


if __name__ == "__main__":
    main()
