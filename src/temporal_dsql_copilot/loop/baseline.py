"""Drift against the active baseline profile, read from the behaviour-profile store.

Used by the assessment workflow (through an activity) and by GET /status/drift. Correlation:
when the newest profile of the scope is not the baseline, the two are compared and any config
change that coincides with regressions is reported (Property 20).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from temporal_dsql_copilot.assessment.models import ConfigCorrelation, DriftFinding
from temporal_dsql_copilot.loop.drift import correlate_config_changes, detect_drift
from temporal_dsql_copilot.signals import SignalSnapshot
from temporal_dsql_profiles.comparison import compare_profiles
from temporal_dsql_profiles.models import ComparisonThresholds
from temporal_dsql_profiles.storage import ListFilters, ProfileStore

__all__ = ["DriftInput", "DriftReport", "ProfileBaselineDrift"]


class DriftInput(BaseModel):
    cluster_id: str
    namespace: str | None
    snapshot: SignalSnapshot


class DriftReport(BaseModel):
    drift: list[DriftFinding] = Field(default_factory=list)
    correlations: list[ConfigCorrelation] = Field(default_factory=list)
    baseline_id: str | None = None
    compared_profile_id: str | None = None


@dataclass
class ProfileBaselineDrift:
    store: ProfileStore
    thresholds: ComparisonThresholds = field(default_factory=ComparisonThresholds)

    async def __call__(self, request: DriftInput) -> DriftReport:
        meta = await self.store.baseline_for(request.cluster_id, request.namespace)
        if meta is None:
            return DriftReport()
        baseline = await self.store.get(meta.id)
        drift = detect_drift(request.snapshot.metric_values(), baseline.telemetry, self.thresholds)
        page = await self.store.list(ListFilters(cluster=request.cluster_id, namespace=request.namespace), limit=1)
        correlations: list[ConfigCorrelation] = []
        compared: str | None = None
        if page.items and page.items[0].id != meta.id:
            latest = await self.store.get(page.items[0].id)
            compared = latest.id
            correlations = correlate_config_changes(compare_profiles(baseline, latest, self.thresholds))
        return DriftReport(drift=drift, correlations=correlations, baseline_id=meta.id, compared_profile_id=compared)
