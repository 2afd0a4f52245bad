"""The network as a textbook writes it: neurons, named inputs and weights, data, training.

A Model is plain data with exact values (SymPy Rationals). It knows nothing of derivation or
printing; ``validate`` is where every structural mistake becomes a located InputError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import sympy as sp

from . import function_table
from .claims import Claim, Reading
from .display import Displayed
from .errors import InputError
from .limits import check_size
from .loss_rules import check_coupled, check_loss, check_targets
from .optimizers import PLAIN, Optimizer
from .schedulers import Scheduler
from .toml_writer import dumps
from .values import check_name

UPDATE_RULES = {
    "subtract": "w <- w - lr * dE/dw",
    "add": "w <- w + lr * dE/dw  (the text's own sign of lr, e.g. lr = -0.6)",
}
BATCH_RULES = ("mean", "sum")


@dataclass(frozen=True)
class Neuron:
    """z = sum(weight_i * input_i) [+ bias]; a = activation(z)."""

    name: str
    activation: str
    inputs: tuple[str, ...]
    weights: tuple[str, ...]
    bias: str | None = None


@dataclass(frozen=True)
class Example:
    inputs: dict[str, sp.Rational]
    targets: dict[str, sp.Rational]
    label: int | None = None  # the class index (0-based, as torch) when the file gives one: targets are then one-hot


@dataclass
class Model(Displayed):
    neurons: list[Neuron]
    inputs: list[str]
    outputs: list[str]
    parameters: dict[str, sp.Rational]  # initial values, in declaration order
    examples: list[Example]
    constants: dict[str, sp.Rational] = field(default_factory=dict)
    loss: str = "half_sse"
    batch: str = "mean"
    learning_rate: sp.Rational = sp.Rational(1, 10)
    update: str = "subtract"
    iterations: int = 1
    trained: list[str] | None = None  # None: every parameter
    title: str = ""
    source: str = ""
    notes: str = ""  # what the file says about its example (where its numbers come from), shown in documents
    claims: tuple[Claim, ...] = ()  # what the text states, parsed and validated at load (claims.py)
    readings: dict[str, Reading] = field(default_factory=dict)  # [readings.NAME]: values a reading gives differently
    optimizer: Optimizer | None = None  # [optimizer]: a torch.optim rule; None: the plain rule of ``update``
    scheduler: Scheduler | None = None  # [scheduler]: the learning rate per iteration; None: constant

    def __post_init__(self) -> None:
        validate(self)

    @property
    def trained_parameters(self) -> list[str]:
        return list(self.parameters) if self.trained is None else list(self.trained)

    def neuron(self, name: str) -> Neuron:
        return self._by_name[name]

    @property
    def _by_name(self) -> dict[str, Neuron]:
        return {n.name: n for n in self.neurons}

    def target_name(self, output: str) -> str:
        """The target's symbol: ``y`` for a single output, else ``y_<output>``."""
        return "y" if len(self.outputs) == 1 else f"y_{output}"

    def topological_order(self) -> list[Neuron]:
        return _topological_order(self)

    @property
    def update_sign(self) -> int:
        """+1 when the text adds lr * dE/dw (its own sign of lr), -1 for gradient descent."""
        return 1 if self.update == "add" else -1

    @property
    def update_operator(self) -> str:
        """The update's sign as written in formulas and code: ``+`` or ``-``."""
        return "+" if self.update_sign > 0 else "-"

    @property
    def rule(self) -> Optimizer:
        """The update rule as an optimizer: the file's, or plain SGD (``update`` gives its sign)."""
        return self.optimizer or PLAIN

    def rate(self, t: int) -> sp.Rational:
        """The learning rate iteration t (1-based) updates with, signed so that Delta = -rate * g: the
        scheduler's, else the file's (negated where the text adds lr * dE/dw)."""
        if self.scheduler is not None:
            return self.scheduler.rate(self.learning_rate, t)
        return -self.update_sign * self.learning_rate

    @property
    def batch_mean(self) -> bool:
        """Whether the examples' losses are averaged (else summed)."""
        return self.batch == "mean"

    def combine(self, values: Sequence[sp.Expr]) -> sp.Expr:
        """The batch value of per-example values, by the model's batch rule."""
        total = sp.Add(*values)
        return total / len(values) if self.batch_mean else total

    def parameters_of(self, neuron: Neuron) -> tuple[str, ...]:
        """A neuron's weights, then its additive bias."""
        return (*neuron.weights, *([neuron.bias] if neuron.bias else []))

    def depths(self) -> dict[str, int]:
        """Each neuron's depth: 1 + the deepest neuron it reads (inputs and constants are depth 0)."""
        depth: dict[str, int] = {}
        for n in self.topological_order():
            depth[n.name] = 1 + max((depth[s] for s in n.inputs if s in depth), default=0)
        return depth

    def layers(self) -> list[list[str]] | None:
        """Neuron names layer by layer when each layer reads exactly the one before (inputs first)
        and the last is the outputs, as dense() builds them; None for any other graph."""
        readers: dict[tuple, list[str]] = {}  # the neurons reading exactly these sources, in file order
        for n in self.neurons:
            readers.setdefault(tuple(n.inputs), []).append(n.name)
        layers, previous = [], tuple(self.inputs)
        while readers:  # linear: a chain of 10,000 neurons is 10,000 lookups
            layer = readers.pop(previous, None)
            if layer is None:
                return None
            layers.append(layer)
            previous = tuple(layer)
        return layers if layers and layers[-1] == list(self.outputs) else None

    def to_toml(self) -> str:
        """The derivation file for this Model: ``loads(m.to_toml())`` gives it back."""
        return dumps(self)

    def under_readings(self) -> dict[str, Model]:
        """The model under each of its readings (its own values overridden), or just the model."""
        if not self.readings:
            return {"": self}
        return {name: replace(self, parameters={**self.parameters, **r.parameters},
                              constants={**self.constants, **r.constants}, readings={})
                for name, r in self.readings.items()}

    def check_unambiguous(self, needs: str) -> None:
        """Refuse a parameter named as a derived quantity where ``needs`` names quantities (name_clashes)."""
        check_unambiguous(self, needs)

    def check_parameters(self, names: Sequence[str] | None, key: str = "only") -> None:
        """Names the caller picked out (``only``) must be parameters."""
        for p in names or []:
            if p not in self.parameters:
                first = ", ".join(list(self.parameters)[:8])
                raise InputError(f"{p!r} is not a parameter; expected one of {first}...", key=key)


def _topological_order(model: Model) -> list[Neuron]:
    """Each neuron after the neurons it reads; walked with an explicit stack, so a chain of any
    length is ordered (no recursion limit), and a cycle is named."""
    by_name = {n.name: n for n in model.neurons}
    order: list[Neuron] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for root in model.neurons:
        if root.name in state:
            continue
        state[root.name] = 1
        stack = [(root.name, iter(root.inputs))]
        while stack:
            name, sources = stack[-1]
            for source in sources:
                if source not in by_name or state.get(source) == 2:
                    continue
                if state.get(source) == 1:
                    path = [n for n, _ in stack]
                    cycle = " -> ".join(path[path.index(source):] + [source])
                    raise InputError(f"the neurons form a cycle ({cycle}); expected a feedforward network",
                                     key="network.neurons")
                state[source] = 1
                stack.append((source, iter(by_name[source].inputs)))
                break
            else:
                stack.pop()
                state[name] = 2
                order.append(by_name[name])
    return order


def derived_names(model: Model) -> dict[str, str]:
    """Symbol names the derivation creates, and what each is. An input, constant or neuron must not
    take one; a weight or bias may, for compile and check only (name_clashes)."""
    names = {"E": "the loss"}
    for n in model.neurons:
        names |= {f"z_{n.name}": f"neuron {n.name}'s weighted sum", f"a_{n.name}": f"neuron {n.name}'s activation",
                  f"delta_{n.name}": f"neuron {n.name}'s error term"}
    names |= {model.target_name(o): f"output {o}'s target" for o in model.outputs}
    return names


def derived_quantities(model: Model) -> dict[str, str]:
    """Every name the trace, documents and claims give a quantity a parameter's own name could be
    taken for: the derived symbols, each parameter's adjustment ``Delta_<p>``, and with an optimizer
    the learning rate ``lr`` and its quantities (``m_<p>``)."""
    out = derived_names(model) | {f"Delta_{p}": f"parameter {p}'s adjustment" for p in model.parameters}
    if model.optimizer is not None:
        out["lr"] = "the learning rate"
        out |= {f"{head}_{p}": f"parameter {p}'s optimizer quantity {head}"
                for head in model.optimizer.quantities() for p in model.parameters}
    return out


def name_clashes(model: Model) -> list[tuple[str, str, str]]:
    """(parameter, the key that names it, the derived quantity it is named after), for each parameter
    named as a quantity symbackprop derives (a weight ``delta_b`` beside a neuron ``b``). Such a file
    loads, derives, compiles and checks: the Derivation gives its own symbol another name and
    generated code maps every name through one table. Only what names quantities (documents, the
    trace, claims) refuses it (``check_unambiguous``): there the two would be written alike."""
    derived, out, seen = derived_quantities(model), [], set()
    for i, n in enumerate(model.neurons):
        for j, p in enumerate(model.parameters_of(n)):
            if p in derived and p not in seen:
                seen.add(p)
                key = f"network.neurons[{i}]." + (f"weights[{j}]" if j < len(n.weights) else "bias")
                out.append((p, key, f"{derived[p]} {p}"))
    return out


def check_unambiguous(model: Model, needs: str) -> None:
    """Refuse, in one line, a file ``needs`` (a document, the trace, verify's claims) cannot name unambiguously."""
    for p, key, what in name_clashes(model)[:1]:
        raise InputError(f"parameter {p!r} has the name of {what}, and {needs} would write both alike; expected a "
                         f"name symbackprop does not derive: rename the parameter (compile and check take the file "
                         f"as it is)", key=key)


def validate(model: Model) -> None:
    """Every structural rule, each failure a located one-line InputError."""
    seen: dict[str, str] = {}

    def declare(name: str, key: str) -> None:
        check_name(name, key)
        if name in seen:
            raise InputError(f"{name!r} is already used as {seen[name]}; expected a unique name", key=key)
        seen[name] = key

    for i, name in enumerate(model.inputs):
        declare(name, f"network.inputs[{i}]")
    for name in model.constants:
        declare(name, f"network.constants.{name}")
    for i, n in enumerate(model.neurons):
        declare(n.name, f"network.neurons[{i}].name")
    derived = derived_names(model)
    for name in derived:
        if name in seen:
            raise InputError(f"{name!r} is a name symbackprop derives; choose another name", key=seen[name])

    sources = set(model.inputs) | set(model.constants) | {n.name for n in model.neurons}
    used_params: set[str] = set()
    for i, n in enumerate(model.neurons):
        key = f"network.neurons[{i}]"
        function_table.activation(n.activation, key=f"{key}.activation")
        if len(n.inputs) != len(n.weights):
            raise InputError(
                f"{len(n.inputs)} inputs but {len(n.weights)} weights; expected one weight per input", key=key
            )
        if not n.inputs and n.bias is None:
            raise InputError("a neuron needs at least one input or a bias", key=f"{key}.inputs")
        for j, src in enumerate(n.inputs):
            if src not in sources:
                raise InputError(
                    f"undefined input {src!r}; expected a network input, a constant or a neuron", key=f"{key}.inputs[{j}]"
                )
            if src == n.name:
                raise InputError(f"neuron {n.name!r} reads its own output; expected a feedforward network", key=f"{key}.inputs[{j}]")
        for j, w in enumerate(n.weights):
            check_name(w, f"{key}.weights[{j}]")
        if n.bias is not None:
            check_name(n.bias, f"{key}.bias")
        for p in model.parameters_of(n):
            if p in seen:
                raise InputError(f"parameter {p!r} has the name of {seen[p]}; expected a distinct name", key=key)
            used_params.add(p)  # a name symbackprop derives is taken: see name_clashes
    check_size(model, _topological_order(model))

    for p in used_params:
        if p not in model.parameters:
            raise InputError(f"missing initial value for weight {p!r}; expected a number", key=f"parameters.{p}")
    for p in model.parameters:
        if p not in used_params:
            raise InputError(f"{p!r} is not a weight or bias of any neuron", key=f"parameters.{p}")
    if model.trained is not None:
        for i, p in enumerate(model.trained):
            if p not in model.parameters:
                raise InputError(f"{p!r} is not a parameter; expected one of the weights", key=f"training.trained[{i}]")

    if not model.outputs:
        raise InputError("no output neuron; expected at least one", key="network.outputs")
    for i, o in enumerate(model.outputs):
        if o in model.outputs[:i]:
            raise InputError(f"output {o!r} is listed twice; expected each output once", key=f"network.outputs[{i}]")
        if o not in {n.name for n in model.neurons}:
            raise InputError(f"output {o!r} is not a neuron", key=f"network.outputs[{i}]")

    check_coupled(model)
    check_loss(model)
    if model.optimizer is not None and model.update != "subtract":
        raise InputError(f"update = {model.update!r} with an [optimizer]; expected subtract (the optimizer's rule is "
                         "torch.optim's: p <- p - lr * step)", key="training.update")
    if model.scheduler is not None and model.optimizer is None:
        raise InputError("a [scheduler] without an [optimizer]; expected an [optimizer] table (name = \"SGD\" for "
                         "plain gradient descent), as torch.optim.lr_scheduler needs one", key="scheduler")
    if model.batch not in BATCH_RULES:
        raise InputError(f"unknown batch rule {model.batch!r}; expected mean or sum", key="loss.batch")
    if model.update not in UPDATE_RULES:
        raise InputError(f"unknown update rule {model.update!r}; expected subtract or add", key="training.update")
    if isinstance(model.iterations, bool) or not isinstance(model.iterations, int) or model.iterations < 0:
        raise InputError(f"expected a whole number of iterations >= 0, got {model.iterations!r}", key="training.iterations")

    if not model.examples:
        raise InputError("no training example; expected at least one [[examples]] table", key="examples")
    sides = (("inputs", model.inputs, "value for input", "a network input"),
             ("targets", model.outputs, "target for output", "an output neuron"))
    for k, ex in enumerate(model.examples):
        for side, names, missing, kind in sides:
            given, key = getattr(ex, side), f"examples[{k}].{side}"
            for name in names:
                if name not in given:
                    raise InputError(f"missing {missing} {name!r}", key=f"{key}.{name}")
            for name in given:
                if name not in names:
                    raise InputError(f"{name!r} is not {kind}; expected one of {', '.join(names)}", key=f"{key}.{name}")

    loss = function_table.loss(model.loss)
    for k, ex in enumerate(model.examples):
        check_targets(loss, [ex.targets[o] for o in model.outputs], f"examples[{k}].targets")

    for name, reading in model.readings.items():
        for kind, own, overrides in (("parameters", model.parameters, reading.parameters),
                                     ("constants", model.constants, reading.constants)):
            for p in overrides:
                if p not in own:
                    raise InputError(f"{p!r} is not one of the file's {kind}", key=f"readings.{name}.{kind}.{p}")

