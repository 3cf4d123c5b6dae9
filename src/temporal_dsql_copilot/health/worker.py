"""Worker health, evaluated after server health (Requirement 14).

If the server is Critical the server is the bottleneck and worker advice is withheld (14.3), unless
the progress rules found the workers to be the cause (no poller while work waits): then the
cluster is Critical *because of* the workers, the bottleneck is worker-limited and the advice names
them. Otherwise the bottleneck is classified (server-limited, worker-limited, mixed, healthy) and
the deterministic worker scaling rules run. ``scale_down_allowed`` is what every recommendation, including the LLM's
suggestions, is filtered through: never scale workers down while executor slots are exhausted.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from temporal_dsql_copilot.health.state_machine import GateResult, GateSeverity, HealthState
from temporal_dsql_copilot.health.thresholds import BandThresholds
from temporal_dsql_copilot.health.wording import quantity
from temporal_dsql_copilot.signals import SignalSnapshot

__all__ = ["WORKER_RULE_CLAUSES", "Bottleneck", "WorkerAdvice", "WorkerAssessment", "WorkerRule", "assess_workers"]


class Bottleneck(StrEnum):
    SERVER_LIMITED = "server_limited"
    WORKER_LIMITED = "worker_limited"
    MIXED = "mixed"
    HEALTHY = "healthy"


class WorkerRule(StrEnum):
    NEVER_SCALE_DOWN_AT_ZERO_SLOTS = "never_scale_down_at_zero_slots"
    SCALE_UP_WORKERS = "scale_up_workers"
    STICKY_QUEUE_CAUTION = "sticky_queue_caution"
    RESTART_TO_REDISTRIBUTE = "restart_to_redistribute"
    POLLER_EXECUTOR_MISMATCH = "poller_executor_mismatch"
    LONG_POLLS_FAILING = "long_polls_failing"
    RESTORE_WORKERS = "restore_workers"


# The requirement clause each worker rule implements.
WORKER_RULE_CLAUSES: dict[WorkerRule, str] = {
    WorkerRule.NEVER_SCALE_DOWN_AT_ZERO_SLOTS: "R14.5",
    WorkerRule.SCALE_UP_WORKERS: "R14.2, R14.4",
    WorkerRule.STICKY_QUEUE_CAUTION: "R14.5",
    WorkerRule.RESTART_TO_REDISTRIBUTE: "R14.5, R14.6",
    WorkerRule.POLLER_EXECUTOR_MISMATCH: "R14.6",
    WorkerRule.LONG_POLLS_FAILING: "R14.6",
    WorkerRule.RESTORE_WORKERS: "R14.2, R4.1",
}


class WorkerAdvice(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: WorkerRule
    message: str


class WorkerAssessment(BaseModel):
    model_config = ConfigDict(frozen=True)

    bottleneck: Bottleneck
    server_pressure: list[str]
    worker_pressure: list[str]
    advice: list[WorkerAdvice]
    scale_down_allowed: bool
    evaluated: bool
    """False when the server is Critical: worker readiness was not assessed (Requirement 14.3)."""


_BACKLOG_GATES = frozenset({"backlog_growing", "backlog_age_exceeded", "backlog_unserved"})


def _server_pressure(s: SignalSnapshot, t: BandThresholds, workers_gone: bool,
                     gates: Sequence[GateResult]) -> list[str]:
    """What the server side is under: the rules that fired on server services (history, matching,
    frontend, persistence) when the evaluation's gates are given, else the backlog and DSQL checks."""
    if gates:
        # With no worker polling, a growing backlog is the workers' absence, not the server's pace.
        return [g.describe() for g in gates
                if g.service != "worker" and not (workers_gone and g.gate in _BACKLOG_GATES)]
    found = []
    backlog = s.primary.backlog_age_sec
    if backlog is not None and backlog > t.stressed_backlog_age_sec:
        found.append(f"the oldest waiting task is {quantity('backlog_age_sec', backlog)} old "
                     f"(more than {quantity('backlog_age_sec', t.stressed_backlog_age_sec)})")
    p99 = s.amplifiers.persistence_latency_p99_ms
    if p99 is not None and p99 > t.stressed_persistence_latency_p99_ms:
        found.append(f"DSQL persistence latency (p99) is {quantity('persistence_latency_p99_ms', p99)} "
                     f"(limit {quantity('persistence_latency_p99_ms', t.stressed_persistence_latency_p99_ms)})")
    errors = s.amplifiers.persistence_errors_per_sec
    if errors is not None and errors > t.stressed_persistence_errors_per_sec:
        found.append(f"persistence calls fail at {quantity('persistence_errors_per_sec', errors)}")
    return found


def _slots_exhausted(s: SignalSnapshot) -> bool:
    w = s.worker
    return w.workflow_slots_available == 0 or w.activity_slots_available == 0


def _worker_pressure(s: SignalSnapshot, t: BandThresholds, workers_gone: bool) -> list[str]:
    w = s.worker
    found = []
    if workers_gone:
        found.append("no worker is polling the task queue: the workers are gone or stopped polling")
    if w.workflow_slots_available == 0:
        found.append("no free workflow-task slots: those workers stop polling")
    if w.activity_slots_available == 0:
        found.append("no free activity-task slots: those workers stop polling")
    s2s = w.workflow_schedule_to_start_p99_ms
    if s2s is not None and s2s > t.worker_schedule_to_start_p99_ms:
        found.append(f"workflow tasks wait {quantity('workflow_schedule_to_start_p99_ms', s2s)} (p99) for a worker "
                     f"(healthy: under {quantity('workflow_schedule_to_start_p99_ms', t.worker_schedule_to_start_p99_ms)})")
    act = s.worker.activity_schedule_to_start_p99_ms
    if act is not None and act > t.worker_activity_schedule_to_start_p99_ms:
        found.append(f"activity tasks wait {quantity('activity_schedule_to_start_p99_ms', act)} (p99) for a worker "
                     f"(healthy: under "
                     f"{quantity('activity_schedule_to_start_p99_ms', t.worker_activity_schedule_to_start_p99_ms)})")
    return found


def _advice(s: SignalSnapshot, t: BandThresholds, worker_pressure: list[str], workers_gone: bool) -> list[WorkerAdvice]:
    w = s.worker
    advice: list[WorkerAdvice] = []
    if workers_gone:
        advice.append(WorkerAdvice(
            rule=WorkerRule.RESTORE_WORKERS,
            message="No worker polls the task queue: restore the workers (check recent deploys, crashes, "
                    "credentials and the task queue name); the server cannot make progress without them."))
    if _slots_exhausted(s):
        advice.append(WorkerAdvice(
            rule=WorkerRule.NEVER_SCALE_DOWN_AT_ZERO_SLOTS,
            message="Executor slots are exhausted: do not scale workers down; pollers are paused."))
    if worker_pressure and not workers_gone:
        advice.append(WorkerAdvice(
            rule=WorkerRule.SCALE_UP_WORKERS,
            message="Workers cannot keep up: add worker capacity or executor slots."))
        advice.append(WorkerAdvice(
            rule=WorkerRule.STICKY_QUEUE_CAUTION,
            message="New workers will not receive work for running workflows that are sticky to existing "
                    "workers; relief from scaling out arrives only as new workflows start."))
    hit = w.sticky_cache_hit_ratio
    if hit is not None and hit < t.worker_sticky_hit_ratio_min and (w.worker_count or 0) > 1:
        cached = "" if w.sticky_cache_size is None else f" ({w.sticky_cache_size:g} workflows cached)"
        advice.append(WorkerAdvice(
            rule=WorkerRule.RESTART_TO_REDISTRIBUTE,
            message=f"The sticky-cache hit ratio is {hit * 100:.0f} %, low across {w.worker_count:g} workers{cached}: restart "
                    "a share (e.g. 25%) of workers to redistribute sticky workflows."))
    failing = w.long_poll_failures_per_sec
    if failing is not None and failing > t.worker_long_poll_failures_per_sec:
        latency = "" if w.long_poll_latency_p99_ms is None else \
            f" (poll latency p99 {quantity('long_poll_latency_p99_ms', w.long_poll_latency_p99_ms)})"
        advice.append(WorkerAdvice(
            rule=WorkerRule.LONG_POLLS_FAILING,
            message=f"Worker long polls fail at {quantity('long_poll_failures_per_sec', failing)}{latency}: check the workers' path to the frontend "
                    "and its rate limits (frontend.namespaceRPS) before adding workers, which add polls."))
    if w.pollers is not None and w.workflow_slots_available is not None and w.workflow_slots_available > 0 \
            and w.pollers > w.workflow_slots_available:
        advice.append(WorkerAdvice(
            rule=WorkerRule.POLLER_EXECUTOR_MISMATCH,
            message=f"{w.pollers:g} pollers for {w.workflow_slots_available:g} free slots: pollers fetch work "
                    "the executor cannot start; align poller count with executor slots."))
    return advice


def assess_workers(server_state: HealthState, snapshot: SignalSnapshot, thresholds: BandThresholds,
                   gates: Sequence[GateResult] = ()) -> WorkerAssessment:
    """Classify the bottleneck and run the worker rules, after the server's state is known.

    ``gates`` are the evaluation's rules that fired: a critical rule implicating the workers makes
    the bottleneck worker-limited even when the cluster is Critical."""
    workers_gone = any(g.gate == "workers_absent" for g in gates)
    worker_caused = any(g.severity is GateSeverity.CRITICAL and g.service == "worker" for g in gates)
    server = _server_pressure(snapshot, thresholds, workers_gone, gates)
    scale_down_allowed = not _slots_exhausted(snapshot) and not workers_gone
    if server_state is HealthState.CRITICAL and not worker_caused:
        return WorkerAssessment(bottleneck=Bottleneck.SERVER_LIMITED, server_pressure=server, worker_pressure=[],
                                advice=[], scale_down_allowed=scale_down_allowed, evaluated=False)
    workers = _worker_pressure(snapshot, thresholds, workers_gone)
    if server and workers:
        bottleneck = Bottleneck.MIXED
    elif server:
        bottleneck = Bottleneck.SERVER_LIMITED
    elif workers:
        bottleneck = Bottleneck.WORKER_LIMITED
    else:
        bottleneck = Bottleneck.HEALTHY
    return WorkerAssessment(bottleneck=bottleneck, server_pressure=server, worker_pressure=workers,
                            advice=_advice(snapshot, thresholds, workers, workers_gone),
                            scale_down_allowed=scale_down_allowed, evaluated=True)
