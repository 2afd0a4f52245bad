"""``verify(path)``: every claim of a derivation file checked, located and explained.

One way through, per reading of the file and per claim: the claim's trace key and its local
check (from the text's own stated inputs) are computed once; the status and, for a mismatch, the
diagnosis (diagnosis.py) follow from them; then one frozen Result is built. The claims arrive
parsed and validated by ``load``; what needs the trace (a quantity name resolving) fails here,
located. The printers for text, Markdown and JSON are in reports.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

import sympy as sp

from ..core.claims import CONSTANTS, Claim
from ..core.decimals import decimal
from ..core.derivation import Derivation
from ..core.derivation_file import load
from ..core.errors import InputError
from ..core.long_run import DIGITS
from ..core.model import Model
from ..core.notation import quantity
from ..core.trace import Key
from . import closeness, diagnosis, formula_claims, layered_forms
from .local_check import Local, LocalResult
from .rounding import judge
from .status import Status

STATED_INPUTS = "stated inputs"  # the basis of a result recomputed from the text's own numbers


@dataclass(frozen=True)
class Result:
    claim: Claim
    reading: str
    status: Status
    symbol: str = ""  # the quantity as the walkthrough writes it (b for a_b), for the report
    at: str = ""  # where in the trace, in words: "example 2, iteration 3"
    certain: int | None = None  # significant digits of the exact value that are certain (a long run's); None: exact
    basis: str = "model"  # "model": the file's exact trace; "stated inputs": the text's own numbers
    exact: sp.Expr | None = None
    local: str = ""
    diagnosis: tuple[str, ...] = ()
    tried: tuple[str, ...] = ()
    explained: bool = False  # some alternative convention reproduces the stated number
    formula: formula_claims.FormulaResult | None = None  # for a formula claim

    @property
    def difference(self) -> sp.Expr | None:
        return None if self.exact is None else self.exact - self.claim.value

    @property
    def near(self) -> closeness.Closeness | None:
        """How near a mismatched number comes (closeness.py); None for any other result, a formula
        claim, or one with no exact number to compare."""
        c = self.claim
        if self.status is not Status.MISMATCH or self.exact is None or c.formula:
            return None
        return closeness.measure(c.value, c.decimals, self.exact)

    def as_dict(self) -> dict:
        c = self.claim
        if c.formula:
            return self._formula_dict()
        near = self.near
        return {
            "quantity": c.quantity, "symbol": self.symbol or c.quantity, "at": self.at or None, "certain_digits": self.certain,
            "stated": c.stated, "reading": self.reading or None, "status": self.status,
            "basis": self.basis, "exact": None if self.exact is None else sp.sstr(self.exact),
            "decimal": None if self.exact is None else decimal(self.exact),
            "difference": None if self.exact is None else decimal(self.difference),
            **(closeness.NONE if near is None else near.as_dict()),
            "source": c.source, "quote": c.quote or None, "note": c.note or None, "reason": c.reason or None,
            "local": self.local or None, "diagnosis": list(self.diagnosis), "explained": self.explained,
            "tried": list(self.tried),
        }

    def _formula_dict(self) -> dict:
        c, f = self.claim, self.formula

        def value(v):
            return None if v is None else sp.sstr(v)

        return {
            "formula": c.formula, "quantity": c.quantity or None, "symbols": c.symbols, "reading": self.reading or None,
            "status": self.status, "message": f.message or None, "proof": f.proof or None,
            "correct": f.correct or None, "region": f.region or None, "correct_in_region": f.correct_in_region or None,
            "branches": f.branches or None, "omits": f.omits or None, "adds": f.adds or None,
            "text_value": value(f.text_value), "exact": value(f.exact), "agrees_at_example": f.agrees,
            "source": c.source, "quote": c.quote or None, "note": c.note or None, "diagnosis": list(self.diagnosis),
            "layer": list(c.layer) if isinstance(c.layer, tuple) else c.layer, "input_layer": c.input_layer,
            "components": [{"formula": text, "status": r.status, "text_value": value(r.text_value), "exact": value(r.exact)}
                           for text, r in f.components],
        }


@dataclass(frozen=True)
class FileReport:
    path: str
    title: str
    readings: tuple[str, ...]
    results: tuple[Result, ...]

    def counts(self, reading: str | None = None) -> dict[Status, int]:
        rs = [r for r in self.results if reading is None or r.reading == reading]
        return {s: sum(r.status is s for r in rs) for s in Status}

    @property
    def failed(self) -> bool:
        return any(r.status.failed for r in self.results)


def verify(path: str | os.PathLike, progress: Callable[[int, int], None] | None = None, digits: int = DIGITS) -> FileReport:
    """The report for one derivation file; bad claims raise a located InputError. ``progress(done,
    total)``, if given, hears of each traced iteration of each reading, then of each claim checked."""
    try:
        return _verify(load(path), str(path), progress, digits)
    except InputError as e:
        raise e.located(str(path)) from None


def _verify(model: Model, path: str, progress: Callable[[int, int], None] | None = None, digits: int = DIGITS) -> FileReport:
    model.check_unambiguous("its claims and report")
    readings = model.under_readings()
    checks = sum(c.belongs_to(name) for name in readings for c in model.claims)
    total, done = len(readings) * (model.iterations + 1) + checks, 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    at = {name: _Reading(name, m, lambda t, _: step(), digits) for name, m in readings.items()}
    # each reading is an alternative for the others, with the trace it runs anyway: R traces, not R x R
    shared = {name: diagnosis.reading(name, lambda r=r: r.trace) for name, r in at.items()}
    values = {name: _overridden(model, name) for name in at}
    results = []
    for name, r in at.items():
        r.others = [v for n, v in shared.items() if n != name and values[n] != values[name]]
        for c in model.claims:
            if c.belongs_to(name):
                results.append(r.check(c))
                step()
    return FileReport(path, model.title, tuple(n for n in at if n), tuple(results))


def _overridden(model: Model, reading: str) -> frozenset:
    """What a reading changes (its overrides that differ from the file's own values): two readings
    with the same are the same model, and neither is an alternative for the other."""
    r = model.readings.get(reading)
    if r is None:
        return frozenset()
    return frozenset({(kind, p, v) for kind, own, overrides in (("parameters", model.parameters, r.parameters),
                                                               ("constants", model.constants, r.constants))
                      for p, v in overrides.items() if own[p] != v})


@dataclass(frozen=True)
class _Check:
    """A claim's local check: the step it recomputed (whose range a contradiction names) and what it gave."""

    step: Local
    result: LocalResult


class _Reading:
    """One reading of the file: its derivation and trace, and the diagnosis variants (built at the first mismatch)."""

    def __init__(self, name: str, model: Model, progress: Callable[[int, int], None] | None = None,
                 digits: int = DIGITS) -> None:
        self.name, self.model = name, model
        self.derivation = Derivation(model)
        self.trace = self.derivation.trace(progress=progress, digits=digits)
        self.others: list[diagnosis.Variant] = []  # the file's other readings, as alternatives (set by _verify)

    @cached_property
    def stated(self) -> dict[Key, sp.Rational]:
        """The number claims of this reading by trace key (the first one stated for a key)."""
        out: dict[Key, sp.Rational] = {}
        for c in self.model.claims:
            if c.belongs_to(self.name) and not c.formula and not c.declared and not c.quantity.startswith("const:"):
                out.setdefault(key_of(self.trace, c.quantity, f"{c.where}.quantity"), c.value)
        return out

    @cached_property
    def variants(self) -> list[diagnosis.Variant]:
        return diagnosis.variants(self.model, self.derivation, self.trace, self.others)

    def check(self, c: Claim) -> Result:
        if c.formula:
            return self._formula(c)
        if c.quantity.startswith("const:"):
            value = CONSTANTS[c.quantity[6:]]
            return Result(c, self.name, judge(value, c.value, c.decimals), exact=value)
        key = key_of(self.trace, c.quantity, f"{c.where}.quantity")
        local = self._local(c, key)
        result = self._declared(c, local) if c.declared else self._number(c, key, local)
        certain = self.trace.certain(key) if result.basis == "model" else None
        return replace(result, symbol=quantity(key.name, self.derivation.symbol_of), at=self.at(key), certain=certain)

    def at(self, key: Key) -> str:
        """Where a trace key is, in words: ``a_b[2]@3`` is at ``example 2, iteration 3`` (the iteration
        said when it is not the first, the example when the file has several)."""
        where = [f"example {key.example}"] if key.example is not None and len(self.model.examples) > 1 else []
        return ", ".join(where + ([f"iteration {key.iteration}"] if key.iteration != 1 else []))

    def _local(self, c: Claim, key: Key) -> _Check | None:
        """The step recomputed from the text's stated inputs (or solved for its one free input), if the claim gives them."""
        stated = {key_of(self.trace, k, f"{c.where}.local.{k}"): sp.Rational(v.lstrip("+")) for k, v in c.local.items()}
        free = key_of(self.trace, c.solve, f"{c.where}.solve") if c.solve else None
        if not stated and free is None:
            return None
        step = Local(self.derivation, self.trace, stated, strict=bool(c.declared), free=free, free_name=c.solve or "")
        return _Check(step, step.check(key, c.value))

    def _number(self, c: Claim, key: Key, check: _Check | None) -> Result:
        exact = self.trace.values[key]
        status = judge(exact, c.value, c.decimals)
        local, notes = "", ()
        if check is not None and check.result.value is not None:
            value, inputs = check.result.value, self._inputs(c)
            verdict = judge(value, c.value, c.decimals)
            local = f"from the text's stated {inputs}: {decimal(value)} ({verdict})"
            if status is Status.MISMATCH and verdict is not Status.MISMATCH:
                notes = ("the step itself is right from the text's stated inputs: the error enters upstream",)
            elif verdict is Status.MISMATCH:
                notes = (f"the stated numbers contradict each other: {inputs} gives {decimal(value)}, not {c.stated}",)
        if status is not Status.MISMATCH:
            return Result(c, self.name, status, exact=exact, local=local, diagnosis=notes)
        long = self.trace.values.long is not None and key.iteration >= self.trace.values.long.start
        candidates = self.variants + ([] if long else diagnosis.carried(self.model, self.stated, key))
        budget = diagnosis.over_budget(self.model, candidates, key, long)  # each variant but a reading re-runs the trace
        found, tried = ([], []) if budget else diagnosis.explain(key, c.value, c.decimals, candidates, long)
        notes = (*notes, budget) if budget else notes
        labels = diagnosis.mislabelled(self.trace, key, c.value, c.decimals, self.model.parameters)
        return Result(c, self.name, status, exact=exact, local=local, diagnosis=(*found, *notes, *labels),
                      tried=tuple(tried), explained=bool(found))

    def _declared(self, c: Claim, check: _Check | None) -> Result:
        """A claim the file declares unverifiable from the model: judged, if at all, from the text's own numbers."""
        if check is None:
            return Result(c, self.name, Status.UNVERIFIABLE, basis=STATED_INPUTS)
        got, inputs = check.result, self._inputs(c)
        if got.missing:
            return Result(c, self.name, Status.UNVERIFIABLE, basis=STATED_INPUTS,
                          local=f"cannot recompute from the text alone: it does not state {got.missing}")
        if got.solved:
            needs = f"from {inputs}: needs {got.solved} = {', '.join(decimal(s) for s in got.solutions) or 'no value'}"
            if got.possible:
                return Result(c, self.name, Status.UNVERIFIABLE, basis=STATED_INPUTS,
                              local=f"{needs}, which the text does not state")
            return Result(c, self.name, Status.MISMATCH, basis=STATED_INPUTS,
                          local=f"{needs}, outside {check.step.describe_range()}",
                          diagnosis=("the stated numbers contradict each other: no value of "
                                     f"{got.solved} the network can produce gives {c.stated}",))
        status = judge(got.value, c.value, c.decimals)
        contradicted = (f"the step does not follow from the text's own stated {inputs}",) if status is Status.MISMATCH else ()
        return Result(c, self.name, status, basis=STATED_INPUTS, exact=got.value,
                      local=f"recomputed from the text's stated {inputs}", diagnosis=contradicted)

    def _inputs(self, c: Claim) -> str:
        """The text's stated inputs of a local check, named as the walkthrough names them."""
        def named(k: str) -> str:
            key = self.trace.key(k)
            return quantity(key.name, self.derivation.symbol_of) + (f" ({self.at(key)})" if self.at(key) else "")

        return ", ".join(f"{named(k)} = {v}" for k, v in c.local.items())

    def _formula(self, c: Claim) -> Result:
        f = layered_forms.check(c, self.derivation, self.trace) if layered_forms.is_layered(c, self.model) else None
        if f is not None:  # vector and index forms: checked per component
            return Result(c, self.name, f.status, formula=f, diagnosis=tuple(layered_forms.describe(f)))
        f = formula_claims.check(c.formula, c.quantity or None, c.symbols, self.derivation, self.trace, c.where)
        return Result(c, self.name, f.status, exact=f.exact, formula=f, diagnosis=tuple(_formula_diagnosis(f)))


def _formula_diagnosis(f: formula_claims.FormulaResult) -> list[str]:
    """What a formula's result says: the parser's message, how it was proven, or what is right instead."""
    if f.status is Status.UNPARSEABLE:
        return [f.message]
    out = []
    if f.proof and f.proof != "symbolic":
        out.append(f"equal {f.proof} (not proven symbolically)")
    if f.status is Status.CONDITIONAL:  # right on the example's side of the kinks it leaves out: say where, and what
        what = [f"the text omits {f.omits}"] * bool(f.omits) + [f"the text adds {f.adds}, which the derivation has not"] * bool(f.adds)
        out.append(f"holds where {f.region} (as at the example)" + (f": {'; '.join(what)}" if what else ""))
        out.append(f"in general the derivation gives ${f.correct}$")
    if f.status is Status.MISMATCH:
        if f.message:  # the text's formula is undefined or not real at the example, say
            out.append(f.message)
        out.append(f"the derivation gives ${f.correct}$"
                   + (f"; where {f.branches} (as at the example): ${f.correct_in_region}$" if f.correct_in_region else ""))
        if f.region:  # equal where it holds, but with no value at the example itself
            out.append(f"the text's formula holds only where {f.region}, and has no value at the example's values")
        if f.agrees:  # a wrong formula that happens to give the example's value
            out.append(f"right number, wrong formula: at the example's values it gives {decimal(f.exact)} as the "
                       "derivation does, by coincidence")
        elif f.agrees is not None:
            out.append(f"wrong at the example: the text's formula gives {decimal(f.text_value)} against {decimal(f.exact)}")
    return out


def key_of(trace, quantity: str, where: str) -> Key:
    """The trace's Key for a claim's quantity name; an unknown name is located at the claim's key."""
    try:
        return trace.key(quantity)
    except InputError as e:
        raise InputError(e.what, key=where) from None
