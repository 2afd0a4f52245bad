"""Names as texts and files write them (issue 18): mapped names with a superscript (``b^{2}_{1}``,
``\\delta^{2}_{1}``) inside Leibniz fractions and primes, resolved through ``symbols``; the file's own
names (``w2_1_2``, ``\\text{w2\\_1\\_2}``, ``delta_n2_1``); and messages that name the piece and the
token, on one line, never the reader's placeholders. Checked on the reader, through formula_claims
on a dense 2-3-2 sigmoid network, and through ``verify`` on a file."""

from __future__ import annotations

import re

import pytest
import sympy as sp

import symbackprop
from symbackprop.core.derivation import Derivation
from symbackprop.core.errors import InputError
from symbackprop.verifier.formula_claims import check
from symbackprop.verifier.latex_reader import FormulaError, canonical_key, parse

S = sp.Symbol
LAYERS = {"b^{2}_{1}": "b2_1", "z^{2}_{1}": "z_n2_1", "w^{2}_{13}": "w2_1_3", r"\delta^{2}_{1}": "delta_n2_1",
          "a^{2}_{1}": "a_n2_1", "a^{1}_{3}": "a_n1_3", "C": "E"}


# -- the reader: atoms and their parts ---------------------------------------------------------
@pytest.mark.parametrize("key", ["b^{2}_{1}", "b^2_1", "b_1^2", "b_{1}^{2}", "b^{2}_1", " b ^ {2} _ {1} "])
@pytest.mark.parametrize("written", ["b^{2}_{1}", "b^2_1", "b_1^2", "b_{1}^{2}"])
def test_a_superscript_key_is_one_name_however_written(key, written):
    p = parse(rf"\frac{{\partial C}}{{\partial {written}}}", (key,))
    assert p.rhs == S("dC/db^{2}_{1}")
    assert p.atoms["dC/db^{2}_{1}"].parts == ("C", "b^{2}_{1}")
    assert canonical_key(key) == "b^{2}_{1}"


@pytest.mark.parametrize("text, keys, rhs, atom, parts", [
    (r"\frac{\partial C}{\partial w^{2}_{13}}", ("w^{2}_{13}",), S("dC/dw^{2}_{13}"), "dC/dw^{2}_{13}", ("C", "w^{2}_{13}")),
    (r"\frac{\partial C}{\partial a^{3}_{1}}", ("a^{3}_{1}",), S("dC/da^{3}_{1}"), "dC/da^{3}_{1}", ("C", "a^{3}_{1}")),
    (r"\sigma'(z^{2}_{1})", ("z^{2}_{1}",), S("sigma'(z^{2}_{1})"), "sigma'(z^{2}_{1})", ("sigma", "z^{2}_{1}")),
    (r"\sigma'(z^3_2)", ("z^3_2",), S("sigma'(z^{3}_{2})"), "sigma'(z^{3}_{2})", ("sigma", "z^{3}_{2}")),
    (r"2 \delta^{2}_{1}", (r"\delta^{2}_{1}",), 2 * S(r"\delta^{2}_{1}"), r"\delta^{2}_{1}", ()),
    ("δ^2_1 + 1", (r"\delta^{2}_{1}",), S(r"\delta^{2}_{1}") + 1, r"\delta^{2}_{1}", ()),
    (r"w_{a1}^{new} - w_{a1}", ("w_{a1}^{new}",), S("w^{new}_{a1}") - S("w_a1"), "w^{new}_{a1}", ()),
    ("xb^2_1", ("b^2_1",), S("x") * S("b^{2}_{1}"), "b^{2}_{1}", ()),  # letters are a product: the name is the last one's
])
def test_superscript_keys_in_fractions_primes_and_plainly(text, keys, rhs, atom, parts):
    p = parse(text, keys)
    assert p.rhs == rhs
    assert p.atoms[atom].parts == parts
    assert not any(re.search(r"[\x00\x01]", name + "".join(a.parts)) for name, a in p.atoms.items())


@pytest.mark.parametrize("text, name", [
    (r"\text{w2\_1\_2}", "w2_1_2"), (r"\mathrm{w2\_1\_2}", "w2_1_2"), (r"\text{w2_1_2}", "w2_1_2"),
    (r"\mathrm{w2_1_2}", "w2_1_2"), (r"w2\_1\_2", "w2_1_2"), ("w2_1_2", "w2_1_2"), ("delta_n2_1", "delta_n2_1"),
    ("z_n2_1", "z_n2_1"), ("a_n1_3", "a_n1_3"), (r"\text{delta\_n2\_1}", "delta_n2_1"), ("delta_a", "delta_a"),
    ("b2_1", "b2_1"), (r"\delta_n2_1", "delta_n2_1"), (r"\text{dE/dw2\_1\_2}", "dE/dw2_1_2"),
])
def test_the_files_own_names_are_one_name(text, name):
    assert parse(f"2 {text}").rhs == 2 * S(name)
    assert parse(f"2 {text}", (text,)).rhs == 2 * S(name)  # the same as a key
    assert canonical_key(text) == name


@pytest.mark.parametrize("text, rhs", [
    ("Yr", S("Y") * S("r")),  # a run of letters naming nothing: a product, as LaTeX reads it
    ("ab_1", S("a") * S("b_1")),
    ("x1w1", S("x_1") * S("w_1")),
    ("W53", S("W_53")),
    (r"w_{a1}", S("w_a1")),
    ("b_1^2", S("b_1") ** 2),  # unmapped, a subscript then a superscript is a power
])
def test_products_and_powers_stay_as_latex_reads_them(text, rhs):
    assert parse(text).rhs == rhs


@pytest.mark.parametrize("text, keys, leibniz", [
    ("dE/dw2_1_2", (), ("E", "w2_1_2")),
    (r"\partial E/\partial w2\_1\_2", (), ("E", "w2_1_2")),
    (r"\frac{\partial E}{\partial \text{w2\_1\_2}}", (), ("E", "w2_1_2")),
    (r"\frac{\partial C}{\partial delta_n2_1}", (), ("C", "delta_n2_1")),
    ("∂C/∂b^2_1", ("b^2_1",), ("C", "b^{2}_{1}")),
    ("dC/db^2_1", ("b_1^2",), ("C", "b^{2}_{1}")),
])
def test_leibniz_fractions_of_file_names(text, keys, leibniz):
    p = parse(text, keys)
    [atom] = [a for a in p.atoms.values() if a.kind == "leibniz"]
    assert atom.parts == leibniz and p.rhs == S(f"d{leibniz[0]}/d{leibniz[1]}")


# -- messages: one line, the piece and the token, never a placeholder ---------------------------
@pytest.mark.parametrize("text, keys, fragments", [
    (r"a \odot b", (), [r"unknown or unsupported command \odot in 'a \odot b'"]),
    (r"\delta^{2}_{1} + 1", (), [r"'\delta^{2}_{1}' has a superscript before its subscript", "symbols = { '\\delta^{2}_{1}'"]),
    (r"\frac{\partial C}{\partial b^2_1} = b^2_1 x", ("C",), ["'b^{2}_{1}' has a superscript before its subscript"]),
    (r"e^{x}_1", (), ["a subscript that belongs to no name", "'_1' in 'e ^{ x }_1'"]),
    (r"\frac{\partial C}{\partial b^{2}_{1}} = \text{}", ("b^{2}_{1}",),
     [r"\text needs a name in braces", r"in 'dC/db^{2}_{1} = \text{}'"]),
    (r"\frac{\partial C}{\partial } + b^{2}_{1}", ("b^{2}_{1}",), [r"needs a numerator and a denominator: '\frac{\partial C}{\partial }'"]),
    (r"b^{2}_{1} \partial", ("b^{2}_{1}",), [r"a \partial outside a Leibniz fraction", r"in 'b^{2}_{1} \partial'"]),
    (r"\sigma'(z^{2}_{1})'' ", ("z^{2}_{1}",), ["second derivatives ('') are not supported in"]),
    (r"\sigma(b^{2}_{1}", ("b^{2}_{1}",), ["unbalanced parentheses ( ): 1 ( and 0 ) in"]),
    ("a = b = c", (), ["a chain of equalities", "in 'a = b = c'"]),
    ("a ! b", (), ["formula claims do not read factorials (!), in 'a ! b'"]),
    ("a - " + "-" * 20 + "b", (), ["a run of 21 signs + -; the reader reads at most 16 in a row, in 'a - ----"]),
    (r"\sum_k w_k", (), [r"\sum: sums are not supported in formula claims in '\sum_k w_k'"]),
])
def test_messages_name_the_piece_and_the_token(text, keys, fragments):
    with pytest.raises(FormulaError) as e:
        parse(text, keys)
    message = str(e.value)
    assert "\n" not in message and not re.search(r"[\x00\x01]|\\text\{v\d+\}", message), message
    for fragment in fragments:
        assert fragment in message, message


# -- through formula_claims: the mapped quantity, and the verdict ---------------------------------
@pytest.fixture(scope="module")
def net():
    d = Derivation(symbackprop.dense([2, 3, 2], "sigmoid", seed=3))
    return d, d.trace(1)


def _value(trace, quantity: str):
    return sp.N(trace[f"{quantity}@1"], 40)


@pytest.mark.parametrize("formula, symbols, status, quantity", [
    (r"\delta^{2}_{1} = \frac{\partial C}{\partial a^{2}_{1}} \sigma'(z^{2}_{1})", LAYERS, "holds", "delta_n2_1"),
    (r"\delta^{2}_{1} = \frac{\partial C}{\partial a^{2}_{1}} \sigma(z^{2}_{1})", LAYERS, "mismatch", "delta_n2_1"),
    (r"\frac{\partial C}{\partial b^{2}_{1}} = \delta^{2}_{1}", LAYERS, "holds", "dE/db2_1"),
    (r"\frac{\partial C}{\partial b_1^2} = \delta^2_1", {"b^2_1": "b2_1", r"\delta_1^2": "delta_n2_1"}, "holds", "dE/db2_1"),
    (r"\frac{\partial C}{\partial w^{2}_{13}} = \delta^{2}_{1} a^{1}_{3}", LAYERS, "holds", "dE/dw2_1_3"),
    (r"\frac{\partial C}{\partial w^{2}_{13}} = \delta^{2}_{1} a^{2}_{1}", LAYERS, "mismatch", "dE/dw2_1_3"),
    (r"\frac{\partial J}{\partial w^{2}_{13}} = \delta^{2}_{1} a_n1_3", {"w^{2}_{13}": "w2_1_3", r"\delta^{2}_{1}": "delta_n2_1"},
     "holds", "dE/dw2_1_3"),
    (r"\frac{\partial E}{\partial \text{w2\_1\_2}} = \text{delta\_n2\_1} \cdot a_n1_2", {}, "holds", "dE/dw2_1_2"),
    ("dE/dw2_1_2 = delta_n2_1 a_n1_2", {}, "holds", "dE/dw2_1_2"),
    (r"dE/dw2_1_2 = delta_n2_1 a_n1_1", {}, "mismatch", "dE/dw2_1_2"),
    (r"\text{w2_1_2} = \mathrm{w2\_1\_2}", {}, "holds", "w2_1_2"),
    (r"\text{w}_{2} = w2\_1\_2", {r"\text{w}_{2}": "w2_1_2"}, "holds", "w2_1_2"),
])
def test_mapped_and_file_names_resolve(net, formula, symbols, status, quantity):
    d, trace = net
    r = check(formula, None, symbols, d, trace, "claims[0]")
    assert r.status == status, r.message
    assert abs(sp.N(r.exact, 40) - _value(trace, quantity)) < 1e-30  # the left side is the mapped quantity
    if status == "holds":
        assert abs(sp.N(r.text_value, 40) - _value(trace, quantity)) < 1e-30
    else:
        assert abs(sp.N(r.text_value, 40) - _value(trace, quantity)) > 1e-6


def test_an_unmapped_superscript_is_unparseable_and_says_what_to_map(net):
    d, trace = net
    r = check(r"\delta^{2}_{1} = 1", None, {}, d, trace, "claims[0]")
    assert r.status == "unparseable"
    assert r"symbols = { '\delta^{2}_{1}'" in r.message and "\x00" not in r.message


def test_an_unresolved_mapped_name_names_it(net):
    d, trace = net
    with pytest.raises(InputError) as e:
        check(r"\frac{\partial C}{\partial b^2_1} = 1", None, {}, d, trace, "claims[0]")
    assert "dC/db^{2}_{1}" in str(e.value) and "\x00" not in str(e.value)


# -- through verify: the issue's file --------------------------------------------------------------
CLAIMS = r"""
[[claims]]
formula = '''\delta^{2}_{1} = \frac{\partial C}{\partial a^{2}_{1}} \sigma'(z^{2}_{1})'''
symbols = { 'z^{2}_{1}' = "z_n2_1", '\delta^{2}_{1}' = "delta_n2_1", 'a^{2}_{1}' = "a_n2_1" }
source = "issue18:1"

[[claims]]
formula = '\delta^{2}_{1} = \frac{\partial C}{\partial a^{2}_{1}} \sigma(z^{2}_{1})'
symbols = { 'z^{2}_{1}' = "z_n2_1", '\delta^{2}_{1}' = "delta_n2_1", 'a^{2}_{1}' = "a_n2_1" }
source = "issue18:2"

[[claims]]
formula = '\frac{\partial C}{\partial b^2_1} = \delta^{2}_{1}'
symbols = { "b^2_1" = "b2_1", '\delta^{2}_{1}' = "delta_n2_1" }
source = "issue18:3"

[[claims]]
formula = '\frac{\partial E}{\partial \text{w2\_1\_2}} = delta_n2_1 \cdot a_n1_2'
source = "issue18:4"
"""


@pytest.mark.parametrize("inputs", ["x", "u"])  # u: not dense()'s naming, so no formula reads as layer notation
def test_verify_the_issues_file(tmp_path, inputs):
    model = symbackprop.dense([2, 3, 2], "sigmoid", seed=3)
    path = tmp_path / "net.toml"
    text = model.to_toml()  # as symbackprop dense 2,3,2 --activation sigmoid --seed 3 writes it
    if inputs == "u":
        text = re.sub(r"\bx([12])\b", r"u\1", text)
    path.write_text(text + CLAIMS)
    report = symbackprop.verify(path)
    assert [(r.claim.source, r.status) for r in report.results] == [
        ("issue18:1", "holds"), ("issue18:2", "mismatch"), ("issue18:3", "holds"), ("issue18:4", "holds")]
    assert not any("\x00" in (r.formula.message if r.formula else "") for r in report.results)

