"""Print every benchmark's rows as one Rich table; exit 1 if any goal is missed.

``python -m benchmarks [-v|--verbose] [name ...]``: names select bench modules by substring;
``--verbose`` adds each figure's full description as a numbered footnote.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from benchmarks import discover, run_all


def main(argv: list[str]) -> int:
    verbose = any(a in ("-v", "--verbose") for a in argv)
    wanted = [a for a in argv if not a.startswith("-")]
    modules = [m for m in discover() if not wanted or any(w in m for w in wanted)]
    rows = run_all(modules)
    table = Table(title="Benchmarks", caption=None if verbose else "--verbose: how each figure is measured")
    table.add_column("figure", overflow="fold")
    table.add_column("measured", overflow="fold")
    table.add_column("goal", overflow="fold")
    table.add_column("ok")
    table.add_column("note", overflow="fold")
    footnotes: list[str] = []
    for row in rows:
        name = row.benchmark
        if verbose and row.description:
            footnotes.append(row.description)
            name = f"{name} [{len(footnotes)}]"
        table.add_row(name, row.measured, row.goal, "[green]yes[/green]" if row.ok else "[red]no[/red]", row.note)
    console = Console()
    console.print(table)
    for number, text in enumerate(footnotes, 1):
        console.print(f"[{number}] {text}", highlight=False, markup=False)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
