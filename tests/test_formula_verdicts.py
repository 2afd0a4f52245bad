"""Formula verdicts as a reviewer gives them: a formula right only on the example's side of a kink
it leaves out is ``conditional`` (where, and what it omits; not a failure), a wrong formula that
agrees at the example is "right number, wrong formula", one that does not gives both values; the
derivation's formula printed in the text's order; a formula with no real value reported, never a
traceback; a claim without a quote shown by its source alone. References: seed 002's own numbers,
hand arithmetic, and SymPy on hand-written expressions."""

from __future__ import annotations

import json

import pytest
import sympy as sp
from conftest import DERIVATIONS

import symbackprop
from symbackprop.cli import main
from symbackprop.core.derivation import Derivation
from symbackprop.verifier import reports
from symbackprop.verifier.formula_claims import check
from symbackprop.verifier.latex_reader import parse
from symbackprop.verifier.status import Status
from symbackprop.verifier.verifier import _formula_diagnosis, verify

S = sp.Symbol
ONE = """title = "one neuron o"
source = "hand"

[network]
inputs = ["x"]
outputs = ["o"]

[[network.neurons]]
name = "o"
activation = "{activation}"
inputs = ["x"]
weights = ["w"]
bias = "b"

[parameters]
w = 0.5
b = 0.25

[loss]
function = "half_sse"

[training]
learning_rate = 0.1
iterations = 1

[[examples]]
inputs = {{ x = 1.0 }}
targets = {{ o = 2.0 }}
"""
NAMES = '{ E = "E", w = "w", x = "x", b = "b", y = "y" }'
# z = 0.5 * 1 + 0.25 = 0.75 > 0: the ReLU passes it; E = (2 - 0.75)^2 / 2 = 25/32; dE/dw = (0.75 - 2) * 1 = -5/4
CLAIMS = f"""
[[claims]]
formula = "E = \\\\frac{{1}}{{2}}(w x + b - y)^2"
symbols = {NAMES}
source = "t.txt:1"

[[claims]]
formula = "\\\\frac{{\\\\partial E}}{{\\\\partial w}} = (w x + b - y) x"
symbols = {NAMES}
source = "t.txt:2"
quote = "dE/dw = (wx + b - y) x"
"""
WRONG = f"""
[[claims]]
formula = "\\\\frac{{\\\\partial E}}{{\\\\partial w}} = (w x + b - y) w"
symbols = {NAMES}
source = "t.txt:3"

[[claims]]
formula = "\\\\frac{{\\\\partial E}}{{\\\\partial w}} = (w x + b - y) \\\\cdot 2 w"
symbols = {NAMES}
source = "t.txt:4"
"""


@pytest.fixture(scope="module")
def seed002():
    return verify(DERIVATIONS / "seed002_2_2_1.toml")


def _at(report, line: int, reading: str = ""):
    return [r for r in report.results if r.claim.formula and r.claim.source.endswith(f":{line}")
            and r.reading == reading]


# -- seed 002: the loss without the output's ReLU, the gradient with W53 for H3 ------------------------------
def test_the_loss_without_the_output_relu_is_conditional_where_z5_is_positive(seed002):
    # line 81: L = (H3 W53 + H4 W54 + b5 - Ye)^2 leaves out O5's ReLU; Z5 = 0.5 + 1.5 + 0.5 = 2.5 > 0 (line 71: Yr = 2.5)
    for reading in ("arithmetic", "prose"):
        [r] = _at(seed002, 81, reading)
        f = r.formula
        assert r.status is Status.CONDITIONAL and not r.status.failed
        assert (f.region, f.omits, f.adds) == ("z_O5 > 0", "the ReLU of O5", "")
        assert f.text_value == f.exact == sp.Rational(1, 4)  # line 86: "L= 0.25"
        assert r.diagnosis == ("holds where z_O5 > 0 (as at the example): the text omits the ReLU of O5",
                               r"in general the derivation gives $\left(Yr - Ye\right)^{2}$")


def test_the_verdict_matches_the_loss_written_by_hand():
    """The text's loss equals the true one exactly where z5 > 0, and not elsewhere: conditional, not holds."""
    H3, H4, W53, W54, b5, Ye = sp.symbols("H3 H4 W53 W54 b5 Ye")
    z5 = H3 * W53 + H4 * W54 + b5
    text, true = (z5 - Ye) ** 2, (sp.Max(0, z5) - Ye) ** 2
    assert sp.expand(true.subs(sp.Max(0, z5), z5) - text) == 0
    away = {H3: 1, H4: 1, W53: -1, W54: -1, b5: 0, Ye: 2}  # z5 = -2: the ReLU gives 0
    assert (text.subs(away), true.subs(away)) == (16, 4)


def test_the_gradient_formula_is_wrong_at_the_example_or_right_by_coincidence(seed002):
    # line 99: 2 W53 (Yr - Ye); arithmetic: H3 = 0.5, so 2 * 0.5 * 0.5 = 0.5 (line 106) against 2 * 1 * 0.5 = 1
    [r] = _at(seed002, 99, "arithmetic")
    assert r.status is Status.MISMATCH and r.formula.region == "" and r.formula.omits == ""
    assert r.diagnosis[-1] == "wrong at the example: the text's formula gives 1.0 against 0.5"
    # prose: b3 = 0.5, H3 = 1 = W53: the wrong formula gives the right 1
    [r] = _at(seed002, 99, "prose")
    assert r.status is Status.MISMATCH and r.formula.agrees
    assert r.diagnosis[-1] == "right number, wrong formula: at the example's values it gives 1.0 as the derivation does, by coincidence"
    assert r.diagnosis[0] == (r"the derivation gives $2 H_{3} \left(Y_{r} - Y_{e}\right) \theta\left(Z_{5}\right)$; "
                              r"where z_O5 > 0 (as at the example): $2 H_{3} \left(Y_{r} - Y_{e}\right)$")


def test_the_summary_counts_conditional_apart(seed002):
    formulas = [r for r in seed002.results if r.claim.formula and r.reading == "arithmetic"]
    assert sum(r.status is Status.CONDITIONAL for r in formulas) == 1  # line 81
    assert sum(r.status is Status.MISMATCH for r in formulas) == 1  # line 99
    counts = seed002.counts("arithmetic")
    assert list(counts) == list(Status) and counts[Status.CONDITIONAL] == 1
    line = next(x for x in reports.text([seed002]).splitlines() if x.startswith("  summary [arithmetic]"))
    assert f"{counts[Status.HOLDS]} holds, 1 conditional, 0 truncated, {counts[Status.MISMATCH]} mismatch, " in line
    data = json.loads(reports.to_json([seed002]))[0]
    assert data["summary"]["arithmetic"]["conditional"] == 1
    loss = next(c for c in data["claims"] if c.get("formula", "").startswith("L =") and c["reading"] == "arithmetic")
    assert (loss["status"], loss["region"], loss["omits"]) == ("conditional", "z_O5 > 0", "the ReLU of O5")
    row = next(x for x in reports.markdown([seed002]).splitlines() if "formula L = " in x and "arithmetic" in x)
    assert "| *conditional* |" in row


# -- hand-made nets: what is omitted, what is added; the exit code ----------------------------------------
@pytest.fixture(scope="module")
def relu(tmp_path_factory):
    path = tmp_path_factory.mktemp("relu") / "relu.toml"
    path.write_text(ONE.format(activation="relu") + CLAIMS + WRONG)
    return verify(path)


def test_a_relu_and_its_step_left_out_are_named(relu):
    loss, grad, wrong, lucky = relu.results
    assert (loss.status, loss.formula.omits, loss.formula.region) == (Status.CONDITIONAL, "the ReLU of o", "z_o > 0")
    assert loss.formula.exact == loss.formula.text_value == sp.Rational(25, 32)
    assert loss.formula.correct == r"\frac{\left(o - y\right)^{2}}{2}"  # the text's orientation: w x + b - y
    assert grad.status is Status.CONDITIONAL and grad.formula.exact == sp.Rational(-5, 4)
    assert grad.diagnosis[0] == ("holds where z_o > 0 (as at the example): the text omits the ReLU derivative "
                                 "θ(z_o) of o and the ReLU of o")
    # (wx + b - y) w = -1.25 * 0.5 = -0.625; (wx + b - y) 2w = -1.25 * 1 = -1.25, as (a - y) x
    assert wrong.status is Status.MISMATCH and wrong.diagnosis[-1] == ("wrong at the example: the text's formula "
                                                                       "gives -0.625 against -1.25")
    assert lucky.status is Status.MISMATCH and lucky.formula.agrees and lucky.diagnosis[-1].startswith("right number")


def test_conditional_is_not_a_failure_and_an_absent_quote_is_not_printed(tmp_path, capsys):
    path = tmp_path / "relu.toml"
    path.write_text(ONE.format(activation="relu") + CLAIMS)
    assert main(["verify", str(path)]) == 0  # the command's exit code, in process
    lines = capsys.readouterr().out.splitlines()
    assert [x for x in lines if x.startswith("  summary")] == [
        "  summary: 0 holds, 2 conditional, 0 truncated, 0 mismatch, 0 unverifiable, 0 unparseable"]
    first = next(x for x in lines if "t.txt:1" in x)
    assert first.endswith("    (t.txt:1)")
    assert next(x for x in lines if "t.txt:2" in x).endswith('(t.txt:2: "dE/dw = (wx + b - y) x")')
    rep = verify(path)
    md = reports.markdown([rep])
    assert "| t\\.txt\\:1 |" in md and "“”" not in md and "t\\.txt\\:2: “dE/dw" in md
    assert [c["quote"] for c in json.loads(reports.to_json([rep]))[0]["claims"]] == [None, "dE/dw = (wx + b - y) x"]


def test_a_relu_the_network_has_not_is_named_as_added(tmp_path):
    path = tmp_path / "identity.toml"
    path.write_text(ONE.format(activation="identity") + '\n[[claims]]\nformula = "o = \\\\max(0, w x + b)"\n'
                    'symbols = { o = "a_o", w = "w", x = "x", b = "b" }\nsource = "t.txt:1"\n')
    [r] = verify(path).results
    assert r.status is Status.CONDITIONAL and (r.formula.omits, r.formula.adds) == ("", "max(0, z_o)")
    assert r.diagnosis[0] == "holds where z_o > 0 (as at the example): the text adds max(0, z_o), which the derivation has not"


# -- the derivation's formula in the text's order ------------------------------------------------------------
@pytest.fixture(scope="module")
def linear():
    d = Derivation(symbackprop.dense([2, 1], "identity", seed=0))  # E = (y - a)^2 / 2, a = w1 x1 + w2 x2 + b
    return d, d.trace(1)


LINEAR = {"a": "a_n1_1", "y": "y", "z": "z_n1_1", "w_1": "w1_1_1", "w_2": "w1_1_2", "x_1": "x1", "x_2": "x2", "b": "b1_1"}
a, y, w1, w2, x1, x2, b = (S(n) for n in ("a", "y", "w_1", "w_2", "x_1", "x_2", "b"))


@pytest.mark.parametrize("formula, quantity, printed, value", [
    ("E = (a - y)^2", None, r"\frac{\left(a - y\right)^{2}}{2}", (a - y) ** 2 / 2),
    ("E = (y - a)^2", None, r"\frac{\left(y - a\right)^{2}}{2}", (y - a) ** 2 / 2),
    ("z = b + x_2 w_1 + x_1 w_2", None, r"b + w_{2} x_{2} + w_{1} x_{1}", b + w1 * x1 + w2 * x2),
    ("(y - a) x_1", "dE/dw1_1_1", r"- x_{1} \left(y - a\right)", (a - y) * x1),
])
def test_the_correct_formula_keeps_the_texts_order(linear, formula, quantity, printed, value):
    d, trace = linear
    r = check(formula, quantity, LINEAR, d, trace, "claims[0]")
    assert r.status is Status.MISMATCH and r.correct == printed
    assert sp.expand(parse(r.correct).rhs - value) == 0  # the same formula, only ordered: read back, it is the derivation's


@pytest.mark.parametrize("formula, printed", [
    ("(a - y) x", r"a x \left(1 - a\right) \left(a - y\right)"),  # 1 - a: a number keeps its place, no sum of the text has it
    ("x (y - a)", r"- a x \left(1 - a\right) \left(y - a\right)"),  # the text's y - a, the sign compensating
])
def test_a_factor_is_turned_only_after_a_sum_of_the_text(formula, printed):
    d = Derivation(symbackprop.dense([1, 1], "sigmoid", seed=0))  # dE/dw = a (1 - a) (a - y) x
    r = check(formula, "dE/dw1_1_1", {"a": "a_n1_1", "y": "y", "x": "x1"}, d, d.trace(1), "claims[0]")
    assert r.status is Status.MISMATCH and r.correct == printed
    assert sp.expand(parse(r.correct, ("x",)).rhs - a * (1 - a) * (a - y) * S("x")) == 0  # x: a name, not times


def test_seed002_loss_prints_as_the_text_writes_its_difference(seed002):
    [r] = _at(seed002, 81, "arithmetic")
    assert r.formula.correct == r"\left(Yr - Ye\right)^{2}"  # the text writes (... - Ye)^2
    d = Derivation(symbackprop.load(DERIVATIONS / "seed002_2_2_1.toml"))  # SymPy's own order: (y - O5)^2 as (-Yr + Ye)^2
    names = {d.a["O5"]: "Yr", d.targets["O5"]: "Ye"}
    assert sp.latex(d.loss, symbol_names=names) == r"\left(- Yr + Ye\right)^{2}"


# -- formulas with no real value: reported, never a traceback -----------------------------------------------
@pytest.fixture(scope="module")
def relu_net():
    model = symbackprop.dense([2, 2, 1], "relu", seed=1)  # w1_1_1 = -0.432
    d = Derivation(model)
    return model, d, d.trace(1)


def test_the_relu_net_has_a_negative_weight_and_a_closed_relu(relu_net):
    model, _, _ = relu_net
    p, x = model.parameters, model.examples[0].inputs
    assert p["w1_1_1"] < 0
    assert p["w1_1_1"] * x["x1"] + p["w1_1_2"] * x["x2"] + p["b1_1"] < 0  # z_n1_1: its ReLU gives 0


@pytest.mark.parametrize("formula, quantity, mapping, why", [
    (r"D = \sqrt{W}", None, {"D": "z_n1_1", "W": "w1_1_1"}, "not a real number"),
    (r"\sqrt{W}", "w1_1_1", {"W": "w1_1_1"}, "not a real number"),
    (r"\max(0, \sqrt{W})", "a_n1_1", {"W": "w1_1_1"}, "Max of a value that is not real"),
    (r"\sqrt{z}", "a_n1_1", {"z": "z_n1_1"}, "not a real number"),
    (r"H(\sqrt{W})", "da_n1_1/dz_n1_1", {"W": "w1_1_1"}, "Heaviside of a value that is not real"),
    (r"\frac{\partial E}{\partial W} = \sqrt{W} \cdot x", None, {"W": "w1_1_1", "x": "x1"}, "not a real number"),
    (r"\max(0, \sqrt{W}) \cdot (a - y)", "dE/dw2_1_1", {"W": "w1_1_1", "a": "a_n2_1", "y": "y"}, "Max of a value"),
])
def test_a_formula_with_no_real_value_is_a_mismatch_with_the_reason(relu_net, formula, quantity, mapping, why):
    _, d, trace = relu_net
    r = check(formula, quantity, mapping, d, trace, "claims[0]")
    assert r.status is Status.MISMATCH and r.text_value is None
    assert r.message.startswith("at the example's values the text's formula is undefined: ") and why in r.message
    assert _formula_diagnosis(r)[0] == r.message


def test_a_closed_relu_claimed_wrongly_names_its_side(relu_net):
    model, d, trace = relu_net  # any wrong formula for it was an AttributeError: max(0, z) fixed to the int 0
    r = check("2 z", "a_n1_1", {"z": "z_n1_1"}, d, trace, "claims[0]")
    assert r.status is Status.MISMATCH and (r.correct_in_region, r.branches) == ("0", "z_n1_1 < 0")
    p, x = model.parameters, model.examples[0].inputs
    assert r.exact == 0 and r.text_value == 2 * (p["w1_1_1"] * x["x1"] + p["w1_1_2"] * x["x2"] + p["b1_1"])


def test_a_value_only_sympy_computes_is_judged_real_or_not(tmp_path):
    """A leaky ReLU net: SymPy rewrites the Piecewise's conditions as ITE, which the bounded values
    left to SymPy; sqrt(w1_1_1) a_n2_1 = sqrt(-0.432) * 0.6426 is imaginary (was: cannot create mpf)."""
    model = symbackprop.dense([2, 2, 1], "leaky_relu", seed=1)
    path = tmp_path / "leaky.toml"
    path.write_text(model.to_toml() + '\n[[claims]]\nformula = "\\\\sqrt{W} \\\\cdot a"\nquantity = "a_n2_1"\n'
                    'symbols = { W = "w1_1_1", a = "a_n2_1" }\nsource = "t.txt:1"\n')
    rep = verify(path)
    [r] = rep.results
    a_out = rep.results[0].formula.exact  # the output itself, computed by hand below
    p, x = model.parameters, model.examples[0].inputs
    z = [p[f"w1_{j}_1"] * x["x1"] + p[f"w1_{j}_2"] * x["x2"] + p[f"b1_{j}"] for j in (1, 2)]
    h = [v if v > 0 else v / 100 for v in z]
    z_out = p["w2_1_1"] * h[0] + p["w2_1_2"] * h[1] + p["b2_1"]
    assert a_out == (z_out if z_out > 0 else z_out / 100)
    imaginary = sp.sqrt(-p["w1_1_1"]) * a_out
    assert r.status is Status.MISMATCH and r.formula.text_value is None
    assert r.formula.message.endswith(f"not a real number: (0.0 + {float(imaginary):.6g}j)")
    assert r.diagnosis[0] == r.formula.message
    assert r.formula.message in reports.text([rep]) and json.loads(reports.to_json([rep]))[0]["claims"][0]["message"]
