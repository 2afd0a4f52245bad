"""Writing a Model back as a derivation file: deterministic, exact (decimals or quoted fractions).

It reads the Model's plain fields only, so it sits below the model (which offers it as ``to_toml``).
"""

from __future__ import annotations

import sympy as sp


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
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


def _inline(values: dict) -> str:
    return "{ " + ", ".join(f"{k} = {_num(v)}" for k, v in values.items()) + " }"


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dumps(model) -> str:
    """The derivation file for a Model (claims are not written); ``loads(dumps(m))`` gives m back."""
    out = []
    if model.title:
        out.append(f"title = {_string(model.title)}")
    if model.source:
        out.append(f"source = {_string(model.source)}")
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
    for ex in model.examples:
        out += ["", "[[examples]]", f"inputs = {_inline(ex.inputs)}", f"targets = {_inline(ex.targets)}"]
    return "\n".join(out) + "\n"
