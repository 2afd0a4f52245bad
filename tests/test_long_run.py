"""The long-run engine (core/long_run.py): iterations past the exact part, in arbitrary precision.

Checked against what it did not compute: the exact trace (Rationals and closed forms, by SymPy
substitution) over the same iterations, the float64 compiled training loop (compiler/, an
independent code path), the same engine at twice the digits, and the other arithmetic (MPFR and
mpmath compute each value apart).
"""

from __future__ import annotations

import dataclasses
from importlib.util import find_spec

import mpmath
import numpy as np
import pytest
import sympy as sp
from conftest import DERIVATIONS

import symbackprop
from symbackprop.core.arithmetic import MPMATH, high_precision
from symbackprop.core.derivation import Derivation
from symbackprop.core.long_run import LongRun
from symbackprop.core.program import program
from symbackprop.core.schedule import Assignment
from symbackprop.core.trace import Key

needs_gmpy2 = pytest.mark.skipif(find_spec("gmpy2") is None, reason="gmpy2 is not installed (pip install symbackprop[fast])")
MAZUR_LIKE = dict(examples=[([sp.Rational("0.05"), sp.Rational("0.1")], [sp.Rational("0.01"), sp.Rational("0.99")])],
                  learning_rate="0.5", seed=1)


def relative(a, b) -> float:
    a, b = sp.Float(a, 60), sp.Float(b, 60)
    return float(abs(a - b) / max(abs(a), abs(b))) if a != b else 0.0


def exact_trace(model, iterations):
    """The exact trace over every iteration: Rationals (a ReLU file) never leave the exact part here."""
    d = Derivation(model)
    trace = d.trace(iterations)
    return d, trace


@pytest.mark.parametrize("arithmetic", ["mpmath", pytest.param("mpfr", marks=needs_gmpy2)])
def test_a_long_run_from_iteration_1_equals_the_exact_trace(arithmetic):
    """seed003's chain stays exact for 3 iterations; a long run started at iteration 1 gives every
    value of all of them to its 50 digits, and a step function's 0 and 1 exactly."""
    model = dataclasses.replace(symbackprop.load(DERIVATIONS / "seed003_chain.toml"), claims=())
    d, exact = exact_trace(model, 3)
    assert exact.values.long is None
    run = LongRun(d, 3, 1, dict(model.parameters), 50, arithmetic=high_precision(arithmetic))
    compared = 0
    for key in exact.values:
        value, certain = run.value(key.iteration, key.name, key.example)
        want = exact.values[key]  # a Rational, or past 1,024 bits a Float of 110 digits
        if certain is None:
            assert value == want, key
        else:
            assert certain >= 45 and relative(value, want) < 1e-45, (key, value, want)
        compared += 1
    assert compared == len(exact.values) > 100


def test_closed_forms_of_the_exact_part_equal_the_long_run():
    """A sigmoid net's first iteration is exact closed forms: the long run from the same parameters
    gives each to 45 digits."""
    model = symbackprop.dense([2, 2, 2], "sigmoid", iterations=1, **MAZUR_LIKE)
    d = Derivation(model)
    exact = d.trace(0)
    run = LongRun(d, 0, 1, dict(model.parameters), 50)
    for key in exact.values:
        value, _ = run.value(key.iteration, key.name, key.example)
        assert relative(value, exact.values[key].evalf(60)) < 1e-45, key


def float64_training(model, iterations):
    """The compiled float64 module's own training loop: (parameters, loss) after ``iterations`` steps."""
    c = symbackprop.compile(symbackprop.derive(model), numba=False)
    p = c.initial.copy()
    for _ in range(iterations):
        p = c.step(p, c.X, c.Y)
    return p, c.loss(p, c.X, c.Y)


@pytest.mark.parametrize("sizes, activation, iterations, kwargs", [
    ([2, 2, 2], "sigmoid", 2000, MAZUR_LIKE), ([3, 4, 2], "tanh", 500, {"seed": 3, "learning_rate": "0.3"}),
    ([2, 3, 1], "relu", 300, {"seed": 1, "learning_rate": "0.3"})])  # (seeds 2-7 give this net dead ReLUs: exact throughout)
def test_a_long_run_agrees_with_the_float64_compiled_loop(sizes, activation, iterations, kwargs):
    model = symbackprop.dense(sizes, activation, iterations=iterations, **kwargs)
    trace = symbackprop.derive(model).trace()
    assert trace.values.long is not None and trace.values.long.start <= 10  # the exact part is short
    params, loss = float64_training(model, iterations)
    last = iterations + 1
    for name, got in zip(model.parameters, params):
        want = trace.values[Key(name, None, last)]
        assert abs(float(want) - got) <= 1e-12 * max(1.0, abs(float(want))), name
        assert trace.certain(Key(name, None, last)) >= 40
    assert abs(float(trace.values[Key("E", None, last)]) - loss) <= 1e-12 * float(trace.values[Key("E", None, 1)])


def test_certain_digits_hold_against_twice_the_digits():
    """Each value's certain digits agree with a run at 100 digits, and the count is not vacuous."""
    model = symbackprop.dense([2, 2, 2], "sigmoid", iterations=3000, **MAZUR_LIKE)
    d = symbackprop.derive(model)
    at_50, at_100 = d.trace(), symbackprop.core.trace.Trace(d, 3000, digits=100)
    keys = [Key("E", None, 3001), Key("w1_1_1", None, 3001), Key("delta_n1_1", 1, 3000), Key("a_n2_2", 1, 3001),
            Key("dE/dw2_1_1", None, 2999)]
    for key in keys:
        certain = at_50.certain(key)
        assert 30 <= certain <= 50, key
        assert relative(at_50.values[key], at_100.values[key]) < 10.0 ** -(certain - 1), key


@needs_gmpy2
def test_mpfr_and_mpmath_agree_to_the_digits_they_claim():
    model = symbackprop.dense([3, 4, 2], "tanh", iterations=200, seed=5)
    d = Derivation(model)
    params = dict(model.parameters)
    mpfr, pure = LongRun(d, 200, 1, params, 40), LongRun(d, 200, 1, params, 40, arithmetic=MPMATH)
    assert mpfr.arithmetic.name == "mpfr"
    for t, name, k in ((201, "E", None), (200, "delta_n1_2", 1), (201, "w2_2_3", None), (137, "z_n1_4", 1)):
        (a, ca), (b, cb) = mpfr.value(t, name, k), pure.value(t, name, k)
        assert relative(a, b) < 10.0 ** -(min(ca, cb) - 1)


def test_a_frozen_parameter_keeps_its_exact_value_in_a_long_run():
    model = dataclasses.replace(symbackprop.dense([2, 2, 1], "sigmoid", iterations=50, seed=2), trained=["w1_1_1", "w2_1_1"])
    trace = symbackprop.derive(model).trace()
    assert trace.values.long is not None
    assert trace.values[Key("b2_1", None, 51)] == model.parameters["b2_1"] and trace.certain(Key("b2_1", None, 51)) is None
    assert trace.values[Key("Delta_b2_1", None, 50)] == 0
    assert trace.values[Key("w1_1_1", None, 51)] != model.parameters["w1_1_1"]


def test_the_values_mapping_lists_every_key_once_and_in_order():
    model = symbackprop.dense([2, 2, 1], "tanh", iterations=20, seed=4)
    trace = symbackprop.derive(model).trace()
    keys = list(trace.values)
    assert len(keys) == len(set(keys)) == len(trace.values)
    assert [k.iteration for k in keys] == sorted(k.iteration for k in keys)
    assert all(k in trace.values for k in keys) and Key("E", None, 22) not in trace.values
    assert trace["E@21"] == trace.values[Key("E", None, 21)]


def test_generated_code_holds_only_its_own_names():
    """A function the arithmetic does not define, or a name from elsewhere, never reaches exec."""
    x = sp.Symbol("x")
    ok = program([x], [Assignment("y", sp.exp(x) + sp.Rational(1, 3), sp.Symbol("y"))])
    with mpmath.workdps(30):
        assert ok.bind(MPMATH)(mpmath.mpf(0))[0] == 1 + mpmath.mpf(1) / 3
    evil = sp.Function("__import__")
    with pytest.raises(ValueError, match="cannot hold"):  # SymPy's printer knows no such function
        program([x], [Assignment("y", evil(x), sp.Symbol("y"))])
    with pytest.raises(ValueError, match="names 'cos'"):  # printed, but no arithmetic here defines it
        program([x], [Assignment("y", sp.cos(x), sp.Symbol("y"))])
    with pytest.raises(ValueError, match="before they are assigned"):
        program([x], [Assignment("y", x + sp.Symbol("later"), sp.Symbol("y"))])


def test_a_long_run_is_deterministic():
    model = symbackprop.dense([2, 2, 2], "sigmoid", iterations=400, **MAZUR_LIKE)
    d = symbackprop.derive(model)
    first, second = d.trace(), d.trace()
    assert [first.values[k] for k in list(first.values)[-60:]] == [second.values[k] for k in list(second.values)[-60:]]
    assert np.isfinite(float(first["E@401"]))


def test_a_long_run_that_rounds_as_it_goes_equals_the_exact_rounded_trace():
    """The diagnosis's 'every value rounded to k decimals' past the exact part is a long run with a
    rounding hook; on a short run it equals the exact RoundedTrace (Rationals rounded half up)."""
    from symbackprop.verifier.conventions import RoundedTrace

    model = symbackprop.dense([2, 2, 1], "sigmoid", iterations=3, seed=2)
    d = Derivation(model)
    for k in (2, 4):
        exact = RoundedTrace(d, 3, k)
        run = LongRun(d, 3, 1, dict(model.parameters), 40, rounding=k)
        for key in (Key("E", None, 4), Key("w2_1_1", None, 4), Key("a_n1_2", 1, 3), Key("dE/dw1_1_1", None, 3)):
            assert abs(run.value(key.iteration, key.name, key.example)[0] - exact.values[key]) < 1e-35, (k, key)


@pytest.fixture(scope="module")
def long_run_report():
    """The bundled long run verified once at the default 50 digits, for the tests below: (its claims as
    ``verify --json`` gives them, its text report)."""
    from symbackprop import api

    report = symbackprop.verify(DERIVATIONS / "long_run_2_2_2.toml")
    return __import__("json").loads(api.report([report], "json"))[0]["claims"], api.report([report], "text")


@pytest.fixture(scope="module")
def long_run_at_50(long_run_report):
    return long_run_report[0]


def test_verify_at_iteration_10001_with_its_diagnosis(long_run_at_50):
    """The bundled long run: claims at @10001 taken from the float64 loop hold; one stating the loss
    of a run that never updates its biases is explained as such; each alternative is tried once."""
    claims = {(c["quantity"], c["source"]): c for c in long_run_at_50}
    assert claims[("E@10001", "hand:2")]["status"] == "holds" and claims[("w2_1_1@10001", "hand:3")]["status"] == "holds"
    frozen = claims[("E@10001", "hand:4")]
    assert frozen["status"] == "mismatch" and frozen["explained"]
    assert frozen["diagnosis"][0].startswith("bias weights not updated: gives 6.3673")
    first = claims[("E@2", "hand:1")]
    assert first["status"] == "mismatch" and not first["explained"]
    assert len(first["tried"]) == len(set(first["tried"])) >= 15


@pytest.mark.parametrize("command", ["derive", "verify"])
def test_digits_is_an_option_checked_before_anything_runs(run_cli, command):
    for bad in ("3", "1001"):
        out = run_cli(command, str(DERIVATIONS / "seed003_chain.toml"), "--digits", bad)
        assert out.returncode == 2 and out.stderr.count("\n") == 1
        assert f"--digits: expected digits from 16 to 1000 (a long run's precision), got {bad}" in out.stderr


def test_verify_at_other_digits_judges_the_same(run_cli, long_run_at_50, long_run_report):
    """The long run's claims at 30 digits: the same statuses; the values past the exact part say how many
    of their digits are certain, at most the digits asked for."""
    at_30 = __import__("json").loads(run_cli("verify", str(DERIVATIONS / "long_run_2_2_2.toml"), "--json",
                                             "--digits", "30").stdout)[0]["claims"]
    at_50 = long_run_at_50
    assert [c["status"] for c in at_30] == [c["status"] for c in at_50] == ["mismatch", "holds", "holds", "mismatch"]
    assert all(20 <= c["certain_digits"] <= 30 for c in at_30) and all(40 <= c["certain_digits"] <= 50 for c in at_50)
    text = long_run_report[1]
    assert "exact 3.15457097e-06 (" in text and " digits certain), difference" in text
