"""One table of activations and losses: every fact about each function lives in its row.

A row holds the SymPy form, its derivative, the NumPy form, the range (activations), the
description and convention the documents state, and the names texts use for it. Every row is
checked by parametrized tests (``diff`` of the SymPy form equals the stated derivative; the NumPy
form equals the SymPy form on a test domain; every field is read somewhere), so a new row is one
registration here and nothing else.

Conventions at kinks follow PyTorch: ReLU'(0) = 0 and leaky_relu'(0) = the negative slope.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .errors import InputError

LEAKY_SLOPE = sp.Rational(1, 100)  # torch.nn.LeakyReLU's default negative_slope


@dataclass(frozen=True)
class Activation:
    """An activation f with f'(z); ``derivative`` may use ``a = f(z)`` as textbooks do."""

    name: str
    form: Callable[[sp.Expr], sp.Expr]  # f(z)
    derivative: Callable[[sp.Expr, sp.Expr], sp.Expr]  # f'(z) given (z, a)
    numpy: Callable[[np.ndarray], np.ndarray]  # f on float arrays (the plots)
    range: tuple[sp.Expr, sp.Expr, bool]  # (low, high, whether low itself is a value): what a(z) can be
    names: tuple[str, ...] = ()  # what texts call it when they apply it, f(z) or f'(z)
    convention: str = ""  # the choice made at a kink, stated in the documents
    trace_weight: int = 1  # a traced value's cost against a piecewise-linear one's (limits.check_work)
    group: Callable[[sp.Expr, Sequence[sp.Expr]], sp.Expr] | None = None  # coupled: a_n from z_n and its group's z's
    cross: Callable[[sp.Expr, sp.Expr], sp.Expr] | None = None  # coupled: da_i/dz_j (i != j) given (a_i, a_j)

    @property
    def coupled(self) -> bool:
        """Whether a neuron's value depends on its layer's other pre-activations (softmax): then the
        chain of a parameter sums over the layer's outputs (dE/dz_j = sum_i dE/da_i da_i/dz_j)."""
        return self.group is not None


# a sigmoid, tanh or softplus value is a closed form the trace simplifies and measures: 0.5-0.85 ms a
# value against 17-30 microseconds for relu (dense 2-2-1, 200 examples, one iteration)
CLOSED_FORM_WEIGHT = 30


def _sigmoid(z):
    return 1 / (1 + sp.exp(-z))


def _coupled_form(z):
    raise TypeError("a coupled activation (softmax) is a function of its whole layer: use its group form")


def _np_softmax(z):
    shifted = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _np_sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "relu",
            form=lambda z: sp.Max(0, z),
            derivative=lambda z, a: sp.Heaviside(z, 0),
            numpy=lambda z: np.maximum(z, 0.0),
            range=(sp.Integer(0), sp.oo, True),
            names=("relu", "ReLU", "RELU"),
            convention="ReLU'(0) = 0, as PyTorch",
        ),
        Activation(
            "leaky_relu",
            form=lambda z: sp.Piecewise((z, z > 0), (LEAKY_SLOPE * z, True)),
            derivative=lambda z, a: sp.Piecewise((1, z > 0), (LEAKY_SLOPE, True)),
            numpy=lambda z: np.where(z > 0, z, float(LEAKY_SLOPE) * z),
            range=(-sp.oo, sp.oo, False),
            convention="negative slope 0.01 and derivative 0.01 at 0, as PyTorch",
        ),
        Activation(
            "sigmoid",
            form=_sigmoid,
            derivative=lambda z, a: a * (1 - a),
            numpy=_np_sigmoid,
            range=(sp.Integer(0), sp.Integer(1), False),
            names=("sigma", "sigmoid"),
            trace_weight=CLOSED_FORM_WEIGHT,
        ),
        Activation(
            "tanh",
            form=sp.tanh,
            derivative=lambda z, a: 1 - a**2,
            numpy=np.tanh,
            range=(sp.Integer(-1), sp.Integer(1), False),
            names=("tanh",),
            trace_weight=CLOSED_FORM_WEIGHT,
        ),
        Activation(
            "identity",
            form=lambda z: z,
            derivative=lambda z, a: sp.Integer(1),
            numpy=lambda z: z,
            range=(-sp.oo, sp.oo, False),
        ),
        Activation(
            "softplus",
            form=lambda z: sp.log(1 + sp.exp(z)),
            derivative=lambda z, a: _sigmoid(z),
            numpy=lambda z: np.logaddexp(0.0, z),
            range=(sp.Integer(0), sp.oo, False),
            trace_weight=CLOSED_FORM_WEIGHT,
        ),
        Activation(
            "softmax",
            form=_coupled_form,
            derivative=lambda z, a: a * (1 - a),
            numpy=_np_softmax,  # over the last axis: the layer's neurons
            range=(sp.Integer(0), sp.Integer(1), False),
            names=("softmax", "Softmax"),
            trace_weight=CLOSED_FORM_WEIGHT,
            group=lambda z, zs: sp.exp(z) / sp.Add(*[sp.exp(k) for k in zs]),
            cross=lambda a_i, a_j: -a_i * a_j,
        ),
        Activation(
            "log_softmax",
            form=_coupled_form,
            derivative=lambda z, a: 1 - sp.exp(a),
            numpy=lambda z: z - np.max(z, axis=-1, keepdims=True) - np.log(
                np.exp(z - np.max(z, axis=-1, keepdims=True)).sum(axis=-1, keepdims=True)),
            range=(-sp.oo, sp.Integer(0), False),
            names=("log_softmax", "logsoftmax"),
            trace_weight=CLOSED_FORM_WEIGHT,
            group=lambda z, zs: z - sp.log(sp.Add(*[sp.exp(k) for k in zs])),
            cross=lambda a_i, a_j: -sp.exp(a_j),
        ),
    )
}


@dataclass(frozen=True)
class Loss:
    """A per-example loss over the outputs; the batch then combines examples (mean or sum)."""

    name: str
    form: Callable[[Sequence[sp.Expr], Sequence[sp.Expr]], sp.Expr]  # (targets, outputs)
    derivative: Callable[[sp.Expr, sp.Expr, int], sp.Expr]  # dE/dyhat_o given (y_o, yhat_o, n_out)
    numpy: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (Y, Yhat) of (B, O) -> (B,), for the plots
    description: str  # the formula in words, for documents, modules and diagnoses
    names: tuple[str, ...] = ()  # what texts call this loss in formulas (besides E, L, Loss)
    family: str = "squared"  # squared or likelihood: a text's slip stays within one (the diagnosis's other losses)
    output: str = ""  # the output activation the loss is defined over ("" any; "unit": one with values in (0, 1))
    targets: str = "any"  # what targets may be: any, unit (each in [0, 1]) or probabilities (also summing to 1)
    simplified: dict[str, Callable[[sp.Expr, sp.Expr, int], sp.Expr]] = field(default_factory=dict)
    # output activation -> dE/dz_o given (y_o, a_o, n_out): the closed form the chain simplifies to


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "half_sse",
            form=lambda ys, yh: sp.Rational(1, 2) * sp.Add(*[(y - p) ** 2 for y, p in zip(ys, yh)]),
            derivative=lambda y, p, n: -(y - p),
            numpy=lambda Y, P: 0.5 * np.sum((Y - P) ** 2, axis=1),
            description="1/2 sum over outputs of (y - yhat)^2",
        ),
        Loss(
            "sse",
            form=lambda ys, yh: sp.Add(*[(y - p) ** 2 for y, p in zip(ys, yh)]),
            derivative=lambda y, p, n: -2 * (y - p),
            numpy=lambda Y, P: np.sum((Y - P) ** 2, axis=1),
            description="sum over outputs of (y - yhat)^2",
            names=("SSE",),
        ),
        Loss(
            "mse",
            form=lambda ys, yh: sp.Add(*[(y - p) ** 2 for y, p in zip(ys, yh)]) / len(ys),
            derivative=lambda y, p, n: -2 * (y - p) / n,
            numpy=lambda Y, P: np.mean((Y - P) ** 2, axis=1),
            description="mean over outputs (and, with batch = mean, over examples) as torch MSELoss",
            names=("MSE", "mse"),
        ),
        Loss(
            "cross_entropy",
            family="likelihood",
            form=lambda ys, yh: -sp.Add(*[y * sp.log(p) for y, p in zip(ys, yh)]),
            derivative=lambda y, p, n: -y / p,
            numpy=lambda Y, P: -np.sum(Y * np.log(P), axis=1),
            description="- sum over outputs of y log(a), a the softmax of the outputs' z (torch CrossEntropyLoss of z)",
            names=("CE", "H"),
            output="softmax",
            targets="probabilities",
            simplified={"softmax": lambda y, a, n: a - y},
        ),
        Loss(
            "nll",
            family="likelihood",
            form=lambda ys, yh: -sp.Add(*[y * p for y, p in zip(ys, yh)]),
            derivative=lambda y, p, n: -y,
            numpy=lambda Y, P: -np.sum(Y * P, axis=1),
            description="- sum over outputs of y a, a the log-softmax of the outputs' z (torch NLLLoss)",
            names=("NLL",),
            output="log_softmax",
            targets="probabilities",
            simplified={"log_softmax": lambda y, a, n: sp.exp(a) - y},
        ),
        Loss(
            "bce",
            family="likelihood",
            form=lambda ys, yh: -sp.Add(*[y * sp.log(p) + (1 - y) * sp.log(1 - p) for y, p in zip(ys, yh)]) / len(ys),
            derivative=lambda y, p, n: -(y / p - (1 - y) / (1 - p)) / n,
            numpy=lambda Y, P: -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P), axis=1),
            description="- mean over outputs of y log(a) + (1 - y) log(1 - a) (torch BCELoss)",
            names=("BCE",),
            output="unit",
            targets="unit",
            simplified={"sigmoid": lambda y, a, n: (a - y) / n},
        ),
        Loss(
            "bce_logits",
            family="likelihood",
            form=lambda ys, yh: sp.Add(*[sp.log(1 + sp.exp(-p)) + (1 - y) * p for y, p in zip(ys, yh)]) / len(ys),
            derivative=lambda y, p, n: (1 / (1 + sp.exp(-p)) - y) / n,
            numpy=lambda Y, P: np.mean(np.logaddexp(0.0, -P) + (1 - Y) * P, axis=1),
            description="- mean over outputs of y log(sigma(a)) + (1 - y) log(1 - sigma(a)) (torch BCEWithLogitsLoss)",
            names=("BCE",),
            targets="unit",
        ),
    )
}


SCALAR = tuple(name for name, a in ACTIVATIONS.items() if not a.coupled)  # what a hidden neuron may have


def output_activations(loss_name: str) -> tuple[str, ...]:
    """The activations every output may have under a loss (a coupled one needs two outputs or more)."""
    wanted = LOSSES[loss_name].output
    if wanted == "unit":
        return tuple(n for n, a in ACTIVATIONS.items() if a.range[0] >= 0 and a.range[1] <= 1)
    return (wanted,) if wanted else tuple(ACTIVATIONS)


def _lookup(table: dict, name: object, kind: str, key: str | None):
    if not isinstance(name, str) or name not in table:
        raise InputError(f"unknown {kind} {name!r}; expected one of {', '.join(table)}", key=key)
    return table[name]


def activation(name: object, key: str | None = None) -> Activation:
    return _lookup(ACTIVATIONS, name, "activation", key)


def loss(name: object, key: str | None = None) -> Loss:
    return _lookup(LOSSES, name, "loss", key)


GENERIC_LOSS_NAMES = {"E", "e", "L", "Loss", "loss", "C", "J", "cost"}  # what texts call any loss (C: Nielsen's cost)


def is_loss_name(text_name: str) -> bool:
    """Whether a text's name stands for the loss (``MSE``, ``L``, ``E``)."""
    return text_name in GENERIC_LOSS_NAMES or any(text_name in loss.names for loss in LOSSES.values())


def activation_named(text_name: str) -> Activation | None:
    """The activation a text means by a function name (``ReLU``, ``\\sigma``), if any."""
    return next((a for a in ACTIVATIONS.values() if text_name in a.names), None)
