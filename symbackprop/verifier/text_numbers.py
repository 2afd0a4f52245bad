"""A text's numbers: each with its line, a short quote, what the text calls it, and whether it is structure.

A source text (plain text, Markdown or LaTeX) is read as UTF-8 and searched for every number: a
sign only where it is one (``= -0.6``, ``(-0.196)``; not ``0.1−0.042``), thousands grouping
(``60,000``) and a decimal comma (``z = 3,02``) read as such, digits inside a name (``x1``,
``Wa0``) not a number at all. Numbers that are plainly the text's structure (a figure's number,
a list's, a year, a version, a citation) are marked by the first rule of STRUCTURE that covers
them, with its reason; scan.py matches the others against the trace. Beside each number the
words before it are read for what the text calls it: a name set equal to it (``wb1 = 0.4``,
``za is 0.76``) and the nearest word of a kind (``error term``, ``adjustment``); ``choose`` uses them
to order the quantities a number matches, against the names texts give quantities (``aliases``).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal

from sympy import Rational

from ..core.atomic import read_input
from ..core.claims import CONSTANTS
from ..core.errors import InputError
from ..core.model import Model

EXPECTED = "a text (plain text, Markdown or LaTeX, in UTF-8)"
MAX_TEXT_BYTES = 4 * 2**20  # a book chapter is about 100 KB; the numbers of a larger text are a data table, not claims
MAX_NUMBERS = 20_000  # each number is matched and reported: a text of more is a table of data
QUOTE_CHARS = 80  # a quote as the hand-written claims have them: a phrase around the number
CONTEXT_CHARS = 60  # how far before a number its kind word is looked for

_COUNT = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?![.,]?\d)"  # a whole number: 60,000
_WORDS = r"(?:(?!(?:in|of|for|to|at|on|by|with|from|per|our|the|an?|is|are|was|and)\b)[A-Za-z][\w-]*[ \t]+){0,2}?"
_NOUNS = (r"(?:images?|examples?|samples?|classes|pixels?|neurons?|layers?|units|inputs|outputs|iterations?|"
          r"epochs?|steps|batch(?:es)?|gpus?|nodes|servers?|workers|parameters|weights|views?|comments?|days?|"
          r"weeks?|months?|years?|hours?|minutes?|seconds?|bytes|bits|pages|items|pairs|times|dimensions|channels|"
          r"features|rows|columns|digits|decimals|words|characters|cats|dogs|birds|files|lines|phases|rounds|passes)")
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_LABELS = (r"(?:fig(?:ure)?s?|tables?|tab|eqs?|equations?|eqn|sections?|sec|§|steps?|chapters?|ch|parts?|appendix|"
           r"algorithm|listing|lines?|pages?|examples?|exercises?|lemma|theorem|definition|slide|footnote|"
           r"iteration|epoch|layer|multiplier|phase)")
_CODE = (r"(?:Linear|Conv[123]d|LSTM|GRU|RNN|Embedding|BatchNorm[123]d|LayerNorm|MaxPool[123]d|AvgPool[123]d|"
         r"Flatten|reshape|view|zeros|ones|randn|rand|empty|arange|range|size|shape)")


@dataclass(frozen=True)
class Rule:
    """One kind of structure: a pattern over the whole text (its group ``n``, if any, spans the numbers
    it covers; else the whole match does) and why such a number is not a value of the network."""

    name: str
    pattern: re.Pattern
    why: str


def _rule(name: str, pattern: str, why: str, flags: int = 0) -> Rule:
    return Rule(name, re.compile(pattern, flags), why)


# the first rule that covers a number names it; the order puts the wider contexts first
STRUCTURE: tuple[Rule, ...] = (
    _rule("front matter", r"\A---[ \t]*\n.*?\n---[ \t]*$", "document metadata before the text", re.S | re.M),
    _rule("link", r"!?\[[^\]\n]*\]\([^)\s]*\)|(?:https?|ftp)://\S+|www\.\S+|\S+\.(?:png|jpe?g|gif|svg|pdf|html?)\b",
          "part of a link, image or file name", re.I),
    _rule("LaTeX reference", r"\\(?:label|ref|eqref|autoref|[cC]ref|pageref|cite[pt]?|tag|bibitem|includegraphics|input|"
          r"include|usepackage|documentclass)\*?(?:\[[^\]]*\])?\{[^}]*\}", "a LaTeX label, reference, citation or file"),
    _rule("LaTeX length", r"(?<![\w.])\d+(?:\.\d+)?\s?(?:em|ex|pt|cm|mm|bp|pc|px)\b", "a length of the layout"),
    _rule("index", r"(?<=[A-Za-z}\)])(?:_\{|\^\{?)\s*(?P<n>\d+)", "a subscript or superscript (x_{1}, x^2)"),
    _rule("citation", r"(?<![\[(\w=])(?<!= )\\?\[(?P<n>\d{1,3}(?:\s*[,–-]\s*\d{1,3})*)\\?\](?!\s*[(\[:\]])", "a citation [1]"),
    _rule("heading number", r"^[ \t]{0,3}#{1,6}[ \t]*(?P<n>\d+(?:\.\d+)*)\.?(?=\s)", "a heading's section number", re.M),
    _rule("section number", r"^[ \t]*(?P<n>\d+(?:\.\d+)+)\.?[ \t]+(?=[A-Z])", "a section number opening a line", re.M),
    _rule("list numbering", r"^[ \t]*(?:[-*•][ \t]*)?(?P<n>\d+)[.)](?=\s)", "list numbering", re.M),
    _rule("figure/table/equation/section/step number", r"(?<![\w.])(?:" + _LABELS + r"|pp?\.)\.?[ \t~]*[-#]?[ \t]*\(?"
          r"(?P<n>\d+(?:[.\-–]\d+)*[a-z]?)\)?(?![\d.]*\d)", "the number of a figure, table, equation, section, step, "
          "chapter, page, line, layer or iteration", re.I),
    _rule("equation tag", r"\((?P<n>\d{1,3}(?:\.\d{1,2})?[a-z]?)\)[ \t]*[.,;:]?[ \t]*$|(?<=using )\((?P<m>\d{1,3})\)",
          "an equation tag (4)", re.M),
    _rule("date", r"\b\d{1,2}(?:st|nd|rd|th)?[ \t]+" + _MONTH + r"\.?(?:,?[ \t]+\d{4})?\b|\b" + _MONTH
          + r"\.?[ \t]+\d{1,2}(?:st|nd|rd|th)?(?:,?[ \t]+\d{4})?\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b", "a date"),
    _rule("time", r"\b\d{1,2}:\d{2}(?::\d{2})?\b", "a time of day"),
    _rule("year", r"(?<![\w.,\-−])(?P<n>(?:19|20)\d{2})(?![\w.,]?\d)", "a year"),
    _rule("version", r"(?<![\w.])[vV]\d+(?:\.\d+)*\b|\b(?:python|pytorch|torch|cuda|numpy|sympy|scipy|tensorflow|jax|"
          r"version|release|ubuntu|debian|windows|macos|gcc|java|node|pcie|gen|ipv)[ \t]*(?P<n>\d+(?:\.\d+)*)"
          r"|(?<![\w.])\d+\.\d+\.\d+(?:\.\d+)*\b", "a version number", re.I),
    _rule("size", r"(?<![\w.])\d+[x×]\d+(?:[x×]\d+)*", "a size (28x28, 320x271)"),
    _rule("layer sizes", r"\b(?:nn\.)?" + _CODE + r"[ \t]*\((?P<n>[^()\n]*)\)|(?<![\w.\-])\d+(?:-\d+){2,}(?![\w\-])",
          "layer sizes or a shape (2-2-1, nn.Linear(2, 1))"),
    _rule("name", r"(?<![\w.])[A-Za-z]+-(?P<n>\d+)\b", "part of a name (CIFAR-10)"),
    _rule("percentage", r"(?<![\w.])\d+(?:\.\d+)?[ \t]?%", "a percentage"),
    _rule("ordinal", r"(?<![\w.])\d+(?:st|nd|rd|th)\b", "an ordinal (2nd)"),
    _rule("count", r"(?<![\w.])(?P<n>" + _COUNT + r")(?=[ \t]+" + _WORDS + r"(?:and[ \t]+" + _COUNT + r"[ \t]+" + _WORDS
          + r")?" + _NOUNS + r"\b)", "a count of things (images, layers), not a "
          "value the network computes", re.I),
)

NUMBER = re.compile(r"(?<![\w.])(?P<v>[vV](?=\d))?(?P<body>\d{1,3}(?:,\d{3})+(?![\d,])(?:\.\d+)?|\d+(?:\.\d+|,\d{1,2}(?![\d,]))?)"
                    r"(?P<exp>[eE][-+]?\d{1,3}(?![\w.]))?(?![\d_]|\.\d)")  # an exponent of 3 digits at most: 1e-999 written out
SIGNS = {"-": "-", "−": "-", "+": ""}
BEFORE_SIGN = set(" \t([{=:;,<>~≈")  # what may stand before a sign that is one (not a subtraction)
NAME = re.compile(r"(?:^|(?<=[\s(\[,;:*$|]))(?P<name>\\?[^\W\d][\w'’^{}\\]*(?:\s?\([^()]{0,20}\))?)\$?"
                  r"\s*(?:=|:|≈|≃|~|\||\bis|\bwas|\bequals|\bof)\s*[(\[$]?\s*\Z")  # wb1 =, za is, $w_{a1}$ |
OPERAND = re.compile(r"\s*[⋅·×x*+\-−–/^]\s*[\d(.]")  # the number is an operand of more arithmetic
OPERATOR = re.compile(r"(?:[⋅·×*+\-−–/^]|(?<=\s)x)\s*\(?\s*\Z")  # ... or of the arithmetic before it
CALLED = re.compile(r"(?P<name>[^\W\d][\w'’^]*)\s?\(\s*\Z")  # the number is a function's argument: ReLU (0.5)
FOLLOWS = re.compile(r"\s*,?\s*(?:which\s+)?(?:is|was|as)\s+(?:the\s+|an?\s+)?(?:new\s+|final\s+|resulting\s+)?", re.I)
BLANKS = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z*_(\[])")
# words that say what kind of quantity follows; the nearest before a number counts
KINDS = re.compile(r"(?P<delta>error terms?|δ)|(?P<Delta>adjustments?|Δ)|(?P<gradient>gradients?)|"
                   r"(?P<derivative>derivatives?)|(?P<z>weighted sums?|pre-activation)|(?P<rate>learning rate|η)|"
                   r"(?P<a>activation|outputs?|predictions?|relu\s?\(|sigmoid\s?\(|tanh\s?\(|σ\s?\()|"
                   r"(?P<E>loss|errors?|mse|cost)|(?P<parameter>weights?)|(?P<bias>bias(?:es)?)|(?P<input>inputs?)|(?P<target>targets?|expected)",
                   re.I)


@dataclass(frozen=True)
class Number:
    """One number of the text: where, as written, as a claim states it (``3,02`` is ``3.02``), and what surrounds it."""

    line: int
    column: int  # 1-based, of the first character as written (a sign included)
    written: str
    stated: str
    quote: str
    name: str = ""  # what the text sets equal to it, as written ("wb1", "f(b)"); or "" if nothing
    called: str = ""  # the function it is the argument of ("ReLU" in ReLU (0.5))
    kind: str = ""  # the kind its nearest kind word names (KINDS' group names), or ""
    structure: str = ""  # the STRUCTURE rule that covers it, or ""
    why: str = ""
    operand: bool = False  # a term of the text's arithmetic (2 x 0.5 x ...), restating a value

    @property
    def decimals(self) -> int:
        return len(self.stated.partition(".")[2])

    @property
    def integer(self) -> bool:
        return "." not in self.stated


def read_text(path) -> str:
    """The text at ``path``, or a one-line InputError naming it: missing, binary, not UTF-8, too large."""
    name = str(path)
    data = read_input(path, EXPECTED)
    if len(data) > MAX_TEXT_BYTES:
        raise InputError(f"{len(data):,} bytes; scan reads at most {MAX_TEXT_BYTES:,} bytes of text (a book chapter is "
                         "about 100 KB; a larger text is a data table, not prose)", file=name)
    if b"\0" in data:
        raise InputError(f"a binary file (it holds NUL bytes); expected {EXPECTED}", file=name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text ({e.reason} at byte {e.start}); expected {EXPECTED}", file=name) from None


def numbers(text: str, name: str = "text") -> list[Number]:
    """Every number of ``text`` in order, each structure or not; more than MAX_NUMBERS is refused."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    found = list(_tokens(text))
    if len(found) > MAX_NUMBERS:
        raise InputError(f"{len(found):,} numbers; scan matches at most {MAX_NUMBERS:,} (a text of more is a table of "
                         "data, not claims)", file=name)
    covered = _structure(text, [(s, e) for s, e, _ in found])
    out = []
    for (start, end, stated), rule in zip(found, covered):
        row = bisect_right(starts, start) - 1
        line = text[starts[row]:starts[row + 1] - 1 if row + 1 < len(starts) else len(text)]
        col = start - starts[row]
        before = line[:col]
        # a name set equal to it: only where it stands alone (Z3 = 0.5, not Z3 = 0.5 + 0 + 0)
        operand = bool(OPERAND.match(line, col + end - start) or OPERATOR.search(before))
        named = None if OPERAND.match(line, col + end - start) else NAME.search(before)
        called = CALLED.search(before)
        out.append(Number(row + 1, col + 1, text[start:end], stated, quote(line, col, col + end - start),
                          named["name"].strip() if named else "", called["name"] if called else "",
                          _kind(before, line[col + end - start:]), rule.name if rule else "", rule.why if rule else "",
                          operand))
    return out


def _tokens(text: str):
    """(start, end, stated) of each number: a sign that is one included, a decimal comma read as a point,
    thousands grouping dropped, an exponent written out; a comma inside ( ) or a list separates two."""
    for m in NUMBER.finditer(text):
        start, body = m.start("body"), m["body"]
        if m["v"]:  # v2.1: a version, for the rules to name
            yield m.start(), m.end(), body
            continue
        if re.fullmatch(r"\d+,\d{1,2}", body) and (start == 0 or text[start - 1] in "([{,;" or
                                                   text[m.end():m.end() + 1] in (")", "]", "}")):
            whole, _, part = body.partition(",")  # N(0,1): two numbers
            yield start, start + len(whole), whole
            yield start + len(whole) + 1, m.end("body"), part
            continue
        stated = body.replace(",", ".") if re.fullmatch(r"\d+,\d{1,2}", body) else body.replace(",", "")
        sign = text[start - 1] if start else ""
        if sign in SIGNS and (start == 1 or text[start - 2] in BEFORE_SIGN or text[start - 2] == "\n"):
            start -= 1
            stated = SIGNS[sign] + stated
        if m["exp"]:  # 3.15e-6: written out, as a claim states it
            stated = format(Decimal(stated + m["exp"]), "f")
        yield start, m.end(), stated


def _structure(text: str, spans: list[tuple[int, int]]) -> list[Rule | None]:
    """The first rule covering each number's digits (None: not structure), each rule's matches found once."""
    out: list[Rule | None] = [None] * len(spans)
    digits = [s + (text[s] in SIGNS) for s, _ in spans]  # a sign may stand outside the rule's span
    for rule in STRUCTURE:
        groups = [g for g in ("n", "m") if g in rule.pattern.groupindex]
        for m in rule.pattern.finditer(text):
            for lo, hi in [m.span(g) for g in groups if m.start(g) >= 0] or [m.span()]:
                for i in range(bisect_left(digits, lo), len(spans)):
                    if digits[i] >= hi:
                        break
                    if out[i] is None and spans[i][1] <= hi:
                        out[i] = rule
    return out


def quote(line: str, start: int, end: int) -> str:
    """The words around a number, trimmed: its sentence if short, else the words nearest it, at most QUOTE_CHARS."""
    lo = next((m.end() for m in reversed(list(SENTENCE.finditer(line, 0, start)))), 0)
    hi = next((m.start() for m in SENTENCE.finditer(line, end)), len(line))
    line = BLANKS.sub(" ", line)  # a no-break space is a blank, as a reader sees it
    sentence = line[lo:hi].strip()
    if len(sentence) <= QUOTE_CHARS:
        return sentence.strip(" *•-\t") or line[start:end]
    words = [(m.start() + lo, m.end() + lo) for m in re.finditer(r"\S+", line[lo:hi])]
    at = next((i for i, (s, e) in enumerate(words) if s <= start < e or s >= start), len(words) - 1)
    left = right = at
    while True:
        grown = False
        for side in (-1, 1):  # the words before a number say what it is: they are taken first
            i, j = (left - 1, right) if side < 0 else (left, right + 1)
            if 0 <= i and j < len(words) and words[j][1] - words[i][0] <= QUOTE_CHARS:
                left, right, grown = i, j, True
        if not grown:
            break
    return line[words[left][0]:words[right][1]].rstrip(",;:")


def _kind(before: str, after: str) -> str:
    """The kind of quantity the words around a number name (KINDS): what it "is" after it (``-0.0784 is the
    error term``), else the nearest kind word before it in its sentence, within CONTEXT_CHARS."""
    follows = FOLLOWS.match(after)
    if follows and (m := KINDS.match(after, follows.end())):
        return m.lastgroup
    sentence = SENTENCE.split(before)[-1][-CONTEXT_CHARS:]
    last = None
    for m in KINDS.finditer(sentence):
        last = m
    return last.lastgroup if last else ""


def normal(name: str) -> str:
    """A name as text and trace both may write it: ``W_{a1}``, ``Wa1`` and ``w_a1`` are ``wa1``; ``∂E/∂w`` is ``de/dw``."""
    name = unicodedata.normalize("NFKD", name.replace("’", "'").replace("∂", "d").replace("Δ", "delta").replace("δ", "delta")
                                 .replace("η", "eta").replace("σ", "sigma"))
    name = "".join(c for c in name if not unicodedata.combining(c))
    return re.sub(r"[\s_{}\\^*$,]", "", name).lower()


# -- what texts call the quantities of a trace ------------------------------------------------------------------
RANK = ("E", "a", "z", "delta", "gradient", "Delta", "parameter", "bias", "input", "target", "constant", "rate", "derivative",
        "input gradient", "optimizer")  # which of several equal quantities a claim names first, when nothing in the text says
TEXT_KINDS = {"delta": {"delta"}, "Delta": {"Delta"}, "gradient": {"gradient"}, "derivative": {"derivative"},
              "z": {"z"}, "a": {"a"}, "E": {"E"}, "rate": {"rate"}, "parameter": {"parameter"}, "input": {"input"}, "target": {"target"},
              "bias": {"bias", "constant"}}  # an additive bias, or a constant input (fed through its own weight)
SAID = {"a": "an activation", "z": "a weighted sum", "E": "the loss", "delta": "an error term", "Delta": "an adjustment",
        "rate": "the learning rate", "gradient": "a gradient", "derivative": "a derivative", "parameter": "a weight",
        "input": "an input", "target": "a target", "bias": "a bias"}
ACTIVATIONS = {"relu", "sigmoid", "tanh", "f", "max", "softplus", "gelu"}  # a call of one: its value is an activation
LOSS_NAMES = frozenset({"e", "l", "loss", "mse", "error", "cost", "j", "sse"})
RATE_NAMES = frozenset({"eta", "lr", "alpha", "rate", "learningrate"})
CONSTANT_NAMES = {"e": frozenset({"e", "euler", "euler'snumber"}), "pi": frozenset({"pi", "π"})}
TARGET_NAMES = frozenset({"y", "ye", "yt", "target", "expected"})
OUTPUT_NAMES = frozenset({"output", "prediction", "yhat"})  # of a network with one output
WHEN = re.compile(r"\((new|old|updated|initial)\)")
CALL = re.compile(r"([^\W\d][\w']*)\s?\(.*\)")


def kind_of(name: str, m: Model) -> str:
    """What a trace quantity is, as RANK orders them."""
    if name in m.parameters:
        return "bias" if name in {n.bias for n in m.neurons} else "parameter"
    if name in ("E", "lr"):
        return "E" if name == "E" else "rate"
    if name.startswith("dE/d"):
        rest = name[4:]
        return "gradient" if rest in m.parameters else "input gradient" if rest in m.inputs else "derivative"
    if "/" in name:
        return "derivative"
    head = name.partition("_")[0]
    return head if head in ("z", "a", "delta", "Delta") else "optimizer"


def aliases(name: str, shown: str, m: Model) -> frozenset[str]:
    """The names a text may give a quantity, normalized: its own and its symbol's, a neuron's as texts write
    them (``zb``, ``Z3``, ``H3``, ``yb``, ``f(b)``), the loss's (``MSE``, ``L``), ``MSE'``, ``f'(b)``."""
    out = {normal(name), normal(shown)}
    head, _, rest = name.partition("_")
    r, index = normal(rest), "".join(re.findall(r"\d+", rest))
    neuron = rest in {n.name for n in m.neurons}
    if neuron and head == "z":  # a bare z names every neuron's, and so none alone
        out |= {"z", f"z{r}", f"sum{r}"} | ({f"z{index}"} if index else set())
    elif neuron and head == "a":
        out |= {r, "a", f"a{r}", f"y{r}", f"yhat{r}", f"f({r})", f"out{r}"} | ({f"a{index}"} if index else set())
        out |= OUTPUT_NAMES if m.outputs == [rest] else set()
    elif neuron and head == "delta":
        out |= {f"delta{r}", f"e{r}", f"en{r}"}
    elif name == "E":
        out |= LOSS_NAMES
    elif name.startswith("dE/da_") and name[6:] in m.outputs:
        out |= {"mse'", "e'", "l'", "de/dy", f"de/dy{normal(name[6:])}", f"dl/d{normal(name[6:])}"}
    elif name.startswith("dE/d"):
        out |= {f"dl/d{normal(name[4:])}", f"grad{normal(name[4:])}"}
    elif (d := re.fullmatch(r"da_(\w+)/dz_(\w+)", name)) and d[1] == d[2]:
        r = normal(d[1])
        out |= {f"f'({r})", f"f'{r}", f"relu'(z{r})", f"sigma'(z{r})", f"tanh'(z{r})"}
    return frozenset(out)


def file_numbers(m: Model) -> list[tuple[str, str, str, str, frozenset[str], object]]:
    """(name, symbol, where, kind, names a text gives it, value) of each of a file's own numbers that no trace quantity
    names: inputs, targets, constants, the learning rate; and the constants a claim may name (``const:e``)."""
    many, out = len(m.examples) > 1, []
    for k, ex in enumerate(m.examples, start=1):
        at, tag = (f"example {k}", f"[{k}]") if many else ("", "")
        out += [(f"input:{x}{tag}", x, at, "input", frozenset({normal(x)}), v) for x, v in ex.inputs.items()]
        out += [(f"target:{o}{tag}", m.target_name(o), at, "target", TARGET_NAMES, v) for o, v in ex.targets.items()]
    out += [(f"constant:{c}", c, "", "constant", frozenset({normal(c)}), v) for c, v in m.constants.items()]
    out += [("rate:learning_rate", "η", "", "rate", RATE_NAMES, m.learning_rate)] if m.optimizer is None else []
    return out + [(f"const:{c}", c, "", "constant", CONSTANT_NAMES[c], v) for c, v in CONSTANTS.items()]


def named(n: Number) -> str:
    """The name the text sets equal to a number, normalized ("" for none, or for a call: ReLU (0.5) = 0.5)."""
    call = CALL.fullmatch(n.name)
    return "" if not n.name or (call and normal(call[1]) in ACTIVATIONS) else normal(WHEN.sub("", n.name))


def choose(n: Number, matches: list) -> tuple[list, str]:
    """The matches (each with a ``.quantity``: aliases, kind, iteration, claim) best first, and how the first
    was chosen: the name the text gives it, the only one, the kind its words say; "" when nothing tells them apart."""
    name, call = named(n), CALL.fullmatch(n.name)
    later = bool((w := WHEN.search(n.name)) and w[1] in ("new", "updated"))
    word = n.kind
    if n.called and normal(n.called) in ACTIVATIONS:
        word = "z"  # ReLU (0.5): its argument
    elif call and normal(call[1]) in ACTIVATIONS:
        word = "a"  # ReLU (0.5) = 0.5: its value
    kinds = TEXT_KINDS.get(word, set())
    stated = n.stated

    def order(mm):
        q = mm.quantity
        return (not name or name not in q.aliases, q.kind not in kinds, _inexact(mm.value, stated),
                getattr(mm, "readings", None) is not None, later and q.iteration == 1,
                RANK.index(q.kind) if q.kind in RANK else len(RANK), q.iteration)

    ordered = sorted(matches, key=order)
    hits = [mm for mm in ordered if name and name in mm.quantity.aliases]
    if later and len(hits) > 1:
        hits = [mm for mm in hits if mm.quantity.iteration > 1]
    if len(hits) == 1:
        return ordered, f"named {n.name!r} in the text"
    if len([mm for mm in (hits or ordered) if mm.quantity.kind in kinds]) == 1:
        return ordered, f"by its words: the text calls it {SAID[word]}"
    return ordered, "the only quantity with this value" if len(ordered) == 1 else ""


def _inexact(value, stated: str) -> bool:
    """A value that only rounds to the stated number (an exact one is the likelier meaning of 1.0)."""
    try:
        return value != Rational(stated)
    except (TypeError, ValueError):
        return True
