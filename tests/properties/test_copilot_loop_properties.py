"""Properties 19-21 (drift, drift correlation, preset conformance) and the no-secrets-in-prompt property."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from temporal_dsql_copilot.assessment import (
    AssessmentContext,
    AssessmentTrigger,
    Explanation,
    build_prompt,
    finalize_assessment,
    redact,
)
from temporal_dsql_copilot.health import (
    MachineState,
    assess_workers,
    evaluate,
    service_health,
    thresholds_for,
)
from temporal_dsql_copilot.knowledge.base import KnowledgeChunk
from temporal_dsql_copilot.loop import (
    assess_conformance,
    correlate_config_changes,
    detect_drift,
    drift_threshold,
)
from temporal_dsql_copilot.signals import LogPatternCount, PrimarySignals, SignalSnapshot
from temporal_dsql_core import MetricAggregate, TelemetryBound
from temporal_dsql_core.metric_catalog import CATALOG, SERVICES, MetricGroup
from temporal_dsql_profiles.models import (
    ComparisonThresholds,
    ConfigDiff,
    ProfileComparison,
    TelemetryDiff,
    TelemetrySummary,
)

AT = "2026-11-22T12:00:00Z"
SCALAR_IDS = sorted(m.id for m in CATALOG.values() if not m.per_service)
PER_SERVICE_IDS = sorted(m.id for m in CATALOG.values() if m.per_service)
values = st.floats(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False)


def _agg(mean: float) -> MetricAggregate:
    return MetricAggregate(min=mean, max=mean, mean=mean, p50=mean, p95=mean, p99=mean)


@st.composite
def baselines_and_current(draw: st.DrawFn) -> tuple[TelemetrySummary, dict[str, float]]:
    ids = draw(st.lists(st.sampled_from(SCALAR_IDS), min_size=1, max_size=8, unique=True))
    summary = TelemetrySummary()
    current: dict[str, float] = {}
    for metric_id in ids:
        summary.set(metric_id, _agg(draw(values)))
        current[metric_id] = draw(values)
    return summary, current


# Property 19: Drift detection.
@settings(max_examples=300)
@given(data=baselines_and_current(), thresholds=st.builds(ComparisonThresholds))
def test_property_19_drift_detection(data: tuple[TelemetrySummary, dict[str, float]],
                                     thresholds: ComparisonThresholds) -> None:
    baseline, current = data
    flagged = {d.metric_id for d in detect_drift(current, baseline, thresholds)}
    for metric_id, value in current.items():
        base = baseline.get(metric_id)
        assert base is not None
        limit = drift_threshold(metric_id, thresholds)
        deviates = value != 0 if base.mean == 0 else abs(value - base.mean) / abs(base.mean) > limit
        assert (metric_id in flagged) is deviates
    # ...and a flagged deviation reaches the stored assessment.
    snap = SignalSnapshot(observed_at=AT, primary=PrimarySignals(state_transitions_per_sec=10, backlog_age_sec=1))
    ev = evaluate(MachineState(), snap)
    workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
    ctx = AssessmentContext(trigger=AssessmentTrigger.SCHEDULED, evaluation=ev, workers=workers,
                            services=service_health(ev, workers), snapshot=snap,
                            drift=detect_drift(current, baseline, thresholds))
    assessment = finalize_assessment(ctx, Explanation(summary="s"), workflow_id="w", sequence=1, assessed_at=AT,
                                     explained_by="rules")
    assert {d.metric_id for d in assessment.drift} == flagged


config_diffs = st.lists(st.builds(
    ConfigDiff, section=st.sampled_from(["dynamic_config", "dsql_plugin", "worker_options"]),
    key=st.from_regex(r"[a-z]{3,8}\.[a-zA-Z]{3,12}", fullmatch=True), change=st.just("changed"),
    old_value=st.integers(1, 100), new_value=st.integers(1, 100)), min_size=0, max_size=4, unique_by=lambda d: d.key)
telemetry_diffs = st.lists(st.builds(
    TelemetryDiff, metric=st.sampled_from(SCALAR_IDS), group=st.sampled_from(list(MetricGroup)), unit=st.just("ms"),
    old_value=st.none(), new_value=st.none(), change_pct=st.floats(-500, 500),
    direction=st.sampled_from(["improved", "regressed", "unchanged"]), severity=st.just("warning")),
    min_size=0, max_size=5)


# Property 20: Drift correlation.
@settings(max_examples=300)
@given(configs=config_diffs, telemetry=telemetry_diffs, model_summary=st.text(max_size=80))
def test_property_20_drift_correlation(configs: list[ConfigDiff], telemetry: list[TelemetryDiff],
                                       model_summary: str) -> None:
    comparison = ProfileComparison(profile_a_id="a", profile_b_id="b", thresholds=ComparisonThresholds(),
                                   config_diffs=configs, telemetry_diffs=telemetry, version_diffs=[])
    correlations = correlate_config_changes(comparison)
    regressed = [d.metric for d in telemetry if d.direction == "regressed"]
    assert bool(correlations) is bool(configs and regressed)
    snap = SignalSnapshot(observed_at=AT, primary=PrimarySignals(state_transitions_per_sec=10, backlog_age_sec=1))
    ev = evaluate(MachineState(), snap)
    workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
    ctx = AssessmentContext(trigger=AssessmentTrigger.STATE_CHANGE, evaluation=ev, workers=workers,
                            services=service_health(ev, workers), snapshot=snap, correlations=correlations)
    # Whatever the explainer wrote, the explanation names every correlated change and regression.
    assessment = finalize_assessment(ctx, Explanation(summary=model_summary), workflow_id="w", sequence=1,
                                     assessed_at=AT, explained_by="llm")
    for diff in configs if regressed else []:
        assert f"{diff.section}:{diff.key}" in assessment.summary
        assert all(metric in assessment.summary for metric in regressed)


@st.composite
def profile_and_bounds(draw: st.DrawFn) -> tuple[TelemetrySummary, list[TelemetryBound]]:
    ids = draw(st.lists(st.sampled_from(SCALAR_IDS + PER_SERVICE_IDS), min_size=1, max_size=8, unique=True))
    summary = TelemetrySummary()
    bounds = []
    for metric_id in ids:
        low = draw(st.floats(0, 500))
        high = low + draw(st.floats(0, 500))
        bounds.append(TelemetryBound(metric=metric_id, lower=low, upper=high))
        keys = [f"{metric_id}.{s}" for s in SERVICES] if metric_id in PER_SERVICE_IDS else [metric_id]
        for key in keys:
            if draw(st.booleans()) or draw(st.booleans()):
                summary.set(key, _agg(draw(st.floats(0, 1200))))
    return summary, bounds


# Property 21: Preset conformance assessment.
@settings(max_examples=300)
@given(data=profile_and_bounds())
def test_property_21_preset_conformance(data: tuple[TelemetrySummary, list[TelemetryBound]]) -> None:
    telemetry, bounds = data
    report = assess_conformance("mid-scale", telemetry, bounds)
    by_bound = {b.metric: b for b in bounds}
    for result in report.metrics:
        bound = by_bound[result.metric] if result.metric in by_bound else by_bound[result.metric.rsplit(".", 1)[0]]
        agg = telemetry.get(result.metric)
        expected = agg is not None and bound.lower <= agg.mean <= bound.upper
        assert result.passed is expected
    assert (report.label == "conforming") is all(r.passed for r in report.metrics)
    expected_rows = sum(len(SERVICES) if b.metric in PER_SERVICE_IDS else 1 for b in bounds)
    assert len(report.metrics) == expected_rows


secret_values = st.one_of(
    st.from_regex(r"AKIA[A-Z0-9]{16}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9/+]{40}", fullmatch=True),
    st.from_regex(r"[a-z]{3,10}\.[a-z]{2,8}@[a-z]{3,10}\.(com|org|io)", fullmatch=True),
    st.from_regex(r"eyJ[A-Za-z0-9_-]{8,20}\.[A-Za-z0-9_-]{8,20}\.[A-Za-z0-9_-]{8,20}", fullmatch=True),
    # ASCII digits: an IPv4 address has no other (ipaddress rejects "10.0.0.\u0660"), and redaction's
    # RE2 classes are ASCII (issue 19); `\d` here also drew Arabic-Indic digits.
    st.from_regex(r"(10|192|172)\.[0-9]{1,2}\.[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True),
)
leak_templates = st.sampled_from([
    "connect failed password={}", "user {} logged in", "Authorization: Bearer {}", "aws_secret_access_key = {}",
    "postgres://admin:{}@db.internal:5432/x", "token: {}", "api_key={} rejected", "peer {} refused connection",
])


# Property: no secret or PII reaches the LLM prompt (Requirement 4.9).
@settings(max_examples=500)
@given(secret=secret_values, template=leak_templates, where=st.sampled_from(["log", "pattern", "knowledge"]))
def test_property_no_secrets_in_prompt(secret: str, template: str, where: str) -> None:
    assume(len(secret) >= 7)
    text = template.format(secret)
    snap = SignalSnapshot(observed_at=AT, primary=PrimarySignals(state_transitions_per_sec=10, backlog_age_sec=1))
    ev = evaluate(MachineState(), snap)
    workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
    ctx = AssessmentContext(
        trigger=AssessmentTrigger.LOG_PATTERN, evaluation=ev, workers=workers, services=service_health(ev, workers),
        snapshot=snap,
        log_samples=[text] if where == "log" else [],
        log_patterns=[LogPatternCount(pattern=text, service="history", count=3)] if where == "pattern" else [],
        knowledge=[KnowledgeChunk(text=text, source="docs/x.md")] if where == "knowledge" else [])
    prompt = build_prompt(ctx)
    assert secret not in prompt
    assert secret not in redact(text)
