"""The compiler decides once (a frozen plan) and prints without side effects (the same text every call)."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from catalogue import SHARED_SKIP, dense_cases
from conftest import SEED_CHAIN

import symbackprop
from symbackprop.compiler import template
from symbackprop.compiler.generator import source
from symbackprop.compiler.plan import FUSED_WORK, Shape, chunk_rows, plan
from symbackprop.core.derivation_file import loads
from symbackprop.core.errors import InputError

DENSE = symbackprop.derive(symbackprop.dense([4, 16, 16, 1], seed=0))  # 369 parameters: too many for the float code
SMALL = symbackprop.derive(symbackprop.dense([2, 2, 1], seed=0))
SHARED = symbackprop.derive(loads(SHARED_SKIP))  # shared weights, a bias input, a skip, a frozen bias
CHAIN = symbackprop.derive(symbackprop.load(SEED_CHAIN))


@pytest.mark.parametrize("numba", [False, True])
@pytest.mark.parametrize("d", [DENSE, SMALL, SHARED, CHAIN], ids=["dense", "small", "shared", "chain"])
def test_emitting_twice_gives_the_same_text(d, numba):
    assert source(d, numba=numba) == source(d, numba=numba)


@pytest.mark.parametrize("d, numba, shapes", [
    (SMALL, False, (Shape.STRAIGHT, Shape.MATRIX)),
    (SMALL, True, (Shape.FUSED,)),
    (CHAIN, False, (Shape.STRAIGHT, Shape.COLUMNS)),  # a constant input: no matrix form
    (DENSE, False, (Shape.MATRIX,)),
    (DENSE, True, (Shape.KERNEL, Shape.MATRIX)),
    (SHARED, False, (Shape.STRAIGHT, Shape.COLUMNS)),
    (SHARED, True, (Shape.FUSED,)),
], ids=["small", "small-numba", "chain", "dense", "dense-numba", "shared", "shared-numba"])
def test_each_network_gets_the_code_shapes_it_should(d, numba, shapes):
    decided = plan(d, numba, 1)
    assert decided.shapes == shapes
    assert decided.numba == (Shape.FUSED in shapes or Shape.KERNEL in shapes)
    assert (decided.matrix is not None) == (d is DENSE or d is SMALL)


def test_the_limits_are_computed_once_in_the_plan():
    dense, small, shared = plan(DENSE, True, 1), plan(SMALL, False, 1), plan(SHARED, False, 1)
    assert dense.parameters == 369 and dense.scalar_batch == 0
    assert dense.fused_batch == dense.small_batch == FUSED_WORK // 369 == 88
    assert dense.chunk == chunk_rows([4, 16, 16, 1]) == 1024
    assert small.scalar_batch == small.small_batch == 16 and small.fused_batch is None
    assert shared.chunk is None and shared.matrix is None and shared.masked  # bb is frozen
    assert not dense.masked


def test_the_matrix_plan_names_each_layer():
    layers = plan(DENSE, False, 1).matrix.layers
    assert [(layer.fan_in, layer.width, layer.bias, layer.columns) for layer in layers] == [
        (4, 16, True, 5), (16, 16, True, 17), (16, 1, True, 17)]
    assert [layer.block for layer in layers] == [(0, 80), (80, 352), (352, 369)]
    assert all(layer.ones_row for layer in layers) and layers[0].activation == "relu"
    assert layers[1].weights[0] == tuple(range(80, 96)) and layers[1].biases[0] == 96
    shuffled = dict(dense_cases())["dense-shuffled-3-12-6-2"]  # biases before weights: gathered, not one block
    gathered = plan(symbackprop.derive(shuffled), False, 1).matrix.layers
    assert [(layer.block, layer.ones_row) for layer in gathered] == [(None, False)] * 3


def test_the_plan_is_frozen():
    decided = plan(DENSE, False, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decided.shapes = (Shape.COLUMNS,)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decided.matrix.layers[0].block = None


def test_workers_must_be_a_positive_count():
    for workers in (0, True, 1.5):
        with pytest.raises(InputError):
            plan(SMALL, False, workers)


def test_the_template_functions_are_copied_verbatim():
    text = source(SMALL)
    for function in (template._check, template.split, template.averaged_loss_and_grad):
        assert inspect.getsource(function) in text
