"""The metric catalog: every curated telemetry metric, its PromQL, unit, group and direction.

One table shared by behaviour profiles (what a profile collects), the config compiler (the ids its
presets bound), the copilot (what it observes and how it judges a change) and the scenario
generator (which series it must emit). Metric ids are the TelemetrySummary field paths
``<group>.<field>``; per-service metrics expand to ``<group>.<field>.<service>`` when queried.

The PromQL reads the names the systems really export:

- Temporal server (OpenTelemetry Prometheus exporter: timers in milliseconds with a
  ``_milliseconds`` suffix, dimensionless histograms with ``_ratio``, counters with ``_total``,
  every series tagged ``service_name``; the task queue label is ``taskqueue``);
- the DSQL plugin (``dsql_pool_*``, ``dsql_reservoir_*``, ``dsql_tx_*``; see the plugin's metrics
  reference);
- Go SDK workers (``temporal_`` prefix, tally Prometheus reporter: timers in seconds; the task
  queue label is ``task_queue``);
- the collector's cAdvisor exporter for container CPU and memory (relabelled with ``service_name``).

Direction comes from this table, never from a metric's name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = [
    "CATALOG",
    "SERVICES",
    "CatalogMetric",
    "ComparisonClass",
    "Direction",
    "MetricGroup",
    "MetricQuery",
    "MetricUnit",
    "catalog_metric",
    "iter_queries",
    "metric_ids",
    "render_namespace_scope",
    "render_scope",
]

SERVICES: tuple[str, ...] = ("history", "matching", "frontend", "worker")

SCOPE_PLACEHOLDER = "<scope>"


class MetricGroup(StrEnum):
    THROUGHPUT = "throughput"
    LATENCY = "latency"
    MATCHING = "matching"
    DSQL_POOL = "dsql_pool"
    ERRORS = "errors"
    RESOURCES = "resources"


class MetricUnit(StrEnum):
    PER_SEC = "per_sec"
    MILLISECONDS = "ms"
    PERCENT = "percent"
    COUNT = "count"


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class ComparisonClass(StrEnum):
    """Which threshold a comparison applies to a metric's relative change."""

    LATENCY = "latency"
    ERROR = "error"
    THROUGHPUT = "throughput"
    SATURATION = "saturation"


class CatalogMetric(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    group: MetricGroup
    field: str
    description: str
    promql: str
    """PromQL; ``{service}`` is replaced per service for per-service metrics and ``<scope>`` by the
    namespace/task-queue matchers (comma-prefixed) of the request, or nothing."""
    unit: MetricUnit
    direction: Direction
    comparison: ComparisonClass
    source: str
    per_service: bool = False
    namespace_scoped: bool = False
    task_queue_label: str | None = None
    """The label carrying the task queue in this metric's series, when it is task-queue scoped."""


class MetricQuery(BaseModel):
    """One concrete query: a catalog metric, optionally for one service, with its PromQL."""

    model_config = ConfigDict(frozen=True)

    metric: CatalogMetric
    service: str | None
    promql: str

    @property
    def key(self) -> str:
        return self.metric.id if self.service is None else f"{self.metric.id}.{self.service}"


def _hq(q: float, bucket: str, scale: str = "") -> str:
    return f"histogram_quantile({q}, sum by (le) (rate({bucket}[5m]))){scale}"


_WF_S2S = 'temporal_workflow_task_schedule_to_start_latency_bucket{namespace=~".+"<scope>}'
_ACT_S2S = 'temporal_activity_schedule_to_start_latency_bucket{namespace=~".+"<scope>}'
_PERSIST = 'persistence_latency_milliseconds_bucket{service_name="history"}'
_SYNC = 'syncmatch_latency_milliseconds_count{service_name="matching"<scope>}'
_ASYNC = 'asyncmatch_latency_milliseconds_count{service_name="matching"<scope>}'
_SDK = "Go SDK worker"
_SERVER = "Temporal server"
_PLUGIN = "DSQL plugin"

_METRICS: tuple[CatalogMetric, ...] = (
    # --- throughput ---
    CatalogMetric(
        id="throughput.workflows_started_per_sec", group=MetricGroup.THROUGHPUT,
        field="workflows_started_per_sec",
        description="Workflow starts accepted by the frontend (StartWorkflowExecution and SignalWithStart).",
        promql='sum(rate(service_requests_total{service_name="frontend",operation=~"StartWorkflowExecution|SignalWithStartWorkflowExecution"<scope>}[5m]))',
        unit=MetricUnit.PER_SEC, direction=Direction.HIGHER_IS_BETTER,
        comparison=ComparisonClass.THROUGHPUT, source=f"{_SERVER} frontend", namespace_scoped=True,
    ),
    CatalogMetric(
        id="throughput.workflows_completed_per_sec", group=MetricGroup.THROUGHPUT,
        field="workflows_completed_per_sec",
        description="Workflows that closed as completed (WorkflowExecutionCompleted).",
        promql='sum(rate(workflow_success_total{service_name="history"<scope>}[5m]))',
        unit=MetricUnit.PER_SEC, direction=Direction.HIGHER_IS_BETTER,
        comparison=ComparisonClass.THROUGHPUT, source=f"{_SERVER} history", namespace_scoped=True,
    ),
    CatalogMetric(
        id="throughput.state_transitions_per_sec", group=MetricGroup.THROUGHPUT,
        field="state_transitions_per_sec",
        description="Mutable-state transitions persisted per second (sum of the per-update histogram).",
        promql='sum(rate(state_transition_count_ratio_sum{service_name="history"<scope>}[5m]))',
        unit=MetricUnit.PER_SEC, direction=Direction.HIGHER_IS_BETTER,
        comparison=ComparisonClass.THROUGHPUT, source=f"{_SERVER} history", namespace_scoped=True,
    ),
    # --- latency (ms) ---
    CatalogMetric(
        id="latency.workflow_schedule_to_start_p95", group=MetricGroup.LATENCY,
        field="workflow_schedule_to_start_p95",
        description="p95 time a workflow task waits between scheduled and picked up by a worker.",
        promql=_hq(0.95, _WF_S2S, " * 1000"), unit=MetricUnit.MILLISECONDS,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.LATENCY, source=_SDK,
        namespace_scoped=True, task_queue_label="task_queue",
    ),
    CatalogMetric(
        id="latency.workflow_schedule_to_start_p99", group=MetricGroup.LATENCY,
        field="workflow_schedule_to_start_p99",
        description="p99 time a workflow task waits between scheduled and picked up by a worker.",
        promql=_hq(0.99, _WF_S2S, " * 1000"), unit=MetricUnit.MILLISECONDS,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.LATENCY, source=_SDK,
        namespace_scoped=True, task_queue_label="task_queue",
    ),
    CatalogMetric(
        id="latency.activity_schedule_to_start_p95", group=MetricGroup.LATENCY,
        field="activity_schedule_to_start_p95",
        description="p95 time an activity task waits between scheduled and picked up by a worker.",
        promql=_hq(0.95, _ACT_S2S, " * 1000"), unit=MetricUnit.MILLISECONDS,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.LATENCY, source=_SDK,
        namespace_scoped=True, task_queue_label="task_queue",
    ),
    CatalogMetric(
        id="latency.activity_schedule_to_start_p99", group=MetricGroup.LATENCY,
        field="activity_schedule_to_start_p99",
        description="p99 time an activity task waits between scheduled and picked up by a worker.",
        promql=_hq(0.99, _ACT_S2S, " * 1000"), unit=MetricUnit.MILLISECONDS,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.LATENCY, source=_SDK,
        namespace_scoped=True, task_queue_label="task_queue",
    ),
    CatalogMetric(
        id="latency.persistence_latency_p95", group=MetricGroup.LATENCY,
        field="persistence_latency_p95",
        description="p95 latency of history persistence operations against DSQL.",
        promql=_hq(0.95, _PERSIST), unit=MetricUnit.MILLISECONDS,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.LATENCY,
        source=f"{_SERVER} history",
    ),
    CatalogMetric(
        id="latency.persistence_latency_p99", group=MetricGroup.LATENCY,
        field="persistence_latency_p99",
        description="p99 latency of history persistence operations against DSQL.",
        promql=_hq(0.99, _PERSIST), unit=MetricUnit.MILLISECONDS,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.LATENCY,
        source=f"{_SERVER} history",
    ),
    # --- matching ---
    CatalogMetric(
        id="matching.sync_match_rate", group=MetricGroup.MATCHING, field="sync_match_rate",
        description="Share of dispatched tasks handed straight to a waiting poller (percent).",
        promql=f"100 * sum(rate({_SYNC}[5m])) / (sum(rate({_SYNC}[5m])) + sum(rate({_ASYNC}[5m])))",
        unit=MetricUnit.PERCENT, direction=Direction.HIGHER_IS_BETTER,
        comparison=ComparisonClass.SATURATION, source=f"{_SERVER} matching", namespace_scoped=True,
        task_queue_label="taskqueue",
    ),
    CatalogMetric(
        id="matching.async_match_rate", group=MetricGroup.MATCHING, field="async_match_rate",
        description="Share of dispatched tasks that went through the persisted backlog first (percent).",
        promql=f"100 * sum(rate({_ASYNC}[5m])) / (sum(rate({_SYNC}[5m])) + sum(rate({_ASYNC}[5m])))",
        unit=MetricUnit.PERCENT, direction=Direction.LOWER_IS_BETTER,
        comparison=ComparisonClass.SATURATION, source=f"{_SERVER} matching", namespace_scoped=True,
        task_queue_label="taskqueue",
    ),
    CatalogMetric(
        id="matching.task_dispatch_latency", group=MetricGroup.MATCHING,
        field="task_dispatch_latency",
        description="p95 time from a task entering matching to its dispatch to a poller.",
        promql=_hq(0.95, 'task_dispatch_latency_milliseconds_bucket{service_name="matching"<scope>}'),
        unit=MetricUnit.MILLISECONDS, direction=Direction.LOWER_IS_BETTER,
        comparison=ComparisonClass.LATENCY, source=f"{_SERVER} matching", namespace_scoped=True,
        task_queue_label="taskqueue",
    ),
    CatalogMetric(
        id="matching.backlog_count", group=MetricGroup.MATCHING, field="backlog_count",
        description="Approximate number of tasks waiting in task-queue backlogs.",
        promql='sum(approximate_backlog_count{service_name="matching"<scope>})',
        unit=MetricUnit.COUNT, direction=Direction.LOWER_IS_BETTER,
        comparison=ComparisonClass.SATURATION, source=f"{_SERVER} matching", namespace_scoped=True,
        task_queue_label="taskqueue",
    ),
    CatalogMetric(
        id="matching.backlog_age", group=MetricGroup.MATCHING, field="backlog_age",
        description="Age of the oldest backlogged task (ms).",
        promql='max(approximate_backlog_age_seconds{service_name="matching"<scope>}) * 1000',
        unit=MetricUnit.MILLISECONDS, direction=Direction.LOWER_IS_BETTER,
        comparison=ComparisonClass.LATENCY, source=f"{_SERVER} matching", namespace_scoped=True,
        task_queue_label="taskqueue",
    ),
    # --- DSQL pool (plugin) ---
    CatalogMetric(
        id="dsql_pool.pool_open_count", group=MetricGroup.DSQL_POOL, field="pool_open_count",
        description="Open DSQL connections across all services.", promql="sum(dsql_pool_open)",
        unit=MetricUnit.COUNT, direction=Direction.HIGHER_IS_BETTER,
        comparison=ComparisonClass.SATURATION, source=_PLUGIN,
    ),
    CatalogMetric(
        id="dsql_pool.pool_in_use_count", group=MetricGroup.DSQL_POOL, field="pool_in_use_count",
        description="DSQL connections executing a statement.", promql="sum(dsql_pool_in_use)",
        unit=MetricUnit.COUNT, direction=Direction.LOWER_IS_BETTER,
        comparison=ComparisonClass.SATURATION, source=_PLUGIN,
    ),
    CatalogMetric(
        id="dsql_pool.pool_idle_count", group=MetricGroup.DSQL_POOL, field="pool_idle_count",
        description="Idle DSQL connections ready for use.", promql="sum(dsql_pool_idle)",
        unit=MetricUnit.COUNT, direction=Direction.HIGHER_IS_BETTER,
        comparison=ComparisonClass.SATURATION, source=_PLUGIN,
    ),
    CatalogMetric(
        id="dsql_pool.reservoir_size", group=MetricGroup.DSQL_POOL, field="reservoir_size",
        description="Pre-opened connections waiting in the reservoir.",
        promql="sum(dsql_reservoir_size)", unit=MetricUnit.COUNT,
        direction=Direction.HIGHER_IS_BETTER, comparison=ComparisonClass.SATURATION, source=_PLUGIN,
    ),
    CatalogMetric(
        id="dsql_pool.reservoir_empty_events", group=MetricGroup.DSQL_POOL,
        field="reservoir_empty_events",
        description="Checkouts that found the reservoir empty, per second.",
        promql="sum(rate(dsql_reservoir_empty_total[5m]))", unit=MetricUnit.PER_SEC,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.ERROR, source=_PLUGIN,
    ),
    CatalogMetric(
        id="dsql_pool.open_failures", group=MetricGroup.DSQL_POOL, field="open_failures",
        description="Failed attempts to open a DSQL connection (any reason), per second.",
        promql="sum(rate(dsql_reservoir_refill_failures_total[5m]))", unit=MetricUnit.PER_SEC,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.ERROR, source=_PLUGIN,
    ),
    CatalogMetric(
        id="dsql_pool.reconnect_count", group=MetricGroup.DSQL_POOL, field="reconnect_count",
        description="New connections opened by the reservoir refiller to replace expired ones, per second.",
        promql="sum(rate(dsql_reservoir_refills_total[5m]))", unit=MetricUnit.PER_SEC,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.SATURATION, source=_PLUGIN,
    ),
    # --- errors ---
    CatalogMetric(
        id="errors.occ_conflicts_per_sec", group=MetricGroup.ERRORS, field="occ_conflicts_per_sec",
        description="Transactions that hit an OCC serialization conflict (SQLSTATE 40001), per second.",
        promql="sum(rate(dsql_tx_conflict_total[5m]))", unit=MetricUnit.PER_SEC,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.ERROR, source=_PLUGIN,
    ),
    CatalogMetric(
        id="errors.exhausted_retries_per_sec", group=MetricGroup.ERRORS,
        field="exhausted_retries_per_sec",
        description="Transactions that failed after exhausting the plugin's retry budget, per second.",
        promql="sum(rate(dsql_tx_exhausted_total[5m]))", unit=MetricUnit.PER_SEC,
        direction=Direction.LOWER_IS_BETTER, comparison=ComparisonClass.ERROR, source=_PLUGIN,
    ),
    CatalogMetric(
        id="errors.dsql_auth_failures", group=MetricGroup.ERRORS, field="dsql_auth_failures",
        description="Connection opens that failed generating the IAM auth token, per second.",
        promql='sum(rate(dsql_reservoir_refill_failures_total{reason="token_provider"}[5m]))',
        unit=MetricUnit.PER_SEC, direction=Direction.LOWER_IS_BETTER,
        comparison=ComparisonClass.ERROR, source=_PLUGIN,
    ),
    # --- resources ---
    CatalogMetric(
        id="resources.cpu_utilization", group=MetricGroup.RESOURCES, field="cpu_utilization",
        description="Container CPU used as a percentage of the task's CPU limit, per service.",
        promql=(
            '100 * sum(rate(container_cpu_usage_seconds_total{service_name="{service}"}[5m]))'
            ' / sum(container_spec_cpu_quota{service_name="{service}"}'
            ' / container_spec_cpu_period{service_name="{service}"})'
        ),
        unit=MetricUnit.PERCENT, direction=Direction.LOWER_IS_BETTER,
        comparison=ComparisonClass.SATURATION, source="cAdvisor (collector)", per_service=True,
    ),
    CatalogMetric(
        id="resources.memory_utilization", group=MetricGroup.RESOURCES, field="memory_utilization",
        description="Container working-set memory as a percentage of the task's memory limit, per service.",
        promql=(
            '100 * sum(container_memory_working_set_bytes{service_name="{service}"})'
            ' / sum(container_spec_memory_limit_bytes{service_name="{service}"})'
        ),
        unit=MetricUnit.PERCENT, direction=Direction.LOWER_IS_BETTER,
        comparison=ComparisonClass.SATURATION, source="cAdvisor (collector)", per_service=True,
    ),
    CatalogMetric(
        id="resources.worker_task_slot_utilization", group=MetricGroup.RESOURCES,
        field="worker_task_slot_utilization",
        description="Worker task slots in use as a percentage of all slots (workflow + activity).",
        promql=(
            '100 * sum(temporal_worker_task_slots_used{namespace=~".+"<scope>})'
            ' / (sum(temporal_worker_task_slots_used{namespace=~".+"<scope>})'
            ' + sum(temporal_worker_task_slots_available{namespace=~".+"<scope>}))'
        ),
        unit=MetricUnit.PERCENT, direction=Direction.LOWER_IS_BETTER,
        comparison=ComparisonClass.SATURATION, source=_SDK, namespace_scoped=True,
        task_queue_label="task_queue",
    ),
)

CATALOG: Mapping[str, CatalogMetric] = {m.id: m for m in _METRICS}


def metric_ids() -> list[str]:
    """Every catalog id, in TelemetrySummary field order."""
    return [m.id for m in _METRICS]


def catalog_metric(metric_id: str) -> CatalogMetric:
    """The catalog entry for an id; per-service ids (``resources.cpu_utilization.history``) resolve
    to their metric. Raises KeyError for unknown ids."""
    if metric_id in CATALOG:
        return CATALOG[metric_id]
    base, _, service = metric_id.rpartition(".")
    if base in CATALOG and CATALOG[base].per_service and service in SERVICES:
        return CATALOG[base]
    raise KeyError(metric_id)


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_namespace_scope(namespace: str | None) -> str:
    """The comma-prefixed namespace matcher (empty without a namespace), for queries outside the catalog."""
    return "" if namespace is None else f',namespace="{_label_value(namespace)}"'


def render_scope(metric: CatalogMetric, namespace: str | None, task_queue: str | None) -> str:
    """The comma-prefixed matchers a metric gets for a namespace / task-queue scope."""
    matchers: list[str] = []
    if namespace is not None and metric.namespace_scoped:
        matchers.append(f'namespace="{_label_value(namespace)}"')
    if task_queue is not None and metric.task_queue_label is not None:
        matchers.append(f'{metric.task_queue_label}="{_label_value(task_queue)}"')
    return "".join("," + m for m in matchers)


def iter_queries(namespace: str | None = None, task_queue: str | None = None) -> Iterator[MetricQuery]:
    """Every concrete query a full telemetry summary needs (per-service metrics once per service)."""
    for metric in _METRICS:
        scoped = metric.promql.replace(SCOPE_PLACEHOLDER, render_scope(metric, namespace, task_queue))
        if metric.per_service:
            for service in SERVICES:
                yield MetricQuery(metric=metric, service=service,
                                  promql=scoped.replace("{service}", service))
        else:
            yield MetricQuery(metric=metric, service=None, promql=scoped)
