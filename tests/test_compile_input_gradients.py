"""``compile(..., input_gradients=True)`` and ``symbackprop compile --input-gradients``: the module's
``input_gradients(params, X, Y)`` is d(batch loss)/dX, one row per example, by every code shape,
against PyTorch autograd (X.grad), central differences of the NumPy runtime, and the exact trace."""

from __future__ import annotations

import difflib
import importlib.util

import numpy as np
import pytest
from catalogue import SHARED_SKIP
from conftest import SEED_CHAIN

import symbackprop
from symbackprop.compiler.compiled import numba_available
from symbackprop.compiler.generator import source
from symbackprop.compiler.plan import Shape, plan
from symbackprop.core.derivation_file import loads
from symbackprop.core.loss_rules import random_targets
from symbackprop.reference.numpy_runtime import Runtime

SHUFFLED = symbackprop.dense([3, 12, 6, 2], activation="relu", output_activation="tanh", loss="mse", seed=9)
SHUFFLED.parameters = dict(reversed(SHUFFLED.parameters.items()))  # biases first: layer 1's weights gathered, not reshaped
NETS = {  # name: (model, batches); together they reach every shape, numba off and on
    "dense-2-3-1-sum": (symbackprop.dense([2, 3, 1], activation="tanh", loss="mse", batch="sum", seed=1),
                        (1, 3, 40, 300)),  # float code, matrix form; numba: the fused loop
    "dense-3-12-6-2": (symbackprop.dense([3, 12, 6, 2], activation="tanh", output_activation="sigmoid", loss="half_sse",
                                         seed=7), (1, 3, 40, 300)),  # 140 parameters: matrix; numba: the kernel to 234
    "dense-40-3-2-bce": (symbackprop.dense([40, 3, 2], activation="softplus", output_activation="sigmoid", loss="bce",
                                           seed=5), (1, 3, 300)),  # a Head (a - y); CHUNK 256: 300 rows in two blocks
    "softmax-3-5-3": (symbackprop.dense([3, 5, 3], activation="tanh", output_activation="softmax", loss="cross_entropy",
                                        seed=2), (1, 3, 40)),  # float code (fused loop), and the matrix form's softmax Head
    "softmax-4-10-3": (symbackprop.dense([4, 10, 3], activation="leaky_relu", output_activation="softmax",
                                         loss="cross_entropy", seed=3), (1, 40, 500)),  # the softmax Head; kernel to 394
    "dense-shuffled-3-12-6-2": (SHUFFLED, (3, 300)),
    "shared-skip": (loads(SHARED_SKIP), (1, 3, 40, 300)),  # shared weight, bias input, skip: columns; a sum batch
    "seed003": (symbackprop.load(SEED_CHAIN), (1, 3, 40)),
}
NUMBA = numba_available()
VARIANTS = [(name, numba) for name in NETS for numba in (False, True)]


def _id(variant):
    return f"{variant[0]}{'-numba' if variant[1] else ''}"


@pytest.fixture(scope="module", params=VARIANTS, ids=[_id(v) for v in VARIANTS])
def case(request):
    name, numba = request.param
    if numba and not NUMBA:
        pytest.skip("numba is an optional extra: pip install numba")
    model, batches = NETS[name]
    d = symbackprop.derive(model)
    return model, batches, plan(d, numba, 1), symbackprop.compile(d, numba=numba, input_gradients=True)


def shape_for(decided, B: int) -> Shape:
    """The shape whose batch limit admits B (the module's dispatch)."""
    if decided.small_batch is not None and B <= decided.small_batch:
        return decided.shapes[0]
    return decided.shapes[-1]


def draws(compiled, model, batches, seed):
    rng = np.random.default_rng(seed)
    for B in batches:
        p = compiled.initial + rng.normal(0, 0.2, compiled.initial.shape)
        yield p, rng.normal(0, 1, (B, len(model.inputs))), random_targets(model.loss, rng, (B, len(model.outputs)))


def relative(got, want, floor=1e-8) -> float:
    return float(np.max(np.abs(got - want))) / max(float(np.max(np.abs(want))), floor)


def test_the_batches_reach_every_shape(case):
    model, batches, decided, _ = case
    assert {shape_for(decided, B) for B in batches} == set(decided.shapes)


def test_against_torch_autograd(case):
    """The batch loss as TorchModel computes it, differentiated in X: torch's X.grad, every batch."""
    pytest.importorskip("torch", reason="PyTorch is an optional extra: pip install 'symbackprop[torch]'")
    from symbackprop.reference.torch_model import TorchModel

    model, batches, _, compiled = case
    ref = TorchModel(model)
    for p, X, Y in draws(compiled, model, batches, 1):
        Xt = ref.tensor(X).requires_grad_(True)
        ref.loss(ref.tensor(p), Xt, ref.tensor(Y)).backward()
        got = compiled.input_gradients(p, X, Y)
        assert got.shape == X.shape and got.dtype == np.float64
        err = relative(got, Xt.grad.numpy())
        assert err <= 1e-10, (X.shape, err)


def test_against_central_differences(case):
    """Central differences in each X[k, j] of the NumPy runtime's batch loss."""
    model, batches, _, compiled = case
    runtime, h = Runtime(model), 1e-6
    for p, X, Y in draws(compiled, model, [B for B in batches if B * len(model.inputs) <= 160], 2):
        fd = np.empty_like(X)
        for k, j in np.ndindex(X.shape):
            up, down = X.copy(), X.copy()
            up[k, j] += h
            down[k, j] -= h
            fd[k, j] = (runtime.loss(p, up, Y) - runtime.loss(p, down, Y)) / (2 * h)
        err = relative(compiled.input_gradients(p, X, Y), fd, floor=1e-3)
        assert err <= 1e-6, (X.shape, err)


@pytest.mark.parametrize("numba", [False, True], ids=["numpy", "numba"])
def test_against_the_exact_trace(numba):
    """seed 003's one example: dE/dx1, dE/dx2, dE/dx3 of the exact trace (rationals) to float64's rounding."""
    if numba and not NUMBA:
        pytest.skip("numba is an optional extra: pip install numba")
    model = symbackprop.load(SEED_CHAIN)
    d = symbackprop.derive(model)
    trace = d.trace()
    compiled = symbackprop.compile(d, numba=numba, input_gradients=True)
    got = compiled.input_gradients(compiled.initial, compiled.X, compiled.Y)
    want = np.array([[float(trace[f"dE/d{x}"]) for x in model.inputs]])
    assert want[0, 0] == -49 / 6250  # delta_a * w_a1 = -0.0784 * 0.1
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("numba", [False, True], ids=["numpy", "numba"])
def test_arguments_follow_loss_and_grad(numba):
    """Lists and read-only arrays are converted; a wrong shape raises the ValueError _check words."""
    if numba and not NUMBA:
        pytest.skip("numba is an optional extra: pip install numba")
    compiled = symbackprop.compile(symbackprop.derive(symbackprop.load(SEED_CHAIN)), numba=numba, input_gradients=True)
    p, X, Y = compiled.initial, compiled.X, compiled.Y
    want = compiled.input_gradients(p, X, Y)
    frozen = [a.copy() for a in (p, X, Y)]
    for a in frozen:
        a.flags.writeable = False
    np.testing.assert_array_equal(compiled.input_gradients(p.tolist(), X.tolist(), Y.tolist()), want)
    np.testing.assert_array_equal(compiled.input_gradients(*frozen), want)
    with pytest.raises(ValueError, match=r"X has shape \(1, 2\); expected \(B, 3\) with B >= 1"):
        compiled.input_gradients(p, X[:, :2], Y)
    with pytest.raises(ValueError, match=r"Y has shape \(1, 1\); expected \(2, 1\)"):
        compiled.input_gradients(p, np.vstack([X, X]), Y)
    with pytest.raises(ValueError, match=r"params has shape \(5,\)"):
        compiled.input_gradients(p[:5], X, Y)


@pytest.mark.parametrize("numba", [False, True], ids=["numpy", "numba"])
def test_the_option_only_adds(numba):
    """Without it the module is what it was (tests/test_golden.py holds the bytes); with it, lines are
    only inserted, and the plain module has no input_gradients."""
    d = symbackprop.derive(NETS["softmax-4-10-3"][0])
    plain, extended = source(d, numba=numba), source(d, numba=numba, input_gradients=True)
    assert plain == source(d, numba=numba, input_gradients=False) and "input_gradients" not in plain
    ops = difflib.SequenceMatcher(None, plain.splitlines(), extended.splitlines(), autojunk=False).get_opcodes()
    assert {op for op, *_ in ops} == {"equal", "insert"}
    assert symbackprop.compile(d, numba=False).input_gradients is None


def test_cli_writes_a_module_that_exports_them(tmp_path, run_cli):
    out = tmp_path / "grads.py"
    done = run_cli("compile", str(SEED_CHAIN), "-o", str(out), "--input-gradients")
    assert done.returncode == 0, done.stderr
    spec = importlib.util.spec_from_file_location("grads", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "input_gradients(params, X, Y)" in module.__doc__
    model = symbackprop.load(SEED_CHAIN)
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(25, 3)), rng.normal(size=(25, 1))
    got = module.input_gradients(module.INITIAL, X, Y)
    assert got.shape == (25, 3)
    compiled = symbackprop.compile(symbackprop.derive(model), numba=False, input_gradients=True)
    np.testing.assert_array_equal(got, compiled.input_gradients(module.INITIAL, X, Y))
    plain = run_cli("compile", str(SEED_CHAIN))
    assert plain.returncode == 0 and "input_gradients" not in plain.stdout
