"""Formula claims in layer notation: a vector or index formula checked for every component it stands for.

The formula is read into a tree (layer_syntax.py); for each layer the claim binds ``l`` to, each
index letter gets its range from the entries it indexes (``k`` in ``w^{l+1}_{kj}`` runs over layer
l+1), and the tree is written out as one scalar formula per component of its left side, entries
named as layer_notation.py names them (``\\delta^{2}_{1} = (w^{3}_{11} \\delta^{3}_{1} + ...)
\\sigma'(z^{2}_{1})``). Each component is then an ordinary formula claim (formula_claims.py): read
by the one LaTeX reader, compared with the derivation. Shapes that do not conform (``w`` where
``w^T`` is meant) and an index that ranges over two sizes are mismatches of that layer.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

import sympy as sp

from ..core.decimals import decimal
from ..core.errors import InputError
from . import formula_claims
from .latex_names import FormulaError
from .layer_notation import IndexMissing, LayerMissing, Layers, layers
from .layer_syntax import LayerSyntaxError, Node, parse, uses_layer_notation
from .layer_values import Evaluation, ShapeError, shape_of
from .status import Status

MAX_COMPONENTS = 2000  # components of one claim checked, over all its layers
LEIBNIZ_LHS = re.compile(r"\\frac\{\\partial [CELJ]\}\{\\partial (.+)\}")


@dataclass(frozen=True)
class Component:
    layer: int | None
    lhs: str  # the component's left side, as its label (``\delta^{2}_{1}``)
    formula: str
    names: dict[str, str]


def is_layered(claim, model) -> bool:
    """Whether a formula claim is read in layer notation: it binds ``layer``, or it maps no names
    through ``symbols``, the network is layered and the formula uses the notation."""
    if claim.layer is not None:
        return True
    # a claim that maps its own names (symbols = { "z^3_2" = "z_n2_2" }) is read as the text's names say
    return not claim.symbols and uses_layer_notation(claim.formula) and not isinstance(layers(model), str)


def components(claim, derivation) -> tuple[Layers, list[Component | tuple[int | None, str]]]:
    """Each component of the claim at each layer it binds; a layer where the formula does not
    conform is (layer, why)."""
    net = layers(derivation.model, claim.input_layer)
    if isinstance(net, str):
        raise InputError(f"layer notation needs a layered network (built as dense() names it): {net}",
                         key=f"{claim.where}.formula")
    net = replace(net, targets=tuple(derivation.targets[o].name for o in derivation.model.outputs))
    lhs, rhs = parse(claim.formula)
    if lhs.kind not in ("atom", "leibniz", "nabla", "pick"):
        raise LayerSyntaxError("the left side of a formula in layer notation is one letter or one Leibniz fraction, "
                               "like \\delta^l_j or \\frac{\\partial C}{\\partial b^l_j}")
    generic = _uses_l(lhs) or _uses_l(rhs)
    if claim.layer is not None and not generic:
        raise InputError("layer binds l, which the formula does not use", key=f"{claim.where}.layer")
    if generic and claim.layer is None:
        raise InputError("the formula's generic layer l is not bound: add layer = N, a list, or \"all\"",
                         key=f"{claim.where}.layer")
    every = range(net.input_layer, net.output + 1)
    bound = [None] if not generic else list(every) if claim.layer == "all" else list(claim.layer)
    out: list[Component | tuple[int | None, str]] = []
    for l in bound:
        e = Evaluation(net, l)
        try:
            out += _at_layer(e, lhs, rhs, l)
        except LayerMissing as why:
            if claim.layer != "all":
                raise InputError(f"at l = {l}: {why}", key=f"{claim.where}.layer") from None
        except IndexMissing as why:
            raise InputError(str(why), key=f"{claim.where}.formula") from None
        except ShapeError as why:
            out.append((l, str(why)))
        if len(out) > MAX_COMPONENTS:
            raise InputError(f"more than {MAX_COMPONENTS} components; expected a formula about one network's layers",
                             key=f"{claim.where}.formula")
    if not out:
        raise InputError(f"layer = \"all\": no layer of the network ({net.input_layer} to {net.output}) has every "
                         "letter the formula names", key=f"{claim.where}.layer")
    return net, out


def _at_layer(e: Evaluation, lhs: Node, rhs: Node, l: int | None) -> list[Component | tuple[int | None, str]]:
    found: dict[str, list[tuple[int, str]]] = {}
    e.ranges(lhs, found)
    e.ranges(rhs, found)
    sizes = {}
    for letter, seen in found.items():
        first = {}
        for size, where in seen:
            first.setdefault(size, where)
        if len(first) > 1:
            shown = " but over ".join(f"{size} in {where}" for size, where in first.items())
            raise ShapeError(f"the index {letter} runs over {shown}")
        sizes[letter] = seen[0][0]
    e.sizes = sizes
    summed = set(_summed(lhs) | _summed(rhs))
    free = [i for i in dict.fromkeys(_letters(lhs) + _letters(rhs)) if i not in summed]
    if missing := [i for i in free + sorted(summed) if i not in sizes]:
        raise ShapeError(f"the index {missing[0]} indexes no letter of the notation, so it has no range")
    out = []
    for values in itertools.product(*(range(1, sizes[i] + 1) for i in free)):
        env = dict(zip(free, values, strict=True))
        e.names = {}
        left, right = e.value(lhs, env), e.value(rhs, env)
        if left.shape != right.shape:
            raise ShapeError(f"the left side is {shape_of(left)}, the right side {shape_of(right)}")
        for row_l, row_r in zip(left.rows, right.rows, strict=True):
            for x, y in zip(row_l, row_r, strict=True):
                formula = f"{x.text} = {y.text}"
                used = {k: v for k, v in e.names.items() if k in formula}
                out.append(Component(l, x.text, formula, used))
    return out


def _uses_l(node: Node) -> bool:
    return (node.layer is not None and node.layer.var == "l") or any(_uses_l(a) for a in node.args)


def _summed(node: Node) -> set[str]:
    return ({node.text} if node.kind == "sum" else set()).union(*(_summed(a) for a in node.args))


def _letters(node: Node) -> list[str]:
    own = [i for i in (node.index or ()) if i.isalpha()] if node.kind in ("atom", "pick") else []
    return own + [i for a in node.args for i in _letters(a)]


def _derived(quantity: str, derivation) -> sp.Expr | None:
    """The derivation's one-step form of a component's quantity, in the notation's own letters:
    δ from the next layer's δ, a gradient as δ times an input (None: a quantity of another kind)."""
    d = derivation
    if quantity.startswith("delta_"):
        return d.deltas[quantity[6:]]
    if quantity.startswith("dE/d") and quantity[4:] in d.model.parameters:
        return d.gradient(quantity[4:], "delta")
    if quantity.startswith("dE/da_"):
        return d.dE_da[quantity[6:]]
    if quantity[:2] in ("z_", "a_") and quantity[2:] in d.z:
        return (d.z_expr if quantity[0] == "z" else d.a_expr)[quantity[2:]]
    return None


def _symbol_names(net: Layers, derivation) -> dict[sp.Symbol, str]:
    """Each symbol of the derivation as the notation writes it (``a^{2}_{1}`` for n1_1 when the inputs are layer 1)."""
    d, out = derivation, {}
    for text, quantity in net.entries():
        kind, _, n = quantity.partition("_")
        symbol = {"a": d.a, "z": d.z, "delta": d.delta_symbol}.get(kind, {}).get(n) if n in d.z else None
        if symbol is None:
            symbol = d.symbols.get(quantity) or next((t for t in d.targets.values() if t.name == quantity), None)
        if symbol is not None:
            out.setdefault(symbol, text)
    return out


def _correct(component: Component, derivation, net: Layers) -> str:
    lhs = component.lhs
    leibniz = LEIBNIZ_LHS.fullmatch(lhs)
    quantity = f"dE/d{component.names[leibniz[1]]}" if leibniz else component.names.get(lhs, "")
    expr = _derived(quantity, derivation)
    if expr is None:
        return ""
    return f"{lhs} = " + sp.latex(expr, symbol_names=_symbol_names(net, derivation))


def check(claim, derivation, trace) -> formula_claims.FormulaResult | None:
    """The claim's verdict from its components' verdicts; which hold and which do not in ``message``.
    None for a formula without ``layer`` that looked like layer notation and is not (read it as any other)."""
    try:
        net, parts = components(claim, derivation)
    except LayerSyntaxError as e:
        if claim.layer is None:  # taken for layer notation by its look only (W^{1/3}): an ordinary formula
            return None
        return formula_claims.FormulaResult(Status.UNPARSEABLE, message=str(e))
    except FormulaError as e:
        return formula_claims.FormulaResult(Status.UNPARSEABLE, message=str(e))
    results = []
    for part in parts:
        if isinstance(part, tuple):
            results.append((part, None))
            continue
        results.append((part, formula_claims.check(part.formula, None, part.names, derivation, trace, claim.where)))
    return _summary(results, derivation, net)


def _summary(results, derivation, net: Layers) -> formula_claims.FormulaResult:
    checked = [(c, r) for c, r in results if r is not None]
    statuses = [r.status for _, r in checked]
    broken = [c for c, r in results if r is None]
    if Status.UNPARSEABLE in statuses:
        status = Status.UNPARSEABLE
    elif broken or Status.MISMATCH in statuses:
        status = Status.MISMATCH
    else:
        status = next((s for s in statuses if s is not Status.HOLDS), Status.HOLDS)
    said: dict[int | None, list[str]] = {}
    for layer, why in broken:
        said.setdefault(layer, []).append(why)
    split: dict[int | None, dict[Status, list[str]]] = {}
    for c, r in checked:
        kind = r.status if r.status in (Status.HOLDS, Status.CONDITIONAL) else Status.MISMATCH
        region = f" (where {r.region})" if r.status is Status.CONDITIONAL and r.region else ""
        split.setdefault(c.layer, {s: [] for s in (Status.HOLDS, Status.CONDITIONAL, Status.MISMATCH)})[kind].append(
            f"${c.lhs}${region}")
    for layer, parts in split.items():
        holds, where, fails = (parts[s] for s in (Status.HOLDS, Status.CONDITIONAL, Status.MISMATCH))
        if not where and not fails:
            said.setdefault(layer, []).append(f"holds for all {len(holds)} components")
            continue
        words = [f"holds for {', '.join(holds)}"] * bool(holds) + [f"holds only where its kinks are as at the example "
                                                                     f"for {', '.join(where)}"] * bool(where)
        said.setdefault(layer, []).append("; ".join(words + [f"does not hold for {', '.join(fails)}"] * bool(fails)))
    lines = [(f"at l = {layer}: " if layer is not None else "") + "; ".join(parts)
             for layer, parts in sorted(said.items(), key=lambda item: -1 if item[0] is None else item[0])]
    proofs = {r.proof for _, r in checked if r.status is Status.HOLDS}
    failed = next(((c, r) for c, r in checked if r.status not in (Status.HOLDS, Status.CONDITIONAL)),
                  next(((c, r) for c, r in checked if r.status is Status.CONDITIONAL), None))
    return formula_claims.FormulaResult(
        status, message="\n".join(lines), proof="symbolic" if proofs <= {"symbolic"} else sorted(proofs - {"symbolic"})[0],
        correct=_correct(failed[0], derivation, net) if failed else "",
        components=tuple((c.formula, r) for c, r in checked))


def describe(result: formula_claims.FormulaResult, shown: int = 3) -> list[str]:
    """The report's lines for a claim in layer notation: per layer what holds, then the first
    components that do not, each with the derivation's formula and both values at the example."""
    if result.status is Status.UNPARSEABLE and not result.components:
        return [result.message]
    lines = result.message.splitlines()
    wrong = [(f, r) for f, r in result.components if r.status not in (Status.HOLDS, Status.CONDITIONAL)]
    if result.correct:
        lines.append(f"the derivation gives ${result.correct}$")
    for formula, r in wrong[:shown]:
        if r.status is Status.UNPARSEABLE:
            lines.append(f"${formula}$: {r.message}")
        elif r.text_value is not None and r.exact is not None:
            lines.append(f"${formula.partition(' = ')[0]}$: at the example's values the text's formula gives "
                         f"{decimal(r.text_value)} against {decimal(r.exact)}")
    if len(wrong) > shown:
        lines.append(f"and {len(wrong) - shown} more components that do not hold")
    return lines
