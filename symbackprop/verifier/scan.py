"""``scan(text, model)``: every number of a text matched against every quantity of the model's exact trace.

Each reading's trace is indexed once (Index: values sorted by their float, a number's candidates found by
bisection, then judged exactly by rounding.py's ``judge`` at the number's own decimals); the diagnosis
variants likewise, for the numbers the model does not give. A number is then matched to one quantity
(the only one, the one the text names, or the one its words call it), ambiguous, matched only under a
convention, or matched by nothing; structure (text_numbers.STRUCTURE) and integers too short to
attribute are skipped. Work is bounded (MAX_VALUES, VARIANT_WORK), each cut said in the report. The
proposals become ``[[claims]]`` (toml_writer.claims), never repeating one the file already has.
"""

from __future__ import annotations

import functools
import json
import os
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import sympy as sp

from ..core import toml_writer
from ..core.atomic import read_input, write_atomic
from ..core.claims import Claim
from ..core.decimals import decimal
from ..core.derivation import Derivation
from ..core.derivation_file import load, loads
from ..core.errors import InputError, printable
from ..core.limits import limit, trace_units
from ..core.model import Model
from ..core.notation import quantity as symbol
from ..core.trace import Key
from ..core.values import CONTROL
from . import diagnosis
from .rounding import judge
from .status import Status
from .text_numbers import Number, aliases, choose, file_numbers, kind_of, named

MAX_VALUES = 20_000  # values indexed per trace: a long run's first and last iterations within it (about 2 s)
VARIANT_WORK = limit("work") // 20  # the variants' traces together, in trace units (1.5 s at 30 us a unit; closed forms are slower)
MAX_CANDIDATES = 400  # quantities within a number's precision judged; more: it says too little to attribute
SHORT = 10  # an integer below this, written without decimals, is too short to attribute unless the text names it
GROUPS = {"matched": "matched to one quantity", "ambiguous": "ambiguous between several quantities",
          "convention": "matches only under a convention", "unmatched": "matches nothing",
          "short": "too short to attribute", "structure": "skipped as structure"}
SHORT_WHY = f"an integer below {SHORT} written without decimals, and the text names no quantity for it"
LISTED = 12  # numbers a report line of skipped ones names
NOTED = 6  # other quantities a note names


@dataclass(frozen=True)
class Quantity:
    """What a number may be: its claim name (``a_b@2``, ``const:e``; a file input's ``input:x1`` names no trace
    quantity: ``claim`` False), symbol, where, kind, name without its iteration, and the names a text gives it."""

    name: str
    symbol: str
    at: str
    kind: str
    family: str
    iteration: int
    aliases: frozenset[str]
    claim: bool = True


@dataclass(frozen=True)
class Match:
    """A quantity a number holds for: ``also`` later iterations come within its precision too; ``readings``: the
    file's readings it holds under (None: all); ``conventions``: the variants it holds under, if only those."""

    quantity: Quantity
    value: sp.Expr
    truncated: bool = False
    also: int = 0
    readings: tuple[str, ...] | None = None
    conventions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """A number, its group (GROUPS), why, its matches best first, and its claim's note."""

    number: Number
    group: str
    how: str
    matches: tuple[Match, ...] = ()
    note: str = ""


@dataclass
class ScanReport:
    text: str
    model_path: str
    title: str
    findings: list[Finding]
    bounds: list[str] = field(default_factory=list)  # each bound that cut the search, in words
    key: Callable[[str], Key | None] = field(default=lambda name: None, repr=False)  # a claim name's trace Key

    def group(self, name: str) -> list[Finding]:
        return [f for f in self.findings if f.group == name]

    def counts(self) -> dict[str, int]:
        return {g: len(self.group(g)) for g in GROUPS}


class Index:
    """A trace's values sorted by their float, each with its Quantity: a number's candidates by bisection."""

    def __init__(self, entries: list[tuple[Quantity, sp.Expr]]) -> None:
        self.rows = sorted(((f, q, v) for q, v in entries if (f := _float(v)) is not None), key=lambda r: r[0])
        self.floats = [r[0] for r in self.rows]

    def holding(self, n: Number) -> list[Match] | None:
        """The quantities the number holds for at its decimals (rounded or truncated), each family once, at its
        first iteration that holds; None when more than MAX_CANDIDATES families come within its precision."""
        stated, s = sp.Rational(n.stated), float(n.stated)
        slack = 10.0 ** -n.decimals + 1e-9 * max(1.0, abs(s))
        lo, hi = bisect_left(self.floats, s - slack), bisect_right(self.floats, s + slack)
        rows = sorted(self.rows[lo:hi], key=lambda r: r[1].iteration)
        if len({q.family for _, q, _ in rows}) > MAX_CANDIDATES:
            return None
        found: dict[str, Match] = {}
        for _, q, value in rows:  # a family's first holding iteration; its later ones within the window are counted
            if q.family in found:
                found[q.family] = replace(found[q.family], also=found[q.family].also + 1)
            elif (status := judge(value, stated, n.decimals)) is not Status.MISMATCH:
                found[q.family] = Match(q, value, status is Status.TRUNCATED)
        return list(found.values())


def _float(value: sp.Expr) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):  # not a real number: nothing a text states
        return None


class Traced:
    """One reading of the file: its trace, the iterations searched, their Index and the names of iteration 1."""

    def __init__(self, name: str, model: Model, bounds: list[str]) -> None:
        self.name, self.model = name, model
        self._named: dict[str, tuple] = {}
        self.derivation = Derivation(model)
        self.trace = self.derivation.trace()
        last, per = model.iterations + 1, max(1, sum(1 for _ in self.trace.values.at(1)))
        head = max(1, MAX_VALUES // (2 * per))
        self.iterations = list(range(1, last + 1)) if last <= 2 * head else [*range(1, head + 1),
                                                                              *range(last - head + 1, last + 1)]
        if len(self.iterations) < last:
            bounds.append((f"reading {name!r}: " if name else "") + f"iterations {head + 1:,}..{last - head:,} of 1..{last:,} "
                          f"not searched (at most {MAX_VALUES:,} values of a trace, its first and last iterations)")
        entries = self.entries(self.trace, self.iterations) + self.inputs()
        self.index, self.names, self.families = Index(entries), {}, {}  # alias -> (q, v) of iteration 1; family -> all
        for q, v in entries:
            self.families.setdefault(q.family, []).append((q, v))
            for a in q.aliases if q.iteration == 1 else ():
                self.names.setdefault(a, []).append((q, v))

    def named(self, n: Number) -> Quantity | None:
        """The one trace quantity the text's name for a number means (a constant aside), at iteration 1, or at a later
        one whose value comes nearer the number by more than half (yb = 0.9982 after the update is b@2)."""
        families = {q.family for q, _ in self.names.get(named(n), ()) if q.claim and not q.name.startswith("const:")}
        families -= {f for f in families if f.partition("[")[0] in families and "[" in f}  # E, not E[1] and E[2]
        if len(families) != 1:
            return None
        s, rows = float(n.stated), self.families[families.pop()]
        off = {q: abs(x - s) / max(abs(s), 1e-300) if (x := _float(v)) is not None else float("inf") for q, v in rows}
        best = min(off, key=off.get)
        return best if off[best] < min(1.0, off[rows[0][0]] / 2) else rows[0][0]

    def quantity(self, key: Key) -> Quantity:
        ex = key.example if len(self.model.examples) > 1 else None
        family = key.name + (f"[{ex}]" if ex is not None else "")
        at = ", ".join(([f"example {ex}"] if ex is not None else []) + ([f"iteration {key.iteration}"] if key.iteration != 1 else []))
        if key.name not in self._named:  # a name's symbol, kind and aliases: once, not once per iteration
            shown = symbol(key.name, self.derivation.symbol_of)
            self._named[key.name] = shown, kind_of(key.name, self.model), aliases(key.name, shown, self.model)
        shown, kind, names = self._named[key.name]
        return Quantity(family + (f"@{key.iteration}" if key.iteration != 1 else ""), shown, at, kind, family,
                        key.iteration, names)

    def entries(self, trace, iterations, shift: int = 0) -> list[tuple[Quantity, sp.Expr]]:
        """(Quantity, value) of each traced value at ``iterations``, once per claim name; ``shift``: the trace's
        iteration t + shift stands for the claim's t (a variant that does a step twice, or skips one)."""
        out, seen = [], set()
        for t in iterations:
            if 1 <= t + shift <= trace.iterations + 1:
                for key, value in trace.values.at(t + shift):
                    q = self.quantity(Key(key.name, key.example, t))
                    if q.name not in seen:
                        seen.add(q.name)
                        out.append((q, value))
        return out

    def key(self, name: str) -> Key | None:
        try:
            return self.trace.key(name)
        except InputError:  # a const: name: compared as text
            return None

    def inputs(self) -> list[tuple[Quantity, sp.Expr]]:
        """The file's own numbers no trace quantity names (``input:x1``: not a claim), and the constants (``const:e``)."""
        return [(Quantity(name, shown, at, kind, name, 1, names, claim=name.startswith("const:")), v)
                for name, shown, at, kind, names, v in file_numbers(self.model)]


def scan(found: list[Number], model: Model, text: str = "text", model_path: str = "model") -> ScanReport:
    """Each number against each reading of ``model``; those none gives, against the variants of its first reading."""
    model.check_unambiguous("its claims")
    bounds: list[str] = []
    readings = [Traced(name, m, bounds) for name, m in model.under_readings().items()]
    conventions = _conventions(readings[0], {n.decimals for n in found if not n.structure}, bounds)
    findings = [_finding(n, readings, conventions) for n in found]
    return ScanReport(text, model_path, model.title, findings, bounds, readings[0].key)


def _conventions(r: Traced, decimals: set[int], bounds: list[str]) -> Callable[[], list[tuple[str, Index]]]:
    """The diagnosis variants of a reading, each indexed, as far as VARIANT_WORK allows: built when first asked for."""

    @functools.cache
    def build() -> list[tuple[str, Index]]:
        m = r.model
        variants = [v for v in diagnosis.variants(m, r.derivation, r.trace) if v.reruns]
        own = sorted(set(range(5, diagnosis.MAX_TEXT_DECIMALS + 1)) & decimals - {v.rounding for v in variants})
        variants += [diagnosis.Variant(f"every intermediate value rounded to {k} decimals before going on (as the text "
                                       "writes its numbers)", m, rounding=k) for k in own]
        searched = [t for t in r.iterations if len(variants) * trace_units(m, t) <= VARIANT_WORK]
        if len(searched) < len(r.iterations):
            tried = f"at iterations 1..{max(searched):,} only" if searched else "at no iteration"
            bounds.append(f"conventions tried {tried} (each of {len(variants)} re-runs the trace: at most "
                          f"{VARIANT_WORK:,} units of trace work in all)")
        traces = [(v, v.trace(max(searched) + max(v.shift, 0))) for v in variants] if searched else []
        return [(v.label, Index(r.entries(t, searched, v.shift))) for v, t in traces if t is not None]

    return build


def _finding(n: Number, readings: list[Traced], conventions: Callable[[], list[tuple[str, Index]]]) -> Finding:
    if n.structure:
        return Finding(n, "structure", n.why)
    short = n.integer and abs(int(n.stated)) < SHORT
    per = [r.index.holding(n) for r in readings]
    if any(h is None for h in per):
        return Finding(n, "short", f"more than {MAX_CANDIDATES} quantities come within its precision")
    matches, target = _combined(per, [r.name for r in readings]), readings[0].named(n)
    if matches and (target is None or any(named(n) in mm.quantity.aliases for mm in matches)):
        ordered, how = choose(n, matches)
        if short and not how.startswith("named"):
            return Finding(n, "short", SHORT_WHY, tuple(ordered))
        return Finding(n, "matched" if how else "ambiguous", how or "several quantities have this value", tuple(ordered),
                       _note(ordered, bool(how)))
    if short:  # named or not, a bare digit that does not hold is not attributed
        return Finding(n, "short", SHORT_WHY)
    held: dict[str, Match] = {}
    for label, index in conventions():
        for mm in index.holding(n) or []:
            held[mm.quantity.name] = replace(w := held.get(mm.quantity.name, mm), conventions=(*w.conventions, label))
    ordered, how = choose(n, list(held.values())) if held else ([], "")
    labels = "; ".join(dict.fromkeys(c for mm in ordered for c in mm.conventions))
    if how.startswith(("named", "by its words")):  # a convention gives so many values: the text must say which
        return Finding(n, "convention", how, tuple(ordered), f"matches only under a convention: {labels}")
    if target is not None:  # what the text calls it, for verify to explain
        value = next(v for q, v in readings[0].families[target.family] if q == target)
        fits = f" (its value is {matches[0].quantity.name}'s: a label mixed up?)" if matches else ""
        return Finding(n, "unmatched", f"the text calls it {n.name!r}, but {target.name} is {decimal(value)}{fits}: "
                       "proposed, for verify to explain", (Match(target, value),),
                       f"named {n.name!r} in the text; the trace gives {decimal(value)}{fits}")
    return Finding(n, "unmatched", f"no quantity gives it; under a convention {ordered[0].quantity.name} would ({labels}),"
                   " but nothing in the text says it is that" if held else "no quantity, and no convention tried, gives it")


def _note(ordered: list[Match], matched: bool) -> str:
    """The claim's note: the readings it holds under, the other quantities it fits."""
    rs = ordered[0].readings
    parts = [f"holds under the reading{'s' * (len(rs) > 1)} {', '.join(rs)} only"] if rs is not None else []
    if len(ordered) > 1:
        others = [f"{mm.quantity.name} ({mm.quantity.symbol})" for mm in ordered[1:]]
        more = f" and {len(others) - NOTED} more" if len(others) > NOTED else ""
        parts.append(("also equal: " if matched else "ambiguous: equally ") + ", ".join(others[:NOTED]) + more)
    return "; ".join(parts)


def _combined(per: list[list[Match]], names: list[str]) -> list[Match]:
    """The matches under any reading, each tagged with the readings it holds under (None: every one)."""
    under: dict[str, list[str]] = {}
    first: dict[str, Match] = {}
    for name, matches in zip(names, per):
        for mm in matches:
            under.setdefault(mm.quantity.name, []).append(name)
            first.setdefault(mm.quantity.name, mm)
    return [first[q] if len(rs) == len(names) else replace(first[q], readings=tuple(rs)) for q, rs in under.items()]


# -- claims ---------------------------------------------------------------------------------------------------
def claim(f: Finding, source: str, index: int = 0) -> Claim | None:
    """The claim a finding proposes: its first quantity, if that is a trace quantity (none for structure, a short
    number, one nothing gives that the text names nothing, or one whose likeliest meaning is a file's own input)."""
    if f.group in ("short", "structure") or not f.matches or not f.matches[0].quantity.claim or (
            f.group == "ambiguous" and f.number.operand):  # an ambiguous term of the text's arithmetic: reported only
        return None
    best = f.matches[0]
    return Claim(index, best.quantity.name, f.number.stated, f"{source}:{f.number.line}", CONTROL.sub(" ", f.number.quote),
                 note=f.note, readings=best.readings)


def source_name(r: ScanReport) -> str:
    """The text's file name as a claim's source writes it (FILE:LINE: no blank or colon in FILE)."""
    return re.sub(r"[\s:]", "_", os.path.basename(r.text)) or "text"


def proposed(r: ScanReport, existing: tuple[Claim, ...] = ()) -> tuple[list[Claim], int]:
    """The claims the report proposes, none repeating another or one of ``existing``; and how many repeats were left out."""
    out: list[Claim] = []
    for c in filter(None, (claim(f, source_name(r), len(out)) for f in r.findings)):
        if not any(_same(c, d, r.key, line=True) for d in existing) and not any(_same(c, d, r.key) for d in out):
            out.append(c)
    return out, sum(claim(f, "") is not None for f in r.findings) - len(out)


def _same(c: Claim, d: Claim, key: Callable[[str], Key | None], line: bool = False) -> bool:
    """The same claim: the same stated value for the same quantity (``w_a1`` is ``w_a1@1``), or (``line``, a claim the
    file has) at the same source line; two numbers of one line are two claims of the text (ReLU (0.5) = 0.5)."""
    if d.formula or c.stated.lstrip("+") != d.stated.lstrip("+"):
        return False
    return line and c.source == d.source or c.quantity == d.quantity or (k := key(c.quantity)) is not None and k == key(d.quantity)


def write(r: ScanReport, output: str | None = None) -> tuple[int, int]:
    """The proposed claims to ``output`` (a file of claims alone), or appended to the model's own file; both
    atomically, leaving out every claim the model's file already has. (written, left out as repeats)."""
    claims, repeats = proposed(r, load(r.model_path).claims)
    text = f"# claims proposed by symbackprop scan {printable(os.path.basename(r.text))}: review each\n" + toml_writer.claims(claims)
    if output is not None:
        write_atomic(output, text)
    elif claims:
        new = read_input(r.model_path).decode("utf-8").rstrip("\n") + "\n\n" + text
        try:
            loads(new)  # what is written loads: never a file its next reading refuses
        except InputError as e:
            raise InputError(f"the proposed claims would not load ({e.what}); nothing written", file=r.model_path) from None
        write_atomic(r.model_path, new)
    return len(claims), repeats


# -- the report -----------------------------------------------------------------------------------------------
def _said(mm: Match, stated: str) -> str:
    q = mm.quantity
    extra = ([q.name] if q.name != q.symbol else []) + ([f"truncated from {decimal(mm.value)}"] if mm.truncated else []) \
        + ([f"reading {', '.join(mm.readings)}"] if mm.readings is not None else [])
    return f"{q.symbol} = {stated}" + (f", {q.at}" if q.at else "") + (f" ({'; '.join(extra)})" if extra else "")


def text(r: ScanReport) -> str:
    """The report for a terminal: each group, a line per number (the skipped ones by reason)."""
    c, out = r.counts(), [f"{r.text} against {r.model_path}" + (f": {r.title}" if r.title else "")]
    out += [f"  {len(r.findings)} numbers: " + ", ".join(f"{c[g]} {GROUPS[g]}" for g in GROUPS) if r.findings
            else "  no numbers in this text"] + [f"  bound: {b}" for b in r.bounds]
    for g in GROUPS:
        out += ["", f"{GROUPS[g]} ({c[g]})"] if c[g] else []
        if g in ("short", "structure"):
            by: dict[str, list[Finding]] = {}
            for f in r.group(g):
                by.setdefault(f.how, []).append(f)
            out += [f"  {how} ({len(fs)}): " + ", ".join(f"{f.number.written} (line {f.number.line})" for f in fs[:LISTED])
                    + (f", and {len(fs) - LISTED} more" if len(fs) > LISTED else "") for how, fs in by.items()]
            continue
        for f in r.group(g):
            n = f.number
            out += [f"  line {n.line}: {_said(f.matches[0], n.stated) if f.matches else n.stated}    {f.how}"]
            out += [f"      {f.note}"] * bool(f.note) + [f'      "{n.quote}"']
    return "\n".join(printable(line) for line in out) + "\n"


def as_dict(r: ScanReport) -> dict:
    """The report as JSON data, stable keys; each number with the claim it proposes (before repeats are left out)."""
    def number(f: Finding, c: Claim | None) -> dict:
        n, m = f.number, [{"quantity": mm.quantity.name, "symbol": mm.quantity.symbol, "at": mm.quantity.at or None,
                           "claim": mm.quantity.claim, "exact": sp.sstr(mm.value), "decimal": decimal(mm.value),
                           "truncated": mm.truncated, "later_iterations": mm.also, "readings": mm.readings and list(mm.readings),
                           "conventions": list(mm.conventions)} for mm in f.matches]
        return {"line": n.line, "column": n.column, "written": n.written, "stated": n.stated, "quote": n.quote,
                "group": f.group, "reason": f.how, "rule": n.structure or None, "name": n.name or None, "matches": m,
                "note": f.note or None, "claim": c and {"quantity": c.quantity, "stated": c.stated, "source": c.source,
                                                        "quote": c.quote, "note": c.note or None,
                                                        "readings": c.readings and list(c.readings)}}

    return {"text": r.text, "model": r.model_path, "title": r.title, "summary": {"numbers": len(r.findings), **r.counts()},
            "bounds": r.bounds, "numbers": [number(f, claim(f, source_name(r))) for f in r.findings]}


def to_json(r: ScanReport) -> str:
    return json.dumps(as_dict(r), indent=2, ensure_ascii=False) + "\n"
