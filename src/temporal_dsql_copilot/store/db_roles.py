"""Dedicated database roles for the copilot's state store, created by its schema set-up.

The copilot worker and the profile API's ``/status`` routes connect to the copilot's own DSQL
cluster as their own roles with ``dsql:DbConnect``, never as ``admin``:

- ``copilot_store`` (the worker's task role): SELECT, INSERT, UPDATE, DELETE on the state-store
  tables (it writes snapshots, assessments and issues, and the retention job deletes old rows);
- ``copilot_status`` (the profile API's role): SELECT on them, for ``/status``.

Neither may create tables or touch anything else. The set-up (``StateStore.setup_schema`` with
``roles``, run as ``admin`` by the deployment's set-up function through ``run_setup_job``) creates
the tables, then the roles, their grants and their ``AWS IAM GRANT`` mapping
(``temporal_dsql_core.db_roles``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.store.schema import TABLES
from temporal_dsql_core.db_roles import TableGrant

__all__ = ["COPILOT_STATUS_DB_ROLE", "COPILOT_STORE_DB_ROLE", "SETUP_EVENT", "grants_for", "is_setup_job",
           "run_setup_job"]

COPILOT_STORE_DB_ROLE = "copilot_store"
COPILOT_STATUS_DB_ROLE = "copilot_status"
SETUP_EVENT = "setup-copilot-store"
"""The ``temporal_dsql`` key of the set-up function's invocation for the copilot's cluster."""

_PRIVILEGES = {COPILOT_STORE_DB_ROLE: "SELECT, INSERT, UPDATE, DELETE", COPILOT_STATUS_DB_ROLE: "SELECT"}

log = logging.getLogger("temporal_dsql.jobs")


def grants_for(role: str) -> list[TableGrant]:
    """The grants of one of the two roles (any other name is a programming error, not a guess)."""
    if role not in _PRIVILEGES:
        raise ValueError(f"unknown copilot state-store role {role!r}; allowed: {sorted(_PRIVILEGES)}")
    return [(_PRIVILEGES[role], table) for table in TABLES]


def is_setup_job(event: object) -> bool:
    return isinstance(event, Mapping) and event.get("temporal_dsql") == SETUP_EVENT


async def _setup(event: Mapping[str, Any], settings: CopilotSettings) -> dict[str, Any]:
    from temporal_dsql_copilot.store.store import StateStore

    roles = {str(k): (None if v is None else str(v)) for k, v in dict(event.get("roles") or {}).items()}
    store = await StateStore.connect(settings, min_size=1, max_size=2)
    try:
        statements = await store.setup_schema(roles=roles)
    finally:
        await store.close()
    log.info("copilot state store set up: %d statements, roles %s", len(statements), sorted(roles))
    return {"ok": True, "job": SETUP_EVENT, "roles": sorted(roles), "statements": len(statements)}


def run_setup_job(event: Mapping[str, Any], settings: CopilotSettings | None = None) -> dict[str, Any]:
    """Run the set-up to completion on a loop of its own (the Lambda handler is synchronous)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_setup(event, settings or CopilotSettings()))
    finally:
        loop.close()
