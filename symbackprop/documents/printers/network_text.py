"""The network figure's text: a label line (Text) and its width, estimated from DejaVu Serif's advances
(the SVG figure's font, wider than Computer Modern, so the TikZ figure laid out the same has room too)."""

from __future__ import annotations

from dataclasses import dataclass

from ...core.notation import Notation

SUB = 0.72  # a subscript's size, relative to its line
SUB_DROP = 0.28  # how far a subscript's baseline sits below the line's, relative to the line's size


# -- text metrics ----------------------------------------------------------------------------------
def _table(spec: str) -> dict[str, float]:
    """``"abc:0.5 d:0.6"`` -> {"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.6}: advance widths in em."""
    out = {}
    for item in spec.split():
        chars, _, width = item.rpartition(":")
        out.update(dict.fromkeys(chars, float(width)))
    return out


# DejaVu Serif's advance widths in em (Book and Italic have the same), from its TrueType tables
SVG_WIDTHS = _table(
    "0123456789:0.636 .,·:0.318 =+−≈:0.838 ():0.39 ␣:0.318 a:0.596 bdgpq:0.64 c:0.56 e:0.592 f:0.37 hnu:0.644 "
    "il:0.32 j:0.31 k:0.606 m:0.948 o:0.602 r:0.478 s:0.513 t:0.402 vy:0.565 w:0.856 x:0.564 z:0.527 A:0.722 "
    "B:0.735 C:0.765 D:0.802 E:0.73 F:0.694 G:0.799 H:0.872 I:0.395 J:0.401 K:0.747 L:0.664 M:1.024 N:0.875 "
    "OQ:0.82 P:0.673 R:0.753 S:0.685 T:0.667 U:0.843 V:0.722 W:1.028 X:0.712 Y:0.66 Z:0.695 α:0.675 β:0.578 "
    "γ:0.598 δθ:0.602 ε:0.537 ζ:0.542 η:0.599 ι:0.392 κ:0.656 λ:0.634 μ:0.65 νυ:0.608 ξ:0.551 π:0.657 ρ:0.588 "
    "σ:0.683 τ:0.553 φ:0.7 χ:0.606 ψ:0.784 ω:0.815 Δ:0.722")
SVG_WIDTHS[" "] = SVG_WIDTHS.pop("␣")
SAFETY = 1.04  # estimates a few per cent wide, so that a measured box is within the estimated one
ASCENT, DESCENT = 0.93, 0.24  # DejaVu Serif's, relative to the size; Computer Modern's are smaller


def chars_width(text: str, size: float) -> float:
    return sum(SVG_WIDTHS.get(c, 0.75) for c in text) * size


def name_width(n: Notation, size: float) -> float:
    """A symbol: its head, then its superscript and subscript at SUB of the size."""
    if n.derivative_of is not None:  # not drawn in figures; a safe over-estimate
        return chars_width("∂E/∂", size) + name_width(n.derivative_of, size)
    width = chars_width(("Δ" if n.adjustment else "") + n.head, size)
    if n.superscript:
        width += chars_width(f"({n.superscript})", size * SUB)
    if n.subscript:
        width += chars_width(",".join(n.subscript), size * SUB)
    return width


def number_width(text: str, size: float) -> float:
    mantissa, _, exponent = text.partition("e")
    width = chars_width(mantissa.replace("-", "−"), size)
    if exponent:  # 1.5·10⁻⁵
        width += chars_width("·10", size) + chars_width(str(int(exponent)).replace("-", "−"), size * SUB)
    return width


def text_width(text: Text, size: float) -> float:
    """One line's width, estimated with DejaVu Serif's advances: the SVG figure's font and wider than
    Computer Modern, so that the TikZ figure, laid out the same, has room too."""
    width = name_width(text.name, size) if text.name is not None else 0.0
    if text.number:
        width += number_width(text.number, size)
        width += chars_width(f" {text.relation} " if text.name is not None else "≈" if text.relation == "≈" else "", size)
    return width * SAFETY


@dataclass(frozen=True)
class Text:
    """One line of a label: a name, a relation (= or ≈) and a number (a decimal, ASCII minus), either may
    be absent; a number without a name is written alone, after ≈ where it is rounded."""

    key: str  # the Network name it shows ("w_a1", "z_a", "E"); a node's own name for a name label
    name: Notation | None
    relation: str = ""
    number: str = ""


