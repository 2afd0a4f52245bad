"""``verify(path)``: every claim of a derivation file checked, located and explained.

Per claim and per reading of the file: the status (holds, truncated, mismatch, unverifiable),
the exact value, the difference, a local check from the text's own stated inputs, and for a
mismatch the diagnosis (diagnose.py). Printers for text, Markdown and JSON are at the end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import sympy as sp

from ..core.claims import CONSTANTS, Claim, model_readings, parse
from ..core.decimals import decimal
from ..core.derivation import Derivation
from ..core.derivation_file import load
from ..core.errors import InputError
from . import diagnosis, formula_claims
from .local_check import Local
from .rounding import STATUSES, judge, key_of


@dataclass
class Result:
    claim: Claim
    reading: str
    status: str
    basis: str = "model"  # "model": the file's exact trace; "stated inputs": the text's own numbers
    exact: sp.Expr | None = None
    local: str = ""
    diagnosis: list[str] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)
    explained: bool = False  # some alternative convention reproduces the stated number
    formula: formula_claims.FormulaResult | None = None  # for a formula claim

    @property
    def difference(self) -> sp.Expr | None:
        return None if self.exact is None else self.exact - self.claim.value

    def as_dict(self) -> dict:
        c = self.claim
        if c.formula:
            return self._formula_dict()
        return {
            "quantity": c.quantity, "stated": c.stated, "reading": self.reading or None, "status": self.status,
            "basis": self.basis, "exact": None if self.exact is None else sp.sstr(self.exact),
            "decimal": None if self.exact is None else decimal(self.exact),
            "difference": None if self.exact is None else decimal(self.difference),
            "source": c.source, "quote": c.quote, "note": c.note or None, "reason": c.reason or None,
            "local": self.local or None, "diagnosis": self.diagnosis, "explained": self.explained,
            "tried": self.tried,
        }


    def _formula_dict(self) -> dict:
        c, f = self.claim, self.formula

        def value(v):
            return None if v is None else sp.sstr(v)

        return {
            "formula": c.formula, "quantity": c.quantity or None, "symbols": c.symbols, "reading": self.reading or None,
            "status": self.status, "message": f.message or None, "proof": f.proof or None,
            "correct": f.correct or None, "region": f.region or None, "correct_in_region": f.correct_in_region or None,
            "branches": f.branches or None,
            "text_value": value(f.text_value), "exact": value(f.exact), "agrees_at_example": f.agrees,
            "source": c.source, "quote": c.quote, "note": c.note or None, "diagnosis": self.diagnosis,
        }


@dataclass
class FileReport:
    path: str
    title: str
    readings: list[str]
    results: list[Result]

    def counts(self, reading: str | None = None) -> dict[str, int]:
        rs = [r for r in self.results if reading is None or r.reading == reading]
        return {s: sum(r.status == s for r in rs) for s in STATUSES}

    @property
    def failed(self) -> bool:
        return any(r.status in ("mismatch", "unparseable") for r in self.results)


def verify(path: str | os.PathLike) -> FileReport:
    """The report for one derivation file; bad claims raise a located InputError."""
    try:
        return _verify(load(path), str(path))
    except InputError as e:
        raise e.located(str(path)) from None


def _verify(model, path: str) -> FileReport:
    readings = model_readings(model)
    claims = parse(model.claims, readings)
    results = []
    for name, m in readings.items():
        d = Derivation(m)
        trace = d.trace()
        cache: list | None = None
        for c in claims:
            if c.readings is not None and name not in c.readings:
                continue
            if c.formula:
                results.append(_check_formula(c, name, d, trace))
                continue
            r, needs = _check(c, name, m, d, trace)
            if needs:
                if cache is None:
                    cache = diagnosis.variants(m, d, trace, readings, name)
                key = key_of(trace, c.quantity, f"claims[{c.index}].quantity")
                found, r.tried = diagnosis.explain(key, c.value, c.decimals, cache)
                r.diagnosis, r.explained = found + r.diagnosis, bool(found)
                r.diagnosis += diagnosis.mislabelled(trace, key, c.value, c.decimals, m.parameters)
            results.append(r)
    return FileReport(path, model.title, [n for n in readings if n], results)


def _check(c: Claim, reading: str, m, d, trace) -> tuple[Result, bool]:
    """The result for one claim, and whether it needs a diagnosis."""
    where = f"claims[{c.index}]"
    if c.quantity.startswith("const:"):
        name = c.quantity[6:]
        if name not in CONSTANTS:
            raise InputError(f"unknown constant {name!r}; expected one of {', '.join(CONSTANTS)}", key=f"{where}.quantity")
        value = CONSTANTS[name]
        return Result(c, reading, judge(value, c.value, c.decimals), exact=value), False
    key = key_of(trace, c.quantity, f"{where}.quantity")
    stated = {key_of(trace, k, f"{where}.local.{k}"): sp.Rational(v.strip().lstrip("+")) for k, v in c.local.items()}
    free = key_of(trace, c.solve, f"{where}.solve") if c.solve else None
    local = None
    if stated or free:
        local = Local(d, trace, stated, strict=bool(c.declared), free=free, free_name=c.solve or "").check(key, c.value)
    inputs = ", ".join(f"{k} = {c.local[k].strip()}" for k in c.local)

    if c.declared:
        r = Result(c, reading, "unverifiable", basis="stated inputs")
        if local is None:
            return r, False
        if local.missing:
            r.local = f"cannot recompute from the text alone: it does not state {local.missing}"
        elif local.solved:
            sols = ", ".join(decimal(s) for s in local.solutions) or "no value"
            if local.possible:
                r.local = f"from {inputs}: needs {local.solved} = {sols}, which the text does not state"
            else:
                rng = Local(d, trace, stated, True, free).describe_range()
                r.status = "mismatch"
                r.local = f"from {inputs}: needs {local.solved} = {sols}, outside {rng}"
                r.diagnosis = ["the stated numbers contradict each other: no value of "
                               f"{local.solved} the network can produce gives {c.stated}"]
        else:
            r.status, r.exact = judge(local.value, c.value, c.decimals), local.value
            r.local = f"recomputed from the text's stated {inputs}"
            if r.status == "mismatch":
                r.diagnosis = [f"the step does not follow from the text's own stated {inputs}"]
        return r, False

    exact = trace.values[key]
    status = judge(exact, c.value, c.decimals)
    r = Result(c, reading, status, exact=exact)
    if local is not None and local.value is not None:
        verdict = judge(local.value, c.value, c.decimals)
        r.local = f"from the text's stated {inputs}: {decimal(local.value)} ({verdict})"
        if status == "mismatch" and verdict != "mismatch":
            r.diagnosis.append("the step itself is right from the text's stated inputs: the error enters upstream")
        elif verdict == "mismatch":
            r.diagnosis.append(f"the stated numbers contradict each other: {inputs} gives "
                               f"{decimal(local.value)}, not {c.stated}")
    return r, status == "mismatch"


def _check_formula(c: Claim, reading: str, d, trace) -> Result:
    where = f"claims[{c.index}]"
    f = formula_claims.check(c.formula, c.quantity or None, c.symbols, d, trace, where)
    r = Result(c, reading, f.status, exact=f.exact, formula=f)
    if f.status == "unparseable":
        r.diagnosis = [f.message]
        return r
    if f.proof and f.proof != "symbolic":
        r.diagnosis.append(f"equal {f.proof} (not proven symbolically)")
    if f.status == "mismatch":
        r.diagnosis.append(f"the derivation gives ${f.correct}$"
                           + (f"; where {f.branches} (as at the example): ${f.correct_in_region}$" if f.correct_in_region else ""))
        if f.region:
            r.diagnosis.append(f"the text's formula holds only where {f.region} (as at the example)")
        if f.agrees is not None:
            at = f"{decimal(f.text_value)} against {decimal(f.exact)}"
            r.diagnosis.append(("agrees at the example's values anyway (" + at + "): right number, wrong formula")
                               if f.agrees else f"at the example's values the text's formula gives {at}")
    return r
