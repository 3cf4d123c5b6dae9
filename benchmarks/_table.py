"""The row every benchmark module returns; ``python -m benchmarks`` prints them as one table."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BenchRow"]


@dataclass(frozen=True, slots=True)
class BenchRow:
    """One measured goal: what was measured, the value, the goal and whether it was met.

    ``benchmark`` is a short figure name and ``measured``/``goal`` short values, so the table
    fits an 80-column terminal; ``description`` (how it was measured) is printed as a footnote
    with ``--verbose``; ``note`` says why a goal is missed on this machine when it is.
    """

    benchmark: str
    measured: str
    goal: str
    ok: bool
    note: str = ""
    description: str = ""
