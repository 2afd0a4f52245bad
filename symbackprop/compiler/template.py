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

``input_gradients`` (or ``input_gradients_fused``) and ``_inputs_in_blocks`` are copied only into a
module compiled with ``input_gradients=True``; without it a module has the bytes it had before.

A file with an ``[optimizer]`` gets the functions after ``averaged_step`` instead of ``step`` and
``averaged_step`` (``step_optimized`` as ``step``, ``_optimize_masked`` as ``_optimize`` where a
parameter is frozen, its scheduler's closed form as ``_rate``); its ``_update``, the optimizer's
rule, is printed from core/optimizers.py by emit_fixed.py. A file without one keeps the bytes
it had before optimizers came.

No generated module imports this one: each carries its own copy, and needs numpy alone (or
numpy and numba).
"""

from __future__ import annotations

import math

import numpy

# Stand-ins for what the module's header and network code define before these functions, so that
# every name below resolves; none of them is copied.
N_PARAMETERS, INPUTS, OUTPUTS = 0, (), ()
LEARNING_RATE, TRAINED, WORKERS = 0.0, numpy.ones(N_PARAMETERS), 1
SCALAR_BATCH = FUSED_BATCH = CHUNK = 0
_ndarray, _float, _empty = numpy.ndarray, numpy.dtype(float), numpy.empty
_P_SHAPE, _X_COLUMNS, _Y_COLUMNS = (N_PARAMETERS,), (len(INPUTS),), (len(OUTPUTS),)
OPTIMIZER, OPTIONS, SCHEDULER, SCHEDULE = "", {}, None, {}
STATE: dict = {}  # the optimizer's state quantities, each with its value before the first step
STEPPED = numpy.flatnonzero(TRAINED)  # the trained parameters' positions, where some are frozen
# the names the printed _update gives the rules' quantities (core/optimizers.py), beside p, g, lr and t
m = v = m_hat = v_hat = buf = gbar = Delta = numpy.zeros(0)


def _network_code(*args):
    raise NotImplementedError("printed from each derivation by the emitters")


_fused = _one = _scalar = _batch = _block = _update = _rate = _network_code
_fused_inputs = _scalar_inputs = _batch_inputs = _block_inputs = _network_code  # with input_gradients only


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


# -- with input_gradients: dE/dX by the same code shapes ------------------------------------------


def input_gradients(params, X, Y):
    """dE/dX, shape (B, len(INPUTS)): the batch loss's gradient in each example's inputs (float64)."""
    if not (type(params) is _ndarray and type(X) is _ndarray and type(Y) is _ndarray
            and params.dtype is _float and X.dtype is _float and Y.dtype is _float
            and params.shape == _P_SHAPE and X.shape[1:] == _X_COLUMNS and Y.shape[1:] == _Y_COLUMNS
            and 0 < X.shape[0] == Y.shape[0]):  # else convert, or say which shape was expected
        params, X, Y = _check(params, X, Y)
    p = params
    if X.shape[0] <= FUSED_BATCH:
        out = _empty((X.shape[0], len(INPUTS)))
        _fused_inputs(p, X, Y, out)
        return out
    if X.shape[0] <= SCALAR_BATCH:
        try:
            return numpy.array(_scalar_inputs(p.tolist(), X.tolist(), Y.tolist()), dtype=float)
        except OverflowError:  # math.exp overflows where numpy gives inf: take the numpy path
            pass
    return _batch_inputs(p, X, Y)


def input_gradients_fused(params, X, Y):
    """dE/dX, shape (B, len(INPUTS)): the batch loss's gradient in each example's inputs (float64)."""
    if not (type(params) is _ndarray and type(X) is _ndarray and type(Y) is _ndarray
            and params.dtype is _float and X.dtype is _float and Y.dtype is _float
            and params.shape == _P_SHAPE and X.shape[1:] == _X_COLUMNS and Y.shape[1:] == _Y_COLUMNS
            and 0 < X.shape[0] == Y.shape[0]):  # else convert, or say which shape was expected
        params, X, Y = _check(params, X, Y)
    out = _empty((X.shape[0], len(INPUTS)))
    try:
        _fused_inputs(params, X, Y, out)
    except TypeError:  # a read-only array, which numba's compiled signature does not take: _check copies it
        params, X, Y = _check(params, X, Y)
        _fused_inputs(params, X, Y, out)
    return out


def _inputs_in_blocks(p, X, Y):
    """dE/dX of large batches in blocks of CHUNK rows, each block's rows written in place."""
    B = X.shape[0]
    if B <= CHUNK:
        return _block_inputs(p, X, Y, B)
    out = _empty((B, len(INPUTS)))
    for s in range(0, B, CHUNK):
        out[s:s + CHUNK] = _block_inputs(p, X[s:s + CHUNK], Y[s:s + CHUNK], B)
    return out


# -- with an [optimizer]: the state, the step, the scheduler -------------------------------------


def init_state():
    """The optimizer's state before the first step: ``t``, the steps taken (0); ``lr``, the learning
    rate the next step takes; and per name in STATE an array over PARAMETERS (NaN where a parameter
    is frozen: it has no state)."""
    state = {"t": 0, "lr": _rate(0, LEARNING_RATE)}
    for name, value in STATE.items():
        state[name] = numpy.where(TRAINED > 0, value, numpy.nan)
    return state


def step_optimized(params, state, X, Y):
    """One training step of OPTIMIZER at the batch gradient: (the new parameters, the new state), from
    the state init_state() or the last step gave; neither argument is changed."""
    p = numpy.array(params, dtype=float)
    grad = loss_and_grad(p, X, Y)[1]
    return _optimize(p, grad, state)


def averaged_step_optimized(params, state, shards):
    """One data-parallel step, as every worker applies it: OPTIMIZER fed the averaged dE/dp;
    (the new parameters, the new state)."""
    p = numpy.array(params, dtype=float)
    grad = averaged_loss_and_grad(p, shards)[1]
    return _optimize(p, grad, state)


def _state(state):
    """(this step's t, its learning rate, the arrays of STATE in order), or a ValueError naming what
    was expected."""
    try:
        t, lr = int(state["t"]) + 1, float(state["lr"])
        previous = [numpy.asarray(state[name], dtype=float) for name in STATE]
    except (TypeError, KeyError, ValueError, IndexError):
        raise ValueError('state is not an optimizer state; expected the dict init_state() gives,'
                         f' with t, lr{"".join(", " + name for name in STATE)}') from None
    if t < 1:
        raise ValueError(f'state has t = {t - 1}; expected the number of steps taken, 0 or more')
    for name, s in zip(STATE, previous):
        if s.shape != _P_SHAPE:
            raise ValueError(f'state[{name!r}] has shape {s.shape}; expected ({N_PARAMETERS},), one value per name in PARAMETERS')
    return t, lr, previous


def _optimize(p, grad, state):
    """The optimizer's update at ``grad`` (the parameters ``p`` are overwritten), then the scheduler's
    next learning rate: (the new parameters, the new state)."""
    t, lr, previous = _state(state)
    p, values = _update(p, grad, lr, t, *previous)
    new = {"t": t, "lr": _rate(t, lr)}
    new.update(zip(STATE, values))
    return p, new


def _optimize_masked(p, grad, state):
    """The optimizer's update of the trained parameters alone (STEPPED), then the scheduler's next
    learning rate: (the new parameters, the new state; frozen parameters keep NaN there)."""
    t, lr, previous = _state(state)
    p[STEPPED], values = _update(p[STEPPED], grad[STEPPED], lr, t, *(s[STEPPED] for s in previous))
    new = {"t": t, "lr": _rate(t, lr)}
    for name, s, value in zip(STATE, previous, values):
        new[name] = s.copy()
        new[name][STEPPED] = value
    return p, new


def _constant_lr(k, lr):
    """No scheduler: the learning rate stays what the state holds."""
    return lr


def _step_lr(k, lr):
    """StepLR's rate after k steps (torch's closed form): lr0 gamma^floor(k / step_size)."""
    return LEARNING_RATE * SCHEDULE["gamma"] ** (k // SCHEDULE["step_size"])


def _multi_step_lr(k, lr):
    """MultiStepLR's rate after k steps: lr0 gamma^(the number of milestones <= k)."""
    return LEARNING_RATE * SCHEDULE["gamma"] ** sum(k >= milestone for milestone in SCHEDULE["milestones"])


def _exponential_lr(k, lr):
    """ExponentialLR's rate after k steps: lr0 gamma^k."""
    return LEARNING_RATE * SCHEDULE["gamma"] ** k


def _cosine_annealing_lr(k, lr):
    """CosineAnnealingLR's rate after k steps: eta_min + (lr0 - eta_min) (1 + cos(pi k / T_max)) / 2."""
    return SCHEDULE["eta_min"] + (LEARNING_RATE - SCHEDULE["eta_min"]) * (1 + math.cos(math.pi * k / SCHEDULE["T_max"])) / 2


def _linear_lr(k, lr):
    """LinearLR's rate after k steps: lr0 (start_factor + (end_factor - start_factor) min(k, total_iters) / total_iters)."""
    start, end, total = SCHEDULE["start_factor"], SCHEDULE["end_factor"], SCHEDULE["total_iters"]
    return LEARNING_RATE * (start + (end - start) * min(k, total) / total)
