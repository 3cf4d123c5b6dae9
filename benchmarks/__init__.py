"""Speed and size goals. ``python -m benchmarks`` runs every ``bench_*.py`` module's ``run()``."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from benchmarks._table import BenchRow

__all__ = ["BenchRow", "discover", "run_all"]


def discover() -> list[str]:
    """Names of the bench modules in this package, sorted."""
    return sorted(
        f"{__name__}.{info.name}" for info in pkgutil.iter_modules(__path__) if info.name.startswith("bench_")
    )


def run_all(modules: list[str] | None = None) -> list[BenchRow]:
    rows: list[BenchRow] = []
    for name in modules if modules is not None else discover():
        module = importlib.import_module(name)
        run: Callable[[], list[BenchRow]] | None = getattr(module, "run", None)
        if run is None:
            rows.append(BenchRow(benchmark=name, measured="no run()", goal="run() -> list[BenchRow]", ok=False))
            continue
        try:
            rows.extend(run())
        except Exception as exc:  # one broken benchmark must not hide the others
            rows.append(BenchRow(benchmark=name, measured=f"failed: {exc!r}"[:120], goal="runs", ok=False))
    return rows
