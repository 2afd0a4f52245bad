"""A claim's verdict: one of five, each printed as its value in every report."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The value is what the reports print (the text report upper-cases MISMATCH only)."""

    HOLDS = "holds"
    TRUNCATED = "truncated"
    MISMATCH = "mismatch"
    UNVERIFIABLE = "unverifiable"
    UNPARSEABLE = "unparseable"

    @property
    def failed(self) -> bool:
        """A verdict that makes ``symbackprop verify`` exit 1."""
        return self in (Status.MISMATCH, Status.UNPARSEABLE)
