"""Profile use cases over the store and the telemetry client: create, read, list, compare, delete.

Create does every read first (telemetry, then the deployed config) and writes only at the end
(``ProfileStore.save``), so a failing telemetry source or S3 read leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from whenever import Instant, TimeDelta

from temporal_dsql_profiles.comparison import compare_profiles
from temporal_dsql_profiles.errors import InvalidProfileRequest
from temporal_dsql_profiles.idempotency import IdempotentCreate, request_hash
from temporal_dsql_profiles.models import (
    MAX_WINDOW_HOURS,
    BehaviourProfile,
    CompareRequest,
    CreateProfileRequest,
    ProfileComparison,
    ProfileMetadata,
)
from temporal_dsql_profiles.snapshot import build_snapshot
from temporal_dsql_profiles.storage import ProfileStore
from temporal_dsql_profiles.telemetry import PrometheusClient, collect_telemetry

__all__ = ["CLOCK_SKEW", "ProfileService", "validate_window"]

CLOCK_SKEW = TimeDelta(seconds=60)
"""How far past the server's clock a window may end (browser clocks drift)."""


def validate_window(start: Instant, end: Instant, now: Instant,
                    min_window: TimeDelta = TimeDelta(seconds=1)) -> None:
    if end <= start:
        raise InvalidProfileRequest(
            f"time_window_end ({end.format_iso()}) must be after time_window_start ({start.format_iso()})",
            field="time_window_end", suggestion="Swap the two instants or widen the window.")
    if end - start < min_window:
        seconds = (end - start).total("seconds")
        raise InvalidProfileRequest(
            f"the window from time_window_start to time_window_end is {seconds:g} s long, shorter than the scrape "
            f"interval ({min_window.total('seconds'):g} s): "
            "it cannot hold a rate or a percentile. Epoch seconds sent as milliseconds look like this.",
            field="time_window_end", allowed=[f"end - start >= {min_window.total('seconds'):g}s"],
            suggestion="Send epoch milliseconds or ISO 8601 and a window of at least a few scrape intervals.")
    if end - start > TimeDelta(hours=MAX_WINDOW_HOURS):
        hours = (end - start).total("hours")
        raise InvalidProfileRequest(
            f"the window from time_window_start to time_window_end is {hours:.2f} h long; a profile covers at most {MAX_WINDOW_HOURS} hours "
            "(longer windows blur the behaviour a profile is meant to capture and exceed the query budget)",
            field="time_window_end", allowed=[f"end - start <= {MAX_WINDOW_HOURS}h"],
            suggestion=f"Create one profile per {MAX_WINDOW_HOURS} h slice, or pick the interesting part.")
    if end > now + CLOCK_SKEW:
        raise InvalidProfileRequest(
            f"time_window_end ({end.format_iso()}) is in the future (now is {now.format_iso()})",
            field="time_window_end", allowed=[f"<= {now.format_iso()}"],
            suggestion="Profile a window that has already happened (e.g. end = now).")


@dataclass
class ProfileService:
    store: ProfileStore
    telemetry: PrometheusClient
    step: TimeDelta = field(default_factory=lambda: TimeDelta(seconds=60))
    clock: Callable[[], Instant] = Instant.now
    default_cluster_id: str | None = None
    scrape_interval: TimeDelta = field(default_factory=lambda: TimeDelta(seconds=60))

    async def create(self, request: CreateProfileRequest, *, idempotency_key: str | None = None) -> ProfileMetadata:
        """Create a profile; with ``idempotency_key`` a retry returns (or finishes) the same one."""
        now = self.clock()
        cluster_id = request.cluster_id or self.default_cluster_id
        if cluster_id is None:
            raise InvalidProfileRequest("cluster_id is required (this deployment has no default cluster)",
                                        field="cluster_id", suggestion="Pass the cluster identifier to profile.")
        idempotency = None
        profile_id = str(uuid.uuid4())
        if idempotency_key is not None:
            idempotency = IdempotentCreate(idempotency_key, request_hash(request, cluster_id))
            known = await self.store.idempotent_profile(idempotency)
            if known is not None:
                profile_id, state = known
                if state == "ready":
                    return await self.store.get_metadata(profile_id)
        validate_window(request.time_window_start, request.time_window_end, now, self.scrape_interval)
        summary = await collect_telemetry(
            self.telemetry, request.time_window_start, request.time_window_end,
            namespace=request.namespace, task_queue=request.task_queue, step=self.step)
        deployed = await self.store.read_deployed_config()
        # Redaction walks every client string: CPU work, run off the event loop so /health and other
        # requests keep being answered while it runs (issue 19).
        snapshot, versions = await asyncio.to_thread(build_snapshot, deployed, request)
        profile = BehaviourProfile(
            id=profile_id, name=request.name, label=request.label, cluster_id=cluster_id,
            namespace=request.namespace, task_queue=request.task_queue,
            time_window_start=request.time_window_start, time_window_end=request.time_window_end,
            temporal_server_version=versions.temporal_server_version,
            dsql_plugin_version=versions.dsql_plugin_version, worker_code_sha=versions.worker_code_sha,
            config_snapshot=snapshot, telemetry=summary, created_at=now,
        )
        return await self.store.save(profile, idempotency=idempotency)

    async def compare(self, request: CompareRequest) -> ProfileComparison:
        if request.profile_a_id == request.profile_b_id:
            raise InvalidProfileRequest(
                "a comparison needs two different profiles; profile_a_id and profile_b_id are both "
                f"{request.profile_a_id!r}", field="profile_b_id",
                suggestion="Compare against the baseline (GET /profiles/?cluster=...) or another window.")
        a = await self.store.get(request.profile_a_id)
        b = await self.store.get(request.profile_b_id)
        return compare_profiles(a, b, request.thresholds)
