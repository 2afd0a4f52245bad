"""The worker under the standard launcher: torchrun on one node and as two node processes on 127.0.0.1,
checked against the compiled averaged update and the exact averaged update; a worker killed under
--max-restarts resumes from rank 0's checkpoint and the run ends bit for bit where an uninterrupted one does."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import symbackprop
from symbackprop.parallel import averaging as parallel
from symbackprop.parallel import distributed

pytest.importorskip("torch", reason="PyTorch (the torch extra) provides torchrun and the distributed workers")

EXAMPLES = [(["0.5", "-1"], ["0.2"]), (["1.5", "0.25"], ["-0.4"]), (["-0.75", "2"], ["1"]), (["0", "1"], ["0.5"])]
WORKER = ["-m", "symbackprop.parallel.worker"]
VERDICT = "largest relative difference from the compiled averaged update"


def model():
    return symbackprop.dense([2, 3, 1], "tanh", output_activation="identity", seed=5, examples=EXAMPLES, learning_rate="0.1")


def env():
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def torchrun(*args: str, cwd, timeout: float = 90) -> subprocess.CompletedProcess:
    """``torchrun ARGS`` (torch.distributed.run is what the torchrun script runs)."""
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", *args], capture_output=True, text=True,
                          env=env(), cwd=cwd, timeout=timeout)


def history(path) -> list[np.ndarray]:
    return [np.array([float.fromhex(h) for h in row]) for row in json.loads(path.read_text())["history"]]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    path = tmp_path_factory.mktemp("torchrun") / "net.toml"
    path.write_text(model().to_toml())
    return path


@pytest.fixture(scope="module")
def uninterrupted(net):
    """One node, two ranks, four steps, a checkpoint every step: the run the others are compared with."""
    result = net.parent / "whole.json"
    r = torchrun("--standalone", "--nproc-per-node", "2", *WORKER, str(net), "--steps", "4", "--every", "1",
                 "--checkpoint", str(net.parent / "whole.ckpt"), "--result", str(result), cwd=net.parent)
    return r, result


def test_standalone_matches_the_compiled_and_exact_averaged_update(uninterrupted):
    r, result = uninterrupted
    assert r.returncode == 0, r.stderr[-3000:]
    assert [line for line in r.stdout.splitlines() if VERDICT in line] == [json.loads(result.read_text())["verdict"]]
    assert "torchrun (gloo, 2 ranks on 1 node), steps 1..4" in r.stdout and "(within 1e-12)" in r.stdout
    run = history(result)
    m = model()
    assert distributed.largest_relative_error(run, distributed.compiled_reference(m, 2, steps=4)) <= 1e-12
    exact = parallel.train(m, 2, steps=2)  # exact rationals, independent of torch and numpy
    for step in (1, 2):
        np.testing.assert_allclose(run[step - 1], [float(v) for v in exact[step].values()], rtol=1e-12, atol=1e-14)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_node_processes_of_two_ranks_match_the_compiled_update_for_four_workers(net):
    result, port = net.parent / "two_nodes.json", _free_port()
    nodes = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "2",
                               "--node-rank", str(rank), "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}",
                               *WORKER, str(net), "--steps", "3", "--result", str(result)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(), cwd=net.parent)
             for rank in (0, 1)]
    try:
        outputs = [node.communicate(timeout=90) for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
                node.communicate()
    assert [node.returncode for node in nodes] == [0, 0], "\n".join(err[-2000:] for _, err in outputs)
    data = json.loads(result.read_text())
    assert (data["workers"], data["nodes"], data["shards"]) == (4, 2, [[1], [2], [3], [4]])
    assert "torchrun (gloo, 4 ranks on 2 nodes), steps 1..3" in outputs[0][0] + outputs[1][0]
    reference = distributed.compiled_reference(model(), 4, steps=3)
    assert distributed.largest_relative_error(history(result), reference) <= 1e-12
    exact = parallel.train(model(), 4, steps=1)
    np.testing.assert_allclose(history(result)[0], [float(v) for v in exact[1].values()], rtol=1e-12, atol=1e-14)


def test_a_killed_worker_restarts_from_the_checkpoint_and_ends_bit_identical(net, uninterrupted):
    result, ckpt = net.parent / "restarted.json", net.parent / "restarted.ckpt"
    r = torchrun("--standalone", "--nproc-per-node", "2", "--max-restarts", "1", *WORKER, str(net), "--steps", "4",
                 "--every", "1", "--checkpoint", str(ckpt), "--result", str(result), "--inject-fault", "1:2:crash",
                 cwd=net.parent)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "exitcode: 17" in r.stderr  # the fault did strike: rank 1 left on its first attempt
    data, whole = json.loads(result.read_text()), json.loads(uninterrupted[1].read_text())
    assert (data["restart"], data["first"]) == (1, 1)  # the second attempt resumed after step 1
    assert "restart 1), steps 2..4" in r.stdout and "(within 1e-12)" in r.stdout
    assert data["final"] == whole["final"]  # float hex: bit for bit
    assert np.array_equal(history(result)[-1], history(uninterrupted[1])[-1])
    assert np.array_equal(history(result), history(uninterrupted[1])[1:])


@pytest.mark.parametrize("args,extra,line", [
    (["--steps", "0"], {}, "symbackprop: error: --steps: expected a value >= 1, got 0"),
    ([], {"RANK": "0", "WORLD_SIZE": "3", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"},
     "symbackprop: error: WORLD_SIZE: 4 examples do not split into 3 equal shards; give the sizes with --shards"),
    ([], {"RANK": "0"}, "symbackprop: error: WORLD_SIZE: WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT not set;"),
], ids=["steps", "shards", "partial-environment"])
def test_bad_input_is_one_line_and_exit_2(net, args, extra, line):
    clean = {k: v for k, v in env().items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    r = subprocess.run([sys.executable, *WORKER, str(net), *args], capture_output=True, text=True, env={**clean, **extra},
                       cwd=net.parent, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith(line), r.stderr


def test_a_world_of_one_without_a_launcher(net):
    result = net.parent / "one.json"
    clean = {k: v for k, v in env().items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    r = subprocess.run([sys.executable, *WORKER, str(net), "--steps", "2", "--result", str(result)], capture_output=True,
                       text=True, env=clean, cwd=net.parent, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("one process (gloo, 1 rank on 1 node), steps 1..2")
    assert distributed.largest_relative_error(history(result), distributed.compiled_reference(model(), 1, steps=2)) <= 1e-12


def test_with_adam_a_killed_rank_0_resumes_the_optimizer_state_bit_for_bit_as_the_self_spawned_run(tmp_path):
    """Rank 0, the checkpoint's writer, dies; the restart restores Adam's moments and step count from it and
    ends on the bits of the self-spawned run (the same rank_steps, the other launch)."""
    m = symbackprop.dense([2, 3, 1], "tanh", output_activation="identity", seed=5, examples=EXAMPLES, learning_rate="0.1",
                          optimizer={"name": "Adam"})
    net, result = tmp_path / "adam.toml", tmp_path / "adam.json"
    net.write_text(m.to_toml())
    r = torchrun("--standalone", "--nproc-per-node", "2", "--max-restarts", "1", *WORKER, str(net), "--steps", "3",
                 "--checkpoint", str(tmp_path / "adam.ckpt"), "--result", str(result), "--inject-fault", "0:2:crash",
                 cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    data = json.loads(result.read_text())
    assert (data["restart"], data["first"], data["ok"]) == (1, 1, True)
    spawned = distributed.run(m, 2, steps=3, timeout=60)
    assert np.array_equal(history(result), spawned[1:])
