"""Claims and readings: what a text states, parsed and validated when its file is loaded.

A ``[[claims]]`` table (reference: docs/verify.md) names a quantity as trace.py does, the value
the text states as text (``stated = "0.0784"``), where it stands (``source = "file:line"``),
and optionally: ``quote``, ``note``; ``status = "unverifiable"`` with ``reason`` (the inputs are
in a missing figure); ``local`` (the text's own stated inputs of this one step, to recompute it
from them); ``solve`` (one quantity of that step the text leaves out, solved for); ``readings``
(the readings of the file it belongs to; default: all). A ``[readings.NAME]`` table overrides
parameters or constants, for a text that can be read two ways.

Everything a claim says that needs no trace is checked here, so a bad claim fails ``load``; that
its quantity names resolve is checked by verifier/, which has the trace.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

import sympy as sp

from .errors import InputError
from .limits import LIMITS, limit
from .values import check_text, known_keys, rational, tables

CLAIM_KEYS = {"quantity", "stated", "source", "quote", "note", "status", "reason", "local", "solve", "readings",
              "formula", "symbols", "layer", "input_layer"}
ALL_LAYERS = "all"  # ``layer = "all"``: a formula in layer notation checked at every layer it can be read at
READING_KEYS = {"note", "source", "quote", "parameters", "constants"}
NUMBER = re.compile(r"[-+]?(\d+)(\.(\d+))?\Z")
SOURCE = re.compile(r"[^:\s]+:\d+\Z")
CONSTANTS = {"e": sp.E, "pi": sp.pi}  # ``const:e``: a constant a text states (Euler's number)
UNVERIFIABLE = "unverifiable"  # the only status a file may declare


@dataclass(frozen=True)
class Claim:
    """One claim of a file, as it stands there (stripped of surrounding blanks)."""

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
    readings: tuple[str, ...] | None = None  # None: every reading of the file
    formula: str = ""  # a formula claim (formula_claims.py): the text's LaTeX, and its names -> quantities
    symbols: dict[str, str] = field(default_factory=dict)
    layer: tuple[int, ...] | str | None = None  # layer notation (layered_forms.py): the layers l stands for, or "all"
    input_layer: int = 0  # the number the text gives the input layer (Nielsen: 1; symbackprop: 0)

    @property
    def value(self) -> sp.Rational:
        return sp.Rational(self.stated.lstrip("+"))

    @property
    def decimals(self) -> int:
        return len(self.stated.partition(".")[2])

    @property
    def where(self) -> str:
        """The claim's key in its file, for located errors."""
        return f"claims[{self.index}]"

    def belongs_to(self, reading: str) -> bool:
        return self.readings is None or reading in self.readings


@dataclass(frozen=True)
class Reading:
    """One reading of an ambiguous text: the values it gives differently, and where the text says so."""

    note: str = ""
    source: str = ""
    quote: str = ""
    parameters: dict[str, sp.Rational] = field(default_factory=dict)
    constants: dict[str, sp.Rational] = field(default_factory=dict)


def _counted(count: int, name: str) -> None:
    """A file's readings and claims are bounded (limits.py), before any is parsed; the key is the table's own."""
    bound = LIMITS[name]
    if count > bound.value:
        raise InputError(f"{count:,} {bound.unit}; expected at most {bound.value:,} ({bound.why})", key=name)


def _text(raw: dict, name: str, key: str, required: bool = True) -> str:
    value = raw.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        got = "nothing" if value is None else repr(value)
        raise InputError(f"expected text, got {got}", key=f"{key}.{name}")
    return check_text(value, f"{key}.{name}")


def parse_readings(raw: object) -> dict[str, Reading]:
    """The file's ``[readings.NAME]`` tables; that they override the file's own names Model checks."""
    if not isinstance(raw, dict):
        raise InputError("expected [readings.NAME] tables", key="readings")
    _counted(len(raw), "readings")
    readings = {}
    for name, table in raw.items():
        key = f"readings.{name}"
        if not isinstance(table, dict):
            raise InputError("expected a table", key=key)
        known_keys(table, READING_KEYS, key)
        overrides = {}
        for kind in ("parameters", "constants"):
            values = table.get(kind, {})
            if not isinstance(values, dict):
                raise InputError("expected a table of name = number", key=f"{key}.{kind}")
            overrides[kind] = {p: rational(v, f"{key}.{kind}.{p}") for p, v in values.items()}
        readings[name] = Reading(note=_text(table, "note", key, required=False),
                                 source=_text(table, "source", key, required=False),
                                 quote=_text(table, "quote", key, required=False), **overrides)
    return readings


def parse_claims(raw_claims: object, readings: Collection[str]) -> tuple[Claim, ...]:
    """The file's claim tables as Claims; every malformed key a located InputError."""
    if not isinstance(raw_claims, list) or not all(isinstance(c, dict) for c in raw_claims):
        raise InputError("expected [[claims]] tables", key="claims")
    _counted(len(raw_claims), "claims")
    claims = []
    for i, (key, raw) in enumerate(tables(raw_claims, CLAIM_KEYS, "claims", "expected a table")):
        claims.append(_formula_claim(i, raw, key, readings) if "formula" in raw else _number_claim(i, raw, key, readings))
    return tuple(claims)


def _number_claim(i: int, raw: dict, key: str, readings: Collection[str]) -> Claim:
    for k in ("layer", "input_layer", "symbols"):
        if k in raw:
            raise InputError("only a formula claim reads a text's notation: drop this key or add formula = \"...\"",
                             key=f"{key}.{k}")
    stated = raw.get("stated")
    if not isinstance(stated, str):
        got = "nothing" if stated is None else f"{type(stated).__name__} {stated}"
        raise InputError(f'expected the stated value as text, like stated = "0.0784"; got {got}', key=f"{key}.stated")
    if not NUMBER.match(stated.strip()):
        raise InputError(f"{stated!r} is not a number; expected a decimal like \"0.0784\" or \"-0.196\"",
                         key=f"{key}.stated")
    _bounded(stated, f"{key}.stated")
    quantity = _text(raw, "quantity", key).strip()
    if quantity.startswith("const:") and quantity[6:] not in CONSTANTS:
        raise InputError(f"unknown constant {quantity[6:]!r}; expected one of {', '.join(CONSTANTS)}", key=f"{key}.quantity")
    source, names = _source_and_readings(raw, key, readings)
    declared = _text(raw, "status", key, required=False)
    if declared and declared != UNVERIFIABLE:
        raise InputError(f"{declared!r}: the only status a file may declare is \"unverifiable\"", key=f"{key}.status")
    if declared and not raw.get("reason"):
        raise InputError("an unverifiable claim needs a reason (which input the text leaves out)", key=f"{key}.reason")
    local = raw.get("local", {})
    if not isinstance(local, dict):
        raise InputError("expected a table of quantity = \"stated value\"", key=f"{key}.local")
    return Claim(
        index=i, quantity=quantity, stated=stated.strip(), source=source,
        quote=_text(raw, "quote", key, required=False), note=_text(raw, "note", key, required=False), declared=declared,
        reason=_text(raw, "reason", key, required=False),
        local={k: _stated(v, f"{key}.local.{k}") for k, v in local.items()},
        solve=_text(raw, "solve", key, required=False) or None, readings=names,
    )


def _source_and_readings(raw: dict, key: str, readings: Collection[str]) -> tuple[str, tuple[str, ...] | None]:
    """Where in the text a claim stands (FILE:LINE), and which of the file's readings it belongs to."""
    source = _text(raw, "source", key)
    if not SOURCE.match(source):
        raise InputError(f"{source!r}: expected FILE:LINE, like \"003_131398abeddd6634.txt:332\"", key=f"{key}.source")
    names = raw.get("readings")
    if names is not None and (not isinstance(names, list) or not all(n in readings for n in names)):
        known = ", ".join(readings) if readings else "none: this file declares no readings"
        raise InputError(f"expected a list of the file's readings ({known})", key=f"{key}.readings")
    return source, None if names is None else tuple(names)


def _formula_claim(i: int, raw: dict, key: str, readings: Collection[str]) -> Claim:
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
    return Claim(index=i, quantity=quantity.strip(), stated="", source=source, quote=_text(raw, "quote", key, required=False),
                 note=_text(raw, "note", key, required=False), readings=names, formula=formula,
                 symbols={k: v.strip() for k, v in symbols.items()}, layer=_layer(raw.get("layer"), f"{key}.layer"),
                 input_layer=_input_layer(raw.get("input_layer", 0), f"{key}.input_layer"))


def _layer(value: object, key: str) -> tuple[int, ...] | str | None:
    """``layer = 2``, ``layer = [1, 2]`` or ``layer = "all"``: what the generic layer index l stands for."""
    if value is None or value == ALL_LAYERS:
        return value
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= limit("neurons") for v in values):
        raise InputError(f'expected a layer number, a list of them, or "all"; got {value!r}', key=key)
    return tuple(sorted(set(values)))


def _input_layer(value: object, key: str) -> int:
    if isinstance(value, bool) or value not in (0, 1):
        raise InputError(f"expected 0 or 1 (the number the text gives the input layer); got {value!r}", key=key)
    return value


def _stated(value: object, key: str) -> str:
    if not isinstance(value, str) or not NUMBER.match(value.strip()):
        raise InputError(f"expected a stated value as text, like \"0.804\"; got {value!r}", key=key)
    return _bounded(value, key)


def _bounded(stated: str, key: str) -> str:
    """A stated value's digits are bounded as a file's numbers are (limits.py)."""
    digits = sum(c.isdigit() for c in stated.strip().lstrip("+-").lstrip("0."))
    if digits > limit("digits"):
        raise InputError(f"a stated value of {digits} significant digits; expected at most {limit('digits')}",
                         key=key)
    return stated.strip()
