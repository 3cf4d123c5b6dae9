"""The row every benchmark module returns; ``python -m benchmarks`` prints them as one table."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BenchRow"]


@dataclass(frozen=True, slots=True)
class BenchRow:
    """One measured goal: what was measured, the value, the goal and whether it was met."""

    benchmark: str
    measured: str
    goal: str
    ok: bool
