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
from fractions import Fraction

import sympy as sp

from .errors import InputError

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
RESERVED = {"E", "delta", "Delta"}


def check_name(name: object, key: str) -> str:
    """Names reach symbols and generated code, so they must be plain identifiers."""
    if not isinstance(name, str):
        raise InputError(f"expected a name (text), got {type(name).__name__} {name!r}", key=key)
    if not IDENTIFIER.match(name) or keyword.iskeyword(name) or name in RESERVED:
        raise InputError(
            f"{name!r} is not a usable name; expected an identifier (a letter, then letters, digits, _),"
            f" not a Python keyword nor one of {', '.join(sorted(RESERVED))}",
            key=key,
        )
    return name


def rational(value: object, key: str) -> sp.Rational:
    """An exact number from a Decimal, int, or a decimal/fraction string; never through floats."""
    if isinstance(value, bool):
        raise InputError(f"expected a number, got {value!r}", key=key)
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InputError(f"expected a finite number, got {value}", key=key)
        return sp.Rational(str(value))
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?(/\d+)?\s*", value):
        try:
            f = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise InputError(f"expected a number, got {value!r}", key=key) from None
        return sp.Rational(f.numerator, f.denominator)
    if isinstance(value, sp.Rational):
        return value
    raise InputError(f"expected a number (like 0.2 or \"1/3\"), got {value!r}", key=key)


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
