"""A torch program's training settings as a derivation file states them: the loss module (with its
reduction, and the output activation it implies), the targets (values or class indices), and the
optimizer's settings from its ``param_groups`` (which parameters it trains, torch's option names)."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..core import optimizers
from ..core.errors import InputError
from ..core.optimizers import Optimizer
from ..core.values import rational
from .torch_graph import Network, exact

# loss class -> (the file's loss, the output activation torch's loss expects the network to end in: None for logits)
LOSSES = {
    "MSELoss": ("mse", "any"),
    "CrossEntropyLoss": ("cross_entropy", None),
    "NLLLoss": ("nll", "log_softmax"),
    "BCELoss": ("bce", "sigmoid"),
    "BCEWithLogitsLoss": ("bce_logits", None),
}
CLASS_TARGETS = ("CrossEntropyLoss", "NLLLoss")
OPTIONS = {name: tuple(o.name for o in rule.options) for name, rule in optimizers.RULES.items()}
IGNORED = {"params", "foreach", "fused", "capturable", "differentiable"}  # how torch runs it, not what it computes
OFF = {"maximize": False, "amsgrad": False}  # options the rules do not have: read only at their defaults


@dataclass
class Loss:
    name: str
    batch: str
    targets: list[tuple[dict[str, sp.Rational], int | None]]  # per example: (targets by output, class index or None)
    described: str


def loss(module, network: Network, targets, outputs: int) -> Loss:
    """The file's loss for a torch loss module, the targets per example; sets the output layer's activation
    where the loss applies it to logits (CrossEntropyLoss: softmax)."""
    kind = type(module).__name__
    if kind not in LOSSES or not hasattr(module, "reduction"):
        raise InputError(f"{kind} is not a loss symbackprop reads; expected a torch.nn loss module: "
                         f"{', '.join(LOSSES)}", key="loss")
    name, wants = LOSSES[kind]
    layer = network.output
    if wants is None:
        if layer.activation != "identity":
            raise InputError(f"{kind} takes logits, and the network ends in {layer.activation} ({layer.where}); expected "
                             f"the last linear layer's output itself", key="loss")
        layer.activation = "softmax" if name == "cross_entropy" else "identity"
    elif wants != "any" and layer.activation != wants:
        ends = "a linear layer" if layer.activation == "identity" else layer.activation
        raise InputError(f"{kind} expects outputs of {wants}, and the network ends in {ends} ({layer.where}); expected "
                         f"{wants} as the last operation", key="loss")
    for option, default in (("weight", None), ("pos_weight", None), ("label_smoothing", 0.0)):
        if getattr(module, option, default) is not None and getattr(module, option, default) != default:
            raise InputError(f"{kind} with {option}; expected the default ({default})", key=f"loss.{option}")
    reduction = module.reduction
    if reduction not in ("mean", "sum"):
        raise InputError(f"{kind}(reduction={reduction!r}); expected 'mean' or 'sum'", key="loss.reduction")
    if name == "mse":
        file_loss, batch = ("mse", "mean") if reduction == "mean" else ("sse", "sum")
    else:
        file_loss, batch = name, reduction
        if name in ("bce", "bce_logits") and reduction == "sum" and outputs > 1:
            raise InputError(f"{kind}(reduction='sum') over {outputs} outputs; expected 'mean', or one output (the "
                             "file's bce is the mean over outputs)", key="loss.reduction")
    names = layer.names
    rows = _class_targets(module, targets, names, network.batched) if _is_integer(targets) else _value_targets(
        kind, targets, names, network.batched)
    text = f"{kind}(reduction={reduction!r}): loss = {file_loss!r}, batch = {batch!r}"
    return Loss(file_loss, batch, rows, text)


def _is_integer(t) -> bool:
    return not (t.is_floating_point() or t.is_complex())


def _class_targets(module, targets, names, batched: bool):
    kind = type(module).__name__
    if kind not in CLASS_TARGETS:
        raise InputError(f"integer targets ({targets.dtype}) for {kind}; expected floating-point targets", key="targets")
    shape = tuple(targets.shape)
    if shape != ((shape[0],) if batched and shape else ()) or (batched and not shape):
        raise InputError(f"class targets of shape {shape}; expected one class index per example", key="targets")
    ignore = getattr(module, "ignore_index", -100)
    out = []
    for k, label in enumerate(targets.reshape(-1).tolist()):
        if label == ignore or not 0 <= label < len(names):
            raise InputError(f"class {label} is out of range (or the ignore_index); expected 0..{len(names) - 1}",
                             key=f"targets[{k}]")
        out.append(({o: sp.Integer(i == label) for i, o in enumerate(names)}, label))
    return out


def _value_targets(kind: str, targets, names, batched: bool):
    if kind == "NLLLoss":
        raise InputError(f"floating-point targets ({targets.dtype}) for NLLLoss; expected class indices (torch.long)",
                         key="targets")
    shape, wanted = tuple(targets.shape), ((None, len(names)) if batched else (len(names),))
    if len(shape) != len(wanted) or shape[-1] != len(names):
        raise InputError(f"targets of shape {shape} for {len(names)} outputs; expected the outputs' shape "
                         f"({'examples, ' if batched else ''}{len(names)})", key="targets")
    rows = targets.detach().double().reshape(-1, len(names)).tolist()
    return [({o: exact(v, f"targets[{k}][{i}]") for i, (o, v) in enumerate(zip(names, row))}, None)
            for k, row in enumerate(rows)]


@dataclass
class Settings:
    optimizer: Optimizer | None  # None: plain gradient descent (SGD with torch's defaults)
    learning_rate: sp.Rational
    trained: list[str] | None
    described: str


def decimal(value, key: str) -> sp.Rational:
    """A hyperparameter as the program wrote it: a Python float's shortest decimal (0.01, not its binary value)."""
    return rational(repr(float(value)), key)


def optimizer(opt, module, network: Network, scheduled: bool = False) -> Settings:
    """The optimizer's rule and options from ``param_groups`` (all groups alike), and the parameters it trains;
    ``scheduled``: a scheduler is attached (the starting rate is then its ``initial_lr``, and plain SGD stays an
    [optimizer] table, which a [scheduler] needs)."""
    if opt is None:
        return Settings(None, sp.Rational(1, 10), None, "no optimizer given: plain gradient descent with the file's "
                        "default learning_rate 0.1 (edit it)")
    kind = type(opt).__name__
    groups = getattr(opt, "param_groups", None)
    if not groups:
        raise InputError(f"{kind} has no param_groups; expected a torch.optim optimizer", key="optimizer")
    first = groups[0]
    for g, group in enumerate(groups[1:], start=1):
        for key in sorted(set(first) | set(group)):
            if key != "params" and _differs(first.get(key), group.get(key)):
                raise InputError(f"param_groups[{g}].{key} = {group.get(key)!r} differs from param_groups[0].{key} = "
                                 f"{first.get(key)!r}; expected one setting for every parameter (one [optimizer] table)",
                                 key=f"optimizer.param_groups[{g}].{key}")
    if any(_stepped(opt.state.get(p) or {}) for group in groups for p in group["params"]):
        raise InputError(f"{kind} has state (it has stepped already); expected a fresh optimizer", key="optimizer")
    if ("initial_lr" in first) != scheduled:
        said = ("has a learning-rate scheduler attached (initial_lr); expected it passed too, as scheduler"
                if not scheduled else "has no scheduler attached (no initial_lr); expected the scheduler of this optimizer")
        raise InputError(f"{kind} {said}", key="optimizer.param_groups[0].initial_lr")
    if kind == "Adam" and first.get("decoupled_weight_decay"):
        kind = "AdamW"
    if kind not in OPTIONS:
        raise InputError(f"{kind} is not an optimizer symbackprop reads; expected {', '.join(OPTIONS)}", key="optimizer")
    table: dict[str, object] = {"name": kind}
    for key, value in first.items():
        if key in IGNORED or key in ("lr", "initial_lr") or (key == "decoupled_weight_decay" and kind in ("Adam", "AdamW")):
            continue
        if key in OFF:
            if bool(value) != OFF[key]:
                raise InputError(f"{kind}({key}={value!r}); expected {OFF[key]} (symbackprop's {kind} has no {key})",
                                 key=f"optimizer.{key}")
        elif key not in OPTIONS[kind]:
            raise InputError(f"{kind}'s setting {key} = {value!r} is not one symbackprop reads; expected "
                             f"{', '.join(('lr',) + OPTIONS[kind])}", key=f"optimizer.{key}")
        else:
            table[key] = _option(value, f"optimizer.{key}")
    start = "initial_lr" if scheduled else "lr"  # a scheduler has set lr to its rate(0) already (LinearLR: lr0 x start)
    lr = decimal(_float(first[start]), f"optimizer.{start}")
    rule = optimizers.optimizer(table)
    plain = rule.name == "SGD" and rule.options == optimizers.PLAIN.options and not scheduled
    shown = ", ".join(f"{k}={first[start] if k == 'lr' else v!r}" for k, v in first.items()
                      if k not in IGNORED and k not in OFF and k != "initial_lr")
    trained = _trained(groups, module, network)
    return Settings(None if plain else rule, lr, trained, f"{kind}({shown})" + (
        ": plain gradient descent (update = 'subtract')" if plain else ""))


def _stepped(state: dict) -> bool:
    """Whether a parameter's optimizer state is past its start (Adagrad keeps a state from construction on)."""
    step = state.get("step", 0)
    return _float(step) > 0 or state.get("momentum_buffer") is not None


def _float(value) -> float:
    return float(value.item() if hasattr(value, "item") else value)


def _option(value, key: str):
    if isinstance(value, bool) or isinstance(value, int) and key.endswith(("nesterov", "centered")):
        return bool(value)
    if isinstance(value, (tuple, list)):
        return [str(decimal(_float(v), f"{key}[{i}]")) for i, v in enumerate(value)]
    return str(decimal(_float(value), key))


def _differs(a, b) -> bool:
    try:
        return bool(a != b)
    except RuntimeError:  # tensors of more than one value
        return True


def _trained(groups, module, network: Network) -> list[str] | None:
    """The parameters the optimizer updates (in a group, requires_grad); None when that is all of them."""
    ids = {id(p) for group in groups for p in group["params"] if p.requires_grad}
    trained = [name for name, (fqn, _) in network.origin.items() if id(module.get_parameter(fqn)) in ids]
    ordered = [p for p in network.parameters if p in trained]
    return None if len(ordered) == len(network.parameters) else ordered
