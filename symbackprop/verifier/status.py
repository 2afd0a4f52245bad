"""A claim's verdict: one of six, each printed as its value in every report."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The value is what the reports print (the text report upper-cases MISMATCH only)."""

    HOLDS = "holds"
    # a formula equal to the derivation only on the example's side of kinks it leaves out (or adds):
    # right at the example, not in general (the output's ReLU dropped from a loss). Not a failure.
    CONDITIONAL = "conditional"
    TRUNCATED = "truncated"
    MISMATCH = "mismatch"
    UNVERIFIABLE = "unverifiable"
    UNPARSEABLE = "unparseable"

    @property
    def failed(self) -> bool:
        """A verdict that makes ``symbackprop verify`` exit 1."""
        return self in (Status.MISMATCH, Status.UNPARSEABLE)
