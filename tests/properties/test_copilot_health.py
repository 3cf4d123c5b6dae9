"""Hypothesis properties of the copilot's health rules (state machine, bands, worker health)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.health import (
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
from copilot.health.thresholds import BAND_LOWER_BOUNDS
from copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot, WorkerSignals

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
