"""Reading a formula in layer notation (vector and index forms) into a tree, before any layer is known.

The notation (docs/layer_notation.md): letters with a layer superscript and optional indices
(``w^{l+1}_{kj}``, ``\\delta^L``, ``a^{l-1}_k``), ``x`` and ``y``, ``\\odot`` (the Hadamard
product), ``^T`` / ``^\\top`` (transpose), ``\\nabla_a C``, ``\\sum_k``, ``(...)_j`` (a component),
``\\frac``, Leibniz fractions of the loss, activations and their derivatives applied entrywise
(``\\sigma'(z^l)``, ``f'(z^l_j)``), and scalars (numbers, ``\\eta``) passed on to the one LaTeX
reader (latex_reader.py), which reads each component. A sum covers the rest of its product, as
textbooks write ``\\sum_k w_{kj} \\delta_k \\sigma'(z_j)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .latex_names import FormulaError, prepare
from .layer_notation import LETTERS

_GROUP = r"\{[^{}]*\}"
_NOT_T = r"\{\s*(?!(?:T|\\top|\\intercal)\s*\})[^{}]*\}"
TOKENS = (  # (kind, pattern), tried in order at each position
    ("space", r"\s+"),
    ("hadamard", r"\\odot(?![A-Za-z])|⊙|\\circ(?![A-Za-z])"),
    ("transpose", r"\^\s*(?:\{\s*(?:T|\\top|\\intercal)\s*\}|T(?![A-Za-z])|\\top(?![A-Za-z])|\\intercal(?![A-Za-z]))"),
    ("sum", r"\\sum(?![A-Za-z])\s*_\s*(?:\{\s*(?P<sum>[a-z])\s*(?:=\s*\d+\s*)?\}|(?P<sum1>[a-z]))"
            rf"(?:\s*\^\s*(?:{_GROUP}|\w))?"),
    ("nabla", r"\\nabla(?![A-Za-z])\s*_\s*(?:\{\s*a\s*(?:\^\s*(?:\{\s*L\s*\}|L))?\s*\}|a(?![A-Za-z]))\s*"
              r"(?P<loss>[CELJ])(?![A-Za-z])"),
    ("frac", r"\\frac(?![A-Za-z])"),
    ("function", r"(?P<fn>\\(?:sigma|tanh|phi)(?![A-Za-z])|\\(?:operatorname|text|mathrm)\s*\{\s*[A-Za-z]+\s*\}"
                 r"|(?<![A-Za-z\\])(?:ReLU|relu|sigmoid|tanh)(?![A-Za-z])|(?<![A-Za-z\\])[fg](?=\s*'))"
                 r"(?P<prime>\s*(?:'|\^\s*\{\s*\\prime\s*\}|\^\s*\\prime(?![A-Za-z])))?(?=\s*\()"),
    ("atom", r"(?P<letter>\\delta(?![A-Za-z])|(?<![A-Za-z\\])[wWbzaxy](?![A-Za-z]))"
             rf"(?:\s*\^\s*(?P<layer>{_NOT_T}|[0-9lL](?![A-Za-z])))?(?:\s*_\s*(?P<index>{_GROUP}|[A-Za-z0-9]))?"),
    ("number", r"\d+"),
    ("op", r"\\cdot(?![A-Za-z])|\\times(?![A-Za-z])|[-+*=()\[\]{}^_]"),
    ("scalar", r"\\[A-Za-z]+|[A-Za-z]"),
)
TOKEN = re.compile("|".join(f"(?P<{kind}_>{pattern})" for kind, pattern in TOKENS))
LAYER = re.compile(r"(?:(?P<var>[lL])\s*(?:(?P<sign>[+-])\s*(?P<offset>\d+))?|(?P<number>\d+))\Z")
CLOSE = {"(": ")", "[": "]", "{": "}"}
MAX_NODES = 400  # a formula in layer notation is a line of a textbook, not a program


class LayerSyntaxError(FormulaError):
    """A formula in layer notation that cannot be read: the message names the piece."""


@dataclass(frozen=True)
class LayerRef:
    """A layer superscript: ``l + offset``, ``L + offset``, or a number."""

    var: str  # "l", "L" or "" (a number)
    offset: int

    def value(self, l: int | None, output: int) -> int:
        if self.var == "l":
            if l is None:
                raise LayerSyntaxError("the formula's generic layer l is not bound: add layer = N, a list, or \"all\"")
            return l + self.offset
        return (output if self.var == "L" else 0) + self.offset


@dataclass(frozen=True)
class Node:
    kind: str  # atom scalar nabla leibniz frac apply neg add mul hadamard transpose power pick sum
    text: str = ""  # atom: letter; scalar: its LaTeX; apply: the function; add: "+" or "-"; leibniz, nabla: the loss
    layer: LayerRef | None = None
    index: tuple[str, ...] | None = None  # atom, pick: each index (a letter, or digits)
    args: tuple[Node, ...] = ()
    prime: bool = False


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos, self.nodes = text, 0, 0

    def peek(self) -> re.Match | None:
        while (m := TOKEN.match(self.text, self.pos)) is not None and m.lastgroup == "space_":
            self.pos = m.end()
        if self.pos < len(self.text) and m is None:
            raise LayerSyntaxError(f"cannot read {self.text[self.pos:self.pos + 20]!r} in layer notation")
        return m

    def take(self) -> re.Match:
        m = self.peek()
        if m is None:
            raise LayerSyntaxError("the formula ends too early")
        self.pos = m.end()
        return m

    def node(self, kind: str, **fields) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise LayerSyntaxError(f"more than {MAX_NODES} pieces: expected one equation of a textbook")
        return Node(kind, **fields)

    def is_op(self, *ops: str) -> bool:
        m = self.peek()
        return m is not None and m.lastgroup == "op_" and m[0] in ops

    def expect(self, op: str) -> None:
        if not self.is_op(op):
            got = self.peek()
            raise LayerSyntaxError(f"expected {op!r} in layer notation, got {got[0] if got else 'the end'!r}")
        self.take()

    def expression(self) -> Node:
        if self.is_op("-", "+"):
            sign = self.take()[0]
            node = self.term()
            node = self.node("neg", args=(node,)) if sign == "-" else node
        else:
            node = self.term()
        while self.is_op("+", "-"):
            op = self.take()[0]
            node = self.node("add", text=op, args=(node, self.term()))
        return node

    def term(self) -> Node:
        node = self.summed()
        while (m := self.peek()) is not None:
            if m.lastgroup == "hadamard_":
                self.take()
                node = self.node("hadamard", args=(node, self.summed()))
            elif m.lastgroup == "op_" and m[0] in (r"\cdot", r"\times", "*"):
                self.take()
                node = self.node("mul", args=(node, self.summed()))
            elif m.lastgroup in ("sum_", "nabla_", "frac_", "function_", "atom_", "number_", "scalar_") \
                    or (m.lastgroup == "op_" and m[0] in "([{"):
                node = self.node("mul", args=(node, self.summed()))
            else:
                break
        return node

    def summed(self) -> Node:
        m = self.peek()
        if m is not None and m.lastgroup == "sum_":
            self.take()
            return self.node("sum", text=m["sum"] or m["sum1"], args=(self.term(),))
        return self.factor()

    def factor(self) -> Node:
        node = self.primary()
        while (m := self.peek()) is not None:
            if m.lastgroup == "transpose_":
                self.take()
                node = self.node("transpose", args=(node,))
            elif m.lastgroup == "op_" and m[0] == "^":
                self.take()
                node = self.node("power", text=self.raw_group(), args=(node,))
            elif m.lastgroup == "op_" and m[0] == "_":
                self.take()
                node = self.node("pick", index=_indices(self.raw_group()), args=(node,))
            else:
                break
        return node

    def primary(self) -> Node:
        m = self.take()
        kind = m.lastgroup[:-1]
        if kind == "op" and m[0] in CLOSE:
            inner = self.expression()
            self.expect(CLOSE[m[0]])
            return inner
        if kind == "atom":
            letter = m["letter"]
            layer = _layer(m["layer"]) if m["layer"] else None
            return self.node("atom", text=letter, layer=layer, index=_indices(m["index"]) if m["index"] else None)
        if kind == "nabla":
            return self.node("nabla", text=m["loss"])
        if kind == "frac":
            return self.fraction()
        if kind == "function":
            self.expect("(")
            arg = self.expression()
            self.expect(")")
            return self.node("apply", text=" ".join(m["fn"].split()), prime=bool(m["prime"]), args=(arg,))
        if kind in ("number", "scalar"):
            if m[0] in (r"\partial", r"\nabla", r"\sum"):
                raise LayerSyntaxError(f"{m[0]} where layer notation expects \\frac{{\\partial C}}{{\\partial ...}}, "
                                       "\\nabla_a C or \\sum_k")
            return self.node("scalar", text=m[0])
        raise LayerSyntaxError(f"unexpected {m[0]!r} in layer notation")

    def raw_group(self) -> str:
        """The text of one ``{...}`` group or one character, as a superscript or subscript takes it."""
        self.peek()
        if self.text.startswith("{", self.pos):
            end = _closing(self.text, self.pos)
            group, self.pos = self.text[self.pos + 1:end], end + 1
            return group.strip()
        if self.pos >= len(self.text):
            raise LayerSyntaxError("a ^ or _ with nothing after it")
        self.pos += 1
        return self.text[self.pos - 1]

    def fraction(self) -> Node:
        """``\\frac{A}{B}``: a Leibniz fraction of the loss (``\\frac{\\partial C}{\\partial w^l_{jk}}``), or a quotient."""
        groups = []
        for _ in range(2):
            self.peek()
            if not self.text.startswith("{", self.pos):
                raise LayerSyntaxError(r"\frac needs two groups in braces, like \frac{a}{b}")
            end = _closing(self.text, self.pos)
            groups.append(self.text[self.pos + 1:end])
            self.pos = end + 1
        d = re.compile(r"\s*(?:\\partial(?![A-Za-z])|d(?![A-Za-z])|\\mathrm\s*\{\s*d\s*\})\s*")
        top, bottom = (d.match(g) for g in groups)
        if top and bottom:
            loss = groups[0][top.end():].strip()
            if loss not in ("C", "E", "L", "J"):
                raise LayerSyntaxError(f"a Leibniz fraction in layer notation differentiates the loss (C, E, L or J), "
                                       f"not {loss!r}")
            return self.node("leibniz", text=loss, args=(self.sub(groups[1][bottom.end():]),))
        return self.node("frac", args=(self.sub(groups[0]), self.sub(groups[1])))

    def sub(self, text: str) -> Node:
        inner = _Parser(text)
        inner.nodes = self.nodes
        node = inner.expression()
        if inner.peek() is not None:
            raise LayerSyntaxError(f"cannot read {text.strip()!r} in layer notation")
        self.nodes = inner.nodes
        return node


def _closing(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        depth += (text[i] == "{") - (text[i] == "}")
        if depth == 0:
            return i
    raise LayerSyntaxError("unbalanced braces { }")


def _layer(text: str) -> LayerRef:
    inner = text.strip("{} ")
    m = LAYER.match(inner)
    if not m:
        raise LayerSyntaxError(f"the superscript {text!r} is not a layer: expected a number, l, L, l+1, l-1 or L-1")
    if m["number"]:
        return LayerRef("", int(m["number"]))
    return LayerRef(m["var"], (-1 if m["sign"] == "-" else 1) * int(m["offset"] or 0))


def _indices(text: str) -> tuple[str, ...]:
    """``{jk}``, ``{j,k}``, ``{12}`` (two indices), ``{1,12}``, ``j``: each index, a letter or a number."""
    inner = text.strip("{} ")
    parts = [p.strip() for p in inner.split(",")] if "," in inner else list(inner.replace(" ", ""))
    if not parts or not all(re.fullmatch(r"[a-km-z]|\d+", p) for p in parts):
        raise LayerSyntaxError(f"the subscript {text!r} is not indices: expected letters like j, k or numbers like 1, 2")
    return tuple(parts)


def parse(formula: str) -> tuple[Node, Node]:
    """The two sides of ``LHS = RHS`` in layer notation."""
    text = prepare(formula, False)
    parser = _Parser(text)
    lhs = parser.expression()
    parser.expect("=")
    rhs = parser.expression()
    if parser.peek() is not None:
        raise LayerSyntaxError(f"cannot read {parser.text[parser.pos:parser.pos + 20]!r} after the right side: "
                               "write one equation per claim")
    return lhs, rhs


def uses_layer_notation(formula: str) -> bool:
    """Whether a formula is written in layer notation: a layer superscript on a letter, ``\\odot``,
    ``\\nabla``, ``\\sum`` or a transpose."""
    letters = "|".join(re.escape(letter) for letter in LETTERS)
    return bool(re.search(rf"(?:{letters})\s*\^\s*\{{?\s*(?:\d|[lL](?![A-Za-z]))|\\odot|⊙|\\nabla|\\sum|"
                          r"\^\s*\{?\s*(?:T(?![A-Za-z])|\\top)", formula))
