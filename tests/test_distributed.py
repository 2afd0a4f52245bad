"""The real run on torch.distributed (gloo, loopback) against the compiled averaged update and the
exact averaged update; a crashed or hung rank is named; a resumed run ends where an uninterrupted one does."""

import numpy as np
import pytest

import symbackprop
from symbackprop.core.errors import InputError
from symbackprop.parallel import averaging as parallel
from symbackprop.parallel import distributed

pytest.importorskip("torch", reason="PyTorch (the torch extra) runs the distributed workers")

EXAMPLES = [(["0.5", "-1"], ["0.2"]), (["1.5", "0.25"], ["-0.4"]), (["-0.75", "2"], ["1"]), (["0", "1"], ["0.5"])]


def model(steps_activation="tanh"):
    return symbackprop.dense([2, 3, 1], steps_activation, output_activation="identity", seed=5, examples=EXAMPLES,
                             learning_rate="0.1")


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_run_agrees_with_compiled_and_exact_averaged_update(workers):
    m = model()
    history = distributed.run(m, workers, steps=3, timeout=60)
    reference = distributed.compiled_reference(m, workers, steps=3)
    assert distributed.largest_relative_error(history, reference) <= 1e-12
    exact = parallel.train(m, workers, steps=2)  # exact rationals and closed forms, independent of torch and numpy
    for step in (1, 2):
        np.testing.assert_allclose(history[step - 1], [float(v) for v in exact[step].values()], rtol=1e-12, atol=1e-14)


def test_unequal_shards_run_the_unweighted_mean():
    m = model("relu")
    history = distributed.run(m, 2, steps=2, sizes=[1, 3], timeout=60)
    exact = parallel.train(m, 2, steps=2, sizes=[1, 3])
    np.testing.assert_allclose(history[-1], [float(v) for v in exact[2].values()], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode,fragment", [("crash", "rank 1 exited with code 17 during step 2"),
                                           ("hang", "rank 1 made no progress on step 2 within 3 s")])
def test_a_failed_rank_is_named(mode, fragment):
    with pytest.raises(distributed.RunFailed, match=fragment):
        distributed.run(model(), 2, steps=4, timeout=3, fault=distributed.Fault(1, 2, mode))


def test_resume_ends_where_an_uninterrupted_run_ends(tmp_path):
    m = model()
    whole = distributed.run(m, 2, steps=6, timeout=60)
    ckpt = tmp_path / "state.json"
    with pytest.raises(distributed.RunFailed):
        distributed.run(m, 2, steps=6, timeout=5, checkpoint=ckpt, every=2, fault=distributed.Fault(1, 5, "crash"))
    assert '"step": 4' in ckpt.read_text()
    rest = distributed.run(m, 2, steps=6, timeout=60, checkpoint=ckpt, resume=True)
    assert len(rest) == 2
    assert np.array_equal(rest[-1], whole[-1])  # bit for bit


def test_checkpoint_of_another_network_is_refused(tmp_path):
    ckpt = tmp_path / "state.json"
    distributed.run(model(), 2, steps=1, timeout=60, checkpoint=ckpt)
    other = symbackprop.dense([2, 2, 1], seed=1, examples=EXAMPLES)
    with pytest.raises(InputError, match="another network"):
        distributed.run(other, 2, steps=2, checkpoint=ckpt, resume=True)


def test_cli_run_and_fault(run_cli, tmp_path):
    path = tmp_path / "net.toml"
    path.write_text(model().to_toml())
    ok = run_cli("parallel", str(path), "--workers", "2", "--run", "torch", "--steps", "5")
    assert ok.returncode == 0, ok.stderr
    assert "from the compiled averaged update" in ok.stdout and "(within 1e-12)" in ok.stdout
    bad = run_cli("parallel", str(path), "--workers", "2", "--run", "torch", "--steps", "5", "--timeout", "3",
                  "--inject-fault", "1:3:crash")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == ["symbackprop: run failed: rank 1 exited with code 17 during step 3"]


@pytest.mark.parametrize("args,key", [(["--every", "0"], "--every"), (["--steps", "0"], "--steps"),
                                      (["--timeout", "-1"], "--timeout"), (["--resume"], "--resume")])
def test_bad_run_options_exit_2(run_cli, tmp_path, args, key):
    path = tmp_path / "net.toml"
    path.write_text(model().to_toml())
    r = run_cli("parallel", str(path), "--workers", "2", "--run", "torch", "--steps", "3", *args)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and key in r.stderr and "Traceback" not in r.stderr


def test_resume_beyond_the_requested_steps_is_refused(run_cli, tmp_path):
    path, ckpt = tmp_path / "net.toml", tmp_path / "state.json"
    path.write_text(model().to_toml())
    assert run_cli("parallel", str(path), "--workers", "2", "--run", "torch", "--steps", "2", "--checkpoint", str(ckpt)).returncode == 0
    r = run_cli("parallel", str(path), "--workers", "2", "--run", "torch", "--steps", "2", "--checkpoint", str(ckpt), "--resume")
    assert r.returncode == 2 and "at step 2 already" in r.stderr


class _Exited:
    """A rank's process as _culprit sees it: its exit code, whether it runs."""

    def __init__(self, code):
        self.exitcode = code

    def is_alive(self):
        return self.exitcode is None


class _NoReports:
    def get_nowait(self):
        raise distributed.queue_module.Empty


@pytest.mark.parametrize("reported,steps,expected", [
    ({0: 1, 1: 0}, 3, "rank 1 exited with code 17 during step 2"),
    ({0: 1, 1: 1}, 1, "rank 1 exited with code 17 while finishing, after step 1"),
])
def test_a_failure_names_its_step_or_the_finish(reported, steps, expected):
    """Every rank reported step 1 of a one-step run: a crash then is in the finish, not a step 2."""
    procs = [_Exited(0), _Exited(17)]
    assert distributed._culprit(procs, _NoReports(), dict(reported), set(), 30.0, steps) == expected


def test_a_hang_after_the_last_step_is_named_so():
    procs = [_Exited(None), _Exited(0)]
    got = distributed._culprit(procs, _NoReports(), {0: 2, 1: 2}, set(), 5.0, 2)
    assert got == "rank 0 made no progress finishing the run after step 2 within 5 s"
