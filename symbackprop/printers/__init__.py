"""One printer per output format; each reads a Walkthrough and computes nothing."""

from .terminal import render as render_terminal

PRINTERS = {"terminal": render_terminal}

__all__ = ["PRINTERS", "render_terminal"]
