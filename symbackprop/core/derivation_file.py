"""Reading derivation files (TOML) with exact decimals; toml_writer.py writes them back.

The reference is docs/format.md. Numbers are parsed with ``parse_float=Decimal`` and become
Rationals; no file text ever reaches eval, exec or sympify. Claims and readings are parsed here
too (claims.py), so a malformed claim fails ``load``, not only ``verify``.
"""

from __future__ import annotations

import os
import tomllib
from collections import Counter
from decimal import Decimal

import sympy as sp

from .atomic import read_input
from .claims import parse_claims, parse_readings
from .errors import InputError
from .limits import scan
from .model import Example, Model, Neuron
from .optimizers import optimizer
from .schedulers import scheduler
from .values import check_name, check_text, known_keys, rational, tables

TABLES = {
    "": {"title", "source", "network", "parameters", "loss", "training", "examples", "claims", "notes", "readings",
         "optimizer", "scheduler"},
    "network": {"inputs", "constants", "outputs", "neurons"},
    "neuron": {"name", "activation", "inputs", "weights", "bias"},
    "loss": {"function", "batch"},
    "training": {"learning_rate", "update", "iterations", "trained", "frozen"},
    "example": {"inputs", "targets", "class"},
}


def load(path: str | os.PathLike) -> Model:
    """The Model a derivation file describes, or an InputError naming the file and key."""
    name = str(path)
    try:
        text = read_input(path).decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text ({e.reason} at byte {e.start}); expected a TOML file", file=name) from None
    try:
        return loads(text)
    except InputError as e:
        raise e.located(name) from None


def loads(text: str) -> Model:
    if not text.strip():
        raise InputError("the file is empty; expected a [network] table, [parameters] and [[examples]]")
    scan(text)
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"not valid TOML: {e}") from None
    return from_dict(data)


def _known(table: dict, kind: str, key: str) -> None:
    known_keys(table, TABLES[kind], key)


def _table(data: dict, name: str, key: str, required: bool = True) -> dict:
    value = data.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        got = "nothing" if value is None else type(value).__name__
        raise InputError(f"expected a table [{key}], got {got}", key=key)
    return value


def _names(value: object, key: str) -> list[str]:
    if not isinstance(value, list):
        raise InputError(f"expected a list of names, got {value!r}", key=key)
    return [check_name(v, f"{key}[{i}]") for i, v in enumerate(value)]


def _text(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected text, got {type(value).__name__} {value!r}", key=key)
    return check_text(value, key)


def _numbers(table: object, key: str) -> dict[str, sp.Rational]:
    if not isinstance(table, dict):
        raise InputError(f"expected a table of name = number, got {table!r}", key=key)
    return {check_name(k, f"{key}.{k}"): rational(v, f"{key}.{k}") for k, v in table.items()}


def from_dict(data: dict) -> Model:
    _known(data, "", "")
    net = _table(data, "network", "network")
    _known(net, "network", "network")
    neurons_raw = net.get("neurons")
    if not isinstance(neurons_raw, list) or not neurons_raw:
        raise InputError("expected one or more [[network.neurons]] tables", key="network.neurons")
    neurons = []
    for key, raw in tables(neurons_raw, TABLES["neuron"], "network.neurons", "expected a table"):
        for required in ("name", "activation"):
            if required not in raw:
                raise InputError(f"missing {required!r}", key=f"{key}.{required}")
        bias = raw.get("bias")
        neurons.append(Neuron(
            name=check_name(raw["name"], f"{key}.name"),
            activation=_text(raw["activation"], f"{key}.activation"),
            inputs=tuple(_names(raw.get("inputs", []), f"{key}.inputs")),
            weights=tuple(_names(raw.get("weights", []), f"{key}.weights")),
            bias=None if bias is None else check_name(bias, f"{key}.bias"),
        ))
    names = [n.name for n in neurons]
    dupes = sorted(name for name, times in Counter(names).items() if times > 1)  # linear: 10,000 neurons
    if dupes:
        i = len(names) - 1 - names[::-1].index(dupes[0])
        raise InputError(f"duplicate neuron {dupes[0]!r}; expected each neuron once", key=f"network.neurons[{i}].name")
    consumed = {src for n in neurons for src in n.inputs}
    outputs = _names(net["outputs"], "network.outputs") if "outputs" in net else [n for n in names if n not in consumed]

    loss = _table(data, "loss", "loss", required=False)
    _known(loss, "loss", "loss")
    training = _table(data, "training", "training", required=False)
    _known(training, "training", "training")
    if "trained" in training and "frozen" in training:
        raise InputError("give trained or frozen, not both", key="training")
    params = _numbers(_table(data, "parameters", "parameters"), "parameters")
    trained = None
    if "trained" in training:
        trained = _names(training["trained"], "training.trained")
    elif "frozen" in training:
        frozen = _names(training["frozen"], "training.frozen")
        for i, p in enumerate(frozen):
            if p not in params:
                raise InputError(f"{p!r} is not a parameter", key=f"training.frozen[{i}]")
        trained = [p for p in params if p not in frozen]

    examples_raw = data.get("examples", [])
    if not isinstance(examples_raw, list):
        raise InputError("expected [[examples]] tables", key="examples")
    examples = []
    for key, raw in tables(examples_raw, TABLES["example"], "examples", "expected a table with inputs and targets"):
        inputs = _numbers(raw.get("inputs", {}), f"{key}.inputs")
        if "class" in raw:
            examples.append(_labelled(inputs, raw, outputs, key))
        else:
            examples.append(Example(inputs, _numbers(raw.get("targets", {}), f"{key}.targets")))

    readings = parse_readings(data.get("readings", {}))
    claims = parse_claims(data.get("claims", []), readings)
    iterations = training.get("iterations", 1)
    return Model(
        neurons=neurons,
        inputs=_names(net.get("inputs", []), "network.inputs"),
        outputs=outputs,
        parameters=params,
        examples=examples,
        constants=_numbers(net.get("constants", {}), "network.constants"),
        loss=_text(loss.get("function", "half_sse"), "loss.function"),
        batch=_text(loss.get("batch", "mean"), "loss.batch"),
        learning_rate=rational(training.get("learning_rate", Decimal("0.1")), "training.learning_rate"),
        update=_text(training.get("update", "subtract"), "training.update"),
        iterations=iterations,
        trained=trained,
        title=_text(data.get("title", ""), "title"),
        source=_text(data.get("source", ""), "source"),
        notes=_text(data.get("notes", ""), "notes"),
        claims=claims,
        readings=readings,
        optimizer=None if "optimizer" not in data else optimizer(_table(data, "optimizer", "optimizer")),
        scheduler=None if "scheduler" not in data else scheduler(_table(data, "scheduler", "scheduler")),
    )


def _labelled(inputs: dict, raw: dict, outputs: list[str], key: str) -> Example:
    """An example whose target is a class index (0-based, as torch's CrossEntropyLoss takes it): one-hot targets."""
    if "targets" in raw:
        raise InputError("give targets or class, not both", key=key)
    label = raw["class"]
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(outputs):
        raise InputError(f"class {label!r} is out of range; expected a class index 0..{len(outputs) - 1} "
                         f"(0-based, one per output: {', '.join(outputs[:8])})", key=f"{key}.class")
    one = sp.Integer(1)
    return Example(inputs, {o: one if i == label else sp.Integer(0) for i, o in enumerate(outputs)}, label)
