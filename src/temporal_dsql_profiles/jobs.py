"""The profile Lambda's non-HTTP invocations: the schema set-up and the scheduled sweep.

An event ``{"temporal_dsql": "setup-profile-store", "roles": {"profile_api": "<IAM role ARN>", ...}}``
(the deployment's ``aws.lambda_.Invocation`` of the set-up function, connected as ``admin``)
creates the tables and the dedicated roles; ``{"temporal_dsql": "sweep-stale-pending"}`` (the
EventBridge Scheduler, every 15 minutes) removes rows a failed or killed create left ``pending``
and forgets Idempotency-Keys older than 24 h, so the sweep runs without the copilot too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from temporal_dsql_profiles.db_roles import SETUP_EVENT, SWEEP_EVENT, setup_profile_store
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_profiles.storage import ProfileStore

__all__ = ["is_job", "run_job"]

log = logging.getLogger("temporal_dsql.jobs")


def is_job(event: object) -> bool:
    return isinstance(event, Mapping) and event.get("temporal_dsql") in (SETUP_EVENT, SWEEP_EVENT)


async def _run(event: Mapping[str, Any], settings: ProfileSettings) -> dict[str, Any]:
    store = ProfileStore.from_settings(settings)
    try:
        if event["temporal_dsql"] == SETUP_EVENT:
            roles = {str(k): (None if v is None else str(v)) for k, v in dict(event.get("roles") or {}).items()}
            statements = await setup_profile_store(await store.pool(), settings.dialect, roles)
            log.info("profile store set up: %d statements, roles %s", len(statements), sorted(roles))
            return {"ok": True, "job": SETUP_EVENT, "roles": sorted(roles), "statements": len(statements)}
        swept = await store.sweep_stale_pending()
        log.info("swept %d stale pending profile rows", swept)
        return {"ok": True, "job": SWEEP_EVENT, "swept": swept}
    finally:
        await store.close()


def run_job(event: Mapping[str, Any], settings: ProfileSettings | None = None) -> dict[str, Any]:
    """Run one job to completion on a loop of its own (the Lambda handler is synchronous)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_run(event, settings or ProfileSettings()))
    finally:
        loop.close()
