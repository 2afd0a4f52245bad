"""The round trip: every formula the document printers emit parses back (latex_parse) to the derived one.

Random dense networks, every activation (hidden and output) and every loss: each step of the
walkthrough, as the LaTeX printer writes it for the Markdown and LaTeX documents, is read back
and compared with the step's own SymPy object. Symbolic sides must be equal as expressions (the
Leibniz factors as the names latex_parse gives them, H(z) as Heaviside(z, 0), ReLU'(0) = 0 as
derived); sides with numbers put in must give the step's exact value within the printed rounding;
an exact value must come back exactly.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import sympy as sp
from conftest import function_cases, output_width
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from latex_roundtrip import close, expected, functions, joined, parse, same

import symbackprop
from symbackprop.core import function_table as table
from symbackprop.documents.builder import build
from symbackprop.documents.formulas.latex import RELATIONS, side
from symbackprop.documents.formulas.latex import tex as latex_of
from symbackprop.documents.formulas.relations import parts
from symbackprop.documents.printers import latex_document as tex
from symbackprop.documents.printers import markdown

ACTIVATIONS = sorted(table.ACTIVATIONS)
LOSSES = sorted(table.LOSSES)


def kind(step) -> str:
    """The quantity a step shows: z, a, E, dE/da, delta, dE/dp (chain), Delta, update, E(p) (composed)."""
    base = re.split(r"[\[@]", step.name)[0]
    if base.startswith("E("):
        return "E(p)"
    if base.startswith("dE/da_"):
        return "dE/da"
    if base.startswith("dE/d"):
        return "dE/dp"
    head = base.split("_")[0]
    if head in ("z", "a", "delta", "Delta", "E"):
        return head
    return "update"


def round_trip(model, counts: Counter) -> None:
    d = symbackprop.derive(model)
    doc = build(d, d.trace(1))
    md, latex = markdown.render(doc), tex.render(doc)
    for step in (s for section in doc.sections for s in section.steps):
        names = functions(step)
        k = kind(step)
        printed = []
        for node in (step.lhs, *step.forms):
            text = latex_of(node)
            got = parse(text, names)
            assert same(got, expected(node)), f"{step.name}: {text!r} parses to {got}, not {expected(node)}"
            printed.append(text)
            counts[k] += 1
        if step.substitution is not None:
            text = latex_of(step.substitution, step.values)
            assert close(parse(text), step.value), f"{step.name}: {text!r} is not {step.value}"
            printed.append(text)
            counts["substitution"] += 1
        for part in parts(step):
            if part.kind in ("fraction", "decimal"):
                printed_side = side(part)
                text = printed_side.text
                got = parse(text)
                assert got == step.value if printed_side.relation == RELATIONS["="] else close(got, step.value), f"{step.name}: {text!r}"
                printed.append(text)
                counts["value"] += 1
        for text in printed:  # what was read back is what the documents hold
            assert text in md and text in joined(latex), f"{step.name}: {text!r} is not in the documents"


@pytest.mark.parametrize("activation, output, loss", function_cases())
@settings(max_examples=1, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_printed_formula_parses_back_to_the_derived_one(activation, output, loss, data):
    hidden = data.draw(st.lists(st.integers(1, 2), min_size=0, max_size=2), label="hidden")
    width = output_width(output, data.draw(st.integers(1, 2), label="outputs"))
    sizes = [data.draw(st.integers(1, 2), label="inputs"), *hidden, width]
    bias = data.draw(st.booleans(), label="bias")
    seed = data.draw(st.integers(0, 10_000), label="seed")
    counts: Counter = Counter()
    round_trip(symbackprop.dense(sizes, activation, output_activation=output, loss=loss, bias=bias, seed=seed), counts)
    assert counts["z"] and counts["E"] and counts["delta"] and counts["dE/dp"] and counts["value"]


def test_round_trip_reads_the_printers_notations():
    """A network with every notation at once: H(z), cases, max, softplus's log, tanh, sigmoid, E(b(z_b(w)))."""
    counts: Counter = Counter()
    model = symbackprop.dense([2, 2, 2, 1], "relu", output_activation="leaky_relu", seed=3)
    round_trip(model, counts)
    d = symbackprop.derive(model)
    text = markdown.render(build(d, d.trace(1)))
    assert r"H\left(" in text and r"\begin{cases}" in text and r"\max\left(" in text
    assert counts["E(p)"] == len(model.parameters) * 2 and counts["dE/dp"] == len(model.parameters) * 4
    for act in ("sigmoid", "tanh", "softplus", "identity"):
        round_trip(symbackprop.dense([1, 1, 1], act, seed=1), counts)


def test_round_trip_compares_what_it_reads():
    """The comparison is not vacuous: a wrong name, sign or convention is told apart."""
    z = sp.Symbol("z_a")
    assert same(parse(r"H\left(z_{a}\right)"), sp.Heaviside(z, 0))
    assert parse(r"H\left(0\right)") == 0 and parse(r"\theta\left(0, 1\right)") == 1
    assert not same(parse(r"\max\left(0, z_{a}\right)"), sp.Max(0, -z))
    assert not same(parse(r"- 2 y + 2 n_{2,1}"), 2 * sp.Symbol("y") - 2 * sp.Symbol("n_2,1"))
    assert not close(parse(r"0.76 + 0.1"), sp.Rational(86, 100) + sp.Rational(1, 10**6))
