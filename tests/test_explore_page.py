"""The interactive page (``symbackprop explore``) in headless Chromium, for every bundled derivation file.

Per file, one page, one test (the page loaded once, then again from its fragment):

1. At the file's own setting every ``[data-q]`` element's ``data-v`` is the exact trace's value of its key, its
   text is the exact document's (as the HTML file has it), and the body is not in float64 mode.
2. At 20 seeded random settings (a random, non-empty subset of inputs, targets, starting parameters and the rate
   moved) every ``[data-q]`` element and every entry of ``values()`` is compared with independent float64
   computations at that setting: the compiled module (batch and one-row losses and gradients, the parameters
   after each update, the optimizer's state through ``step()``), the NumPy reference runtime (each neuron's z
   and a) and a reverse pass written here from the reference runtime's own tables (dE/da, da/dz with softmax's
   Jacobian, the error terms, the chain factors dz/da and dz/dp, dE/dx), itself checked against the compiled
   one-row gradients. No name is left uncompared (asserted). At the first setting, also the exact trace of the
   model at that setting, for every element. Each float-mode text is Python's ``.10g`` of its ``data-v``
   (``data-digits`` digits where given), as the page renders numbers (U+2212 minus, ``· 10`` exponents, ``≈ ``
   before a computed value in running text, none before a setting).
3. "Train 5 steps" (``#steps`` = 5, ``#train-many``) equals five compiled steps (or plain updates) from the same
   setting: ``w@1`` is the parameters after them, ``E@t`` the loss at true iteration 5 + t, every other number is
   compared as in 2 shifted by 5, and the iteration numbers read 5 + t.
4. The URL fragment restores the state bit for bit (values(), controls, steps trained) on a fresh load; Reset
   clears it and restores exact mode, the exact texts and the first load's values.
5. No SEVERE console entry (tests/layout.py ``Browser.console_errors``).

Errors. For a reference value b and the page's a, ``err = |a - b| / max(|b|, floor)``; every err must be <= 1e-12,
and the worst is reported per file (with where it is).

* Against the exact trace the floor is tiny where b != 0 (a relative error) and, where b == 0, the largest |value|
  of that iteration (|a| <= 1e-12 of the iteration's scale).
* Float64 against float64, a value that cancels is measured against a floor instead of itself: two float64
  computations differ by some eps times the size of the terms they add, which is far more than 1e-12 of a result
  near 0. Two floors, the larger taken: ``CANCELLATION`` (2^-10) times the largest |value| of the value's family
  (the same kind of quantity at the same iteration: every z, every dE/dp, every Delta...); and, for the
  per-example quantities and the batch's E, dE/dp and plain Delta, 2^-7 of M, the running error bound of the
  page's own formula for it (the derivation's schedule evaluated with every sum's terms' sizes added up: a
  saturated sigmoid's a(1 - a), a - y at convergence, a batch gradient whose examples cancel), where M exceeds
  2^7 |b|. Every other value is held to a relative error of 1e-12.
* A long run's quantities at an iteration are computed from the page's own parameters at that iteration (which
  are compared with the compiled trajectory), so that ten thousand updates rounded in another order do not
  drift into one iteration's numbers; the parameters and E@t themselves are compared with the trajectory.

Settings are short decimals (3 decimals, the rate 4 significant digits, keeping its sign; a target within what
its output can reach, each example's targets a probability vector where the loss takes one): exact Rationals for
the exact trace, the nearest double on the page. A probability vector is set through ``symbackprop.set`` (typing
one target rescales the example's others, which is checked once); every other control is typed into its number
field with an input event. A setting that puts a ReLU's z within 1e-9 of its terms' size of the kink is drawn
again: there float64 and exact arithmetic may take different sides.
"""

from __future__ import annotations

import dataclasses
import math
import time
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symbackprop
from symbackprop import api
from symbackprop.core import function_table
from symbackprop.core.derivation_file import load
from symbackprop.core.model import Example
from symbackprop.core.schedule import backward, forward
from symbackprop.core.trace import Key
from symbackprop.reference import numpy_runtime as nr

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "derivations").glob("*.toml"))
SEED = 20_240_611
SETTINGS = 20
STEPS = 5
TOLERANCE = 1e-12
CANCELLATION = 2.0 ** -10
FORMULA_BITS = 7
KINKED = ("relu", "leaky_relu")
MINUS = "\u2212"


# -- the files, each built once per module (and only when a test asks for it: xdist-friendly) --------------------
@dataclasses.dataclass
class Case:
    name: str
    model: object
    d: object
    trace: object
    path: Path
    compiled: object
    runtime: nr.Runtime
    texts: list[tuple[str, str]]  # (data-q, text) of every [data-q] element, in document order, as the HTML has it
    steps: tuple[str, ...]  # the schedule's names of one example (forward + backward)

    @property
    def uri(self) -> str:
        return self.path.resolve().as_uri()


class _Texts(HTMLParser):
    """The text of every element with data-q, as written in the page's HTML."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[list] = []
        self.open: list[list] = []  # [index into out, depth]
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        if tag in self.VOID:
            return
        for entry in self.open:
            entry[1] += 1
        q = dict(attrs).get("data-q")
        if q is not None and not self.skip:
            self.out.append([q, ""])
            self.open.append([len(self.out) - 1, 1])

    def handle_startendtag(self, tag, attrs):
        q = dict(attrs).get("data-q")
        if q is not None and not self.skip:
            self.out.append([q, ""])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1
        if tag in self.VOID:
            return
        for entry in self.open:
            entry[1] -= 1
        self.open = [e for e in self.open if e[1] > 0]

    def handle_data(self, data):
        if not self.skip:
            for index, _ in self.open:
                self.out[index][1] += data


def original_texts(html: str) -> list[tuple[str, str]]:
    parser = _Texts()
    parser.feed(html)
    parser.close()
    return [tuple(x) for x in parser.out]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    built: dict[str, Case] = {}
    folder = tmp_path_factory.mktemp("explore")

    def get(path: Path) -> Case:
        if path.name not in built:
            model = load(path)
            d = symbackprop.derive(model)
            html = api.explore(d)
            out = folder / f"{path.stem}.html"
            out.write_text(html, encoding="utf-8")
            built[path.name] = Case(path.stem, model, d, d.trace(), out, symbackprop.compile(d, numba=False),
                                    nr.Runtime(model), original_texts(html),
                                    tuple(s.name for s in forward(d) + backward(d)))
        return built[path.name]

    return get


# -- settings ------------------------------------------------------------------------------------------------------
def defaults(m) -> dict[str, str]:
    """Every control's name -> the file's value, as a decimal text."""
    out = {"lr": _text(m.learning_rate)}
    for k, ex in enumerate(m.examples, 1):
        out |= {f"x:{x}[{k}]": _text(ex.inputs[x]) for x in m.inputs}
        out |= {f"y:{o}[{k}]": _text(ex.targets[o]) for o in m.outputs}
    out |= {f"{p}@1": _text(v) for p, v in m.parameters.items()}
    return out


def _text(value) -> str:
    return repr(float(value))


def _dec(x: float, places: int = 3) -> str:
    text = f"{round(float(x), places):.{places}f}"
    return "0.0" if float(text) == 0 else text.rstrip("0").rstrip(".") if "." in text else text


def random_setting(m, rng: np.random.Generator) -> dict[str, str]:
    """The file's setting with a random, non-empty subset of its controls moved within sensible ranges."""
    out, own = defaults(m), {k: float(v) for k, v in defaults(m).items()}
    kinds = function_table.loss(m.loss).targets
    while all(float(v) == own[k] for k, v in out.items()):  # until at least one control moved
        for name in [f"x:{x}[{k}]" for k in range(1, len(m.examples) + 1) for x in m.inputs] + [f"{p}@1" for p in m.parameters]:
            if rng.random() < 0.4:
                v = float(out[name])
                span = max(1.0, abs(v))
                out[name] = _dec(rng.uniform(v - span, v + span))
        for k in range(1, len(m.examples) + 1):
            names = [f"y:{o}[{k}]" for o in m.outputs]
            if kinds == "probabilities":  # the example's targets stay a probability vector, summing to 1 exactly
                if rng.random() < 0.5:
                    p = rng.dirichlet(np.ones(len(names)))
                    first = [Decimal(_dec(v)) for v in p[:-1]]
                    while sum(first) > 1:
                        first = [Decimal(_dec(float(v) / 2)) for v in first]
                    last = Decimal(1) - sum(first)
                    for name, v in zip(names, [*first, last]):
                        out[name] = str(v)
                continue
            for o, name in zip(m.outputs, names):
                if rng.random() < 0.4:  # within what the output can reach: a probability, a sigmoid's or tanh's range
                    v, activation = float(out[name]), m.neuron(o).activation
                    low, high = ((0, 1) if kinds == "unit" or activation in ("sigmoid", "softmax") else
                                 (-1, 1) if activation == "tanh" else (v - max(1, abs(v)), v + max(1, abs(v))))
                    out[name] = _dec(rng.uniform(low, high))
        if rng.random() < 0.5:  # the rate keeps its sign
            out["lr"] = f"{float(m.learning_rate) * rng.uniform(0.25, 2.0):.4g}"
    return out


def model_at(m, setting: dict[str, str]):
    """The Model with the setting's exact values (Rationals of the decimal texts)."""
    q = lambda name: sp.Rational(setting[name])  # noqa: E731
    examples = [Example({x: q(f"x:{x}[{k}]") for x in m.inputs}, {o: q(f"y:{o}[{k}]") for o in m.outputs})
                for k in range(1, len(m.examples) + 1)]
    return dataclasses.replace(m, parameters={p: q(f"{p}@1") for p in m.parameters}, examples=examples,
                               learning_rate=q("lr"), readings={}, claims=())


# -- the independent float64 reference -----------------------------------------------------------------------------
class Names:
    """The kind of every name of one example's schedule, from the model's structure (no parsing of names)."""

    def __init__(self, case: Case) -> None:
        m = case.model
        neurons = [n.name for n in m.neurons]
        kinds: dict[str, tuple] = {"E": ("E[k]",)}
        for n in m.neurons:
            kinds[f"z_{n.name}"] = ("z", n.name)
            kinds[f"a_{n.name}"] = ("a", n.name)
            kinds[f"dE/da_{n.name}"] = ("dE/da", n.name)
            kinds[f"delta_{n.name}"] = ("delta", n.name)
            kinds[f"da_{n.name}/dz_{n.name}"] = ("da/dz", n.name, n.name)
            for src in set(n.inputs) & set(neurons):
                kinds[f"dz_{n.name}/da_{src}"] = ("dz/da", n.name, src)
            for p in m.parameters_of(n):
                kinds[f"dz_{n.name}/d{p}"] = ("dz/dp", n.name, p)
        coupled = [n.name for n in m.neurons if function_table.ACTIVATIONS[n.activation].coupled]
        for i in coupled:
            for j in coupled:
                kinds[f"da_{i}/dz_{j}"] = ("da/dz", i, j)
        for p in m.parameters:
            kinds[f"dE/d{p}"] = ("dE/dp[k]", p)
        for x in m.inputs:
            kinds[f"dE/d{x}"] = ("dE/dx", x)
        self.kinds = kinds
        self.unknown = sorted(set(case.steps) - set(kinds))


def example_pass(case: Case, p: np.ndarray, X: np.ndarray, Y: np.ndarray) -> dict[tuple, np.ndarray]:
    """Every example's z, a, dE/da, da/dz, delta, dz/da, dz/dp, dE/dp and dE/dx (arrays over the examples), by
    reverse mode over the model's graph with the reference runtime's tables of activations and losses."""
    m, rt = case.model, case.runtime
    index = rt.index
    z = rt.pre_activations(p, X)
    value = {x: X[:, i] for i, x in enumerate(m.inputs)} | {c: np.full(len(X), float(v)) for c, v in m.constants.items()}
    coupled = [n.name for n in rt.order if n.activation in nr.COUPLED]
    for n in rt.order:
        if n.activation not in nr.COUPLED:
            value[n.name] = nr.ACTIVATIONS[n.activation][0](z[n.name])
    if coupled:
        A = rt.outputs(p, X)
        value |= {o: A[:, j] for j, o in enumerate(m.outputs)}
    out: dict[tuple, np.ndarray] = {}
    P = np.stack([value[o] for o in m.outputs], axis=1)
    dP = rt.loss_d(Y, P)
    upstream = {n.name: np.zeros(len(X)) for n in rt.order}
    for j, o in enumerate(m.outputs):
        upstream[o] = upstream[o] + dP[:, j]
    given = {}
    if coupled:
        name = m.neuron(coupled[0]).activation
        Z = np.stack([z[o] for o in m.outputs], axis=1)
        J = nr.COUPLED[name][1](Z, P)
        dZ = nr.coupled_backward(name, Z, P, dP)
        for i, oi in enumerate(m.outputs):
            given[oi] = dZ[:, i]
            for j, oj in enumerate(m.outputs):
                out[("da/dz", oi, oj)] = J[:, i, j]
    grad = {q: np.zeros(len(X)) for q in m.parameters}
    dx = {x: np.zeros(len(X)) for x in m.inputs}
    for n in reversed(rt.order):
        out[("z", n.name)], out[("a", n.name)] = z[n.name], value[n.name]
        out[("dE/da", n.name)] = upstream[n.name]
        if n.name in given:
            delta = given[n.name]
        else:
            slope = nr.ACTIVATIONS[n.activation][1](z[n.name])
            out[("da/dz", n.name, n.name)] = slope
            delta = slope * upstream[n.name]
        out[("delta", n.name)] = delta
        chain: dict[str, np.ndarray] = {}
        for src, w in zip(n.inputs, n.weights):
            grad[w] = grad[w] + delta * value[src]
            chain[w] = chain.get(w, 0.0) + value[src]
            if src in upstream:
                upstream[src] = upstream[src] + delta * p[index[w]]
                out[("dz/da", n.name, src)] = out.get(("dz/da", n.name, src), 0.0) + np.full(len(X), p[index[w]])
            elif src in dx:
                dx[src] = dx[src] + delta * p[index[w]]
        if n.bias:
            grad[n.bias] = grad[n.bias] + delta
            chain[n.bias] = chain.get(n.bias, 0.0) + 1.0
        for q, c in chain.items():
            out[("dz/dp", n.name, q)] = np.broadcast_to(np.asarray(c, dtype=float), (len(X),))
    out |= {("dE/dp[k]", q): g for q, g in grad.items()}
    out |= {("dE/dx", x): g for x, g in dx.items()}
    return out


def reference(case: Case, names: Names, setting: dict[str, str], n: int, wanted: set[str],
              anchor: dict[str, float] | None = None) -> tuple[dict, list[str]]:
    """name -> (value, family) for what the page's trace names, in float64 by the compiled module, the reference
    runtime and example_pass, from ``setting`` after ``n`` training steps (the page's iteration t is n + t);
    and the problems met (the reverse pass disagreeing with the compiled gradients, a setting at a kink).

    The parameters p@t, the loss E@t and the optimizer's state follow the compiled module's own trajectory. With
    ``anchor`` (the page's values) and the plain rule, an iteration's other quantities (per example, dE/dp@t,
    Delta@t) are computed from the page's own p@t, which is itself compared with the trajectory: so that the
    ten thousand updates of a long run, rounded in another order, do not drift into one iteration's numbers."""
    m, comp = case.model, case.compiled
    f = {k: float(v) for k, v in setting.items()}
    K = len(m.examples)
    X = np.array([[f[f"x:{x}[{k}]"] for x in m.inputs] for k in range(1, K + 1)])
    Y = np.array([[f[f"y:{o}[{k}]"] for o in m.outputs] for k in range(1, K + 1)])
    p = np.array([f[f"{q}@1"] for q in m.parameters])
    lr = f["lr"]
    ref = Reference({"lr": (lr, "setting")})
    anchors: dict[int, list] = {}  # iteration -> [the parameters its quantities were computed from, its rate]
    for k in range(1, K + 1):
        ref |= {f"x:{x}[{k}]": (f[f"x:{x}[{k}]"], "setting") for x in m.inputs}
        ref |= {f"y:{o}[{k}]": (f[f"y:{o}[{k}]"], "setting") for o in m.outputs}
    ref |= {f"c:{c}": (float(v), "setting") for c, v in m.constants.items()}
    # the iterations the page names: per example, per parameter, and batch quantities
    per_example, batch = set(), set()  # (the loss and the iteration count are recorded at every iteration)
    for key in wanted:
        if "@" in key:
            name, t = key.rsplit("@", 1)
            if name not in ("E", "t"):
                (per_example if name.endswith("]") else batch).add(int(t))
    trained = np.array([q in set(m.trained_parameters) for q in m.parameters])
    optimizer = m.optimizer is not None
    if m.scheduler is not None:  # the compiled schedule is the file's rate's: compile the model at this rate
        comp = symbackprop.compile(symbackprop.derive(model_at(m, setting)), numba=False)
    state = None
    heads = list(m.rule.quantities()) if optimizer else []
    if optimizer:
        state = comp.init_state()
        state["lr"] = lr
        if n == 0:
            for j, q in enumerate(m.parameters):
                if trained[j]:
                    ref |= {f"{s}_{q}@0": (float(state[s][j]), f"state {s}") for s in m.rule.states()}
    problems: list[str] = []
    checks: list[tuple[str, float, float]] = []  # (name, the reverse pass's dE/dp[k], the compiled one-row one)
    at: dict[int, np.ndarray] = {}  # the trajectory's parameters at each of the page's iterations
    total = n + m.iterations
    for t in range(1, total + 2):
        rel = t - n
        at[rel] = p
        loss, grad = comp(p, X, Y)
        here, grad_here = p, grad
        if anchor is not None and not optimizer and rel in per_example and all(f"{q}@{rel}" in anchor for q in m.parameters):
            here = np.array([anchor[f"{q}@{rel}"] for q in m.parameters])
            grad_here = comp(here, X, Y)[1]
        if rel in per_example:
            anchors[rel] = [here.copy(), None]
        if rel >= 1:
            ref[f"E@{rel}"] = (float(loss), "E")
            ref[f"t@{rel}"] = (float(t), "t")  # the true iteration, n + rel
        if rel in batch or rel in per_example:
            ref |= {f"{q}@{rel}": (float(p[j]), "p") for j, q in enumerate(m.parameters)}
        if rel in per_example:
            passed = example_pass(case, here, X, Y)
            for k in range(K):
                one_loss, one_grad = comp(here, X[k:k + 1], Y[k:k + 1])
                ref[f"E[{k + 1}]@{rel}"] = (float(one_loss), "E[k]")
                for step in case.steps:
                    kind = names.kinds.get(step)
                    if kind is None or (kind[0] in ("dE/da", "da/dz", "delta", "dz/da", "dz/dp", "dE/dp[k]", "dE/dx")
                                        and t > total):
                        continue
                    if kind[0] == "dE/dp[k]":
                        j = list(m.parameters).index(kind[1])
                        value = float(one_grad[j])
                        checks.append((f"{step}[{k + 1}]@{rel}", float(passed[kind][k]), value))
                    elif kind[0] == "E[k]":
                        continue
                    else:
                        value = float(passed[kind][k])
                    ref[f"{step}[{k + 1}]@{rel}"] = (value, kind[0])
            for n_ in m.neurons:
                if n_.activation in KINKED:
                    zs, scale = passed[("z", n_.name)], _z_scale(case, n_, here, X)
                    if np.any(np.abs(zs) <= 1e-9 * scale):
                        problems.append(f"kink: z_{n_.name}@{rel} = {zs.tolist()} (a setting to draw again)")
        if t > total:
            break
        rate = lr if optimizer else -m.update_sign * lr
        floor = None
        if optimizer:
            rate = float(state["lr"])
            new, state_next = comp.step(p, state, X, Y)
            delta = optimizer_delta(m.optimizer, p, grad, rate, t, state_next)
            if delta is None:  # no formula here: the parameters' difference, as precise as eps |p|
                delta, floor = new - p, 1e-3 * np.abs(p)
            delta = np.where(trained, delta, 0.0)
        else:  # the plain rule, p <- p - rate(t) dE/dp (rate = -lr where the file adds), as compiled.step is
            delta = np.where(trained, -rate * grad, 0.0)
            new = p + delta
            if here is not p:
                delta = np.where(trained, -rate * grad_here, 0.0)
        if rel in anchors:
            anchors[rel][1] = rate
        if rel in batch or rel in per_example:
            ref[f"lr@{rel}"] = (rate, "lr")
            for j, q in enumerate(m.parameters):
                ref[f"dE/d{q}@{rel}"] = (float(grad_here[j]), "dE/dp")
                ref[f"Delta_{q}@{rel}"] = (float(delta[j]), "Delta") + (() if floor is None else (float(floor[j]),))
                if optimizer and trained[j]:
                    for h in heads:
                        if h in state_next:
                            ref[f"{h}_{q}@{rel}"] = (float(state_next[h][j]), f"state {h}")
                        elif h in ("m_hat", "v_hat"):  # Adam's bias corrections of the state the step gave
                            beta = float(m.optimizer.options["betas"][0 if h == "m_hat" else 1])
                            ref[f"{h}_{q}@{rel}"] = (float(state_next[h[0]][j]) / (1 - beta ** t), f"state {h}")
        if optimizer and rel == 0:
            for j, q in enumerate(m.parameters):
                if trained[j]:
                    ref |= {f"{s}_{q}@0": (float(state_next[s][j]), f"state {s}") for s in m.rule.states()}
        p = new
        if optimizer:
            state = state_next
    cache: dict[tuple[int, int], dict] = {}
    constants = {c: float(v) for c, v in m.constants.items()}
    combine = (lambda xs: sum(xs) / K) if m.batch_mean else sum  # noqa: E731

    def example(k: int, t: int) -> dict:
        if (k, t) not in cache:
            steps = None if t in anchors else forward(case.d)  # elsewhere only E@t is shown: the forward pass
            cache[k, t] = schedule_magnitudes(case, anchors[t][0] if t in anchors else at[t], X[k - 1], Y[k - 1],
                                              constants, steps)
        return cache[k, t]

    def magnitude(name: str) -> float | None:
        """M of a per-example quantity, or of the batch's E, dE/dp (combined as the batch is) and plain Delta."""
        t = iteration_of(name)
        body = name.rsplit("@", 1)[0]
        if t not in anchors and not (body == "E" and t in at):
            return None
        try:
            if body.endswith("]"):
                base, k = body[:-1].rsplit("[", 1)
                return example(int(k), t).get(base)
            if body == "E" or (body.startswith("dE/d") and body[4:] in m.parameters):
                return combine([example(k, t)[body] for k in range(1, K + 1)])
            if body.startswith("Delta_") and body[6:] in m.parameters and not optimizer and anchors[t][1] is not None:
                g = combine([example(k, t)[f"dE/d{body[6:]}"] for k in range(1, K + 1)])
                return abs(anchors[t][1]) * g + abs(ref[name][0])
        except KeyError:  # a function the magnitudes do not know: no formula floor
            return None
        return None

    ref.magnitude = magnitude
    for name, mine, value in checks:  # the reverse pass agrees with the compiled gradients, as the page must
        if error(mine, value, 1e-300) > TOLERANCE:
            M = magnitude(name)
            if M is None or error(mine, value, M / 2 ** FORMULA_BITS) > TOLERANCE:
                problems.append(f"example_pass's {name} = {mine!r}, the compiled one-row gradient {value!r}: "
                                "the test's reverse pass is wrong")
    return ref, problems


class Reference(dict):
    """name -> (value, family[, floor]); ``magnitude(name)``: the M of the page's formula for it, or None."""

    magnitude = None


def optimizer_delta(o, p: np.ndarray, g: np.ndarray, lr: float, t: int, state: dict) -> np.ndarray | None:
    """Delta of torch's SGD, Adam and AdamW from the compiled step's new state (its m, v or buf), as torch.optim
    defines them; None for another optimizer."""
    f = {k: v if isinstance(v, bool) else tuple(map(float, v)) if isinstance(v, (tuple, list)) else float(v)
         for k, v in o.options.items()}
    if o.name == "SGD":
        gg = g + f["weight_decay"] * p if f["weight_decay"] else g
        if not f["momentum"]:
            return -lr * gg
        buf = state["buf"]
        return -lr * (gg + f["momentum"] * buf if f["nesterov"] else buf)
    if o.name in ("Adam", "AdamW"):
        beta1, beta2 = f["betas"]
        m_hat, v_hat = state["m"] / (1 - beta1 ** t), state["v"] / (1 - beta2 ** t)
        step = -lr * m_hat / (np.sqrt(v_hat) + f["eps"])
        return step - lr * f["weight_decay"] * p if o.name == "AdamW" and f["weight_decay"] else step
    return None


def _times(x: tuple[float, float], y: tuple[float, float]) -> tuple[float, float]:
    (v, M), (w, N) = x, y
    return v * w, abs(w) * M + abs(v) * N + abs(v * w)


def _magnitude(e, env: dict) -> tuple[float, float]:
    """(value, M) of a schedule expression in float64: M bounds the rounding error of the expression as written,
    evaluated from its operands, in units of eps (a running error bound: a sum's M is its terms' M added up, so a
    sum that cancels has M far above its value). KeyError for a function it does not know."""
    if e.is_Number:
        v = float(e)
        return v, abs(v)
    if e.is_Symbol:
        return env[e]
    args = [_magnitude(a, env) for a in e.args] if not isinstance(e, sp.Heaviside) else None
    if isinstance(e, sp.Add):
        return math.fsum(v for v, _ in args), math.fsum(M for _, M in args)
    if isinstance(e, sp.Mul):
        out = args[0]
        for a in args[1:]:
            out = _times(out, a)
        return out
    if isinstance(e, sp.Pow):
        (b, Mb), (x, Mx) = args
        v = b ** x
        rel = abs(x) * Mb / abs(b) if b else math.inf
        if not e.exp.is_Number:
            rel += abs(math.log(abs(b))) * Mx if b else math.inf
        return v, abs(v) * (1 + rel)
    if isinstance(e, sp.exp):
        (x, Mx), = args
        v = math.exp(x)
        return v, v * (1 + Mx)
    if isinstance(e, sp.log):
        (x, Mx), = args
        v = math.log(x)
        return v, abs(v) + Mx / abs(x)
    if isinstance(e, sp.tanh):
        (x, Mx), = args
        v = math.tanh(x)
        return v, abs(v) + (1 - v * v) * Mx
    if isinstance(e, (sp.Max, sp.Min)):
        pick = (max if isinstance(e, sp.Max) else min)(args, key=lambda a: a[0])
        return pick
    if isinstance(e, sp.Heaviside):
        x = _magnitude(e.args[0], env)[0]
        v = 1.0 if x > 0 else 0.0 if x < 0 else float(e.args[1]) if len(e.args) > 1 else 0.5
        return v, abs(v)
    raise KeyError(type(e).__name__)


def schedule_magnitudes(case: Case, p: np.ndarray, x: np.ndarray, y: np.ndarray, constants: dict,
                        steps=None) -> dict[str, float]:
    """Each schedule name of one example -> M, the rounding-error bound (in eps) of the derivation's own formula
    for it, as the page evaluates it: where the value is far below M, its formula cancels."""
    d, m = case.d, case.model
    env = {d.symbols[q]: (float(v), abs(float(v))) for q, v in zip(m.parameters, p)}
    env |= {d.symbols[c]: (float(v), abs(float(v))) for c, v in constants.items()}
    env |= {d.symbols[name]: (float(v), abs(float(v))) for name, v in zip(m.inputs, x)}
    env |= {d.targets[o]: (float(v), abs(float(v))) for o, v in zip(m.outputs, y)}
    out = {}
    for step in steps or forward(d) + backward(d):
        env[step.symbol] = _magnitude(sp.sympify(step.expr), env)
        out[step.name] = env[step.symbol][1]
    return out


def _z_scale(case: Case, neuron, p: np.ndarray, X: np.ndarray) -> np.ndarray:
    """The size of the terms of a neuron's z: sum |w * source| + |bias| (where float64 rounding lives)."""
    rt = case.runtime
    z, value = rt.pre_activations(p, X), {x: X[:, i] for i, x in enumerate(case.model.inputs)}
    value |= {c: np.full(len(X), float(v)) for c, v in case.model.constants.items()}
    for n in rt.order:  # the sources' activations, as the runtime computes them
        if n.activation not in nr.COUPLED:
            value[n.name] = nr.ACTIVATIONS[n.activation][0](z[n.name])
    total = np.zeros(len(X))
    for src, w in zip(neuron.inputs, neuron.weights):
        total = total + np.abs(p[rt.index[w]] * value[src])
    return total + (abs(p[rt.index[neuron.bias]]) if neuron.bias else 0.0)


# -- comparing -----------------------------------------------------------------------------------------------------
def iteration_of(name: str) -> int | None:
    return int(name.rsplit("@", 1)[1]) if "@" in name else None


def exact_key(name: str) -> Key | None:
    """The trace's Key of a page name (None for the settings: x:, y:, c:, lr)."""
    if ":" in name or "@" not in name:
        return None
    body, t = name.rsplit("@", 1)
    if body.endswith("]"):
        body, k = body[:-1].rsplit("[", 1)
        return Key(body, int(k), int(t))
    return Key(body, None, int(t))


def exact_values(model, trace, names: set[str]) -> dict[str, float]:
    """name -> the exact trace's value (as a float) of each page name it has, and the settings' own values."""
    out = {"lr": float(model.learning_rate)}
    for k, ex in enumerate(model.examples, 1):
        out |= {f"x:{x}[{k}]": float(v) for x, v in ex.inputs.items()}
        out |= {f"y:{o}[{k}]": float(v) for o, v in ex.targets.items()}
    out |= {f"c:{c}": float(v) for c, v in model.constants.items()}
    initial = model.rule.initial() if model.optimizer is not None else {}
    states = model.rule.states() if model.optimizer is not None else []
    for name in names:
        key = exact_key(name)
        if key is None:
            continue
        if key.iteration == 0:  # the optimizer's state before the first update: the trace has no key for it;
            # its initial value, and 0 for SGD's buffer, which has none (it starts as the first gradient): the
            # document's general form of the update, shown once a step is trained, writes it as 0.0
            head = next((h for h in states if key.name.startswith(f"{h}_") and key.name[len(h) + 1:] in model.parameters), None)
            if head is not None:
                out[name] = float(initial.get(head, 0))
            continue
        if key in trace.values:
            out[name] = float(sp.sympify(trace.values[key]))
    return out


class Worst:
    """The worst error of a comparison run, and how many values it saw."""

    def __init__(self) -> None:
        self.err, self.where, self.count = 0.0, "", 0
        self.cancellations: set[str] = set()  # names measured against their formula's floor

    def add(self, err: float, where: str) -> None:
        self.count += 1
        if not err <= self.err:
            self.err, self.where = err, where

    def __str__(self) -> str:
        return f"{self.err:.3g} ({self.where})" if self.count else "nothing compared"


def error(a: float, b: float, floor: float) -> float:
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    return abs(a - b) / max(abs(b), floor, 1e-300)


def compare_exact(page: dict[str, float], exact: dict[str, float], worst: Worst, label: str) -> list[str]:
    """Every page value against the exact trace: relative error, or 1e-12 of the iteration's scale for an exact 0."""
    scale: dict = {}
    for name, b in exact.items():
        t = iteration_of(name)
        scale[t] = max(scale.get(t, 0.0), abs(b))
    problems = []
    for name, a in page.items():
        if name not in exact:
            problems.append(f"{label}: {name} has no exact value")
            continue
        b = exact[name]
        err = error(a, b, scale[iteration_of(name)] if b == 0 else 1e-300)
        worst.add(err, f"{label} {name}: page {a!r}, exact {b!r}")
        if not err <= TOLERANCE:
            problems.append(f"{label}: {name} = {a!r} on the page, {b!r} exact (error {err:.3g})")
    return problems


def family_scales(ref: dict) -> dict:
    """(family, iteration) -> the largest |value| of the reference's values of that family and iteration."""
    scale: dict = {}
    for name, (b, family, *_) in ref.items():
        key = (family, iteration_of(name))
        scale[key] = max(scale.get(key, 0.0), abs(b))
    return scale


def compare_float(page: dict[str, float], ref: dict, worst: Worst, label: str, scale: dict) -> tuple[list[str], set[str]]:
    """Page values against the float64 reference, with the cancellation floor of each value's family; the
    names the reference does not have."""
    problems, missing = [], set()
    for name, a in page.items():
        if name not in ref:
            missing.add(name)
            continue
        b, family, *floor = ref[name]
        err = error(a, b, floor[0] if floor else CANCELLATION * scale[(family, iteration_of(name))])
        if err > TOLERANCE / 64 and not floor and getattr(ref, "magnitude", None) is not None:
            M = ref.magnitude(name)  # only where it may matter: a cancellation of the page's own formula?
            if M is not None and M > 2 ** FORMULA_BITS * abs(b):
                err = min(err, error(a, b, M / 2 ** FORMULA_BITS))
                worst.cancellations.add(name)
        worst.add(err, f"{label} {name}: page {a!r}, float64 {b!r}")
        if not err <= TOLERANCE:
            problems.append(f"{label}: {name} = {a!r} on the page, {b!r} in float64 (error {err:.3g})")
    return problems, missing


# -- the page's numbers as Python writes them ---------------------------------------------------------------------
MATHML, SVG = "http://www.w3.org/1998/Math/MathML", "http://www.w3.org/2000/svg"


def shown_text(v: float, digits: int, namespace: str, fenced: bool, approx: bool = True) -> str:
    """The textContent page.js gives a number: Python's ``.{digits}g`` with U+2212 and ``· 10`` exponents (a zero
    of either sign as ``0``, as its data-v and the exact documents write it); in running text ``≈ `` before a
    computed value, none before a setting (``approx`` False)."""
    if not math.isfinite(v):
        text = "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
        return text
    text = "0" if v == 0 else f"{v:.{digits}g}"
    mantissa, _, exponent = text.partition("e")
    e = str(int(exponent)) if exponent else ""
    if namespace == MATHML:
        body = mantissa.replace("-", MINUS) + (f"·10{e.replace('-', MINUS)}" if e else "")
        return f"({body})" if fenced and text.startswith("-") else body
    if namespace == SVG:
        return mantissa.replace("-", MINUS) + (f"·10^{e}".replace("-", MINUS) if e else "")
    return ("≈ " if approx else "") + mantissa.replace("-", MINUS) + (" · 10" + e.replace("-", MINUS) if e else "")


# -- the browser side ----------------------------------------------------------------------------------------------
READ = """
const done = arguments[arguments.length - 1], setting = arguments[0], direct = arguments[1] || [];
const S = window.symbackprop;
if (setting) {  // typed into the number field, with an input event; `direct` names through symbackprop.set
  const field = name => document.querySelector(`input[type=number][data-control="${CSS.escape(name)}"]`);
  for (const name of direct) if (field(name).value !== setting[name]) S.set(name, Number(setting[name]));
  for (const [name, text] of Object.entries(setting)) {
    if (direct.includes(name) || field(name).value === text) continue;
    field(name).value = text;
    field(name).dispatchEvent(new Event("input", {bubbles: true}));
  }
}
setTimeout(() => {
  try { S.refreshAll(); } catch (e) { done({error: String(e)}); return; }  // a name without a value, say
  const str = v => (Object.is(v, -0) ? "-0" : String(v));
  const els = [...document.querySelectorAll("[data-q]")];
  done({
    q: els.map(e => [e.dataset.q, e.dataset.v === undefined ? null : e.dataset.v, e.textContent, e.dataset.digits || null,
                     e.namespaceURI, e.dataset.b === "1"]),
    values: Object.entries(S.values()).map(([k, v]) => [k, str(v)]),
    float: document.body.classList.contains("float64"), hash: location.hash, href: location.href, trained: S.trained(),
    iterations: [...document.querySelectorAll("[data-t]")].map(e => [e.dataset.t, e.textContent]),
    controls: [...document.querySelectorAll("input[data-control]")].map(e => [e.dataset.control, e.type, e.value, e.dataset.default]),
  });
}, 0);
"""


def read(browser, setting: dict[str, str] | None = None, direct: list[str] | None = None) -> dict:
    """Set the controls (if given), bring every section up to date and read every number and control."""
    try:
        state = browser.driver.execute_async_script(READ, setting, direct or [])
    except Exception as e:  # window.symbackprop missing: the page's script failed
        errors = [x.get("message") for x in browser.console_errors()]
        raise AssertionError(f"the page could not be read ({type(e).__name__}: {str(e)[:200]}); console: {errors}") from None
    assert "error" not in state, f"refreshAll() failed: {state['error']}; console: {browser.console_errors()}"
    return state


def probability_targets(m) -> list[str]:
    """The target controls of a loss that takes probability vectors: typing one of them rescales the example's
    others (page.js keepProbabilities), so a whole vector is set through symbackprop.set."""
    if function_table.loss(m.loss).targets != "probabilities":
        return []
    return [f"y:{o}[{k}]" for k in range(1, len(m.examples) + 1) for o in m.outputs]


def page_values(state: dict) -> dict[str, float]:
    """The data-v of every [data-q] element (one value per name: elements of one name must agree)."""
    out: dict[str, float] = {}
    for q, v, *_ in state["q"]:
        out[q] = float("nan") if v is None else float(v)
    return out


def element_problems(state: dict, label: str) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for q, v, _, _, _, _ in state["q"]:
        if v is None:
            problems.append(f"{label}: {q} has no data-v")
        elif seen.setdefault(q, v) != v:
            problems.append(f"{label}: two elements of {q} hold {seen[q]} and {v}")
    return problems


def text_problems(state: dict, label: str, m) -> list[str]:
    """Each float-mode text is Python's formatting of its data-v (a setting, or a starting value before any
    training, without the ``≈`` of a computed one)."""
    problems = []
    starts = {f"{p}@1" for p in m.parameters}
    for q, v, text, digits, namespace, fenced in state["q"]:
        if v is None:
            continue
        approx = not (":" in q or q == "lr" or (state["trained"] == 0 and q in starts))
        want = shown_text(float(v), int(digits or 10), namespace, fenced, approx)
        if text != want:
            problems.append(f"{label}: {q} (data-v {v}, {namespace.rsplit('/', 1)[-1]}) reads {text!r}, expected {want!r}")
    return problems


def run_float(case, names, state, setting, n, label, worst, problems, counts, computed=None) -> dict:
    """Compare everything the page shows and computed with the float64 reference at ``setting`` after n steps."""
    wanted = {k for k, _ in state["values"]}
    ref, issues = computed or reference(case, names, setting, n, wanted, {k: float(v) for k, v in state["values"]})
    problems += [f"{label}: {i}" for i in issues]
    shown, scale = page_values(state), family_scales(ref)
    p1, missing = compare_float(shown, ref, worst, label, scale)
    problems += p1
    counts["elements"] += len(state["q"])
    counts["uncompared elements"] |= {q for q, *_ in state["q"] if q in missing}
    values = {k: float(v) for k, v in state["values"]}
    p2, missing_values = compare_float(values, ref, worst, label + " values()", scale)
    problems += p2[:20]
    counts["uncompared values"] |= missing_values
    return ref


def _ref_scales(case, names, state, n) -> tuple[dict, dict]:
    """The float64 reference at the page's own controls (the names the page computed), and its family scales."""
    setting = {name: v for name, kind, v, _ in state["controls"] if kind == "number"}
    ref, _ = reference(case, names, setting, n, {k for k, _ in state["values"]}, {k: float(v) for k, v in state["values"]})
    return ref, family_scales(ref)


# -- the test ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_explore_page(browser, cases, path):
    started = time.perf_counter()
    case = cases(path)
    m, names, driver = case.model, Names(case), browser.driver
    problems: list[str] = []
    worst_exact, worst_float = Worst(), Worst()
    counts = {"elements": 0, "uncompared elements": set(), "uncompared values": set()}
    browser.console_errors()  # drain what came before

    # 1. the file's own setting: exact values and texts
    driver.get(case.uri)
    state = read(browser)
    assert state["q"], f"{case.name}: the page has no [data-q] element"
    first_values = dict(state["values"])
    controls = {name: float(default) for name, kind, _, default in state["controls"]}
    own = defaults(m)
    assert controls == {k: float(v) for k, v in own.items()}, f"{case.name}: controls {sorted(controls)} vs {sorted(own)}"
    assert not state["float"], f"{case.name}: body.float64 before any control moved"
    texts = [(q, text) for q, _, text, *_ in state["q"]]
    changed = [f"{a} != {b}" for a, b in zip(texts, case.texts) if a != b]
    assert len(texts) == len(case.texts) and not changed, f"{case.name}: the exact texts changed: {changed[:5]}"
    problems += element_problems(state, "file's setting")
    shown = page_values(state)
    exact = exact_values(m, case.trace, set(shown))
    problems += compare_exact(shown, exact, worst_exact, "file's setting")
    run_float(case, names, state, own, 0, "file's setting (float64)", worst_float, problems, counts)

    # 2. random settings
    rng = np.random.default_rng([SEED, FILES.index(path)])
    redrawn = 0
    for i in range(SETTINGS):
        while True:
            setting = random_setting(m, rng)
            model_at(m, setting)  # a valid file: raises InputError if not
            state = read(browser, setting, probability_targets(m))
            computed = reference(case, names, setting, 0, {k for k, _ in state["values"]},
                                 {k: float(v) for k, v in state["values"]})
            if not any(x.startswith("kink") for x in computed[1]):
                break
            redrawn += 1
        label = f"setting {i}"
        applied = {name: v for name, kind, v, _ in state["controls"] if kind == "number"}
        if {k: float(v) for k, v in applied.items()} != {k: float(v) for k, v in setting.items()}:
            problems.append(f"{label}: the controls hold {applied}, not the setting {setting}")
        if not state["float"]:
            problems.append(f"{label}: body.float64 not set after the controls moved")
        problems += element_problems(state, label)
        problems += text_problems(state, label, m)[:10]
        run_float(case, names, state, setting, 0, label, worst_float, problems, counts, computed)
        if i == 0:  # the exact trace of the model at this setting, for every element
            dm = symbackprop.derive(model_at(m, setting))
            shown = page_values(state)
            problems += compare_exact(shown, exact_values(dm.model, dm.trace(), set(shown)), worst_exact, label + " exact")

    # 3. train 5 steps from the last setting
    trained_from = setting
    driver.execute_script("const s = document.getElementById('steps'); s.value = arguments[0];"
                          "s.dispatchEvent(new Event('input', {bubbles: true}));", str(STEPS))
    driver.find_element("id", "train-many").click()
    state = read(browser)
    assert state["trained"] == STEPS, f"{case.name}: trained() = {state['trained']} after training {STEPS} steps"
    label = f"after {STEPS} steps"
    problems += element_problems(state, label) + text_problems(state, label, m)[:10]
    problems += [f"{label}: iteration {t} reads {text!r}" for t, text in state["iterations"] if text != str(int(t) + STEPS)]
    ref = run_float(case, names, state, trained_from, STEPS, label, worst_float, problems, counts)
    values = {k: float(v) for k, v in state["values"]}
    after = {q: values.get(f"{q}@1") for q in m.parameters}  # w@1: the parameters after the five steps
    training_err = max((error(after[q], ref[f"{q}@1"][0], 1e-300) for q in m.parameters), default=0.0)
    losses = {f"E@{t}": values.get(f"E@{t}", math.nan) for t in range(1, m.iterations + 2)}  # E at 5 + t
    worst_losses = Worst()
    problems += compare_float(losses, ref, worst_losses, f"{label} E@t", family_scales(ref))[0]

    # 4. the fragment restores the state, Reset clears it
    fragment, before = state["hash"], state
    assert fragment.startswith("#") and f"n={STEPS}" in fragment, f"{case.name}: fragment {fragment!r}"
    driver.get("about:blank")
    driver.get(case.uri + fragment)
    again = read(browser)
    if again["values"] != before["values"]:
        diff = [k for (k, v), (k2, v2) in zip(before["values"], again["values"]) if (k, v) != (k2, v2)][:5]
        problems.append(f"fragment: values differ after reloading {fragment}: {diff or 'names differ'}")
    as_numbers = lambda state: [(name, kind, float(v)) for name, kind, v, _ in state["controls"]]  # noqa: E731 - "0" and "0.0" alike
    if as_numbers(again) != as_numbers(before):
        diff = [(a, b[2]) for a, b in zip(as_numbers(before), as_numbers(again)) if a != b][:6]
        problems.append(f"fragment: controls differ after reloading {fragment}: (control, kind, before), after: {diff}")
    if again["trained"] != STEPS or again["hash"] != fragment:
        problems.append(f"fragment: trained() {again['trained']}, hash {again['hash']!r} after reloading {fragment!r}")
    driver.find_element("id", "reset").click()
    reset = read(browser)
    if reset["hash"] or "#" in reset["href"]:
        problems.append(f"reset: the fragment is {reset['hash']!r} ({reset['href']})")
    if reset["float"]:
        problems.append("reset: body.float64 still set")
    problems += [f"reset: iteration {t} reads {text!r}" for t, text in reset["iterations"] if text != t]
    if [(q, text) for q, _, text, *_ in reset["q"]] != case.texts:
        problems.append("reset: the exact texts are not restored")
    if dict(reset["values"]) != first_values:
        problems.append("reset: values() differ from the page's first load")
    if {name: float(v) for name, kind, v, _ in reset["controls"] if kind == "number"} != {k: float(v) for k, v in own.items()}:
        problems.append("reset: the controls are not at the file's values")

    # typing one target of a probability vector rescales the example's others to share 1 - y
    if probability_targets(m):
        typed = f"y:{m.outputs[0]}[1]"
        before_typing = {name: float(v) for name, kind, v, _ in reset["controls"] if kind == "number"}
        state = read(browser, {typed: "0.3"})
        now = {name: float(v) for name, kind, v, _ in state["controls"] if kind == "number"}
        vector = [now[f"y:{o}[1]"] for o in m.outputs]
        others = [before_typing[f"y:{o}[1]"] for o in m.outputs[1:]]
        want = [0.3] + [v * 0.7 / sum(others) for v in others]
        if now[typed] != 0.3 or abs(sum(vector) - 1) > 1e-15 or max(abs(a - b) for a, b in zip(vector, want)) > 1e-15:
            problems.append(f"typing {typed} = 0.3: the example's targets are {vector}, expected {want}")
        typed_ref, typed_scale = _ref_scales(case, names, state, 0)
        problems += compare_float(page_values(state), typed_ref, worst_float, "typed target", typed_scale)[0]

    # 5. the console
    errors = browser.console_errors()
    problems += [f"console: {e.get('message')}" for e in errors]

    elapsed = time.perf_counter() - started
    uncompared = counts["uncompared elements"]
    summary = (f"{case.name}: worst error against the exact trace {worst_exact} over {worst_exact.count} values; "
               f"against float64 {worst_float} over {worst_float.count} values ({len(worst_float.cancellations)} "
               f"names cancel in the page's formula: {sorted(worst_float.cancellations)[:4]}); training {STEPS} steps: "
               f"parameters within {training_err:.3g}, E@t within {worst_losses.err:.3g}; {counts['elements']} elements read, "
               f"{len(uncompared)} names uncompared {sorted(uncompared)[:10]}; values() uncompared "
               f"{sorted(counts['uncompared values'])[:10]}; {redrawn} settings redrawn; {elapsed:.1f}s")
    print(summary)
    assert not uncompared, summary + f"; schedule names without a kind here: {names.unknown}"
    assert not counts["uncompared values"], summary
    assert not problems, summary + "\n" + "\n".join(problems[:40])
    assert worst_exact.err <= TOLERANCE and worst_float.err <= TOLERANCE and training_err <= TOLERANCE, summary
