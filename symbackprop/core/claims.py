"""Claims: the numbers and formulas a text states, parsed and validated (verifier/ checks them).

A ``[[claims]]`` table (reference: docs/verify.md) names a quantity as trace.py does, the value
the text states as text (``stated = "0.0784"``), where it stands (``source = "file:line"``,
``quote``) and optionally: ``note``; ``status = "unverifiable"`` with ``reason`` (the inputs are
in a missing figure); ``local`` (the text's own stated inputs of this one step, to recompute it
from them); ``solve`` (one quantity of that step the text leaves out, solved for); ``readings``
(the readings of the file it belongs to; default: all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import sympy as sp

from .errors import InputError
from .model import Model, rational

CLAIM_KEYS = {"quantity", "stated", "source", "quote", "note", "status", "reason", "local", "solve", "readings",
              "formula", "symbols"}
READING_KEYS = {"note", "source", "quote", "parameters", "constants"}
NUMBER = re.compile(r"[-+]?(\d+)(\.(\d+))?\Z")
SOURCE = re.compile(r"[^:\s]+:\d+\Z")
CONSTANTS = {"e": sp.E, "pi": sp.pi}  # ``const:e``: a constant a text states (Euler's number)


@dataclass
class Claim:
    index: int
    quantity: str
    stated: str
    source: str
    quote: str
    note: str = ""
    declared: str = ""  # "unverifiable" when the file says the model cannot determine it
    reason: str = ""
    local: dict[str, str] = field(default_factory=dict)  # quantity -> the stated text
    solve: str | None = None
    readings: list[str] | None = None
    formula: str = ""  # a formula claim (formulas.py): the text's LaTeX, and its names -> quantities
    symbols: dict[str, str] = field(default_factory=dict)

    @property
    def value(self) -> sp.Rational:
        return sp.Rational(self.stated.lstrip("+"))

    @property
    def decimals(self) -> int:
        return len(self.stated.partition(".")[2])


def _text(raw: dict, name: str, key: str, required: bool = True) -> str:
    value = raw.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        got = "nothing" if value is None else repr(value)
        raise InputError(f"expected text, got {got}", key=f"{key}.{name}")
    return value


def parse(raw_claims: list[dict], readings: dict[str, Model]) -> list[Claim]:
    """The file's claim tables as Claims; every malformed key a located InputError."""
    claims = []
    for i, raw in enumerate(raw_claims):
        key = f"claims[{i}]"
        for k in raw:
            if k not in CLAIM_KEYS:
                raise InputError(f"unknown key; expected one of {', '.join(sorted(CLAIM_KEYS))}", key=f"{key}.{k}")
        if "formula" in raw:
            claims.append(_formula_claim(i, raw, key, readings))
            continue
        stated = raw.get("stated")
        if not isinstance(stated, str):
            got = "nothing" if stated is None else f"{type(stated).__name__} {stated}"
            raise InputError(f'expected the stated value as text, like stated = "0.0784"; got {got}', key=f"{key}.stated")
        if not NUMBER.match(stated.strip()):
            raise InputError(f"{stated!r} is not a number; expected a decimal like \"0.0784\" or \"-0.196\"",
                             key=f"{key}.stated")
        source, names = _source_and_readings(raw, key, readings)
        declared = _text(raw, "status", key, required=False)
        if declared and declared != "unverifiable":
            raise InputError(f"{declared!r}: the only status a file may declare is \"unverifiable\"", key=f"{key}.status")
        if declared and not raw.get("reason"):
            raise InputError("an unverifiable claim needs a reason (which input the text leaves out)", key=f"{key}.reason")
        local = raw.get("local", {})
        if not isinstance(local, dict):
            raise InputError("expected a table of quantity = \"stated value\"", key=f"{key}.local")
        claim = Claim(
            index=i, quantity=_text(raw, "quantity", key).strip(), stated=stated.strip(), source=source,
            quote=_text(raw, "quote", key), note=_text(raw, "note", key, required=False), declared=declared,
            reason=_text(raw, "reason", key, required=False),
            local={k: _stated(v, f"{key}.local.{k}") for k, v in local.items()},
            solve=_text(raw, "solve", key, required=False) or None, readings=names,
        )
        claims.append(claim)
    return claims


def _source_and_readings(raw: dict, key: str, readings: dict) -> tuple[str, list | None]:
    """Where in the text a claim stands (FILE:LINE), and which of the file's readings it belongs to."""
    source = _text(raw, "source", key)
    if not SOURCE.match(source):
        raise InputError(f"{source!r}: expected FILE:LINE, like \"003_131398abeddd6634.txt:332\"", key=f"{key}.source")
    names = raw.get("readings")
    if names is not None and (not isinstance(names, list) or not all(n in readings for n in names)):
        known = ", ".join(readings) if readings else "none: this file declares no readings"
        raise InputError(f"expected a list of the file's readings ({known})", key=f"{key}.readings")
    return source, names


def _formula_claim(i: int, raw: dict, key: str, readings: dict) -> Claim:
    """A ``formula = "..."`` claim: no stated number, a map of the text's names (docs/formulas.md)."""
    for k in ("stated", "local", "solve", "status", "reason"):
        if k in raw:
            raise InputError("a formula claim states a formula, not a number: drop this key "
                             "(make a second claim for the number)", key=f"{key}.{k}")
    formula = raw["formula"]
    if not isinstance(formula, str):
        raise InputError(f"expected the formula as text (LaTeX), got {formula!r}", key=f"{key}.formula")
    symbols = raw.get("symbols", {})
    if not isinstance(symbols, dict) or not all(isinstance(v, str) and v.strip() for v in symbols.values()):
        raise InputError('expected a table of the text\'s names -> quantity names, like { Y_r = "a_O5" }',
                         key=f"{key}.symbols")
    source, names = _source_and_readings(raw, key, readings)
    quantity = raw.get("quantity", "")
    if not isinstance(quantity, str):
        raise InputError(f"expected a quantity name, got {quantity!r}", key=f"{key}.quantity")
    return Claim(index=i, quantity=quantity.strip(), stated="", source=source, quote=_text(raw, "quote", key),
                 note=_text(raw, "note", key, required=False), readings=names, formula=formula,
                 symbols={k: v.strip() for k, v in symbols.items()})


def _stated(value: object, key: str) -> str:
    if not isinstance(value, str) or not NUMBER.match(value.strip()):
        raise InputError(f"expected a stated value as text, like \"0.804\"; got {value!r}", key=key)
    return value.strip()


def model_readings(model: Model) -> dict[str, Model]:
    """The file's readings (``[readings.NAME]`` with parameter overrides), or just the model."""
    raw = model.readings
    if not raw:
        return {"": model}
    if not isinstance(raw, dict):
        raise InputError("expected [readings.NAME] tables", key="readings")
    out = {}
    for name, table in raw.items():
        key = f"readings.{name}"
        if not isinstance(table, dict):
            raise InputError("expected a table", key=key)
        for k in table:
            if k not in READING_KEYS:
                raise InputError(f"unknown key; expected one of {', '.join(sorted(READING_KEYS))}", key=f"{key}.{k}")
        params, consts = dict(model.parameters), dict(model.constants)
        for target, kind, src in ((params, "parameters", model.parameters), (consts, "constants", model.constants)):
            overrides = table.get(kind, {})
            if not isinstance(overrides, dict):
                raise InputError("expected a table of name = number", key=f"{key}.{kind}")
            for p, v in overrides.items():
                if p not in src:
                    raise InputError(f"{p!r} is not one of the file's {kind}", key=f"{key}.{kind}.{p}")
                target[p] = rational(v, f"{key}.{kind}.{p}")
        out[name] = replace(model, parameters=params, constants=consts, readings={})
    return out
