"""Drift against the active baseline profile (Req 15.1-15.2) and config-change correlation (15.3)."""

from __future__ import annotations

from collections.abc import Mapping

from temporal_dsql_copilot.assessment.models import ConfigCorrelation, DriftFinding
from temporal_dsql_core.metric_catalog import ComparisonClass, Direction, catalog_metric
from temporal_dsql_profiles.models import ComparisonThresholds, ProfileComparison, TelemetrySummary
from temporal_dsql_profiles.snapshot import redact

__all__ = ["correlate_config_changes", "detect_drift", "drift_threshold"]


def drift_threshold(metric_id: str, thresholds: ComparisonThresholds) -> float:
    """The relative change (fraction) beyond which a metric has drifted, by its comparison class."""
    pct = {
        ComparisonClass.LATENCY: thresholds.latency_pct,
        ComparisonClass.ERROR: thresholds.error_pct,
        ComparisonClass.THROUGHPUT: thresholds.throughput_pct,
        ComparisonClass.SATURATION: thresholds.saturation_pct,
    }[catalog_metric(metric_id).comparison]
    return pct / 100.0


def detect_drift(current: Mapping[str, float], baseline: TelemetrySummary,
                 thresholds: ComparisonThresholds | None = None) -> list[DriftFinding]:
    """Every catalog metric whose current value deviates from the baseline mean beyond its threshold.

    ``current`` is keyed by catalog id in the catalog's unit (``SignalSnapshot.metric_values()``);
    ids outside the catalog (copilot-only signals) and metrics the baseline lacks are skipped.
    A baseline of 0 with a non-zero current value is drift of unbounded size (relative_change None).
    """
    thresholds = thresholds or ComparisonThresholds()
    findings: list[DriftFinding] = []
    for metric_id, value in sorted(current.items()):
        try:
            metric = catalog_metric(metric_id)
            aggregate = baseline.get(metric_id)
        except KeyError:
            continue
        if aggregate is None:
            continue
        limit = drift_threshold(metric_id, thresholds)
        base = aggregate.mean
        if base == 0:
            if value == 0:
                continue
            relative: float | None = None
        else:
            relative = (value - base) / abs(base)
            if abs(relative) <= limit:
                continue
        worse_if_higher = metric.direction is Direction.LOWER_IS_BETTER
        regressed = (value > base) == worse_if_higher
        findings.append(DriftFinding(metric_id=metric_id, current=value, baseline=base, relative_change=relative,
                                     threshold=limit, regressed=regressed))
    return findings


def correlate_config_changes(comparison: ProfileComparison) -> list[ConfigCorrelation]:
    """One correlation per config change when the comparison also shows telemetry regressions."""
    regressed = [d.metric for d in comparison.telemetry_diffs if d.direction == "regressed"]
    if not regressed or not comparison.config_diffs:
        return []
    out = []
    for diff in comparison.config_diffs:
        # The correlation reaches the LLM prompt and the stored assessment: a value under a secret
        # name or shaped like a credential is redacted exactly as in a stored profile.
        old, _ = redact(diff.key, diff.old_value)
        new, _ = redact(diff.key, diff.new_value)
        old = old if isinstance(old, str | int | float | bool) else None
        new = new if isinstance(new, str | int | float | bool) else None
        out.append(ConfigCorrelation(config_key=f"{diff.section}:{diff.key}", old_value=old, new_value=new,
                                     regressed_metrics=regressed))
    return out
