"""The compiled averaged gradient against the exact all-reduce mean (parallel.average), for equal and
unequal shards, mean and sum batches, matrix-form and graph code; and the exported module's split()."""

from __future__ import annotations

import dataclasses
import importlib.util
import random

import numpy as np
import pytest
import sympy as sp
from conftest import DERIVATIONS

import symbackprop
from symbackprop.compiler.compiled import numba_available
from symbackprop.compiler.generator import source
from symbackprop.core.model import Example
from symbackprop.parallel import averaging as parallel

TWO_GPUS = DERIVATIONS / "seed003_two_gpus.toml"
SHARED = DERIVATIONS / "shared_weight_batch.toml"
NUMBA = [False, True] if numba_available() else [False]


def with_examples(model, n: int, seed: int = 8):
    """The same network with n examples of exact two-decimal values."""
    rng = random.Random(seed)

    def draw():
        return sp.Rational(rng.randint(-100, 100), 100)

    examples = [Example({x: draw() for x in model.inputs}, {o: draw() for o in model.outputs}) for _ in range(n)]
    return dataclasses.replace(model, examples=examples)


def shard_arrays(model, groups):
    return [(np.array([[float(model.examples[k - 1].inputs[x]) for x in model.inputs] for k in g]),
             np.array([[float(model.examples[k - 1].targets[o]) for o in model.outputs] for k in g])) for g in groups]


def models():
    two_gpus = symbackprop.load(TWO_GPUS)
    return {
        "two-gpus-8": with_examples(two_gpus, 8),
        "two-gpus-sum": dataclasses.replace(with_examples(two_gpus, 6, seed=3), batch="sum"),
        "shared-weight": with_examples(symbackprop.load(SHARED), 6, seed=5),
    }


CASES = [(name, workers, sizes) for name in ("two-gpus-8", "two-gpus-sum", "shared-weight")
         for workers, sizes in ((2, None), (2, [1, 5] if name != "two-gpus-8" else [3, 5]), (3, None))
         if not (name == "two-gpus-8" and workers == 3)] + [("two-gpus-8", 4, None), ("two-gpus-8", 4, [1, 1, 2, 4])]


@pytest.mark.parametrize("numba", NUMBA, ids=lambda n: "numba" if n else "numpy")
@pytest.mark.parametrize("name,workers,sizes", CASES)
def test_averaged_gradient_equals_the_exact_all_reduce_mean(name, workers, sizes, numba):
    model = models()[name]
    exact = parallel.average(model, workers, sizes)
    compiled = symbackprop.compile(symbackprop.derive(model), numba=numba)
    shards = shard_arrays(model, exact.shards)
    value, grad = compiled.averaged_loss_and_grad(compiled.initial, shards)
    want_grad = np.array([float(exact.averaged[p]) for p in model.parameters])
    want_value = float(sp.Add(*exact.worker_loss) / workers)
    assert value == pytest.approx(want_value, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-15)
    step = compiled.averaged_step(compiled.initial, shards)
    np.testing.assert_allclose(step, [float(v) for v in exact.updated.values()], rtol=1e-12, atol=1e-15)
    if sizes is None:  # equal shards: the full-batch gradient, in floats as exactly
        full_value, full_grad = compiled(compiled.initial, compiled.X, compiled.Y)
        np.testing.assert_allclose(grad * (workers if model.batch == "sum" else 1), full_grad, rtol=1e-12, atol=1e-15)
        if model.batch == "mean":
            assert value == pytest.approx(full_value, rel=1e-12)
        else:  # a sum batch: each worker sums its shard, so the mean over workers is the full sum / K
            assert value == pytest.approx(full_value / workers, rel=1e-12)
    else:  # unequal shards: the unweighted mean is not the full-batch gradient
        assert not np.allclose(grad, [float(exact.full[p]) for p in model.parameters], rtol=1e-9)


def test_sum_batch_workers_sum_their_own_shards():
    model = models()["two-gpus-sum"]
    compiled = symbackprop.compile(symbackprop.derive(model), numba=False)
    shards = compiled.split(compiled.X, compiled.Y, 3)
    _, grad = compiled.averaged_loss_and_grad(compiled.initial, shards)
    by_hand = sum(compiled(compiled.initial, X, Y)[1] for X, Y in shards) / 3
    np.testing.assert_allclose(grad, by_hand, rtol=1e-15)
    np.testing.assert_allclose(grad * 3, compiled(compiled.initial, compiled.X, compiled.Y)[1], rtol=1e-12)


@pytest.mark.parametrize("shards, expected", [
    ([(np.zeros((2, 3)), np.zeros((2, 1))), (np.zeros((2, 2)), np.zeros((2, 1)))],
     r"shard 1: X has shape \(2, 2\); expected \(B, 3\) with B >= 1, columns \('x1', 'x2', 'x3'\)"),
    ([(np.zeros((2, 3)), np.zeros((3, 1)))], r"shard 0: Y has shape \(3, 1\); expected \(2, 1\)"),
    ([(np.zeros((0, 3)), np.zeros((0, 1)))], r"shard 0: X has shape \(0, 3\); expected \(B, 3\) with B >= 1"),
    ([np.zeros((3, 3))], r"shard 0 is not an \(X, Y\) pair"),
    ([(np.zeros((1, 3)), np.zeros((1, 1))), 7], r"shard 1 is not an \(X, Y\) pair"),
    ([], r"no shards; expected one \(X, Y\) pair per worker"),
])
@pytest.mark.parametrize("numba", NUMBA, ids=lambda n: "numba" if n else "numpy")
def test_shard_shape_mismatch_names_the_expected_shape(shards, expected, numba):
    compiled = symbackprop.compile(symbackprop.derive(symbackprop.load(TWO_GPUS)), numba=numba)
    with pytest.raises(ValueError, match=expected):
        compiled.averaged_loss_and_grad(compiled.initial, shards)
    with pytest.raises(ValueError, match=r"params has shape \(3,\); expected \(41,\)"):
        compiled.averaged_loss_and_grad(np.zeros(3), [(compiled.X, compiled.Y)])


def test_cli_workers_records_the_default_shard_count(run_cli, tmp_path):
    out = tmp_path / "two_gpus.py"
    done = run_cli("compile", str(TWO_GPUS), "--workers", "2", "-o", str(out))
    assert done.returncode == 0, done.stderr
    d = symbackprop.derive(symbackprop.load(TWO_GPUS))
    assert out.read_text() == source(d, workers=2) != source(d)  # byte-identical; K is recorded
    assert run_cli("compile", str(TWO_GPUS), "--workers", "2").stdout == out.read_text()
    spec = importlib.util.spec_from_file_location("two_gpus", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.WORKERS == 2
    exact = parallel.average(d.model, 2)
    compiled = symbackprop.compile(d, numba=False)
    shards = module.split(compiled.X, compiled.Y)
    assert [X.shape for X, _ in shards] == [(1, 3), (1, 3)]
    _, grad = module.averaged_loss_and_grad(module.INITIAL, shards)
    np.testing.assert_allclose(grad, [float(exact.averaged[p]) for p in d.model.parameters], rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="2 examples do not split into 3 equal shards"):
        module.split(compiled.X, compiled.Y, 3)
    bad = run_cli("compile", str(TWO_GPUS), "--workers", "0")
    assert bad.returncode == 2 and bad.stderr.strip() == "symbackprop: error: --workers: expected a number of workers >= 1, got 0"
