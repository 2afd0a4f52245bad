"""The update steps and the settings that state them: the plain rule (Δw = η · ∂E/∂w), or an optimizer's
(torch.optim's SGD with momentum, Adam, AdamW, RMSprop, Adagrad) with the learning rate a scheduler gives.

An optimizer's iteration t shows its rate η_t, then per trained parameter its rule's quantities in order
(the state, m_w ← β_1 · m_w + (1 − β_1) · ∂E/∂w, the bias corrections, Δw, the new w), each as formula,
substitution and value. The formulas are the rule's own (core/optimizers.py) with its options as symbols
(β_1, ε, λ) and laid out as texts write them (``display``); every number put in or shown is the trace's
(the state kept from iteration t − 1, or the optimizer's starting state at t = 1).
"""

from __future__ import annotations

import sympy as sp

from ...core.decimals import decimal
from ...core.optimizers import Symbols
from ...core.trace import Key
from ..nodes import Factors, Number, Partial, Step, Table, Terms, named

# an option's symbol as texts (and torch's documentation) write it; an option not here is shown by its value only
OPTION_SYMBOLS = {"eps": "epsilon", "weight_decay": "lambda", "momentum": "mu", "dampening": "tau", "alpha": "alpha",
                  "lr_decay": "eta_decay", "gamma": "gamma", "eta_min": "eta_min"}
MEANINGS = {"m": "the running mean of ∂E/∂w", "v": "the running mean of (∂E/∂w)²", "m_hat": "m with its bias corrected",
            "v_hat": "v with its bias corrected", "buf": "the momentum buffer", "gbar": "the running mean of ∂E/∂w",
            "sum": "the sum of the squared gradients"}
T, K = sp.Symbol("t"), sp.Symbol("k", integer=True, nonnegative=True)


def option_symbols(options: dict) -> dict[str, object]:
    """The options with each non-zero number as its symbol (a zero one stays 0, so that its terms drop out
    of the rule as they do in the numbers; flags and counts stay as they are)."""
    out = {}
    for name, value in options.items():
        if name == "betas":
            out[name] = tuple(sp.Symbol(f"beta_{i}") if b else b for i, b in enumerate(value, 1))
        elif name in OPTION_SYMBOLS and not isinstance(value, bool) and value:
            out[name] = sp.Symbol(OPTION_SYMBOLS[name])
        else:
            out[name] = value
    return out


def option_values(options: dict) -> dict[sp.Symbol, sp.Expr]:
    """Each option symbol -> its exact value, for the substitutions."""
    symbolic = option_symbols(options)
    out = {}
    for name, value in options.items():
        pairs = zip(symbolic[name], value) if name == "betas" else ((symbolic[name], value),)
        out |= {s: v for s, v in pairs if isinstance(s, sp.Symbol)}
    return out


# -- formulas laid out as texts write them ----------------------------------------------------------
def _kind(symbol: sp.Symbol, own: sp.Symbol | None) -> float:
    """Where a symbol's term goes in a sum: the state's own previous value first, then numbers, the gradient,
    the other quantities, the parameter (weight decay), options last."""
    name = symbol.name
    if symbol == own:
        return 0
    if name.startswith("dE/d"):
        return 2
    if ":" in name:
        return 2.1
    if name in OPTION_SYMBOLS.values() or name.startswith(("beta_", "eta_")) or name in ("k", "t"):
        return 4
    return 3


def _rank(term: sp.Expr, own) -> float:
    if term.is_Number:
        return 1
    if term == T:  # t − 1
        return 0
    return min((_kind(s, own) for s in term.free_symbols), default=4) + (0.01 if term.has(sp.sqrt) else 0)


def _optional(factor: sp.Expr) -> bool:
    """A factor of options and numbers alone (β_1, 1 − β_1, η_t): texts write it first in a product."""
    return factor.is_Number or all(_kind(s, None) == 4 for s in factor.free_symbols)


def _nested(expr: sp.Expr, own) -> sp.Expr:
    """A SymPy expression with its sums and products in the textbook order (unevaluated, so that printers keep it)."""
    if expr.is_Add:
        terms = sorted(expr.args, key=lambda a: _rank(a, own))
        return sp.Add(*[_nested(a, own) for a in terms], evaluate=False)
    if expr.is_Mul:
        numerator, denominator = _split(expr, own)
        top = sp.Mul(*numerator, evaluate=False) if len(numerator) > 1 else numerator[0]
        return top if denominator is None else sp.Mul(top, sp.Pow(denominator, -1, evaluate=False), evaluate=False)
    if expr.is_Pow:
        return sp.Pow(_nested(expr.base, own), expr.exp, evaluate=False)
    return expr


def _split(expr: sp.Mul, own) -> tuple[list, sp.Expr | None]:
    """A product's factors in order (numbers, options, the rest) and its denominator (None without one)."""
    up, down, args = [], [], list(expr.args)
    sign = -1 if expr.could_extract_minus_sign() else 1
    for i, f in enumerate(args):  # −(−1 + β_1) · g as (1 − β_1) · g: the minus into a sum that starts with −1
        base = f.base if f.is_Pow and f.exp.is_odd else f
        if sign < 0 and base.is_Add and any(a.is_Number and a < 0 for a in base.args):
            args[i], sign = (sp.Pow(-base, f.exp) if f.is_Pow else -f), 1
            args = [-a if a.is_Number else a for a in args]
            break
    else:
        sign = 1
    for f in args:
        (down if f.is_Pow and f.exp.is_negative else up).append(f)
    up.sort(key=lambda f: 0 if f.is_Number else 1 if _optional(f) else 2)
    up = [f for f in up if f != 1] or [sp.Integer(1)]
    numerator = [_nested(f, own) for f in up] or [sp.Integer(1)]
    if not down:
        return numerator, None
    inner = [_nested(sp.Pow(f.base, -f.exp), own) for f in down]
    return numerator, sp.Mul(*inner, evaluate=False) if len(inner) > 1 else inner[0]


def display(expr: sp.Expr, own: sp.Symbol | None = None):
    """A rule's formula as a display node: a sum as Terms, a product as Factors (β_1 · m_w, (−η_t) · m̂_w/(√v̂_w + ε)),
    a fraction on the factor it divides; ``own`` is the quantity the formula updates (its previous value goes first)."""
    if expr.is_Add:
        return Terms(tuple(display(a, own) for a in sorted(expr.args, key=lambda a: _rank(a, own))))
    if expr.is_Mul:
        numerator, denominator = _split(expr, own)
        if numerator[0] == -1 and len(numerator) > 1:
            numerator = [-numerator[1], *numerator[2:]]
        if denominator is not None:
            numerator[-1] = sp.Mul(numerator[-1], sp.Pow(denominator, -1, evaluate=False), evaluate=False)
        return Factors(tuple(numerator)) if len(numerator) > 1 else numerator[0]
    return _nested(expr, own)


# -- the settings ----------------------------------------------------------------------------------
def settings(d, iterations: int) -> tuple[Table, ...]:
    """The settings table, and with an optimizer its options and its rule, each quantity in order."""
    m = d.model
    w, eta = sp.Symbol("w"), sp.Symbol("eta")
    opt, sched = m.optimizer, m.scheduler
    rule = Terms((w, Factors((m.update_sign * eta, Partial(d.E, w))))) if opt is None else Terms((w, sp.Symbol("Delta_w")))
    rows = [("learning rate" if sched is None else "learning rate at iteration 1", Number(m.learning_rate, "lr")),
            ("loss", d.loss)]
    if opt is not None:
        rows.append(("optimizer", f"{opt.name} (torch.optim.{opt.name}): its options and rule in the next tables"))
        if sched is not None:
            rows.append(("learning-rate scheduler", f"{sched.name} (torch.optim.lr_scheduler.{sched.name})"))
    rows += [("new value of each trained parameter", rule),
             ("examples per update", f"{len(m.examples)}, losses combined by their {m.batch}" if len(m.examples) > 1 else "1"),
             ("iterations", str(iterations))]
    table = Table("settings", "The settings", ("setting", "value"), tuple(rows))
    return (table,) if opt is None else (table, options_table(opt, sched), rule_table(d))


def _value(value) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return Number(value)


def options_table(opt, sched) -> Table:
    symbolic = option_symbols(opt.options)
    rows = []
    for name, value in opt.options.items():
        pairs = zip((f"betas[{i}]" for i in range(2)), symbolic[name], value) if name == "betas" else ((name, symbolic[name], value),)
        rows += [(label, s if isinstance(s, sp.Symbol) else "", _value(v)) for label, s, v in pairs]
    caption = f"The options of the optimizer, {opt.name}"
    if sched is not None:
        rows += [(f"{sched.name}: {name}", sp.Symbol(OPTION_SYMBOLS[name]) if name in OPTION_SYMBOLS else "", _value(v))
                 for name, v in sched.options.items()]
        caption += f", and of the learning-rate scheduler, {sched.name}"
    return Table("optimizer", caption + " (torch's defaults where the file gives none)", ("option", "symbol", "value"), tuple(rows))


def _rate_formula(m):
    """η_t as the scheduler's closed form in k = t − 1 (η_1 · γ^⌊k/2⌋), or its formula in words where it has no
    closed form in a symbol (a cosine of k/T_max, a list of milestones)."""
    sched = m.scheduler
    symbolic = {name: sp.Symbol(OPTION_SYMBOLS[name]) if name in OPTION_SYMBOLS and v else v for name, v in sched.options.items()}
    try:
        return sched.rule.rate(sp.Symbol("eta_1"), K, symbolic)
    except (TypeError, ValueError):
        return sched.rule.formula.replace("lr0", "η_1")


def rule_table(d) -> Table:
    """The rule of one parameter w at iteration t, each quantity in the order computed, from the optimizer's own formulas."""
    m, opt = d.model, d.model.optimizer
    w, g, eta = sp.Symbol("w"), sp.Symbol("dE/dw"), sp.Symbol("eta_t")
    rows = [(eta, _rate_formula(m))] if m.scheduler is not None else []
    for _, expr, lhs, own in _quantities(opt, w, g, eta, first=False):
        rows.append((lhs, display(expr, own)))
    rows.append((w, Terms((w, sp.Symbol("Delta_w")))))
    first = dict((h, e) for h, e, _, _ in _quantities(opt, w, g, eta, first=True))
    start = [MEANINGS[h] for h, e, _, _ in _quantities(opt, w, g, eta, first=False) if first.get(h) != e]
    caption = (f"{opt.name}'s update of each trained parameter w at iteration t, in order; a state (a quantity on "
               "both sides) is replaced, its right-hand side reading the value kept from iteration t − 1")
    if m.scheduler is not None:
        caption += "; k = t − 1 is the number of scheduler steps before iteration t"
    if start:
        caption += f"; at t = 1, {' and '.join(start)} starts as ∂E/∂w"
    return Table("rule", caption, ("quantity", "at iteration t"), tuple(rows))


def _quantities(opt, w, g, eta, first: bool):
    """(head, formula, left-hand side, own) of each rule quantity for the parameter symbol ``w``: the state names as
    documents write them (``m:w``), ``own`` the state a formula replaces (None for m̂, v̂ and Δw)."""
    rule = opt.rule
    states = {k: sp.Symbol(f"{k}:{w.name}") for k in rule.state}
    raw = rule.update(option_symbols(opt.options), Symbols(w, g, eta, T, states), first)
    current = {sp.Symbol(h): sp.Symbol(f"{h}:{w.name}") for h, _ in raw if h != "Delta"}
    out = []
    for head, expr in raw:
        lhs = sp.Symbol(f"Delta_{w.name}") if head == "Delta" else current[sp.Symbol(head)]
        out.append((head, expr.xreplace(current), lhs, lhs if head in rule.state else None))
    return out


def notation_rows(d, p0: str) -> list[tuple]:
    """The notation table's rows for the learning rate, the change of a parameter and (with an optimizer) its state."""
    opt = d.model.optimizer
    if opt is None:
        return [(sp.Symbol("eta"), "the learning rate"), (sp.Symbol(f"Delta_{p0}"), "a parameter's change in one update")]
    rows = [(sp.Symbol("eta_t"), "the learning rate of iteration t" + (", from the scheduler" if d.model.scheduler else ""))]
    for head, _, lhs, _ in _quantities(opt, d.symbols[p0], sp.Symbol(f"dE/d{p0}"), sp.Symbol("eta_t"), first=False):
        if head != "Delta":
            torch = f", torch's {opt.rule.state[head]}" if head in opt.rule.state else ""
            rows.append((lhs, f"{opt.name}: {MEANINGS[head]} of this parameter{torch} (each parameter has its own)"))
    return rows + [(sp.Symbol(f"Delta_{p0}"), "a parameter's change in one update")]


# -- the updates of one iteration ------------------------------------------------------------------
def updates(d, trace, shown: list[str], t: int, live: bool = False) -> list[Step]:
    """Iteration t's updates: with an optimizer its rate, then each shown parameter's quantities; else the plain rule
    (``live``: for a page that recomputes, optimizer_steps)."""
    m, v = d.model, trace.values
    steps = [] if m.optimizer is None else [rate_step(m, v, t, live)]
    for p in shown:
        if m.optimizer is not None and p in set(m.trained_parameters):
            steps += optimizer_steps(d, v, p, t, live)
        else:
            steps += plain_steps(d, v, p, t)
    return steps


def _gradient(m, p: str, t: int) -> str:
    return f"dE/d{p}@{t}" if len(m.examples) > 1 else f"dE/d{p}[1]@{t}"


def plain_steps(d, v, p: str, t: int) -> list[Step]:
    """Δw = η · ∂E/∂w (the text's sign of η) and w ← w + Δw; a parameter held fixed keeps its value."""
    m = d.model
    rate, sign, trained = sp.Symbol("eta"), m.update_sign, p in set(m.trained_parameters)
    g = sp.Symbol(f"dE/d{p}")
    step_rhs = Factors((sign * rate, g))  # η first, as texts write the rule
    env = named({rate: ("lr", m.learning_rate), g: (f"dE/d{p}@{t}", v[Key(f"dE/d{p}", None, t)]),
                 d.symbols[p]: (f"{p}@{t}", v[Key(p, None, t)])})
    delta = v[Key(f"Delta_{p}", None, t)]
    note = "" if trained else "held fixed"
    out = [Step(f"Delta_{p}@{t}", sp.Symbol(f"Delta_{p}"), (step_rhs if trained else sp.Integer(0),),
                step_rhs if trained else None, env, delta, note, uses=(_gradient(m, p, t),) * trained)]
    return out + [new_value(d, v, p, t, trained)]


def new_value(d, v, p: str, t: int, trained: bool) -> Step:
    new = Terms((d.symbols[p], sp.Symbol(f"Delta_{p}")))
    env = named({d.symbols[p]: (f"{p}@{t}", v[Key(p, None, t)]),
                 sp.Symbol(f"Delta_{p}"): (f"Delta_{p}@{t}", v[Key(f"Delta_{p}", None, t)])})
    return Step(f"{p}@{t + 1}", d.symbols[p], (new,), new, env, v[Key(p, None, t + 1)],
                note="new value" if trained else "held fixed", assigns=True, uses=(f"Delta_{p}@{t}",))


def rate_step(m, v, t: int, live: bool = False) -> Step:
    """η_t: the learning rate iteration t's update used (the trace's lr@t; ``live``: written η_t, as t moves on)."""
    if m.scheduler is None:
        note = "the learning rate: constant, no scheduler"
    elif live:
        note = f"the learning rate of this iteration, from {m.scheduler.name}"
    else:
        note = f"the learning rate of this iteration: {m.scheduler.name} after {t - 1} scheduler step{'s' * (t != 2)}"
    return Step(f"lr@{t}", sp.Symbol("eta_t" if live else f"eta_{t}"), value=v[Key("lr", None, t)], note=note)


def optimizer_steps(d, v, p: str, t: int, live: bool = False) -> list[Step]:
    """One trained parameter's rule at iteration t: each quantity's formula, its numbers (the gradient, η_t,
    the options, the state kept from iteration t − 1, the quantities computed before it) and its value.
    ``live`` (a page that recomputes, and trains on from there): the step count stays a symbol whose value is
    named ``t@t``, and at t = 1 a quantity whose first update differs (SGD's buffer starts as g) comes twice,
    the first update's (``when="first"``) and the general one (``when="later"``), for the page to show one."""
    m, opt = d.model, d.model.optimizer
    w, g, eta = d.symbols[p], sp.Symbol(f"dE/d{p}"), sp.Symbol("eta_t" if live else f"eta_{t}")  # live: t moves on
    env = named({g: (f"dE/d{p}@{t}", v[Key(f"dE/d{p}", None, t)]), w: (f"{p}@{t}", v[Key(p, None, t)]),
                 eta: (f"lr@{t}", v[Key("lr", None, t)])}) | option_values(opt.options)
    if live:
        env |= named({T: (f"t@{t}", sp.Integer(t))})
    initial = opt.initial()
    first = _quantities(opt, w, g, eta, first=t == 1)
    later = _quantities(opt, w, g, eta, first=False) if live and t == 1 else first
    steps, done = [], {}
    for quantity, general in zip(first, later):
        for (head, expr, lhs, own), when in ([(quantity, ""), ] if quantity == general else [(quantity, "first"), (general, "later")]):
            name = f"Delta_{p}" if head == "Delta" else f"{head}_{p}"
            values = env | named({s: (f"{n}@{t}", v[Key(n, None, t)]) for s, n in done.items()})
            uses = [_gradient(m, p, t)] * (g in expr.free_symbols) + [f"lr@{t}"] * (eta in expr.free_symbols)
            uses += [f"{n}@{t}" for s, n in done.items() if s in expr.free_symbols]
            note = ""
            if own is not None and own in expr.free_symbols:  # the state kept from the iteration before
                values[own] = v[Key(name, None, t - 1)] if t > 1 else initial.get(head, sp.Integer(0))
                values.names[own] = f"{name}@{t - 1}"
                uses.append(f"{name}@{t - 1}")
                note = f"starts at {decimal(values[own])} before the first update" if t == 1 and not when else ""
            elif own is not None and t == 1:
                note = "starts as the gradient at the first update"
            shown = expr if live else expr.xreplace({T: sp.Integer(t)})
            steps.append(Step(f"{name}@{t}", lhs, (display(expr, own),), display(shown, own), values, v[Key(name, None, t)],
                              note, assigns=own is not None, uses=tuple(uses), when=when))
        done[quantity[2]] = f"Delta_{p}" if quantity[0] == "Delta" else f"{quantity[0]}_{p}"
    return steps + [new_value(d, v, p, t, True)]
