"""Big layered nets compile without per-parameter expressions, and their modules compute what the
references do: dense 784-64-10 (50,890 parameters) against the NumPy runtime and torch autograd.
No test here is timed (bench's big_nets section measures the speed)."""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import symbackprop
from symbackprop.compiler.generator import source
from symbackprop.compiler.plan import BIG_CHUNK, FUSED_WORK, ONES_ROW_INPUTS, Shape, plan
from symbackprop.reference.numpy_runtime import Runtime

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalogue import dense_cases  # noqa: E402
from golden import MANIFEST  # noqa: E402

TOLERANCE = 1e-12


def relative(got, want) -> float:
    """Largest difference over the largest reference value (1e-8 where the reference is all but zero)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-8))


@pytest.fixture(scope="module")
def big():
    """dense 784-64-10 (relu, identity outputs, mse), derived and compiled once: (model, derivation, compiled)."""
    model = symbackprop.dense([784, 64, 10], activation="relu", output_activation="identity", loss="mse", seed=1)
    d = symbackprop.derive(model)
    return model, d, symbackprop.compile(d, input_gradients=True)


def batches(model, sizes=(1, 64, 1500), seed=0):
    """Random batches, 1500 rows being one block of CHUNK (1024 for a net this big) and a rest."""
    rng = np.random.default_rng(seed)
    n, k = len(model.inputs), len(model.outputs)
    for B in sizes:
        Y = np.eye(k)[rng.integers(0, k, B)] if model.loss in ("cross_entropy", "nll") else rng.normal(size=(B, k))
        yield rng.normal(size=(B, n)), Y


def test_compiling_a_layered_net_builds_no_per_parameter_expression(big):
    """The matrix form reads each layer's function-table row and the outputs' error terms: the
    derivation's sums (one product per edge), its backward pass and its gradients stay unbuilt, and so
    does the compiler's per-parameter renaming table."""
    model, d, compiled = big
    assert d.built == Counter()
    assert not {"z_expr", "_backward", "expanded_deltas", "flat_values"} & set(d.__dict__)
    assert len(compiled.parameters) == 50_890
    # still all there on demand, as an eager derivation has them
    assert str(d.gradient("w1_3_784")) == "delta_n1_3*x784" and str(d.gradient("b2_1")) == "delta_n2_1"
    upstream = sum(d.delta_symbol[f"n2_{j}"] * d.symbols[f"w2_{j}_3"] for j in range(1, 11))
    assert d.deltas["n1_3"] == upstream * d.activation_factor["n1_3"].expr  # relu': Heaviside(z_n1_3, 0)
    assert d.built == Counter({"deltas": 74, "gradients": 2})


def test_the_lazy_parts_are_what_an_eager_derivation_built():
    """For a small net the sums, error terms and chains built on demand, after compiling, equal those
    read first: laziness changes when they are built, never what they are."""
    model = symbackprop.dense([3, 4, 2], activation="tanh", output_activation="softmax", loss="cross_entropy", seed=3)
    first, later = symbackprop.derive(model), symbackprop.derive(model)
    eager = (dict(first.z_expr), dict(first.deltas), dict(first.dE_da), dict(first.jacobian_deltas),
             [first.gradient(p, "flat") for p in model.parameters], [first.chain(p) for p in model.parameters])
    symbackprop.compile(later, numba=False)
    assert (later.z_expr, later.deltas, later.dE_da, later.jacobian_deltas) == eager[:4]
    assert [later.gradient(p, "flat") for p in model.parameters] == eager[4]
    assert [later.chain(p) for p in model.parameters] == eager[5]


def test_the_plan_of_a_big_net(big):
    """Layer 1 reads X in place (784 inputs: no row of ones, which would copy X), the next layer takes
    its ones row; no numba kernel, which past FUSED_WORK parameters would not even take B = 1; blocks
    of BIG_CHUNK rows."""
    model, d, compiled = big
    for numba in (False, True):
        decided = plan(d, numba, 1)
        assert decided.shapes == (Shape.MATRIX,) and not decided.numba and decided.parameters > FUSED_WORK
        assert decided.chunk == BIG_CHUNK == 1024  # a gradient of 50,890 values per block: blocks of 1024 rows, not 256
        assert [(layer.block, layer.ones_row) for layer in decided.matrix.layers] == [((0, 50240), False), ((50240, 50890), True)]
    assert "import numba" not in compiled.source
    assert "    Z1 = W1 @ A0\n    Z1 += P1[:, 784:]  # the biases\n" in compiled.source
    assert compiled.parameters == tuple(model.parameters)  # PARAMETERS, one string split at import
    assert np.array_equal(compiled.namespace["INITIAL"], [float(v) for v in model.parameters.values()])
    assert compiled.namespace["TRAINED"].shape == (50_890,) and compiled.namespace["TRAINED"].all()


def test_big_net_equals_the_numpy_runtime(big):
    model, d, compiled = big
    runtime = Runtime(model)
    params = compiled.initial + np.random.default_rng(1).normal(scale=0.05, size=compiled.initial.shape)
    for X, Y in batches(model):
        (loss, grad), (want_loss, want_grad) = compiled(params, X, Y), runtime(params, X, Y)
        assert relative(loss, want_loss) <= TOLERANCE and relative(grad, want_grad) <= TOLERANCE, X.shape
        assert compiled.loss(params, X, Y) == pytest.approx(want_loss, rel=TOLERANCE)


def test_big_net_equals_torch_autograd(big):
    pytest.importorskip("torch", reason="PyTorch is an optional extra: pip install 'symbackprop[torch]'")
    from symbackprop.reference.torch_model import TorchModel

    model, d, compiled = big
    ref = TorchModel(model)
    params = compiled.initial
    for X, Y in batches(model, seed=2):
        (loss, grad), (want_loss, want_grad) = compiled(params, X, Y), ref(params, X, Y)
        assert relative(loss, want_loss) <= TOLERANCE and relative(grad, want_grad) <= TOLERANCE, X.shape
        Xt = ref.tensor(X).requires_grad_(True)
        ref.loss(ref.tensor(params), Xt, ref.tensor(Y)).backward()
        assert relative(compiled.input_gradients(params, X, Y), Xt.grad.numpy()) <= 1e-10, X.shape


@pytest.mark.parametrize("numba", [False, True])
def test_a_wide_input_layer_with_a_head_and_the_kernel(numba):
    """dense 100-8-3 with softmax and cross-entropy (835 parameters): layer 1 in place in the matrix
    form, numba's kernel (unchanged) for small batches; and past COMPACT parameters, dense 784-32-10."""
    for sizes in ([100, 8, 3], [784, 32, 10]):
        model = symbackprop.dense(sizes, activation="tanh", output_activation="softmax", loss="cross_entropy", seed=4)
        d = symbackprop.derive(model)
        compiled = symbackprop.compile(d, numba=numba)
        assert sizes[0] > ONES_ROW_INPUTS and not plan(d, numba, 1).matrix.layers[0].ones_row
        assert d.built == Counter()  # the softmax head reads the outputs alone
        runtime = Runtime(model)
        for X, Y in batches(model, (1, 7, 300, 1100), seed=5):  # 300: two blocks of 100-8-3's 256 rows
            (loss, grad), (want_loss, want_grad) = compiled(compiled.initial, X, Y), runtime(compiled.initial, X, Y)
            assert relative(loss, want_loss) <= TOLERANCE and relative(grad, want_grad) <= TOLERANCE, (sizes, X.shape)


def test_the_layered_catalogue_modules_are_unchanged():
    """The golden SHA-256 of every dense catalogue net's module, numba off and on (tests/golden.py
    holds all of them; these are the ones the matrix form, the header and the lazy derivation print)."""
    want = json.loads(MANIFEST.read_text(encoding="utf-8"))
    for name, model in dense_cases():
        d = symbackprop.derive(model)
        for numba in (False, True):
            key = f"{name}{'-numba' if numba else ''}"
            assert hashlib.sha256(source(d, numba=numba).encode()).hexdigest() == want[key], key
