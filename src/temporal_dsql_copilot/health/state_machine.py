"""The health state machine: pure, deterministic, anchored to forward progress.

"Is the cluster making forward progress on workflows?" is the only question that decides the
state (Requirement 12.1). Progress is judged against demand and recent throughput, not only fixed
floors (Requirement 1.7):

- *idle*: no work arriving (workflow starts) and none waiting (backlog age): low throughput is then
  fine;
- *stopped*: work arriving or waiting while nothing moves, or waiting while nothing completes. A
  stop is never idle;
- *impaired*: progress below half of what recent throughput calls for at the present demand (the
  workflow starts, relative to the starts of that recent throughput), or the oldest waiting task
  ageing as fast as the clock (nobody serves it), or the backlog past its limit, or most finished
  workflows failing;
- *workers gone*: no workflow-task poller (zero, or the series vanished after being seen) while
  work arrives or waits: impaired progress whose cause is the workers (Requirement 14.2).

Impaired or stopped progress makes the cluster Critical (Requirement 4.1), through Stressed
(12.3) after ``critical_debounce`` consecutive evaluations; amplifiers (latency, OCC conflicts,
pool pressure, shard churn) alone only make it Stressed (12.2, 12.4), and high latency with
impaired progress is Critical because the progress is impaired (12.4). Leaving Critical needs
progress clearly back (``recovery_factor``, hysteresis) and goes through Stressed (12.2).

Each rule names the requirement clause it implements in ``GateResult.clause``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from temporal_dsql_copilot.health.thresholds import (
    _BAND_RANK,
    THRESHOLD_PROFILES,
    BandThresholds,
    ScaleBand,
    next_band,
    thresholds_for,
)
from temporal_dsql_copilot.health.wording import _per_sec, _s, label, quantity
from temporal_dsql_copilot.signals import SignalSnapshot

__all__ = [
    "CRITICAL_GATE_CLAUSES",
    "STRESSED_GATE_CLAUSES",
    "Evaluation",
    "GateResult",
    "GateSeverity",
    "HealthState",
    "MachineConfig",
    "MachineState",
    "Progress",
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
    sentence: str = ""
    """What the rule saw, in plain words with units (empty: built from signal, value and limit)."""
    clause: str = ""
    """The requirement clause the rule implements (e.g. "R12.4")."""

    def describe(self) -> str:
        if self.sentence:
            return self.sentence
        return f"{label(self.signal)} at {quantity(self.signal, self.value)}, above the " \
               f"{quantity(self.signal, self.limit)} limit"


# The clause each rule implements (the eval and the README cite them).
CRITICAL_GATE_CLAUSES: Mapping[str, str] = {
    "workers_absent": "R14.2, R4.1",
    "progress_stopped": "R4.1, R12.1",
    "progress_below_demand": "R12.1, R12.4, R1.7",
    "backlog_unserved": "R1.3, R4.1",
    "backlog_age_exceeded": "R1.3, R4.1",
    "completions_collapsed": "R1.3, R4.1",
}
STRESSED_GATE_CLAUSES: Mapping[str, str] = {
    "backlog_growing": "R1.3, R12.2",
    "persistence_slow": "R1.4, R12.2, R12.4",
    "occ_contention": "R1.4, R12.2",
    "persistence_errors": "R1.4, R12.2",
    "pool_saturated": "R1.4, R12.2",
    "shard_churn": "R1.4, R12.2",
    "frontend_slow": "R12.2, R12.4",
    "poll_timeouts": "R14.6, R1.7",
    "workers_saturated": "R14.4, R14.6, R12.2",
}


class MachineConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    critical_debounce: int = Field(default=3, ge=1)
    recovery_factor: float = Field(default=1.5, ge=1.0)
    band_hysteresis: float = Field(default=0.1, ge=0.0, lt=1.0)
    interval_seconds: float = Field(default=30.0, gt=0)
    """Time between evaluations (Requirement 1.1): how much an unserved task ages per cycle."""
    recent_weight: float = Field(default=0.3, gt=0, le=1)
    """Weight of the newest healthy cycle in the recent-throughput memory (an exponential average)."""
    threshold_overrides: Mapping[str, float] = Field(default_factory=dict)

    def thresholds(self, band: ScaleBand) -> BandThresholds:
        return thresholds_for(band, self.threshold_overrides)


@dataclass(slots=True, unsafe_hash=True)
class MachineState:
    """What the machine remembers between evaluations.

    Besides the state, band and debounce count: recent throughput and the demand it served
    (exponential averages over cycles whose progress was not impaired, so a stall cannot lower the
    bar it is judged against), the last backlog age (is the oldest task ageing unserved?) and
    whether pollers were ever seen (a poller series that vanishes means the workers are gone).

    Slotted dataclasses (this, Transition, Evaluation) keep the evaluation itself cheap; pydantic
    validates and serialises them wherever they are fields of a model (workflow inputs, the store).
    Not ``frozen`` (a new one is built every evaluation, and a frozen dataclass's ``__init__`` sets
    each of its seven fields through ``object.__setattr__``); nothing changes one after it is built,
    and ``unsafe_hash`` keeps it hashable by value.
    """

    state: HealthState = HealthState.HAPPY
    band: ScaleBand = ScaleBand.STARTER
    consecutive_critical: Annotated[int, Field(ge=0)] = 0
    recent_transitions_per_sec: float | None = None
    recent_starts_per_sec: float | None = None
    last_backlog_age_sec: float | None = None
    pollers_seen: bool = False


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
class Progress:
    """The progress facts of one evaluation: demand, movement and what recent throughput expects."""

    arriving: bool
    waiting: bool
    idle: bool
    stopped: bool
    impaired: bool
    workers_gone: bool
    unserved: bool
    expected_transitions_per_sec: float | None


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

    @property
    def worker_caused(self) -> bool:
        """Progress is impaired because of the workers (a critical rule implicates them)."""
        return any(g.severity is GateSeverity.CRITICAL and g.service == "worker" for g in self.gates)


def _expected(previous: MachineState, starts: float | None, waiting: bool) -> float | None:
    """What recent throughput calls for at the present demand (None: nothing to judge against)."""
    recent = previous.recent_transitions_per_sec
    if recent is None or recent <= 0:
        return None
    recent_starts = previous.recent_starts_per_sec
    if starts is not None and recent_starts:
        return recent * min(1.0, starts / recent_starts)
    # Without a demand signal a drop is only judged while work waits (demand is then evident).
    return recent if waiting else None


def _progress(previous: MachineState, s: SignalSnapshot, t: BandThresholds, cfg: MachineConfig,
              st: float, backlog: float) -> Progress:
    p, w = s.primary, s.worker
    starts = p.workflow_starts_per_sec
    stopped_floor = t.stopped_progress_per_sec
    # Idle means no arriving and no waiting work; without a starts signal, no throughput stands in
    # for "nothing arrives" (older deployments do not export starts).
    arriving = starts > t.arriving_starts_per_sec if starts is not None else st > stopped_floor
    waiting = backlog > t.waiting_backlog_age_sec
    done, failed = p.workflow_completions_per_sec, p.workflow_failures_per_sec
    nothing_completes = done is not None and failed is not None and done + failed <= stopped_floor
    history = p.history_tasks_per_sec
    nothing_moves = st <= stopped_floor or (history is not None and history <= stopped_floor)
    # R4.1: a stop is work arriving or waiting while nothing moves, or waiting while nothing
    # completes. It is never idle (the "total stop read as idle").
    stopped = (arriving or waiting) and (nothing_moves or (waiting and nothing_completes))
    last = previous.last_backlog_age_sec
    unserved = waiting and last is not None and \
        backlog - last >= t.unserved_backlog_growth_fraction * cfg.interval_seconds
    growing = waiting and (last is None or backlog > last)
    pollers = w.pollers
    no_pollers = (pollers is not None and pollers <= 0) or (pollers is None and previous.pollers_seen) \
        or w.worker_count == 0
    # R14.2: missing or zero pollers while the backlog grows (or work keeps arriving unserved).
    workers_gone = no_pollers and (growing or (arriving and nothing_completes))
    expected = _expected(previous, starts, waiting)
    impaired = (not stopped and expected is not None and expected >= t.critical_state_transitions_min_per_sec
                and st < t.impaired_progress_fraction * expected)
    idle = not arriving and not waiting and (failed or 0.0) < 0.1 \
        and (s.amplifiers.persistence_errors_per_sec or 0.0) < 0.1
    return Progress(arriving, waiting, idle, stopped, impaired, workers_gone, unserved, expected)


def _critical_gates(s: SignalSnapshot, t: BandThresholds, pr: Progress, st: float, backlog: float,
                    gates: list[GateResult]) -> None:
    p = s.primary
    c = GateSeverity.CRITICAL
    if pr.workers_gone:
        pollers = s.worker.pollers
        seen = "no worker is polling the task queue" + (" (the poller series disappeared)" if pollers is None
                                                        else " (0 workflow-task pollers)")
        gates.append(GateResult(
            "workers_absent", c, "pollers", pollers or 0.0, "pollers", 0.0, "worker",
            f"{seen} while the oldest waiting task is {quantity('backlog_age_sec', backlog)} old",
            CRITICAL_GATE_CLAUSES["workers_absent"]))
    if pr.stopped:
        done, failed = p.workflow_completions_per_sec, p.workflow_failures_per_sec
        what = "no workflow completes" if st > t.stopped_progress_per_sec else "nothing progresses"
        demand = []
        if pr.arriving and p.workflow_starts_per_sec is not None:
            demand.append(f"{quantity('workflow_starts_per_sec', p.workflow_starts_per_sec)} workflow starts arrive")
        if pr.waiting and not pr.workers_gone:  # (the workers' sentence gives the backlog's age)
            demand.append(f"the oldest waiting task is {quantity('backlog_age_sec', backlog)} old")
        terminal = (done or 0.0) + (failed or 0.0)
        gates.append(GateResult(
            "progress_stopped", c, "state_transitions_per_sec", st, "stopped_progress_per_sec",
            t.stopped_progress_per_sec, "worker" if pr.workers_gone else "history",
            f"{what} ({quantity('state_transitions_per_sec', st)} state transitions, "
            f"{quantity('workflow_completions_per_sec', terminal)} workflows finishing) while "
            + " and ".join(demand or ["work is waiting"]),
            CRITICAL_GATE_CLAUSES["progress_stopped"]))
    if pr.impaired and pr.expected_transitions_per_sec is not None:
        expected = pr.expected_transitions_per_sec
        gates.append(GateResult(
            "progress_below_demand", c, "state_transitions_per_sec", st, "impaired_progress_fraction",
            t.impaired_progress_fraction * expected, "history",
            f"state transitions fell to {quantity('state_transitions_per_sec', st)}, "
            f"{st / expected * 100:.0f} % of the {quantity('state_transitions_per_sec', expected)} that recent "
            "throughput calls for at the present demand",
            CRITICAL_GATE_CLAUSES["progress_below_demand"]))
    if pr.unserved and not pr.workers_gone:
        gates.append(GateResult(
            "backlog_unserved", c, "backlog_age_sec", backlog, "unserved_backlog_growth_fraction",
            t.unserved_backlog_growth_fraction, "matching",
            f"the oldest waiting task ({quantity('backlog_age_sec', backlog)} old) ages as fast as the clock: "
            "nothing takes work from its task queue",
            CRITICAL_GATE_CLAUSES["backlog_unserved"]))
    if backlog > t.critical_backlog_age_max_sec:
        gates.append(GateResult(
            "backlog_age_exceeded", c, "backlog_age_sec", backlog, "critical_backlog_age_max_sec",
            t.critical_backlog_age_max_sec, "worker" if pr.workers_gone else "history",
            f"the oldest waiting task is {quantity('backlog_age_sec', backlog)} old, past the "
            f"{quantity('backlog_age_sec', t.critical_backlog_age_max_sec)} limit",
            CRITICAL_GATE_CLAUSES["backlog_age_exceeded"]))
    done, failed = p.workflow_completions_per_sec, p.workflow_failures_per_sec
    if done is not None and failed is not None and done + failed > 0:
        ratio = done / (done + failed)
        if done + failed >= t.critical_completion_demand_floor_per_sec and ratio < t.critical_completion_ratio_min:
            gates.append(GateResult(
                "completions_collapsed", c, "completion_ratio", ratio, "critical_completion_ratio_min",
                t.critical_completion_ratio_min, "history",
                f"only {ratio * 100:.0f} % of finished workflows succeed "
                f"({quantity('workflow_failures_per_sec', failed)} failing)",
                CRITICAL_GATE_CLAUSES["completions_collapsed"]))


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
    # Frontend latency is normal on an idle cluster (long polls). Empty polls are pressure only
    # while work waits (polls come back empty although tasks are queued): otherwise they are spare
    # poller capacity, normal at low traffic (R1.7: not a raw threshold alone).
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


def _stressed_gates(s: SignalSnapshot, t: BandThresholds, pr: Progress, gates: list[GateResult]) -> None:
    values = _STRESSED_PRIMARY(s.primary) + _STRESSED_AMPLIFIERS(s.amplifiers)
    known = _BAND_LIMITS.get(id(t))
    limits = known[1] if known is not None and known[0] is t else _STRESSED_LIMITS(t)  # else: overrides
    stressed = GateSeverity.STRESSED
    for (gate, _, signal, threshold, service, busy_only), value, limit in zip(
            _STRESSED_GATES, values, limits, strict=True):
        if value is None or value <= limit or (busy_only and pr.idle):
            continue
        if gate == "poll_timeouts" and not pr.waiting:
            continue
        gates.append(GateResult(gate, stressed, signal, value, threshold, limit, service, "",
                                STRESSED_GATE_CLAUSES[gate]))
    if not pr.idle:
        _workers_saturated(s, t, gates)


def _workers_saturated(s: SignalSnapshot, t: BandThresholds, gates: list[GateResult]) -> None:
    """Worker amplifiers (R14.6) with R14.4's limits: slots exhausted or tasks waiting for a worker."""
    w = s.worker
    s2s, act = w.workflow_schedule_to_start_p99_ms, w.activity_schedule_to_start_p99_ms
    found: list[tuple[str, float, str, float, str]] = []
    if w.workflow_slots_available == 0:
        found.append(("workflow_slots_available", 0.0, "workflow_slots_available", 0.0,
                      "no free workflow-task slots: those workers stop polling"))
    if w.activity_slots_available == 0:
        found.append(("activity_slots_available", 0.0, "activity_slots_available", 0.0,
                      "no free activity-task slots: those workers stop polling"))
    if s2s is not None and s2s > t.worker_schedule_to_start_p99_ms:
        found.append(("workflow_schedule_to_start_p99_ms", s2s, "worker_schedule_to_start_p99_ms",
                      t.worker_schedule_to_start_p99_ms,
                      f"workflow tasks wait {quantity('workflow_schedule_to_start_p99_ms', s2s)} (p99) for a worker "
                      f"(healthy: under {quantity('workflow_schedule_to_start_p99_ms', t.worker_schedule_to_start_p99_ms)})"))
    if act is not None and act > t.worker_activity_schedule_to_start_p99_ms:
        found.append(("activity_schedule_to_start_p99_ms", act, "worker_activity_schedule_to_start_p99_ms",
                      t.worker_activity_schedule_to_start_p99_ms,
                      f"activity tasks wait {quantity('activity_schedule_to_start_p99_ms', act)} (p99) for a worker "
                      f"(healthy: under "
                      f"{quantity('activity_schedule_to_start_p99_ms', t.worker_activity_schedule_to_start_p99_ms)})"))
    if found:
        signal, value, threshold, limit, _ = found[0]
        gates.append(GateResult("workers_saturated", GateSeverity.STRESSED, signal, value, threshold, limit, "worker",
                                "; ".join(f[4] for f in found), STRESSED_GATE_CLAUSES["workers_saturated"]))


def _happy_shortfalls(s: SignalSnapshot, t: BandThresholds, pr: Progress) -> list[str]:
    """Why the cluster, free of stressed gates, is still not Happy (empty list: it is Happy).

    No fixed throughput floor: low throughput at low demand is healthy (R1.7)."""
    if pr.idle:
        return []
    p = s.primary
    missing: list[str] = []
    backlog = p.backlog_age_sec or 0.0
    if backlog > t.healthy_backlog_age_sec:  # (a backlog gate that fired says it already)
        missing.append(f"the oldest waiting task is {quantity('backlog_age_sec', backlog)} old, more than the "
                       f"{quantity('backlog_age_sec', t.healthy_backlog_age_sec)} a healthy queue allows")
    ratio = p.completion_ratio
    if ratio is not None and p.terminal_per_sec >= 1.0 and ratio < t.healthy_completion_ratio:
        missing.append(f"only {ratio * 100:.0f} % of finished workflows succeed "
                       f"(healthy: {t.healthy_completion_ratio * 100:.0f} % or more)")
    return missing


def _not_recovered(s: SignalSnapshot, t: BandThresholds, factor: float, pr: Progress, st: float,
                   backlog: float) -> str | None:
    """Hysteresis for leaving Critical: why progress is not yet clearly back (None: it is)."""
    if pr.idle:
        return None
    expected = pr.expected_transitions_per_sec
    if expected is not None:
        bar = min(1.0, t.impaired_progress_fraction * factor) * expected
        if st < bar:
            return (f"state transitions are {quantity('state_transitions_per_sec', st)}, under the "
                    f"{quantity('state_transitions_per_sec', bar)} that counts as clearly recovered")
    if backlog > t.critical_backlog_age_max_sec / factor:
        return (f"the oldest waiting task is still {quantity('backlog_age_sec', backlog)} old "
                f"(clearly recovered: under {quantity('backlog_age_sec', t.critical_backlog_age_max_sec / factor)})")
    return None


def _remember(previous: MachineState, s: SignalSnapshot, cfg: MachineConfig, pr: Progress, st: float,
              backlog: float, state: HealthState, band: ScaleBand, consecutive: int) -> MachineState:
    recent, recent_starts = previous.recent_transitions_per_sec, previous.recent_starts_per_sec
    if not (pr.stopped or pr.impaired or pr.workers_gone or pr.unserved):
        # Only progress that is not impaired teaches the machine what "recent throughput" is.
        w = cfg.recent_weight
        recent = st if recent is None else recent + w * (st - recent)
        starts = s.primary.workflow_starts_per_sec
        if starts is not None:
            recent_starts = starts if recent_starts is None else recent_starts + w * (starts - recent_starts)
    pollers = s.worker.pollers
    seen = previous.pollers_seen or (pollers is not None and pollers > 0)
    return MachineState(state, band, consecutive, recent, recent_starts, backlog, seen)


_DEFAULT_CONFIG = MachineConfig()


def _sentences(parts: list[str]) -> str:
    """Plain clauses joined into one sentence list, each said once."""
    seen: list[str] = []
    for part in parts:
        if part and part not in seen:
            seen.append(part)
    return "; ".join(seen)


def evaluate(previous: MachineState, snapshot: SignalSnapshot, config: MachineConfig | None = None) -> Evaluation:
    """One deterministic step: the same inputs always give the same Evaluation."""
    cfg = config or _DEFAULT_CONFIG
    # Without overrides a band's thresholds are the shared constants: no call per lookup.
    thresholds = THRESHOLD_PROFILES.__getitem__ if not cfg.threshold_overrides else cfg.thresholds
    st = snapshot.primary.state_transitions_per_sec
    backlog = snapshot.primary.backlog_age_sec
    if st is None or backlog is None:
        # Without the progress signals nothing can be decided: hold the state (Requirement 1.5).
        return Evaluation(previous, previous, [], False, True, None,
                          "The progress signals (state transitions, backlog age) were not observed this cycle; "
                          "the state is held until they are.")

    pr = _progress(previous, snapshot, thresholds(previous.band), cfg, st, backlog)
    band = next_band(previous.band, st, cfg.band_hysteresis)
    if _BAND_RANK[band] < _BAND_RANK[previous.band] and (
            pr.stopped or pr.impaired or pr.workers_gone or backlog > thresholds(previous.band).healthy_backlog_age_sec):
        # Throughput fell while work arrives unserved or waits: lost progress, not lower demand.
        # Keep the band, or a stall would loosen its own limits.
        band = previous.band
    t = thresholds(band)

    gates: list[GateResult] = []
    _critical_gates(snapshot, t, pr, st, backlog, gates)
    critical = gates[:]  # the critical gates are exactly those appended first
    _stressed_gates(snapshot, t, pr, gates)
    shortfalls = [] if any(g.signal == "backlog_age_sec" for g in gates) else _happy_shortfalls(snapshot, t, pr)

    consecutive = previous.consecutive_critical + 1 if critical else 0
    if critical:
        impaired_text = _sentences([g.describe() for g in critical])
        # What explains the impairment (R4.2: amplifiers explain why progress may be impaired); the
        # backlog's age is already part of the impairment's sentences.
        alongside = [g.describe() for g in gates[len(critical):] if g.gate != "backlog_growing"]
        if alongside:
            impaired_text += ". Alongside: " + _sentences(alongside)
        if previous.state is HealthState.HAPPY:
            target = HealthState.STRESSED
            reason = (f"Forward progress is impaired: {impaired_text}. Stressed first: the state never goes from "
                      "Happy straight to Critical.")
        elif consecutive >= cfg.critical_debounce:
            target = HealthState.CRITICAL
            reason = f"Forward progress is impaired for {consecutive} consecutive evaluations: {impaired_text}."
        else:
            target = HealthState.STRESSED
            reason = (f"Forward progress is impaired ({consecutive} of {cfg.critical_debounce} evaluations before "
                      f"Critical): {impaired_text}.")
    elif previous.state is HealthState.CRITICAL and (
            why := _not_recovered(snapshot, t, cfg.recovery_factor, pr, st, backlog)) is not None:
        target, reason = HealthState.CRITICAL, f"Progress has not clearly recovered yet: {why}."
    elif gates or shortfalls:
        target = HealthState.STRESSED
        text = _sentences([g.describe() for g in gates] + shortfalls)
        if previous.state is HealthState.CRITICAL:
            reason = f"Progress has resumed but pressure remains: {text}."
        else:
            reason = f"Progress continues under pressure: {text}."
    elif previous.state is HealthState.CRITICAL:
        target = HealthState.STRESSED
        reason = "Progress has recovered; Stressed first: the state never goes from Critical straight to Happy."
    elif pr.idle:
        target, reason = HealthState.HAPPY, "Idle: no work is arriving or waiting."
    else:
        target = HealthState.HAPPY
        reason = f"Forward progress is healthy: {_per_sec(st)} state transitions, the oldest waiting task {_s(backlog)} old."

    current = _remember(previous, snapshot, cfg, pr, st, backlog, target, band, consecutive)
    transition = None
    if target is not previous.state:
        contributing = {g.signal: g.value for g in gates}
        if not contributing:
            contributing = dict(snapshot.primary.observed())
        transition = Transition(previous.state, target, snapshot.observed_at, reason, contributing)
    return Evaluation(previous, current, gates, pr.idle, False, transition, reason)

