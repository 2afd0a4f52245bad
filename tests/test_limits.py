"""The bounds of core/limits.py and the trace's precision rules, against independent arithmetic:
Python's fractions for a ReLU chain trained ten steps, NumPy for a chain of sigmoids, hand-written
roundings at 85 decimals, the size refusals' cost estimates worked out by hand."""

from __future__ import annotations

import dataclasses
import math
import time
from fractions import Fraction
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from conftest import cli, on_a_tty
from hostile import chain, seed

import symbackprop
import symbackprop.api
from symbackprop.core import limits
from symbackprop.core.derivation_file import loads
from symbackprop.core.errors import InputError
from symbackprop.core.limits import LIMITS, check_work
from symbackprop.core.model import Example, Model, Neuron
from symbackprop.core.trace import Key
from symbackprop.verifier.rounding import judge
from symbackprop.verifier.status import Status

ROOT = Path(__file__).resolve().parent.parent


def test_every_limit_is_documented():
    text = (ROOT / "docs" / "format.md").read_text().split("## Limits")[1]
    for name, bound in LIMITS.items():
        assert f"{bound.value:,}" in text or f"±{bound.value}" in text, name


@pytest.mark.parametrize("depth,ok", [(32, True), (33, False)])
def test_nesting_bound(depth, ok):
    text = seed(('title = "', "title = " + "[" * depth + '"t"' + "]" * depth + '\nt0 = "'))
    with pytest.raises(InputError) as e:  # read or not, a title that is a list is refused
        loads(text)
    assert ("nesting deeper than 32" in str(e.value) and "line 1" in str(e.value)) is not ok


@pytest.mark.parametrize("value,fragment", [("1e300", "beyond the range"), ("1e-301", "beyond the range"),
                                            ('"1e99999999"', "beyond the range"), ("0." + "1" * 101, "101 significant"),
                                            ('"1/' + "3" * 101 + '"', "101 significant")])
def test_numbers_past_their_bounds(value, fragment):
    with pytest.raises(InputError, match=fragment) as e:
        loads(seed(("w_a1 = 0.1", f"w_a1 = {value}")))
    assert e.value.key == "parameters.w_a1"


def test_numbers_at_their_bounds_are_exact():
    m = loads(seed(("w_a1 = 0.1", "w_a1 = 9.99e299"), ("w_a2 = 0.2", "w_a2 = 0." + "1" * 100)))
    assert m.parameters["w_a1"] == sp.Rational(999, 100) * 10**299
    assert m.parameters["w_a2"] == sp.Rational(int("1" * 100), 10**100)


@pytest.mark.parametrize("length,ok", [(64, True), (65, False)])
def test_name_length(length, ok):
    name = "w" * length
    text = seed(('"w_a1"', f'"{name}"'), ("w_a1 = 0.1", f"{name} = 0.1"))
    if ok:
        assert name in loads(text).parameters
    else:
        with pytest.raises(InputError, match="a name of 65 characters"):
            loads(text)


def test_the_iteration_bound_is_the_estimate():
    m = symbackprop.load(ROOT / "derivations" / "seed003_chain.toml")
    with pytest.raises(InputError) as e:
        check_work(m, 10**9, "training.iterations")
    most = int(str(e.value).split("at most ")[-1].split(" iterations")[0].replace(",", ""))
    check_work(m, most, "training.iterations")  # the number it names is accepted ...
    with pytest.raises(InputError):
        check_work(m, most + 2, "training.iterations")  # ... and little more
    # 46 values an iteration: 6 exact iterations (276 units) and 999,999,995 of a long run at 1/15 unit each,
    # 3,066,666,927 units of 30 microseconds: 92,000 s, about 26 hours
    assert "46,000,000,046 traced values, about 26 hours" in str(e.value) and e.value.key == "training.iterations"


def test_a_long_relu_run_agrees_with_fractions():
    """Ten steps of the seed chain: exact digits triple each step, so the trace carries 50 digits
    from the step past 1,024 bits; Python's Fractions carry every digit."""
    m = symbackprop.load(ROOT / "derivations" / "seed003_chain.toml")
    trace = symbackprop.derive(m).trace(10)
    w = {p: Fraction(str(v)) for p, v in m.parameters.items()}
    x = {k: Fraction(str(v)) for k, v in m.examples[0].inputs.items()}
    y, rate = Fraction(str(m.examples[0].targets["b"])), Fraction(str(m.learning_rate))
    for _ in range(10):  # relu a -> relu b, E = 1/2 (y - b)^2, w <- w + rate * delta * input (the file's rule)
        z_a = w["w_a0"] + w["w_a1"] * x["x1"] + w["w_a2"] * x["x2"] + w["w_a3"] * x["x3"]
        a = max(z_a, 0)
        z_b = w["w_b0"] + w["w_b1"] * a
        b = max(z_b, 0)
        delta_b = (b - y) * (z_b > 0)
        delta_a = delta_b * w["w_b1"] * (z_a > 0)
        grads = {"w_a0": delta_a, "w_a1": delta_a * x["x1"], "w_a2": delta_a * x["x2"], "w_a3": delta_a * x["x3"],
                 "w_b0": delta_b, "w_b1": delta_b * a}
        w = {p: w[p] + rate * g for p, g in grads.items()}
    assert not trace.exact
    for p, v in w.items():
        carried = trace.values[Key(p, None, 11)]
        assert abs(Fraction(str(carried)) - v) <= abs(v) * Fraction(1, 10**40), p


def test_a_chain_of_sigmoids_traces_quickly_and_agrees_with_numpy():
    depth = 40
    m = loads(chain(depth, "sigmoid"))
    start = time.monotonic()
    trace = symbackprop.derive(m).trace()
    assert time.monotonic() - start < 20
    a = 0.5
    for _ in range(depth):
        a = 1 / (1 + np.exp(-0.5 * a))
    assert float(trace[f"a_n{depth}"]) == pytest.approx(a, rel=1e-14)


@pytest.mark.parametrize("value,stated,decimals,status", [
    (sp.Rational(1, 3), "0." + "3" * 85, 85, Status.HOLDS),
    (sp.Rational(2, 3), "0." + "6" * 84 + "7", 85, Status.HOLDS),
    (sp.Rational(2, 3), "0." + "6" * 85, 85, Status.TRUNCATED),
    (sp.Rational(1, 2 * 10**85), "0." + "0" * 84 + "1", 85, Status.HOLDS),  # a tie: either side holds
    (sp.Rational(1, 2 * 10**85), "0." + "0" * 85, 85, Status.HOLDS),
    (sp.Rational(1, 2 * 10**85) + sp.Rational(1, 10**200), "0." + "0" * 85, 85, Status.TRUNCATED),
    (sp.Rational(1, 2 * 10**85) + sp.Rational(1, 10**200), "0." + "0" * 84 + "2", 85, Status.MISMATCH),
    (sp.Float("1e-260000", 50), "0.000", 3, Status.HOLDS),
    (sp.exp(-sp.Integer(600000)), "0.000", 3, Status.HOLDS),
    (sp.exp(sp.Integer(600000)), "0.000", 3, Status.MISMATCH),
])
def test_rounding_at_any_precision(value, stated, decimals, status):
    start = time.monotonic()
    assert judge(value, sp.Rational(stated), decimals) is status
    assert time.monotonic() - start < 5


def _stderr_on_a_tty(*argv: str) -> tuple[int, bytes]:
    """A command run with its standard error on a pseudo-terminal: (exit code, what it drew there)."""
    return on_a_tty(*argv, stream="stderr")


def test_a_long_trace_shows_progress_on_a_tty(tmp_path):
    out = tmp_path / "long.md"
    code, seen = _stderr_on_a_tty("derive", str(ROOT / "derivations" / "seed003_chain.toml"), "--iterations", "300",
                                  "--format", "md", "-o", str(out))
    assert code == 0 and out.read_text().startswith("#")
    assert b"trace" in seen and b"100%" in seen  # the bar, drawn on the terminal and cleared at the end


def test_a_check_shows_progress_on_a_tty():
    code, seen = _stderr_on_a_tty("check", str(ROOT / "derivations" / "seed003_chain.toml"), "--against", "numpy")
    assert code == 0 and b"check" in seen and b"100%" in seen


def test_an_overflow_in_float64_fails_the_check():
    """Identity neurons with weights of 1e200: z_b = 1e200 * 1e200 * x is exact in the derivation
    and inf in float64. nan compares as nothing, so a check that took the largest difference would
    have said "all agree"."""
    text = seed(*[('activation = "relu"', 'activation = "identity"')] * 2, ("w_a1 = 0.1", "w_a1 = 1e200"),
                ("w_b1 = 0.4", "w_b1 = 1e200"))
    d = symbackprop.derive(loads(text))
    with np.errstate(all="ignore"):
        value, _ = symbackprop.compile(d)(np.array([float(v) for v in d.model.parameters.values()]),
                                          np.array([[0.2, 0.1, 0.4]]), np.array([[1.0]]))
    assert not np.isfinite(value)  # the premise: float64 overflows here
    report = symbackprop.api.check(d, against="numpy")
    assert not report.ok and "not finite" in report.text()


@pytest.mark.parametrize("batch", [1, 40])  # straight-line math code, and NumPy columns
def test_softplus_past_exp_range_is_finite_and_exact(batch):
    """Softplus of z_a = 1000.16 (weights of 1000): written as log(1 + exp(z)), float64 overflows;
    the compiled module's overflow-free form gives the exact loss and gradient (mpmath, 50 digits)."""
    text = seed(*[('activation = "relu"', 'activation = "softplus"')] * 2, ("w_a0 = 0.6", "w_a0 = 1000"),
                ("w_b1 = 0.4", "w_b1 = 1000"))
    d = symbackprop.derive(loads(text))
    x = np.tile([[0.2, 0.1, 0.4]], (batch, 1))
    params = np.array([float(v) for v in d.model.parameters.values()])
    value, gradient = symbackprop.compile(d)(params, x, np.ones((batch, 1)))
    mp.mp.dps = 50
    softplus = lambda z: mp.log1p(mp.exp(z))  # noqa: E731
    w = {k: mp.mpf(str(v)) for k, v in d.model.parameters.items()}
    z_a = w["w_a0"] + w["w_a1"] * mp.mpf("0.2") + w["w_a2"] * mp.mpf("0.1") + w["w_a3"] * mp.mpf("0.4")
    z_b = w["w_b0"] + w["w_b1"] * softplus(z_a)
    b = softplus(z_b)
    assert value == pytest.approx(float((b - 1) ** 2 / 2), rel=1e-12)
    dE_dw_b1 = (b - 1) / (1 + mp.exp(-z_b)) * softplus(z_a)
    assert gradient[list(d.model.parameters).index("w_b1")] == pytest.approx(float(dE_dw_b1), rel=1e-12)
    assert symbackprop.api.check(d, against="numpy").ok


def test_sigmoid_far_below_zero_is_finite_and_agrees():
    """z_a = -999.4 (w_a0 = -1000): math.exp(999.4) raised OverflowError in the straight-line code;
    sigmoid(z_a) is e^-999.4 (about 1e-434, 0.0 in float64), so b = sigmoid(w_b0): exact by hand."""
    text = seed(*[('activation = "relu"', 'activation = "sigmoid"')] * 2, ("w_a0 = 0.6", "w_a0 = -1000"))
    d = symbackprop.derive(loads(text))
    params = np.array([float(v) for v in d.model.parameters.values()])
    value, _ = symbackprop.compile(d)(params, np.array([[0.2, 0.1, 0.4]]), np.array([[1.0]]))
    b = 1 / (1 + math.exp(-0.5))  # z_b = w_b0 + w_b1 * 0.0
    assert value == pytest.approx((b - 1) ** 2 / 2, rel=1e-14)
    assert symbackprop.api.check(d, against="numpy").ok


def test_diagnosis_within_the_budget(tmp_path):
    """Each convention the diagnosis tries re-runs the whole trace: on 3,000 examples that is past the
    budget, so none is tried and the report says why, instead of running for minutes."""
    body = seed().split("\n[[claims]]")[0]
    rows = "".join(f"\n[[examples]]\ninputs = {{ x1 = {k % 10 / 10}, x2 = 0.1, x3 = 0.4 }}\ntargets = {{ b = 1.0 }}\n"
                   for k in range(2999))
    claim = '\n[[claims]]\nquantity = "z_a[1]"\nstated = "0.75"\nsource = "t.txt:1"\nquote = "0.75"\n'
    path = tmp_path / "many.toml"
    path.write_text(body + "\n" + rows + claim)
    start = time.monotonic()
    report = symbackprop.verify(path)
    assert time.monotonic() - start < 60
    (result,) = report.results
    assert result.status is Status.MISMATCH and result.exact == sp.Rational(76, 100)  # 0.6 + 0.02 + 0.02 + 0.12
    assert any("no other convention tried" in d and "past the budget of 1,000,000" in d for d in result.diagnosis)


def test_a_quote_is_shown_not_run_in_the_markdown_report(tmp_path):
    path = tmp_path / "inject.toml"
    path.write_text(seed(('quote = "In our example, the weighted sum za is 0.76"',
                          "quote = '<script>alert(1)</script> <img src=x onerror=alert(2)>'")))
    text = symbackprop.api.report([symbackprop.verify(path)], "md")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt;" in text
    assert "<script>" not in text and "<img" not in text


def test_a_crlf_file_passes_the_text_checks():
    """Carriage returns are refused in text (a terminal would overwrite the line), but a file saved with
    Windows line endings holds none once read: TOML reads CRLF in a multi-line string as a newline."""
    text = seed(('quote = "In our example, the weighted sum za is 0.76"',
                 "quote = '''In our example,\nthe weighted sum za is 0.76'''")).replace("\n", "\r\n")
    quotes = [c.quote for c in loads(text).claims]
    assert "In our example,\nthe weighted sum za is 0.76" in quotes
    with pytest.raises(InputError, match="U\\+000D"):
        loads(seed(('title = "', 'title = "\\r')))


def test_the_identity_check_is_priced_before_it_runs():
    """dense 4-8-8-8-1: a first-layer weight has 8 * 8 = 64 paths (64**1.5 = 512 units); the whole
    check is far past the bound and refused at once, one parameter is within it."""
    d = symbackprop.derive(symbackprop.dense([4, 8, 8, 8, 1], activation="sigmoid"))
    start = time.perf_counter()
    with pytest.raises(InputError) as e:
        symbackprop.api.identity(d)
    assert time.perf_counter() - start < 5
    units = round(sum(d.path_count(p) ** 1.5 for p in d.model.parameters))
    assert e.value.key == "check_identity" and f"is {units:,} path units" in e.value.what
    assert "w1_1_1 alone has 64 paths" in e.value.what
    assert d.path_count("w1_1_1") == 64


def test_a_text_past_its_length_is_refused():
    with pytest.raises(InputError, match="10,001 characters; expected at most 10,000") as e:
        loads(seed(('title = "Two ReLU neurons a -> b (seed 003, chapter 2)"', 'title = "' + "t" * 10_001 + '"')))
    assert e.value.key == "title"


def test_a_closed_form_network_is_priced_at_its_cost():
    """Sigmoid values cost about 30 relu ones while exact (0.5-0.85 ms against 17-30 microseconds, measured),
    for the first 2 iterations (Rationals: 6); after them a long run's value costs a fifteenth of a relu one, whatever the
    activation (about 2 microseconds at both precisions). So 600 iterations are taken for both, and the
    bound differs by the exact part only."""
    relu, sigmoid = (symbackprop.dense([2, 2, 1], activation=a) for a in ("relu", "sigmoid"))
    check_work(relu, 600, "iterations")
    check_work(sigmoid, 600, "iterations")
    values_per_iteration = 66  # traced_values(dense 2-2-1, 1 example) / 2 iterations, counted by hand below
    # per example: 3 neurons x (5 + 2 inputs) + 2 x 9 parameters = 39; plus 3 x 9 parameters = 27
    assert 3 * (5 + 2) + 2 * 9 + 3 * 9 == values_per_iteration
    for model, weight in ((relu, 1), (sigmoid, 30)):
        with pytest.raises(InputError) as e:
            check_work(model, 10**7, "iterations")
        assert ("of closed forms" in str(e.value)) == (weight > 1)
        most = int(str(e.value).split("at most ")[-1].split(" iterations")[0].replace(",", ""))
        exact = 6 if weight == 1 else 2  # iterations of Rationals, or of closed forms, before a long run takes over
        exact_units = exact * values_per_iteration * weight
        assert most == exact + (1_000_000 - exact_units) * 15 // values_per_iteration - 1


def test_a_verify_shows_progress_on_a_tty():
    code, seen = _stderr_on_a_tty("verify", str(ROOT / "derivations" / "seed003_chain.toml"))
    assert code == 1 and b"verify seed003_chain.toml" in seen and b"100%" in seen  # the file has 3 mismatches


def test_verify_reports_its_progress_over_iterations_then_claims(tmp_path):
    """seed003_chain: one reading, iterations = 1 (two passes: the update and the trained forward pass),
    then one step per claim; on no terminal nothing is drawn."""
    path = ROOT / "derivations" / "seed003_chain.toml"
    model = symbackprop.load(path)
    heard: list[tuple[int, int]] = []
    symbackprop.api.verify(path, progress=lambda done, total: heard.append((done, total)))
    total = (model.iterations + 1) + len(model.claims)
    assert heard == [(k, total) for k in range(1, total + 1)]
    done = cli("verify", str(path))
    assert done.returncode == 1 and done.stderr == ""


def _size_refusal(make) -> InputError:
    with pytest.raises(InputError) as e:
        make()
    assert "\n" not in e.value.what
    return e.value


def test_a_network_past_the_neurons_bound_gives_its_cost():
    """dense 1-1001-1, priced by hand: 3,004 parameters (1,001 x 2 + 1,002), 4,006 neurons and edges
    (1,001 x 3 + 1,003), two layers run as matrices: finite differences 8 x 3,004 x (2 x 9 + 4,006 x 0.07)
    microseconds = 7.2 s; the trace 2 passes x (1,001 x 10 + 3,010 + 3 x 3,004) = 44,064 values, 1.3 s."""
    e = _size_refusal(lambda: symbackprop.dense([1, 1001, 1]))
    assert e.key == "network.neurons" and e.what.startswith("1,002 neurons; symbackprop takes at most 1,000 (")
    assert 8 * 3004 * (2 * 9 + 4006 * 0.07) * 1e-6 == pytest.approx(7.17, abs=0.01)
    assert "check's finite differences about 7 s" in e.what
    assert "its trace (1 example x 2 passes: 44,064 traced values) about 1 s" in e.what


def test_a_network_past_the_edges_bound_gives_its_cost():
    """dense 1000-200-1: 200,401 edges and parameters, 200,602 neurons and edges: 8 x 200,401 x (2 x 9 + 200,602 x
    0.07) microseconds = 22,541 s, 6 hours."""
    e = _size_refusal(lambda: symbackprop.dense([1000, 200, 1]))
    assert e.what.startswith("200,401 weights (edges); symbackprop takes at most 200,000")
    assert round(8 * 200401 * (2 * 9 + 200602 * 0.07) * 1e-6 / 3600) == 6
    assert "check's finite differences about 6 hours" in e.what


def test_a_path_past_the_depth_bound_gives_the_stack_it_would_need():
    """A chain of 300 sigmoids: 300 x 6.5 = 1,950 frames; 300 weights, 600 neurons and edges, 300 layers:
    8 x 300 x (300 x 9 + 600 x 0.07) microseconds = 6.6 s; the trace 2 x (300 x 8 + 3 x 300) = 6,600 values
    of closed forms, each counting 30: 6 s."""
    e = _size_refusal(lambda: loads(chain(300, "sigmoid")))
    assert e.what.startswith("300 neurons on the longest path; symbackprop takes at most 100")
    assert "a document's formulas would nest 300 deep, about 1,950 of Python's 1,000 frames" in e.what
    assert 8 * 300 * (300 * 9 + 600 * 0.07) * 1e-6 == pytest.approx(6.58, abs=0.01)
    assert "check's finite differences about 7 s" in e.what
    assert "6,600 traced values of closed forms, each about 30 times a piecewise-linear one) about 6 s" in e.what


def test_examples_past_their_bound_give_the_trace_estimate():
    """dense 2-2-1 with 10,001 examples: 2 passes x (10,001 x 39 + 27) values = 780,132, 23 s."""
    m = symbackprop.dense([2, 2, 1], activation="relu")
    e = _size_refusal(lambda: dataclasses.replace(m, examples=m.examples * 10_001))
    assert e.key == "examples" and e.what.startswith("10,001 examples; symbackprop takes at most 10,000")
    assert 2 * (10_001 * 39 + 27) == 780_132
    assert e.what.endswith("its trace (10,001 examples x 2 passes: 780,132 traced values) about 23 s")


def _wide_graph(width: int):
    """x1 -> h1..h<width> (ReLU, through a bias input b0: a graph, no matrix form) -> o."""
    R = sp.Rational
    neurons = [Neuron(f"h{i}", "relu", ("b0", "x1"), (f"u{i}", f"v{i}")) for i in range(width)]
    neurons.append(Neuron("o", "identity", tuple(f"h{i}" for i in range(width)), tuple(f"w{i}" for i in range(width))))
    params = {}
    for i in range(width):
        params |= {f"u{i}": R(i % 7 - 3, 10), f"v{i}": R(i % 5 + 1, 10), f"w{i}": R(i % 3 - 1, 10)}
    return Model(neurons, ["x1"], ["o"], params, [Example({"x1": R(1, 2)}, {"o": R(1)})], constants={"b0": R(1)})


def test_finite_differences_are_priced_before_they_start(monkeypatch):
    """1 -> 999 ReLU -> 1 through a bias input: 2,997 parameters, 3 x 999 + 1 + 999 = 3,997 neurons and edges,
    8 x 2,997 x 3,997 x 2.5 microseconds = 240 s (measured: 284 s). ``--against fd`` is refused at once,
    ``all`` checks the rest and says so; a net within the bound is checked against them."""
    wide = _wide_graph(999)
    assert limits.fd_seconds(wide) == pytest.approx(8 * 2997 * 3997 * 2.5e-6)
    d = symbackprop.derive(wide)
    start = time.perf_counter()
    with pytest.raises(InputError) as e:
        symbackprop.api.check(d, against="fd")
    assert time.perf_counter() - start < 5  # before the module is compiled
    assert e.value.key == "against"
    assert e.value.what.startswith("finite differences of 2,997 parameters take about 4 minutes; check takes at most 60 s")
    seed_chain = symbackprop.derive(symbackprop.load(ROOT / "derivations" / "seed003_chain.toml"))
    assert "fd" in {r.reference for r in symbackprop.api.check(seed_chain, against="all").rows}
    monkeypatch.setitem(LIMITS, "fd", dataclasses.replace(LIMITS["fd"], value=0))  # the seed chain past the bound
    report = symbackprop.api.check(seed_chain, against="all")
    assert report.ok and "fd" not in {r.reference for r in report.rows} and "numpy" in {r.reference for r in report.rows}
    assert "fd       skipped: finite differences of 6 parameters take about" in report.text()
    with pytest.raises(InputError, match="finite differences of 6 parameters"):
        symbackprop.api.check(seed_chain, against="fd")
