"""The generated module's fixed functions, as ordinary Python that ruff and import-linter read.

emit_fixed.py copies each function's source here into every module, verbatim except for three
documented edits:

- the update rule is written for ``update = "add"``: ``p += lr`` in the docstrings and
  ``p + lr * grad * TRAINED`` in the returns of ``step`` and ``averaged_step``; a file that
  subtracts gets ``-``, and where every parameter is trained ``* TRAINED`` is left out;
- an ``if X.shape[0] <= LIMIT:`` statement is dropped, with its body, where the module has no
  code for that limit (FUSED_BATCH: the numba kernel; SCALAR_BATCH: the float code);
- a function named here after its shape (``loss_and_grad_fused``, ``_batch_in_blocks``...) is
  emitted under the name the module calls it by.

No generated module imports this one: each carries its own copy, and needs numpy alone (or
numpy and numba).
"""

from __future__ import annotations

import numpy

# Stand-ins for what the module's header and network code define before these functions, so that
# every name below resolves; none of them is copied.
N_PARAMETERS, INPUTS, OUTPUTS = 0, (), ()
LEARNING_RATE, TRAINED, WORKERS = 0.0, numpy.ones(N_PARAMETERS), 1
SCALAR_BATCH = FUSED_BATCH = CHUNK = 0
_ndarray, _float, _empty = numpy.ndarray, numpy.dtype(float), numpy.empty
_P_SHAPE, _X_COLUMNS, _Y_COLUMNS = (N_PARAMETERS,), (len(INPUTS),), (len(OUTPUTS),)


def _network_code(*args):
    raise NotImplementedError("printed from each derivation by the emitters")


_fused = _one = _scalar = _batch = _block = _network_code


def _check(params, X, Y):
    """Writeable float64 arrays (numba takes no others) of the expected shapes, or a ValueError
    that names them."""
    p, X, Y = (array if type(array) is _ndarray and array.dtype is _float and array.flags.writeable
               else numpy.array(array, dtype=float) for array in (params, X, Y))
    if p.shape != _P_SHAPE:
        raise ValueError(f'params has shape {p.shape}; expected ({N_PARAMETERS},), one value per name in PARAMETERS')
    if X.shape[1:] != _X_COLUMNS or X.shape[0] < 1:
        raise ValueError(f'X has shape {X.shape}; expected (B, {len(INPUTS)}) with B >= 1, columns {INPUTS}')
    if Y.shape[1:] != _Y_COLUMNS or Y.shape[0] != X.shape[0]:
        raise ValueError(f'Y has shape {Y.shape}; expected ({X.shape[0]}, {len(OUTPUTS)}), columns {OUTPUTS}')
    return p, X, Y


def loss_and_grad(params, X, Y):
    """(loss, gradient): the batch loss and dE/dp for every p in PARAMETERS (float64)."""
    if not (type(params) is _ndarray and type(X) is _ndarray and type(Y) is _ndarray
            and params.dtype is _float and X.dtype is _float and Y.dtype is _float
            and params.shape == _P_SHAPE and X.shape[1:] == _X_COLUMNS and Y.shape[1:] == _Y_COLUMNS
            and 0 < X.shape[0] == Y.shape[0]):  # else convert, or say which shape was expected
        params, X, Y = _check(params, X, Y)
    p = params
    if X.shape[0] <= FUSED_BATCH:
        grad = _empty(N_PARAMETERS)
        return _fused(p, X, Y, grad), grad
    if X.shape[0] <= SCALAR_BATCH:
        try:
            if X.shape[0] == 1:
                value, grad = _one(p.tolist(), X[0].tolist(), Y[0].tolist())
            else:
                value, grad = _scalar(p.tolist(), X.tolist(), Y.tolist())
            return value, numpy.array(grad, dtype=float)
        except OverflowError:  # math.exp overflows where numpy gives inf: take the numpy path
            pass
    return _batch(p, X, Y, True)


def loss(params, X, Y):
    """The batch loss alone."""
    if not (type(params) is _ndarray and type(X) is _ndarray and type(Y) is _ndarray
            and params.dtype is _float and X.dtype is _float and Y.dtype is _float
            and params.shape == _P_SHAPE and X.shape[1:] == _X_COLUMNS and Y.shape[1:] == _Y_COLUMNS
            and 0 < X.shape[0] == Y.shape[0]):  # else convert, or say which shape was expected
        params, X, Y = _check(params, X, Y)
    p = params
    if X.shape[0] <= FUSED_BATCH:
        return _fused(p, X, Y, _empty(N_PARAMETERS))
    if X.shape[0] <= SCALAR_BATCH:
        return loss_and_grad(p, X, Y)[0]
    return _batch(p, X, Y, False)


def loss_and_grad_fused(params, X, Y):
    """(loss, gradient): the batch loss and dE/dp for every p in PARAMETERS (float64)."""
    grad = _empty(N_PARAMETERS)
    try:
        return _fused(params, X, Y, grad), grad
    except (TypeError, ValueError):  # not float64 arrays of the expected shapes: convert, or say which was expected
        params, X, Y = _check(params, X, Y)
        return _fused(params, X, Y, grad), grad


def loss_fused(params, X, Y):
    """The batch loss alone."""
    return loss_and_grad(params, X, Y)[0]


def step(params, X, Y, lr=LEARNING_RATE):
    """One training step: p += lr * dE/dp for the trained parameters; the new parameters."""
    p = numpy.asarray(params, dtype=float)
    grad = loss_and_grad(p, X, Y)[1]
    return p + lr * grad * TRAINED


def split(X, Y, workers=WORKERS):
    """The batch cut into `workers` contiguous shards of equal size, as (X, Y) pairs."""
    X, Y = numpy.asarray(X, dtype=float), numpy.asarray(Y, dtype=float)
    if workers < 1 or X.shape[0] % workers:
        raise ValueError(f'{X.shape[0]} examples do not split into {workers} equal shards;'
                         ' expected a batch size that is a multiple of workers')
    size = X.shape[0] // workers
    return [(X[k * size:(k + 1) * size], Y[k * size:(k + 1) * size]) for k in range(workers)]


def averaged_loss_and_grad(params, shards):
    """(loss, gradient) averaged over workers, as an all-reduce mean computes them: shards holds
    one (X, Y) pair per worker; each worker combines its own examples as loss_and_grad does, and
    the workers count alike, whatever their shard sizes."""
    p = params if type(params) is _ndarray and params.dtype is _float else numpy.asarray(params, dtype=float)
    if p.shape != _P_SHAPE:
        raise ValueError(f'params has shape {p.shape}; expected ({N_PARAMETERS},), one value per name in PARAMETERS')
    total, grad, workers = 0.0, numpy.zeros(N_PARAMETERS), 0
    for k, shard in enumerate(shards):
        try:
            X, Y = shard
        except (TypeError, ValueError):
            raise ValueError(f'shard {k} is not an (X, Y) pair') from None
        try:
            value, g = loss_and_grad(p, X, Y)
        except ValueError as e:
            raise ValueError(f'shard {k}: {e}') from None
        total += value
        grad += g
        workers += 1
    if not workers:
        raise ValueError('no shards; expected one (X, Y) pair per worker')
    return total / workers, grad / workers


def averaged_step(params, shards, lr=LEARNING_RATE):
    """One data-parallel step, as every worker applies it: p += lr * averaged dE/dp (trained ones)."""
    p = numpy.asarray(params, dtype=float)
    grad = averaged_loss_and_grad(p, shards)[1]
    return p + lr * grad * TRAINED


def _batch_in_blocks(p, X, Y, backward):
    """Large batches in blocks of CHUNK rows, so that the temporaries stay in cache (bench)."""
    B = X.shape[0]
    if B <= CHUNK:
        return _block(p, X, Y, backward, B)
    parts = [_block(p, X[s:s + CHUNK], Y[s:s + CHUNK], backward, B) for s in range(0, B, CHUNK)]
    if not backward:
        return sum(parts)
    return sum(v for v, _ in parts), sum(g for _, g in parts)
