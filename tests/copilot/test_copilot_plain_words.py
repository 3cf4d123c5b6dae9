"""The copilot speaks plainly (issue 21, deliverable 4): sentences with units, no variable names, no
sentence said twice, timestamps at second precision everywhere, bands named as the deployment."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from whenever import Instant

from temporal_dsql_copilot.assessment import AssessmentContext, AssessmentTrigger, rule_based_explanation
from temporal_dsql_copilot.health import MachineConfig, MachineState, ScaleBand, decide
from temporal_dsql_copilot.health.thresholds import PRESET_BANDS
from temporal_dsql_copilot.narrative import detect_patterns
from temporal_dsql_copilot.narrative.base import LogRecord
from temporal_dsql_copilot.signals import (
    SIGNAL_TAXONOMY,
    AmplifierSignals,
    PrimarySignals,
    SignalSnapshot,
    WorkerSignals,
)
from temporal_dsql_core.instants import format_instant, second_precision

AT = "2026-11-22T12:00:00Z"
_FIELDS = re.compile(r"\b(" + "|".join(sorted({s.field for s in SIGNAL_TAXONOMY if "_" in s.field}, key=len,
                                              reverse=True)) + r")\b")


def _opt(strategy: st.SearchStrategy[float]) -> st.SearchStrategy[float | None]:
    return st.one_of(st.none(), strategy)


rates, ages, ms, ratios = (st.floats(0, 3000), st.floats(0, 1500), st.floats(0, 20000), st.floats(0, 1))
snapshots = st.builds(
    SignalSnapshot, observed_at=st.just(AT),
    primary=st.builds(PrimarySignals, workflow_starts_per_sec=_opt(rates), state_transitions_per_sec=_opt(rates),
                      workflow_completions_per_sec=_opt(rates), workflow_failures_per_sec=_opt(rates),
                      history_tasks_per_sec=_opt(rates), backlog_age_sec=_opt(ages)),
    amplifiers=st.builds(AmplifierSignals, persistence_latency_p99_ms=_opt(ms), occ_conflicts_per_sec=_opt(rates),
                         persistence_errors_per_sec=_opt(rates), pool_utilization=_opt(ratios),
                         shard_churn_per_sec=_opt(rates), frontend_latency_p99_ms=_opt(ms),
                         poll_timeout_ratio=_opt(ratios)),
    worker=st.builds(WorkerSignals, workflow_schedule_to_start_p99_ms=_opt(ms),
                     activity_schedule_to_start_p99_ms=_opt(ms), workflow_slots_available=_opt(st.sampled_from([0.0, 5.0])),
                     activity_slots_available=_opt(st.sampled_from([0.0, 5.0])), pollers=_opt(st.sampled_from([0.0, 4.0])),
                     sticky_cache_hit_ratio=_opt(ratios), worker_count=_opt(st.sampled_from([1.0, 4.0])),
                     long_poll_failures_per_sec=_opt(rates)))
states = st.builds(MachineState, band=st.sampled_from(list(ScaleBand)), consecutive_critical=st.integers(0, 4),
                   recent_transitions_per_sec=_opt(rates), recent_starts_per_sec=_opt(rates),
                   last_backlog_age_sec=_opt(ages), pollers_seen=st.booleans())


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.;])\s+", text) if s.strip()]


# Property (issue 21): whatever the signals, the reason, the explanation and the worker advice are
# plain words: no signal field name, no "name=value", and no sentence said twice.
@settings(max_examples=300)
@given(previous=states, trajectory=st.lists(snapshots, min_size=1, max_size=4))
def test_property_the_rules_speak_plainly(previous: MachineState, trajectory: list[SignalSnapshot]) -> None:
    state = previous
    for snapshot in trajectory:
        d = decide(state, snapshot, MachineConfig())
        ctx = AssessmentContext(trigger=AssessmentTrigger.SCHEDULED, evaluation=d.evaluation, workers=d.workers,
                                services=d.services, snapshot=snapshot)
        explanation = rule_based_explanation(ctx)
        texts = [d.evaluation.reason, explanation.summary, *(f.detail for f in explanation.factors),
                 *(a.message for a in d.workers.advice), *d.workers.worker_pressure, *d.workers.server_pressure,
                 *(r for s in d.services for r in s.reasons)]
        for text in texts:
            assert _FIELDS.search(text) is None, text
            assert not re.search(r"\w=\d", text), text
        said = _sentences(explanation.summary)
        assert len(said) == len(set(said)), explanation.summary
        state = d.evaluation.current


def test_timestamps_are_at_second_precision() -> None:
    now = Instant.from_utc(2026, 11, 22, 12, 0, 5, nanosecond=987_654_321)
    assert format_instant(now) == "2026-11-22T12:00:05Z"
    assert second_precision("2026-11-22T13:00:05.123456+01:00") == "2026-11-22T12:00:05Z"
    patterns = detect_patterns([
        LogRecord(timestamp="2026-11-22T12:00:05.123456789Z", service="history",
                  message="ERROR: change conflicts with another transaction (SQLSTATE 40001)"),
        LogRecord(timestamp="2026-11-22T12:00:09.5Z", service="history",
                  message="ERROR: change conflicts with another transaction (SQLSTATE 40001)")])
    assert (patterns[0].first_seen, patterns[0].last_seen) == ("2026-11-22T12:00:05Z", "2026-11-22T12:00:09Z")


def test_bands_are_named_as_the_deployment_names_them() -> None:
    assert {band.preset_name for band in ScaleBand} == set(PRESET_BANDS)
    assert all(PRESET_BANDS[band.preset_name] is band for band in ScaleBand)
