"""Concrete trajectories through the health state machine and worker rules."""

from __future__ import annotations

import re
from typing import Any

import pytest

from temporal_dsql_copilot.exceptions import UnknownPresetError, UnknownThresholdError
from temporal_dsql_copilot.health import (
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
from temporal_dsql_copilot.health.thresholds import BAND_LOWER_BOUNDS, PRESET_BANDS, SLO_TARGET_KEY
from temporal_dsql_copilot.metrics import collect_signals, signal_promql
from temporal_dsql_copilot.signals import (
    SIGNAL_TAXONOMY,
    AmplifierSignals,
    PrimarySignals,
    SignalSnapshot,
    WorkerSignals,
    snapshot_from_metric_values,
)
from temporal_dsql_profiles.telemetry import PrometheusClient
from temporal_dsql_standins.scenarios import ScenarioPrometheus

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
    from temporal_dsql_config.presets import PRESETS

    for preset, band in PRESET_BANDS.items():
        assert BAND_LOWER_BOUNDS[band] == pytest.approx(PRESETS[preset].throughput_range.min_st_per_sec, abs=0.01)


def test_band_comes_from_the_compiled_profile_slo() -> None:
    from temporal_dsql_config import ConfigCompiler

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
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", snapshot.observed_at)  # second precision
    assert snapshot.primary.state_transitions_per_sec and snapshot.primary.state_transitions_per_sec > 0
    assert snapshot.worker.long_poll_failures_per_sec == 0.0  # no series: no failures (an event counter)


# --- issue 23: the verdicts the issue found wrong, each against the requirement it cites -----------

def _demand(st: float = 300.0, backlog: float = 0.2, *, starts: float = 100.0, done: float = 100.0,
            pollers: float | None = 4.0, p99: float = 20.0, frontend: float = 40.0, polls_empty: float = 0.2,
            errors: float = 0.0, pool: float = 0.4) -> SignalSnapshot:
    return SignalSnapshot(
        observed_at=AT,
        primary=PrimarySignals(workflow_starts_per_sec=starts, state_transitions_per_sec=st, history_tasks_per_sec=st,
                               workflow_completions_per_sec=done, workflow_failures_per_sec=0.0,
                               backlog_age_sec=backlog),
        amplifiers=AmplifierSignals(persistence_latency_p99_ms=p99, frontend_latency_p99_ms=frontend,
                                    poll_timeout_ratio=polls_empty, persistence_errors_per_sec=errors,
                                    pool_utilization=pool),
        worker=WorkerSignals(pollers=pollers, workflow_slots_available=None if pollers is None else 50.0))


def _replay(*snapshots: SignalSnapshot, band: ScaleBand = ScaleBand.MID) -> list[tuple[Any, Any, list[Any]]]:
    """(evaluation, worker assessment, rule actions) per cycle, as the observe loop and assessment decide."""
    from temporal_dsql_copilot.assessment import (
        AssessmentContext,
        AssessmentTrigger,
        guard_actions,
        rule_based_explanation,
    )
    from temporal_dsql_copilot.health import decide

    state, out = MachineState(band=band), []
    for s in snapshots:
        d = decide(state, s, MachineConfig())
        ctx = AssessmentContext(trigger=AssessmentTrigger.SCHEDULED, evaluation=d.evaluation, workers=d.workers,
                                services=d.services, snapshot=s)
        out.append((d.evaluation, d.workers, guard_actions(rule_based_explanation(ctx).suggested_actions, ctx)))
        state = d.evaluation.current
    return out


def _classes(actions: list[Any]) -> set[str]:
    return {f"{a.action_type.value} {a.target_service}" for a in actions}


def test_workers_gone_is_worker_limited_and_critical_within_three_cycles() -> None:
    """R14.2, R4.1, R12.1: every poller gone, 0 completions, starts arriving, the oldest task ageing 30 s a
    cycle. Was: Happy at cycle 3, Critical only at cycle 15, 'Scale out history'."""
    healthy = [_demand()] * 3
    gone = [_demand(st=100.0, backlog=30.0 * (i + 1), done=0.0, pollers=0.0) for i in range(4)]
    cycles = _replay(*healthy, *gone)
    states = [ev.state for ev, _, _ in cycles]
    assert states == [HealthState.HAPPY] * 3 + [HealthState.STRESSED] * 2 + [HealthState.CRITICAL] * 2
    for ev, workers, actions in cycles[3:]:
        assert workers.bottleneck is Bottleneck.WORKER_LIMITED and workers.evaluated
        assert "no worker is polling the task queue" in ev.reason
        assert "scale worker" in _classes(actions) and not _classes(actions) & {"scale history", "scale frontend"}


def test_a_vanished_poller_series_counts_as_workers_gone() -> None:
    gone = [_demand(st=100.0, backlog=30.0 * (i + 1), done=0.0, pollers=None) for i in range(3)]
    cycles = _replay(_demand(), *gone)
    assert cycles[-1][0].state is HealthState.CRITICAL and cycles[-1][1].bottleneck is Bottleneck.WORKER_LIMITED
    assert "poller series disappeared" in cycles[-1][0].reason


def test_high_latency_with_impaired_progress_is_critical() -> None:
    """R12.4: p99 3 s while state transitions fall 97 % and demand holds. Was: Stressed for 12 cycles."""
    cycles = _replay(*[_demand()] * 4, *[_demand(st=9.0, done=3.0, p99=3000.0)] * 4)
    assert [ev.state for ev, _, _ in cycles[4:]] == [HealthState.STRESSED, HealthState.STRESSED,
                                                       HealthState.CRITICAL, HealthState.CRITICAL]
    assert "3,000 ms" in cycles[-1][0].reason and "9/s" in cycles[-1][0].reason
    # Latency alone, with progress intact, stays Stressed (R12.4's other half).
    assert {ev.state for ev, _, _ in _replay(*[_demand(p99=3000.0)] * 6)} == {HealthState.STRESSED}


def test_a_total_stop_is_not_read_as_idle() -> None:
    """R4.1: a total stop with requests arriving and the oldest task under 30 s at the first stopped sample.
    Was: 'healthy forward progress (idle: no demand)', the band dropping to starter, checks switched off."""
    stop = [_demand(st=0.0, backlog=12.0 * (i + 1), done=0.0, frontend=5000.0, polls_empty=0.99) for i in range(4)]
    cycles = _replay(*[_demand()] * 3, *stop)
    first = cycles[3][0]
    assert not first.idle and first.state is HealthState.STRESSED and "Idle" not in first.reason
    assert all(ev.current.band is ScaleBand.MID for ev, _, _ in cycles)  # the limits do not loosen
    assert {"frontend_slow", "poll_timeouts"} <= {g.gate for g in first.gates}  # the checks stay on
    assert cycles[-1][0].state is HealthState.CRITICAL
    for _, _, actions in cycles[3:]:  # no "Reduce idle pollers", no "Scale out frontend"
        assert not _classes(actions) & {"configure worker", "scale frontend", "alert matching"}


@pytest.mark.parametrize("rate", [20.0, 5.0, 1.0])
def test_a_quiet_night_is_not_pressure(rate: float) -> None:
    """R1.7: at 20, 5 or 1 transitions/s with mostly empty polls. Was: Stressed."""
    quiet = _demand(st=rate, starts=rate / 3, done=rate / 3, polls_empty=0.95)
    assert {ev.state for ev, _, _ in _replay(*[quiet] * 6)} == {HealthState.HAPPY}


def test_a_steady_10_per_second_with_empty_polls_stays_happy() -> None:
    """R1.7: a steady 10/s with 90 % empty polls. Was: Stressed indefinitely."""
    steady = _demand(st=10.0, starts=3.3, done=3.3, polls_empty=0.9)
    assert {ev.state for ev, _, _ in _replay(*[steady] * 20)} == {HealthState.HAPPY}


def test_idle_needs_no_arriving_and_no_waiting_work() -> None:
    assert _replay(_demand(st=0.0, starts=0.0, done=0.0, backlog=0.0))[0][0].idle
    assert not _replay(_demand(st=0.0, starts=5.0, done=0.0, backlog=0.0))[0][0].idle  # arriving
    assert not _replay(_demand(st=0.0, starts=0.0, done=0.0, backlog=10.0))[0][0].idle  # waiting


def test_a_dsql_outage_does_not_suggest_a_bigger_pool() -> None:
    """Actions fit the diagnosis: during a DSQL outage, connectivity first, not 'Raise the DSQL pool'."""
    outage = [_demand(st=0.5, backlog=10.0 * (i + 1), done=0.0, p99=5000.0, errors=50.0, pool=1.0) for i in range(4)]
    cycles = _replay(*[_demand()] * 3, *outage)
    assert cycles[-1][0].state is HealthState.CRITICAL and cycles[-1][1].bottleneck is Bottleneck.SERVER_LIMITED
    for _, _, actions in cycles[3:]:
        assert "alert persistence" in _classes(actions)
        assert not any("pool" in a.description.lower() for a in actions)


def test_every_rule_cites_its_requirement_clause() -> None:
    from temporal_dsql_copilot.assessment.rules import GATE_ACTIONS
    from temporal_dsql_copilot.health import CRITICAL_GATE_CLAUSES, STRESSED_GATE_CLAUSES

    clauses = {**CRITICAL_GATE_CLAUSES, **STRESSED_GATE_CLAUSES}
    assert set(clauses) == set(GATE_ACTIONS)
    assert all(re.fullmatch(r"R\d+\.\d+(, R\d+\.\d+)*", c) for c in clauses.values())
    from temporal_dsql_copilot.health import WORKER_RULE_CLAUSES

    assert set(WORKER_RULE_CLAUSES) == set(WorkerRule)
    assert all(re.fullmatch(r"R\d+\.\d+(, R\d+\.\d+)*", c) for c in WORKER_RULE_CLAUSES.values())
    fired = _replay(*[_demand()] * 3, *[_demand(st=0.0, backlog=20.0 * (i + 1), done=0.0, p99=900.0)
                                        for i in range(3)])[-1][0].gates
    assert fired and all(g.clause == clauses[g.gate] for g in fired)
