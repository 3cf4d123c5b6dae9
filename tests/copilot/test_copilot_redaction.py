"""Regressions from the reliability secrets property (LLM side): leaks it found in the explainer input."""

from __future__ import annotations

from whenever import Instant

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
    ScaleBand,
    assess_workers,
    evaluate,
    service_health,
    thresholds_for,
)
from temporal_dsql_copilot.loop.drift import correlate_config_changes
from temporal_dsql_copilot.narrative.patterns import Correlation
from temporal_dsql_copilot.signals import LogPatternCount, PrimarySignals, SignalSnapshot
from temporal_dsql_core.metric_catalog import MetricGroup
from temporal_dsql_profiles.models import ComparisonThresholds, ConfigDiff, ProfileComparison, TelemetryDiff


def test_common_secret_names_the_profile_registry_knows_are_redacted_in_free_text() -> None:
    # The copilot's own word list missed these; the registry's name rule (is_secret_name) has them.
    for line in ("DB_PASS=hunter2hunter2", 'cfg {"SSH_KEY": "hunter2hunter2"}', "TEMPORAL_TLS_KEY: hunter2hunter2",
                 "apiKey=hunter2hunter2"):
        assert "hunter2hunter2" not in redact(line), line
    assert redact("history_shards=512") == "history_shards=512"  # names that are not secrets stay readable


def test_a_bearer_token_with_punctuation_is_redacted_whole() -> None:
    assert "defghijk" not in redact("Authorization: Bearer abc!defghijk")


def test_config_correlations_carry_no_secret_values() -> None:
    comparison = ProfileComparison(
        profile_a_id="a", profile_b_id="b", thresholds=ComparisonThresholds(), version_diffs=[],
        config_diffs=[ConfigDiff(section="server_env", key="DB_PASS", change="changed", old_value="old-pass-1",
                                 new_value="new-pass-2"),
                      ConfigDiff(section="server_env", key="NUM_HISTORY_SHARDS", change="changed", old_value=4,
                                 new_value=8)],
        telemetry_diffs=[TelemetryDiff(metric="persistence_latency_p99", group=MetricGroup.LATENCY, unit="ms",
                                       old_value=None, new_value=None, change_pct=80.0, direction="regressed",
                                       severity="critical")])
    sentences = [c.sentence() for c in correlate_config_changes(comparison)]
    assert "old-pass-1" not in str(sentences) and "new-pass-2" not in str(sentences)
    assert "4 -> 8" in sentences[1]  # ordinary settings keep their values


def test_log_correlation_patterns_are_redacted_in_the_prompt() -> None:
    snap = SignalSnapshot(observed_at=Instant.now().format_iso(), primary=PrimarySignals(state_transitions_per_sec=1))
    ev = evaluate(MachineState(band=ScaleBand.MID), snap)
    workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
    line = "dial postgresql://admin:s3cr3tpass@db:5432/t failed"
    ctx = AssessmentContext(trigger=AssessmentTrigger.STATE_CHANGE, evaluation=ev, workers=workers,
                            services=service_health(ev, workers), snapshot=snap,
                            log_correlations=[Correlation(anomaly_at=snap.observed_at, anomaly="p99 up", pattern=line,
                                                          service="history", count=2, distance_seconds=5.0)])
    assert "s3cr3tpass" not in build_prompt(ctx)


def test_stored_assessment_log_patterns_are_redacted() -> None:
    snap = SignalSnapshot(observed_at=Instant.now().format_iso(), primary=PrimarySignals(state_transitions_per_sec=1))
    ev = evaluate(MachineState(band=ScaleBand.MID), snap)
    workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
    ctx = AssessmentContext(trigger=AssessmentTrigger.STATE_CHANGE, evaluation=ev, workers=workers,
                            services=service_health(ev, workers), snapshot=snap,
                            log_patterns=[LogPatternCount(pattern="login DB_PASS=s3cr3tpass", service="history",
                                                          count=2)])
    stored = finalize_assessment(ctx, Explanation(summary="s"), workflow_id="wf", sequence=1,
                                 assessed_at=snap.observed_at, explained_by="rules")
    assert "s3cr3tpass" not in stored.model_dump_json() and stored.log_patterns[0].count == 2
