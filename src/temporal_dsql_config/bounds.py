"""Expected telemetry bounds of a resolved configuration (Requirement 16).

One bound per metric of the behaviour-profile TelemetrySummary, named "<group>.<field>". Latencies
are milliseconds (backlog age too), rates per second, match rates and utilisations percent (0-100).
Each bound follows from the SLO inputs and the derived topology, so conformance checks the
configuration the profile actually asked for. Throughput may use the whole of the preset's band:
a mid-scale cluster running 450 transitions/s still matches mid-scale, whatever its default target.
"""

from __future__ import annotations

from collections.abc import Mapping

from temporal_dsql_config.guard_rails import total_connections
from temporal_dsql_config.models import SERVICE_NAMES, construct_trusted
from temporal_dsql_config.presets import per_process_connections
from temporal_dsql_config.values import parse_go_duration
from temporal_dsql_core.models import TelemetryBound
from temporal_dsql_core.types import ParameterValue

__all__ = ["METRIC_NAMES", "expected_bounds"]

METRIC_NAMES: tuple[str, ...] = (
    "throughput.workflows_started_per_sec",
    "throughput.workflows_completed_per_sec",
    "throughput.state_transitions_per_sec",
    "latency.workflow_schedule_to_start_p95",
    "latency.workflow_schedule_to_start_p99",
    "latency.activity_schedule_to_start_p95",
    "latency.activity_schedule_to_start_p99",
    "latency.persistence_latency_p95",
    "latency.persistence_latency_p99",
    "matching.sync_match_rate",
    "matching.async_match_rate",
    "matching.task_dispatch_latency",
    "matching.backlog_count",
    "matching.backlog_age",
    "dsql_pool.pool_open_count",
    "dsql_pool.pool_in_use_count",
    "dsql_pool.pool_idle_count",
    "dsql_pool.reservoir_size",
    "dsql_pool.reservoir_empty_events",
    "dsql_pool.open_failures",
    "dsql_pool.reconnect_count",
    "errors.occ_conflicts_per_sec",
    "errors.exhausted_retries_per_sec",
    "errors.dsql_auth_failures",
    "resources.cpu_utilization",
    "resources.memory_utilization",
    "resources.worker_task_slot_utilization",
)

HEADROOM = 1.25  # a conforming cluster may run up to 25% over its target rates
# A workflow takes at least two state transitions (started, closed): the most workflows/s a band
# of transitions/s can carry.
MIN_TRANSITIONS_PER_WORKFLOW = 2.0


def expected_bounds(values: Mapping[str, ParameterValue], *,
                    band_max_st_per_sec: float | None = None) -> list[TelemetryBound]:
    """Bounds for every catalog metric; `band_max_st_per_sec` is the preset's band ceiling."""
    def f(key: str) -> float:
        return float(values[key])

    rate = f("slo.target_state_transitions_per_sec")
    completions = f("slo.target_workflow_completion_rate")
    s2s = f("slo.max_schedule_to_start_ms")
    e2e = f("slo.max_e2e_workflow_latency_ms")
    conns = float(total_connections(values))
    reservoir = bool(values["dsql.reservoir_enabled"])
    reservoir_total = (
        float(int(values["dsql.pools_per_process"]) * sum(
            int(values[f"{s}.replicas"]) * per_process_connections(values, s) for s in SERVICE_NAMES))
        if reservoir else 0.0
    )
    lifetime = parse_go_duration(str(values["dsql.reservoir_base_lifetime" if reservoir else "dsql.max_conn_lifetime"]))
    churn = conns / lifetime if lifetime > 0 else conns
    persistence_p99 = min(250.0, e2e / 10)
    rate_ceiling = max(rate * HEADROOM, band_max_st_per_sec or 0.0)
    workflow_ceiling = max(completions * HEADROOM, rate_ceiling / MIN_TRANSITIONS_PER_WORKFLOW)
    bounds = {
        "throughput.workflows_started_per_sec": (0.0, workflow_ceiling),
        "throughput.workflows_completed_per_sec": (0.0, workflow_ceiling),
        "throughput.state_transitions_per_sec": (0.0, rate_ceiling),
        "latency.workflow_schedule_to_start_p95": (0.0, s2s * 0.8),
        "latency.workflow_schedule_to_start_p99": (0.0, s2s),
        "latency.activity_schedule_to_start_p95": (0.0, s2s * 0.8),
        "latency.activity_schedule_to_start_p99": (0.0, s2s),
        "latency.persistence_latency_p95": (0.0, persistence_p99 * 0.6),
        "latency.persistence_latency_p99": (0.0, persistence_p99),
        "matching.sync_match_rate": (80.0, 100.0),
        "matching.async_match_rate": (0.0, 20.0),
        "matching.task_dispatch_latency": (0.0, s2s / 2),
        "matching.backlog_count": (0.0, max(1.0, rate * s2s / 1000)),
        "matching.backlog_age": (0.0, s2s),
        "dsql_pool.pool_open_count": (0.0, conns),
        "dsql_pool.pool_in_use_count": (0.0, conns),
        "dsql_pool.pool_idle_count": (0.0, conns),
        "dsql_pool.reservoir_size": (0.0, reservoir_total),
        "dsql_pool.reservoir_empty_events": (0.0, 1.0 if reservoir else 0.0),
        "dsql_pool.open_failures": (0.0, 1.0),
        "dsql_pool.reconnect_count": (0.0, round(churn * 1.5, 3)),
        "errors.occ_conflicts_per_sec": (0.0, rate * 0.05),
        "errors.exhausted_retries_per_sec": (0.0, rate * 0.001),
        "errors.dsql_auth_failures": (0.0, 0.0),
        "resources.cpu_utilization": (0.0, 80.0),
        "resources.memory_utilization": (0.0, 85.0),
        "resources.worker_task_slot_utilization": (0.0, 80.0),
    }
    # float() is what validating a float field does to these (all already floats); the models
    # are then built without a validation pass (construct_trusted).
    return [construct_trusted(TelemetryBound, {"metric": m, "lower": float(bounds[m][0]), "upper": float(bounds[m][1])})
            for m in METRIC_NAMES]

