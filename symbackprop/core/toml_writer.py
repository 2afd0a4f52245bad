"""Writing a Model back as a derivation file: deterministic, exact (decimals or quoted fractions).

It reads the Model's plain fields only, so it sits below the model (which offers it as ``to_toml``).
Claims and readings are written as the file states them, so ``loads(dumps(m)) == m``.
"""

from __future__ import annotations

import re

import sympy as sp

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n"}


def _num(value: sp.Rational) -> str:
    """A Rational as TOML: a plain decimal when it has one, else a quoted fraction."""
    value = sp.Rational(value)
    q = value.q
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if q != 1:
        return f'"{value.p}/{value.q}"'
    digits = 0
    while (value * 10**digits).q != 1:
        digits += 1
    digits = max(digits, 1)  # exact in integers: Decimal division would round at 28 digits
    scaled = abs(value.p) * 10**digits // value.q
    whole, frac = divmod(scaled, 10**digits)
    return f"{'-' if value < 0 else ''}{whole}.{frac:0{digits}d}"


def _list(names) -> str:
    return "[" + ", ".join(_string(n) for n in names) + "]"


def _inline(values: dict, show=_num) -> str:
    """An inline table of numbers, or of what ``show`` writes (a claim's stated text)."""
    return "{ " + ", ".join(f"{_key(k)} = {show(v)}" for k, v in values.items()) + " }"


def _key(name: str) -> str:
    return name if BARE_KEY.match(name) else _string(name)


def _string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters (but tab) escaped."""
    return '"' + "".join(_escaped(c) for c in text) + '"'


def _escaped(c: str) -> str:
    if c in ESCAPES:
        return ESCAPES[c]
    return f"\\u{ord(c):04x}" if (c < " " and c != "\t") or c == "\x7f" else c


def _claim(c) -> list[str]:
    out = ["", "[[claims]]"]
    fields = [("quantity", c.quantity), ("stated", c.stated), ("formula", c.formula), ("source", c.source),
              ("quote", c.quote), ("note", c.note), ("status", c.declared), ("reason", c.reason), ("solve", c.solve)]
    out += [f"{name} = {_string(text)}" for name, text in fields if text]
    if c.local:
        out.append(f"local = {_inline(c.local, _string)}")
    if c.symbols:
        out.append(f"symbols = {_inline(c.symbols, _string)}")
    if c.readings is not None:
        out.append(f"readings = {_list(c.readings)}")
    if c.layer is not None:
        out.append(f"layer = {_string(c.layer) if isinstance(c.layer, str) else '[' + ', '.join(map(str, c.layer)) + ']'}")
    if c.input_layer:
        out.append(f"input_layer = {c.input_layer}")
    return out


def claims(items) -> str:
    """``[[claims]]`` tables alone, as ``dumps`` writes them: to append to a derivation file (symbackprop scan)."""
    return "\n".join(line for c in items for line in _claim(c)) + "\n" if items else ""


def _reading(name: str, r) -> list[str]:
    out = ["", f"[readings.{_key(name)}]"]
    out += [f"{k} = {_string(text)}" for k, text in (("note", r.note), ("source", r.source), ("quote", r.quote)) if text]
    out += [f"{kind} = {_inline(values)}" for kind, values in (("parameters", r.parameters), ("constants", r.constants))
            if values]
    return out


def _option(value) -> str:
    """An optimizer's or scheduler's option as TOML: a flag, a count, a number or a list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_option(v) for v in value) + "]"
    return _num(value)


def _rule(table: str, rule) -> list[str]:
    return ["", f"[{table}]", f"name = {_string(rule.name)}"] + [f"{k} = {_option(v)}" for k, v in rule.options.items()]


def dumps(model) -> str:
    """The derivation file for a Model, claims and readings included; ``loads(dumps(m))`` gives m back."""
    out = []
    if model.title:
        out.append(f"title = {_string(model.title)}")
    if model.source:
        out.append(f"source = {_string(model.source)}")
    if model.notes:
        out.append(f"notes = {_string(model.notes)}")
    out += ["", "[network]", f"inputs = {_list(model.inputs)}"]
    if model.constants:
        out.append(f"constants = {_inline(model.constants)}")
    out.append(f"outputs = {_list(model.outputs)}")
    for n in model.neurons:
        out += ["", "[[network.neurons]]", f'name = "{n.name}"', f'activation = "{n.activation}"',
                f"inputs = {_list(n.inputs)}", f"weights = {_list(n.weights)}"]
        if n.bias:
            out.append(f'bias = "{n.bias}"')
    out += ["", "[parameters]"] + [f"{p} = {_num(v)}" for p, v in model.parameters.items()]
    out += ["", "[loss]", f'function = "{model.loss}"', f'batch = "{model.batch}"']
    out += ["", "[training]", f"learning_rate = {_num(model.learning_rate)}", f'update = "{model.update}"',
            f"iterations = {model.iterations}"]
    if model.trained is not None:
        out.append(f"trained = {_list(model.trained)}")
    for table, rule in (("optimizer", model.optimizer), ("scheduler", model.scheduler)):
        if rule is not None:
            out += _rule(table, rule)
    for ex in model.examples:
        target = f"class = {ex.label}" if ex.label is not None else f"targets = {_inline(ex.targets)}"
        out += ["", "[[examples]]", f"inputs = {_inline(ex.inputs)}", target]
    for name, reading in model.readings.items():
        out += _reading(name, reading)
    for claim in model.claims:
        out += _claim(claim)
    return "\n".join(out) + "\n"
