"""The copilot's own metrics, recorded through the Temporal SDK's metric meter.

Workflows record through ``workflow.metric_meter()`` (the SDK drops those during replay, so a
replayed cycle is never counted twice); the worker's Runtime exports everything, the SDK's own
``temporal_*`` metrics included, on a Prometheus endpoint (``COPILOT_METRICS_BIND_ADDRESS``,
see :func:`temporal_dsql_copilot.workflows.worker.worker_runtime`). Counter names carry no ``_total`` suffix:
the Runtime exports them as named, like the SDK's own counters.

Every name is listed in :data:`METRIC_NAMES` (and in the README's "Copilot metrics" table).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from temporal_dsql_copilot.health import HealthState

if TYPE_CHECKING:
    from temporalio.common import MetricMeter

    from temporal_dsql_copilot.signals import LogPatternCount

__all__ = [
    "ASSESSMENTS",
    "HEALTH_STATE",
    "HEALTH_STATE_VALUES",
    "LOG_PATTERNS",
    "METRIC_NAMES",
    "OBSERVE_CYCLES",
    "SIGNAL_FETCH_FAILURES",
    "SIGNAL_QUERY_FAILURES",
    "record_assessment",
    "record_cycle",
    "record_log_patterns",
]

HEALTH_STATE = "copilot_health_state"
OBSERVE_CYCLES = "copilot_observe_cycles"
SIGNAL_FETCH_FAILURES = "copilot_signal_fetch_failures"
SIGNAL_QUERY_FAILURES = "copilot_signal_query_failures"
ASSESSMENTS = "copilot_assessments"
LOG_PATTERNS = "copilot_log_patterns"
METRIC_NAMES = (HEALTH_STATE, OBSERVE_CYCLES, SIGNAL_FETCH_FAILURES, SIGNAL_QUERY_FAILURES, ASSESSMENTS,
                LOG_PATTERNS)

HEALTH_STATE_VALUES: dict[HealthState, int] = {HealthState.HAPPY: 0, HealthState.STRESSED: 1,
                                               HealthState.CRITICAL: 2}
"""The gauge is ordinal, so an alert is one comparison (``copilot_health_state >= 2``)."""


def record_cycle(meter: MetricMeter, cluster_id: str, *, state: HealthState | None,
                 failed_queries: Sequence[str] = ()) -> None:
    """One observe cycle: ``state`` None means the signal fetch failed (the state is held, not set)."""
    attrs = {"cluster_id": cluster_id}
    outcome = "observed" if state is not None else "fetch_failed"
    meter.create_counter(OBSERVE_CYCLES, "Observe cycles run, by outcome (observed, fetch_failed).").add(
        1, {**attrs, "outcome": outcome})
    if state is None:
        meter.create_counter(SIGNAL_FETCH_FAILURES,
                             "Cycles whose signal fetch (the AMP activity) failed; retried next cycle.").add(1, attrs)
        return
    meter.create_gauge(HEALTH_STATE, "Health state of the monitored cluster: 0 happy, 1 stressed, 2 critical.").set(
        HEALTH_STATE_VALUES[state], attrs)
    if failed_queries:
        meter.create_counter(SIGNAL_QUERY_FAILURES,
                             "Signal queries that failed inside an otherwise observed cycle.").add(
            len(failed_queries), attrs)


def record_log_patterns(meter: MetricMeter, cluster_id: str, patterns: Sequence[LogPatternCount]) -> None:
    counter = meter.create_counter(LOG_PATTERNS, "Log lines matching a narrative pattern, by pattern and service.")
    for p in patterns:
        if p.count > 0:
            counter.add(p.count, {"cluster_id": cluster_id, "pattern": p.pattern, "service": p.service})


def record_assessment(meter: MetricMeter, cluster_id: str, *, trigger: str, explained_by: str,
                      health_state: HealthState) -> None:
    meter.create_counter(ASSESSMENTS, "Assessments stored, by trigger and by who explained them (llm or rules).").add(
        1, {"cluster_id": cluster_id, "trigger": trigger, "explained_by": explained_by,
            "health_state": health_state.value})
