"""The identity check as a report: for each parameter, chain-rule gradient == sympy.diff of the flattened loss."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..core.derivation import Derivation
from ..core.limits import check_identity


@dataclass(frozen=True)
class IdentityReport:
    holds: dict[str, bool]  # parameter -> proven equal
    seconds: float

    @property
    def ok(self) -> bool:
        return all(self.holds.values())

    def text(self) -> str:
        lines = ["", "Identity check: chain-rule gradient == sympy.diff of the flattened loss"]
        lines += [f"  dE/d{p}: {'holds' if ok else 'FAILS'}" for p, ok in self.holds.items()]
        lines.append(f"  {sum(self.holds.values())} of {len(self.holds)} hold ({self.seconds:.2f} s)")
        return "\n".join(lines) + "\n"


def identity_report(d: Derivation, only: Sequence[str] | None = None) -> IdentityReport:
    d.model.check_parameters(only)
    check_identity({p: d.path_count(p) for p in (only or d.model.parameters)})
    start = time.perf_counter()
    holds = {p: d.identity(p) for p in (only or list(d.model.parameters))}
    return IdentityReport(holds, time.perf_counter() - start)
