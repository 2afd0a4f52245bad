"""Values read from file text, checked before use: names, exact numbers, tables of known keys.

Names reach symbols and generated code, so they must be plain identifiers; numbers become SymPy
Rationals from their decimal text, never through floats; a table may hold only the keys its
kind documents (a misspelt key is an error, not a silent default).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator
from decimal import Decimal

import sympy as sp

from .errors import InputError
from .limits import LIMITS, check_decimal, check_integer, limit

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
RESERVED = {"E", "delta", "Delta"}
NUMBER = re.compile(r"(?P<decimal>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)(/(?P<denominator>\d+))?")


def check_name(name: object, key: str) -> str:
    """Names reach symbols and generated code, so they must be plain identifiers."""
    if not isinstance(name, str):
        raise InputError(f"expected a name (text), got {type(name).__name__} {name!r}", key=key)
    if len(name) > limit("name"):
        raise InputError(f"a name of {len(name)} characters ({name[:20]}...); expected at most {limit('name')}",
                         key=key)
    if not IDENTIFIER.match(name) or keyword.iskeyword(name) or name in RESERVED:
        raise InputError(
            f"{name!r} is not a usable name; expected an identifier (a letter, then letters, digits, _),"
            f" not a Python keyword nor one of {', '.join(sorted(RESERVED))}",
            key=key,
        )
    return name


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1 controls, tab and newlines aside


def check_text(value: str, key: str) -> str:
    """Text a document or report prints as it is: no control characters, which would reach a
    terminal as commands (an ANSI escape clears the screen or retitles the window)."""
    if len(value) > limit("text"):
        raise InputError(f"{len(value):,} characters; expected at most {limit('text'):,} ({LIMITS['text'].why})", key=key)
    if m := CONTROL.search(value):
        raise InputError(f"the text holds the control character U+{ord(m[0]):04X}; expected printable text", key=key)
    return value


def rational(value: object, key: str) -> sp.Rational:
    """An exact number from a Decimal, int, or a decimal/fraction string; never through floats.

    Its digits and magnitude are bounded first (limits.py): ``1e99999999`` is refused, not built."""
    if isinstance(value, bool):
        raise InputError(f"expected a number, got {value!r}", key=key)
    if isinstance(value, int):
        return sp.Integer(check_integer(value, key))
    if isinstance(value, Decimal):
        return sp.Rational(str(check_decimal(value, key)))
    if isinstance(value, str) and (m := NUMBER.fullmatch(value.strip())):
        numerator = check_decimal(Decimal(m["decimal"]), key)
        if m["denominator"] is None:
            return sp.Rational(str(numerator))
        denominator = check_decimal(Decimal(m["denominator"]), key)
        if denominator.is_zero():
            raise InputError(f"expected a number, got {_shown(value)} (division by zero)", key=key)
        return sp.Rational(str(numerator)) / sp.Rational(str(denominator))
    if isinstance(value, sp.Rational):
        return value
    raise InputError(f"expected a number (like 0.2 or \"1/3\"), got {_shown(value)}", key=key)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:40] + "..." + text[-10:]


def known_keys(table: dict, allowed: set[str], key: str) -> None:
    """Every key of ``table`` is one of ``allowed``; else a located InputError naming it."""
    for k in table:
        if k not in allowed:
            where = f"{key}.{k}" if key else k
            raise InputError(f"unknown key; expected one of {', '.join(sorted(allowed))}", key=where)


def tables(items: list, allowed: set[str], key: str, expected: str) -> Iterator[tuple[str, dict]]:
    """(key, table) for each entry of an array of tables, each a table with known keys only."""
    for i, raw in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(raw, dict):
            raise InputError(expected, key=where)
        known_keys(raw, allowed, where)
        yield where, raw
