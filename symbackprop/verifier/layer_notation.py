"""The matrix form of a layered network: what ``W^l``, ``b^l``, ``z^l``, ``a^l``, ``δ^l``, ``x`` and
``y`` stand for, entry by entry, as quantities of the model (docs/layer_notation.md).

A network is layered when it is named as ``dense()`` names it (core/dense.py): inputs ``x1..xn``,
neuron j of layer l ``n{l}_{j}``, fed by every unit of layer l-1 in order through ``w{l}_{j}_{i}``,
with bias ``b{l}_{j}`` on all neurons or none. A text numbers its layers from its input layer,
which symbackprop calls 0 and Nielsen calls 1 (a claim's ``input_layer``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NEURON = re.compile(r"n([1-9]\d*)_([1-9]\d*)\Z")


class LayerMissing(ValueError):
    """A letter at a layer the network does not have (``δ^{L+1}``, ``W^0``): for ``layer = "all"``,
    a layer the formula cannot be read at."""


class IndexMissing(ValueError):
    """An entry beyond its layer's size, written with numbers (``w^{2}_{45}`` in a layer of 3)."""


@dataclass(frozen=True)
class Letter:
    """One letter of the notation: the layers it exists at (0 or 1 up to L; None: no layer of its own)
    and whether it is a matrix (rows: this layer, columns: the one before)."""

    name: str
    first: int | None  # the first of symbackprop's layers it has (None: x and y, fixed layers)
    matrix: bool = False


LETTERS = {  # the text's letter -> what it is; each entry's quantity is Layers.quantity
    "W": Letter("weights", 1, matrix=True),
    "w": Letter("weights", 1, matrix=True),
    "b": Letter("biases", 1),
    "z": Letter("weighted inputs", 1),
    "a": Letter("activations", 0),
    "\\delta": Letter("error terms", 1),
    "x": Letter("inputs", None),
    "y": Letter("targets", None),
}


@dataclass(frozen=True)
class Layers:
    sizes: tuple[int, ...]  # the inputs, then each layer's neurons: n_0 ... n_L
    bias: bool
    input_layer: int = 0  # the number the text gives the input layer
    targets: tuple[str, ...] = ()  # the quantity name of each output's target (the derivation's)

    @property
    def output(self) -> int:
        """L, as the text numbers it."""
        return len(self.sizes) - 1 + self.input_layer

    def own(self, letter: str, layer: int | None) -> int:
        """symbackprop's layer of a letter at the text's layer ``layer`` (x: 0, y: L)."""
        spec = LETTERS[letter]
        if spec.first is None:
            return 0 if letter == "x" else len(self.sizes) - 1
        if layer is None:
            raise LayerMissing(f"{letter} needs a layer superscript, like {letter}^l or {letter}^2")
        m = layer - self.input_layer
        if not spec.first <= m < len(self.sizes) or (letter == "b" and not self.bias):
            first, last = spec.first + self.input_layer, self.output
            why = "the network has no biases" if letter == "b" and not self.bias else f"layers {first} to {last}"
            raise LayerMissing(f"{letter}^{{{layer}}}: the network has {LETTERS[letter].name} at {why} only")
        return m

    def shape(self, letter: str, layer: int | None) -> tuple[int, int]:
        m = self.own(letter, layer)
        return (self.sizes[m], self.sizes[m - 1]) if LETTERS[letter].matrix else (self.sizes[m], 1)

    def entry(self, letter: str, layer: int | None, row: int, column: int = 1) -> tuple[str, str]:
        """One entry: its LaTeX as components are written (``w^{2}_{13}``) and its quantity (``w2_1_3``)."""
        m = self.own(letter, layer)
        rows, columns = self.shape(letter, layer)
        if not (1 <= row <= rows and 1 <= column <= columns):
            size = f"{rows}x{columns}" if LETTERS[letter].matrix else f"{rows} entries"
            raise IndexMissing(f"{_text(letter, layer, row, column, LETTERS[letter].matrix)}: "
                               f"{letter}{'' if layer is None else f'^{{{layer}}}'} has {size}")
        text = _text(letter, layer, row, column, LETTERS[letter].matrix)
        if letter == "x" or (letter == "a" and m == 0):
            return text, f"x{row}"
        if letter == "y":
            return text, self.targets[row - 1]
        if LETTERS[letter].matrix:
            return text, f"w{m}_{row}_{column}"
        if letter == "b":
            return text, f"b{m}_{row}"
        head = {"z": "z_", "a": "a_", "\\delta": "delta_"}[letter]
        return text, f"{head}n{m}_{row}"


    def entries(self):
        """Every entry of every letter at every layer: (its LaTeX, its quantity), the inputs first."""
        for letter in ("a", "x", "y", "z", "\\delta", "w", "b"):
            spec = LETTERS[letter]
            own = [None] if spec.first is None else range(spec.first, len(self.sizes))
            for m in own:
                if letter == "b" and not self.bias:
                    continue
                layer = None if m is None else m + self.input_layer
                rows, columns = self.shape(letter, layer)
                for i in range(1, rows + 1):
                    for j in range(1, columns + 1):
                        yield self.entry(letter, layer, i, j)


def _text(letter: str, layer: int | None, row: int, column: int, matrix: bool) -> str:
    indices = (row, column) if matrix else (row,)
    sub = ("," if max(indices) > 9 else "").join(map(str, indices))
    return f"{letter}{'' if layer is None else f'^{{{layer}}}'}_{{{sub}}}"


def layers(model, input_layer: int = 0) -> Layers | str:
    """The model's Layers, or why it is not layered (a sentence naming the first unit that is not)."""
    n0 = len(model.inputs)
    if list(model.inputs) != [f"x{i}" for i in range(1, n0 + 1)]:
        return f"its inputs are not named x1..x{n0} as dense() names them"
    grid: dict[int, dict[int, object]] = {}
    for neuron in model.neurons:
        m = NEURON.match(neuron.name)
        if not m:
            return f"its neuron {neuron.name!r} is not named n{{layer}}_{{j}} as dense() names it"
        grid.setdefault(int(m[1]), {})[int(m[2])] = neuron
    sizes = [n0]
    for layer in range(1, len(grid) + 1):
        row = grid.get(layer, {})
        if sorted(row) != list(range(1, len(row) + 1)) or not row:
            return f"its layer {layer} is not numbered n{layer}_1, n{layer}_2, ... without gaps"
        sizes.append(len(row))
    biased = {n.bias is not None for n in model.neurons}
    if len(biased) > 1:
        return "some of its neurons have a bias and some do not"
    for layer, row in grid.items():
        before = list(model.inputs) if layer == 1 else [f"n{layer - 1}_{i}" for i in range(1, sizes[layer - 1] + 1)]
        for j, neuron in row.items():
            weights = [f"w{layer}_{j}_{i}" for i in range(1, len(before) + 1)]
            if list(neuron.inputs) != before or list(neuron.weights) != weights or neuron.bias not in (None, f"b{layer}_{j}"):
                return f"its neuron {neuron.name!r} is not fed by every unit of layer {layer - 1} through w{layer}_{j}_i"
    last = [f"n{len(sizes) - 1}_{j}" for j in range(1, sizes[-1] + 1)]
    if list(model.outputs) != last:
        return "its outputs are not the last layer's neurons in order"
    return Layers(tuple(sizes), biased == {True}, input_layer)
