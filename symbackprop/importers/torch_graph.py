"""A torch module's forward, read through torch.export: its ATen graph walked op by op into layers of
neurons (nn.Linear and the activations of the function table), its weights as exact rationals.

Every value of the graph is one of: the network's input units, a layer's pre-activations (an
``nn.Linear``, ``F.linear``, ``addmm``, ``mm``/``matmul`` + ``add`` waiting for its activation), the
units a layer's activation gives, or a parameter (maybe transposed). Anything else is refused in one
line naming the op and the module path it sits in (``fc1 (Conv1d)``, ``Net.forward at net.py:12``).

Names follow dense(): layer l is the l-th linear call, ``n{l}_{j}``, ``w{l}_{j}_{i}``, ``b{l}_{j}``
(1-based), inputs ``x{i}``; a parameter entry used twice (a shared module) keeps its first name.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from dataclasses import dataclass, field
from decimal import Decimal

import sympy as sp

from ..core.errors import InputError
from ..core.model import Neuron
from ..core.values import rational
from ..reference.torch_model import torch_module

ACTIVATIONS = {  # ATen op -> the function table's activation (in-place forms alike)
    "aten.relu.default": "relu", "aten.relu_.default": "relu",
    "aten.sigmoid.default": "sigmoid", "aten.sigmoid_.default": "sigmoid",
    "aten.tanh.default": "tanh", "aten.tanh_.default": "tanh",
    "aten.leaky_relu.default": "leaky_relu", "aten.leaky_relu_.default": "leaky_relu",
    "aten.softplus.default": "softplus",
    "aten.softmax.int": "softmax", "aten._softmax.default": "softmax",
    "aten.log_softmax.int": "log_softmax", "aten._log_softmax.default": "log_softmax",
}
COUPLED = ("softmax", "log_softmax")
LINEAR = ("aten.linear.default", "aten.addmm.default", "aten.mm.default", "aten.matmul.default")
TRANSPOSE = ("aten.t.default", "aten.permute.default", "aten.transpose.int", "aten.numpy_T.default")
SAME_SHAPE = ("aten.view.default", "aten.reshape.default", "aten.flatten.using_ints", "aten.clone.default",
              "aten.contiguous.default", "aten.alias.default", "aten._unsafe_view.default")
READ = ("nn.Linear (aten.linear, addmm, mm, matmul + add) and the activations relu, leaky_relu (slope 0.01), "
        "sigmoid, tanh, softplus (beta 1, threshold 20), softmax and log_softmax over the last dimension")


@dataclass
class Layer:
    """One linear call: neuron j reads ``sources`` through ``weights[j]`` (+ ``bias[j]``), then ``activation``."""

    index: int
    where: str
    sources: tuple[str, ...]
    weights: list[list[str]]
    bias: list[str] | None = None
    activation: str | None = None  # None: not yet known while reading (identity if no activation follows)
    described: list[str] = field(default_factory=list)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"n{self.index}_{j}" for j in range(1, len(self.weights) + 1))


@dataclass
class Network:
    """The layers in order, the exact initial values by name, and where each name came from."""

    inputs: list[str]
    layers: list[Layer]
    parameters: dict[str, sp.Rational]
    origin: dict[str, tuple[str, tuple[int, ...]]]  # parameter name -> (torch parameter, index)
    output: Layer
    batched: bool  # inputs (B, n); else one example (n,)

    def neurons(self) -> list[Neuron]:
        out = []
        for layer in self.layers:
            for j, name in enumerate(layer.names):
                out.append(Neuron(name, layer.activation or "identity", layer.sources, tuple(layer.weights[j]),
                                  layer.bias[j] if layer.bias else None))
        return out


@dataclass(frozen=True)
class Param:
    fqn: str
    transposed: bool = False

    def entry(self, r: int, c: int) -> tuple[str, tuple[int, int]]:
        return (self.fqn, (c, r) if self.transposed else (r, c))


def exact(value: float, key: str) -> sp.Rational:
    """A float's binary value as its exact decimal (every float32 and float64 is a dyadic rational)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"{value} is not a finite number; expected finite values", key=key)
    return rational(Decimal(value), key)


@contextlib.contextmanager
def _quiet():
    """torch.export logs warnings and graphs on failure: the one-line refusal is all a user should read."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def export(module, inputs):
    """torch.export of ``module`` at ``inputs``, or one line saying why it cannot be read."""
    torch = torch_module()
    name = type(module).__name__
    try:
        with _quiet():
            return torch.export.export(module, (inputs,))
    except Exception as e:  # torch.export's errors are many classes; each becomes one line here
        text = str(e)
        at = _user_frame(text)
        if "data-dependent" in text or type(e).__name__.startswith("GuardOnDataDependent"):
            raise InputError(f"data-dependent control flow{at}: torch.export follows one path of a branch on tensor "
                             "values; expected a forward without control flow on its data", key=f"{name}.forward") from None
        first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
        raise InputError(f"torch.export could not trace it{at} ({type(e).__name__}: {first[:200]}); expected a forward "
                         f"of {READ}", key=f"{name}.forward") from None


def _user_frame(text: str) -> str:
    tail = text.split("The following call raised this error:")[-1]
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\w+)\n\s*(.*)', tail)
    if not frames:
        return ""
    path, line, function, code = frames[0] if "raised this error" in text else frames[-1]
    return f" at {path.rsplit('/', 1)[-1]}:{line} in {function} ({code.strip()[:80]})"


def where(node, root: str) -> str:
    """The module path of a graph node: ``fc1 (Linear)``, or the root's forward with its file and line."""
    stack = node.meta.get("nn_module_stack") or {}
    path, kind = list(stack.values())[-1] if stack else ("", root)
    kind = getattr(kind, "__name__", str(kind).rsplit(".", 1)[-1])
    frames = re.findall(r'File "([^"]+)", line (\d+)', node.meta.get("stack_trace") or "")
    line = f" at {frames[-1][0].rsplit('/', 1)[-1]}:{frames[-1][1]}" if frames else ""
    return f"{path} ({kind})" if path else f"{root}.forward{line}"


class Reader:
    """The walk: one method per kind of op, each value kept in ``self.values`` by graph node."""

    def __init__(self, module, inputs, program) -> None:
        self.module, self.program = module, program
        self.root = type(module).__name__
        signature = program.graph_signature
        self.params = dict(signature.inputs_to_parameters)
        self.buffers = set(signature.inputs_to_buffers) | set(getattr(signature, "inputs_to_lifted_tensor_constants", {}))
        self.values: dict = {}
        self.layers: list[Layer] = []
        self.names: dict[tuple[str, tuple[int, ...]], str] = {}
        self.parameters: dict[str, sp.Rational] = {}
        self.batched = inputs.dim() == 2
        if inputs.dim() not in (1, 2):
            raise InputError(f"inputs of shape {tuple(inputs.shape)}; expected (examples, features) or (features,)",
                             key="inputs")
        self.inputs = [f"x{i}" for i in range(1, inputs.shape[-1] + 1)]
        self.tensors = {fqn: module.get_parameter(fqn).detach() for fqn in self.params.values()}

    def read(self) -> Network:
        user = [n for n in self.program.graph.nodes if n.op == "placeholder" and n.name not in self.params]
        for node in self.program.graph.nodes:
            if node.op == "placeholder":
                if node.name in self.params:
                    self.values[node] = Param(self.params[node.name])
                elif node.name in self.buffers:
                    self.values[node] = ("buffer", node.name)
                elif node is user[0]:
                    self.values[node] = tuple(self.inputs)
                else:
                    raise InputError(f"forward takes more than one tensor ({node.name}); expected forward(x)",
                                     key=f"{self.root}.forward")
            elif node.op == "call_function":
                self.values[node] = self.call(node)
            elif node.op == "output":
                return self.finish(node)
            else:
                raise InputError(f"graph node {node.op} {node.target}; expected ATen operations only", key=where(node, self.root))
        raise InputError("the exported graph has no output; expected forward to return a tensor", key=f"{self.root}.forward")

    def call(self, node):
        op, args, here = str(node.target), node.args, where(node, self.root)
        if op in LINEAR:
            return self.linear(node, op, here)
        if op in ACTIVATIONS:
            return self.activate(node, ACTIVATIONS[op], here)
        if op in TRANSPOSE:
            return self.transpose(node, op, here)
        if op == "aten.add.Tensor":
            return self.add_bias(node, here)
        if op in SAME_SHAPE or op == "aten.dropout.default":
            if op == "aten.dropout.default" and args[1] and (len(args) < 3 or args[2]):
                raise InputError(f"aten.dropout.default with p = {args[1]} in training mode is random; expected "
                                 "module.eval() or p = 0", key=here)
            if tuple(node.meta["val"].shape) != tuple(args[0].meta["val"].shape):
                raise InputError(f"{op} changes the shape {tuple(args[0].meta['val'].shape)} to "
                                 f"{tuple(node.meta['val'].shape)}; expected (examples, features) throughout", key=here)
            return self.values[args[0]]
        raise InputError(f"{op} is not an operation symbackprop reads; expected {READ}", key=here)

    def units(self, node, here: str) -> tuple[str, ...]:
        """The unit names a linear call reads: inputs, a layer's activations, or a pending layer as identity neurons."""
        value = self.values[node]
        if isinstance(value, Layer):
            if value.activation is None:
                value.activation = "identity"
            if value.activation in COUPLED:
                raise InputError(f"{value.activation} of layer {value.index} is read by another layer; expected "
                                 f"{value.activation} over the output layer only", key=here)
            return value.names
        if isinstance(value, tuple):
            return value
        raise InputError(f"a layer reads {self._what(value)}; expected the input or a layer's output", key=here)

    def matrix(self, node, here: str, rank: int = 2) -> Param:
        value = self.values.get(node)
        if not isinstance(value, Param) or self.tensors[value.fqn].dim() != rank:
            raise InputError(f"a linear map by {self._what(value)}; expected a parameter of rank {rank} "
                             "(requires_grad or not, not a buffer or a computed tensor)", key=here)
        return value

    def linear(self, node, op: str, here: str) -> Layer:
        args = list(node.args)
        if op == "aten.linear.default":
            x, weight, bias = args[0], self.matrix(args[1], here), args[2] if len(args) > 2 else None
            entry = weight.entry
        elif op == "aten.addmm.default":
            if node.kwargs.get("beta", 1) != 1 or node.kwargs.get("alpha", 1) != 1:
                raise InputError(f"{op} with beta or alpha other than 1; expected bias + x @ W", key=here)
            bias, x, weight = args[0], args[1], self.matrix(args[2], here)
            entry = lambda j, i, w=weight: w.entry(i, j)  # noqa: E731 - x @ M: neuron j reads unit i through M[i, j]
        else:
            x, weight, bias = args[0], self.matrix(args[1], here), None
            entry = lambda j, i, w=weight: w.entry(i, j)  # noqa: E731
        sources = self.units(x, here)
        out = node.meta["val"].shape[-1]
        layer = Layer(len(self.layers) + 1, here, sources, [])
        layer.weights = [[self.name(entry(j, i), f"w{layer.index}_{j + 1}_{i + 1}") for i in range(len(sources))]
                         for j in range(out)]
        self.layers.append(layer)
        if bias is not None:
            self.set_bias(layer, self.matrix(bias, here, rank=1), here)
        return layer

    def set_bias(self, layer: Layer, bias: Param, here: str) -> None:
        if len(self.tensors[bias.fqn]) != len(layer.weights):
            raise InputError(f"a bias of {len(self.tensors[bias.fqn])} for {len(layer.weights)} outputs; expected one "
                             "per output (no broadcasting)", key=here)
        layer.bias = [self.name((bias.fqn, (j,)), f"b{layer.index}_{j + 1}") for j in range(len(layer.weights))]

    def name(self, entry: tuple[str, tuple[int, ...]], name: str) -> str:
        """A parameter entry's name: its first use's, so a module called twice shares its weights."""
        if entry not in self.names:
            fqn, index = entry
            self.names[entry] = name
            self.parameters[name] = exact(float(self.tensors[fqn][index]), f"{fqn}[{', '.join(map(str, index))}]")
        return self.names[entry]

    def add_bias(self, node, here: str) -> Layer:
        a, b = node.args[0], node.args[1]
        layer, bias = (self.values.get(a), self.values.get(b))
        if isinstance(bias, Layer):
            layer, bias = bias, layer
        if node.kwargs.get("alpha", 1) != 1 or not isinstance(layer, Layer) or layer.bias or layer.activation:
            raise InputError(f"aten.add.Tensor of {self._what(self.values.get(a))} and {self._what(self.values.get(b))}; "
                             "expected a layer's x @ W plus a bias parameter", key=here)
        self.set_bias(layer, self.matrix(b if self.values.get(b) is bias else a, here, rank=1), here)
        return layer

    def transpose(self, node, op: str, here: str) -> Param:
        value, args = self.values.get(node.args[0]), node.args
        swaps = op in ("aten.t.default", "aten.numpy_T.default") or (
            op == "aten.permute.default" and list(args[1]) == [1, 0]) or (
            op == "aten.transpose.int" and sorted(d % 2 for d in args[1:3]) == [0, 1])
        if not isinstance(value, Param) or not swaps:
            raise InputError(f"{op} of {self._what(value)}; expected only a weight matrix transposed", key=here)
        return Param(value.fqn, not value.transposed)

    def activate(self, node, name: str, here: str) -> Layer:
        layer = self.values.get(node.args[0])
        if not isinstance(layer, Layer) or layer.activation is not None:
            raise InputError(f"{node.target} of {self._what(layer)}; expected an activation right after a linear layer "
                             "(one activation per layer)", key=here)
        if len(node.args[0].users) > 1:
            raise InputError(f"the pre-activations of layer {layer.index} ({layer.where}) are used {len(node.args[0].users)} "
                             f"times; expected them used once, by {name}", key=here)
        _check_options(node, name, here)
        layer.activation = name
        return layer

    def finish(self, node) -> Network:
        results = node.args[0]
        if not isinstance(results, (tuple, list)) or len(results) != 1:
            raise InputError(f"forward returns {len(results)} values; expected one tensor", key=f"{self.root}.forward")
        layer = self.values.get(results[0])
        if not isinstance(layer, Layer):
            raise InputError(f"forward returns {self._what(layer)}; expected a layer's output", key=f"{self.root}.forward")
        for other in self.layers:
            if other is not layer and other.activation in COUPLED:
                raise InputError(f"{other.activation} on layer {other.index} ({other.where}), which is not the output; "
                                 f"expected {other.activation} over the output layer only", key=other.where)
        for other in self.layers:
            other.activation = other.activation or "identity"
        origin = {name: entry for entry, name in self.names.items()}
        ordered = [p for other in self.layers for j, row in enumerate(other.weights)  # dense()'s order: weights, bias
                   for p in (*row, *([other.bias[j]] if other.bias else []))]
        parameters = {p: self.parameters[p] for p in dict.fromkeys(ordered)}
        return Network(self.inputs, self.layers, parameters, origin, layer, self.batched)

    def _what(self, value) -> str:
        if isinstance(value, Layer):
            return f"layer {value.index} ({value.where})" + (f" after {value.activation}" if value.activation else "")
        if isinstance(value, Param):
            return f"the parameter {value.fqn}"
        if isinstance(value, tuple) and value and value[0] == "buffer":
            return f"the buffer {value[1]}"
        return "the input" if isinstance(value, tuple) else "a computed value"


def _check_options(node, name: str, here: str) -> None:
    """The function table's own forms only: leaky_relu's slope 0.01, softplus at beta 1 and threshold 20, softmax
    over the last dimension."""
    args, kwargs = node.args, node.kwargs
    if name == "leaky_relu":
        slope = args[1] if len(args) > 1 else kwargs.get("negative_slope", 0.01)
        if slope != 0.01:
            raise InputError(f"{node.target} with negative_slope = {slope}; expected 0.01, the function table's",
                             key=here)
    if name == "softplus":
        beta = args[1] if len(args) > 1 else kwargs.get("beta", 1)
        threshold = args[2] if len(args) > 2 else kwargs.get("threshold", 20)
        if beta != 1 or threshold != 20:
            raise InputError(f"{node.target} with beta = {beta}, threshold = {threshold}; expected beta 1, threshold 20",
                             key=here)
    if name in COUPLED:
        dim, rank = args[1] if len(args) > 1 else kwargs.get("dim"), node.meta["val"].dim()
        if dim is None or dim % rank != rank - 1:
            raise InputError(f"{node.target} over dimension {dim} of a rank-{rank} tensor; expected the last dimension "
                             "(over the outputs of each example)", key=here)
        if len(args) > 2 and args[2] not in (False, None):
            raise InputError(f"{node.target} with a dtype change; expected the input's dtype", key=here)


def read(module, inputs) -> Network:
    """The network a torch module's forward computes at ``inputs``: layers, exact weights, names."""
    program = export(module, inputs)
    return Reader(module, inputs, program).read()
