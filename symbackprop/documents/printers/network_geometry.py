"""Plane geometry for the network figure's layout: label boxes, and where segments meet boxes and each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def grown(self, by: float) -> Box:
        """The box with ``by`` more on every side."""
        return Box(self.x0 - by, self.y0 - by, self.x1 + by, self.y1 + by)

    def meets(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def holds(self, point: tuple[float, float]) -> bool:
        return self.x0 <= point[0] <= self.x1 and self.y0 <= point[1] <= self.y1

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)



def segment_meets(x1: float, y1: float, x2: float, y2: float, box: Box) -> bool:
    """Whether the segment passes through the box (Liang-Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    dx, dy = x2 - x1, y2 - y1
    for p, q in ((-dx, x1 - box.x0), (dx, box.x1 - x1), (-dy, y1 - box.y0), (dy, box.y1 - y1)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def intersection(a, b) -> tuple[float, float] | None:
    """Where two edges cross, strictly inside both (edges sharing a node meet only there)."""
    rx, ry, sx, sy = a.x2 - a.x1, a.y2 - a.y1, b.x2 - b.x1, b.y2 - b.y1
    cross = rx * sy - ry * sx
    if abs(cross) < 1e-9:
        return None
    qx, qy = b.x1 - a.x1, b.y1 - a.y1
    t, u = (qx * sy - qy * sx) / cross, (qx * ry - qy * rx) / cross
    if 0.0 < t < 1.0 and 0.0 < u < 1.0:
        return a.x1 + t * rx, a.y1 + t * ry
    return None
