"""Compiled gradients agree with independent references: the NumPy runtime, PyTorch, finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from catalogue import all_cases
from conftest import SEED_CHAIN

import symbackprop
from symbackprop.compiler.check import finite_differences
from symbackprop.compiler.plan import chunk_rows, plan
from symbackprop.core.loss_rules import random_targets
from symbackprop.reference.numpy_runtime import Runtime

CASES = all_cases()
IDS = [name for name, _ in CASES]
BATCHES = (1, 3, 40, 300)  # one example, the float loop, the numpy path (numba: the fused loops, and the matrix form)


def batches(compiled, model, seed):
    rng = np.random.default_rng(seed)
    yield compiled.initial, compiled.X, compiled.Y
    for B in BATCHES:
        p = compiled.initial + rng.normal(0, 0.2, compiled.initial.shape)
        yield p, rng.normal(0, 1, (B, len(model.inputs))), random_targets(model.loss, rng, (B, len(model.outputs)))


def numba_installed() -> bool:
    from symbackprop.compiler.compiled import numba_available

    return numba_available()


VARIANTS = [(c, False) for c in CASES] + ([(c, True) for c in CASES] if numba_installed() else [])


@pytest.fixture(scope="module", params=VARIANTS, ids=[f"{c[0]}{'-numba' if n else ''}" for c, n in VARIANTS])
def case(request):
    (name, model), numba = request.param
    return model, symbackprop.compile(symbackprop.derive(model), numba=numba)


def close(got, want, tol, floor=1e-8):
    scale = max(float(np.max(np.abs(want))), floor)
    assert float(np.max(np.abs(np.asarray(got) - want))) / scale <= tol, (got, want)


def agree(compiled, model, reference, seed):
    """Loss and gradient of the compiled code against an independent reference, on seeded batches."""
    for params, X, Y in batches(compiled, model, seed):
        value, grad = compiled(params, X, Y)
        ref_value, ref_grad = reference(params, X, Y)
        close([value], [ref_value], 1e-10)
        close(grad, ref_grad, 1e-10)
        yield params, X, Y, ref_value


def test_against_numpy_runtime(case):
    model, compiled = case
    for params, X, Y, ref_value in agree(compiled, model, Runtime(model), 1):
        assert compiled.loss(params, X, Y) == pytest.approx(ref_value, rel=1e-12)


def test_against_torch_autograd(case):
    pytest.importorskip("torch", reason="PyTorch is an optional extra: pip install 'symbackprop[torch]'")
    from symbackprop.reference.torch_model import TorchModel

    model, compiled = case
    for _ in agree(compiled, model, TorchModel(model), 2):
        pass


def test_against_finite_differences(case):
    model, compiled = case
    runtime = Runtime(model)
    for params, X, Y in list(batches(compiled, model, 3))[:3]:
        _, grad = compiled(params, X, Y)
        _, fd = finite_differences(runtime.loss, params, X, Y)
        close(grad, fd, 1e-6, floor=1e-3)  # a central difference's rounding is about 1e-10 of the loss, not of a tiny gradient


def test_seed003_gradients_are_the_texts_numbers():
    """Seed 003 states -0.0784 for dE/dw_a0 (delta_a times the bias input 1); the trace is exact."""
    d = symbackprop.derive(symbackprop.load(SEED_CHAIN))
    compiled = symbackprop.compile(d)
    value, grad = compiled(compiled.initial, compiled.X, compiled.Y)
    assert grad[0] == pytest.approx(-0.0784, abs=1e-15)
    assert value == pytest.approx(0.5 * 0.196**2, abs=1e-15)
    trace = d.trace(1)
    for i, p in enumerate(d.model.parameters):
        assert grad[i] == pytest.approx(float(trace[f"dE/d{p}"]), abs=1e-15)
    # the text's update w <- w + (-0.6) * dE/dw, and trained values after one step
    after = compiled.step(compiled.initial, compiled.X, compiled.Y)
    for i, p in enumerate(d.model.parameters):
        assert after[i] == pytest.approx(float(trace[f"{p}@2"]), abs=1e-15)


def test_step_keeps_frozen_parameters_and_uses_the_update_sign():
    name, model = next(c for c in CASES if c[0] == "shared-skip")
    compiled = symbackprop.compile(symbackprop.derive(model))
    X, Y = compiled.X, compiled.Y
    _, grad = Runtime(model)(compiled.initial, X, Y)
    after = compiled.step(compiled.initial, X, Y, 0.5)
    frozen = list(model.parameters).index("bb")
    expected = compiled.initial - 0.5 * grad
    expected[frozen] = compiled.initial[frozen]
    np.testing.assert_allclose(after, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("params, X, Y, expected", [
    (np.zeros(5), np.zeros((1, 3)), np.zeros((1, 1)), r"params has shape \(5,\); expected \(6,\)"),
    (np.zeros(6), np.zeros((2, 2)), np.zeros((2, 1)), r"X has shape \(2, 2\); expected \(B, 3\)"),
    (np.zeros(6), np.zeros(3), np.zeros(1), r"X has shape \(3,\); expected \(B, 3\)"),
    (np.zeros(6), np.zeros((2, 3)), np.zeros((3, 1)), r"Y has shape \(3, 1\); expected \(2, 1\)"),
    (np.zeros(6), np.zeros((0, 3)), np.zeros((0, 1)), r"expected \(B, 3\) with B >= 1"),
])
def test_shape_mismatch_names_the_expected_shape(params, X, Y, expected):
    compiled = symbackprop.compile(symbackprop.derive(symbackprop.load(SEED_CHAIN)))
    with pytest.raises(ValueError, match=expected):
        compiled(params, X, Y)


def test_lists_are_accepted_as_arrays():
    compiled = symbackprop.compile(symbackprop.derive(symbackprop.load(SEED_CHAIN)))
    value, grad = compiled(compiled.initial.tolist(), [[0.2, 0.1, 0.4]], [[1]])
    assert value == pytest.approx(0.019208, abs=1e-15)
    assert isinstance(grad, np.ndarray) and grad.dtype == np.float64


@pytest.mark.parametrize("numba", [False, True] if numba_installed() else [False])
@pytest.mark.parametrize("sizes", [[3, 2, 1], [4, 16, 16, 1]], ids=["float-code", "matrix-form"])
def test_read_only_and_odd_arrays_are_accepted(numba, sizes):
    """Arrays numba's signatures do not take (read-only, broadcast, float32) are converted; strided ones are taken."""
    model = symbackprop.dense(sizes, activation="tanh", loss="mse", seed=2)
    compiled = symbackprop.compile(symbackprop.derive(model), numba=numba)
    rng = np.random.default_rng(8)
    params, X, Y = compiled.initial, rng.normal(size=(6, sizes[0])), rng.normal(size=(6, 1))
    want_value, want_grad = Runtime(model)(params, X, Y)
    read_only = [a.copy() for a in (params, X, Y)]
    for a in read_only:
        a.setflags(write=False)
    strided = (np.repeat(params, 2)[::2], np.repeat(X, 2, axis=0)[::2], np.repeat(Y, 2, axis=0)[::2])
    for args, tol in [(read_only, 1e-12), (strided, 1e-12), ((params, np.broadcast_to(X[:1], X.shape), Y), None),
                      ((params.astype(np.float32), X.astype(np.float32), Y), 1e-6)]:
        value, grad = compiled(*args)
        if tol is None:  # a broadcast (read-only, zero-stride) X: compare with the runtime on a copy of it
            want = Runtime(model)(params, np.array(args[1]), Y)
            close([value], [want[0]], 1e-10)
            close(grad, want[1], 1e-10)
        else:
            close([value], [want_value], tol)
            close(grad, want_grad, tol)


def test_blocks_keep_the_widest_layer_within_128_kib():
    for sizes, rows in [([4, 16, 16, 1], 1024), ([8, 32, 32, 4], 512), ([2, 4, 4, 1], 4096), ([40, 3, 2], 256)]:
        model = symbackprop.dense(sizes, activation="relu", loss="mse", seed=0)
        assert plan(symbackprop.derive(model), numba=False, workers=1).chunk == chunk_rows(sizes) == rows, sizes
    assert chunk_rows([2, 16385]) == chunk_rows([2, 10**6]) == 256  # wider than 2**14: the floor


def test_large_batches_run_in_blocks_and_agree():
    for batch in ("mean", "sum"):
        model = symbackprop.dense([3, 5, 2], activation="sigmoid", loss="mse", batch=batch, seed=11)
        compiled = symbackprop.compile(symbackprop.derive(model), numba=False)
        chunk = compiled.namespace["CHUNK"]
        rng = np.random.default_rng(5)
        X, Y = rng.normal(size=(2 * chunk + 7, 3)), rng.normal(size=(2 * chunk + 7, 2))
        value, grad = compiled(compiled.initial, X, Y)
        ref_value, ref_grad = Runtime(model)(compiled.initial, X, Y)
        close([value], [ref_value], 1e-10)
        close(grad, ref_grad, 1e-10)
        assert compiled.loss(compiled.initial, X, Y) == pytest.approx(ref_value, rel=1e-12)
