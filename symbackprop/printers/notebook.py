"""Jupyter displays: a Model or Derivation shows its network and the chain of one parameter."""

from __future__ import annotations

from html import escape

from .html import STYLE, svg_network
from .latex import equation as tex_equation
from .latex import one_line
from .mathml import equation as mathml_equation


def _parts(d):
    from ..walkthrough import chain, network

    return network(d), chain(d)


def html(d, title: str) -> str:
    net, step = _parts(d)
    return (f"<div><style>{STYLE.replace('body', '.symbackprop')}</style><b>{escape(title)}</b>"
            f"<figure>{svg_network(net)}</figure>{mathml_equation(step)}</div>")


def latex(d) -> str:
    _, step = _parts(d)
    return f"$$\n{one_line(tex_equation(step))}\n$$"
