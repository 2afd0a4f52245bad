"""The bounds every input is held to, each with the cost that drives it (docs/format.md "Limits").

A file past a bound is refused up front, in one line naming the key or line and the bound, before
any work that could run long: the text is scanned (without recursion) before the TOML reader
walks it, numbers are measured before they become exact Rationals, and a network's size and
training length are priced before the derivation or the trace starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from . import function_table
from .errors import InputError

SECONDS_PER_VALUE = 30e-6  # one traced value, measured on the bundled files (about 18-37 microseconds)
# a trace stays exact for a few iterations (its Rationals pass 1,024 bits, or its closed forms grow: measured 1-4 on
# dense nets), then a long run (long_run.py) computes each value at two precisions in about 1-2 microseconds
EXACT_ITERATIONS = 6  # of Rationals; a closed form's (sigmoid, tanh, softplus) are handed over after the first 2
EXACT_CLOSED_FORM_ITERATIONS = 2
LONG_RUN_VALUES_PER_UNIT = 15
SCREENED_VALUES_PER_UNIT = 150  # a float64 pass of the generated code, for the diagnosis's screening
# the identity check of a parameter with P paths to E takes about this many seconds per P**1.5 (sympy.diff
# then expand; measured 0.22 s for dense 2-3-2 (33), 20 s for 4-8-8-1 (986), 198 s for 4-6-6-6-1 (7,146))
SECONDS_PER_PATH_POWER = 0.028
# check's finite differences: FD_EVALUATIONS loss evaluations of the NumPy reference per parameter (2 per case: the
# file's examples and 3 random batches). One evaluation of a graph costs about FD_GRAPH_SECONDS per neuron and edge
# (1 -> 250/500/1,000 ReLU -> 1 with a bias input: 14, 56, 284 s); of a layered net, which the reference runs as
# matrices, FD_LAYER_SECONDS per layer and FD_MATRIX_SECONDS per neuron and edge (a chain of 400: 24 s; 1-999-1:
# 4.2 s; 1-1999-1: 20 s; 100-199-1: 300 s). Measured on this 2-core machine under load; the model is within 2x.
FD_EVALUATIONS = 8
FD_GRAPH_SECONDS = 2.5e-6
FD_LAYER_SECONDS = 9e-6
FD_MATRIX_SECONDS = 0.07e-6
# SymPy's printers recurse through the composed error function, about this many Python frames per neuron on
# the path: a document of a chain of 140 sigmoid neurons is written (17 s), one of 150 ends in RecursionError
FRAMES_PER_LEVEL = 6.5


@dataclass(frozen=True)
class Limit:
    value: int
    unit: str
    why: str


LIMITS: dict[str, Limit] = {
    "nesting": Limit(32, "levels of [ ] and { }",
                     "the TOML reader recurses once per level; a derivation file needs 3"),
    "digits": Limit(100, "significant digits in a number",
                    "exact arithmetic grows with the digits of every value; 100 is beyond any text"),
    "exponent": Limit(300, "as a decimal exponent (1e-300 to 1e300)",
                      "compiled code, checks and runs use float64, whose range ends near 1e308"),
    "text": Limit(10_000, "characters in a title, source, note or quote",
                  "text is printed as it is into every document line and report; a page holds about 3,000"),
    "name": Limit(64, "characters in a name", "names reach every document line and generated identifier"),
    "neurons": Limit(1000, "neurons", "the derivation holds one symbolic expression per neuron and edge"),
    "depth": Limit(100, "neurons on the longest path",
                   "the composed error function nests once per layer of the path, and SymPy's printers recurse "
                   f"through it, about {FRAMES_PER_LEVEL} Python frames a layer: a document of a 150-neuron path "
                   "exhausts Python's 1,000-frame stack"),
    "edges": Limit(200_000, "weights (edges)",
                   "the derivation holds a symbol per edge and a compiled module a line per parameter (dense "
                   "784-128-64-10, 109,386, derives and compiles in about 4 s); its chains, sums and documents are "
                   "built on demand, under their own bounds"),
    "examples": Limit(10_000, "examples", "every example is traced quantity by quantity"),
    "readings": Limit(16, "readings in a file",
                      "each reading is a trace of its own, and every claim is checked under each and, where it fails, "
                      "against every other: 1,000 claims under 16 readings, none holding, take about 20 s and a 21 MB "
                      "report"),
    "claims": Limit(1000, "claims in a file",
                    "each claim is checked under every reading and a failing one against every alternative "
                    "convention: 1,000 failing claims of seed003_chain take about 1.5 s and a 0.9 MB report"),
    "file_bytes": Limit(16 * 2**20, "bytes in an input file",
                        "a file is read whole, then scanned and parsed: 10,000 examples of 100 inputs (16 bytes a "
                        "value) are 15.6 MiB and take about 7 s; a larger file holds more than any other bound allows"),
    "document_neurons": Limit(400, "neurons in a document",
                              "each neuron is a section of chains and passes: 400 take about 6 s and 1 MB of Markdown, "
                              "1,000 take 2 minutes"),
    "document_parameters": Limit(2000, "parameters in a document",
                                 "each parameter's chain is a paragraph: 1,508 (dense 8-32-32-4) take 5 s and 8 MB of "
                                 "Markdown, 17,000 took 200 s and 110 MB"),
    "document_examples": Limit(50, "examples in a document",
                               "each example is a page of forward and backward passes"),
    "workers": Limit(64, "data-parallel workers", "a real run starts one process per worker"),
    "steps": Limit(100_000, "steps of a real run",
                   "every step is checked against the compiled averaged update and kept in memory"),
    "identity": Limit(2_000, "path units (the sum over checked parameters of paths**1.5)",
                      "--check-identity differentiates the flattened loss, which repeats every path from a parameter "
                      f"to E, then expands the difference: about {SECONDS_PER_PATH_POWER} s a unit, so about a minute"),
    "fd": Limit(60, "seconds of check's finite differences (estimated)",
                f"they evaluate the loss {FD_EVALUATIONS} times per parameter, each through the whole network, so "
                "their cost grows as parameters x size (1 -> 1,000 ReLU -> 1 with a bias input: 284 s); the NumPy "
                "reference and PyTorch check every gradient in one pass"),
    "work": Limit(1_000_000, "units of trace work (an exact value is 1, a closed form's 30, a long run's 1/15)",
                  "the trace evaluates every quantity of every example at every iteration: exactly for the first "
                  f"iterations, about {SECONDS_PER_VALUE * 1e6:.0f} microseconds each (a sigmoid, tanh or softplus value "
                  "about 1 ms), then in a long run at about 2 microseconds"),
}


def limit(name: str) -> int:
    return LIMITS[name].value


# strings and comments first, so brackets and digits inside them are not counted
_TOKEN = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*'
                    r"|[\[\]{}]|\d[\d_]*", re.S)


def scan(text: str) -> None:
    """Refuse text nested deeper, or holding a bare number longer, than the reader may take."""
    depth, deepest = 0, limit("nesting")
    most_digits = limit("digits") + 40  # a bare number's digits; the exact check follows on its value
    for m in _TOKEN.finditer(text):
        token = m[0]
        if token in "[{":
            depth += 1
            if depth > deepest:
                raise InputError(f"nesting deeper than {deepest} levels of [ ] and {{ }}; "
                                 f"a derivation file needs 3", key=f"line {_line(text, m.start())}")
        elif token in "]}":
            depth = max(depth - 1, 0)
        elif token[0].isdigit() and len(token) > most_digits:
            raise InputError(f"a number of {len(token.replace('_', ''))} digits; expected at most "
                             f"{limit('digits')} significant digits", key=f"line {_line(text, m.start())}")


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def check_decimal(value: Decimal, key: str) -> Decimal:
    """A finite decimal within the digits and exponent bounds (cheap: no big integers are made)."""
    if not value.is_finite():
        raise InputError(f"expected a finite number, got {value}", key=key)
    if value.is_zero():
        return value
    digits = len(value.as_tuple().digits)
    if digits > limit("digits"):
        raise InputError(f"a number of {digits} significant digits; expected at most {limit('digits')}", key=key)
    exponent, bound = value.adjusted(), limit("exponent")
    if not -bound <= exponent < bound:
        raise InputError(f"{_short(value)} is beyond the range read exactly; expected a magnitude between "
                         f"1e-{bound} and 1e{bound}", key=key)
    return value


def check_integer(value: int, key: str) -> int:
    bound = limit("exponent")
    if abs(value) >= 10**bound:
        raise InputError(f"an integer of more than {bound} digits; expected a magnitude below 1e{bound}", key=key)
    return value


def _short(value: Decimal) -> str:
    text = f"{value:e}" if len(str(value)) > 30 else str(value)
    return text if len(text) <= 30 else text[:12] + "..." + text[-12:]


def check_size(model, order) -> None:
    """The network's size and data, priced before any derivation starts (``order``: topological)."""
    depth: dict[str, int] = {}
    for n in order:
        depth[n.name] = 1 + max((depth[s] for s in n.inputs if s in depth), default=0)
    edges = sum(len(n.inputs) + (n.bias is not None) for n in order)
    sizes = (("neurons", len(order), "network.neurons"), ("edges", edges, "network.neurons"),
             ("depth", max(depth.values(), default=0), "network.neurons"),
             ("examples", len(model.examples), "examples"))
    for name, size, key in sizes:
        bound = LIMITS[name]
        if size > bound.value:
            raise InputError(f"{size:,} {bound.unit}; symbackprop takes at most {bound.value:,} ({bound.why}): "
                             f"{_size_cost(model, name, size)}", key=key)


def _size_cost(model, name: str, size: int) -> str:
    """What a network past a size bound would cost, from the cost models of the trace, check's finite
    differences and the printers' stack (the file's structure is not validated yet: only counted)."""
    iterations = model.iterations if isinstance(model.iterations, int) and not isinstance(model.iterations, bool) else 1
    iterations = max(iterations, 0)
    values, weight = traced_values(model, iterations), _trace_weight(model)
    passes = "1 pass" if iterations == 0 else f"{iterations + 1:,} passes"
    examples = f"{_count(len(model.examples), 'example')} x {passes}"
    kind = f" of closed forms, each about {weight} times a piecewise-linear one" if weight > 1 else ""
    seconds = trace_units(model, iterations) * SECONDS_PER_VALUE
    trace_cost = f"its trace ({examples}: {values:,} traced values{kind}) {_about(seconds)}"
    if name == "examples":
        return trace_cost
    fd = f"check's finite differences {_about(fd_seconds(model))}"
    if name == "depth":
        frames = round(size * FRAMES_PER_LEVEL)
        return (f"a document's formulas would nest {size:,} deep, about {frames:,} of Python's 1,000 frames, {fd}, "
                f"{trace_cost}")
    return f"{fd}, {trace_cost}"


def _trace_weight(model) -> int:
    known = [function_table.ACTIVATIONS[n.activation] for n in model.neurons if n.activation in function_table.ACTIVATIONS]
    return max((a.trace_weight for a in known), default=1)


def fd_seconds(model) -> float:
    """check's finite differences, estimated: FD_EVALUATIONS losses per parameter, each through every neuron
    and edge (a graph) or every layer (a layered net, run as matrices)."""
    parameters = len({p for n in model.neurons for p in model.parameters_of(n)})
    units = sum(1 + len(n.inputs) + (n.bias is not None) for n in model.neurons)
    layers = _matrix_layers(model)
    if layers:
        evaluation = layers * FD_LAYER_SECONDS + units * FD_MATRIX_SECONDS
    else:
        evaluation = units * FD_GRAPH_SECONDS
    return FD_EVALUATIONS * parameters * evaluation


def check_fd(model, key: str = "against") -> None:
    """check's finite differences, priced before they start."""
    seconds, bound = fd_seconds(model), LIMITS["fd"]
    if seconds > bound.value:
        parameters = len({p for n in model.neurons for p in model.parameters_of(n)})
        raise InputError(f"finite differences of {_count(parameters, 'parameter')} take about {_duration(seconds)}; "
                         f"check takes at most {bound.value} s of them ({bound.why}): check against numpy or torch",
                         key=key)


def _matrix_layers(model) -> int:
    """The layers, when the NumPy reference runs the net as matrices (layered, nothing shared, one activation
    and one bias rule per layer: a loss is a few array operations per layer); else 0."""
    layers = model.layers()
    params = [p for n in model.neurons for p in model.parameters_of(n)]
    if not layers or model.constants or len(params) != len(set(params)):
        return 0
    by_name = {n.name: n for n in model.neurons}  # once: model.neuron builds its index on every call
    uniform = all(len({(by_name[name].activation, by_name[name].bias is None) for name in layer}) == 1 for layer in layers)
    return len(layers) if uniform else 0


def traced_values(model, iterations: int) -> int:
    """About how many values a trace of ``iterations`` iterations evaluates (limits' "work")."""
    per_example = sum(5 + len(n.inputs) + 2 * len(model.parameters_of(n)) for n in model.neurons)
    coupled = [n for n in model.neurons if getattr(function_table.ACTIVATIONS.get(n.activation), "coupled", False)]
    per_example += len(coupled) * max(len(coupled) - 1, 0)  # a softmax layer's Jacobian entries
    optimizer = getattr(model, "optimizer", None)
    per_parameter = 3 + (len(optimizer.quantities()) if optimizer is not None else 0)  # m, v, m_hat, v_hat...
    return (iterations + 1) * (len(model.examples) * per_example + per_parameter * len(model.parameters))


def _exact_iterations(weight: int) -> int:
    return EXACT_CLOSED_FORM_ITERATIONS if weight > 1 else EXACT_ITERATIONS


def trace_units(model, iterations: int) -> int:
    """The trace's work in units of one exact value: its first iterations exact (EXACT_ITERATIONS of
    Rationals, or EXACT_CLOSED_FORM_ITERATIONS of closed forms, whose values weigh ``trace_weight``),
    the rest in a long run."""
    per_iteration, weight = traced_values(model, 0), _trace_weight(model)
    exact = min(iterations + 1, _exact_iterations(weight))
    return per_iteration * exact * weight + -(-per_iteration * (iterations + 1 - exact) // LONG_RUN_VALUES_PER_UNIT)


def screening_units(model, iterations: int) -> int:
    """A float64 pass of the same generated code (the diagnosis's screening): about 0.2 microseconds a value."""
    return -(-traced_values(model, iterations) // SCREENED_VALUES_PER_UNIT)


def check_work(model, iterations: int, key: str) -> None:
    """The trace's cost, estimated from the network's size and activations before it starts: a
    value of a closed form (sigmoid, tanh, softplus) costs ``trace_weight`` piecewise-linear ones
    while exact; a long run's value a fifteenth of one."""
    weight = _trace_weight(model)
    values, units, bound = traced_values(model, iterations), trace_units(model, iterations), limit("work")
    if units > bound:
        kind = f" of closed forms (each about {weight} times a piecewise-linear one while exact)" if weight > 1 else ""
        per_iteration, exact = traced_values(model, 0), _exact_iterations(weight)
        exact_units = per_iteration * exact * weight
        most = (exact + (bound - exact_units) * LONG_RUN_VALUES_PER_UNIT // per_iteration - 1
                if bound > exact_units else bound // (per_iteration * weight) - 1)
        raise InputError(f"{iterations:,} iterations of {_count(len(model.examples), 'example')} are {values:,} traced values"
                         f"{kind}, about {_duration(units * SECONDS_PER_VALUE)}; the trace takes at most {bound:,} "
                         f"units (about {_duration(bound * SECONDS_PER_VALUE)}): "
                         f"at most {max(most, 0):,} iterations here",
                         key=key)


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}" + ("" if n == 1 else "s")


def _about(seconds: float) -> str:
    return "under 1 s" if seconds < 1 else f"about {_duration(seconds)}"


def _duration(seconds: float) -> str:
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:.0f} s"


def check_identity(path_counts: dict[str, int]) -> None:
    """The identity check's cost, from each checked parameter's number of paths, before it starts."""
    units = round(sum(paths**1.5 for paths in path_counts.values()))
    bound = limit("identity")
    if units > bound:
        worst = max(path_counts, key=path_counts.get)
        raise InputError(f"the identity check of {_count(len(path_counts), 'parameter')} is {units:,} path units, "
                         f"about {_duration(units * SECONDS_PER_PATH_POWER)}; it takes at most {bound:,} "
                         f"(about {_duration(bound * SECONDS_PER_PATH_POWER)}); {worst} alone has "
                         f"{path_counts[worst]:,} paths: check fewer parameters with `only`", key="check_identity")


def check_document(model) -> None:
    """A document is read by a person: its size is bounded tighter than the computations'."""
    for name, size, key in (("document_neurons", len(model.neurons), "network.neurons"),
                            ("document_parameters", len(model.parameters), "parameters"),
                            ("document_examples", len(model.examples), "examples")):
        bound = LIMITS[name]
        if size > bound.value:
            raise InputError(f"{size:,} {bound.unit.split(' in ')[0]}; a document takes at most {bound.value:,} "
                             f"({bound.why}); verify, compile and check take more", key=key)


def check_workers(workers: int) -> None:
    """One bound for every place that takes a number of workers (a run, a module's split)."""
    if workers > limit("workers"):
        raise InputError(f"{workers:,} workers; expected at most {limit('workers')} ({LIMITS['workers'].why})",
                         key="workers")
