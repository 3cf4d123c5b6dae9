"""The copilot's activities: every side effect of the workflows (AMP, logs, KB, baseline, store).

One class holds the dependencies; each method is an activity taking one pydantic input.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from temporalio import activity
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.assessment.models import HealthAssessment
from temporal_dsql_copilot.exceptions import LogSourceError
from temporal_dsql_copilot.knowledge.base import KnowledgeChunk, KnowledgeRetriever
from temporal_dsql_copilot.metrics import InstantQueryClient, collect_signals
from temporal_dsql_copilot.narrative import (
    DEEP_ANALYSIS_PATTERNS,
    LogSource,
    correlate,
    detect_patterns,
    match_patterns,
)
from temporal_dsql_copilot.signals import SignalSnapshot
from temporal_dsql_copilot.store import StateStore, StoredSnapshot
from temporal_dsql_copilot.workflows.inputs import (
    DriftInput,
    DriftReport,
    FetchLogsInput,
    FetchSignalsInput,
    LogScan,
    PruneInput,
    RecentAssessmentInput,
    RetrieveKnowledgeInput,
)

__all__ = ["BaselineDrift", "CopilotActivities", "StaleProfileSweep"]

BaselineDrift = Callable[[DriftInput], Awaitable[DriftReport]]
"""Compares a snapshot with the active baseline profile (``temporal_dsql_copilot.loop.drift``)."""

StaleProfileSweep = Callable[[], Awaitable[int]]
"""Removes behaviour-profile rows a failed create left invisible (``ProfileStore.sweep_stale_pending``)."""


@dataclass
class CopilotActivities:
    metrics: InstantQueryClient
    store: StateStore
    logs: LogSource | None = None
    retriever: KnowledgeRetriever | None = None
    baseline_drift: BaselineDrift | None = None
    stale_profile_sweep: StaleProfileSweep | None = None
    """Run by the retention job: the profile API (a Lambda) has no schedule of its own."""

    def all(self) -> list[Callable[..., object]]:
        return [self.fetch_signals, self.store_snapshot, self.fetch_log_patterns, self.retrieve_knowledge,
                self.compare_with_baseline, self.store_assessment, self.recent_assessment_exists,
                self.prune_state_store]

    @activity.defn(name="copilot.fetch_signals")
    async def fetch_signals(self, request: FetchSignalsInput) -> SignalSnapshot:
        snapshot = await collect_signals(self.metrics, Instant.parse_iso(request.at), namespace=request.namespace)
        if snapshot.failed_queries:
            activity.logger.warning("AMP queries failed, retried next cycle: %s", ", ".join(snapshot.failed_queries))
        return snapshot

    @activity.defn(name="copilot.store_snapshot")
    async def store_snapshot(self, stored: StoredSnapshot) -> bool:
        return await self.store.save_snapshot(stored)

    @activity.defn(name="copilot.fetch_log_patterns")
    async def fetch_log_patterns(self, request: FetchLogsInput) -> LogScan:
        if self.logs is None:
            return LogScan(error="no log source configured")
        end = Instant.parse_iso(request.end)
        try:
            records = await self.logs.fetch(end - TimeDelta(seconds=request.lookback_seconds), end)
        except LogSourceError as exc:
            activity.logger.warning("log source failed, continuing metric-only: %s", exc)
            return LogScan(error=str(exc))
        samples = [f"{r.timestamp} {r.service}: {r.message}" for r in records
                   if DEEP_ANALYSIS_PATTERNS.intersection(match_patterns(r))]
        correlations = correlate(request.anomalies, records) if request.anomalies else []
        return LogScan(patterns=detect_patterns(records), samples=samples[:20], correlations=correlations[:20])

    @activity.defn(name="copilot.retrieve_knowledge")
    async def retrieve_knowledge(self, request: RetrieveKnowledgeInput) -> list[KnowledgeChunk]:
        if self.retriever is None:
            return []
        return await self.retriever.retrieve(request.query, top_k=min(request.top_k, 5))

    @activity.defn(name="copilot.compare_with_baseline")
    async def compare_with_baseline(self, request: DriftInput) -> DriftReport:
        if self.baseline_drift is None:
            return DriftReport()
        return await self.baseline_drift(request)

    @activity.defn(name="copilot.store_assessment")
    async def store_assessment(self, assessment: HealthAssessment) -> bool:
        return await self.store.save_assessment(assessment)

    @activity.defn(name="copilot.recent_assessment_exists")
    async def recent_assessment_exists(self, request: RecentAssessmentInput) -> bool:
        last = await self.store.last_assessment_at()
        return last is not None and Instant.parse_iso(last) >= Instant.parse_iso(request.since)

    @activity.defn(name="copilot.prune_state_store")
    async def prune_state_store(self, request: PruneInput) -> dict[str, int]:
        cutoff = Instant.now() - TimeDelta(hours=24 * max(request.retention_days, 7))
        deleted = await self.store.prune(cutoff)
        if self.stale_profile_sweep is not None:
            deleted["behaviour_profiles_stale"] = await self.stale_profile_sweep()
        return deleted
