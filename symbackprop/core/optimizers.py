"""The optimizers of torch.optim as exact update rules: one row each, with its options and its state.

A row's ``update`` gives one parameter's step as ordered (quantity, expression) pairs over symbols:
the parameter ``p``, its batch gradient ``g``, this iteration's learning rate ``lr``, the step count
``t`` (1 at the first update) and each state quantity's previous value. The exact trace substitutes
numbers into them; the long run (long_run.py) prints the same expressions as straight-line code; the
documents print them as formulas. Semantics are torch.optim's, line for line (its single-tensor
code): SGD's momentum buffer starts as the first gradient, Adam's bias corrections are ``1 - beta^t``,
AdamW decays the parameter before the step, RMSprop adds ``eps`` after the square root.

Options are validated here (a located one-line InputError), so a file and ``dense()`` say the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy as sp

from .errors import InputError
from .values import rational

Expr = sp.Expr


@dataclass(frozen=True)
class Option:
    """One hyperparameter: its torch name, its default and the kind of value it takes (KINDS)."""

    name: str
    default: object
    kind: str


def _number(value: object, key: str) -> sp.Rational:
    return rational(value, key)


def _in(low, high, low_open: bool, high_open: bool, text: str) -> Callable[[object, str], sp.Rational]:
    def check(value: object, key: str) -> sp.Rational:
        x = _number(value, key)
        if (x <= low if low_open else x < low) or (high is not None and (x >= high if high_open else x > high)):
            raise InputError(f"{key.rsplit('.', 1)[-1]} = {x} is outside {text}; expected a number in {text}", key=key)
        return x

    return check


def _flag(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"expected true or false, got {value!r}", key=key)
    return value


def _count(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**9:
        raise InputError(f"expected a whole number >= 1, got {value!r}", key=key)
    return value


def _betas(value: object, key: str) -> tuple[sp.Rational, sp.Rational]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise InputError(f"expected two numbers [beta1, beta2], got {value!r}", key=key)
    beta = _in(0, 1, False, True, "[0, 1)")
    return beta(value[0], f"{key}[0]"), beta(value[1], f"{key}[1]")


def _milestones(value: object, key: str) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise InputError(f"expected a list of iteration counts, got {value!r}", key=key)
    out = tuple(_count(v, f"{key}[{i}]") for i, v in enumerate(value))
    if list(out) != sorted(out):
        raise InputError(f"milestones {list(out)} are not increasing; expected them in order", key=key)
    return out


KINDS: dict[str, Callable[[object, str], object]] = {
    "nonnegative": _in(0, None, False, False, "[0, inf)"),
    "positive": _in(0, None, True, False, "(0, inf)"),
    "fraction": _in(0, 1, False, False, "[0, 1]"),
    "factor": _in(0, 1, True, False, "(0, 1]"),
    "flag": _flag,
    "betas": _betas,
    "count": _count,
    "milestones": _milestones,
}


@dataclass(frozen=True)
class Symbols:
    """What one parameter's step is written in: ``previous`` maps each state name to its value before."""

    p: sp.Symbol
    g: sp.Symbol
    lr: sp.Symbol
    t: sp.Symbol
    previous: Mapping[str, sp.Symbol]


Step = list[tuple[str, Expr]]  # (quantity head: a state name, "Delta" or "new"), in order


def _decayed(o, s: Symbols) -> Expr:
    """The gradient with L2 weight decay added, as SGD, Adam, RMSprop and Adagrad do."""
    return s.g + o["weight_decay"] * s.p if o["weight_decay"] else s.g


def _sgd(o, s: Symbols, first: bool) -> Step:
    g = _decayed(o, s)
    if not o["momentum"]:
        return [("Delta", -s.lr * g)]
    buf = g if first else o["momentum"] * s.previous["buf"] + (1 - o["dampening"]) * g
    direction = g + o["momentum"] * sp.Symbol("buf") if o["nesterov"] else sp.Symbol("buf")
    return [("buf", buf), ("Delta", -s.lr * direction)]


def _adam(o, s: Symbols, first: bool, decoupled: bool = False) -> Step:
    beta1, beta2 = o["betas"]
    g = s.g if decoupled else _decayed(o, s)
    m, v = sp.Symbol("m"), sp.Symbol("v")
    out = [("m", beta1 * s.previous["m"] + (1 - beta1) * g), ("v", beta2 * s.previous["v"] + (1 - beta2) * g**2),
           ("m_hat", m / (1 - beta1**s.t)), ("v_hat", v / (1 - beta2**s.t))]
    step = -s.lr * sp.Symbol("m_hat") / (sp.sqrt(sp.Symbol("v_hat")) + o["eps"])
    if decoupled and o["weight_decay"]:  # AdamW: p <- p (1 - lr wd) first, then Adam's step
        step = -s.lr * o["weight_decay"] * s.p + step
    return out + [("Delta", step)]


def _adamw(o, s: Symbols, first: bool) -> Step:
    return _adam(o, s, first, decoupled=True)


def _rmsprop(o, s: Symbols, first: bool) -> Step:
    g = _decayed(o, s)
    alpha = o["alpha"]
    out = [("v", alpha * s.previous["v"] + (1 - alpha) * g**2)]
    if o["centered"]:
        out.append(("gbar", alpha * s.previous["gbar"] + (1 - alpha) * g))
        avg = sp.sqrt(sp.Symbol("v") - sp.Symbol("gbar") ** 2) + o["eps"]
    else:
        avg = sp.sqrt(sp.Symbol("v")) + o["eps"]
    if o["momentum"]:
        out.append(("buf", o["momentum"] * s.previous["buf"] + g / avg))
        return out + [("Delta", -s.lr * sp.Symbol("buf"))]
    return out + [("Delta", -s.lr * g / avg)]


def _adagrad(o, s: Symbols, first: bool) -> Step:
    g = _decayed(o, s)
    rate = s.lr / (1 + (s.t - 1) * o["lr_decay"]) if o["lr_decay"] else s.lr
    return [("sum", s.previous["sum"] + g**2), ("Delta", -rate * g / (sp.sqrt(sp.Symbol("sum")) + o["eps"]))]


@dataclass(frozen=True)
class Rule:
    """An optimizer: its options (torch's defaults), its state (name -> what it is, torch's key) and
    the update of one parameter, ``update(options, symbols, first)``; ``initial`` gives each state's
    value before the first step."""

    name: str
    options: tuple[Option, ...]
    state: dict[str, str]
    update: Callable[[dict, Symbols, bool], Step]
    formula: str  # the rule in words, for documents and modules
    initial: Callable[[dict], dict[str, sp.Expr]] = lambda o: {}
    check: Callable[[dict, str], None] = lambda o, key: None


def _sgd_check(o: dict, key: str) -> None:
    if o["nesterov"] and (not o["momentum"] or o["dampening"]):
        raise InputError("nesterov needs momentum > 0 and dampening = 0 (as torch.optim.SGD); expected those",
                         key=f"{key}.nesterov")


ZERO = sp.Integer(0)
RULES: dict[str, Rule] = {r.name: r for r in (
    Rule("SGD", (Option("momentum", ZERO, "nonnegative"), Option("dampening", ZERO, "fraction"),
                 Option("nesterov", False, "flag"), Option("weight_decay", ZERO, "nonnegative")),
         {"buf": "momentum_buffer"}, _sgd,
         "g <- g + weight_decay p; buf <- g at t = 1, then momentum buf + (1 - dampening) g; "
         "p <- p - lr (g + momentum buf if nesterov, else buf)", check=_sgd_check),
    Rule("Adam", (Option("betas", (sp.Rational(9, 10), sp.Rational(999, 1000)), "betas"),
                  Option("eps", sp.Rational(1, 10**8), "nonnegative"), Option("weight_decay", ZERO, "nonnegative")),
         {"m": "exp_avg", "v": "exp_avg_sq"}, _adam,
         "g <- g + weight_decay p; m <- beta1 m + (1 - beta1) g; v <- beta2 v + (1 - beta2) g^2; "
         "p <- p - lr m_hat / (sqrt(v_hat) + eps)", initial=lambda o: {"m": ZERO, "v": ZERO}),
    Rule("AdamW", (Option("betas", (sp.Rational(9, 10), sp.Rational(999, 1000)), "betas"),
                   Option("eps", sp.Rational(1, 10**8), "nonnegative"),
                   Option("weight_decay", sp.Rational(1, 100), "nonnegative")),
         {"m": "exp_avg", "v": "exp_avg_sq"}, _adamw,
         "p <- p - lr weight_decay p; then Adam's step without weight decay in g", initial=lambda o: {"m": ZERO, "v": ZERO}),
    Rule("RMSprop", (Option("alpha", sp.Rational(99, 100), "fraction"), Option("eps", sp.Rational(1, 10**8), "nonnegative"),
                     Option("weight_decay", ZERO, "nonnegative"), Option("momentum", ZERO, "nonnegative"),
                     Option("centered", False, "flag")),
         {"v": "square_avg", "gbar": "grad_avg", "buf": "momentum_buffer"}, _rmsprop,
         "g <- g + weight_decay p; v <- alpha v + (1 - alpha) g^2; gbar <- alpha gbar + (1 - alpha) g (centered); "
         "avg = sqrt(v - gbar^2 if centered, else v) + eps; buf <- momentum buf + g / avg, p <- p - lr buf "
         "(momentum > 0), else p <- p - lr g / avg",
         initial=lambda o: {"v": ZERO} | ({"gbar": ZERO} if o["centered"] else {}) | ({"buf": ZERO} if o["momentum"] else {})),
    Rule("Adagrad", (Option("lr_decay", ZERO, "nonnegative"), Option("weight_decay", ZERO, "nonnegative"),
                     Option("initial_accumulator_value", ZERO, "nonnegative"),
                     Option("eps", sp.Rational(1, 10**10), "nonnegative")),
         {"sum": "sum"}, _adagrad,
         "g <- g + weight_decay p; sum <- sum + g^2; p <- p - lr / (1 + (t - 1) lr_decay) g / (sqrt(sum) + eps)",
         initial=lambda o: {"sum": o["initial_accumulator_value"]}),
)}


@dataclass(frozen=True)
class Optimizer:
    """An optimizer as a file states it: the row's name and every option's value (defaults filled in)."""

    name: str
    options: dict[str, object] = field(default_factory=dict)

    @property
    def rule(self) -> Rule:
        return RULES[self.name]

    def quantities(self) -> list[str]:
        """The quantities one parameter's step names, in update order (``m``, ``v``, ``m_hat``, ``v_hat``), Delta aside."""
        s = Symbols(*sp.symbols("p g lr t"), previous={k: sp.Symbol(f"{k}_0") for k in self.rule.state})
        return [head for head, _ in self.rule.update(self.options, s, False) if head != "Delta"]

    def states(self) -> list[str]:
        """The state quantities this optimizer keeps per parameter, in update order."""
        return [head for head in self.quantities() if head in self.rule.state]

    def initial(self) -> dict[str, sp.Expr]:
        """Each state's value before the first update (SGD's buffer has none: it starts as the first g)."""
        return self.rule.initial(self.options)

    def step(self, p, g, lr, t: int, previous: Mapping[str, Expr]) -> Step:
        """One parameter's update at step ``t``, in numbers: (quantity, value) in order, each later
        expression with the earlier ones substituted; the last is ``Delta``."""
        s = Symbols(sp.Symbol("p"), sp.Symbol("g"), sp.Symbol("lr"), sp.Symbol("t"),
                    {k: sp.Symbol(f"previous_{k}") for k in self.rule.state})
        env = {s.p: p, s.g: g, s.lr: lr, s.t: sp.Integer(t)} | {s.previous[k]: v for k, v in previous.items()}
        out = []
        for head, expr in self.rule.update(self.options, s, t == 1):
            value = expr.xreplace(env)
            env[sp.Symbol(head)] = value
            out.append((head, value))
        return out


PLAIN = Optimizer("SGD", {o.name: o.default for o in RULES["SGD"].options})


def read(table: Mapping[str, object], rules: Mapping[str, object], kind: str, source: str, key: str) -> tuple[str, dict]:
    """(the row's name, every option's value) of a file's ``[optimizer]`` or ``[scheduler]`` table: a known
    name (any case), known options each in its range (KINDS), a default for each one left out, or a
    located one-line InputError."""
    name = table.get("name")
    by_lower = {n.lower(): n for n in rules}
    if not isinstance(name, str) or name.lower() not in by_lower:
        raise InputError(f"unknown {kind} {name!r}; expected one of {', '.join(rules)} (as {source})", key=f"{key}.name")
    rule = rules[by_lower[name.lower()]]
    options = {o.name: o for o in rule.options}
    for k in table:
        if k != "name" and k not in options:
            raise InputError(f"unknown option of {rule.name}; expected one of {', '.join(options)}", key=f"{key}.{k}")
    values = {}
    for o in rule.options:
        if o.name in table:
            values[o.name] = KINDS[o.kind](table[o.name], f"{key}.{o.name}")
        elif o.default is None:
            raise InputError(f"{rule.name} needs {o.name}; expected a value", key=f"{key}.{o.name}")
        else:
            values[o.name] = o.default
    return rule.name, values


def optimizer(table: Mapping[str, object] | None, key: str = "optimizer") -> Optimizer:
    """The Optimizer a file's ``[optimizer]`` table (or dense()'s argument) states, checked; plain SGD without one."""
    if table is None:
        return PLAIN
    name, values = read(table, RULES, "optimizer", "torch.optim", key)
    RULES[name].check(values, key)
    return Optimizer(name, values)
