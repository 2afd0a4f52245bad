"""Generated identifiers: one collision-checked table, long names shortened, non-finite constants written as inf.

Models name their weights, inputs, constants and neurons after what generated code writes itself
(``g0``, ``total``, ``numpy``...), after other kinds' prefixed forms (``d_b`` beside a neuron
``b``, ``p_w``, ``x_x1``, ``z_q``), at 64 (a file's longest), 100 and 300 characters, twins that
differ only past the shortening limit and a name equal to another's shortened form. Each must
compile, with numba and without, to the NumPy reference runtime's values. Exact constants beyond
float64 become inf (or are refused in one line), never a bare ``inf`` that Python reads as a name.
Weights named after the derivation's own quantities (``delta_b`` beside a neuron ``b``, ``z_a``,
``a_b``, ``y``, ``Delta_w``) compile and check, against the NumPy runtime, finite differences and
hand arithmetic; the commands that name quantities refuse them in one line.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib.util
import itertools
import math

import numpy as np
import pytest
import sympy as sp
from conftest import cli

import symbackprop
from symbackprop.compiler import expressions
from symbackprop.compiler import names as names_module
from symbackprop.compiler.check import check
from symbackprop.compiler.compiled import numba_available
from symbackprop.compiler.generator import source
from symbackprop.compiler.names import LIMIT, Names, identifiers_in, shortened
from symbackprop.core import limits
from symbackprop.core.derivation_file import loads
from symbackprop.core.errors import InputError
from symbackprop.core.model import Example, Neuron, name_clashes
from symbackprop.reference.numpy_runtime import Runtime

NUMBA = (False, True) if numba_available() else (False,)
HELPER_NAMES = ["d_b", "g0", "value", "total", "grad", "B", "p_w", "x_x1", "z_q", "delta_q", "U", "A1", "ONES", "len"]


class Long:
    """Names of ``length`` characters: a weight, an input, a neuron (an output), twin weights alike
    in their first length - 6 characters, and a weight named as the first one's shortened identifier."""

    def __init__(self, length: int) -> None:
        self.weight = "w" + "e" * (length - 5) + "_end"
        self.input = "in" + "p" * (length - 2)
        self.neuron = "n" * length
        self.twins = "t" * (length - 6) + "_first", "t" * (length - 6) + "_other"
        self.lookalike = shortened("p_" + self.weight)[2:]  # as a parameter: exactly the weight's shortened identifier


def graph_text(length: int) -> str:
    """A graph (constants: no matrix form) whose names are the generated code's own, and long ones."""
    n = Long(length)
    return f'''
title = "every kind of generated name"
[network]
inputs = ["X", "Y", "np", "x1", "{n.input}"]
constants = {{ numpy = 1.5 }}
outputs = ["math", "{n.neuron}"]
[[network.neurons]]
name = "b"
activation = "tanh"
inputs = ["X", "Y", "np", "x1", "numpy"]
weights = ["d_b", "g0", "value", "total", "grad"]
bias = "B"
[[network.neurons]]
name = "math"
activation = "sigmoid"
inputs = ["b", "{n.input}", "x1", "np"]
weights = ["p_w", "x_x1", "z_q", "U"]
bias = "delta_q"
[[network.neurons]]
name = "{n.neuron}"
activation = "softplus"
inputs = ["b", "math", "np", "X", "x1", "Y"]
weights = ["{n.weight}", "{n.twins[0]}", "{n.twins[1]}", "A1", "ONES", "len"]
bias = "{n.lookalike}"
[parameters]
d_b = 0.3
g0 = -0.2
value = 0.25
total = 0.1
grad = -0.4
B = 0.05
p_w = 0.7
x_x1 = -0.3
z_q = 0.2
U = 0.15
delta_q = -0.1
{n.weight} = 0.5
{n.twins[0]} = -0.6
{n.twins[1]} = 0.45
A1 = 0.35
ONES = -0.25
len = 0.125
{n.lookalike} = 0.02
[loss]
function = "mse"
[[examples]]
inputs = {{ X = 0.5, Y = -1.0, np = 2.0, x1 = 0.25, {n.input} = -0.5 }}
targets = {{ math = 0.3, {n.neuron} = 0.8 }}
'''


FILE_LENGTH = 64  # the longest name a file may hold (core/limits.py): its prefixed identifier needs shortening


@pytest.fixture
def long_names(monkeypatch):
    """The model's own bound on names (core/limits.py) lifted to 1000: the compiler must not rely on it."""
    monkeypatch.setitem(limits.LIMITS, "name", dataclasses.replace(limits.LIMITS["name"], value=1000))


def renamed(model, name):
    """The model with every input, neuron and parameter renamed by name(kind, old)."""
    rename = {x: name("input", x) for x in model.inputs} | {n.name: name("neuron", n.name) for n in model.neurons}
    rename |= {p: name("parameter", p) for p in model.parameters}
    neurons = [Neuron(rename[n.name], n.activation, tuple(rename[s] for s in n.inputs), tuple(rename[w] for w in n.weights),
                      rename[n.bias] if n.bias else None) for n in model.neurons]
    examples = [Example({rename[k]: v for k, v in ex.inputs.items()}, {rename[k]: v for k, v in ex.targets.items()})
                for ex in model.examples]
    return dataclasses.replace(model, neurons=neurons, inputs=[rename[x] for x in model.inputs],
                               outputs=[rename[o] for o in model.outputs], examples=examples,
                               parameters={rename[p]: v for p, v in model.parameters.items()})


POOL = ["X", "Y", "np", "numpy", "math", "b", "total", "value", "grad", "B", "g0", "g1", "d_b", "p_w", "x_x1", "z_q",
        "delta_q", "U", "A1", "ONES", "len", "i", "n", "p", "x"]


def hostile_layered(sizes, length):
    """dense(sizes) under generated-code names; every seventh name ``length`` characters long, all
    of those alike but for their last four characters."""
    pool, count = iter(POOL), itertools.count()

    def name(kind, old):
        i = next(count)
        if i % 7 == 3:
            return "L" * (length - 5) + f"_{i:04d}"
        return next(pool, f"{kind}{i}")

    return renamed(symbackprop.dense(sizes, activation="tanh", output_activation="identity", seed=5), name)


def hostile_graph(length: int = FILE_LENGTH):
    return loads(graph_text(length))


def batches(compiled, model, seed):
    rng = np.random.default_rng(seed)
    yield compiled.initial, compiled.X, compiled.Y
    for B in (1, 3, 40, 300):  # _one, _scalar, the numpy path; numba: the fused loops, the kernel and the matrix form
        p = compiled.initial + rng.normal(0, 0.2, compiled.initial.shape)
        yield p, rng.normal(0, 1, (B, len(model.inputs))), rng.normal(0, 1, (B, len(model.outputs)))


def close(got, want, tol=1e-12):
    scale = max(float(np.max(np.abs(want))), 1e-8)
    assert float(np.max(np.abs(np.asarray(got) - want))) / scale <= tol, (got, want)


def agrees_with_runtime(model, numba):
    d = symbackprop.derive(model)
    compiled = symbackprop.compile(d, numba=numba)
    runtime = Runtime(model)
    for params, X, Y in batches(compiled, model, 7):
        value, grad = compiled(params, X, Y)
        ref_value, ref_grad = runtime(params, X, Y)
        assert value == pytest.approx(ref_value, rel=1e-12)
        close(grad, ref_grad)
        assert compiled.loss(params, X, Y) == pytest.approx(ref_value, rel=1e-12)
    return d, compiled


def assert_identifiers_bounded(text, names):
    used = identifiers_in(ast.parse(text))
    assert max(map(len, used)) <= LIMIT
    assert names.undeclared(text) == []


CASES = {f"graph-{n}": functools.partial(hostile_graph, n) for n in (FILE_LENGTH, 100, 300)}
CASES |= {f"layered-{size}-{n}": functools.partial(hostile_layered, sizes, n)
          for size, sizes in (("small", [3, 2, 2]), ("large", [3, 9, 5, 2])) for n in (FILE_LENGTH, 100, 300)}


@pytest.mark.parametrize("numba", NUMBA, ids=lambda n: "numba" if n else "numpy")
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_names_compile_to_the_runtimes_values(case, numba, long_names):
    model = CASES[case]()
    d, compiled = agrees_with_runtime(model, numba)
    names = Names(d)
    assert_identifiers_bounded(compiled.source, names)
    assert compiled.source == source(d, numba=numba)  # the same bytes each time
    assert check(d, against="numpy").ok


@pytest.mark.parametrize("length", [FILE_LENGTH, 100, 300])
def test_the_table_keeps_plain_names_and_shortens_long_ones(length, long_names):
    d, n = symbackprop.derive(hostile_graph(length)), Long(length)
    names = Names(d)
    for w in HELPER_NAMES:
        assert names.param[w] == f"p_{w}"
    assert (names.input["X"], names.input["np"], names.target["math"]) == ("x_X", "x_np", "y_math")
    assert (names.sum["b"], names.activation["b"], names.error["b"]) == ("z_b", "a_b", "d_b")  # beside the weight p_d_b
    assert names.param[n.lookalike] == "p_" + n.lookalike  # a name that fits keeps its plain form ...
    assert names.param[n.weight] == shortened("p_" + n.weight)[:-2] + "_2"  # ... and the long one it imitates moves over
    twins = names.param[n.twins[0]], names.param[n.twins[1]]
    assert twins == (shortened("p_" + n.twins[0]), shortened("p_" + n.twins[1])) and twins[0] != twins[1]
    assert twins[0][:55] == twins[1][:55] == ("p_" + n.twins[0])[:55] and len(twins[0]) == LIMIT
    long = [names.input[n.input], names.sum[n.neuron], names.activation[n.neuron], names.error[n.neuron],
            names.target[n.neuron], names.param[n.weight]]
    assert all(len(i) == LIMIT for i in long) and len(set(long)) == len(long)
    assert names.sum[n.neuron].startswith("z_nnnn") and names.target[n.neuron].startswith("y_nnnn")
    assert len(set(names.table.values())) == len(names.table) == 18 + 5 + 2 + 3 * 3
    assert all(len(i) <= LIMIT and not names_module.helper(i) for i in names.identifiers)
    assert Names(d).table == names.table  # deterministic
    text = source(d)
    assert all(i in text for i in long)  # the code uses them


def test_a_table_key_that_is_a_helper_name_is_moved(monkeypatch):
    """Without a prefix a parameter called g0, numpy or total would be the code's own name: numbered instead."""
    monkeypatch.setitem(names_module.PREFIX, "parameter", "")
    keys = [("parameter", n) for n in ("g0", "numpy", "total", "total_2", "w")]
    assert list(names_module.table(keys).values()) == ["g0_2", "numpy_2", "total_3", "total_2", "w"]


def test_an_identifier_outside_the_table_is_refused(monkeypatch):
    d = symbackprop.derive(hostile_graph())
    assert Names(d).undeclared("p_zzz = g0 + numpy.exp(p_d_b) + x_gone") == ["p_zzz", "x_gone"]
    monkeypatch.setattr(names_module, "HELPERS", names_module.HELPERS - {"total"})
    with pytest.raises(RuntimeError, match="total"):
        source(d)


def test_cli_check_agrees_on_the_hostile_file(tmp_path):
    path = tmp_path / "hostile_names.toml"
    path.write_text(graph_text(FILE_LENGTH), encoding="utf-8")
    done = cli("check", str(path), "--against", "numpy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all agree" in done.stdout
    out = tmp_path / "hostile_names_module.py"
    done = cli("compile", str(path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    spec = importlib.util.spec_from_file_location("hostile_names_module", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = hostile_graph()
    X = np.array([[0.5, -1.0, 2.0, 0.25, -0.5], [0.1, 0.2, 0.3, 0.4, 0.5]])
    Y = np.array([[0.3, 0.8], [-0.2, 0.1]])
    value, grad = module.loss_and_grad(module.INITIAL, X, Y)
    ref_value, ref_grad = Runtime(model)(module.INITIAL, X, Y)
    assert value == pytest.approx(ref_value, rel=1e-12)
    close(grad, ref_grad)


# -- non-finite constants --------------------------------------------------------------------

HUGE = sp.Integer(10) ** 400


def _with(**changes):
    base = hostile_graph()
    if "constant" in changes:
        changes["constants"] = {"numpy": changes.pop("constant")}
    if "value" in changes:
        changes["parameters"] = {**base.parameters, "g0": changes.pop("value")}
    return dataclasses.replace(base, **changes)


BEYOND = {"constant 1e400": lambda: _with(constant=HUGE), "constant -1e400": lambda: _with(constant=-HUGE),
          "constant 1e400/3": lambda: _with(constant=HUGE / 3), "parameter 1e400": lambda: _with(value=HUGE),
          "learning rate 1e400": lambda: _with(learning_rate=HUGE)}


def same(got, want):
    """Equal where finite (to 1e-12), and inf and nan in the same places."""
    got, want = np.atleast_1d(np.asarray(got, dtype=float)), np.atleast_1d(np.asarray(want, dtype=float))
    assert np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(np.isposinf(got), np.isposinf(want))
    assert np.array_equal(np.isneginf(got), np.isneginf(want))
    finite = np.isfinite(want)
    if finite.any():
        close(got[finite], want[finite])


def test_the_printers_write_numbers_beyond_float64_as_inf():
    x = sp.Symbol("x", real=True)
    cases = [(HUGE * x, math.inf), (-HUGE * x, -math.inf), (x + HUGE / 3, math.inf), (x / HUGE, 0.0),
             (sp.exp(-HUGE * x), 0.0), (sp.Max(0, HUGE * x), math.inf), (sp.Max(-HUGE, x), 0.5),
             ((x - HUGE) ** 2, math.inf), (x**2 + sp.Rational(1, 3), 0.25 + 1 / 3)]
    for expr, want in cases:
        scalar, batch = expressions.scalar(expr), expressions.batch(expr)
        assert not {"inf", "nan"} & (identifiers_in(ast.parse(scalar)) | identifiers_in(ast.parse(batch)))
        assert eval(scalar, {"math": math, "x": 0.5}) == want, scalar
        assert eval(batch, {"numpy": np, "x": np.array([0.5])})[0] == want, batch
    assert expressions.scalar(x**2 / 2) == "(1/2)*x**2"  # numbers float64 holds exactly print as before
    assert [expressions.float_literal(v, "numpy") for v in (math.inf, -math.inf, 0.1)] == ["numpy.inf", "-numpy.inf", "0.1"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 is nan, in the runtime as in the module
@pytest.mark.parametrize("numba", NUMBA, ids=lambda n: "numba" if n else "numpy")
@pytest.mark.parametrize("case", list(BEYOND))
def test_a_constant_beyond_float64_is_written_as_inf(case, numba, tmp_path):
    try:
        model = BEYOND[case]()
    except InputError as e:  # the model may bound magnitudes itself (core/limits.py): refused, in one line
        assert "\n" not in str(e) and str(e)
        return
    d = symbackprop.derive(model)
    text = source(d, numba=numba)
    assert not {"inf", "nan"} & identifiers_in(ast.parse(text))  # never a bare inf, which Python reads as a name
    assert "math.inf" in text or "numpy.inf" in text
    path = tmp_path / "beyond.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("beyond", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the exported module imports ...
    compiled = symbackprop.compile(d, numba=numba)
    runtime = Runtime(model)
    rng = np.random.default_rng(3)
    params = np.array([float(v) for v in model.parameters.values()])
    assert np.array_equal(module.INITIAL, params) and module.LEARNING_RATE == float(model.learning_rate)
    for B in (1, 3, 40):  # ... and returns what the runtime does, inf and nan included, on every code path
        X, Y = rng.normal(0, 1, (B, len(model.inputs))), rng.normal(0, 1, (B, len(model.outputs)))
        value, grad = module.loss_and_grad(params, X, Y)
        ref_value, ref_grad = runtime(params, X, Y)
        same(value, ref_value)
        same(grad, ref_grad)
        same(compiled.loss(params, X, Y), ref_value)
        same(compiled(params, X, Y)[1], ref_grad)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # cosh overflows in the runtime's tanh' at z ~ 1e19
@pytest.mark.parametrize("numba", NUMBA, ids=lambda n: "numba" if n else "numpy")
@pytest.mark.parametrize("value", [sp.Integer(10) ** 19 + 7, sp.Rational(3, 2**60), sp.Rational(10**30 + 1, 10**31)])
def test_exact_constants_float64_cannot_hold_exactly_print_as_their_float(value, numba):
    """Beyond 2**53 (numba types no integer beyond int64) or with a large denominator: the float they round to."""
    model = _with(constant=value)
    d, compiled = agrees_with_runtime(model, numba)
    assert repr(float(value)) in compiled.source
    integers = [c.value for c in ast.walk(ast.parse(compiled.source)) if isinstance(c, ast.Constant) and type(c.value) is int]
    assert max(map(abs, integers)) <= 2**53 and math.isfinite(float(value))


# -- weights named after derived quantities ----------------------------------------------------

DERIVED_NAMES = ["delta_b", "z_a", "d_b", "g0", "value", "total", "grad", "B", "numpy", "math"]


def derived_text(activation_a: str = "tanh", activation_b: str = "sigmoid") -> str:
    """A graph (a bias input: no matrix form) whose weights carry every kind of derived name: neuron b's
    error term and neuron a's sum, generated code's own names (``d_b`` is b's error term in the code),
    an activation ``a_b``, the target ``y``, another error term and sum, and w's adjustment ``Delta_w``."""
    return f'''
title = "weights named after derived quantities"
[network]
inputs = ["x1", "x2", "x3"]
constants = {{ b0 = 1.0 }}
outputs = ["b"]
[[network.neurons]]
name = "a"
activation = "{activation_a}"
inputs = ["b0", "x1", "x2", "x3"]
weights = ["z_a", "g0", "value", "total"]
bias = "B"
[[network.neurons]]
name = "b"
activation = "{activation_b}"
inputs = ["b0", "a", "x1", "x2", "x3", "a", "b0"]
weights = ["d_b", "delta_b", "grad", "numpy", "a_b", "y", "z_b"]
bias = "math"
[[network.neurons]]
name = "c"
activation = "relu"
inputs = ["x1", "a"]
weights = ["delta_a", "w"]
bias = "Delta_w"
[parameters]
z_a = 0.6
g0 = 0.1
value = 0.2
total = 0.3
B = -0.1
d_b = 0.5
delta_b = 0.4
grad = -0.25
numpy = 0.15
a_b = 0.35
y = -0.45
z_b = 0.05
math = 0.05
delta_a = 0.7
w = -0.3
Delta_w = 0.2
[loss]
function = "half_sse"
[[examples]]
inputs = {{ x1 = 0.2, x2 = 0.1, x3 = 0.4 }}
targets = {{ b = 1.0 }}
[[examples]]
inputs = {{ x1 = -0.3, x2 = 0.5, x3 = 0.1 }}
targets = {{ b = 0.0 }}
'''


def derived_layered():
    """dense 2-3-2 with its weights named after its own derived quantities (the matrix form, numba's kernel)."""
    m = symbackprop.dense([2, 3, 2], activation="tanh", output_activation="sigmoid", seed=1)
    own = ["delta_n2_1", "z_n1_1", "y_n2_1", "a_n1_2", "Delta_w1_2_1", "w1_2_1", "delta_n1_3", "z_n2_2", "numpy",
           "math", "B", "g0", "total", "value", "grad", "d_n1_1", "z_n1_2"]
    rename = dict(zip(m.parameters, own))
    return renamed(m, lambda kind, old: rename[old] if kind == "parameter" else old)


def finite_difference_gradient(loss, params, X, Y, h=1e-6):
    grad = np.empty_like(params)
    for i in range(len(params)):
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (loss(up, X, Y) - loss(down, X, Y)) / (2 * h)
    return grad


DERIVED_CASES = {"graph": lambda: loads(derived_text()), "layered": derived_layered}


@pytest.mark.parametrize("numba", NUMBA, ids=lambda n: "numba" if n else "numpy")
@pytest.mark.parametrize("case", list(DERIVED_CASES))
def test_weights_named_after_derived_quantities_compile_to_the_runtimes_values(case, numba):
    model = DERIVED_CASES[case]()
    clashing = {p for p, _, _ in name_clashes(model)}
    assert clashing and clashing <= set(model.parameters)  # the premise: such names, and the file loads
    d, compiled = agrees_with_runtime(model, numba)
    for n in d.order:  # the derivation's own symbols stay apart from the parameters named like them
        assert d.z[n.name] not in d.symbols.values() and d.delta_symbol[n.name] not in d.symbols.values()
    assert not set(d.targets.values()) & set(d.symbols.values())
    names = Names(d)
    assert_identifiers_bounded(compiled.source, names)
    assert len(names.mapping) == len(d.symbols) + len(d.targets) + 3 * len(d.order)  # no key overwrote another
    runtime = Runtime(model)
    rng = np.random.default_rng(11)
    for B in (1, 3, 40):
        params = compiled.initial + rng.normal(0, 0.1, compiled.initial.shape)
        X, Y = rng.normal(0, 1, (B, len(model.inputs))), rng.normal(0, 1, (B, len(model.outputs)))
        _, grad = compiled(params, X, Y)
        close(grad, finite_difference_gradient(runtime.loss, params, X, Y), tol=1e-6)
    assert check(d, against="all").ok


def test_the_graph_named_after_derived_quantities_by_hand():
    """Its loss and two gradients at the file's first example, by hand (exact SymPy arithmetic on the
    formulas written out here): the module says the same."""
    model = loads(derived_text(activation_a="identity", activation_b="identity"))
    compiled = symbackprop.compile(symbackprop.derive(model))
    v = {p: float(x) for p, x in model.parameters.items()}
    x1, x2, x3 = 0.2, 0.1, 0.4
    a = v["z_a"] + v["g0"] * x1 + v["value"] * x2 + v["total"] * x3 + v["B"]
    b = (v["d_b"] + v["delta_b"] * a + v["grad"] * x1 + v["numpy"] * x2 + v["a_b"] * x3 + v["y"] * a + v["z_b"]
         + v["math"])
    loss = 0.5 * (1.0 - b) ** 2  # c is not an output: it reads a and feeds nothing
    X, Y = np.array([[x1, x2, x3]]), np.array([[1.0]])
    value, grad = compiled(compiled.initial, X, Y)
    index = list(model.parameters).index
    assert value == pytest.approx(loss, rel=1e-14)
    assert grad[index("delta_b")] == pytest.approx((b - 1.0) * a, rel=1e-14)  # dE/d(delta_b) = (b - y) a
    assert grad[index("z_a")] == pytest.approx((b - 1.0) * (v["delta_b"] + v["y"]), rel=1e-14)
    assert grad[index("delta_a")] == 0.0 and grad[index("Delta_w")] == 0.0


CLASHES = [("delta_b", "neuron b's error term delta_b"), ("z_a", "neuron a's weighted sum z_a"),
           ("a_b", "neuron b's activation a_b"), ("y", "output b's target y"), ("z_b", "neuron b's weighted sum z_b"),
           ("delta_a", "neuron a's error term delta_a"), ("Delta_w", "parameter w's adjustment Delta_w")]


@pytest.mark.parametrize("name,quantity", CLASHES)
def test_each_kind_of_clash_is_named(name, quantity):
    """The graph with only one clashing name left (the others renamed p_<name>): the refusal names it."""
    others = [n for n, _ in CLASHES if n != name]
    text = derived_text()
    for other in others:
        text = text.replace(f'"{other}"', f'"p_{other}"').replace(f"\n{other} = ", f"\np_{other} = ")
    model = loads(text)
    assert [(p, what) for p, _, what in name_clashes(model)] == [(name, quantity)]
    d = symbackprop.derive(model)
    for refuse in (lambda: d.trace(), lambda: symbackprop.api.document(d, "md"),
                   lambda: symbackprop.api.parallel_walkthrough(model, 2)):
        with pytest.raises(InputError) as e:
            refuse()
        assert f"parameter {name!r} has the name of {quantity}" in e.value.what and "rename" in e.value.what
        assert e.value.key.startswith("network.neurons[") and "\n" not in e.value.what
    assert check(d, against="numpy").ok  # compile and check take it


def test_cli_compile_and_check_take_weights_named_after_derived_quantities(tmp_path):
    path = tmp_path / "derived_names.toml"
    path.write_text(derived_text(), encoding="utf-8")
    done = cli("check", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all agree" in done.stdout and done.stderr == ""
    out = tmp_path / "derived_names_module.py"
    done = cli("compile", str(path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    spec = importlib.util.spec_from_file_location("derived_names_module", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = loads(derived_text())
    assert list(module.PARAMETERS) == list(model.parameters)
    X = np.array([[0.2, 0.1, 0.4], [-0.3, 0.5, 0.1], [1.5, -2.0, 0.25]])
    Y = np.array([[1.0], [0.0], [0.5]])
    runtime = Runtime(model)
    value, grad = module.loss_and_grad(module.INITIAL, X, Y)
    ref_value, ref_grad = runtime(module.INITIAL, X, Y)
    assert value == pytest.approx(ref_value, rel=1e-12)
    close(grad, ref_grad)
    close(grad, finite_difference_gradient(runtime.loss, np.array(module.INITIAL, dtype=float), X, Y), tol=1e-6)


REFUSING = [("derive", fmt) for fmt in ("terminal", "md", "tex", "html", "pdf")]
REFUSING += [("derive", "--check-identity"), ("verify", ""), ("verify", "--json"), ("verify", "md"),
             ("parallel", "terminal"), ("parallel", "md")]


@pytest.mark.parametrize("command,option", REFUSING, ids=lambda v: v or "plain")
def test_cli_refuses_where_the_names_would_mean_two_things(tmp_path, command, option):
    path = tmp_path / "derived_names.toml"
    claim = '\n[[claims]]\nquantity = "delta_b"\nstated = "0.4"\nsource = "text.txt:1"\nquote = "delta_b = 0.4"\n'
    path.write_text(derived_text() + claim, encoding="utf-8")
    out = tmp_path / "earlier_output"
    out.write_bytes(b"an earlier output\n")
    args = [command, str(path)] + ([option] if option.startswith("--") else ["--format", option] if option else [])
    args += ["--workers", "2"] if command == "parallel" else []
    done = cli(*args, "-o", str(out))
    assert done.returncode == 2, (done.stdout[-300:], done.stderr)
    assert done.stdout == "" and "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"symbackprop: error: {path}: network.neurons[0].weights[0]: ")
    assert "parameter 'z_a' has the name of neuron a's weighted sum z_a" in line
    assert "rename the parameter" in line
    assert out.read_bytes() == b"an earlier output\n"  # nothing written
