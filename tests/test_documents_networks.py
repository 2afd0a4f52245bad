"""The documents of classifiers and of optimizers, read back from what they print.

A softmax layer's walkthrough writes, for each output j, the Jacobian entries ∂a_i/∂z_j, the error term as
the general sum δ_j = Σ_i ∂E/∂a_i · ∂a_i/∂z_j and then its simplification (a_j − y_j for softmax with
cross-entropy): the Markdown's printed decimals are compared with the trace's values, the entries with
a_j(1 − a_j) and −a_i a_j, and the simplified value with a_j − y_j from the trace's a_j and the example's
y_j. An optimizer's walkthrough writes each iteration's rate and, per parameter, the rule's quantities:
their printed decimals are compared with the independent float64 training run (reference/numpy_training.py),
long runs too. The PDF of such a document compiles without overfull boxes, and its HTML fits the viewport.
"""

from __future__ import annotations

import functools
import math
import re

import pytest
from conftest import DERIVATIONS
from latex_roundtrip import close, parse, parts
from layout import missing, overfull_boxes

import symbackprop
from symbackprop import api
from symbackprop.core.trace import Key
from symbackprop.documents.builder import build
from symbackprop.documents.printers import latex_document, markdown, terminal
from symbackprop.reference.numpy_training import train

TOLERANCE = 1.0  # pt, as test_pdf_layout.py
RELATIVE = 2e-9  # the documents print 10 significant digits
EXAMPLES = [(["0.5", "-0.2"], [0, 1, 0]), (["0.1", "0.3"], ["0.2", "0.3", "0.5"])]


def softmax_model(**training):
    return symbackprop.dense([2, 3, 3], "tanh", "softmax", loss="cross_entropy", examples=EXAMPLES, seed=2, **training)


@functools.cache
def document(key: str):
    """(derivation, trace, walkthrough, Markdown) of one of the models below."""
    model = MODELS[key]()
    d = symbackprop.derive(model)
    trace = d.trace()
    doc = build(d, trace)
    return d, trace, doc, markdown.render(doc)


MODELS = {
    "softmax": lambda: softmax_model(iterations=1),
    "adam_steplr": lambda: softmax_model(iterations=3, learning_rate="0.1", optimizer={"name": "Adam"},
                                         scheduler={"name": "StepLR", "step_size": 1, "gamma": "0.5"}),
    "adam_long": lambda: symbackprop.dense([2, 2, 1], "tanh", "sigmoid", loss="bce", seed=4, iterations=7,
                                           optimizer={"name": "Adam", "betas": ["0.8", "0.99"]}),
    "sgd_momentum": lambda: symbackprop.dense([2, 2, 1], "tanh", seed=5, iterations=3,
                                              optimizer={"name": "SGD", "momentum": "0.9", "nesterov": True}),
    "rmsprop": lambda: symbackprop.dense([2, 2, 1], "sigmoid", seed=6, iterations=2,
                                         optimizer={"name": "RMSprop", "momentum": "0.5"},
                                         scheduler={"name": "ExponentialLR", "gamma": "0.9"}),
    "adagrad": lambda: symbackprop.dense([2, 2, 1], "tanh", seed=7, iterations=2,
                                         optimizer={"name": "Adagrad", "lr_decay": "0.1"}),
    "adamw": lambda: symbackprop.dense([2, 2, 1], "tanh", seed=8, iterations=2,
                                       optimizer={"name": "AdamW", "weight_decay": "0.1"}),
}


def printed(key: str) -> dict[str, tuple[object, list[str]]]:
    """Step name -> (step, the sides of its Markdown display), blocks and steps in document order."""
    _, _, doc, md = document(key)
    return blocks(doc, md)


def blocks(doc, md: str) -> dict[str, tuple[object, list[str]]]:
    blocks = [re.sub(r" \\tag\{\d+\}$", "", b) for b in re.findall(r"\$\$\n(.*?)\n\$\$", md, flags=re.S)]
    steps = [s for section in doc.sections for s in section.steps]
    assert len(blocks) == len(steps)
    return {step.name: (step, parts(block)) for step, block in zip(steps, blocks)}


def shown_value(sides: list[str]) -> float:
    """The value a display ends with, read back from its LaTeX."""
    return float(parse(sides[-1]))


def near(got: float, want: float) -> bool:
    return abs(got - want) <= RELATIVE * max(abs(want), 1e-300) + 1e-15


# -- softmax with cross-entropy -------------------------------------------------------------------
def test_the_softmax_layer_writes_its_jacobian_and_the_general_error_term_with_the_traces_numbers():
    d, trace, _, md = document("softmax")
    v, steps = trace.values, printed("softmax")
    outputs = d.coupled
    assert len(outputs) == 3
    for k in (1, 2):
        a = {o: float(v[Key(f"a_{o}", k, 1)]) for o in outputs}
        for j in outputs:
            for i in outputs:  # ∂a_i/∂z_j: a_j(1 − a_j) on the diagonal, −a_i a_j off it
                _, sides = steps[f"da_{i}/dz_{j}[{k}]@1"]
                want = a[j] * (1 - a[j]) if i == j else -a[i] * a[j]
                assert near(shown_value(sides), want) and near(shown_value(sides), float(v[Key(f"da_{i}/dz_{j}", k, 1)]))
            step, sides = steps[f"dE/dz_{j}[{k}]@1"]  # the general sum, over every output
            assert sides[0] == rf"\delta_{{{j[1]},{j[3]}}}" and sides[1].count(r"\frac{\partial E}") == len(outputs)
            general = sum(float(v[Key(f"dE/da_{i}", k, 1)]) * float(v[Key(f"da_{i}/dz_{j}", k, 1)]) for i in outputs)
            assert close(parse(sides[-2]), step.value) and near(shown_value(sides), general)
            assert near(shown_value(sides), float(v[Key(f"delta_{j}", k, 1)]))
            step, sides = steps[f"delta_{j}[{k}]@1"]  # which simplifies to a_j − y_j
            y = float(d.model.examples[k - 1].targets[j])
            assert "simplifies" in step.note and step.uses == (f"dE/dz_{j}[{k}]@1",)
            assert sides[1] == rf"a_{{{j[1]},{j[3]}}} - y_{{{j[1]},{j[3]}}}" and near(shown_value(sides), a[j] - y)
    assert r"\mathrm{softmax}_{2}\left(z_{2,1}, z_{2,2}, z_{2,3}\right)" in md  # a_j named as the layer's softmax
    _, sides = steps["E[1]@1"]  # the loss step: cross-entropy
    assert r"\log" in sides[1] and near(shown_value(sides), float(v[Key("E", 1, 1)]))


@pytest.mark.parametrize("output, loss, closed", [
    ("softmax", "cross_entropy", lambda a, y, n: a - y),
    ("log_softmax", "nll", lambda a, y, n: math.exp(a) - y),
    ("sigmoid", "bce", lambda a, y, n: (a - y) / n),
])
def test_the_simplified_error_term_follows_the_general_one_with_the_closed_forms_value(output, loss, closed):
    model = symbackprop.dense([2, 2, 2], "tanh", output, loss=loss, seed=3,
                              examples=[(["0.5", "-0.2"], [0, 1] if output != "sigmoid" else ["1", "0"])])
    d = symbackprop.derive(model)
    trace = d.trace(1)
    doc = build(d, trace)
    steps = blocks(doc, markdown.render(doc))
    for o in model.outputs:
        (general, general_sides), (simple, sides) = steps[f"dE/dz_{o}[1]@1"], steps[f"delta_{o}[1]@1"]
        assert simple.uses == (general.name,) and "simplifies" in simple.note
        a, y = float(trace.values[Key(f"a_{o}", 1, 1)]), float(model.examples[0].targets[o])
        assert near(shown_value(sides), closed(a, y, len(model.outputs)))
        assert near(shown_value(general_sides), shown_value(sides))


def test_the_terminal_walkthrough_says_the_softmax_steps_in_words_and_symbols():
    _, _, doc, _ = document("softmax")
    text = " ".join(re.sub(r" +\(\d+\)$", "", terminal.render(doc), flags=re.M).split())  # no equation numbers
    assert "δ_{2,1} = ∂E/∂a_{2,1} · ∂a_{2,1}/∂z_{2,1} + ∂E/∂a_{2,2} · ∂a_{2,2}/∂z_{2,1} + ∂E/∂a_{2,3} · ∂a_{2,3}/∂z_{2,1}" in text
    assert "which for softmax with cross-entropy (the targets sum to 1) simplifies to this" in text
    assert "δ_{2,1} = a_{2,1} − y_{2,1}" in text and "a_{2,1} = softmax_1(z_{2,1}, z_{2,2}, z_{2,3})" in text


def test_a_chain_through_the_softmax_layer_sums_every_output_and_keeps_the_paths_shown_bounded():
    d, _, doc, _ = document("softmax")
    steps = printed("softmax")
    step, _ = steps["dE/dw2_1_1[1]@1"]  # a last-layer weight: one path through each output
    assert len(step.forms[0].terms) == 3 and d.path_count("w2_1_1") == 3
    step, _ = steps["dE/dw1_1_1[1]@1"]  # a first-layer weight: 9 paths, 4 shown, the value through δ
    assert d.path_count("w1_1_1") == 9 and len(step.forms[0].terms) == 4 and "9 paths" in step.note


# -- optimizers: the quantities against the float64 run ---------------------------------------------
@pytest.mark.parametrize("key", ["adam_steplr", "adam_long", "sgd_momentum", "rmsprop", "adagrad", "adamw"])
def test_each_optimizer_quantity_printed_is_the_independent_runs(key):
    d, trace, doc, _ = document(key)
    model, steps = d.model, printed(key)
    run = train(model)
    shown = [int(s.title.split()[1].rstrip(":")) for s in doc.sections if s.title.endswith(": updates")]
    assert shown == ([1, model.iterations] if model.iterations > 5 else list(range(1, model.iterations + 1)))
    options, checked = model.optimizer.options, 0
    for t in shown:
        assert near(shown_value(steps[f"lr@{t}"][1]), run.lrs[t - 1])
        for j, p in enumerate(run.names):
            state = {name: values[j] for name, values in run.states[t - 1].items()}
            want = {f"Delta_{p}": run.after[t - 1][j] - run.before[t - 1][j], f"{p}": run.after[t - 1][j]} | \
                   {f"{name}_{p}": value for name, value in state.items()}
            if model.optimizer.name in ("Adam", "AdamW"):  # the bias corrections, computed here from the run's moments
                beta1, beta2 = (float(b) for b in options["betas"])
                want |= {f"m_hat_{p}": state["m"] / (1 - beta1**t), f"v_hat_{p}": state["v"] / (1 - beta2**t)}
            for name, value in want.items():
                step, sides = steps[f"{name}@{t + 1}" if name == p else f"{name}@{t}"]
                assert near(shown_value(sides), value), (name, t, sides[-1], value)
                if step.substitution is not None and step.substitution not in step.values:  # the numbers put in give the value
                    assert close(parse(sides[-2]), step.value), (name, t, sides[-2])
                checked += 1
    assert checked >= len(run.names) * len(shown) * 3


def test_the_settings_state_the_optimizer_its_options_and_rule_and_the_scheduler():
    _, _, doc, md = document("adam_steplr")
    tables = {t.label: t for t in doc.sections[0].tables}
    assert {"settings", "optimizer", "rule"} <= set(tables)
    assert [row[0] for row in tables["optimizer"].rows] == ["betas[0]", "betas[1]", "eps", "weight_decay",
                                                            "StepLR: step_size", "StepLR: gamma"]
    assert r"| $\hat{m}_{w}$ | $\displaystyle \frac{m_{w}}{1 - \beta_{1}^{t}}$ |" in md
    assert r"| $m_{w}$ | $\displaystyle \beta_{1} \cdot m_{w} + \left(1 - \beta_{1}\right) \cdot \frac{\partial E}{\partial w}$ |" in md
    assert r"\eta_{1} \gamma^{k}" in md
    first = printed("adam_steplr")["m_w1_1_1@1"][1]  # an iteration's step: formula, numbers, value
    assert first[1] == r"\beta_{1} \cdot m_{w,1,1,1} + \left(1 - \beta_{1}\right) \cdot \frac{\partial E}{\partial w_{1,1,1}}"
    assert first[2].startswith(r"0.9 \cdot 0.0 + \left(1 - 0.9\right) \cdot")


# -- what users see: the PDF and the HTML page -----------------------------------------------------
def test_the_pdf_of_a_softmax_adam_document_has_no_overfull_box(tmp_path):
    if reason := missing("pdflatex"):
        pytest.skip(reason)
    _, _, doc, _ = document("adam_steplr")
    boxes = overfull_boxes(latex_document.render(doc), tmp_path, min_points=TOLERANCE)
    assert not boxes, "\n".join(str(b) for b in boxes[:5])
    assert (tmp_path / "doc.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("width", (420, 1200))
def test_the_html_of_a_softmax_adam_document_fits_the_viewport(browser, tmp_path, width):
    _, _, doc, _ = document("adam_steplr")
    page = tmp_path / "page.html"
    page.write_text(api.render(doc, "html"), encoding="utf-8")
    offenders = browser.too_wide(page, width)
    assert not offenders, "\n".join(f"{o['path']} ({o['width']}px): {o['text'][:60]}" for o in offenders[:8])


def test_input_gradients_on_request_equal_hand_arithmetic_and_finite_differences(run_cli):
    """``derive --input-gradients``: seed 003's ∂E/∂x_1 = δ_a · w_a1 = (−0.0784) · 0.1 = −0.00784 by hand; the
    softmax file's example 1 against central differences of that example's own loss (NumPy reference)."""
    from symbackprop.core.derivation_file import load
    from symbackprop.reference import numpy_training
    from symbackprop.reference.numpy_runtime import Runtime

    chain = run_cli("derive", str(DERIVATIONS / "seed003_chain.toml"), "--input-gradients").stdout
    assert "∂E/∂x_1 = δ_a · w_a1" in chain and "= (−0.0784) · 0.1" in chain and "= −0.00784" in chain
    assert "∂E/∂x_1" not in run_cli("derive", str(DERIVATIONS / "seed003_chain.toml")).stdout
    path = DERIVATIONS / "softmax_2_3_3.toml"
    text = run_cli("derive", str(path), "--input-gradients").stdout
    model = load(path)
    X, Y = numpy_training.data(model)
    p0, loss, h = numpy_training.initial_parameters(model), Runtime(model).loss, 1e-6
    for i in range(2):
        up, down = X[:1].copy(), X[:1].copy()
        up[0, i] += h
        down[0, i] -= h
        fd = (loss(p0, up, Y[:1]) - loss(p0, down, Y[:1])) / (2 * h)
        printed = re.search(rf"∂E_1/∂x_{i + 1} = .*?\n\s+≈ .*?\n\s+≈ (\S+)", text)
        assert printed, f"no ∂E_1/∂x_{i + 1} step"
        assert abs(float(printed[1].replace("−", "-")) - fd) < 1e-8
