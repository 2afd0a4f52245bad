"""The module's docstring, imports and constants: what a reader of the exported file sees first."""

from __future__ import annotations

import textwrap

import sympy as sp

from ..core.derivation import Derivation
from .expressions import exact_float, float_list, float_literal
from .plan import Plan, Shape

VERSION = "0.1.0"
COMPACT = 20_000  # parameters: past it the constant arrays are printed compactly (parameter_constants); within
# it (the old bound of 20,000 edges) they are the literals they always were
INPUT_GRADIENTS = ("input_gradients(params, X, Y): dE/dX, a (B, len(INPUTS)) float64 array, the gradient of the batch"
                   " loss in each example's inputs (with a mean batch, 1/B of that example's own dE/dx; torch's X.grad"
                   " of the same loss), by the same code as loss_and_grad for every batch size.")


def _sanitize(text: str) -> str:
    """File text made harmless inside a docstring: printable, no quotes, no backslashes."""
    return "".join(c if c.isprintable() and c not in '"\\' else "?" for c in text)[:200]


def code_sentence(plan: Plan) -> str:
    """Which code runs for which batches, in the shapes' own words."""
    if plan.small_batch is None:
        return f"Code: {plan.shapes[0].value}."
    small, large = plan.shapes
    return f"Code: {small.value} for batches of up to {plan.small_batch} examples, {large.value} otherwise."


def option_text(value: object) -> str:
    """An optimizer's or scheduler's option as Python text: flags and counts as themselves, lists as
    tuples, exact numbers as the float64 they round to (float_literal: never a bare inf)."""
    if isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(map(option_text, value)) + ("," if len(value) == 1 else "") + ")"
    return float_literal(float(value), "math")


def options_text(options: dict) -> str:
    return "{" + ", ".join(f"{k!r}: {option_text(v)}" for k, v in options.items()) + "}"


def optimizer_sentences(plan: Plan, d: Derivation) -> list[str]:
    """What a module with an [optimizer] says of its step, in place of the plain rule's line."""
    m = d.model
    o, s = m.optimizer, m.scheduler
    shown = ", ".join(f"{k} = {option_text(v)}" for k, v in o.options.items())
    schedule = f", then {s.name} ({', '.join(f'{k} = {option_text(v)}' for k, v in s.options.items())})" if s else ""
    states = o.states()
    return [
        *textwrap.wrap(f"Optimizer: {o.name} ({shown}; torch.optim's semantics): {o.rule.formula}.", 100),
        *textwrap.wrap(f"Learning rate: {float(m.learning_rate)!r}{schedule}. Trained: "
                       f"{'all parameters' if m.trained is None else ', '.join(m.trained_parameters) or 'none'}.", 100),
        *textwrap.wrap("init_state() gives the optimizer's state: t (the steps taken), lr (the rate of the next step)"
                       + (f" and {', '.join(states)}, each one value per parameter (NaN where one is frozen)" if states else "")
                       + "; step(params, state, X, Y) and averaged_step(params, state, shards) give (the new parameters,"
                       " the new state) and change neither argument.", 100),
    ]


def optimizer_constants(plan: Plan, d: Derivation) -> list[str]:
    m = d.model
    o, s = m.optimizer, m.scheduler
    initial = {k: sp.Integer(0) for k in o.states()} | {k: v for k, v in o.initial().items() if k in o.states()}
    return [
        f"OPTIMIZER = {o.name!r}",
        f"OPTIONS = {options_text(o.options)}  # as torch.optim names them; _update has them folded in",
        f"SCHEDULER = {s.name if s else None!r}",
        *([f"SCHEDULE = {options_text(s.options)}  # as torch.optim.lr_scheduler names them"] if s else []),
        f"STATE = {options_text(initial)}  # the optimizer's state per parameter, and its value before the first step",
        *(["STEPPED = numpy.flatnonzero(TRAINED)  # the trained parameters' positions: only they are stepped"]
          if plan.masked else []),
    ]


def parameter_constants(m, trained: set[str]) -> list[str]:
    """PARAMETERS, N_PARAMETERS, INPUTS, OUTPUTS, INITIAL, LEARNING_RATE, TRAINED. Past COMPACT
    parameters, PARAMETERS, INITIAL and TRAINED are each one string split at import (names are
    identifiers; each float as its repr, which float() reads back to the same float64, inf and nan
    included): parsing 109,386 literals apiece was most of the time compile() took for dense
    784-128-64-10, and the rest of the module parses in a tenth of a second."""
    initial = [exact_float(v) for v in m.parameters.values()]
    flags = [float(p in trained) for p in m.parameters]
    rate = f"LEARNING_RATE = {float_literal(float(m.learning_rate), 'math')}"
    if len(m.parameters) <= COMPACT:
        return [f"PARAMETERS = {tuple(m.parameters)!r}", "N_PARAMETERS = len(PARAMETERS)",
                f"INPUTS = {tuple(m.inputs)!r}", f"OUTPUTS = {tuple(m.outputs)!r}",
                f"INITIAL = numpy.array({float_list(initial, 'numpy')})", rate,
                f"TRAINED = numpy.array({float_list(flags, 'numpy')})"]
    return [f"PARAMETERS = tuple({' '.join(m.parameters)!r}.split())  # one name per parameter",
            "N_PARAMETERS = len(PARAMETERS)", f"INPUTS = {tuple(m.inputs)!r}", f"OUTPUTS = {tuple(m.outputs)!r}",
            f"INITIAL = numpy.array(list(map(float, {' '.join(map(repr, initial))!r}.split())))", rate,
            f"TRAINED = numpy.array(list(map(float, {' '.join(map(repr, flags))!r}.split())))"]


def header(plan: Plan, d: Derivation) -> list[str]:
    m, lf = d.model, d.loss_function
    rule = f"w <- w {m.update_operator} lr * dE/dw"
    neurons = ", ".join(f"{n.name} ({n.activation})" for n in m.neurons)
    used_in: dict[str, list[str]] = {}
    for n in m.neurons:
        for p in m.parameters_of(n):
            used_in.setdefault(p, []).append(n.name)
    trained = set(m.trained_parameters)
    return [
        f'"""Loss and gradients of: {_sanitize(m.title or "a symbackprop model")}.',
        "",
        f"Generated by symbackprop {VERSION}; regenerate rather than edit. Needs {'numpy and numba' if plan.numba else 'only numpy'}.",
        "",
        f"Inputs (columns of X): {', '.join(m.inputs)}. Outputs (columns of Y): {', '.join(m.outputs)}.",
        *textwrap.wrap(f"Neurons: {neurons}.", 100),
        *textwrap.wrap(f"Loss: {lf.name} per example ({lf.description}); {m.batch} over the batch.", 100),
        *([f"step(): {rule}, lr = {float(m.learning_rate)!r} unless given;"
           f" trained: {'all parameters' if m.trained is None else ', '.join(m.trained_parameters) or 'none'}."]
          if m.optimizer is None else optimizer_sentences(plan, d)),
        *textwrap.wrap(code_sentence(plan), 100),
        *(textwrap.wrap(INPUT_GRADIENTS, 100) if plan.input_gradients else []),
        *textwrap.wrap("averaged_loss_and_grad(), averaged_step(): data-parallel, the mean over workers of each"
                       f" worker's result on its own shard; split(): {plan.workers} equal shards unless told.", 100),
        "",
        "Parameters, in the order of `params` and of the gradient:",
        *[f"    {i:4d}  {p}  (in {', '.join(used_in[p])})" for i, p in enumerate(m.parameters)],
        '"""',
        "",
        "import math",
        "",
        *(["import numba"] if plan.numba else []),
        "import numpy",
        "",
        f"TITLE = {m.title!r}",
        *parameter_constants(m, trained),
        f"WORKERS = {plan.workers}  # split()'s default number of data-parallel workers",
        f"SCALAR_BATCH = {plan.scalar_batch}",
        *([f"FUSED_BATCH = {plan.fused_batch}"] if Shape.KERNEL in plan.shapes else []),
        *([f"CHUNK = {plan.chunk}  # rows per block of the matrix form"] if plan.chunk else []),
        "_ndarray, _float, _empty = numpy.ndarray, numpy.dtype(float), numpy.empty",
        "_P_SHAPE, _X_COLUMNS, _Y_COLUMNS = (N_PARAMETERS,), (len(INPUTS),), (len(OUTPUTS),)",
        *(optimizer_constants(plan, d) if m.optimizer is not None else []),
    ]
