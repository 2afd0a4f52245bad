"""The page's engine: the derivation's schedule as JavaScript functions (script.py) and the model's facts as
JSON, for engine.js to run the trace in float64 in the browser.

Everything from the file reaches the page as JSON data (names as strings, numbers as floats), never as code:
the programs name only ``i0, v0, Math.exp``; JSON is escaped for a <script> element (no ``</script>`` inside).
"""

from __future__ import annotations

import json
from importlib.resources import files

from ...core.derivation import Derivation
from ...core.schedule import backward, forward, update
from .script import function


def model_data(d: Derivation, shown: tuple[int, ...]) -> dict:
    """What engine.js needs besides the programs: names in the programs' argument order, the file's values as
    float64, the schedule's indices, the update rule's quantities and the document's iterations."""
    m = d.model
    ahead = forward(d)
    steps = ahead + backward(d)
    rule = m.rule
    trained = set(m.trained_parameters)
    return {
        "parameters": list(m.parameters), "trained": [p in trained for p in m.parameters],
        "start": [float(m.parameters[p]) for p in m.parameters],
        "constants": [[c, float(v)] for c, v in m.constants.items()], "constantValues": [float(v) for v in m.constants.values()],
        "inputs": list(m.inputs), "outputs": list(m.outputs),
        "examples": [{"x": [float(e.inputs[x]) for x in m.inputs], "y": [float(e.targets[o]) for o in m.outputs]} for e in m.examples],
        "lr": float(m.learning_rate), "sign": m.update_sign, "batchMean": m.batch_mean, "iterations": m.iterations,
        "scheduler": None if m.scheduler is None else {"name": m.scheduler.name, "options": _plain(m.scheduler.options)},
        "steps": [s.name for s in steps], "forwardCount": len(ahead), "lossIndex": len(ahead) - 1,
        "gradientIndex": [next(i for i, s in enumerate(steps) if s.gradient_of == p) for p in m.parameters],
        "update": {"states": list(rule.states()), "initial": {k: float(v) for k, v in rule.initial().items()},
                   "headsFirst": [a.name for a in update(rule, True)[1]], "heads": [a.name for a in update(rule, False)[1]]},
        "shown": list(shown),
        # softmax with cross-entropy: the error term a - y holds where each example's targets sum to 1 (page.js keeps them so)
        "probabilities": bool(d.simplified and d.loss_function.targets == "probabilities"),
    }


def _plain(options: dict) -> dict:
    return {k: [float(x) for x in v] if isinstance(v, (list, tuple)) else v if isinstance(v, (bool, int)) else float(v)
            for k, v in options.items()}


def programs(d: Derivation) -> str:
    """The four functions engine.js calls: ``full`` and ``forward`` (one example), ``updateFirst`` and ``update`` (one parameter)."""
    m = d.model
    arguments = [d.symbols[p] for p in m.parameters] + [d.symbols[c] for c in m.constants] + \
                [d.symbols[x] for x in m.inputs] + [d.targets[o] for o in m.outputs]
    ahead = forward(d)
    out = [function("full", arguments, ahead + backward(d)), function("forward", arguments, ahead)]
    for name, first in (("updateFirst", True), ("update", False)):
        out.append(function(name, *update(m.rule, first)))
    return "\n".join(out) + "\nconst P = { full, forward, updateFirst, update };\n"


def script_json(data) -> str:
    """JSON safe inside <script>: no ``<``, ``>`` or ``&`` left to end the element or open a comment."""
    text = json.dumps(data, ensure_ascii=True, sort_keys=True, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def source(name: str) -> str:
    """One of this folder's JavaScript files."""
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
