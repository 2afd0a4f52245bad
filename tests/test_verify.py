"""symbackprop verify: every holding claim against a value worked out by hand here; the known wrong
numbers of the sources found with their status and diagnosis; bad claim files give exit 2."""

from __future__ import annotations

import json
import math
from fractions import Fraction as F

import pytest
import sympy as sp
from conftest import DERIVATIONS

import symbackprop
from symbackprop.verifier.rounding import judge
from symbackprop.verifier.status import Status

FILES = ["seed000_chain", "seed001_sigmoid", "seed002_2_2_1", "seed003_chain", "seed003_neuron", "seed004_pytorch"]


@pytest.fixture(scope="module")
def reports():
    return {name: symbackprop.verify(DERIVATIONS / f"{name}.toml") for name in FILES}


def result(reports, file, quantity, source_line, reading=""):
    hits = [r for r in reports[file].results if r.claim.quantity == quantity
            and r.claim.source.endswith(f":{source_line}") and r.reading == reading]
    assert len(hits) == 1, (file, quantity, source_line, reading)
    return hits[0]


# -- seed 003 chapter 2, by hand -------------------------------------------------------------
x1, x2, x3, b0 = F("0.2"), F("0.1"), F("0.4"), F(1)
wa0, wa1, wa2, wa3, wb0, wb1, y = F("0.6"), F("0.1"), F("0.2"), F("0.3"), F("0.5"), F("0.4"), F(1)
za = b0 * wa0 + x1 * wa1 + x2 * wa2 + x3 * wa3          # 0.6 + 0.02 + 0.02 + 0.12
zb = b0 * wb0 + za * wb1                                # 0.5 + 0.304
E = F(1, 2) * (y - zb) ** 2                             # 1/2 * 0.196^2
delta_b = -(y - zb) * 1
delta_a = 1 * delta_b * wb1

SEED003 = [  # (quantity, line, exact by hand)
    ("z_a", 207, F("0.76")), ("z_b", 229, F("0.804")), ("a_b", 243, F("0.804")), ("E", 243, F("0.019208")),
    ("E", 288, F("0.019208")), ("a_b", 318, F("0.804")), ("da_b/dz_b", 318, 1), ("da_a/dz_a", 332, 1),
    ("delta_b", 332, F("-0.196")), ("dz_b/da_a", 332, F("0.4")), ("delta_a", 332, F("-0.0784")),
]


def test_hand_arithmetic_of_seed003():
    assert (za, zb, E, delta_b, delta_a) == (F("0.76"), F("0.804"), F("0.019208"), F("-0.196"), F("-0.0784"))


@pytest.mark.parametrize("quantity,line,hand", SEED003)
def test_seed003_holds(reports, quantity, line, hand):
    r = result(reports, "seed003_chain", quantity, line)
    assert r.status == "holds"
    assert r.exact == sp.Rational(hand.numerator, hand.denominator)


def test_seed003_second_pass_is_wrong_and_unexplained(reports):
    # all six weights move by -lr * dE/dw = 0.6 * delta * input (lr = -0.6, added)
    new = {"wa0": wa0 - F("0.6") * delta_a * b0, "wa1": wa1 - F("0.6") * delta_a * x1,
           "wa2": wa2 - F("0.6") * delta_a * x2, "wa3": wa3 - F("0.6") * delta_a * x3,
           "wb0": wb0 - F("0.6") * delta_b * b0, "wb1": wb1 - F("0.6") * delta_b * za}
    za2 = b0 * new["wa0"] + x1 * new["wa1"] + x2 * new["wa2"] + x3 * new["wa3"]
    yb2 = b0 * new["wb0"] + za2 * new["wb1"]
    r = result(reports, "seed003_chain", "a_b@2", 366)
    assert r.status == "mismatch" and r.exact == sp.Rational(yb2.numerator, yb2.denominator)
    assert not r.explained and len(r.tried) >= 10
    e = result(reports, "seed003_chain", "E@2", 366)
    assert e.status == "mismatch"
    assert e.exact == sp.Rational(*(lambda f: (f.numerator, f.denominator))(F(1, 2) * (1 - yb2) ** 2))
    # the text's own yb = 0.9982 gives 1/2 * 0.0018^2 = 0.00000162, not 0.0017: a contradiction
    assert "0.00000162" in e.local and any("contradict" in d for d in e.diagnosis)


def test_seed003_and_000_bias_weight_named_twice(reports):
    for file, line in (("seed003_chain", 130), ("seed000_chain", 27)):
        r = result(reports, file, "w_a0", line)
        assert r.status == "mismatch" and r.exact == sp.Rational(3, 5)
        assert any("w_b0" in d for d in r.diagnosis) and r.explained


@pytest.mark.parametrize("quantity,line,hand", [("w_a1", 11, "0.1"), ("w_a2", 13, "0.2"), ("w_a3", 15, "0.3"),
                                                 ("w_a0", 17, "0.6")])
def test_seed000_given_values_hold(reports, quantity, line, hand):
    r = result(reports, "seed000_chain", quantity, line)
    assert r.status == "holds" and r.exact == sp.Rational(hand)


# -- seed 003 chapter 1 ------------------------------------------------------------------------
def test_seed003_neuron(reports):
    z = 3.02
    tanh = (math.exp(2 * z) - 1) / (math.exp(2 * z) + 1)   # 0.9952...
    sigmoid = 1 / (1 + math.exp(-z))                        # 0.9535...
    assert round(tanh) == 1 and round(sigmoid) == 1 and round(math.e, 3) == 2.718
    assert result(reports, "seed003_neuron", "a_t", 102).status == "holds"
    assert abs(float(result(reports, "seed003_neuron", "a_t", 102).exact) - tanh) < 1e-12
    assert abs(float(result(reports, "seed003_neuron", "a_s", 102).exact) - sigmoid) < 1e-12
    assert result(reports, "seed003_neuron", "const:e", 82).status == "holds"
    assert result(reports, "seed003_neuron", "z_r", 80).status == "unverifiable"


# -- seed 002: two readings ------------------------------------------------------------------
def seed002(b3, b4, b5=F("0.5"), ye=F(2)):
    h3 = max(F(0), 1 * F("0.5") + 0 * F("0.5") + b3)
    h4 = max(F(0), 1 * F(1) + 0 * F(1) + b4)
    o5 = max(F(0), h3 * 1 + h4 * 1 + b5)
    loss = (o5 - ye) ** 2
    g53 = 2 * (o5 - ye) * h3
    return {"z_H3": h3, "a_H3": h3, "z_H4": h4, "a_H4": h4, "a_O5": o5, "E": loss, "dE/dW53": g53,
            "W53@2": 1 - F("0.01") * g53}


LINES_002 = {"z_H3": 47, "a_H3": 53, "z_H4": 61, "a_H4": 65, "a_O5": 71, "E": 86, "dE/dW53": 106, "W53@2": 113}


@pytest.mark.parametrize("quantity", list(LINES_002))
def test_seed002_arithmetic_reading_holds(reports, quantity):
    hand = seed002(b3=F(0), b4=F("0.5"))[quantity]
    r = result(reports, "seed002_2_2_1", quantity, LINES_002[quantity], "arithmetic")
    assert r.status == "holds" and r.exact == sp.Rational(hand.numerator, hand.denominator)


@pytest.mark.parametrize("quantity", list(LINES_002))
def test_seed002_prose_reading(reports, quantity):
    hand = seed002(b3=F("0.5"), b4=F(0))[quantity]
    r = result(reports, "seed002_2_2_1", quantity, LINES_002[quantity], "prose")
    assert r.exact == sp.Rational(hand.numerator, hand.denominator)
    if quantity in ("a_O5", "E"):  # both readings give Z5 = 2.5 and L = 0.25
        assert r.status == "holds" and hand in (F("2.5"), F("0.25"))
    else:
        assert r.status == "mismatch" and any("'arithmetic' reading" in d for d in r.diagnosis)


# -- seed 001: checked from its own stated numbers -----------------------------------------
def test_seed001_local_checks(reports):
    hand = {("E", 10): F(1, 2) * (F(1) - F("1.7")) ** 2, ("E", 24): F(1, 2) * (F(1) - F("1.7")) ** 2,
            ("dE/da_b", 28): -(F(1) - F("1.7")), ("delta_b", 33): F("0.7") * 1,
            ("w_a1@2", 37): F("0.1") - F("0.042"), ("w_b1@2", 37): F("0.4") - F("0.105")}
    assert hand[("E", 10)] == F("0.245")
    for (q, line), value in hand.items():
        r = result(reports, "seed001_sigmoid", q, line)
        assert r.status == "holds" and r.basis == "stated inputs"
        assert r.exact == sp.Rational(value.numerator, value.denominator)
    for q, line in (("a_b", 10), ("da_b/dz_b", 32), ("Delta_w_a1", 36)):
        assert result(reports, "seed001_sigmoid", q, line).status == "unverifiable"


def test_seed001_adjustment_of_wb1_is_impossible(reports):
    # -0.105 = -0.012 * 0.7 * a_a needs a_a = 12.5; a sigmoid stays in (0, 1)
    assert F("0.105") / (F("0.012") * F("0.7")) == F("12.5")
    r = result(reports, "seed001_sigmoid", "Delta_w_b1", 36)
    assert r.status == "mismatch" and "12.5" in r.local and "(0, 1)" in r.local


def test_seed004_states_nothing(reports):
    assert reports["seed004_pytorch"].results == ()


# -- rounding rules --------------------------------------------------------------------------
def test_rounding_rules():
    assert judge(sp.Rational("0.019208"), sp.Rational("0.019"), 3) == "holds"
    assert judge(sp.Rational("0.0196"), sp.Rational("0.019"), 3) == "truncated"
    assert judge(sp.Rational("0.0196"), sp.Rational("0.021"), 3) == "mismatch"
    assert judge(sp.Rational("0.0195"), sp.Rational("0.019"), 3) == "holds"  # a tie rounds either way
    assert judge(sp.tanh(sp.Rational("3.02")), sp.Integer(1), 0) == "holds"


# -- the command -----------------------------------------------------------------------------
def test_cli_all_files(run_cli):
    out = run_cli("verify", *[str(DERIVATIONS / f"{n}.toml") for n in FILES], "--json")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert [d["file"].rsplit("/", 1)[1] for d in data] == [f"{n}.toml" for n in FILES]
    # seed003_chain: 11 number claims and 4 formula claims hold
    assert data[3]["summary"][""] == {"holds": 15, "conditional": 0, "truncated": 0, "mismatch": 3, "unverifiable": 0, "unparseable": 0}
    md = run_cli("verify", str(DERIVATIONS / "seed003_neuron.toml"), "--format", "md")
    # the walkthrough's symbol, then the file's name escaped (reports._inert)
    assert md.returncode == 0 and "| t (a\\_t) | 1 | holds |" in md.stdout


CHAIN = (DERIVATIONS / "seed003_chain.toml").read_text().split("[[claims]]")[0]


@pytest.mark.parametrize("claim,expected", [
    ('quantity = "z_q"\nstated = "0.76"', "claims[0].quantity: 'z_q' names no quantity"),
    ('quantity = "z_a"\nstated = "about 0.76"', "claims[0].stated: 'about 0.76' is not a number"),
    ('quantity = "w_b1@5"\nstated = "0.4"', "claims[0].quantity: 'w_b1@5': iteration 5 is beyond this trace"),
])
def test_bad_claims_exit_2(run_cli, tmp_path, claim, expected):
    path = tmp_path / "bad.toml"
    path.write_text(CHAIN + f'[[claims]]\n{claim}\nsource = "x.txt:1"\nquote = "q"\n')
    out = run_cli("verify", str(path))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and expected in out.stderr and "bad.toml" in out.stderr


@pytest.mark.parametrize("stated, status, solved", [("0.012", "mismatch", "-1.428571429"), ("-0.012", "unverifiable", "1.428571429")])
def test_a_softplus_output_must_be_positive(stated, status, solved, tmp_path):
    """Seed 001's adjustment of w_b1 with neuron a made softplus: Delta_w_b1 = -lr * delta_b * a_a = -0.0084 a_a
    (lr = 0.012, delta_b = 0.7), so a stated 0.012 needs a_a = -1.43, below softplus's range (0, oo): the
    numbers contradict each other. A stated -0.012 needs a_a = +1.43, which softplus can give."""
    text = (DERIVATIONS / "seed001_sigmoid.toml").read_text().replace('activation = "sigmoid"', 'activation = "softplus"')
    text = text.replace('stated = "-0.105"', f'stated = "{stated}"')
    path = tmp_path / "softplus.toml"
    path.write_text(text)
    result = next(r for r in symbackprop.verify(path).results if r.claim.quantity == "Delta_w_b1")
    assert result.status == status and f"needs a_a = {solved}" in result.local
    assert ("outside softplus's range (0, oo)" in result.local) == (status == "mismatch")


# -- what a claim's quantity name may be: each wrong index says what is valid ---------------------
BACKWARD = ("belongs to the backward pass (error terms, gradients, adjustments and their chain factors), computed once "
            "per update, so it exists {at} only (iterations = {n}); @{last} holds only the forward pass after the last "
            "update: z_, a_, E and the parameters")


@pytest.mark.parametrize("file, quantity, message", [
    # seed003_chain: iterations = 1, one example; the backward pass exists at @1 only, the forward pass at @1..@2
    ("seed003_chain", "delta_a@2", "'delta_a@2': iteration 2 is beyond this trace; delta_a "
     + BACKWARD.format(at="at @1", n=1, last=2)),
    ("seed003_chain", "dE/dw_b1@2", "'dE/dw_b1@2': iteration 2 is beyond this trace; dE/dw_b1 "
     + BACKWARD.format(at="at @1", n=1, last=2)),
    ("seed003_chain", "Delta_w_a1@2", "'Delta_w_a1@2': iteration 2 is beyond this trace; Delta_w_a1 "
     + BACKWARD.format(at="at @1", n=1, last=2)),
    ("seed003_chain", "dz_b/da_a@2", "'dz_b/da_a@2': iteration 2 is beyond this trace; dz_b/da_a "
     + BACKWARD.format(at="at @1", n=1, last=2)),
    ("seed003_chain", "z_a@3", "'z_a@3': iteration 3 is beyond this trace; z_a exists at @1..@2 (iterations = 1: "
     "@2 is the forward pass with the parameters after the last update)"),
    ("seed003_chain", "w_b1@5", "'w_b1@5': iteration 5 is beyond this trace; w_b1 exists at @1..@2 (iterations = 1: "
     "@2 is the forward pass with the parameters after the last update)"),
    ("seed003_chain", "w_b1@0", "'w_b1@0': no iteration 0; iterations are numbered from 1 (@1 is the first pass, with "
     "the initial parameters): w_b1 exists at @1..@2"),
    ("seed003_chain", "delta_b@0", "'delta_b@0': no iteration 0; iterations are numbered from 1 (@1 is the first pass, "
     "with the initial parameters): delta_b exists at @1"),
    ("seed003_chain", "z_a[0]", "'z_a[0]': no example 0; this file has one example: expected [1], or no index"),
    ("seed003_chain", "z_a[2]", "'z_a[2]': no example 2; this file has one example: expected [1], or no index"),
    ("seed003_chain", "w_b1[1]", "'w_b1[1]': w_b1 is one value for the whole batch, with no example index; expected w_b1"),
    ("seed003_chain", "Delta_w_b1[1]", "'Delta_w_b1[1]': Delta_w_b1 is one value for the whole batch, with no example "
     "index; expected Delta_w_b1"),
    ("seed003_chain", "z_q", "'z_q' names no quantity of this network; expected a name like z_a, a_a, delta_a, dE/da_a, "
     "E, dE/dw_a0, Delta_w_a0 or w_a0 (docs/format.md, Quantity names)"),
    ("seed003_chain", "delta_bb", "'delta_bb' names no quantity of this network; did you mean delta_b or delta_a? expected a name "
     "like z_a, a_a, delta_a, dE/da_a, E, dE/dw_a0, Delta_w_a0 or w_a0 (docs/format.md, Quantity names)"),
    # shared_weight_batch: iterations = 2, two examples
    ("shared_weight_batch", "z_h1", "'z_h1': z_h1 has one value per example, so it needs an example index [k]; "
     "expected z_h1[1]..z_h1[2]"),
    ("shared_weight_batch", "z_h1@3", "'z_h1@3': z_h1 has one value per example, so it needs an example index [k]; "
     "expected z_h1[1]@3..z_h1[2]@3"),
    ("shared_weight_batch", "z_h1[3]", "'z_h1[3]': no example 3; examples are numbered from 1: expected [1]..[2] "
     "(this file has 2)"),
    ("shared_weight_batch", "z_h1[0]@2", "'z_h1[0]@2': no example 0; examples are numbered from 1: expected [1]..[2] "
     "(this file has 2)"),
    ("shared_weight_batch", "delta_h1[1]@3", "'delta_h1[1]@3': iteration 3 is beyond this trace; delta_h1 "
     + BACKWARD.format(at="at @1..@2", n=2, last=3)),
    ("shared_weight_batch", "E@4", "'E@4': iteration 4 is beyond this trace; E exists at @1..@3 (iterations = 2: "
     "@3 is the forward pass with the parameters after the last update)"),
])
def test_a_wrong_quantity_name_says_what_is_valid(tmp_path, file, quantity, message):
    body = (DERIVATIONS / f"{file}.toml").read_text().split("\n[[claims]]")[0]
    path = tmp_path / "bad.toml"
    path.write_text(body + f'\n[[claims]]\nquantity = "{quantity}"\nstated = "0.4"\nsource = "x.txt:1"\nquote = "q"\n')
    with pytest.raises(symbackprop.InputError) as e:
        symbackprop.verify(path)
    assert e.value.line() == f"{path}: claims[0].quantity: {message}"


@pytest.mark.parametrize("quantity, message", [
    ("delta_a", "'delta_a': this trace has no backward pass (iterations = 0, no update): error terms, gradients, "
     "adjustments and their chain factors exist only at iterations 1..N of N >= 1 updates; here only the forward pass "
     "@1 (z_, a_, E and the parameters)"),
    ("dE/dw_b1", "'dE/dw_b1': this trace has no backward pass (iterations = 0, no update): error terms, gradients, "
     "adjustments and their chain factors exist only at iterations 1..N of N >= 1 updates; here only the forward pass "
     "@1 (z_, a_, E and the parameters)"),
    ("z_a@2", "'z_a@2': iteration 2 is beyond this trace; z_a exists at @1 (iterations = 0: no update, only the "
     "forward pass with the initial parameters)"),
])
def test_a_file_without_updates_has_no_backward_quantity(tmp_path, quantity, message):
    body = CHAIN.replace("iterations = 1", "iterations = 0", 1)
    assert body != CHAIN
    path = tmp_path / "bad.toml"
    path.write_text(body + f'[[claims]]\nquantity = "{quantity}"\nstated = "0.4"\nsource = "x.txt:1"\nquote = "q"\n')
    with pytest.raises(symbackprop.InputError) as e:
        symbackprop.verify(path)
    assert e.value.line() == f"{path}: claims[0].quantity: {message}"


def test_a_local_input_is_located_at_its_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(CHAIN + '[[claims]]\nquantity = "delta_a"\nstated = "-0.0784"\nsource = "x.txt:1"\nquote = "q"\n'
                    'local = { "delta_b@2" = "-0.196" }\n')
    with pytest.raises(symbackprop.InputError) as e:
        symbackprop.verify(path)
    assert e.value.key == "claims[0].local.delta_b@2" and "delta_b belongs to the backward pass" in e.value.what
    assert "so it exists at @1 only (iterations = 1)" in e.value.what


# -- each alternative tried once -------------------------------------------------------------------
SHARED_BIAS = """title = "two hidden neurons share one bias weight; the output's bias weight is also its additive bias"
[network]
inputs = ["x1", "x2"]
constants = { one = 1.0 }
[[network.neurons]]
name = "h1"
activation = "sigmoid"
inputs = ["one", "x1", "x2"]
weights = ["wb", "w11", "w12"]
[[network.neurons]]
name = "h2"
activation = "sigmoid"
inputs = ["one", "x1", "x2"]
weights = ["wb", "w21", "w22"]
[[network.neurons]]
name = "o"
activation = "sigmoid"
inputs = ["one", "h1", "h2"]
weights = ["wc", "v1", "v2"]
bias = "wc"
[parameters]
wb = 0.1
wc = 0.2
w11 = 0.3
w12 = 0.4
w21 = 0.5
w22 = 0.6
v1 = 0.7
v2 = 0.8
[loss]
function = "half_sse"
[training]
learning_rate = 0.5
iterations = 1
[[examples]]
inputs = { x1 = 1.0, x2 = 0.5 }
targets = { o = 1.0 }
[[claims]]
quantity = "E"
stated = "0.123"
source = "x.txt:1"
quote = "q"
"""


def test_a_shared_bias_weight_is_swapped_once(tmp_path, run_cli):
    """The bias parameters are wb (the constant input's weight in h1 and in h2) and wc (o's constant-input
    weight and its additive bias): one pair, so one swap, tried and reported once."""
    path = tmp_path / "shared.toml"
    path.write_text(SHARED_BIAS)
    (r,) = symbackprop.verify(path).results
    assert r.status is Status.MISMATCH and not r.explained
    assert [t for t in r.tried if t.startswith("bias values swapped")] == ["bias values swapped: wb = 0.2, wc = 0.1"]
    assert len(r.tried) == len(set(r.tried))
    out = run_cli("verify", str(path))
    assert out.returncode == 1
    assert out.stdout.count("bias values swapped") == 1 and out.stdout.count("tried:") == 1
    md = run_cli("verify", str(path), "--format", "md").stdout
    assert md.count("bias values swapped") == 1 and md.count("tried\\:") == 1  # ":" escaped in Markdown


def test_the_bundled_mismatches_list_each_alternative_once():
    for name in FILES:
        for r in symbackprop.verify(DERIVATIONS / f"{name}.toml").results:
            assert len(r.tried) == len(set(r.tried)), (name, r.claim.quantity)
            assert len(r.diagnosis) == len(set(r.diagnosis)), (name, r.claim.quantity)


DENSE_CLAIMS = """
[[claims]]
quantity = "{quantity}"
stated = "{stated}"
source = "hand:1"
quote = "made up"
"""


@pytest.mark.parametrize("file", ["seed001_sigmoid", "seed002_2_2_1", "seed003_chain"])
def test_report_names_are_the_walkthroughs(reports, run_cli, file):
    """Each claim's symbol in the report is one the walkthrough of the same file prints (the
    terminal document is the reference; the report is read back from verify --json)."""
    walkthrough = run_cli("derive", str(DERIVATIONS / f"{file}.toml"), "--color", "never").stdout
    data = json.loads(run_cli("verify", str(DERIVATIONS / f"{file}.toml"), "--json").stdout)[0]
    numbers = [c for c in data["claims"] if "symbol" in c and not c["quantity"].startswith("const:")]
    assert numbers
    for claim in numbers:
        assert claim["symbol"] in walkthrough, claim["quantity"]


def test_report_names_dense(tmp_path, run_cli):
    """Dense names as the walkthrough writes them: n2_1's activation is a_{2,1}, its slope
    ∂a_{2,1}/∂z_{2,1}, a hidden error term δ_{1,1}, a gradient ∂E/∂w_{2,1,1}."""
    base = (DERIVATIONS / "dense_2_2_1.toml").read_text()
    trace = symbackprop.derive(symbackprop.load(DERIVATIONS / "dense_2_2_1.toml")).trace()
    want = {"a_n2_1": "a_{2,1}", "da_n2_1/dz_n2_1": "∂a_{2,1}/∂z_{2,1}", "delta_n1_1": "δ_{1,1}",
            "dE/dw2_1_1": "∂E/∂w_{2,1,1}", "z_n1_2": "z_{1,2}", "dz_n2_1/da_n1_1": "∂z_{2,1}/∂a_{1,1}"}
    claims = "".join(DENSE_CLAIMS.format(quantity=q, stated=f"{float(trace[q]):.4f}") for q in want)
    path = tmp_path / "dense.toml"
    path.write_text(base + claims)
    data = json.loads(run_cli("verify", str(path), "--json").stdout)[0]
    walkthrough = run_cli("derive", str(path), "--color", "never").stdout
    assert {c["quantity"]: c["symbol"] for c in data["claims"]} == want
    assert all(c["status"] == "holds" for c in data["claims"])
    for symbol in want.values():
        assert symbol in walkthrough
    text = run_cli("verify", str(path)).stdout
    assert "holds        ∂a_{2,1}/∂z_{2,1} = " in text and "(da_n2_1/dz_n2_1; hand:1:" in text
