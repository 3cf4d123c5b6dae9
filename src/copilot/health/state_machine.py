"""The health state machine: pure, deterministic, anchored to forward progress.

"Is the cluster making forward progress on workflows?" is the only question that decides the
state. Critical gates all measure impaired progress (no progress while work waits, backlog age
beyond its limit, workflows mostly failing); amplifiers (latency, OCC conflicts, pool pressure,
shard churn) can make the cluster Stressed but never Critical on their own.

Transitions follow the canonical graph Happy <-> Stressed <-> Critical: Happy never jumps to
Critical and Critical never jumps to Happy. Critical needs ``critical_debounce`` consecutive
critical evaluations; leaving Critical needs progress back above ``recovery_factor`` times the
critical floors (hysteresis).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from operator import attrgetter
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.health.thresholds import (
    _BAND_RANK,
    THRESHOLD_PROFILES,
    BandThresholds,
    ScaleBand,
    next_band,
    thresholds_for,
)
from copilot.signals import SignalSnapshot

__all__ = [
    "Evaluation",
    "GateResult",
    "GateSeverity",
    "HealthState",
    "MachineConfig",
    "MachineState",
    "Transition",
    "evaluate",
]


class HealthState(StrEnum):
    HAPPY = "happy"
    STRESSED = "stressed"
    CRITICAL = "critical"

    @property
    def severity(self) -> int:
        return {"happy": 0, "stressed": 1, "critical": 2}[self.value]


class GateSeverity(StrEnum):
    CRITICAL = "critical"
    STRESSED = "stressed"


@dataclass(slots=True, unsafe_hash=True)
class GateResult:
    """A rule that fired: which signal, its value, the threshold and which service it implicates.

    A slotted dataclass rather than a model: gates are built on the hot path of every evaluation;
    pydantic still validates and serialises them inside Evaluation. Not ``frozen``: a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, five times the cost of
    the whole construction here, and the machine never changes a gate after building it
    (``unsafe_hash`` keeps gates hashable by value, as they were).
    """

    gate: str
    severity: GateSeverity
    signal: str
    value: float
    threshold: str
    limit: float
    service: str

    def describe(self) -> str:
        return f"{self.signal}={self.value:g} vs {self.threshold}={self.limit:g}"


class MachineConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    critical_debounce: int = Field(default=3, ge=1)
    recovery_factor: float = Field(default=1.5, ge=1.0)
    band_hysteresis: float = Field(default=0.1, ge=0.0, lt=1.0)
    threshold_overrides: Mapping[str, float] = Field(default_factory=dict)

    def thresholds(self, band: ScaleBand) -> BandThresholds:
        return thresholds_for(band, self.threshold_overrides)


@dataclass(frozen=True, slots=True)
class MachineState:
    """What the machine remembers between evaluations.

    Slotted dataclasses (this, Transition, Evaluation) keep the evaluation itself cheap; pydantic
    validates and serialises them wherever they are fields of a model (workflow inputs, the store).
    """

    state: HealthState = HealthState.HAPPY
    band: ScaleBand = ScaleBand.STARTER
    consecutive_critical: Annotated[int, Field(ge=0)] = 0


@dataclass(frozen=True, slots=True)
class Transition:
    from_state: HealthState
    to_state: HealthState
    at: str
    reason: str
    signals: dict[str, float]

    def describe(self) -> str:
        return f"{self.from_state.value} -> {self.to_state.value}: {self.reason}"


@dataclass(slots=True)
class Evaluation:
    """One step's outcome. Not ``frozen``, like GateResult and for the same reason (one is built per
    evaluation); nothing changes it after ``evaluate`` returns, and its ``gates`` list made it
    unhashable anyway."""

    previous: MachineState
    current: MachineState
    gates: list[GateResult]
    idle: bool
    data_missing: bool
    transition: Transition | None
    reason: str

    @property
    def state(self) -> HealthState:
        return self.current.state


def _is_idle(snapshot: SignalSnapshot, t: BandThresholds) -> bool:
    """No demand: little throughput, nothing waiting, nothing failing. Low throughput is then fine."""
    p, a = snapshot.primary, snapshot.amplifiers
    st = p.state_transitions_per_sec or 0.0
    return (
        st < t.critical_state_transitions_min_per_sec
        and (p.backlog_age_sec or 0.0) <= t.healthy_backlog_age_sec
        and (p.workflow_failures_per_sec or 0.0) < 0.1
        and (a.persistence_errors_per_sec or 0.0) < 0.1
    )


def _critical_gates(s: SignalSnapshot, t: BandThresholds, gates: list[GateResult]) -> None:
    # Hot path (every cycle): plain comparisons and positional GateResults, in gate order.
    p = s.primary
    backlog = p.backlog_age_sec
    c = GateSeverity.CRITICAL
    if backlog is not None and backlog > t.healthy_backlog_age_sec:  # demand: work is waiting
        st = p.state_transitions_per_sec
        if st is not None and st < t.critical_state_transitions_min_per_sec:
            gates.append(GateResult("no_progress_with_backlog", c, "state_transitions_per_sec", st,
                                    "critical_state_transitions_min_per_sec",
                                    t.critical_state_transitions_min_per_sec, "history"))
        ht = p.history_tasks_per_sec
        if ht is not None and ht < t.critical_history_tasks_min_per_sec:
            gates.append(GateResult("history_processing_stalled", c, "history_tasks_per_sec", ht,
                                    "critical_history_tasks_min_per_sec", t.critical_history_tasks_min_per_sec,
                                    "history"))
        if backlog > t.critical_backlog_age_max_sec:
            gates.append(GateResult("backlog_age_exceeded", c, "backlog_age_sec", backlog,
                                    "critical_backlog_age_max_sec", t.critical_backlog_age_max_sec, "history"))
    done, failed = p.workflow_completions_per_sec, p.workflow_failures_per_sec
    if done is not None and failed is not None and done + failed > 0:  # p.completion_ratio is not None
        ratio = done / (done + failed)
        if done + failed >= t.critical_completion_demand_floor_per_sec and ratio < t.critical_completion_ratio_min:
            gates.append(GateResult("completions_collapsed", c, "completion_ratio", ratio,
                                    "critical_completion_ratio_min", t.critical_completion_ratio_min, "history"))


# (gate, signal group, signal, threshold field, service, only when the cluster is busy)
_STRESSED_GATES: tuple[tuple[str, str, str, str, str, bool], ...] = (
    ("backlog_growing", "primary", "backlog_age_sec", "stressed_backlog_age_sec", "history", False),
    ("persistence_slow", "amplifiers", "persistence_latency_p99_ms", "stressed_persistence_latency_p99_ms",
     "persistence", False),
    ("occ_contention", "amplifiers", "occ_conflicts_per_sec", "stressed_occ_conflicts_per_sec", "persistence", False),
    ("persistence_errors", "amplifiers", "persistence_errors_per_sec", "stressed_persistence_errors_per_sec",
     "persistence", False),
    ("pool_saturated", "amplifiers", "pool_utilization", "stressed_pool_utilization", "persistence", False),
    ("shard_churn", "amplifiers", "shard_churn_per_sec", "stressed_shard_churn_per_sec", "history", False),
    # Frontend latency and empty polls are normal on an idle cluster (long polls time out).
    ("frontend_slow", "amplifiers", "frontend_latency_p99_ms", "stressed_frontend_latency_p99_ms", "frontend", True),
    ("poll_timeouts", "amplifiers", "poll_timeout_ratio", "stressed_poll_timeout_ratio", "matching", True),
)


def _fields_getter(names: tuple[str, ...]) -> Callable[[object], tuple[Any, ...]]:
    """One C-level call reading several attributes as a tuple (attrgetter of one name is a scalar)."""
    if len(names) == 1:
        name = names[0]
        return lambda obj: (getattr(obj, name),)
    return attrgetter(*names)


# The stressed gates read as two tuples (signals, limits) and walked with zip: per evaluation that
# is a few C calls instead of a getattr per signal and per threshold.
_PRIMARY_COUNT = sum(group == "primary" for _, group, *_ in _STRESSED_GATES)
assert all(group == "primary" for _, group, *_ in _STRESSED_GATES[:_PRIMARY_COUNT]), "primary gates first"
_STRESSED_PRIMARY = _fields_getter(tuple(signal for _, _, signal, *_ in _STRESSED_GATES[:_PRIMARY_COUNT]))
_STRESSED_AMPLIFIERS = _fields_getter(tuple(signal for _, _, signal, *_ in _STRESSED_GATES[_PRIMARY_COUNT:]))
_STRESSED_LIMITS = _fields_getter(tuple(threshold for _, _, _, threshold, *_ in _STRESSED_GATES))
# The bands' own thresholds (no overrides), keyed by identity; each entry holds its object, so the
# id cannot be reused by another while the entry exists.
_BAND_LIMITS = {id(t): (t, _STRESSED_LIMITS(t)) for t in THRESHOLD_PROFILES.values()}


def _stressed_gates(s: SignalSnapshot, t: BandThresholds, idle: bool, gates: list[GateResult]) -> None:
    values = _STRESSED_PRIMARY(s.primary) + _STRESSED_AMPLIFIERS(s.amplifiers)
    known = _BAND_LIMITS.get(id(t))
    limits = known[1] if known is not None and known[0] is t else _STRESSED_LIMITS(t)  # else: overrides
    stressed = GateSeverity.STRESSED
    for (gate, _, signal, threshold, service, busy_only), value, limit in zip(
            _STRESSED_GATES, values, limits, strict=True):
        if value is not None and value > limit and not (busy_only and idle):
            gates.append(GateResult(gate, stressed, signal, value, threshold, limit, service))


def _happy_shortfalls(s: SignalSnapshot, t: BandThresholds, idle: bool) -> list[str]:
    """Why the cluster, free of stressed gates, is still not Happy (empty list: it is Happy)."""
    if idle:
        return []
    p = s.primary
    missing: list[str] = []
    st = p.state_transitions_per_sec or 0.0
    if st < t.healthy_state_transitions_per_sec:
        missing.append(f"state_transitions_per_sec={st:g} < healthy {t.healthy_state_transitions_per_sec:g}")
    if (p.backlog_age_sec or 0.0) > t.healthy_backlog_age_sec:
        missing.append(f"backlog_age_sec={p.backlog_age_sec:g} > healthy {t.healthy_backlog_age_sec:g}")
    ratio = p.completion_ratio
    if ratio is not None and p.terminal_per_sec >= 1.0 and ratio < t.healthy_completion_ratio:
        missing.append(f"completion_ratio={ratio:.2f} < healthy {t.healthy_completion_ratio:g}")
    return missing


def _recovered(s: SignalSnapshot, t: BandThresholds, factor: float, idle: bool) -> bool:
    """Hysteresis for leaving Critical: progress clearly back, not just over the line."""
    if idle:
        return True
    p = s.primary
    st = p.state_transitions_per_sec or 0.0
    backlog = p.backlog_age_sec or 0.0
    if st < t.critical_state_transitions_min_per_sec * factor:
        return False
    return backlog <= t.critical_backlog_age_max_sec / factor


_DEFAULT_CONFIG = MachineConfig()


def evaluate(previous: MachineState, snapshot: SignalSnapshot, config: MachineConfig | None = None) -> Evaluation:
    """One deterministic step: the same inputs always give the same Evaluation."""
    cfg = config or _DEFAULT_CONFIG
    # Without overrides a band's thresholds are the shared constants: no call per lookup.
    thresholds = THRESHOLD_PROFILES.__getitem__ if not cfg.threshold_overrides else cfg.thresholds
    st = snapshot.primary.state_transitions_per_sec
    band = next_band(previous.band, st, cfg.band_hysteresis)
    backlog = snapshot.primary.backlog_age_sec
    if band is not previous.band and _BAND_RANK[band] < _BAND_RANK[previous.band] and (
            backlog is None or backlog > thresholds(previous.band).healthy_backlog_age_sec):
        # Throughput fell while work waits: that is lost progress, not lower demand. Keep the
        # band, or a stall would loosen its own thresholds.
        band = previous.band
    t = thresholds(band)

    if st is None or backlog is None:
        # Without the progress signals nothing can be decided: hold the state (Requirement 1.5).
        current = replace(previous, band=band)
        return Evaluation(previous, current, [], False, True, None, "primary signals unavailable; state held")

    idle = _is_idle(snapshot, t)
    gates: list[GateResult] = []
    _critical_gates(snapshot, t, gates)
    critical = gates[:]  # the critical gates are exactly those appended first
    _stressed_gates(snapshot, t, idle, gates)
    shortfalls = _happy_shortfalls(snapshot, t, idle)

    consecutive = previous.consecutive_critical + 1 if critical else 0
    if critical:
        if previous.state is HealthState.HAPPY:
            target, reason = HealthState.STRESSED, "progress impaired; Stressed first (never Happy -> Critical)"
        elif consecutive >= cfg.critical_debounce:
            target, reason = HealthState.CRITICAL, "progress impaired for " f"{consecutive} consecutive evaluations"
        else:
            target = HealthState.STRESSED
            reason = f"progress impaired ({consecutive}/{cfg.critical_debounce} evaluations before Critical)"
        reason += ": " + "; ".join(g.describe() for g in critical)
    elif previous.state is HealthState.CRITICAL and not _recovered(snapshot, t, cfg.recovery_factor, idle):
        target, reason = HealthState.CRITICAL, "progress not yet clearly recovered (hysteresis)"
    elif gates or shortfalls:
        target = HealthState.STRESSED
        reason = "progress continues under pressure: " + "; ".join(
            [g.describe() for g in gates] + shortfalls)
    elif previous.state is HealthState.CRITICAL:
        target, reason = HealthState.STRESSED, "progress recovered; Stressed first (never Critical -> Happy)"
    else:
        target, reason = HealthState.HAPPY, "idle: no demand" if idle else "forward progress healthy"

    if target is previous.state and band is previous.band and consecutive == previous.consecutive_critical:
        current = previous  # immutable and equal: no new object
    else:
        current = MachineState(target, band, consecutive)
    transition = None
    if target is not previous.state:
        contributing = {g.signal: g.value for g in gates}
        if not contributing:
            contributing = dict(snapshot.primary.observed())
        transition = Transition(previous.state, target, snapshot.observed_at, reason, contributing)
    return Evaluation(previous, current, gates, idle, False, transition, reason)
