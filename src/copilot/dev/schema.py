"""`copilot dev schema setup`: the profile store's and the copilot state store's tables.

Each store owns its DDL (PostgreSQL dialect locally, DSQL in AWS); this module only connects to
the local PostgreSQL and applies each store's statements (idempotent: IF NOT EXISTS). A failing step is reported and the
next one still runs (dev-environment Requirement 7.5).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Sequence

from copilot.dev.errors import DevStackError
from copilot.dev.state import StackState
from copilot_core.dsql import Dialect, apply_ddl

__all__ = ["SCHEMA_STEPS", "setup_schemas"]

# (label, module, function(dialect) -> list of DDL statements): each store's own DDL.
SCHEMA_STEPS: tuple[tuple[str, str, str], ...] = (
    ("profile store", "behaviour_profiles.storage", "schema_statements"),
    ("copilot state store", "copilot.store.schema", "schema_statements"),
)


def _resolve(module: str, attribute: str) -> Callable[[Dialect], Sequence[str]] | None:
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError:
        return None
    function = getattr(loaded, attribute, None)
    return function if callable(function) else None


async def _run(dsn: str, progress: Callable[[str], None]) -> dict[str, bool]:
    import asyncpg

    results: dict[str, bool] = {}
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        for label, module, attribute in SCHEMA_STEPS:
            function = _resolve(module, attribute)
            if function is None:
                progress(f"schema: {label}: SKIPPED, {module}.{attribute} is not in this tree yet")
                results[label] = False
                continue
            try:
                await apply_ddl(pool, function(Dialect.POSTGRES))
            except Exception as error:  # report it and continue with the next store
                progress(f"schema: {label}: FAILED: {error}")
                results[label] = False
            else:
                progress(f"schema: {label}: ok")
                results[label] = True
    finally:
        await pool.close()
    return results


def setup_schemas(state: StackState, progress: Callable[[str], None] = lambda m: None) -> dict[str, bool]:
    dsn = state.env.get("COPILOT_DEV_POSTGRES_DSN")
    if dsn is None or "postgres" not in state.services:
        raise DevStackError("PostgreSQL of the local stack is not running", field="postgres",
                            suggestion="Run `copilot dev up` first.")
    return asyncio.run(_run(dsn, progress))
