"""Data-parallel training with an [optimizer]: the averaged gradient feeds it. With equal shards of a mean
batch the averaged gradient is the full-batch gradient, so K workers must follow the single-process
trajectory (reference/numpy_training.py): the compiled averaged_step, the exact averaged steps, the
walkthrough, and a real torch.distributed run (each rank's own torch.optim), resumed bit for bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import symbackprop
from symbackprop.core.errors import InputError
from symbackprop.parallel import averaging, distributed, walkthrough
from symbackprop.reference import numpy_training

EXAMPLES = [(["0.5", "-1"], ["0.2"]), (["1.5", "0.25"], ["-0.4"]), (["-0.75", "2"], ["1"]), (["0", "1"], ["0.5"])]
ADAM = {"name": "Adam", "betas": ["0.8", "0.99"], "weight_decay": "0.01"}
STEP_LR = {"name": "StepLR", "step_size": 2, "gamma": "0.5"}


def close(got, expected, rtol: float = 1e-12) -> None:
    """Equal to rtol of the array's largest value (an element near 0 carries its neighbours' rounding), NaN alike."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    keep = ~np.isnan(expected)
    assert np.max(np.abs(got[keep] - expected[keep])) <= rtol * np.max(np.abs(expected[keep])), (got, expected)


def net(optimizer=ADAM, scheduler=STEP_LR, activation="tanh", frozen=False):
    m = symbackprop.dense([2, 3, 1], activation, output_activation="identity", seed=5, examples=EXAMPLES,
                          learning_rate="0.1", optimizer=optimizer, scheduler=scheduler)
    return dataclasses.replace(m, trained=[p for p in m.parameters if p != "b2_1"]) if frozen else m


@pytest.mark.parametrize("optimizer,scheduler", [(ADAM, STEP_LR), ({"name": "SGD", "momentum": "0.9", "nesterov": True},
                                                                   {"name": "CosineAnnealingLR", "T_max": 3}),
                                                 ({"name": "RMSprop", "centered": True, "momentum": "0.5"}, None)])
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_averaged_step_follows_the_single_process_trajectory(workers, optimizer, scheduler):
    m = net(optimizer, scheduler, frozen=True)
    f = symbackprop.compile(symbackprop.derive(m), numba=False)
    single = numpy_training.train(m, 10)
    shards = f.split(f.X, f.Y, workers)
    params, state = f.initial, f.init_state()
    for t in range(10):
        params, state = f.averaged_step(params, state, shards)
        close(params, single.after[t])
        for name, value in single.states[t].items():
            close(state[name], value)  # NaN where frozen, on both sides
    assert state["t"] == 10 and state["lr"] == pytest.approx(single.lrs[-1] if scheduler is None else
                                                             numpy_training.learning_rate(m, 11), rel=1e-15)


def test_unequal_shards_feed_the_unweighted_mean():
    m = net({"name": "SGD", "momentum": "0.9"}, None)
    f = symbackprop.compile(symbackprop.derive(m), numba=False)
    shards = [(f.X[:1], f.Y[:1]), (f.X[1:], f.Y[1:])]
    params, state = f.averaged_step(f.initial, f.init_state(), shards)
    grad = f.averaged_loss_and_grad(f.initial, shards)[1]
    expected, _ = f.namespace["_optimize"](f.initial.copy(), grad, f.init_state())
    np.testing.assert_array_equal(params, expected)
    assert not np.allclose(params, numpy_training.train(m, 1).after[0], rtol=1e-6)  # not the full batch's step


def test_exact_averaged_steps_carry_the_optimizer_state():
    m = net(activation="relu")
    exact = averaging.train(m, 2, steps=3)
    single = numpy_training.train(m, 3)
    for t in (1, 2, 3):
        close([float(v) for v in exact[t].values()], single.after[t - 1])
    step = averaging.average(m, 2)
    assert [head for head, _ in step.steps["w1_1_1"]] == ["m", "v", "m_hat", "v_hat", "Delta"]
    assert step.updated["w1_1_1"] == m.parameters["w1_1_1"] + dict(step.steps["w1_1_1"])["Delta"]


def test_walkthrough_says_the_optimizer_takes_the_averaged_gradient():
    story = walkthrough.build(net(activation="relu", frozen=True), 2)
    update = next(s for s in story.sections if s.title.startswith("The averaged update"))
    assert "its own Adam (lr = 0.1 (StepLR at step 1))" in update.text[0]
    first = update.steps[0]
    assert first.note.startswith("Adam at the averaged gradient") and "m_hat = " in first.note
    assert update.steps[-1].note == "held fixed"


@pytest.fixture(scope="module")
def torch_run():
    pytest.importorskip("torch", reason="PyTorch (the torch extra) runs the distributed workers")
    m = net()
    return m, distributed.run(m, 2, steps=6, timeout=60)


def test_distributed_run_feeds_each_ranks_torch_optim(torch_run):
    m, history = torch_run
    reference = distributed.compiled_reference(m, 2, steps=6)
    assert distributed.largest_relative_error(history, reference) <= 1e-12
    assert distributed.largest_relative_error(history, list(numpy_training.train(m, 6).after)) <= 1e-12


def test_distributed_resume_carries_the_optimizer_state(torch_run, tmp_path):
    m, whole = torch_run
    ckpt = tmp_path / "state.json"
    with pytest.raises(distributed.RunFailed):
        distributed.run(m, 2, steps=6, timeout=5, checkpoint=ckpt, every=2, fault=distributed.Fault(1, 5, "crash"))
    step, values, state = distributed.read_checkpoint_state(ckpt, m, 2)
    assert step == 4 and state["t"] == 4 and set(state) == {"t", "lr", "m", "v"}
    assert state["lr"] == pytest.approx(0.1 * 0.5**2, rel=1e-15)
    rest = distributed.run(m, 2, steps=6, timeout=60, checkpoint=ckpt, resume=True)
    assert len(rest) == 2 and np.array_equal(rest[-1], whole[-1])  # bit for bit
    reference = distributed.compiled_reference(m, 2, 6, start=values, first=step, state=state)
    assert distributed.largest_relative_error(rest, reference) <= 1e-12
    plain = dataclasses.replace(m, optimizer=None, scheduler=None)
    with pytest.raises(InputError, match="another optimizer"):
        distributed.read_checkpoint_state(ckpt, plain, 2)


def test_cli_checked_run_resumes_with_the_optimizer_state(torch_run, run_cli, tmp_path):
    m, _ = torch_run
    path, ckpt = tmp_path / "adam.toml", tmp_path / "ckpt.json"
    path.write_text(m.to_toml())
    first = run_cli("parallel", str(path), "--workers", "2", "--run", "torch", "--steps", "3", "--checkpoint", str(ckpt))
    assert first.returncode == 0, first.stderr
    rest = run_cli("parallel", str(path), "--workers", "2", "--run", "torch", "--steps", "5", "--checkpoint", str(ckpt),
                   "--resume")
    assert rest.returncode == 0, rest.stderr
    assert "steps 4..5" in rest.stdout and "(within 1e-12)" in rest.stdout
