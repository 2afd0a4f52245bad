"""Jupyter display for Models and Derivations, as SymPy's ``Printable`` gives every expression one.

The printers live above core (documents/), so they register themselves here when imported; core
never imports them. ``import symbackprop`` imports them, so a notebook always has them.
"""

from __future__ import annotations

from collections.abc import Callable

RENDERERS: dict[str, Callable[[object], str]] = {}  # "html" / "latex" -> renderer of a Model or Derivation


def register(kind: str, renderer: Callable[[object], str]) -> None:
    RENDERERS[kind] = renderer


class Displayed:
    """``_repr_html_`` and ``_repr_latex_`` through the registered printers (the network and one chain)."""

    def _repr_html_(self) -> str | None:
        renderer = RENDERERS.get("html")
        return renderer(self) if renderer else None

    def _repr_latex_(self) -> str | None:
        renderer = RENDERERS.get("latex")
        return renderer(self) if renderer else None
