"""The notation layer: each quantity's symbol, once, for every printer.

A name from the derivation (``w_a0``, ``delta_n2_1``, ``dE/dw1_2_1``, ``Delta_w_b1``, ``eta``)
becomes a Notation: a head (a Latin or Greek letter, or an upright word), its subscript indices,
and what it is (a parameter's adjustment Δ, a derivative ∂E/∂p or one example's ∂E_k/∂p). The terminal, LaTeX and MathML
printers render that one Notation, so a quantity is the same symbol in every format: ``w_{a0}``,
``δ_{2,1}``, ``∂E/∂w_{1,2,1}``.

Dense names (docs/format.md) read as textbooks write them: neuron ``n2_1`` is the activation
``a_{2,1}``, its sum ``z_{2,1}``, its error term ``δ_{2,1}``, its target ``y_{2,1}``; weight
``w2_1_1`` is ``w_{2,1,1}``.

An optimizer's state of one parameter is named ``<state>:<parameter>`` by the documents (a colon no
file name holds) and subscripted by the parameter's symbol, set flat (one level of subscript, so that
the formulas read back): ``m:w_a1`` is m_{w,a1}, ``v_hat:w1_2_1`` is v̂_{w,1,2,1}, ``buf:w`` (SGD's
momentum buffer) b_{w}, ``gbar:w`` (centered RMSprop's mean gradient) ḡ_{w}, ``sum:w`` (Adagrad's) G_{w};
the trace names them ``m_w_a1@t`` (``quantity``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import InputError

# Greek letters texts use, as (Unicode, LaTeX command), by the name a file spells
GREEK = {name: (letter, "\\" + name) for name, letter in (
    ("alpha", "α"), ("beta", "β"), ("gamma", "γ"), ("delta", "δ"), ("epsilon", "ε"), ("eta", "η"),
    ("theta", "θ"), ("lambda", "λ"), ("mu", "μ"), ("sigma", "σ"), ("tau", "τ"), ("phi", "φ"), ("Delta", "Δ"))}
DENSE_NEURON = re.compile(r"n(\d+)_(\d+)\Z")  # n{l}_{j}: the activation a_{l,j}
OF_A_NEURON = {"z", "delta", "y"}  # z_<neuron>, delta_<neuron>, y_<output>: subscripted by the neuron's indices
WORKER = re.compile(r"(.+)\^\((\d+)\)\Z")  # E^(1): worker 1's loss, the worker as a superscript
DERIVATIVE = re.compile(r"d(E(?:_[0-9a-z]+|\^\(\d+\))?)/d(.+)\Z")  # dE/dw, dE_2/dw (example 2), dE^(1)/dw (worker 1), dE_avg/dw
INDEXED = re.compile(r"([A-Za-z]+?)(\d+(?:_\d+)*)\Z")  # x1, w1_2_3, b2_1: letters, then indices
# an optimizer's state of one parameter, as (head, accent): Adam's m and bias-corrected m̂, SGD's buffer b, ...
STATES = {"m_hat": ("m", "hat"), "v_hat": ("v", "hat"), "gbar": ("g", "bar"), "buf": ("b", ""), "sum": ("G", ""),
          "m": ("m", ""), "v": ("v", "")}
STATE = re.compile(r"(" + "|".join(STATES) + r"):(.+)\Z")  # m:w_a1, the documents' name of m_w_a1
ACCENTS = {"hat": ("\u0302", r"\hat"), "bar": ("\u0304", r"\bar")}  # combining character, LaTeX command


@dataclass(frozen=True)
class Notation:
    """One symbol: ``head`` (as printed: a letter, a Greek letter, or a word), its subscript indices,
    and ``adjustment`` (Δ before it) or ``derivative_of`` (∂E/∂ of another Notation)."""

    head: str
    subscript: tuple[str, ...] = ()
    latex_head: str = ""  # the LaTeX for head when it is not head itself (\delta, \mathrm{loss})
    superscript: str = ""  # a worker's number, set as (1)
    adjustment: bool = False
    derivative_of: Notation | None = None
    accent: str = ""  # "hat" (m̂) or "bar" (ḡ), over the head
    parameter: Notation | None = None  # an optimizer's state: the parameter it belongs to, its symbol the subscript

    @property
    def word(self) -> bool:
        """A head of several letters, set upright (``loss``), not as a product of italic letters."""
        return len(self.head) > 1


def of(name: str) -> Notation:
    """The Notation of a derivation name: the one table of rules every printer reads."""
    state = STATE.match(name)
    if state:
        head, accent = STATES[state[1]]
        return Notation(head, accent=accent, parameter=of(state[2]))
    derivative = DERIVATIVE.match(name)
    if derivative:
        loss = of(derivative[1])
        return Notation(loss.head, loss.subscript, loss.latex_head, loss.superscript, derivative_of=of(derivative[2]))
    worker = WORKER.match(name)
    if worker:
        inner = of(worker[1])
        return Notation(inner.head, inner.subscript, inner.latex_head, superscript=worker[2])
    if name.startswith("Delta_"):
        inner = of(name[6:])
        return Notation(inner.head, inner.subscript, inner.latex_head, adjustment=True)
    dense = DENSE_NEURON.match(name)
    if dense:
        return Notation("a", dense.groups())
    indexed = INDEXED.match(name)
    if indexed:
        return _headed(indexed[1], tuple(indexed[2].split("_")))
    head, _, rest = name.partition("_")
    if not rest:
        return _headed(name, ())
    neuron = DENSE_NEURON.match(rest)
    if head in OF_A_NEURON and neuron:
        return _headed(head, neuron.groups())
    return _headed(head, tuple(rest.split("_")))


def _headed(head: str, subscript: tuple[str, ...]) -> Notation:
    """A head as printed: a Greek name as its letter, a word upright, a letter as itself."""
    if head in GREEK:
        letter, command = GREEK[head]
        return Notation(letter, subscript, command)
    return Notation(head, subscript, rf"\mathrm{{{head}}}" if len(head) > 1 else "")


def numerator(n: Notation) -> Notation:
    """What a derivative differentiates: E, or one example's E_k."""
    return Notation(n.head, n.subscript, n.latex_head, n.superscript)


def text(n: Notation) -> str:
    """As the terminal writes it: ``w_a0``, ``x_1``, ``δ_{2,1}`` (braces where indices are several, so
    that their commas read as one subscript), ``Δw_a0``, ``∂E/∂w_{1,2,1}``."""
    if n.derivative_of is not None:
        return f"∂{text(numerator(n))}/∂{text(n.derivative_of)}"
    indices = ",".join(n.subscript)
    body = n.head + (ACCENTS[n.accent][0] if n.accent else "") + (f"^({n.superscript})" if n.superscript else "")
    body += f"_{{{indices}}}" if len(n.subscript) > 1 else f"_{indices}" if indices else ""
    if n.parameter is not None:  # m_{w,a1}: the parameter's head and indices as one subscript
        body += "_{" + ",".join((n.parameter.head, *n.parameter.subscript)) + "}"
    return "Δ" + body if n.adjustment else body


def latex(n: Notation) -> str:
    """As LaTeX: ``w_{a0}``, ``\\delta_{2,1}``, ``\\Delta w_{a0}``, ``\\frac{\\partial E}{\\partial w_{1,2,1}}``."""
    if n.derivative_of is not None:
        return rf"\frac{{\partial {latex(numerator(n))}}}{{\partial {latex(n.derivative_of)}}}"
    head = n.latex_head or n.head
    body = (rf"{ACCENTS[n.accent][1]}{{{head}}}" if n.accent else head) + (f"^{{({n.superscript})}}" if n.superscript else "")
    body += "_{" + ",".join(n.subscript) + "}" if n.subscript else ""
    if n.parameter is not None:
        head = n.parameter.head if n.parameter.word else n.parameter.latex_head or n.parameter.head  # no \mathrm in it
        body += "_{" + ",".join((head, *n.parameter.subscript)) + "}"
    return r"\Delta " + body if n.adjustment else body


def quantity(name: str, symbol_of: Mapping[str, object]) -> str:
    """A trace quantity's name as the walkthrough writes it, for the verify report: ``a_b`` is the
    neuron's activation ``b``, ``da_b/dz_b`` is ``∂b/∂z_b``, ``dE/da_b`` is ``∂E/∂b``, ``delta_b``
    is ``δ_b``, ``Delta_w_a1`` is ``Δw_a1``, an optimizer's ``m_hat_w_a1`` is ``m̂_{w_a1}``. ``symbol_of``
    maps a name to the derivation's symbol (``a_b`` to ``b``); a name it lacks is read as it is."""
    if name not in symbol_of:
        for head in STATES:
            if name.startswith(head + "_") and name[len(head) + 1:] in symbol_of:
                return text(of(f"{head}:{name[len(head) + 1:]}"))
    top, slash, bottom = name.partition("/")
    if slash and top.startswith("d") and bottom.startswith("d"):
        numerator_name, denominator_name = str(symbol_of.get(top[1:], top[1:])), str(symbol_of.get(bottom[1:], bottom[1:]))
        if top == "dE":
            return text(of(f"dE/d{denominator_name}"))
        return f"∂{text(of(numerator_name))}/∂{text(of(denominator_name))}"
    return text(of(str(symbol_of.get(name, name))))


def check_distinct(names: Iterable[str]) -> None:
    """Two names of one file that print as one symbol (a neuron ``n1_1`` and an input ``a1_1`` are
    both a_{1,1}) would make a document say two things with one symbol: refused, naming both."""
    seen: dict[str, str] = {}
    for name in names:
        shown = text(of(name))
        if seen.setdefault(shown, name) != name:
            raise InputError(f"{seen[shown]!r} and {name!r} are both written {shown} in documents; "
                             "expected names that print apart (rename one)", key="network")
