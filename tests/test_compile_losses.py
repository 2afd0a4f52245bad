"""Compiled code for the classification losses and the coupled activations (softmax, log_softmax):
every code shape against the NumPy reference and PyTorch (1e-12 relative), softmax with
cross-entropy against central differences, and logits near 1000 (no overflow)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp

import symbackprop
from symbackprop.compiler.check import finite_differences
from symbackprop.compiler.compiled import numba_available
from symbackprop.compiler.plan import Shape, plan
from symbackprop.core import function_table
from symbackprop.core.derivation_file import loads
from symbackprop.reference.numpy_runtime import Runtime

TOL = 1e-12
BATCHES = (1, 3, 40, 300, 3000)  # one example, the float loop or the kernel, the numpy forms, blocks of CHUNK rows

# softmax outputs over a graph the matrix form cannot take (mixed hidden activations, a skip, a shared weight)
GRAPH = """
title = "softmax outputs over a skip connection and a shared weight"
[network]
inputs = ["x1", "x2"]
outputs = ["o1", "o2", "o3"]
[[network.neurons]]
name = "h1"
activation = "tanh"
inputs = ["x1", "x2"]
weights = ["w11", "w12"]
bias = "b1"
[[network.neurons]]
name = "h2"
activation = "sigmoid"
inputs = ["x1", "x2"]
weights = ["w21", "w22"]
[[network.neurons]]
name = "o1"
activation = "softmax"
inputs = ["h1", "h2"]
weights = ["v11", "v12"]
bias = "c1"
[[network.neurons]]
name = "o2"
activation = "softmax"
inputs = ["h1", "x2"]
weights = ["v21", "u"]
bias = "c2"
[[network.neurons]]
name = "o3"
activation = "softmax"
inputs = ["h2", "x1"]
weights = ["v31", "u"]
[parameters]
w11 = 0.3
w12 = -0.5
b1 = 0.1
w21 = 0.8
w22 = 0.2
v11 = 0.6
v12 = -0.4
c1 = 0.05
v21 = -0.7
u = 0.9
c2 = -0.1
v31 = 0.4
[loss]
function = "cross_entropy"
batch = "mean"
[[examples]]
inputs = { x1 = 0.5, x2 = -1.0 }
class = 1
[[examples]]
inputs = { x1 = -0.3, x2 = 0.8 }
targets = { o1 = 0.2, o2 = 0.3, o3 = 0.5 }
"""


def graph(output: str = "softmax", loss: str = "cross_entropy"):
    return loads(GRAPH.replace('"softmax"', f'"{output}"').replace('"cross_entropy"', f'"{loss}"'))


def small_dense(output: str, loss: str, hidden: str = "tanh", width: int = 3):
    examples = [(["0.5", "-0.2"], [0, 1, 0][:width]), (["0.1", "0.3"], ["0.2", "0.3", "0.5"][:width])]
    if loss in ("bce", "bce_logits"):
        examples = [(["0.5", "-0.2"], ["1", "0", "1"][:width]), (["0.1", "0.3"], ["0.25", "0.75", "0.5"][:width])]
    return symbackprop.dense([2, 3, width], hidden, output, loss=loss, examples=examples, seed=2)


def big_dense(output: str, loss: str, hidden: str = "tanh"):
    """134 parameters: beyond the float code, so the matrix form and numba's kernel."""
    return symbackprop.dense([3, 10, 6, 4], hidden, output, loss=loss, seed=3, batch="sum" if loss == "nll" else "mean")


MODELS = {
    "ce-softmax": lambda: small_dense("softmax", "cross_entropy"),
    "nll-log_softmax": lambda: small_dense("log_softmax", "nll", hidden="relu"),
    "bce-sigmoid": lambda: small_dense("sigmoid", "bce", width=2),
    "bce_logits-identity": lambda: small_dense("identity", "bce_logits", width=2),
    "mse-softmax": lambda: small_dense("softmax", "mse", hidden="sigmoid"),
    "bce_logits-log_softmax": lambda: small_dense("log_softmax", "bce_logits"),
    "big-ce-softmax": lambda: big_dense("softmax", "cross_entropy"),
    "big-nll-log_softmax": lambda: big_dense("log_softmax", "nll", hidden="relu"),
    "big-bce-sigmoid": lambda: big_dense("sigmoid", "bce"),
    "big-bce_logits-identity": lambda: big_dense("identity", "bce_logits"),
    "big-mse-softmax": lambda: big_dense("softmax", "mse"),
    "big-bce-softmax": lambda: big_dense("softmax", "bce", hidden="sigmoid"),
    "graph-ce-softmax": lambda: graph(),
    "graph-nll-log_softmax": lambda: graph("log_softmax", "nll"),
}
VARIANTS = [(name, numba) for name in MODELS for numba in ((False, True) if numba_available() else (False,))]


LOSS = {name: {"ce": "cross_entropy"}.get(name.split("-")[-2], name.split("-")[-2]) for name in MODELS}  # "big-nll-log_softmax": nll
UNBOUNDED = [v for v in VARIANTS if LOSS[v[0]] in ("cross_entropy", "nll", "mse")]  # targets need not lie in [0, 1]
SOFTMAX_LOSSES = [v for v in VARIANTS if LOSS[v[0]] in ("cross_entropy", "nll")]


def _ids(variants) -> list[str]:
    return [f"{n}{'-numba' if nb else ''}" for n, nb in variants]


@functools.cache
def _compiled(name: str, numba: bool):
    model = MODELS[name]()
    d = symbackprop.derive(model)
    return name, model, d, numba, symbackprop.compile(d, numba=numba)


@pytest.fixture(scope="module", params=VARIANTS, ids=_ids(VARIANTS))
def case(request):
    return _compiled(*request.param)


@pytest.fixture(scope="module", params=UNBOUNDED, ids=_ids(UNBOUNDED))
def unbounded_case(request):
    return _compiled(*request.param)


@pytest.fixture(scope="module", params=SOFTMAX_LOSSES, ids=_ids(SOFTMAX_LOSSES))
def softmax_case(request):
    return _compiled(*request.param)


def targets(model, rng, B: int) -> np.ndarray:
    """Targets the loss takes: probabilities (cross_entropy, nll), each in [0, 1] (bce), any value (mse)."""
    K = len(model.outputs)
    if model.loss in ("cross_entropy", "nll"):
        P = rng.uniform(0.0, 1.0, (B, K))
        return P / P.sum(axis=1, keepdims=True)
    if model.loss in ("bce", "bce_logits"):
        return rng.uniform(0.0, 1.0, (B, K))
    return rng.normal(0.0, 1.0, (B, K))


def batches(compiled, model, seed: int):
    rng = np.random.default_rng(seed)
    yield compiled.initial, compiled.X, compiled.Y
    for B in BATCHES:
        p = compiled.initial + rng.normal(0.0, 0.3, compiled.initial.shape)
        yield p, rng.normal(0.0, 1.0, (B, len(model.inputs))), targets(model, rng, B)


def close(got, want, tol=TOL):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert np.all(np.isfinite(got)), got
    scale = max(float(np.max(np.abs(want))), 1e-300)
    assert float(np.max(np.abs(got - want))) / scale <= tol, (got, want)


def agree(compiled, model, reference, seed):
    for params, X, Y in batches(compiled, model, seed):
        value, grad = compiled(params, X, Y)
        ref_value, ref_grad = reference(params, X, Y)
        close([value], [ref_value])
        close(grad, ref_grad)
        close([compiled.loss(params, X, Y)], [ref_value])


def test_shapes_reached(case):
    """Each net takes the shapes it is meant to: the float code or fused loop (small nets), the matrix
    form and numba's kernel (layered nets over 64 parameters), the column form (any other graph)."""
    name, _, d, numba, _ = case
    shapes = plan(d, numba, 1).shapes
    if name.startswith("big"):
        assert shapes == ((Shape.KERNEL, Shape.MATRIX) if numba else (Shape.MATRIX,))
    elif name.startswith("graph"):
        assert shapes == ((Shape.FUSED,) if numba else (Shape.STRAIGHT, Shape.COLUMNS))
    else:
        assert shapes == ((Shape.FUSED,) if numba else (Shape.STRAIGHT, Shape.MATRIX))


def test_against_numpy_runtime(case):
    _, model, _, _, compiled = case
    agree(compiled, model, Runtime(model), 1)


def test_against_torch(case):
    pytest.importorskip("torch", reason="PyTorch is an optional extra: pip install 'symbackprop[torch]'")
    from symbackprop.reference.torch_model import TorchModel

    _, model, _, _, compiled = case
    agree(compiled, model, TorchModel(model), 2)


def test_any_targets_get_the_exact_gradient(unbounded_case):
    """Targets that do not sum to 1: the compiled error term is the Jacobian product (a sum(y) - y),
    the gradient of the loss it returns, and a - y where the targets sum to 1 (bce's targets lie in [0, 1]: above)."""
    _, model, _, _, compiled = unbounded_case
    assert model.loss in ("cross_entropy", "nll", "mse")
    rng = np.random.default_rng(4)
    runtime = Runtime(model)
    for B in (1, 40, 300):
        p = compiled.initial + rng.normal(0.0, 0.3, compiled.initial.shape)
        X, Y = rng.normal(0.0, 1.0, (B, len(model.inputs))), rng.normal(0.5, 1.0, (B, len(model.outputs)))
        value, grad = compiled(p, X, Y)
        ref_value, ref_grad = runtime(p, X, Y)
        close([value], [ref_value])
        close(grad, ref_grad)


def test_softmax_cross_entropy_against_finite_differences(softmax_case):
    name, model, _, _, compiled = softmax_case
    assert model.loss in ("cross_entropy", "nll")
    for params, X, Y in list(batches(compiled, model, 3))[:4]:
        _, grad = compiled(params, X, Y)
        _, fd = finite_differences(compiled.loss, params, X, Y)
        close(grad, fd, 1e-6)


def shifted(model, params, shift: float):
    """params with every output's bias raised by ``shift``: every logit moves by it."""
    p = params.copy()
    index = {q: i for i, q in enumerate(model.parameters)}
    for o in model.outputs:
        p[index[model.neuron(o).bias]] += shift
    return p


@pytest.mark.parametrize("name", ["ce-softmax", "nll-log_softmax", "mse-softmax", "big-ce-softmax",
                                  "big-nll-log_softmax", "big-mse-softmax", "big-bce-softmax"])
@pytest.mark.parametrize("numba", [False, True] if numba_available() else [False])
def test_logits_near_1000_are_finite_and_correct(name, numba):
    """softmax is shift-invariant: logits near 1000 (a naive exp overflows past 709) give the loss and
    gradient of the same logits near 0, finite, in every shape."""
    model = MODELS[name]()
    compiled = symbackprop.compile(symbackprop.derive(model), numba=numba)
    rng = np.random.default_rng(5)
    for B in BATCHES[:4]:
        p = compiled.initial + rng.normal(0.0, 0.3, compiled.initial.shape)
        X, Y = rng.normal(0.0, 1.0, (B, len(model.inputs))), targets(model, rng, B)
        value, grad = compiled(p, X, Y)
        for shift in (1000.0, -1000.0):
            far_value, far_grad = compiled(shifted(model, p, shift), X, Y)
            assert np.isfinite(far_value) and np.all(np.isfinite(far_grad))
            close([far_value], [value], 1e-9)  # log_softmax too is shift-invariant
            close(far_grad, grad, 1e-9)


@pytest.mark.parametrize("numba", [False, True] if numba_available() else [False])
def test_logits_near_1000_against_torch(numba):
    """One-hot targets on logits 1000 apart: a loss near 1000, as torch's cross_entropy computes it."""
    pytest.importorskip("torch", reason="PyTorch is an optional extra: pip install 'symbackprop[torch]'")
    from symbackprop.reference.torch_model import TorchModel

    model = symbackprop.dense([2, 3], "identity", "softmax", loss="cross_entropy", seed=1)
    compiled = symbackprop.compile(symbackprop.derive(model), numba=numba)
    params = np.array([0.1, -0.2, 1000.0, 0.3, 0.2, 0.0, -0.1, 0.4, -1000.0])  # w1_j_1, w1_j_2, b1_j per neuron
    X = np.array([[0.5, -0.5], [1.0, 2.0], [-3.0, 0.5]])
    Y = np.eye(3)[[1, 2, 0]]
    value, grad = compiled(params, X, Y)
    ref_value, ref_grad = TorchModel(model)(params, X, Y)
    assert 500 < value < 1500
    close([value], [ref_value])
    close(grad, ref_grad)


@pytest.mark.parametrize("name", ["bce-sigmoid", "bce_logits-identity", "big-bce-sigmoid", "big-bce_logits-identity"])
@pytest.mark.parametrize("numba", [False, True] if numba_available() else [False])
@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")  # numpy's 1/(1 + inf): 0, as meant
def test_saturated_binary_outputs_stay_finite(name, numba):
    """bce over a sigmoid at |z| = 800 (a rounds to 0 or 1) and bce with logits at 800: finite
    values, 0 where the output is right and 800 where it is wrong (targets 1)."""
    model = MODELS[name]()
    compiled = symbackprop.compile(symbackprop.derive(model), numba=numba)
    index = {q: i for i, q in enumerate(model.parameters)}
    X, Y = np.zeros((4, len(model.inputs))), np.ones((4, len(model.outputs)))
    for B in (1, 4):
        for shift in (800.0, -800.0):
            p = compiled.initial.copy()
            for o in model.outputs:
                p[index[model.neuron(o).bias]] = shift
            value, grad = compiled(p, X[:B], Y[:B])
            assert np.isfinite(value) and np.all(np.isfinite(grad))
            assert value == pytest.approx(0.0 if shift > 0 else 800.0, rel=1e-3, abs=1e-6)


def test_layered_softmax_classifier_takes_the_matrix_form():
    """The bench's classifier, dense 8-32-32-4 with softmax and cross-entropy, plans to the matrix form
    (and numba's kernel for small batches), not to the column form."""
    d = symbackprop.derive(symbackprop.dense([8, 32, 32, 4], "tanh", "softmax", loss="cross_entropy", seed=1))
    assert plan(d, False, 1).shapes == (Shape.MATRIX,)
    assert plan(d, True, 1).shapes == (Shape.KERNEL, Shape.MATRIX)


@pytest.mark.parametrize("name", [n for n, a in function_table.ACTIVATIONS.items() if a.coupled])
def test_coupled_activations_are_shift_invariant(name):
    """What the stable forms rest on: f(z - M) = f(z) over the layer, for every coupled row of the table."""
    act = function_table.ACTIVATIONS[name]
    zs, shift = sp.symbols("z1:4", real=True), sp.Symbol("M", real=True)
    values = {z: sp.Rational(v) for z, v in zip(zs, ("0.3", "-1.2", "2.5"))} | {shift: sp.Rational("7.25")}
    for z in zs:
        plain = act.group(z, zs)
        moved = plain.xreplace({k: k - shift for k in zs})
        assert abs((moved - plain).xreplace(values).evalf(50)) < 1e-40
