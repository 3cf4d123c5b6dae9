"""The signal taxonomy: which metric-catalog metrics decide health, which explain it.

Rules decide on *primary* signals (forward progress); *amplifiers* say why progress is under
pressure; *worker* signals feed the bottleneck classifier; *narrative* signals are log patterns
(``temporal_dsql_copilot.narrative``). Metrics are named by their metric-catalog id (``"<group>.<field>"``) so the
PromQL lives in one place, ``temporal_dsql_core.metric_catalog``; this module only says what role each
metric plays and under which field name the state machine reads it.

A value of ``None`` means "not observed" (the query failed or returned no series). It is never
turned into 0: an AMP outage must not look like an idle cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SIGNAL_TAXONOMY",
    "AmplifierSignals",
    "LogPatternCount",
    "PrimarySignals",
    "SignalCategory",
    "SignalSnapshot",
    "SignalSpec",
    "WorkerSignals",
    "catalog_ids",
    "snapshot_from_metric_values",
]


class SignalCategory(StrEnum):
    PRIMARY = "primary"
    AMPLIFIER = "amplifier"
    NARRATIVE = "narrative"
    WORKER = "worker"


class SignalSpec(BaseModel):
    """One signal: its role, the field the state machine reads and the metric behind it.

    ``metric_id`` is a metric-catalog id when the catalog has the metric (its PromQL is then the
    catalog's); copilot-only signals have an id under ``copilot.`` and carry their own PromQL, with
    the catalog's ``<scope>`` placeholder in every selector of a per-namespace metric
    (``namespace_scoped``) so that ``temporal_dsql_copilot.metrics.signal_promql`` scopes them exactly as the
    catalog scopes its own (a ratio of a scoped and an unscoped query would mix namespaces).
    """

    model_config = ConfigDict(frozen=True)

    category: SignalCategory
    field: str
    metric_id: str
    unit: str
    description: str
    promql: str | None = None
    scale: float = 1.0
    """Multiplier from the metric's unit to the signal's (catalog backlog age is ms, the signal s)."""
    absent_means_zero: bool = False
    """For event counters: no series means no events. Progress signals never default to zero."""
    namespace_scoped: bool = False
    """The copilot's own PromQL is per namespace (the metric carries a ``namespace`` label)."""

    @property
    def from_catalog(self) -> bool:
        return self.promql is None


def _spec(category: SignalCategory, field: str, metric_id: str, unit: str, description: str, *,
          promql: str | None = None, scale: float = 1.0, absent_means_zero: bool = False) -> SignalSpec:
    # A copilot query with the scope placeholder is per namespace; one without is cluster-wide
    # (persistence, the DSQL pool and shards have no namespace label).
    return SignalSpec(category=category, field=field, metric_id=metric_id, unit=unit, description=description,
                      promql=promql, scale=scale, absent_means_zero=absent_means_zero,
                      namespace_scoped=promql is not None and "<scope>" in promql)


def _hq(q: float, bucket: str) -> str:
    return f"histogram_quantile({q}, sum by (le) (rate({bucket}[5m])))"


_P, _A, _W = SignalCategory.PRIMARY, SignalCategory.AMPLIFIER, SignalCategory.WORKER
# "<scope>" is temporal_dsql_core.metric_catalog.SCOPE_PLACEHOLDER: ',namespace="<ns>"' when a namespace is
# monitored, nothing otherwise. Server metrics name their service (always labelled), SDK metrics
# follow the catalog's `namespace=~".+"` form, so every selector has a matcher to append to.
_POLL_T = 'sum(rate(poll_timeouts_total{service_name="matching"<scope>}[5m]))'
_POLL_S = 'sum(rate(poll_success_total{service_name="matching"<scope>}[5m]))'
_STICKY_H = 'sum(rate(temporal_sticky_cache_hit_total{namespace=~".+"<scope>}[5m]))'
_STICKY_M = 'sum(rate(temporal_sticky_cache_miss_total{namespace=~".+"<scope>}[5m]))'
# SDK long polls (PollWorkflowTaskQueue / PollActivityTaskQueue): latency in seconds, like the
# catalog's schedule-to-start histograms, and failed polls.
_LONG_POLL = 'temporal_long_request_latency_bucket{namespace=~".+"<scope>}'

SIGNAL_TAXONOMY: tuple[SignalSpec, ...] = (
    # Primary: forward progress (Requirement 1.3) and the demand it is judged against (arriving
    # work: Requirement 4.2 asks whether the cluster progresses on the workflows it is given).
    _spec(_P, "workflow_starts_per_sec", "throughput.workflows_started_per_sec", "per_sec",
          "Workflow starts accepted by the frontend per second: arriving work (demand).", absent_means_zero=True),
    _spec(_P, "state_transitions_per_sec", "throughput.state_transitions_per_sec", "per_sec",
          "Workflow state transitions per second: the forward-progress heartbeat."),
    _spec(_P, "workflow_completions_per_sec", "throughput.workflows_completed_per_sec", "per_sec",
          "Workflows completing successfully per second.", absent_means_zero=True),
    _spec(_P, "workflow_failures_per_sec", "copilot.workflow_failures_per_sec", "per_sec",
          "Workflows failing or timing out per second.",
          promql='sum(rate(workflow_failed_total{service_name="history"<scope>}[5m]))', absent_means_zero=True),
    _spec(_P, "history_tasks_per_sec", "copilot.history_tasks_per_sec", "per_sec",
          "History tasks processed per second.",
          promql='sum(rate(task_requests_total{service_name="history"<scope>}[5m]))'),
    _spec(_P, "backlog_age_sec", "matching.backlog_age", "s",
          "Age of the oldest task waiting in a task-queue backlog: inverse progress.", scale=0.001),
    # Amplifiers: pressure and contention (Requirement 1.4).
    _spec(_A, "persistence_latency_p99_ms", "latency.persistence_latency_p99", "ms",
          "DSQL persistence call latency, p99."),
    _spec(_A, "occ_conflicts_per_sec", "errors.occ_conflicts_per_sec", "per_sec",
          "Optimistic-concurrency (SQLSTATE 40001) conflicts per second.", absent_means_zero=True),
    _spec(_A, "persistence_errors_per_sec", "copilot.persistence_errors_per_sec", "per_sec",
          "Persistence errors of any type per second.",
          promql="sum(rate(persistence_errors_total[5m]))", absent_means_zero=True),
    _spec(_A, "pool_utilization", "copilot.pool_utilization", "ratio",
          "Connections in use over the pool's maximum (0-1).",
          promql="sum(dsql_pool_in_use) / sum(dsql_pool_max_open)"),
    _spec(_A, "reservoir_size", "dsql_pool.reservoir_size", "count",
          "Pre-authenticated connections waiting in the DSQL reservoir."),
    _spec(_A, "shard_churn_per_sec", "copilot.shard_churn_per_sec", "per_sec",
          "Shard ownership changes per second (instability).",
          promql="sum(rate(sharditem_created_count_total[5m]))", absent_means_zero=True),
    _spec(_A, "frontend_latency_p99_ms", "copilot.frontend_latency_p99", "ms",
          "Frontend request latency p99, long polls excluded.",
          promql=_hq(0.99, 'service_latency_milliseconds_bucket{service_name="frontend",operation!~"Poll.*"<scope>}')),
    _spec(_A, "poll_timeout_ratio", "copilot.poll_timeout_ratio", "ratio",
          "Share of task-queue polls that time out empty.",
          promql=f"{_POLL_T} / ({_POLL_S} + {_POLL_T})"),
    # Worker side (Requirement 14.1, 14.6).
    _spec(_W, "workflow_schedule_to_start_p99_ms", "latency.workflow_schedule_to_start_p99", "ms",
          "Workflow-task schedule-to-start latency p99."),
    _spec(_W, "activity_schedule_to_start_p99_ms", "latency.activity_schedule_to_start_p99", "ms",
          "Activity-task schedule-to-start latency p99."),
    _spec(_W, "workflow_slots_available", "copilot.workflow_slots_available", "count",
          "Free workflow-task slots on the most loaded worker (0: that worker stops polling).",
          promql='min(temporal_worker_task_slots_available{worker_type="WorkflowWorker"<scope>})'),
    _spec(_W, "activity_slots_available", "copilot.activity_slots_available", "count",
          "Free activity-task slots on the most loaded worker.",
          promql='min(temporal_worker_task_slots_available{worker_type="ActivityWorker"<scope>})'),
    _spec(_W, "workflow_slots_used", "copilot.workflow_slots_used", "count",
          "Busy workflow-task slots across workers.",
          promql='sum(temporal_worker_task_slots_used{worker_type="WorkflowWorker"<scope>})'),
    _spec(_W, "pollers", "copilot.pollers", "count", "Workflow-task pollers on the busiest worker.",
          promql='max(sum by (instance) (temporal_num_pollers{poller_type="workflow_task"<scope>}))'),
    _spec(_W, "sticky_cache_hit_ratio", "copilot.sticky_cache_hit_ratio", "ratio",
          "Sticky-cache hits over hits plus misses.", promql=f"{_STICKY_H} / ({_STICKY_H} + {_STICKY_M})"),
    _spec(_W, "worker_count", "copilot.worker_count", "count", "Worker processes reporting metrics.",
          promql='count(count by (instance) (temporal_worker_task_slots_available{namespace=~".+"<scope>}))'),
    _spec(_W, "sticky_cache_size", "copilot.sticky_cache_size", "count",
          "Workflows held in the workers' sticky caches (summed over workers).",
          promql='sum(temporal_sticky_cache_size{namespace=~".+"<scope>})'),
    # Worker amplifiers (Requirement 14.6): long polls that are slow or fail point at the path
    # between workers and the frontend, not at worker capacity.
    _spec(_W, "long_poll_latency_p99_ms", "copilot.long_poll_latency_p99", "ms",
          "Worker long-poll (task queue poll) latency p99.", promql=f"{_hq(0.99, _LONG_POLL)} * 1000"),
    _spec(_W, "long_poll_failures_per_sec", "copilot.long_poll_failures_per_sec", "per_sec",
          "Worker long polls failing per second.",
          promql='sum(rate(temporal_long_request_failure_total{namespace=~".+"<scope>}[5m]))',
          absent_means_zero=True),
)


def catalog_ids() -> list[str]:
    """The metric-catalog ids the taxonomy uses (copilot-only signals excluded)."""
    return [spec.metric_id for spec in SIGNAL_TAXONOMY if spec.from_catalog]


def _fields(category: SignalCategory) -> list[str]:
    return [s.field for s in SIGNAL_TAXONOMY if s.category is category]


class _Signals(BaseModel):
    model_config = ConfigDict(frozen=True)

    def observed(self) -> dict[str, float]:
        # The fields are plain floats (no aliases, serialisers or extras), so the instance dict
        # is what model_dump() would return, at a tenth of the cost (the state machine calls this).
        return {k: v for k, v in self.__dict__.items() if v is not None}


class PrimarySignals(_Signals):
    workflow_starts_per_sec: float | None = None
    state_transitions_per_sec: float | None = None
    workflow_completions_per_sec: float | None = None
    workflow_failures_per_sec: float | None = None
    history_tasks_per_sec: float | None = None
    backlog_age_sec: float | None = None

    @property
    def completion_ratio(self) -> float | None:
        """Successful share of terminal workflows, or None without terminal volume."""
        done, failed = self.workflow_completions_per_sec, self.workflow_failures_per_sec
        if done is None or failed is None or done + failed <= 0:
            return None
        return done / (done + failed)

    @property
    def terminal_per_sec(self) -> float:
        return (self.workflow_completions_per_sec or 0.0) + (self.workflow_failures_per_sec or 0.0)


class AmplifierSignals(_Signals):
    persistence_latency_p99_ms: float | None = None
    occ_conflicts_per_sec: float | None = None
    persistence_errors_per_sec: float | None = None
    pool_utilization: float | None = None
    reservoir_size: float | None = None
    shard_churn_per_sec: float | None = None
    frontend_latency_p99_ms: float | None = None
    poll_timeout_ratio: float | None = None


class WorkerSignals(_Signals):
    workflow_schedule_to_start_p99_ms: float | None = None
    activity_schedule_to_start_p99_ms: float | None = None
    workflow_slots_available: float | None = None
    activity_slots_available: float | None = None
    workflow_slots_used: float | None = None
    pollers: float | None = None
    sticky_cache_hit_ratio: float | None = None
    worker_count: float | None = None
    sticky_cache_size: float | None = None
    long_poll_latency_p99_ms: float | None = None
    long_poll_failures_per_sec: float | None = None


class LogPatternCount(BaseModel):
    """A narrative signal: how often a log pattern occurred in the window, per service."""

    model_config = ConfigDict(frozen=True)

    pattern: str
    service: str
    count: int
    first_seen: str | None = None
    """ISO 8601 instant of the first occurrence in the window."""
    last_seen: str | None = None


class SignalSnapshot(BaseModel):
    """Everything observed in one cycle, with the instant it was observed at (ISO 8601, UTC)."""

    model_config = ConfigDict(frozen=True)

    observed_at: str
    primary: PrimarySignals = Field(default_factory=PrimarySignals)
    amplifiers: AmplifierSignals = Field(default_factory=AmplifierSignals)
    worker: WorkerSignals = Field(default_factory=WorkerSignals)
    log_patterns: list[LogPatternCount] = Field(default_factory=list)
    failed_queries: list[str] = Field(default_factory=list)
    """Catalog ids whose query failed this cycle (Requirement 1.5: logged, retried next cycle)."""

    def metric_values(self) -> dict[str, float]:
        """Observed values keyed by metric id, in the metric's own unit (what drift compares)."""
        flat = {**self.primary.observed(), **self.amplifiers.observed(), **self.worker.observed()}
        return {s.metric_id: flat[s.field] / s.scale for s in SIGNAL_TAXONOMY if s.field in flat}


def snapshot_from_metric_values(
    observed_at: str,
    values: Mapping[str, float | None],
    *,
    log_patterns: list[LogPatternCount] | None = None,
    failed_queries: list[str] | None = None,
) -> SignalSnapshot:
    """Sort metric-id values (in the metric's unit) into the taxonomy; other ids are ignored."""
    by_category: dict[SignalCategory, dict[str, float | None]] = {c: {} for c in SignalCategory}
    for spec in SIGNAL_TAXONOMY:
        if spec.metric_id in values:
            raw = values[spec.metric_id]
            by_category[spec.category][spec.field] = None if raw is None else raw * spec.scale
    return SignalSnapshot(
        observed_at=observed_at,
        primary=PrimarySignals(**by_category[_P]),
        amplifiers=AmplifierSignals(**by_category[_A]),
        worker=WorkerSignals(**by_category[_W]),
        log_patterns=log_patterns or [],
        failed_queries=failed_queries or [],
    )


# The field lists must match the models: a taxonomy entry without a model field would be dropped.
assert set(_fields(_P)) == set(PrimarySignals.model_fields)
assert set(_fields(_A)) == set(AmplifierSignals.model_fields)
assert set(_fields(_W)) == set(WorkerSignals.model_fields)
