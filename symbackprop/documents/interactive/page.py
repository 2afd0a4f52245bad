"""The interactive page: the HTML document with every number marked by its quantity (printers/html.py, ``tagged``),
a control for every input, target, starting parameter and the learning rate, and the engine (engine.py) that
recomputes every number in float64 in the browser. One self-contained file: no server, network or CDN.

Names and titles from the file reach the page only as escaped text and JSON strings; the generated programs
name nothing from the file (script.py).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from html import escape

import sympy as sp

from ...core.derivation import Derivation
from ...core.trace import Trace
from ..builder.walkthrough import build
from ..formulas.mathml import mathml
from ..plots import MAX_POINTS
from ..printers.html import render
from ..training import shown_iterations
from .engine import model_data, programs, script_json, source

STYLE = """
[hidden] { display: none !important; }
[id], summary { scroll-margin-top: 9rem; }  /* a link's target is not left under the sticky bar */
#explore { border: 1px solid #bbc; border-radius: 6px; padding: 0.6rem 0.8rem; margin: 1rem 0; background: #f8f8fc; }
#bar { position: sticky; top: 0; z-index: 1; background: #fff; border-bottom: 1px solid #ccd; padding: 0.3rem 0; }
#bar p { margin: 0.15rem 0; font-size: 0.9rem; }
#bar .buttons { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; }
#bar button, #bar input, #explore input { font: inherit; font-size: 0.95rem; }
#steps { width: 5em; }
#explore details { border: none; padding: 0.2rem 0; }
#explore summary { font-size: 1rem; }
.control { display: grid; grid-template-columns: minmax(0, 9rem) minmax(0, 1fr) 8rem; gap: 0.5rem; align-items: center; margin: 0.2rem 0; }
.control label { overflow-wrap: anywhere; }
.control input[type=range] { width: 100%; min-width: 0; }
.control input[type=number] { width: 100%; box-sizing: border-box; }
#mode { font-weight: 600; }
body.float64 .exact { display: none; }
svg.plot { width: 100%; height: auto; max-width: 40rem; }
@media (max-width: 30rem) {
  .control { grid-template-columns: minmax(0, 1fr) 7rem; }
  .control input[type=range] { grid-column: 1 / -1; grid-row: 2; }
}
@media print { #explore, #bar { display: none; } }
"""


def _one(index: int, name: str, label: str, value: sp.Expr, low: float, high: float) -> str:
    """A slider and a number field for one quantity; the field holds the value (the slider snaps to its steps)."""
    v = repr(float(value))
    ident = f"control-{index}"
    attrs = f'data-control="{escape(name)}" data-default="{v}"'
    return (f'<div class="control"><label for="{escape(ident)}">{label}</label>'
            f'<input type="range" {attrs} min="{low!r}" max="{high!r}" step="{(high - low) / 200!r}" value="{v}"'
            f' aria-label="{escape(name)} (slider)">'
            f'<input type="number" id="{escape(ident)}" {attrs} step="any" value="{v}"></div>')


def _range(value: sp.Expr, unit: bool = False) -> tuple[float, float]:
    """A slider's range around the file's value: ±max(1, |v|), or [0, 1] for a probability."""
    if unit:
        return 0.0, 1.0
    v = float(value)
    span = max(1.0, abs(v))
    return v - span, v + span


def _symbol(symbol: sp.Symbol) -> str:
    return f"<math>{mathml(symbol)}</math>"


def controls(d: Derivation) -> str:
    """The panel: the status, reset and training, then the learning rate, each example's inputs and targets,
    and each parameter's starting value."""
    m = d.model
    counter = itertools.count()

    def _control(*args) -> str:
        return _one(next(counter), *args)

    unit = m.loss in ("bce", "cross_entropy", "nll")
    lr = float(m.learning_rate)
    out = ['<div id="bar"><p id="mode" role="status"></p><p id="trained"></p>',
           '<div class="buttons"><button type="button" id="reset">Reset</button>'
           '<button type="button" id="train-one">Train one step</button>'
           '<label>Train <input id="steps" type="number" min="1" max="100000" step="1" value="5"> steps</label>'
           '<button type="button" id="train-many">Train</button></div></div>',
           '<section id="explore" aria-label="Change the setting">',
           "<details open><summary>Learning rate</summary>",
           _control("lr", f"{_symbol(sp.Symbol('eta'))} learning rate", m.learning_rate, min(0.0, 4 * lr), max(0.0, 4 * lr)),
           "</details>"]
    for k, ex in enumerate(m.examples, 1):
        out.append(f"<details open><summary>Example {k}: inputs and targets</summary>")
        out += [_control(f"x:{x}[{k}]", _symbol(d.symbols[x]), v, *_range(v)) for x, v in ex.inputs.items()]
        out += [_control(f"y:{o}[{k}]", _symbol(d.targets[o]), v, *_range(v, unit)) for o, v in ex.targets.items()]
        out.append("</details>")
    few = len(m.parameters) <= 12
    out.append(f"<details{' open' if few else ''}><summary>Starting values of the parameters ({len(m.parameters)})</summary>")
    out += [_control(f"{p}@1", _symbol(d.symbols[p]), v, *_range(v)) for p, v in m.parameters.items()]
    out += ["</details>", "</section>"]
    return "\n".join(out)


def _plots_data(d: Derivation, doc) -> dict:
    """What page.js needs to draw the plots again: each activation's curve and neurons, the parameter of the loss plot."""
    out = {"activations": [], "weight": None, "weightLabel": ""}
    for plot in doc.plots:
        if plot.name.startswith("activation_"):
            name = plot.name[len("activation_"):]
            users = [n.name for n in d.order if n.activation == name][:MAX_POINTS]
            _, xs, ys = plot.curves[0]
            out["activations"].append({"plot": plot.name, "title": plot.title, "xs": list(xs), "ys": list(ys),
                                       "neurons": [[n, f"z_{n}"] for n in users]})
        elif plot.name.startswith("loss_vs_"):
            out["weight"] = out["weightLabel"] = plot.name[len("loss_vs_"):]
    return out


CAPTIONS = {  # the plots as the page redraws them: no number in a caption, each is marked in the plot itself
    "loss": "The loss E at every iteration from 1 (a long run drawn at up to 1,000 points); the point of the iteration "
            "shown is marked with its value.",
    "loss_vs_": "The loss E as the parameter on the horizontal axis varies, every other parameter at its value at the "
                "iteration shown; the dashed tangent at the marked value has the slope the backward pass computes there.",
    "activation_": "The activation a = f(z), with the operating point (z, a) of each neuron that uses it (the first "
                   f"{MAX_POINTS}), at the iteration shown for example 1; each point is marked with its z.",
}
NETWORK = ("The network with the numbers of example 1 at the iteration shown: inputs, weights on the edges, each "
           "neuron's weighted sum z and activation a, and the loss E.")


def _live(doc):
    """The walkthrough with captions that hold no number (page.js redraws the plots and their marks)."""
    def caption(name: str) -> str:
        return next(c for k, c in CAPTIONS.items() if name == k or (k.endswith("_") and name.startswith(k)))

    plots = tuple(replace(p, caption=caption(p.name)) for p in doc.plots)
    sections = tuple(replace(s, network=replace(s.network, caption=NETWORK)) if s.network else s for s in doc.sections)
    return replace(doc, plots=plots, sections=sections)


def page(d: Derivation, trace: Trace, only=None, show: str | None = None, inputs: bool = False) -> str:
    """The interactive page of a derivation and its exact trace (which gives the numbers shown before any control moves)."""
    doc = _live(build(d, trace, only, plots=True, show=show, inputs=inputs, live=True))
    shown = (*shown_iterations(show, trace.iterations), trace.iterations + 1)
    data = model_data(d, shown)
    tail = "\n".join([
        f'<script type="application/json" id="symbackprop-model">{script_json(data)}</script>',
        f'<script type="application/json" id="symbackprop-plots">{script_json(_plots_data(d, doc))}</script>',
        f"<script>\n{programs(d)}{source('engine.js')}{source('page.js')}</script>"])
    return render(doc, tagged=True, style=STYLE, top=controls(d), tail=tail)
