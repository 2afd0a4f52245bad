"""``symbackprop check`` (exit codes, failure detection) and ``symbackprop bench`` (the table's shape only)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import SEED_CHAIN

import symbackprop
from symbackprop.bench.gradients import PEERS, bench, render
from symbackprop.cli import main
from symbackprop.compiler import check as check_module


def test_check_passes_on_the_bundled_file(run_cli):
    done = run_cli("check", str(SEED_CHAIN), "--against", "numpy")
    assert done.returncode == 0, done.stderr
    assert "numpy    neuron a" in done.stdout and "all agree" in done.stdout


def test_check_reports_a_wrong_gradient_and_exits_1(monkeypatch, capsys):
    """A compiled function off by 1e-6 in one weight fails against every reference, in that group only."""
    real = check_module.compile_derivation

    def broken(d):
        compiled = real(d)
        good = compiled.loss_and_grad

        def bad(params, X, Y):
            value, grad = good(params, X, Y)
            grad = grad.copy()
            grad[5] += 1e-6 * max(1.0, abs(grad[5]))
            return value, grad

        compiled.loss_and_grad = bad
        return compiled

    monkeypatch.setattr(check_module, "compile_derivation", broken)
    report = check_module.check(symbackprop.derive(symbackprop.load(SEED_CHAIN)), against="numpy")
    bad = {r.group for r in report.rows if not r.ok}
    assert bad == {"neuron b"} and not report.ok
    assert main(["check", str(SEED_CHAIN), "--against", "fd"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_check_groups_layered_parameters_by_layer():
    model = symbackprop.dense([2, 3, 1], seed=3)
    groups = check_module.groups(model)
    assert sorted(groups) == ["W1", "W2", "b1", "b2"]
    assert sorted(i for idx in groups.values() for i in idx) == list(range(len(model.parameters)))


def test_check_unknown_reference_is_bad_input(capsys):
    with pytest.raises(SystemExit) as e:
        main(["check", str(SEED_CHAIN), "--against", "jax"])
    assert e.value.code == 2


def test_bench_table_has_every_row_and_column():
    table = bench(quick=True, budget=0.002)
    assert [(r["net"], r["batch"]) for r in table["rows"]] == [("2-2-1", 1), ("2-2-1", 32), ("2-4-4-1", 1), ("2-4-4-1", 32)]
    for row in table["rows"]:
        assert row["compiled_us"] > 0 and row["numpy_us"] > 0 and row["lambdify_us"] > 0
        for peer in PEERS:
            assert row[f"{peer}_us"] is None or row[f"{peer}_us"] > 0
        assert row["speedup_vs_fastest_peer"] > 0 and row["fastest_peer"] in PEERS
        measured = row["compiled_peak_mib"] is not None  # Linux's counters readable here
        for peer in ("compiled", *PEERS, "numpy_only"):
            assert (row[f"{peer}_peak_mib"] is not None) == (measured and row[f"{peer}_us"] is not None)
    assert [n["net"] for n in table["nets"]] == ["2-2-1", "2-4-4-1"]
    assert all(n["compile_s"] > 0 and n["derive_s"] > 0 for n in table["nets"])
    text = render(table)
    assert "compiled" in text and "lambdify" in text and text.count("\n2-2-1 ") == 5  # two timed rows, two memory rows, one-time costs
    json.dumps(table)  # plain data
    assert np.isfinite([r["compiled_us"] for r in table["rows"]]).all()


def test_peak_memory_sees_an_allocation_of_known_size():
    from symbackprop.bench.timing import peak_mib as _peak_mib

    if _peak_mib(lambda: None) is None:
        pytest.skip("no /proc/self/clear_refs here (not Linux, or not permitted)")
    n = 10_000_000  # 80 MB of float64, touched by ones() and read by sum()
    assert _peak_mib(lambda: np.ones(n).sum()) == pytest.approx(n * 8 / 2**20, rel=0.02)
    assert _peak_mib(lambda: np.ones(n // 4).sum()) == pytest.approx(n * 2 / 2**20, rel=0.05)
    assert _peak_mib(lambda: None) < 1


def test_peak_memory_is_absent_when_the_reset_is_ignored(monkeypatch):
    from symbackprop.bench import timing as bench_module

    if bench_module.peak_mib(lambda: None) is None:
        pytest.skip("no /proc/self/clear_refs here (not Linux, or not permitted)")
    np.ones(10_000_000).sum()  # a high-water mark 76 MiB above what stays resident

    def ignoring_open(path, *args, **kwargs):
        return open(os.devnull if path == "/proc/self/clear_refs" else path, *args, **kwargs)

    monkeypatch.setattr(bench_module, "open", ignoring_open, raising=False)
    assert bench_module.peak_mib(lambda: None) is None


def test_bench_parallel_seed_net_is_the_bundled_two_gpu_network():
    from conftest import DERIVATIONS

    from symbackprop.bench.parallel import parallel_nets

    (name, model), = parallel_nets(quick=True)
    bundled = symbackprop.load(DERIVATIONS / "seed003_two_gpus.toml")
    assert model.parameters == bundled.parameters and [n.name for n in model.neurons] == [n.name for n in bundled.neurons]
    assert (model.loss, model.batch, model.learning_rate) == (bundled.loss, bundled.batch, bundled.learning_rate)
    assert model.examples[:2] == bundled.examples and len(model.examples) == 8


def test_bench_parallel_table_has_every_row_and_column(capsys):
    pytest.importorskip("torch", reason="the distributed side runs on PyTorch (the torch extra)")
    from symbackprop.bench.parallel import render_parallel

    assert main(["bench", "--parallel", "--quick", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [(r["net"], r["workers"], r["examples"]) for r in table["rows"]] == [("seed003-3-4-4-1", 1, 8), ("seed003-3-4-4-1", 2, 8)]
    for row in table["rows"]:
        for key in ("compiled_us", "distributed_us", "ratio", "compiled_growth", "distributed_growth", "rank_autograd_us"):
            assert row[key] > 0 and np.isfinite(row[key]), key
    assert table["rows"][0]["compiled_growth"] == table["rows"][0]["distributed_growth"] == 1.0
    text = render_parallel(table)
    assert text.count("\nseed003-3-4-4-1 ") == 2 and "distributed growth" in text


def test_bench_derive_table_shape(run_cli):
    import json

    r = run_cli("bench", "--derive", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    assert [(row["net"], row["parameters"]) for row in rows] == [("2-2-1", 9), ("4-16-16-1", 369), ("8-32-32-4", 1476)]
    assert all(row["seconds"] > 0 and row["peak_mib"] > 0 for row in rows)


def test_bench_big_runs_the_big_nets_section_alone(monkeypatch, capsys):
    """``bench --big`` is big_nets.py's table by itself; here on a small stand-in net, so that it is quick."""
    from symbackprop.bench import big_nets
    from symbackprop.bench.peers import Net

    monkeypatch.setattr(big_nets, "BIG_NETS", (Net((12, 5, 3)),))
    monkeypatch.setattr(big_nets, "BIG_BATCHES", (1, 8))
    assert main(["bench", "--big", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [(n["net"], n["parameters"]) for n in table["nets"]] == [("12-5-3", 12 * 5 + 5 + 5 * 3 + 3)]
    one = table["nets"][0]
    assert all(one[k] > 0 for k in ("derive_s", "compile_s", "module_bytes"))
    assert [(r["net"], r["batch"]) for r in table["rows"]] == [("12-5-3", 1), ("12-5-3", 8)]
    for row in table["rows"]:
        present = [k for k in big_nets.PEERS if row[f"{k}_us"] is not None]
        assert "numpy" in present and row["compiled_us"] > 0
        for k in present:
            assert row[f"vs_{k}"] == pytest.approx(row[f"{k}_us"] / row["compiled_us"])
        assert row["speedup_vs_fastest_peer"] == pytest.approx(min(row[f"{k}_us"] for k in present) / row["compiled_us"])
    text = big_nets.render_big(table)
    assert text.count("\n12-5-3 ") == 3 and "compile s" in text and "vs jax" in text
