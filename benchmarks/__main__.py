"""Print every benchmark's rows as one Rich table; exit 1 if any goal is missed."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from benchmarks import discover, run_all


def main(argv: list[str]) -> int:
    wanted = [a for a in argv if not a.startswith("-")]
    modules = [m for m in discover() if not wanted or any(w in m for w in wanted)]
    rows = run_all(modules)
    table = Table(title="Benchmarks")
    for col in ("benchmark", "measured", "goal", "ok"):
        table.add_column(col)
    for row in rows:
        table.add_row(row.benchmark, row.measured, row.goal, "[green]yes[/green]" if row.ok else "[red]no[/red]")
    Console().print(table)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
