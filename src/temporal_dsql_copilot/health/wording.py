"""Plain words for signals: what an operator reads instead of field names.

Every sentence the rules produce (reasons, gate descriptions, worker advice) names a signal by its
label and gives its value with a unit ("DSQL persistence latency (p99) is 3,000 ms"), never as
``persistence_latency_p99_ms=3000``. Units come from the signal taxonomy.
"""

from __future__ import annotations

from collections.abc import Mapping

from temporal_dsql_copilot.signals import SIGNAL_TAXONOMY

__all__ = ["LABELS", "label", "quantity"]

LABELS: Mapping[str, str] = {
    "workflow_starts_per_sec": "workflow starts",
    "state_transitions_per_sec": "state transitions",
    "workflow_completions_per_sec": "workflow completions",
    "workflow_failures_per_sec": "workflow failures",
    "history_tasks_per_sec": "history tasks processed",
    "backlog_age_sec": "the oldest waiting task's age",
    "persistence_latency_p99_ms": "DSQL persistence latency (p99)",
    "occ_conflicts_per_sec": "OCC conflicts",
    "persistence_errors_per_sec": "persistence errors",
    "pool_utilization": "DSQL connection pool use",
    "reservoir_size": "connections waiting in the DSQL reservoir",
    "shard_churn_per_sec": "shard ownership changes",
    "frontend_latency_p99_ms": "frontend latency (p99)",
    "poll_timeout_ratio": "the share of task-queue polls returning empty",
    "workflow_schedule_to_start_p99_ms": "workflow-task schedule-to-start latency (p99)",
    "activity_schedule_to_start_p99_ms": "activity-task schedule-to-start latency (p99)",
    "workflow_slots_available": "free workflow-task slots",
    "activity_slots_available": "free activity-task slots",
    "workflow_slots_used": "busy workflow-task slots",
    "pollers": "workflow-task pollers",
    "sticky_cache_hit_ratio": "the sticky-cache hit ratio",
    "worker_count": "workers reporting metrics",
    "sticky_cache_size": "workflows in the sticky caches",
    "long_poll_latency_p99_ms": "worker long-poll latency (p99)",
    "long_poll_failures_per_sec": "failing worker long polls",
    "completion_ratio": "the successful share of finished workflows",
}

_UNITS: dict[str, str] = {spec.field: spec.unit for spec in SIGNAL_TAXONOMY}
_UNITS["completion_ratio"] = "ratio"
# Every signal has words: a new signal without a label would fall back to its field name.
assert set(_UNITS) <= set(LABELS), sorted(set(_UNITS) - set(LABELS))


def label(signal: str) -> str:
    return LABELS.get(signal, signal.replace("_", " "))


def _number(value: float) -> str:
    # Hot path (every reason the state machine writes): plain branches, no string post-processing.
    magnitude = value if value >= 0 else -value
    if magnitude >= 100:
        return f"{value:,.0f}"
    if value == int(value):
        return str(int(value))
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2g}"


def _ratio(value: float) -> str:
    return f"{value * 100:.0f} %"


def _per_sec(value: float) -> str:
    return _number(value) + "/s"


def _ms(value: float) -> str:
    return _number(value) + " ms"


def _s(value: float) -> str:
    return _number(value) + " s"


_FORMATS = {"ratio": _ratio, "per_sec": _per_sec, "ms": _ms, "s": _s}
_FORMAT_OF = {signal: _FORMATS.get(unit, _number) for signal, unit in _UNITS.items()}


def quantity(signal: str, value: float) -> str:
    """A value with its unit, rounded for reading: '3,000 ms', '4.5 s', '12/s', '97 %'."""
    return _FORMAT_OF.get(signal, _number)(value)
