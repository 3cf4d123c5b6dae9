"""Preset conformance: does a profile's telemetry stay within the preset's expected bounds (Req 16)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from temporal_dsql_core import TelemetryBound
from temporal_dsql_core.metric_catalog import SERVICES, catalog_metric
from temporal_dsql_profiles.models import TelemetrySummary

__all__ = ["ConformanceReport", "MetricConformance", "assess_conformance"]


class MetricConformance(BaseModel):
    metric: str
    lower: float
    upper: float
    observed: float | None
    """The aggregate's mean over the profile window; None when the profile has no data."""
    passed: bool
    detail: str


class ConformanceReport(BaseModel):
    preset_name: str
    label: Literal["conforming", "drifted"]
    metrics: list[MetricConformance]

    @property
    def failed(self) -> list[str]:
        return [m.metric for m in self.metrics if not m.passed]


def _keys(bound: TelemetryBound) -> list[str]:
    metric = catalog_metric(bound.metric)
    if metric.per_service and bound.metric == metric.id:
        return [f"{metric.id}.{service}" for service in SERVICES]
    return [bound.metric]


def assess_conformance(preset_name: str, telemetry: TelemetrySummary,
                       bounds: list[TelemetryBound]) -> ConformanceReport:
    """Per-metric pass/fail against the bounds; "conforming" iff every metric passes.

    A metric without data fails: a preset cannot be certified on evidence that is not there.
    Per-service metrics are checked for every service.
    """
    results: list[MetricConformance] = []
    for bound in bounds:
        for key in _keys(bound):
            aggregate = telemetry.get(key)
            if aggregate is None:
                results.append(MetricConformance(metric=key, lower=bound.lower, upper=bound.upper, observed=None,
                                                 passed=False, detail="no data in the profile"))
                continue
            value = aggregate.mean
            passed = bound.lower <= value <= bound.upper
            detail = "within bounds" if passed else (
                f"{value:g} below {bound.lower:g}" if value < bound.lower else f"{value:g} above {bound.upper:g}")
            results.append(MetricConformance(metric=key, lower=bound.lower, upper=bound.upper, observed=value,
                                             passed=passed, detail=detail))
    label: Literal["conforming", "drifted"] = "conforming" if all(r.passed for r in results) else "drifted"
    return ConformanceReport(preset_name=preset_name, label=label, metrics=results)
