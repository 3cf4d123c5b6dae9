"""Hypothesis properties of the copilot's health rules (state machine, bands, worker health)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from temporal_dsql_copilot.health import (
    BandThresholds,
    Bottleneck,
    HealthState,
    MachineConfig,
    MachineState,
    ScaleBand,
    WorkerRule,
    assess_workers,
    evaluate,
    next_band,
    service_health,
    thresholds_for,
)
from temporal_dsql_copilot.health.thresholds import BAND_LOWER_BOUNDS
from temporal_dsql_copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot, WorkerSignals

AT = "2026-11-22T12:00:00Z"


def _opt(strategy: st.SearchStrategy[float]) -> st.SearchStrategy[float | None]:
    return st.one_of(st.none(), strategy)


rate = st.floats(min_value=0, max_value=5000, allow_nan=False)
small_rate = st.floats(min_value=0, max_value=100, allow_nan=False)
age = st.floats(min_value=0, max_value=2000, allow_nan=False)
ms = st.floats(min_value=0, max_value=20000, allow_nan=False)
ratio = st.floats(min_value=0, max_value=1, allow_nan=False)
count = st.sampled_from([0.0, 1.0, 2.0, 4.0, 16.0, 100.0])

primaries = st.builds(
    PrimarySignals, workflow_starts_per_sec=_opt(small_rate), state_transitions_per_sec=_opt(rate), workflow_completions_per_sec=_opt(small_rate),
    workflow_failures_per_sec=_opt(small_rate), history_tasks_per_sec=_opt(rate), backlog_age_sec=_opt(age),
)
amplifiers = st.builds(
    AmplifierSignals, persistence_latency_p99_ms=_opt(ms), occ_conflicts_per_sec=_opt(small_rate),
    persistence_errors_per_sec=_opt(small_rate), pool_utilization=_opt(ratio), reservoir_size=_opt(count),
    shard_churn_per_sec=_opt(small_rate), frontend_latency_p99_ms=_opt(ms), poll_timeout_ratio=_opt(ratio),
)
workers = st.builds(
    WorkerSignals, workflow_schedule_to_start_p99_ms=_opt(ms), activity_schedule_to_start_p99_ms=_opt(ms),
    workflow_slots_available=_opt(count), activity_slots_available=_opt(count), workflow_slots_used=_opt(count),
    pollers=_opt(count), sticky_cache_hit_ratio=_opt(ratio), worker_count=_opt(count),
)
snapshots = st.builds(SignalSnapshot, observed_at=st.just(AT), primary=primaries, amplifiers=amplifiers,
                      worker=workers)
machine_states = st.builds(MachineState, state=st.sampled_from(list(HealthState)),
                           band=st.sampled_from(list(ScaleBand)), consecutive_critical=st.integers(0, 10),
                           recent_transitions_per_sec=_opt(rate), recent_starts_per_sec=_opt(small_rate),
                           last_backlog_age_sec=_opt(age), pollers_seen=st.booleans())
configs = st.builds(MachineConfig, critical_debounce=st.integers(1, 5),
                    recovery_factor=st.floats(1.0, 3.0), band_hysteresis=st.floats(0.0, 0.5))

FORBIDDEN = {(HealthState.HAPPY, HealthState.CRITICAL), (HealthState.CRITICAL, HealthState.HAPPY)}


# Property: never Happy -> Critical (Requirement 12.3), and never Critical -> Happy (12.2).
@settings(max_examples=600)
@given(start=machine_states, trajectory=st.lists(snapshots, min_size=1, max_size=12), config=configs)
def test_property_never_happy_to_critical(start: MachineState, trajectory: list[SignalSnapshot],
                                          config: MachineConfig) -> None:
    state = start
    for snapshot in trajectory:
        result = evaluate(state, snapshot, config)
        assert (state.state, result.state) not in FORBIDDEN
        state = result.current


# Property: determinism: the same inputs give the same evaluation (Requirement 12.5).
@settings(max_examples=200)
@given(previous=machine_states, snapshot=snapshots, config=configs)
def test_property_state_machine_is_deterministic(previous: MachineState, snapshot: SignalSnapshot,
                                                 config: MachineConfig) -> None:
    assert evaluate(previous, snapshot, config) == evaluate(previous, snapshot, config)


# Property: Critical needs `critical_debounce` consecutive critical evaluations.
@settings(max_examples=300)
@given(trajectory=st.lists(snapshots, min_size=1, max_size=12), config=configs, band=st.sampled_from(list(ScaleBand)))
def test_property_critical_is_debounced(trajectory: list[SignalSnapshot], config: MachineConfig,
                                        band: ScaleBand) -> None:
    state = MachineState(band=band)
    for snapshot in trajectory:
        result = evaluate(state, snapshot, config)
        if result.state is HealthState.CRITICAL and state.state is not HealthState.CRITICAL:
            assert result.current.consecutive_critical >= config.critical_debounce
        state = result.current


# Property: progress decides (Requirement 12.4, "high latency alone does not make the system
# Critical"): with progress clearly healthy (at the recent throughput, nothing waiting), no
# amplifier value makes it Critical.
@settings(max_examples=300)
@given(previous=machine_states, amps=amplifiers, wk=workers, config=configs, data=st.data())
def test_property_amplifiers_alone_never_critical(previous: MachineState, amps: AmplifierSignals,
                                                  wk: WorkerSignals, config: MachineConfig, data: st.DataObject) -> None:
    band = next_band(previous.band, None, config.band_hysteresis)
    t = thresholds_for(band)
    # Throughput that keeps the band where it is, so the thresholds above are the ones applied.
    low = {ScaleBand.STARTER: 1.0, ScaleBand.MID: 60.0, ScaleBand.HIGH: 600.0}[band]
    ceiling = {ScaleBand.STARTER: 45.0, ScaleBand.MID: 450.0, ScaleBand.HIGH: 5000.0}[band]
    st_value = data.draw(st.floats(min_value=low, max_value=ceiling))
    starts = st_value / 3
    primary = PrimarySignals(
        workflow_starts_per_sec=starts, state_transitions_per_sec=st_value, history_tasks_per_sec=st_value,
        workflow_completions_per_sec=data.draw(st.floats(1, 100)), workflow_failures_per_sec=0.0,
        backlog_age_sec=data.draw(st.floats(0, t.waiting_backlog_age_sec)),
    )
    # The cluster has been running at this throughput and demand: nothing has fallen.
    previous = replace(previous, recent_transitions_per_sec=st_value, recent_starts_per_sec=starts)
    snapshot = SignalSnapshot(observed_at=AT, primary=primary, amplifiers=amps, worker=wk)
    assert evaluate(previous, snapshot, config).state is not HealthState.CRITICAL


# Property: every transition is logged with a reason and the signals that caused it.
@settings(max_examples=300)
@given(previous=machine_states, snapshot=snapshots, config=configs)
def test_property_transitions_carry_signals(previous: MachineState, snapshot: SignalSnapshot,
                                            config: MachineConfig) -> None:
    result = evaluate(previous, snapshot, config)
    if result.state is not previous.state:
        assert result.transition is not None
        assert result.transition.reason and result.transition.signals
        assert result.transition.from_state is previous.state and result.transition.to_state is result.state
    else:
        assert result.transition is None


# Property: missing progress signals hold the state (an outage never looks like an idle cluster).
@settings(max_examples=200)
@given(previous=machine_states, snapshot=snapshots)
def test_property_missing_progress_holds_state(previous: MachineState, snapshot: SignalSnapshot) -> None:
    blind = snapshot.model_copy(update={"primary": snapshot.primary.model_copy(
        update={"state_transitions_per_sec": None})})
    result = evaluate(previous, blind)
    assert result.data_missing and result.state is previous.state


# Property: band hysteresis: a band reached is stable under the same throughput, and throughput
# within the hysteresis margin of a boundary never moves the band.
@settings(max_examples=300)
@given(band=st.sampled_from(list(ScaleBand)), st_value=rate, h=st.floats(0.01, 0.5))
def test_property_band_hysteresis(band: ScaleBand, st_value: float, h: float) -> None:
    moved = next_band(band, st_value, h)
    assert next_band(moved, st_value, h) == moved
    for boundary in (50.0, 500.0):
        if boundary * (1 - h) <= st_value < boundary * (1 + h):
            assert (BAND_LOWER_BOUNDS[moved] >= boundary) == (BAND_LOWER_BOUNDS[band] >= boundary)


# Property: worker health is evaluated after server health and scale-down is never allowed at 0 slots.
@settings(max_examples=300)
@given(state=st.sampled_from(list(HealthState)), snapshot=snapshots, band=st.sampled_from(list(ScaleBand)))
def test_property_worker_rules(state: HealthState, snapshot: SignalSnapshot, band: ScaleBand) -> None:
    t: BandThresholds = thresholds_for(band)
    result = assess_workers(state, snapshot, t)
    zero = snapshot.worker.workflow_slots_available == 0 or snapshot.worker.activity_slots_available == 0
    assert result.scale_down_allowed is (not zero)
    if state is HealthState.CRITICAL:  # no gates given: nothing says the workers caused it
        assert not result.evaluated and result.advice == [] and result.bottleneck is Bottleneck.SERVER_LIMITED
    else:
        assert result.evaluated
        assert (result.bottleneck in (Bottleneck.WORKER_LIMITED, Bottleneck.MIXED)) is bool(result.worker_pressure)
        assert (result.bottleneck in (Bottleneck.SERVER_LIMITED, Bottleneck.MIXED)) is bool(result.server_pressure)
        if zero:
            assert WorkerRule.NEVER_SCALE_DOWN_AT_ZERO_SLOTS in {a.rule for a in result.advice}


# Property: /status/services comes from the same evaluation and is never worse than the overall state.
@settings(max_examples=200)
@given(previous=machine_states, snapshot=snapshots)
def test_property_services_agree_with_overall(previous: MachineState, snapshot: SignalSnapshot) -> None:
    result = evaluate(previous, snapshot)
    services = service_health(result, assess_workers(result.state, snapshot, thresholds_for(result.current.band)))
    assert all(s.state.severity <= result.state.severity for s in services)
    if result.state is HealthState.HAPPY:
        assert all(s.state is HealthState.HAPPY for s in services)


# --- issue 23: progress judged against demand, stops, workers, R12.4, empty polls -----------------

bands = st.sampled_from(list(ScaleBand))
debounced_configs = st.builds(MachineConfig, critical_debounce=st.integers(1, 5), recovery_factor=st.floats(1.0, 3.0),
                              band_hysteresis=st.floats(0.0, 0.5))


def _at(i: int) -> str:
    return f"2026-11-22T12:{i // 2:02d}:{30 * (i % 2):02d}Z"


# Property (issue 23, R4.1): idle means no arriving and no waiting work.
@settings(max_examples=400)
@given(previous=machine_states, snapshot=snapshots)
def test_property_idle_means_nothing_arrives_and_nothing_waits(previous: MachineState,
                                                                snapshot: SignalSnapshot) -> None:
    result = evaluate(previous, snapshot)
    if result.idle:
        t = thresholds_for(previous.band)
        p = snapshot.primary
        assert p.backlog_age_sec is not None and p.backlog_age_sec <= t.waiting_backlog_age_sec
        if p.workflow_starts_per_sec is not None:
            assert p.workflow_starts_per_sec <= t.arriving_starts_per_sec
        else:
            assert (p.state_transitions_per_sec or 0.0) <= t.stopped_progress_per_sec


# Property (issue 23, R4.1): zero progress while work arrives or waits is a stop: never idle, never Happy.
@settings(max_examples=300)
@given(previous=machine_states, starts=st.floats(0.5, 1000), backlog=st.floats(0, 2000),
       arriving=st.booleans(), amps=amplifiers, wk=workers)
def test_property_a_stop_is_never_idle_nor_happy(previous: MachineState, starts: float, backlog: float,
                                                 arriving: bool, amps: AmplifierSignals, wk: WorkerSignals) -> None:
    waiting_floor = thresholds_for(previous.band).waiting_backlog_age_sec
    if not arriving:
        starts, backlog = 0.0, backlog + waiting_floor + 0.1  # nothing arrives: work waits instead
    snapshot = SignalSnapshot(observed_at=AT, primary=PrimarySignals(
        workflow_starts_per_sec=starts, state_transitions_per_sec=0.0, history_tasks_per_sec=0.0,
        workflow_completions_per_sec=0.0, workflow_failures_per_sec=0.0, backlog_age_sec=backlog),
        amplifiers=amps, worker=wk)
    result = evaluate(previous, snapshot)
    assert not result.idle and result.state is not HealthState.HAPPY
    assert any(g.gate == "progress_stopped" for g in result.gates)


def _cycles_to_critical(config: MachineConfig) -> int:
    # Stressed always comes first (R12.3), so a Happy cluster needs at least two evaluations.
    return max(config.critical_debounce, 2)


# Property (issue 23, R4.1 + R12.3): a sustained stop reaches Critical through Stressed, within
# max(critical_debounce, 2) cycles of a Happy cluster, and stays there while the stop lasts.
@settings(max_examples=200)
@given(band=bands, config=debounced_configs, starts=st.floats(1, 500), extra=st.integers(0, 4))
def test_property_a_sustained_stop_reaches_critical_through_stressed(band: ScaleBand, config: MachineConfig,
                                                                      starts: float, extra: int) -> None:
    state = MachineState(band=band)
    states = []
    for i in range(_cycles_to_critical(config) + extra):
        snapshot = SignalSnapshot(observed_at=_at(i), primary=PrimarySignals(
            workflow_starts_per_sec=starts, state_transitions_per_sec=0.0, history_tasks_per_sec=0.0,
            workflow_completions_per_sec=0.0, workflow_failures_per_sec=0.0, backlog_age_sec=10.0 + 30 * i))
        result = evaluate(state, snapshot, config)
        states.append(result.state)
        state = result.current
    n = _cycles_to_critical(config)
    assert states[0] is HealthState.STRESSED
    assert states[n - 1:] == [HealthState.CRITICAL] * (len(states) - n + 1)
    assert HealthState.HAPPY not in states


# Property (issue 23, R14.2): missing or zero pollers with a growing backlog is worker-limited, reaches
# Critical through Stressed within max(critical_debounce, 2) cycles, and names the workers.
@settings(max_examples=200)
@given(band=bands, config=debounced_configs, starts=st.floats(1, 500), vanished=st.booleans(),
       transitions=st.floats(0, 2000), growth=st.floats(1, 60))
def test_property_workers_gone_is_worker_limited_and_critical(band: ScaleBand, config: MachineConfig, starts: float,
                                                             vanished: bool, transitions: float,
                                                             growth: float) -> None:
    state = MachineState(band=band, pollers_seen=True)
    result = None
    for i in range(_cycles_to_critical(config)):
        snapshot = SignalSnapshot(observed_at=_at(i), primary=PrimarySignals(
            workflow_starts_per_sec=starts, state_transitions_per_sec=transitions, history_tasks_per_sec=transitions,
            workflow_completions_per_sec=0.0, workflow_failures_per_sec=0.0, backlog_age_sec=6.0 + growth * i),
            worker=WorkerSignals(pollers=None if vanished else 0.0))
        result = evaluate(state, snapshot, config)
        workers = assess_workers(result.state, snapshot, thresholds_for(result.current.band), result.gates)
        assert workers.bottleneck is Bottleneck.WORKER_LIMITED
        assert WorkerRule.RESTORE_WORKERS in {a.rule for a in workers.advice}
        assert result.state is (HealthState.STRESSED if i < _cycles_to_critical(config) - 1 else HealthState.CRITICAL)
        state = result.current
    assert result is not None
    services = {s.service: s for s in service_health(result)}
    assert services["worker"].state is HealthState.CRITICAL
    assert any("worker" in reason for reason in services["worker"].reasons)


# Property (R12.4): high latency WITH impaired progress is Critical. After steady progress at a
# throughput the band can judge, progress below half of it at the same demand, with any persistence
# latency, reaches Critical through Stressed.
@settings(max_examples=200)
@given(band=bands, config=debounced_configs, data=st.data(), p99=st.floats(200, 20000))
def test_property_high_latency_with_impaired_progress_is_critical(band: ScaleBand, config: MachineConfig,
                                                                  data: st.DataObject, p99: float) -> None:
    low, high = {ScaleBand.STARTER: (5.0, 45.0), ScaleBand.MID: (60.0, 450.0), ScaleBand.HIGH: (600.0, 5000.0)}[band]
    recent = data.draw(st.floats(low, high))
    starts = recent / 3
    fallen = data.draw(st.floats(0.001, 0.49)) * recent
    state = MachineState(band=band, recent_transitions_per_sec=recent, recent_starts_per_sec=starts)
    states = []
    for i in range(_cycles_to_critical(config)):
        snapshot = SignalSnapshot(observed_at=_at(i), primary=PrimarySignals(
            workflow_starts_per_sec=starts, state_transitions_per_sec=fallen, history_tasks_per_sec=fallen,
            workflow_completions_per_sec=fallen / 3, workflow_failures_per_sec=0.0, backlog_age_sec=1.0),
            amplifiers=AmplifierSignals(persistence_latency_p99_ms=p99))
        result = evaluate(state, snapshot, config)
        states.append(result.state)
        state = result.current
    assert states[0] is HealthState.STRESSED and states[-1] is HealthState.CRITICAL


# Property (R1.7, R12.1): throughput that falls with demand is not impaired progress.
@settings(max_examples=300)
@given(previous=machine_states, factor=st.floats(0.001, 1.0), recent=st.floats(1, 5000))
def test_property_throughput_falling_with_demand_is_not_impaired(previous: MachineState, factor: float,
                                                                 recent: float) -> None:
    previous = replace(previous, recent_transitions_per_sec=recent, recent_starts_per_sec=recent / 3)
    snapshot = SignalSnapshot(observed_at=AT, primary=PrimarySignals(
        workflow_starts_per_sec=recent / 3 * factor, state_transitions_per_sec=recent * factor,
        history_tasks_per_sec=recent * factor, workflow_completions_per_sec=recent / 3 * factor,
        workflow_failures_per_sec=0.0, backlog_age_sec=0.5))
    assert "progress_below_demand" not in {g.gate for g in evaluate(previous, snapshot).gates}


# Property (R1.7): empty polls while nothing waits are not pressure: the poll-timeout ratio, whatever
# its value, changes nothing in the evaluation.
@settings(max_examples=300)
@given(previous=machine_states, snapshot=snapshots, ratio_value=ratio)
def test_property_empty_polls_without_waiting_work_are_not_pressure(previous: MachineState, snapshot: SignalSnapshot,
                                                                    ratio_value: float) -> None:
    backlog = min(snapshot.primary.backlog_age_sec or 0.0, thresholds_for(previous.band).waiting_backlog_age_sec)
    base = snapshot.model_copy(update={"primary": snapshot.primary.model_copy(update={"backlog_age_sec": backlog})})
    quiet = base.model_copy(update={"amplifiers": base.amplifiers.model_copy(update={"poll_timeout_ratio": 0.0})})
    empty = base.model_copy(update={"amplifiers": base.amplifiers.model_copy(
        update={"poll_timeout_ratio": ratio_value})})
    a, b = evaluate(previous, quiet), evaluate(previous, empty)
    assert (a.state, [g.gate for g in a.gates]) == (b.state, [g.gate for g in b.gates])
