"""The notation layer: each derivation name's symbol, by the rules of documents/notation.py,
against symbols written out by hand (textbook and docs/format.md's dense naming scheme)."""

from __future__ import annotations

import pytest

from symbackprop.core import notation

CASES = [  # name, terminal, LaTeX
    ("w_a0", "w_a0", "w_{a0}"),
    ("x1", "x_1", "x_{1}"),
    ("b0", "b_0", "b_{0}"),
    ("w1_2_3", "w_{1,2,3}", "w_{1,2,3}"),
    ("delta_b", "δ_b", r"\delta_{b}"),
    ("eta", "η", r"\eta"),
    ("Delta_w_b1", "Δw_b1", r"\Delta w_{b1}"),
    ("dE/dw_a1", "∂E/∂w_a1", r"\frac{\partial E}{\partial w_{a1}}"),
    ("E", "E", "E"),
    ("n2_1", "a_{2,1}", "a_{2,1}"),  # dense neuron n{l}_{j}: its activation
    ("z_n2_1", "z_{2,1}", "z_{2,1}"),
    ("delta_n2_1", "δ_{2,1}", r"\delta_{2,1}"),
    ("y_n3_1", "y_{3,1}", "y_{3,1}"),
    ("dE/dn2_1", "∂E/∂a_{2,1}", r"\frac{\partial E}{\partial a_{2,1}}"),
    ("Delta_b2_1", "Δb_{2,1}", r"\Delta b_{2,1}"),
    ("sigma_1", "σ_1", r"\sigma_{1}"),
    ("lr", "lr", r"\mathrm{lr}"),
    ("w_12", "w_12", "w_{12}"),
]


@pytest.mark.parametrize("name, text, latex", CASES)
def test_each_name_has_one_symbol(name, text, latex):
    symbol = notation.of(name)
    assert notation.text(symbol) == text
    assert notation.latex(symbol) == latex


def test_a_word_is_upright_and_a_letter_is_not():
    assert notation.of("loss").word and not notation.of("w_a0").word


# -- the same symbol in every format, read back from what each printer writes ---------------------
import re  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

import sympy as sp  # noqa: E402
from conftest import DERIVATIONS  # noqa: E402

import symbackprop  # noqa: E402
from symbackprop.documents.formulas.latex import tex  # noqa: E402
from symbackprop.documents.formulas.mathml import mathml  # noqa: E402
from symbackprop.documents.formulas.text import plain  # noqa: E402

LATEX_HEADS = {r"\delta": "δ", r"\eta": "η", r"\sigma": "σ"}


def from_text(s: str) -> tuple:
    """(derivative, adjustment, head, indices) as the terminal line reads."""
    m = re.fullmatch(r"(∂E/∂)?(Δ)?([^\W\d_]+)(?:_\{([^}]*)\}|_([^_{}]+))?", s)
    return bool(m[1]), bool(m[2]), m[3], tuple((m[4] or m[5] or "").split(",")) if (m[4] or m[5]) else ()


def from_latex(s: str) -> tuple:
    derivative = s.startswith(r"\frac{\partial E}{\partial ")
    if derivative:
        s = s[len(r"\frac{\partial E}{\partial "):-1]
    adjustment = s.startswith(r"\Delta ")
    s = s.removeprefix(r"\Delta ")
    m = re.fullmatch(r"(\\[a-z]+|\\mathrm\{[a-z]+\}|[A-Za-z])(?:_\{([^}]*)\})?", s)
    head = LATEX_HEADS.get(m[1], re.sub(r"\\mathrm\{(\w+)\}", r"\1", m[1]))
    return derivative, adjustment, head, tuple(m[2].split(",")) if m[2] else ()


def from_mathml(s: str) -> tuple:
    root = ET.fromstring(s)
    derivative = root.tag == "mfrac"
    if derivative:
        root = root[1][1]  # the denominator's row: the operator ∂, then the symbol
    adjustment = root.tag == "mrow" and root[0].text == "Δ"
    if adjustment:
        root = root[1]
    if root.tag == "msub":
        indices = "".join(e.text for e in root[1].iter() if e.text) if len(root[1]) else root[1].text
        return derivative, adjustment, root[0].text, tuple(indices.split(","))
    return derivative, adjustment, root.text, ()


def quantities(path) -> list[str]:
    """Every name a document of this file shows a symbol for: parameters, inputs, neurons, each
    neuron's sum and error term, each parameter's gradient and adjustment, the rate and the loss."""
    d = symbackprop.derive(symbackprop.load(path))
    names = [*d.symbols, *(n.name for n in d.order), *(f"z_{n.name}" for n in d.order),
             *(f"delta_{n.name}" for n in d.order), "eta", "E"]
    names += [f"{kind}{p}" for p in d.model.parameters for kind in ("dE/d", "Delta_")]
    return names


@pytest.mark.parametrize("file", ["seed003_chain.toml", "dense_2_2_1.toml"])
def test_a_quantity_is_one_symbol_in_terminal_latex_and_mathml(file):
    names = quantities(DERIVATIONS / file)
    assert len(names) > 20
    for name in names:
        symbol = sp.Symbol(name)
        n = notation.of(name)
        want = (n.derivative_of is not None, (n.derivative_of or n).adjustment, (n.derivative_of or n).head,
                (n.derivative_of or n).subscript)
        got = {"terminal": from_text(plain(symbol)), "latex": from_latex(tex(symbol)), "mathml": from_mathml(mathml(symbol))}
        assert all(g == want for g in got.values()), (name, want, got)


def test_two_names_that_print_as_one_symbol_are_refused(tmp_path):
    """A neuron n1_1 (the activation a_{1,1}) beside an input a1_1 (also a_{1,1}): a document would
    say two things with one symbol, so derive refuses it in one line, naming both."""
    from conftest import cli

    text = "\n".join(['title = "clash"', "[network]", 'inputs = ["a1_1"]', 'outputs = ["n1_1"]',
                      "[[network.neurons]]", 'name = "n1_1"', 'activation = "relu"', 'inputs = ["a1_1"]',
                      'weights = ["w"]', "[parameters]", "w = 0.5", "[loss]", 'function = "half_sse"',
                      "[training]", "learning_rate = 0.1", "[[examples]]", "inputs = { a1_1 = 1.0 }",
                      "targets = { n1_1 = 1.0 }"]) + "\n"
    path = tmp_path / "clash.toml"
    path.write_text(text)
    r = cli("derive", str(path))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "'a1_1' and 'n1_1' are both written a_{1,1}" in r.stderr and "clash.toml: network" in r.stderr
    assert cli("verify", str(path)).returncode == 0  # only documents print symbols
