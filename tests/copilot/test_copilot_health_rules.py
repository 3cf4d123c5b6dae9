"""Concrete trajectories through the health state machine and worker rules."""

from __future__ import annotations

import re

import pytest

from behaviour_profiles.telemetry import PrometheusClient
from copilot.exceptions import UnknownPresetError, UnknownThresholdError
from copilot.health import (
    Bottleneck,
    HealthState,
    MachineConfig,
    MachineState,
    ScaleBand,
    WorkerRule,
    assess_workers,
    band_for_preset,
    band_for_profile,
    evaluate,
    service_health,
    thresholds_for,
)
from copilot.health.thresholds import BAND_LOWER_BOUNDS, PRESET_BANDS, SLO_TARGET_KEY
from copilot.metrics import collect_signals, signal_promql
from copilot.signals import (
    SIGNAL_TAXONOMY,
    AmplifierSignals,
    PrimarySignals,
    SignalSnapshot,
    WorkerSignals,
    snapshot_from_metric_values,
)
from standins.scenarios import ScenarioPrometheus

AT = "2026-11-22T12:00:00Z"
MID = MachineState(band=ScaleBand.MID)


def snap(st: float = 120.0, backlog: float = 2.0, *, p99: float = 20.0, done: float = 20.0, failed: float = 0.0,
         worker: WorkerSignals | None = None) -> SignalSnapshot:
    return SignalSnapshot(
        observed_at=AT,
        primary=PrimarySignals(state_transitions_per_sec=st, history_tasks_per_sec=st, backlog_age_sec=backlog,
                               workflow_completions_per_sec=done, workflow_failures_per_sec=failed),
        amplifiers=AmplifierSignals(persistence_latency_p99_ms=p99),
        worker=worker or WorkerSignals(),
    )


def run(states: MachineState, *snapshots: SignalSnapshot, config: MachineConfig | None = None) -> list[HealthState]:
    out = []
    for s in snapshots:
        result = evaluate(states, s, config)
        states = result.current
        out.append(result.state)
    return out


def test_healthy_progress_is_happy() -> None:
    result = evaluate(MID, snap())
    assert result.state is HealthState.HAPPY and result.gates == []


def test_idle_cluster_is_happy_not_critical() -> None:
    result = evaluate(MID, snap(st=0.0, backlog=0.0, done=0.0))
    assert result.idle and result.state is HealthState.HAPPY


def test_high_latency_alone_is_stressed_not_critical() -> None:
    states = run(MID, *[snap(p99=5000.0)] * 6)
    assert states == [HealthState.STRESSED] * 6


def test_stall_goes_through_stressed_and_is_debounced() -> None:
    stalled = snap(st=1.0, backlog=400.0)
    assert run(MID, *[stalled] * 4) == [HealthState.STRESSED, HealthState.STRESSED,
                                       HealthState.CRITICAL, HealthState.CRITICAL]


def test_recovery_uses_hysteresis_and_passes_through_stressed() -> None:
    critical = MachineState(state=HealthState.CRITICAL, band=ScaleBand.MID, consecutive_critical=3)
    # Throughput just over the critical floor (3/s) but under 1.5x: still Critical.
    barely = snap(st=60.0, backlog=250.0)
    assert evaluate(critical, barely).state is HealthState.CRITICAL
    assert run(critical, snap(), snap()) == [HealthState.STRESSED, HealthState.HAPPY]


def test_transition_logs_contributing_signals() -> None:
    result = evaluate(MID, snap(backlog=90.0))
    assert result.transition is not None
    assert result.transition.signals == {"backlog_age_sec": 90.0}
    text = result.transition.describe()
    # Plain words with units, each said once (issue 21: the copilot speaks plainly).
    assert "90 s" in text and "backlog_age_sec" not in text and "=" not in text
    assert text.count("90 s") == 1


def test_runtime_threshold_override_changes_the_decision() -> None:
    config = MachineConfig(threshold_overrides={"stressed_persistence_latency_p99_ms": 10.0})
    assert evaluate(MID, snap(p99=20.0), config).state is HealthState.STRESSED
    with pytest.raises(UnknownThresholdError) as info:
        MachineConfig(threshold_overrides={"nope": 1.0}).thresholds(ScaleBand.MID)
    assert info.value.field == "thresholds" and "stressed_backlog_age_sec" in (info.value.allowed or [])


def test_band_lower_bounds_are_the_presets_throughput_ranges() -> None:
    from dsql_config.presets import PRESETS

    for preset, band in PRESET_BANDS.items():
        assert BAND_LOWER_BOUNDS[band] == pytest.approx(PRESETS[preset].throughput_range.min_st_per_sec, abs=0.01)


def test_band_comes_from_the_compiled_profile_slo() -> None:
    from dsql_config import ConfigCompiler

    compiler = ConfigCompiler()
    for preset, band in PRESET_BANDS.items():
        assert band_for_profile(compiler.compile(preset, sdk="none", platform="none").profile) is band
    # An SLO override moves the band as the compiled values say, whatever the preset is called.
    raised = compiler.compile("mid-scale", overrides={SLO_TARGET_KEY: 800}, sdk="none", platform="none").profile
    assert raised.preset_name == "mid-scale" and band_for_profile(raised) is ScaleBand.HIGH


def test_band_from_preset_and_unknown_preset() -> None:
    assert band_for_preset("high-throughput") is ScaleBand.HIGH
    with pytest.raises(UnknownPresetError) as info:
        band_for_preset("huge")
    assert info.value.allowed == ["high-throughput", "mid-scale", "starter"]


def test_worker_limited_rules() -> None:
    worker = WorkerSignals(workflow_slots_available=0, workflow_schedule_to_start_p99_ms=400,
                           sticky_cache_hit_ratio=0.2, worker_count=4)
    result = assess_workers(HealthState.STRESSED, snap(worker=worker), thresholds_for(ScaleBand.MID))
    assert result.bottleneck is Bottleneck.WORKER_LIMITED
    assert not result.scale_down_allowed
    rules = {a.rule for a in result.advice}
    assert {WorkerRule.NEVER_SCALE_DOWN_AT_ZERO_SLOTS, WorkerRule.STICKY_QUEUE_CAUTION,
            WorkerRule.RESTART_TO_REDISTRIBUTE, WorkerRule.SCALE_UP_WORKERS} <= rules


def test_mixed_and_server_critical() -> None:
    worker = WorkerSignals(workflow_schedule_to_start_p99_ms=400)
    s = snap(backlog=90.0, worker=worker)
    assert assess_workers(HealthState.STRESSED, s, thresholds_for(ScaleBand.MID)).bottleneck is Bottleneck.MIXED
    crit = assess_workers(HealthState.CRITICAL, s, thresholds_for(ScaleBand.MID))
    assert crit.bottleneck is Bottleneck.SERVER_LIMITED and not crit.evaluated and crit.advice == []


def test_services_name_the_implicated_service() -> None:
    result = evaluate(MID, snap(p99=900.0))
    by_name = {s.service: s.state for s in service_health(result)}
    assert by_name["persistence"] is HealthState.STRESSED and by_name["history"] is HealthState.HAPPY


def test_snapshot_from_metric_values_scales_units() -> None:
    s = snapshot_from_metric_values(AT, {"matching.backlog_age": 4500.0, "throughput.state_transitions_per_sec": 9.0,
                                         "unknown.metric": 1.0})
    assert s.primary.backlog_age_sec == pytest.approx(4.5)
    assert s.metric_values()["matching.backlog_age"] == pytest.approx(4500.0)
    assert len({spec.field for spec in SIGNAL_TAXONOMY}) == len(SIGNAL_TAXONOMY)


# Signals whose metrics have no namespace label: persistence, the DSQL pool and shards are shared.
_CLUSTER_WIDE = {"persistence_latency_p99_ms", "occ_conflicts_per_sec", "persistence_errors_per_sec",
                 "pool_utilization", "reservoir_size", "shard_churn_per_sec"}
_NOT_METRICS = {"by", "without", "on", "ignoring"}


def _selectors(promql: str) -> list[str]:
    """Every vector selector (metric name plus its matchers) of a query, by a small scan."""
    text = re.sub(r"\[[^\]]*\]|\b(?:by|without)\s*\([^)]*\)", "", promql)  # range windows, grouping
    found: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "{":  # matchers of a selector already taken
            i = text.index("}", i) + 1
            continue
        m = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").match(text, i)
        if m is None or (i > 0 and (text[i - 1].isalnum() or text[i - 1] in "._")):
            i += 1
            continue
        rest = text[m.end():].lstrip()
        if not rest.startswith("(") and m.group(0) not in _NOT_METRICS:
            matchers = rest[:rest.index("}") + 1] if rest.startswith("{") else ""
            found.append(m.group(0) + matchers)
        i = m.end()
    return found


def test_every_per_namespace_signal_is_scoped_to_the_namespace() -> None:
    """Completions and failures come from the same namespace: another namespace's failures cannot make
    the completion ratio collapse (nor its workers, polls or latency speak for this one)."""
    assert {spec.field for spec in SIGNAL_TAXONOMY} > _CLUSTER_WIDE
    for spec in SIGNAL_TAXONOMY:
        query = signal_promql(spec, "default")
        selectors = _selectors(query)
        assert selectors, query
        for selector in selectors:
            if spec.field in _CLUSTER_WIDE:
                assert "namespace=" not in selector, (spec.field, selector)
            else:
                assert 'namespace="default"' in selector, (spec.field, selector)
        # Unscoped, no placeholder or namespace matcher is left behind.
        unscoped = signal_promql(spec)
        assert "<scope>" not in unscoped and 'namespace="' not in unscoped, unscoped
    failures = next(s for s in SIGNAL_TAXONOMY if s.field == "workflow_failures_per_sec")
    assert 'namespace="a\\"b"' in signal_promql(failures, 'a"b')  # label values are escaped


def test_activity_schedule_to_start_is_worker_pressure() -> None:
    """Activity workers that cannot keep up make the bottleneck worker-limited (it was collected but ignored)."""
    mid = thresholds_for(ScaleBand.MID)
    slow = assess_workers(HealthState.STRESSED, snap(worker=WorkerSignals(activity_schedule_to_start_p99_ms=2000.0,
                                                                          workflow_schedule_to_start_p99_ms=10.0)), mid)
    assert slow.bottleneck is Bottleneck.WORKER_LIMITED
    assert slow.worker_pressure == ["activity tasks wait 2,000 ms (p99) for a worker (healthy: under 500 ms)"]
    assert WorkerRule.SCALE_UP_WORKERS in {a.rule for a in slow.advice}
    quick = assess_workers(HealthState.HAPPY, snap(worker=WorkerSignals(activity_schedule_to_start_p99_ms=100.0)), mid)
    assert quick.bottleneck is Bottleneck.HEALTHY
    # Overridable at runtime like every threshold.
    strict = thresholds_for(ScaleBand.MID, {"worker_activity_schedule_to_start_p99_ms": 50.0})
    assert assess_workers(HealthState.HAPPY, snap(worker=WorkerSignals(activity_schedule_to_start_p99_ms=100.0)),
                          strict).bottleneck is Bottleneck.WORKER_LIMITED


def test_failing_long_polls_are_called_out_without_blaming_worker_capacity() -> None:
    mid = thresholds_for(ScaleBand.MID)
    worker = WorkerSignals(long_poll_failures_per_sec=2.0, long_poll_latency_p99_ms=61000.0, workflow_slots_available=10)
    result = assess_workers(HealthState.STRESSED, snap(worker=worker), mid)
    assert result.bottleneck is Bottleneck.HEALTHY and result.worker_pressure == []
    failing = [a for a in result.advice if a.rule is WorkerRule.LONG_POLLS_FAILING]
    assert len(failing) == 1 and "2/s" in failing[0].message and "61,000 ms" in failing[0].message
    calm = assess_workers(HealthState.HAPPY, snap(worker=WorkerSignals(long_poll_failures_per_sec=0.0)), mid)
    assert WorkerRule.LONG_POLLS_FAILING not in {a.rule for a in calm.advice}


def test_sticky_cache_size_and_long_poll_signals_are_collected() -> None:
    """Requirement 14.1 (temporal_sticky_cache_size) and 14.6 (long-poll latency and failures)."""
    by_field = {spec.field: spec for spec in SIGNAL_TAXONOMY}
    assert "temporal_sticky_cache_size" in signal_promql(by_field["sticky_cache_size"], "default")
    assert "temporal_long_request_latency_bucket" in signal_promql(by_field["long_poll_latency_p99_ms"])
    assert "temporal_long_request_failure_total" in signal_promql(by_field["long_poll_failures_per_sec"])
    s = snapshot_from_metric_values(AT, {"copilot.sticky_cache_size": 340.0, "copilot.long_poll_latency_p99": 120.0,
                                         "copilot.long_poll_failures_per_sec": 0.5})
    assert (s.worker.sticky_cache_size, s.worker.long_poll_latency_p99_ms, s.worker.long_poll_failures_per_sec) == \
        (340.0, 120.0, 0.5)
    low_hits = WorkerSignals(sticky_cache_hit_ratio=0.2, worker_count=4, sticky_cache_size=340)
    restart = [a for a in assess_workers(HealthState.HAPPY, snap(worker=low_hits), thresholds_for(ScaleBand.MID)).advice
               if a.rule is WorkerRule.RESTART_TO_REDISTRIBUTE]
    assert restart and "340 workflows cached" in restart[0].message


async def test_every_signal_query_is_valid_promql_on_prometheus(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    """Scoped to a namespace, every signal (the new worker ones included) is accepted by a real Prometheus."""
    window = prometheus_with_scenarios.windows["healthy-150wps"]
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as client:
        snapshot = await collect_signals(client, window.start + (window.end - window.start) * 0.5, namespace="default")
    assert snapshot.failed_queries == []
    assert snapshot.primary.state_transitions_per_sec and snapshot.primary.state_transitions_per_sec > 0
    assert snapshot.worker.long_poll_failures_per_sec == 0.0  # no series: no failures (an event counter)
