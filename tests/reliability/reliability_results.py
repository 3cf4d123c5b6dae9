"""The figures each reliability test measures, and the table ``make reliability`` prints.

A test asks for the ``reliability`` fixture (conftest) and fills in what it threw at the system
(load or inputs tried, faults injected) and what it counted afterwards (lost, duplicated, 5xx);
the conftest adds the test's outcome and, when ``RELIABILITY_RESULTS`` names a file, writes every
row there as JSON at the end of the session. ``python tests/reliability/reliability_results.py
FILE`` prints the table. The numbers are measured by the tests, never typed in here.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["SCALE", "ReliabilityRow", "budget", "print_table"]

SCALE = os.environ.get("RELIABILITY_SCALE", "ci")
"""``ci`` in ``make test`` (small budgets), ``full`` under ``make reliability``."""


def budget(ci: int, full: int) -> int:
    """The size of a load or an example budget at the current scale."""
    return full if SCALE == "full" else ci


@dataclass
class ReliabilityRow:
    test: str
    load: str = ""
    """What was thrown at the system: concurrent requests, generated inputs, ..."""
    faults: str = "none"
    lost: int = 0
    duplicated: int = 0
    server_errors: int = 0
    """Responses >= 500 that were not the documented answer to an injected fault."""
    result: str = "not run"
    notes: dict[str, object] = field(default_factory=dict)


COLUMNS = ("test", "load / inputs tried", "faults", "lost", "duplicated", "5xx", "result")


def print_table(rows: list[ReliabilityRow]) -> str:
    cells = [[r.test, r.load, r.faults, str(r.lost), str(r.duplicated), str(r.server_errors), r.result]
             for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(COLUMNS)]
    line = "+".join("-" * (w + 2) for w in widths)
    out = [" | ".join(h.ljust(w) for h, w in zip(COLUMNS, widths, strict=True)), line]
    out += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    notes = [f"  {r.test}: " + ", ".join(f"{k}={v}" for k, v in r.notes.items()) for r in rows if r.notes]
    return "\n".join(out + (["", "measured:", *notes] if notes else []))


def load_rows(path: Path) -> list[ReliabilityRow]:
    return [ReliabilityRow(**row) for row in json.loads(path.read_text())]


def write_rows(path: Path, rows: list[ReliabilityRow]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(r) for r in rows], indent=2, default=str))


if __name__ == "__main__":
    rows = load_rows(Path(sys.argv[1]))
    print(print_table(rows))
    failed = [r.test for r in rows if r.result != "pass"]
    if not rows or failed:
        print(f"\nnot passing: {', '.join(failed) or 'no results recorded'}")
        sys.exit(1)
