"""The bounds of the formula reader: what one formula claim may cost before it is refused.

A formula is file text: it must not make the reader, the parser or the comparison run for ever
or crash. Each bound is checked before the step whose cost it bounds (docs/formulas.md, Limits):
the text's size, nesting and exponent towers before the normaliser and the parser; the parser's
input before antlr reads it; the numbers of the parsed expression before SymPy evaluates them;
the size of an expansion before ``sp.expand``. Values are computed here without recursion, at a
fixed precision and within a fixed range (``value_at``), so that a formula that overflows or is
undefined at the example says so instead of raising or running on.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy as sp
from sympy import integer_nthroot
from sympy.functions.elementary.piecewise import ExprCondPair

from .latex_names import FormulaError

# the longest formula the printers emit is 1333 characters (a two-hidden-layer network's composed
# error function): 3x that. Cost: the normaliser's regular-expression passes over the text
MAX_CHARS = 4000
# brackets ( { [ inside each other; the printers nest 8 deep. Cost: the reader recurses once per
# function applied, and antlr's prediction and SymPy's tree walks once per level
MAX_DEPTH = 16
# exponents inside exponents (a^{b^{c}} is 2); the printers write 1. Cost: each level is an
# exponential of the last, so a tower 4 high of small numbers has more digits than memory holds
MAX_TOWER = 3
# what antlr reads of one formula, summed over its pieces (a placeholder counts one); the
# printers' longest needs 453. Cost: antlr's adaptive prediction (0.1 ms a token, up to 7 ms for
# a construct like e^{...}) and its recursion (a chain of 1000 terms passes Python's limit)
MAX_PARSER_TOKENS = 1500
# the parser's reading nested inside itself: a chain a/b/c/... or a - b - c - ... comes back one level
# per term, unevaluated; the printers' formulas need 8. Cost: SymPy's tree walks (free_symbols, hashing,
# xreplace) recurse once per level, and a chain of 500 divisions passes Python's recursion limit
MAX_NESTING = 100
# a power's exponent, when it is a number. Cost: exact arithmetic on x^n builds numbers of n digits
# and sp.expand of (a + b)^n has n + 1 terms
MAX_EXPONENT = 1000
# a number of the text: at most 10^1000 in size. Cost: exact arithmetic on it; Python will not print
# an integer of more than 4300 digits
MAX_DIGITS = 1000
# a value computed at a point (the example, or a random point of the identity test): at most
# 10^(10^7) in size. Cost: exp(x) needs the digits of x as extra precision, so exp(exp(exp(x)))
# overflows any precision; legitimate values stay far below (a sigmoid's exp(5000) is 10^2172)
MAX_VALUE_DIGITS = 10**7
# the bits of that computation (48 digits), doubled up to 4 times where a value shown to 40 digits
# needs them. Cost: mpmath's time per operation grows with it
PRECISION_BITS = 160
# an exact rational of more bits is computed in floating point instead. Cost: exact powers and
# products of long integers (x^1000 at 300/7 has 8230 bits)
MAX_EXACT_BITS = 100_000
# the terms sp.expand would build (a product of sums multiplies their terms); the printers' need
# 185. Cost: 0.1-0.2 ms a term; beyond it the identity is tested at the random points alone
MAX_EXPAND_TERMS = 5000
RESERVED = {"\x00": "U+0000", "\x01": "U+0001"}  # the normaliser's placeholders are "\x00N\x01"

PARSER_TOKEN = re.compile(r"\\text\{v\d+\}|\\[A-Za-z]+|\d+|[A-Za-z]|\S")


class Undefined(ArithmeticError):
    """A value that is not a finite number here: the reason, one line."""


def check_text(text: str) -> None:
    """The raw formula: its size, and none of the characters the normaliser reserves."""
    if len(text) > MAX_CHARS:
        raise FormulaError(f"the formula is {len(text)} characters; the reader reads at most {MAX_CHARS}")
    for ch, name in RESERVED.items():
        if ch in text:
            raise FormulaError(f"the formula contains the control character {name}, which the reader reserves for its placeholders")


def check_shape(text: str) -> None:
    """The formula written as LaTeX: its size, the nesting of its brackets and its exponent towers, in one scan."""
    if len(text) > MAX_CHARS:
        raise FormulaError(f"the formula is {len(text)} characters once written as LaTeX; the reader reads at most {MAX_CHARS}")
    depth = deepest = height = tallest = 0
    exponents: list[bool] = []  # per open brace: is it an exponent's?
    last = ""  # the last character that is not a space
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
            if ch == "{":
                exponents.append(last == "^")
                height += exponents[-1]
        elif ch in ")]}":
            depth = max(depth - 1, 0)
            if ch == "}" and exponents:
                height -= exponents.pop()
        elif ch == "^":
            tallest = max(tallest, height + 1)
        if not ch.isspace():
            last = ch
    if deepest > MAX_DEPTH:
        raise FormulaError(f"the formula nests brackets {deepest} deep; the reader reads at most {MAX_DEPTH}")
    if tallest > MAX_TOWER:
        raise FormulaError(f"the formula has a tower of {tallest} exponents; the reader reads at most {MAX_TOWER}")


def parser_tokens(used: int, given: str) -> int:
    """What antlr will have read of one formula with ``given`` too; refused beyond the bound."""
    used += len(PARSER_TOKEN.findall(given))
    if used > MAX_PARSER_TOKENS:
        raise FormulaError(f"the formula is more than {MAX_PARSER_TOKENS} tokens for the parser; it reads at most {MAX_PARSER_TOKENS}")
    return used


def check_numbers(expr: sp.Basic, known: dict[sp.Symbol, sp.Basic]) -> None:
    """The parser's reading, before SymPy evaluates it: every exponent that is a number at most
    MAX_EXPONENT, every number at most 10^MAX_DIGITS. ``known``: placeholders that stand for a number."""
    c = _context(PRECISION_BITS)

    def check(e: sp.Basic, args: list, value) -> None:
        if isinstance(e, sp.Pow) and _number(args[1]) and abs(args[1]) > MAX_EXPONENT:
            raise FormulaError(f"the exponent {c.nstr(args[1], 6)} is beyond what a text's formula needs (at most {MAX_EXPONENT})")
        if isinstance(value, _Bad) and value.overflow:
            raise FormulaError(f"{value.why}: the reader reads numbers up to 10^{MAX_DIGITS} in size")

    values = {s: _fold(v, {}, MAX_DIGITS, c, check, _number_text)[0] for s, v in known.items()}
    _fold(expr, values, MAX_DIGITS, c, check, _number_text)


def value_at(expr: sp.Basic, point: dict, real: bool = False, digits: int = 0):
    """``expr`` at ``point`` (symbol -> number) as an mpmath number, to ``digits`` where given; None
    where it names something not valued here or a function not computed here. Raises Undefined,
    with the reason, where it overflows, divides by zero, takes the log of 0, or (``real``) is not real."""
    bits, last = PRECISION_BITS, None
    while True:
        c, value, _ = _evaluate(expr, point, bits)
        if value is None:
            return None
        if real and c.im(value) != 0 and abs(c.im(value)) > abs(value) * 1e-30:
            raise Undefined(f"not a real number: {c.nstr(value, 6)}")
        if not digits or bits >= 16 * PRECISION_BITS or (last is not None and abs(value - last) <= abs(value) * 10 ** -(digits + 2)):
            return c.re(value) if real else value
        bits, last = 2 * bits, value


def zero_at(expr: sp.Basic, point: dict) -> bool | None:
    """Whether ``expr`` is 0 at ``point``, as SymPy's exact or 30-digit value would say (within
    1e-20): exactly where it is rational, else computed within bounds (raises Undefined); None
    where it has a function not computed here."""
    exact = exact_at(expr, point)
    if exact is not None:
        return exact == 0 or abs(exact) < sp.Rational(1, 10**20)
    c, value, done = _evaluate(expr, point, PRECISION_BITS)
    if value is None:
        return None
    scale = max([abs(done[t]) for t in expr.args if _number(done[t])] + [abs(value)])  # the terms cancelled
    return abs(value) < 1e-20 or abs(value) <= scale * c.mpf(2) ** (40 - PRECISION_BITS)


def _evaluate(expr: sp.Basic, point: dict, bits: int):
    """(the context, ``expr``'s value at ``point`` or None, every subexpression's value)."""
    c = _context(bits)
    values = {s: _fold(sp.sympify(v), {}, MAX_VALUE_DIGITS, c)[0] for s, v in point.items()}
    value, done = _fold(expr, values, MAX_VALUE_DIGITS, c)
    if isinstance(value, _Bad):
        raise Undefined(value.why)
    return c, value if _number(value) else None, done


def exact_at(expr: sp.Basic, point: dict) -> sp.Rational | None:
    """``expr`` at ``point`` exactly where it is a rational there (no exp, log, tanh or irrational power
    on the way, no number of more than MAX_EXACT_BITS), else None: arguments first, each once."""
    values = {s: Fraction(int(v.p), int(v.q)) for s, v in point.items() if isinstance(v, sp.Rational)}
    done: dict = {}
    for e in _postorder(expr):
        done[e] = _exact_node(e, [done[a] for a in e.args], values)
    v = done[expr]
    return sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else None


def _exact_node(e: sp.Basic, args: list, values: dict):
    if not e.args:
        if e in values or isinstance(e, sp.Rational):
            return values[e] if e in values else Fraction(int(e.p), int(e.q))
        return bool(e) if e in (sp.true, sp.false) else None
    if isinstance(e, sp.Piecewise):
        return next((v for v, cond in args if cond), None) if all(cond is not None for _, cond in args) else None
    if isinstance(e, ExprCondPair):
        return tuple(args)
    if any(a is None or isinstance(a, Fraction) and max(abs(a.numerator), a.denominator).bit_length() > MAX_EXACT_BITS
           for a in args):
        return None
    x, kind = args[0], type(e)
    if isinstance(e, (sp.Add, sp.Mul, sp.Pow)):
        return sum(args) if kind is sp.Add else math.prod(args) if kind is sp.Mul else _exact_power(*args)
    if isinstance(e, (sp.exp, sp.log, sp.tanh)):  # rational only at 0 (1 for the log)
        return (Fraction(1) if kind is sp.exp else Fraction(0)) if x == (1 if kind is sp.log else 0) and len(args) == 1 else None
    if isinstance(e, sp.Heaviside):
        return Fraction(1) if x > 0 else Fraction(0) if x < 0 else (args[1] if len(args) > 1 else Fraction(1, 2))
    if kind in _COMPARE:
        return _COMPARE[kind](x, args[1])
    simple = {sp.Abs: lambda: abs(x), sp.Max: lambda: max(args), sp.Min: lambda: min(args), sp.And: lambda: all(args),
              sp.Or: lambda: any(args), sp.Not: lambda: not x}
    return simple[kind]() if kind in simple else None


def _exact_power(base: Fraction, exponent: Fraction) -> Fraction | None:
    n, root = exponent.numerator, exponent.denominator
    if base == 0 or root > MAX_EXPONENT or abs(n) * max(abs(base.numerator), base.denominator).bit_length() > MAX_EXACT_BITS:
        return None if base != 0 or exponent < 0 else Fraction(int(exponent == 0))
    if root > 1:  # exact only for perfect powers, as SymPy finds them: (1/4)^(1/2) = 1/2
        (p, p_exact), (q, q_exact) = integer_nthroot(abs(base.numerator), root), integer_nthroot(base.denominator, root)
        if base < 0 or not (p_exact and q_exact):
            return None
        base = Fraction(p, q)
    return base ** n


_COMPARE = {sp.StrictGreaterThan: lambda a, b: a > b, sp.StrictLessThan: lambda a, b: a < b, sp.GreaterThan: lambda a, b: a >= b,
            sp.LessThan: lambda a, b: a <= b, sp.Equality: lambda a, b: a == b, sp.Unequality: lambda a, b: a != b}


def applications(expr: sp.Basic) -> list[sp.Basic]:
    """Every function applied in ``expr`` (exp(x), Max(a, b), factorial(n)), found without recursion."""
    return [e for e in _postorder(expr) if isinstance(e, sp.core.function.Application)]


def expand_terms(expr: sp.Basic) -> int:
    """About how many terms sp.expand(expr) builds, its arguments' included, counted without expanding (capped)."""
    cap = 10**12
    sizes: dict[sp.Basic, tuple[int, int]] = {}  # node -> (its terms, the terms built for it and its arguments)
    for e in _postorder(expr):
        if not e.args:
            sizes[e] = (1, 1)
            continue
        terms = [sizes[a][0] for a in e.args]
        work = sum(sizes[a][1] for a in e.args)
        if isinstance(e, sp.Add):
            n = sum(terms)
        elif isinstance(e, sp.Mul):
            n = math.prod(terms)
        elif isinstance(e, sp.Pow) and e.exp.is_Integer and terms[0] > 1:
            k, p = terms[0], min(abs(int(e.exp)), MAX_EXPONENT)
            n = math.comb(p + k - 1, k - 1) if k < 10**4 else cap
        else:
            n = 1
        sizes[e] = (min(n, cap), min(work + n, cap))
    return sizes[expr][1]


# -- values within bounds: arguments first, each once, at a fixed precision --------------------
@dataclass(frozen=True)
class _Bad:
    """A subexpression that is no finite number here: kept, not raised (an untaken Piecewise branch may be one)."""

    why: str
    overflow: bool = False


@functools.cache
def _context(bits: int) -> mpmath.MPContext:
    """A context of its own at ``bits``: mpmath's global precision is left alone."""
    c = mpmath.MPContext()
    c.prec = bits
    return c


def _postorder(expr: sp.Basic):
    """Every distinct subexpression of ``expr``, arguments first, without recursion."""
    seen: set = set()
    stack = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in seen:
            continue
        if ready or not e.args:
            seen.add(e)
            yield e
            continue
        stack.append((e, True))
        stack.extend((a, False) for a in reversed(e.args) if a not in seen)


def _number(v) -> bool:
    return isinstance(v, (mpmath.ctx_mp_python._mpf, mpmath.ctx_mp_python._mpc))


def _fold(expr: sp.Basic, values: dict, digits: int, c, check=None, show=None):
    """The value of ``expr`` (an mpmath number, a bool for a condition, a (value, condition) pair,
    None for a symbol not in ``values`` or a function not computed here, or _Bad), and every
    subexpression's. ``show``: a subexpression as messages name it."""
    show = show or _short
    bits = digits * 3.33  # |log2 value| beyond it: overflow
    done: dict = {}
    for e in _postorder(expr):
        args = [done[a] for a in e.args]
        value = _node(e, args, bits, show, c) if e.args else _leaf(e, values, c)
        if _number(value) and value != 0 and abs(c.mag(value)) > bits:
            value = _Bad(f"{show(e)} is beyond 10^±{digits}", overflow=True)
        elif _number(value) and (c.isnan(value) or c.isinf(value)):
            value = _Bad(f"{show(e)} is not a finite number")
        if check is not None:
            check(e, args, value)
        done[e] = value
    return done[expr], done


def _number_text(e: sp.Basic) -> str:
    """A number of the parser's reading, for a message (its placeholders name nothing of the text)."""
    if e.is_Integer and len(str(e)) > 20:
        return f"the number {str(e)[:6]}... ({len(str(e))} digits)"
    kind = {sp.Add: "a sum", sp.Mul: "a product", sp.Pow: "a power"}.get(type(e), "a number")
    return str(e) if e.is_Number and len(str(e)) <= 20 else f"{kind} of the formula's numbers"


def _short(e: sp.Basic) -> str:
    """``e`` for a message: its text when short, else its kind."""
    for nodes, _ in enumerate(_postorder(e)):
        if nodes > 30:
            return f"a {type(e).__name__.lower()} of {len(e.args)} terms"
    text = sp.sstr(e)
    return text if len(text) <= 60 else text[:57] + "..."


def _node(e: sp.Basic, args: list, bits: float, show, c):
    """One node's value from its arguments' values."""
    if isinstance(e, sp.Piecewise):
        for value, condition in args:
            if condition is None or isinstance(condition, _Bad):
                return condition
            if condition:
                return value
        return _Bad("a Piecewise with no branch that applies")
    if isinstance(e, ExprCondPair):
        return tuple(args)
    bad = next((a for a in args if isinstance(a, _Bad)), None)
    if bad is not None or any(a is None for a in args):
        return bad
    if isinstance(e, sp.Add):
        return c.fsum(args)
    if isinstance(e, sp.Mul):
        return c.fprod(args)
    if isinstance(e, sp.Pow):
        return _power(e, args[0], args[1], bits, show, c)
    x = args[0]
    if isinstance(e, sp.exp):  # exp(x) needs the digits of x as extra precision: sized before computing it
        if abs(c.re(x)) > bits * 0.69:
            return _Bad(f"{show(e)} is beyond 10^±{round(bits / 3.33)} (exp of {c.nstr(x, 6)})", overflow=True)
        return c.exp(x)
    if isinstance(e, sp.log):
        if any(a == 0 for a in args):
            return _Bad(f"{show(e)} is undefined (the log of 0)")
        return c.log(x) / (c.log(args[1]) if len(args) > 1 else 1)
    if isinstance(e, sp.tanh):
        return c.mpf(c.sign(x)) if c.im(x) == 0 and abs(x) > 100 else c.tanh(x)
    if isinstance(e, sp.Abs):
        return abs(x)
    if isinstance(e, (sp.Max, sp.Min, sp.Heaviside, sp.core.relational.Relational)):
        if any(c.im(a) != 0 for a in args if _number(a)):
            return _Bad(f"{type(e).__name__} of a value that is not real, in {show(e)}")
        r = [c.re(a) for a in args]
        if isinstance(e, sp.Heaviside):
            return c.one if r[0] > 0 else c.zero if r[0] < 0 else (r[1] if len(r) > 1 else c.mpf(0.5))
        return max(r) if isinstance(e, sp.Max) else min(r) if isinstance(e, sp.Min) else _COMPARE.get(type(e), lambda a, b: None)(*r)
    if isinstance(e, (sp.And, sp.Or, sp.Not)):
        return all(args) if isinstance(e, sp.And) else any(args) if isinstance(e, sp.Or) else not x
    return None  # a function this module does not compute: the caller's exact arithmetic decides


def _leaf(e: sp.Basic, values: dict, c):
    if e in values:
        return values[e]
    if isinstance(e, sp.Rational):
        return c.mpf(int(e.p)) / int(e.q)
    if isinstance(e, sp.Float):
        return c.make_mpf(e._mpf_)
    if e in _SPECIAL:
        return _Bad(_SPECIAL[e])
    return bool(e) if e in (sp.true, sp.false) else {sp.I: c.mpc(0, 1), sp.E: c.e, sp.pi: c.pi}.get(e)


_SPECIAL = {sp.zoo: "division by zero", sp.nan: "an undefined value (0/0 or the like)", sp.oo: "an infinite value",
            sp.S.NegativeInfinity: "an infinite value"}


def _power(e: sp.Basic, base, exponent, bits: float, show, c):
    if base == 0:
        if c.re(exponent) < 0:
            return _Bad(f"{show(e)} is a division by zero (0 to a negative power)")
        return c.one if exponent == 0 else c.zero
    size = c.re(exponent * c.log(base)) / c.ln2  # log2 |base^exponent|, before computing it
    if abs(size) > bits:
        return _Bad(f"{c.nstr(base, 6)}^{c.nstr(exponent, 6)} is beyond 10^±{round(bits / 3.33)}", overflow=True)
    return c.power(base, exponent)
