"""A formula in layer notation written out at one layer: each entry of each side as LaTeX, and each
letter's entry named as the quantity it is (layer_notation.py).

Sizes come from the network: ``W^l`` is n_l x n_(l-1), every other letter a column of its layer.
An operation whose shapes do not conform raises ShapeError naming the piece, with the transpose
that would conform where there is one: a wrong formula at that layer, not an unreadable one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .layer_notation import Layers
from .layer_syntax import LayerSyntaxError, Node


class ShapeError(ValueError):
    """An operation whose operands do not conform at this layer: a mismatch, with the reason."""


@dataclass(frozen=True)
class Entry:
    text: str
    rank: int  # 0: a sum, 1: a product, 2: an atom or a bracket (what needs no parentheses where)

    def at(self, rank: int) -> str:
        return self.text if self.rank >= rank else f"({self.text})"


@dataclass(frozen=True)
class Value:
    rows: tuple[tuple[Entry, ...], ...]
    scalar: bool = False  # a number, a scalar name or an indexed entry (broadcasts in products)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.rows[0])

    def map(self, f) -> Value:
        return Value(tuple(tuple(f(e) for e in row) for row in self.rows), self.scalar)


def shape_of(v: Value) -> str:
    r, c = v.shape
    return "a scalar" if v.scalar else f"a {r}-vector" if c == 1 else f"a {r}x{c} matrix"


class Evaluation:
    """The tree written out at one layer: entries' LaTeX, and each entry's quantity (``names``)."""

    def __init__(self, net: Layers, l: int | None) -> None:
        self.net, self.l = net, l
        self.names: dict[str, str] = {}
        self.sizes: dict[str, int] = {}  # each index letter's range (set by _at_layer)

    def layer(self, node: Node) -> int | None:
        return None if node.layer is None else node.layer.value(self.l, self.net.output)

    def ranges(self, node: Node, out: dict[str, list[tuple[int, str]]]) -> None:
        """Each index letter's size, from every entry it indexes: (size, where)."""
        if node.kind == "atom" and node.index:
            rows, columns = self.net.shape(node.text, self.layer(node))
            for letter, size in zip(node.index, (rows, columns), strict=False):
                if letter.isalpha():
                    out.setdefault(letter, []).append((size, self.concrete(node)))
        elif node.kind == "nabla":
            return
        for arg in node.args:
            self.ranges(arg, out)

    def concrete(self, node: Node) -> str:
        sup = "" if node.layer is None else f"^{{{self.layer(node)}}}"
        return f"{node.text}{sup}_{{{''.join(node.index)}}}"

    def value(self, node: Node, env: dict[str, int]) -> Value:
        k, a = node.kind, node.args
        if k == "atom":
            return self.atom(node, env)
        if k == "scalar":
            return Value(((Entry(node.text, 2),),), scalar=True)
        if k == "nabla":
            net = self.net
            return Value(tuple((Entry(rf"\frac{{\partial {node.text}}}{{\partial {self.entry('a', net.output, i)}}}", 2),)
                               for i in range(1, net.sizes[-1] + 1)))
        if k == "leibniz":
            inner = self.value(a[0], env)
            if any(e.text not in self.names for row in inner.rows for e in row):
                raise ShapeError(r"a Leibniz fraction \frac{\partial C}{\partial X} needs X to be a letter of the notation")
            return inner.map(lambda e: Entry(rf"\frac{{\partial {node.text}}}{{\partial {e.text}}}", 2))
        if k == "apply":
            prime = "'" if node.prime else ""
            return self.value(a[0], env).map(lambda e: Entry(f"{node.text}{prime}({e.text})", 2))
        if k == "neg":
            return self.value(a[0], env).map(lambda e: Entry(f"-{e.at(1)}", 1))
        if k == "power":
            return self.value(a[0], env).map(lambda e: Entry(f"{e.at(2)}^{{{node.text}}}", 2))
        if k == "transpose":
            v = self.value(a[0], env)
            return Value(tuple(zip(*v.rows, strict=True)), v.scalar)
        if k == "pick":
            return self.pick(self.value(a[0], env), node.index, env)
        if k == "sum":
            return self.sum(node, env)
        left, right = self.value(a[0], env), self.value(a[1], env)
        if k in ("add", "hadamard") and left.shape != right.shape:
            what = "the sum" if k == "add" else "the Hadamard product"
            raise ShapeError(f"{written(node)}: {what} of {shape_of(left)} and {shape_of(right)}: the shapes differ")
        if k == "mul" and not (left.scalar or right.scalar) and left.shape[1] != right.shape[0]:
            hint = (f" (({written(node.args[0])})^T {_bracketed(node.args[1])} would)"
                    if left.shape[0] == right.shape[0] else "")
            raise ShapeError(f"{written(node)} is {shape_of(left)} times {shape_of(right)}: the shapes do not conform{hint}")
        if k == "add":
            return _zip(left, right, lambda x, y: Entry(f"{x.text} {node.text} {y.at(1) if node.text == '-' else y.text}", 0))
        if k == "frac":
            if right.shape != (1, 1):
                raise ShapeError(f"dividing by {shape_of(right)}")
            return left.map(lambda e: Entry(rf"\frac{{{e.text}}}{{{right.rows[0][0].text}}}", 2))
        if k == "hadamard":
            return _zip(left, right, _times)
        return self.product(left, right)

    def entry(self, letter: str, layer: int | None, row: int, column: int = 1) -> str:
        text, quantity = self.net.entry(letter, layer, row, column)
        self.names[text] = quantity
        return text

    def atom(self, node: Node, env: dict[str, int]) -> Value:
        layer = self.layer(node)
        rows, columns = self.net.shape(node.text, layer)
        if node.index is None:
            return Value(tuple(tuple(Entry(self.entry(node.text, layer, i, j), 2) for j in range(1, columns + 1))
                               for i in range(1, rows + 1)))
        wanted = 2 if columns > 1 or node.text in ("w", "W") else 1
        if len(node.index) != wanted:
            raise LayerSyntaxError(f"{self.concrete(node)}: expected {wanted} ind{'ices' if wanted > 1 else 'ex'}")
        numbers = [env[i] if i.isalpha() else int(i) for i in node.index]
        return Value(((Entry(self.entry(node.text, layer, *numbers), 2),),), scalar=True)

    def pick(self, v: Value, index: tuple[str, ...], env: dict[str, int]) -> Value:
        numbers = [env.get(i, 0) if i.isalpha() else int(i) for i in index]
        rows, columns = v.shape
        at = numbers + [1] * (2 - len(numbers))
        if v.scalar or len(numbers) > 2 or not (1 <= at[0] <= rows and 1 <= at[1] <= columns):
            raise ShapeError(f"component {','.join(index)} of {shape_of(v)}")
        return Value(((v.rows[at[0] - 1][at[1] - 1],),), scalar=True)

    def sum(self, node: Node, env: dict[str, int]) -> Value:
        sizes = self.sizes[node.text]
        terms = [self.value(node.args[0], {**env, node.text: k}) for k in range(1, sizes + 1)]
        if any(t.shape != terms[0].shape for t in terms):
            raise ShapeError(f"the terms of the sum over {node.text} differ in shape")
        out = terms[0]
        for t in terms[1:]:
            out = _zip(out, t, lambda x, y: Entry(f"{x.text} + {y.text}", 0))
        return out

    def product(self, left: Value, right: Value) -> Value:
        if left.scalar and right.scalar:
            return _zip(left, right, _times)
        if left.scalar:
            return right.map(lambda e: _times(left.rows[0][0], e))
        if right.scalar:
            return left.map(lambda e: _times(e, right.rows[0][0]))
        (r, c), (_, s) = left.shape, right.shape
        rows = []
        for i in range(r):
            row = []
            for j in range(s):
                terms = [_times(left.rows[i][m], right.rows[m][j]) for m in range(c)]
                row.append(terms[0] if c == 1 else Entry(" + ".join(t.text for t in terms), 0))
            rows.append(tuple(row))
        return Value(tuple(rows))


def written(node: Node) -> str:
    """A piece of the tree as LaTeX again, for messages (``(w^{l+1})^T \\delta^{l+1}``)."""
    k, a = node.kind, [_bracketed(x) for x in node.args]
    if k == "atom":
        sup = "" if node.layer is None else "^{" + _layer_text(node.layer) + "}"
        return node.text + sup + ("" if node.index is None else "_{" + "".join(node.index) + "}")
    if k in ("scalar", "nabla"):
        return node.text if k == "scalar" else rf"\nabla_a {node.text}"
    forms = {"leibniz": r"\frac{{\partial {t}}}{{\partial {0}}}", "apply": "{t}{p}({w})", "neg": "-{0}", "power": "{0}^{{{t}}}",
             "transpose": "({w})^T", "pick": "{0}_{{{i}}}", "sum": r"\sum_{t} {w}", "add": "{w} {t} {1}",
             "frac": r"\frac{{{w}}}{{{w1}}}", "hadamard": r"{0} \odot {1}", "mul": "{0} {1}"}
    whole = [written(x) for x in node.args]
    return forms[k].format(*a, t=node.text, p="'" if node.prime else "", i="".join(node.index or ()), w=whole[0],
                           w1=whole[-1])


def _bracketed(node: Node) -> str:
    return f"({written(node)})" if node.kind in ("add", "neg", "sum") else written(node)


def _layer_text(ref) -> str:
    if not ref.var:
        return str(ref.offset)
    return ref.var + (f"{ref.offset:+d}" if ref.offset else "")


def _times(x: Entry, y: Entry) -> Entry:
    return Entry(f"{x.at(1)} {y.at(1)}", 1)


def _zip(a: Value, b: Value, f) -> Value:
    return Value(tuple(tuple(f(x, y) for x, y in zip(ra, rb, strict=True)) for ra, rb in zip(a.rows, b.rows, strict=True)),
                 a.scalar and b.scalar)
