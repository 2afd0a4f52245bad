"""Compiled modules with an [optimizer]: a seeded catalogue of every optimizer (non-default options) under
no scheduler and each of the five, ten steps of the module's own step() against reference/numpy_training.py
(written again from torch's docs), reference/torch_training.py (torch.optim itself) and the exact trace;
frozen parameters, numba, the module's API and bad state, `check`, and the bench table's shape."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import symbackprop
from symbackprop.bench import optimizer as optimizer_bench
from symbackprop.cli import main
from symbackprop.compiler import check as check_module
from symbackprop.compiler.compiled import numba_available
from symbackprop.compiler.generator import source
from symbackprop.core.toml_writer import dumps
from symbackprop.reference import numpy_training

STEPS, RTOL = 10, 1e-12
EXAMPLES = [(["0.5", "-1"], ["0.2", "0.1"]), (["1.5", "0.25"], ["-0.4", "0.3"]), (["-0.75", "2"], ["1", "-0.5"])]
OPTIMIZERS = {
    "sgd-nesterov": {"name": "SGD", "momentum": "0.9", "nesterov": True},
    "sgd-dampening-decay": {"name": "SGD", "momentum": "0.8", "dampening": "0.25", "weight_decay": "0.01"},
    "adam-decay": {"name": "Adam", "betas": ["0.8", "0.99"], "weight_decay": "0.01"},
    "adamw": {"name": "AdamW", "weight_decay": "0.05"},
    "rmsprop-centered-momentum": {"name": "RMSprop", "alpha": "0.9", "centered": True, "momentum": "0.5"},
    "adagrad-decay": {"name": "Adagrad", "lr_decay": "0.1", "initial_accumulator_value": "0.01"},
}
SCHEDULERS = {
    "constant": None,
    "step": {"name": "StepLR", "step_size": 2, "gamma": "0.5"},
    "multistep": {"name": "MultiStepLR", "milestones": [2, 5, 5], "gamma": "0.5"},
    "exponential": {"name": "ExponentialLR", "gamma": "0.9"},
    "cosine": {"name": "CosineAnnealingLR", "T_max": 4, "eta_min": "0.01"},
    "linear": {"name": "LinearLR", "start_factor": "0.25", "total_iters": 4},
}


def net(optimizer, scheduler=None, frozen: bool = False, seed: int = 1):
    m = symbackprop.dense([2, 3, 2], "tanh", output_activation="identity", loss="mse", seed=seed, examples=EXAMPLES,
                          learning_rate="0.05", optimizer=optimizer, scheduler=scheduler)
    if frozen:  # the biases and one weight held: they are never stepped and have no state
        m = dataclasses.replace(m, trained=[p for p in m.parameters if not p.startswith("b") and p != "w1_2_1"])
    return m


def run(compiled, steps: int = STEPS):
    """The module's own run: (each step's lr, the parameters after each step, the states after each step)."""
    params, state = compiled.initial, compiled.init_state()
    lrs, after, states = [], [], []
    for _ in range(steps):
        lrs.append(state["lr"])
        params, state = compiled.step(params, state, compiled.X, compiled.Y)
        after.append(params)
        states.append(state)
    return np.array(lrs), np.array(after), states


def relative(got, expected) -> float:
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert np.array_equal(np.isnan(got), np.isnan(expected))  # frozen parameters: no state on either side
    keep = ~np.isnan(expected)
    return float(np.max(np.abs(got[keep] - expected[keep])) / max(np.max(np.abs(expected[keep])), 1e-300))


def agree(compiled, model, reference) -> float:
    """The largest relative difference of lrs, parameters and every state quantity; asserts each within RTOL."""
    lrs, after, states = run(compiled)
    worst = {"lr": relative(lrs, reference.lrs), "params": relative(after, reference.after)}
    for name in compiled.namespace["STATE"]:
        for t in range(STEPS):
            if name in reference.states[t]:
                worst[name] = max(worst.get(name, 0.0), relative(states[t][name], reference.states[t][name]))
    assert all(e <= RTOL for e in worst.values()), worst
    trained = np.array([p in set(model.trained_parameters) for p in model.parameters])
    assert np.array_equal(after[:, ~trained], np.repeat(compiled.initial[None, ~trained], STEPS, axis=0))
    return max(worst.values())


@pytest.mark.parametrize("schedule", SCHEDULERS)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_catalogue_against_numpy_and_torch(name, schedule):
    torch_training = pytest.importorskip("symbackprop.reference.torch_training")
    pytest.importorskip("torch", reason="PyTorch (the torch extra) is the torch.optim reference")
    for frozen in (False, True):
        m = net(OPTIMIZERS[name], SCHEDULERS[schedule], frozen)
        compiled = symbackprop.compile(symbackprop.derive(m), numba=False)
        agree(compiled, m, numpy_training.train(m, STEPS))
        agree(compiled, m, torch_training.train(m, STEPS))


@pytest.mark.skipif(not numba_available(), reason="numba (an extra) jits the update")
@pytest.mark.parametrize("name,schedule,frozen", [("adam-decay", "step", False), ("sgd-nesterov", "cosine", True),
                                                  ("rmsprop-centered-momentum", "linear", True)])
def test_numba_modules_agree(name, schedule, frozen):
    m = net(OPTIMIZERS[name], SCHEDULERS[schedule], frozen)
    compiled = symbackprop.compile(symbackprop.derive(m), numba=True)
    assert "@numba.njit" in compiled.source.split("def _update(")[0].rsplit("\n\n\n", 1)[-1]
    agree(compiled, m, numpy_training.train(m, STEPS))


@pytest.mark.parametrize("name,schedule,frozen", [("adam-decay", "step", False), ("sgd-nesterov", "cosine", True),
                                                  ("adagrad-decay", "multistep", False)])
def test_against_the_exact_trace(name, schedule, frozen):
    m = net(OPTIMIZERS[name], SCHEDULERS[schedule], frozen)
    d = symbackprop.derive(m)
    trace = d.trace(STEPS)
    compiled = symbackprop.compile(d, numba=False)
    lrs, after, states = run(compiled)
    index = {p: i for i, p in enumerate(m.parameters)}
    state = compiled.namespace["STATE"]
    first = next(iter(state))
    for p in m.parameters:
        assert math.isclose(after[-1][index[p]], float(trace[f"{p}@{STEPS + 1}"]), rel_tol=RTOL, abs_tol=1e-15), p
        if p in m.trained_parameters:
            assert math.isclose(states[2][first][index[p]], float(trace[f"{first}_{p}@3"]), rel_tol=RTOL, abs_tol=1e-15)
        else:
            assert math.isnan(states[2][first][index[p]])
    for t in (1, 4, STEPS):
        assert math.isclose(lrs[t - 1], float(trace[f"lr@{t}"]), rel_tol=RTOL)


def test_state_layout_and_no_argument_is_changed():
    m = net(OPTIMIZERS["adam-decay"], SCHEDULERS["linear"], frozen=True)
    f = symbackprop.compile(symbackprop.derive(m), numba=False)
    state = f.init_state()
    assert list(state) == ["t", "lr", "m", "v"] and state["t"] == 0
    assert state["lr"] == pytest.approx(0.05 * 0.25, rel=1e-15)  # LinearLR's first rate: lr0 start_factor
    frozen = [p not in m.trained_parameters for p in m.parameters]
    assert np.array_equal(np.isnan(state["m"]), frozen) and np.all(state["v"][~np.array(frozen)] == 0)
    params, kept = f.initial.copy(), {k: np.copy(v) for k, v in state.items()}
    new, after = f.step(params, state, f.X, f.Y)
    assert np.array_equal(params, f.initial) and all(np.array_equal(state[k], kept[k], equal_nan=True) for k in state)
    assert after["t"] == 1 and after["lr"] == pytest.approx(0.05 * (0.25 + 0.75 / 4), rel=1e-15)
    assert np.array_equal(new[np.array(frozen)], f.initial[np.array(frozen)])


@pytest.mark.parametrize("bad,message", [({}, "expected the dict init_state() gives, with t, lr, m, v"),
                                         ({"t": -1}, "state has t = -1"),
                                         ({"m": np.zeros(3)}, "state['m'] has shape (3,); expected (")])
def test_a_bad_state_is_a_value_error_naming_what_was_expected(bad, message):
    f = symbackprop.compile(symbackprop.derive(net(OPTIMIZERS["adam-decay"])), numba=False)
    state = {} if not bad else f.init_state() | bad
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        f.step(f.initial, state, f.X, f.Y)


def test_modules_are_standalone_deterministic_and_plain_ones_keep_their_api():
    d = symbackprop.derive(net(OPTIMIZERS["sgd-nesterov"], SCHEDULERS["cosine"], frozen=True))
    text = source(d)
    assert text == source(d)
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import math", "import numpy"]
    assert "OPTIMIZER = 'SGD'" in text and "SCHEDULE = {'T_max': 4, 'eta_min': 0.01}" in text
    assert "    if t == 1:\n        buf = g\n    else:\n" in text  # SGD's buffer starts as the first gradient
    plain = symbackprop.compile(symbackprop.derive(symbackprop.dense([2, 2, 1], seed=0)), numba=False)
    assert plain.optimizer is None and plain.init_state is None and "OPTIMIZER" not in plain.source
    new = plain.step(plain.initial, plain.X, plain.Y, lr=0.5)
    np.testing.assert_allclose(new, plain.initial - 0.5 * plain(plain.initial, plain.X, plain.Y)[1], rtol=1e-15)


def _adam_file(tmp_path, extra: str = "") -> str:
    m = net(OPTIMIZERS["adam-decay"], SCHEDULERS["step"])
    path = tmp_path / "adam.toml"
    path.write_text(dumps(m) + extra)
    return str(path)


def test_check_compares_training_steps(tmp_path):
    pytest.importorskip("torch", reason="PyTorch (the torch extra) is the torch.optim reference")
    d = symbackprop.derive(symbackprop.load(_adam_file(tmp_path)))
    report = check_module.check(d, against="torch")
    steps = {r.group: r for r in report.rows if r.group.startswith("steps")}
    assert set(steps) == {"steps: lr", "steps: parameters", "steps: m", "steps: v"}
    assert all(r.ok and r.error <= 1e-12 and r.tolerance == 1e-12 for r in steps.values()) and report.ok
    assert "torch    steps: m" in report.text() and "training steps of Adam and StepLR" in report.text()


def test_check_finds_a_wrong_optimizer_step(monkeypatch):
    real = check_module.compile_derivation

    def broken(d):
        compiled = real(d)
        good = compiled.step

        def bad(params, state, X, Y):
            params, state = good(params, state, X, Y)
            return params, dict(state, v=state["v"] * (1 + 1e-9))

        compiled.step = bad
        return compiled

    monkeypatch.setattr(check_module, "compile_derivation", broken)
    report = check_module.check(symbackprop.derive(net(OPTIMIZERS["adam-decay"])), against="numpy")
    failed = {r.group for r in report.rows if not r.ok}
    assert "steps: v" in failed and not report.ok  # and what v feeds afterwards (m, the parameters); not the rest:
    assert failed <= {"steps: v", "steps: m", "steps: parameters"}


def test_cli_check_and_bad_optimizer(tmp_path, capsys):
    assert main(["check", _adam_file(tmp_path), "--against", "numpy"]) == 0
    assert "numpy    steps: parameters" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(open(_adam_file(tmp_path)).read().replace('name = "Adam"', 'name = "Adamax"'))
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Adamax" in err and "optimizer.name" in err


def test_bench_table_shape():
    table = optimizer_bench.bench_optimizer(quick=True, budget=0.002)
    assert [(r["net"], r["batch"]) for r in table["rows"]] == [("2-4-4-1", 1), ("2-4-4-1", 32)]
    for r in table["rows"]:
        assert r["compiled_us"] > 0 and r["no_numba_update_us"] > 0 and r["parameters"] == 37
    text = optimizer_bench.render_optimizer(table)
    assert text.count("\n2-4-4-1") == 2 and "speedup" in text
