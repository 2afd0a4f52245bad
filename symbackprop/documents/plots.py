"""The numbers behind the plots, computed here so that printers only draw them.

Floats are fine for the curves: a plot is a picture of the exact values, which the walkthrough states.
The labels are set from the exact trace values, as matplotlib mathtext from the notation layer
(``$w_{a1}$``, ``$\\partial E/\\partial w_{a1}$``), numbers as core.decimals writes them; titles are
plain words (the drawing's own text, for any reader), captions are the sentences printers put under
the numbered figure: prose, so they name no subscripted symbol (the drawing typesets those).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from ..core import notation
from ..core.decimals import decimal
from ..core.derivation import Derivation
from ..core.trace import Key, Trace
from .nodes import Plot

SAMPLES = 201
MAX_POINTS = 8  # operating points marked per activation plot
MAX_LOSS_LABELS = 8  # values written on the loss curve; past that, every k-th iteration's (all are drawn)
EXACT_DIGITS = 5  # a figure's number that terminates within this many significant digits is shown exactly ...
ROUNDED_DIGITS = 4  # ... any other to this many, after ≈
# activations as texts write them: (in prose, as mathtext)
ACTIVATION_NAMES = {"relu": ("ReLU", r"\mathrm{ReLU}"), "leaky_relu": ("leaky ReLU", r"\mathrm{LeakyReLU}"),
                    "sigmoid": ("sigmoid", r"\sigma"), "tanh": ("tanh", r"\tanh"), "identity": ("identity", r"\mathrm{id}"),
                    "softplus": ("softplus", r"\mathrm{softplus}")}


def _float(value: sp.Expr) -> float:
    return float(sp.N(value, 17))


def figure_number(value: sp.Expr) -> tuple[str, str]:
    """(relation, decimal) as a figure writes a value: ``=`` and the exact decimal when it terminates within
    EXACT_DIGITS significant digits, else ``≈`` and ROUNDED_DIGITS of them (both by core.decimals.decimal)."""
    value = sp.sympify(value)
    text = decimal(value)
    if value.is_Rational and "e" not in text and _significant(text) <= EXACT_DIGITS and sp.Rational(text) == value:
        return "=", text
    rounded = decimal(sp.Float(value.evalf(30), 30), ROUNDED_DIGITS)
    if value.is_Rational and "e" not in rounded and sp.Rational(rounded) == value:
        return "=", rounded
    return "≈", rounded


def _significant(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) or 1


def math(name: str) -> str:
    """A derivation name as mathtext: ``w_a1`` -> ``w_{a1}`` (between $ signs where a label is all math)."""
    return notation.latex(notation.of(name))


def math_number(text: str) -> str:
    """A decimal as mathtext: ``1.5e-05`` as ``1.5 \\cdot 10^{-5}`` (mathtext sets - as a minus sign)."""
    mantissa, _, exponent = text.partition("e")
    return mantissa + (rf" \cdot 10^{{{int(exponent)}}}" if exponent else "")


def math_value(value: sp.Expr, name: str | None = None) -> str:
    """``$w_{a1} = 0.1$``, ``$\\approx 0.01921$`` (no name): a label with a value from the trace."""
    relation, text = figure_number(value)
    rel = r"\approx" if relation == "≈" else "="
    head = f"{math(name)} {rel} " if name else (r"\approx " if relation == "≈" else "")
    return f"${head}{math_number(text)}$"


def prose_value(value: sp.Expr) -> str:
    """``0.1`` or ``≈ 0.01921``: a value in a caption."""
    relation, text = figure_number(value)
    return text if relation == "=" else f"≈ {text}"


def loss_curve(d: Derivation, trace: Trace) -> Plot:
    ts = tuple(range(1, trace.iterations + 2))
    exact = [trace.values[Key("E", None, t)] for t in ts]
    es = tuple(_float(e) for e in exact)
    last = ts[-1]
    over = " over the batch" if len(d.model.examples) > 1 else ""
    every = -(-(len(ts) - 1) // (MAX_LOSS_LABELS - 1)) if len(ts) > MAX_LOSS_LABELS else 1
    marked = {t for t in ts if (t - 1) % every == 0} | {last}
    which = ("each point is marked with its value" if every == 1 else
             f"the first, every {_ordinal(every)} and the last point are marked with their values")
    caption = (f"The loss E{over} at iteration" + (f"s 1 to {last}, the last with the trained parameters" if last > 1 else " 1")
               + f"; {which} from the trace (after ≈ where rounded).")
    return Plot("loss", "Loss over the iterations", "iteration", "$E$", (("$E$", tuple(float(t) for t in ts), es),),
                tuple((math_value(e) if t in marked else "", float(t), f) for t, e, f in zip(ts, exact, es)), caption)


def _ordinal(n: int) -> str:
    words = "second third fourth fifth sixth seventh eighth ninth tenth".split()
    return words[n - 2] if 2 <= n <= 10 else f"{n}th"


def activation_curves(d: Derivation, trace: Trace) -> list[Plot]:
    """One plot per activation of one z (a softmax reads its whole layer: it has no curve a = f(z))."""
    plots = []
    for name in dict.fromkeys(n.activation for n in d.order if n.name not in d.coupled):
        users = [n.name for n in d.order if n.activation == name]
        neurons = users[:MAX_POINTS]
        exact = [trace.values[Key(f"z_{n}", 1, 1)] for n in neurons]
        zs = [_float(z) for z in exact]
        lo, hi = min([-3.0, *zs]) - 0.5, max([3.0, *zs]) + 0.5
        grid = np.linspace(lo, hi, SAMPLES)
        ys = d.activation[neurons[0]].numpy(grid)
        points = tuple((math_value(e, f"z_{n}"), z, float(d.activation[n].numpy(np.array([z]))[0]))
                       for n, e, z in zip(neurons, exact, zs))
        words, symbol = ACTIVATION_NAMES.get(name, (name, rf"\mathrm{{{name.replace('_', ' ')}}}"))
        some = (f"the first {len(neurons)} of the {len(users)} neurons that use it" if len(users) > len(neurons)
                else "each neuron that uses it")
        caption = (f"The {words} activation a = f(z), with the operating point (z, a) of {some}, at iteration 1 "
                   "for example 1; each point is marked with its z.")
        plots.append(Plot(f"activation_{name}", f"The {words} activation at each neuron's operating point",
                          "$z$", f"$a = {symbol}(z)$",
                          ((f"${symbol}(z)$", tuple(grid.tolist()), tuple(np.asarray(ys, float).tolist())),), points, caption))
    return plots


def loss_vs_weight(d: Derivation, trace: Trace, p: str) -> Plot:
    """E over the batch as a function of p, the others at their initial values; the tangent has slope dE/dp."""
    m = d.model
    w0 = _float(m.parameters[p])
    grid = np.linspace(w0 - 1.0, w0 + 1.0, SAMPLES)
    losses = []
    for ex in m.examples:
        env = {d.symbols[q]: np.full_like(grid, _float(v)) for q, v in m.parameters.items()}
        env[d.symbols[p]] = grid
        env.update({d.symbols[c]: _float(v) for c, v in m.constants.items()})
        env.update({d.symbols[x]: _float(v) for x, v in ex.inputs.items()})
        for n in d.order:
            z = sum(env[d.symbols[w]] * env[d.a[s] if s in d.a else d.symbols[s]]
                    for s, w in zip(n.inputs, n.weights))
            if n.bias:
                z = z + env[d.symbols[n.bias]]
            env[d.z[n.name]] = z
            env[d.a[n.name]] = d.activation[n.name].numpy(np.asarray(z, float))
        outputs = np.stack([env[d.a[o]] for o in m.outputs], axis=1)
        targets = np.array([[_float(ex.targets[o]) for o in m.outputs]])
        losses.append(d.loss_function.numpy(targets, outputs))
    es = np.mean(losses, axis=0) if m.batch_mean else np.sum(losses, axis=0)
    e0 = trace.values[Key("E", None, 1)]
    key = Key(f"dE/d{p}", None, 1)
    exact_slope = trace.values[key] if key in trace.values else sp.Integer(0)
    slope = _float(exact_slope)
    near = np.linspace(w0 - 0.4, w0 + 0.4, 3)
    over = " over the batch" if len(m.examples) > 1 else ""
    caption = (f"The loss E{over} as the parameter on the horizontal axis varies, every other parameter at its initial "
               f"value; the dashed tangent at the marked initial value has the slope {prose_value(exact_slope)}, "
               "the derivative the backward pass computes at iteration 1.")
    relation, text = figure_number(exact_slope)
    rel = r"\approx" if relation == "≈" else "="
    tangent = rf"tangent, slope $\partial E/\partial {math(p)} {rel} {math_number(text)}$"
    return Plot(f"loss_vs_{p}", "The loss as one parameter varies, with its tangent", f"${math(p)}$", "$E$",
                ((f"$E({math(p)})$", tuple(grid.tolist()), tuple(es.tolist())),
                 (tangent, tuple(near.tolist()),
                  tuple((_float(e0) + slope * (near - w0)).tolist()))),
                ((math_value(m.parameters[p], p), w0, _float(e0)),), caption)


def plots(d: Derivation, trace: Trace, shown: Sequence[str]) -> tuple[Plot, ...]:
    chosen = shown[0] if shown else next(iter(d.model.parameters))
    return (loss_curve(d, trace), *activation_curves(d, trace), loss_vs_weight(d, trace, chosen))
