"""The NumPy reference's coupled activations (softmax, log_softmax) and classification losses
(cross_entropy, nll, bce, bce_logits) against PyTorch autograd and against central differences.

Both the matrix path (dense nets) and the graph path (the same dense nets forced through it, and a
hand-written graph with shared weights, a constant bias input and a skip connection) are checked.
Errors are relative to the largest reference value of the compared vector (normwise).
"""

from __future__ import annotations

import numpy as np
import pytest

import symbackprop
from symbackprop.core.model import Example, Model, Neuron
from symbackprop.core.values import rational
from symbackprop.reference import torch_model
from symbackprop.reference.numpy_runtime import Runtime
from symbackprop.reference.numpy_training import data, initial_parameters

TORCH_REASON = "PyTorch is an optional extra: pip install 'symbackprop[torch]'"
GRAD_RTOL = 1e-12
FD_RTOL = 1e-6
H = 1e-5  # central differences: truncation ~ H^2, rounding ~ 1e-16 / H


def relative(a, b) -> float:
    a, b = np.atleast_1d(np.asarray(a, dtype=float)), np.atleast_1d(np.asarray(b, dtype=float))
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


PROBABILITIES = [["0.2", "0.3", "0.5"], ["0", "1", "0"], ["0.125", "0.625", "0.25"], ["1", "0", "0"]]
ONE_HOT = [["0", "1", "0"], ["1", "0", "0"], ["0", "0", "1"], ["0", "1", "0"]]
UNIT = [["0.25", "1"], ["0", "0.75"], ["0.5", "0.125"], ["1", "0"]]
INPUTS = [["0.5", "-0.25", "1"], ["-1", "0.75", "0.125"], ["0.3", "0.6", "-0.9"], ["2", "-1.5", "0.25"]]


def examples(targets):
    return [(x, y) for x, y in zip(INPUTS, targets)]


# (id, dense sizes, hidden activation, output activation, loss, targets, batch)
DENSE = [
    ("ce-prob", [3, 4, 3], "tanh", "softmax", "cross_entropy", PROBABILITIES, "mean"),
    ("ce-onehot", [3, 4, 3], "sigmoid", "softmax", "cross_entropy", ONE_HOT, "sum"),
    ("ce-deep", [3, 3, 4, 3], "softplus", "softmax", "cross_entropy", PROBABILITIES, "mean"),
    ("nll-prob", [3, 4, 3], "tanh", "log_softmax", "nll", PROBABILITIES, "mean"),
    ("nll-onehot", [3, 2, 3], "leaky_relu", "log_softmax", "nll", ONE_HOT, "sum"),
    ("bce", [3, 4, 2], "tanh", "sigmoid", "bce", UNIT, "mean"),
    ("bce-softmax", [3, 4, 2], "tanh", "softmax", "bce", [["0.25", "0.75"], ["1", "0"], ["0.5", "0.5"], ["0", "1"]], "sum"),
    ("bce_logits", [3, 4, 2], "tanh", "identity", "bce_logits", UNIT, "mean"),
    ("bce_logits-tanh", [3, 2], "identity", "tanh", "bce_logits", UNIT, "sum"),
    # the Jacobian under an upstream that does not simplify to a - y
    ("mse-softmax", [3, 4, 3], "tanh", "softmax", "mse", PROBABILITIES, "mean"),
    ("half_sse-log_softmax", [3, 4, 3], "sigmoid", "log_softmax", "half_sse", [["-1", "-2", "-0.5"]] * 4, "sum"),
]


def dense_model(sizes, hidden, out, loss, targets, batch, seed=3):
    return symbackprop.dense(sizes, hidden, out, loss=loss, batch=batch, seed=seed, examples=examples(targets))


def graph_model(out_act: str, loss: str, targets, batch: str = "mean") -> Model:
    """A hand-written graph: w1 and v1, v2 shared, a constant bias input c, a skip connection x1 -> o1."""
    outputs = ["o1", "o2", "o3"][: len(targets[0])]
    neurons = [
        Neuron("h1", "tanh", ("x1", "x2"), ("w1", "w2"), "b1"),
        Neuron("h2", "sigmoid", ("x2", "c"), ("w1", "w3")),
        Neuron("o1", out_act, ("h1", "h2", "x1"), ("v1", "v2", "u")),
        Neuron("o2", out_act, ("h1", "h2"), ("v2", "v3")),
        Neuron("o3", out_act, ("h1", "x2"), ("v4", "v1"), "b3"),
    ][: 2 + len(outputs)]
    values = {"w1": "0.7", "w2": "-0.4", "b1": "0.1", "w3": "0.9", "v1": "1.3", "v2": "-0.8", "u": "0.5", "v3": "0.6",
              "v4": "-1.1", "b3": "0.2"}
    used = {p for n in neurons for p in (*n.weights, *([n.bias] if n.bias else []))}
    exs = [Example({"x1": rational(x[0], "x1"), "x2": rational(x[1], "x2")},
                   {o: rational(v, o) for o, v in zip(outputs, y)}) for x, y in zip(INPUTS, targets)]
    return Model(neurons=neurons, inputs=["x1", "x2"], outputs=outputs, constants={"c": rational("1", "c")},
                 parameters={k: rational(v, k) for k, v in values.items() if k in used}, examples=exs, loss=loss,
                 batch=batch)


GRAPH = [
    ("ce", "softmax", "cross_entropy", PROBABILITIES, "mean"),
    ("ce-onehot", "softmax", "cross_entropy", ONE_HOT, "sum"),
    ("nll", "log_softmax", "nll", PROBABILITIES, "sum"),
    ("nll-onehot", "log_softmax", "nll", ONE_HOT, "mean"),
    ("bce", "sigmoid", "bce", UNIT, "mean"),
    ("bce_logits", "identity", "bce_logits", UNIT, "sum"),
    ("mse-softmax", "softmax", "mse", PROBABILITIES, "mean"),
]


def all_models():
    for case in DENSE:
        yield f"dense-{case[0]}", dense_model(*case[1:])
    for case in GRAPH:
        yield f"graph-{case[0]}", graph_model(*case[1:])


MODELS = dict(all_models())


def params_of(model, seed: int):
    """The model's own parameters, and seeded ones around them."""
    p = initial_parameters(model)
    return p if seed == 0 else p + np.random.default_rng(seed).normal(0.0, 0.5, size=len(p))


def test_the_dense_nets_run_as_matrices_and_the_graphs_do_not():
    for name, model in MODELS.items():
        assert (Runtime(model).layers is not None) == name.startswith("dense-"), name


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("seed", [0, 1])
def test_numpy_gradient_matches_central_differences(name, seed):
    model = MODELS[name]
    runtime, (X, Y), p = Runtime(model), data(model), params_of(model, seed)
    value, grad = runtime(p, X, Y)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    fd = np.empty_like(p)
    for i in range(len(p)):
        up, down = p.copy(), p.copy()
        up[i] += H
        down[i] -= H
        fd[i] = (runtime.loss(up, X, Y) - runtime.loss(down, X, Y)) / (2 * H)
    assert relative(grad, fd) < FD_RTOL, (name, relative(grad, fd))


@pytest.mark.parametrize("name", [n for n in MODELS if n.startswith("dense-")])
def test_matrix_and_graph_paths_agree(name):
    model = MODELS[name]
    (X, Y), p = data(model), params_of(model, 2)
    v1, g1 = Runtime(model)(p, X, Y)
    v2, g2 = Runtime(model, matrix=False)(p, X, Y)
    assert relative(v1, v2) < GRAD_RTOL and relative(g1, g2) < GRAD_RTOL


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("seed", [0, 1])
def test_numpy_matches_torch_autograd(name, seed):
    pytest.importorskip("torch", reason=TORCH_REASON)
    from symbackprop.reference.torch_model import TorchModel

    model = MODELS[name]
    (X, Y), p = data(model), params_of(model, seed)
    value, grad = Runtime(model)(p, X, Y)
    t_value, t_grad = TorchModel(model)(p, X, Y)
    assert relative(value, t_value) < GRAD_RTOL, (name, relative(value, t_value))
    assert relative(grad, t_grad) < GRAD_RTOL, (name, relative(grad, t_grad))
    if name.startswith("dense-"):  # and the graph path on the same net
        g_value, g_grad = Runtime(model, matrix=False)(p, X, Y)
        assert relative(g_value, t_value) < GRAD_RTOL and relative(g_grad, t_grad) < GRAD_RTOL


def test_torch_losses_are_torch_own_on_class_indices():
    """With one-hot targets, TorchModel's cross_entropy and nll equal F.cross_entropy / F.nll_loss of the
    class indices, and its outputs are the softmax and log_softmax of the logits."""
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    from symbackprop.reference.torch_model import TorchModel

    F = torch.nn.functional
    labels = torch.tensor([int(np.argmax(np.array(y, dtype=float))) for y in ONE_HOT])
    for out, loss, reference in (("softmax", "cross_entropy", lambda Z, A: F.cross_entropy(Z, labels, reduction="sum")),
                                 ("log_softmax", "nll", lambda Z, A: F.nll_loss(F.log_softmax(Z, dim=1), labels,
                                                                                reduction="sum"))):
        model = dense_model([3, 4, 3], "tanh", out, loss, ONE_HOT, "sum")
        tm = TorchModel(model)
        X, Y = (tm.tensor(a) for a in data(model))
        p = torch.tensor(initial_parameters(model), dtype=torch.float64)
        Z, A = tm.outputs(p, X)
        expected = F.softmax(Z, dim=1) if out == "softmax" else F.log_softmax(Z, dim=1)
        assert torch.allclose(A, expected, rtol=1e-15, atol=0)
        assert relative(float(tm.loss(p, X, Y)), float(reference(Z, A))) < 1e-14
        assert relative(Runtime(model).loss(p.numpy(), X.numpy(), Y.numpy()), float(reference(Z, A))) < 1e-13


@pytest.mark.parametrize("out, loss", [("softmax", "cross_entropy"), ("log_softmax", "nll"), ("softmax", "mse")])
def test_softmax_is_stable_for_large_logits(out, loss):
    """z around 1000, where exp(z) overflows: the shift by the largest z keeps every value finite."""
    model = symbackprop.dense([1, 3], "identity", out, loss=loss, weights=[[["1000"], ["1001"], ["999.5"]]],
                              biases=[["0", "0", "0"]], examples=[(["1"], ["0.25", "0.5", "0.25"]), (["0.999"], ["0", "1", "0"])])
    X, Y = data(model)
    p = initial_parameters(model)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value, grad = Runtime(model)(p, X, Y)
        g_value, g_grad = Runtime(model, matrix=False)(p, X, Y)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert relative(g_grad, grad) < GRAD_RTOL
    if torch_model.available():
        t_value, t_grad = torch_model.TorchModel(model)(p, X, Y)
        assert relative(value, t_value) < GRAD_RTOL and relative(grad, t_grad) < GRAD_RTOL


def test_a_coupled_backward_is_the_jacobian_not_the_diagonal():
    """softmax under mse: the gradient differs from the one an elementwise a(1 - a) would give."""
    model = MODELS["dense-mse-softmax"]
    (X, Y), p = data(model), initial_parameters(model)
    runtime = Runtime(model)
    _, grad = runtime(p, X, Y)
    A = runtime.outputs(p, X)
    np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=1e-15)
    # an output bias's gradient is the sum over examples of its dE/dz_j = a_j (dE/da_j - sum_i dE/da_i a_i)
    dP = 2.0 * (A - Y) / Y.shape[1] / len(X)
    dz = A * (dP - (dP * A).sum(axis=1, keepdims=True))
    biases = [list(model.parameters).index(f"b2_{j}") for j in (1, 2, 3)]
    np.testing.assert_allclose(grad[biases], dz.sum(axis=0), rtol=1e-13)
    assert relative(grad[biases], (dP * A * (1 - A)).sum(axis=0)) > 1e-3
