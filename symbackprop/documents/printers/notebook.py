"""Jupyter displays: a Model or Derivation shows its network and the chain of one parameter.

Registered with core's display mixin on import (core cannot import printers).
"""

from __future__ import annotations

from html import escape

from ...core import display
from ...core.derivation import Derivation, derive
from ...core.model import Model
from ..builder import chain, network
from ..formulas.latex import equation as tex_equation
from ..formulas.latex import one_line
from ..formulas.mathml import equation as mathml_equation
from .html import STYLE
from .svg import svg_network


def _derivation(shown: Model | Derivation) -> Derivation:
    return shown if isinstance(shown, Derivation) else derive(shown)


def _title(shown: Model | Derivation) -> str:
    if isinstance(shown, Derivation):
        return f"Derivation of {shown.model.title or 'a model'}"
    return f"{shown.title or 'Model'}: {len(shown.neurons)} neurons, {len(shown.parameters)} parameters"


def html(shown: Model | Derivation) -> str:
    d = _derivation(shown)
    return (f"<div><style>{STYLE.replace('body', '.symbackprop')}</style><b>{escape(_title(shown))}</b>"
            f"<figure>{svg_network(network(d))}</figure>{mathml_equation(chain(d))}</div>")


def latex(shown: Model | Derivation) -> str:
    return f"$$\n{one_line(tex_equation(chain(_derivation(shown))))}\n$$"


display.register("html", html)
display.register("latex", latex)
