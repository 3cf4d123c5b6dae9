"""The root of every error temporal-dsql raises on purpose.

Input errors carry the offending field, what would have been accepted and a suggestion, so a CLI,
an HTTP problem-details response and a Pulumi program failure can all say how to fix the input.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class TemporalDsqlError(Exception):
    """Base class for all errors raised by temporal-dsql packages."""


class InputError(TemporalDsqlError, ValueError):
    """Bad input: names the field, the allowed values and a suggestion."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        allowed: Sequence[object] | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.field = field
        self.allowed = list(allowed) if allowed is not None else None
        self.suggestion = suggestion
        self.message = message
        super().__init__(self.render())

    def render(self) -> str:
        parts = [self.message]
        if self.allowed:
            shown = ", ".join(str(a) for a in self.allowed[:20])
            more = f" (and {len(self.allowed) - 20} more)" if len(self.allowed) > 20 else ""
            parts.append(f"Allowed: {shown}{more}.")
        if self.suggestion:
            parts.append(self.suggestion)
        return " ".join(parts)

    def as_problem(self) -> dict[str, object]:
        """The RFC 7807 extension members an HTTP layer adds to its problem document."""
        problem: dict[str, object] = {"detail": self.render()}
        if self.field is not None:
            problem["field"] = self.field
        if self.allowed is not None:
            problem["allowed"] = [str(a) for a in self.allowed]
        if self.suggestion is not None:
            problem["suggestion"] = self.suggestion
        return problem


def close_matches(name: str, candidates: Sequence[str], n: int = 3) -> list[str]:
    """Close spellings of ``name`` (case-insensitive), best first: the "did you mean" of every input error."""
    lowered = {c.lower(): c for c in candidates}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]
