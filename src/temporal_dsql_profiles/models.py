"""Behaviour profile documents, request/response models and comparison results.

Field names follow the design; TelemetrySummary field paths ``<group>.<field>`` are the metric
catalog ids (``temporal_dsql_core.metric_catalog``). A metric with no data is ``None`` and listed in
``TelemetrySummary.missing`` with the reason; it is never a zero.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, computed_field, field_validator

from temporal_dsql_core.instants import InstantType
from temporal_dsql_core.metric_catalog import SERVICES, CatalogMetric, MetricGroup, catalog_metric, metric_ids
from temporal_dsql_core.models import MetricAggregate
from temporal_dsql_core.profile import ConfigProfile
from temporal_dsql_core.types import ParameterClassification, ParameterValue
from temporal_dsql_core.versions import VersionType
from temporal_dsql_profiles.limits import (
    BoundedEnvVars,
    BoundedJsonMap,
    ClusterIdText,
    LabelText,
    NamespaceText,
    NameText,
    ProfileIdText,
    TaskQueueText,
    WorkerShaText,
)

__all__ = [
    "MAX_WINDOW_HOURS",
    "BehaviourProfile",
    "CompareRequest",
    "ComparisonThresholds",
    "ConfigDiff",
    "ConfigSnapshot",
    "CreateProfileRequest",
    "DSQLPluginSnapshot",
    "DSQLPoolMetrics",
    "DynamicConfigEntry",
    "EnvVarEntry",
    "ErrorMetrics",
    "LatencyMetrics",
    "MatchingMetrics",
    "MissingMetric",
    "ProfileComparison",
    "ProfileMetadata",
    "ProfilePage",
    "ResourceMetrics",
    "ServiceAggregates",
    "TelemetryDiff",
    "TelemetrySummary",
    "ThroughputMetrics",
    "VersionDiff",
    "WorkerOptionsSnapshot",
]

MAX_WINDOW_HOURS = 24


# --- config snapshot ---------------------------------------------------------------------------


class DynamicConfigEntry(BaseModel):
    key: str
    value: JsonValue


class EnvVarEntry(BaseModel):
    service: str | None = None
    name: str
    value: str
    redacted: bool = False


class WorkerOptionsSnapshot(BaseModel):
    max_concurrent_activities: int | None = None
    max_concurrent_workflow_tasks: int | None = None
    max_concurrent_local_activities: int | None = None
    workflow_task_pollers: int | None = None
    activity_task_pollers: int | None = None
    sticky_schedule_to_start_timeout_sec: float | None = None
    disable_eager_activities: bool | None = None
    other: dict[str, ParameterValue | None] = Field(default_factory=dict)
    """Options beyond the design's list (as the compiler emitted them)."""


class DSQLPluginSnapshot(BaseModel):
    """The plugin settings; None where the deployment did not record a value."""

    reservoir_enabled: bool | None = None
    reservoir_target_ready: int | None = None
    reservoir_base_lifetime_min: float | None = None
    reservoir_lifetime_jitter_min: float | None = None
    reservoir_guard_window_sec: float | None = None
    max_conns: int | None = None
    max_idle_conns: int | None = None
    max_conn_lifetime_min: float | None = None
    distributed_rate_limiter_enabled: bool | None = None
    token_bucket_enabled: bool | None = None
    token_bucket_rate: int | None = None
    token_bucket_capacity: int | None = None
    slot_block_enabled: bool | None = None
    slot_block_size: int | None = None
    slot_block_count: int | None = None
    other: dict[str, ParameterValue | None] = Field(default_factory=dict)


class ConfigSnapshot(BaseModel):
    dynamic_config: list[DynamicConfigEntry] = Field(default_factory=list)
    server_env_vars: list[EnvVarEntry] = Field(default_factory=list)
    worker_options: WorkerOptionsSnapshot = Field(default_factory=WorkerOptionsSnapshot)
    dsql_plugin_config: DSQLPluginSnapshot = Field(default_factory=DSQLPluginSnapshot)
    config_profile: ConfigProfile | None = None
    sources: list[str] = Field(default_factory=list)
    """Where the snapshot came from: "deployed:config/" (the bucket's artifacts) and/or "request"."""


# --- telemetry ---------------------------------------------------------------------------------


class MissingMetric(BaseModel):
    metric: str
    """Catalog id; per-service metrics carry the service: ``resources.cpu_utilization.history``."""
    reason: str


class ThroughputMetrics(BaseModel):
    workflows_started_per_sec: MetricAggregate | None = None
    workflows_completed_per_sec: MetricAggregate | None = None
    state_transitions_per_sec: MetricAggregate | None = None


class LatencyMetrics(BaseModel):
    workflow_schedule_to_start_p95: MetricAggregate | None = None
    workflow_schedule_to_start_p99: MetricAggregate | None = None
    activity_schedule_to_start_p95: MetricAggregate | None = None
    activity_schedule_to_start_p99: MetricAggregate | None = None
    persistence_latency_p95: MetricAggregate | None = None
    persistence_latency_p99: MetricAggregate | None = None


class MatchingMetrics(BaseModel):
    sync_match_rate: MetricAggregate | None = None
    async_match_rate: MetricAggregate | None = None
    task_dispatch_latency: MetricAggregate | None = None
    backlog_count: MetricAggregate | None = None
    backlog_age: MetricAggregate | None = None


class DSQLPoolMetrics(BaseModel):
    pool_open_count: MetricAggregate | None = None
    pool_in_use_count: MetricAggregate | None = None
    pool_idle_count: MetricAggregate | None = None
    reservoir_size: MetricAggregate | None = None
    reservoir_empty_events: MetricAggregate | None = None
    open_failures: MetricAggregate | None = None
    reconnect_count: MetricAggregate | None = None


class ErrorMetrics(BaseModel):
    occ_conflicts_per_sec: MetricAggregate | None = None
    exhausted_retries_per_sec: MetricAggregate | None = None
    dsql_auth_failures: MetricAggregate | None = None


class ServiceAggregates(BaseModel):
    """A per-service metric; a service without data is None (and listed as missing)."""

    history: MetricAggregate | None = None
    matching: MetricAggregate | None = None
    frontend: MetricAggregate | None = None
    worker: MetricAggregate | None = None


class ResourceMetrics(BaseModel):
    cpu_utilization: ServiceAggregates = Field(default_factory=ServiceAggregates)
    memory_utilization: ServiceAggregates = Field(default_factory=ServiceAggregates)
    worker_task_slot_utilization: MetricAggregate | None = None


class TelemetrySummary(BaseModel):
    throughput: ThroughputMetrics = Field(default_factory=ThroughputMetrics)
    latency: LatencyMetrics = Field(default_factory=LatencyMetrics)
    matching: MatchingMetrics = Field(default_factory=MatchingMetrics)
    dsql_pool: DSQLPoolMetrics = Field(default_factory=DSQLPoolMetrics)
    errors: ErrorMetrics = Field(default_factory=ErrorMetrics)
    resources: ResourceMetrics = Field(default_factory=ResourceMetrics)
    missing: list[MissingMetric] = Field(default_factory=list)
    step_seconds: int | None = None
    """Resolution of the range queries the aggregates were computed from."""

    def get(self, key: str) -> MetricAggregate | None:
        """The aggregate for a catalog id (``errors.occ_conflicts_per_sec``) or a per-service key
        (``resources.cpu_utilization.history``). Raises KeyError for ids not in the catalog."""
        metric = catalog_metric(key)
        holder: Any = getattr(self, metric.group.value)
        value = getattr(holder, metric.field)
        if metric.per_service:
            if key == metric.id:
                raise KeyError(f"{key} is per service; ask for {key}.<service>")
            return getattr(value, key.rsplit(".", 1)[1])  # type: ignore[no-any-return]
        return value  # type: ignore[no-any-return]

    def set(self, key: str, aggregate: MetricAggregate | None) -> None:
        metric = catalog_metric(key)
        holder: Any = getattr(self, metric.group.value)
        if metric.per_service:
            setattr(getattr(holder, metric.field), key.rsplit(".", 1)[1], aggregate)
        else:
            setattr(holder, metric.field, aggregate)

    @staticmethod
    def metric_keys() -> list[str]:
        """Every aggregate key, per-service metrics expanded."""
        out: list[str] = []
        for metric_id in metric_ids():
            metric = catalog_metric(metric_id)
            out.extend(f"{metric_id}.{s}" for s in SERVICES) if metric.per_service else out.append(metric_id)
        return out

    def items(self) -> list[tuple[str, CatalogMetric, MetricAggregate | None]]:
        return [(key, catalog_metric(key), self.get(key)) for key in self.metric_keys()]

    def observed_count(self) -> int:
        """How many aggregates have data; 0 means the window had no telemetry at all."""
        return sum(1 for key in self.metric_keys() if self.get(key) is not None)


# --- the profile -------------------------------------------------------------------------------


class BehaviourProfile(BaseModel):
    id: str
    name: str
    label: str | None = None

    cluster_id: str
    namespace: str | None = None
    task_queue: str | None = None
    time_window_start: InstantType
    time_window_end: InstantType

    temporal_server_version: VersionType | None = None
    dsql_plugin_version: VersionType | None = None
    worker_code_sha: str | None = None

    config_snapshot: ConfigSnapshot
    telemetry: TelemetrySummary

    created_at: InstantType
    is_baseline: bool = False
    """Not part of the immutable S3 document's meaning: always read from the index."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def telemetry_empty(self) -> bool:
        """True when no metric had data in the window: such a profile cannot be a baseline."""
        return self.telemetry.observed_count() == 0


class ProfileMetadata(BaseModel):
    id: str
    name: str
    label: str | None
    cluster_id: str
    namespace: str | None
    task_queue: str | None = None
    time_window_start: InstantType
    time_window_end: InstantType
    is_baseline: bool
    created_at: InstantType
    observed_metrics: int | None = None
    """Aggregates with data (of TelemetrySummary.metric_keys()); None for profiles indexed before it was recorded."""
    telemetry_empty: bool = False
    """No metric had data in the window: shown so nobody picks it as a baseline (which is refused)."""


class ProfilePage(BaseModel):
    items: list[ProfileMetadata]
    next_cursor: str | None = None
    """Pass as ``cursor`` to get the next page; None on the last page."""


class CreateProfileRequest(BaseModel):
    """Times as ISO 8601 or epoch milliseconds (Grafana's ${__from} / ${__to}). Every field has a
    maximum (``temporal_dsql_profiles.limits``): what is accepted here can be read, compared and made
    the baseline."""

    # Unknown fields are refused (422 naming the field and the closest known one): a typo such as
    # ``task_queu`` silently dropped would profile the whole namespace instead of one queue.
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: NameText
    cluster_id: ClusterIdText | None = None
    """Defaults to the deployment's cluster (PROFILES_CLUSTER_ID)."""
    time_window_start: InstantType
    time_window_end: InstantType
    namespace: NamespaceText | None = None
    task_queue: TaskQueueText | None = None
    label: LabelText | None = None
    temporal_server_version: VersionType | None = None
    dsql_plugin_version: VersionType | None = None
    worker_code_sha: WorkerShaText | None = None
    server_env_vars: BoundedEnvVars | None = None
    """Extra environment (service -> name -> value) to snapshot; secrets are redacted."""
    dynamic_config: BoundedJsonMap | None = None
    """Extra dynamic config (key -> value) to snapshot, overriding the deployed artifacts."""

    @field_validator("namespace", "task_queue", "label", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # Grafana sends "" (or "$__all"/"All") for unset variables.
        if isinstance(value, str) and value.strip() in ("", "$__all", "All"):
            return None
        return value


class CompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_a_id: ProfileIdText
    profile_b_id: ProfileIdText
    thresholds: ComparisonThresholds | None = None


# --- comparison --------------------------------------------------------------------------------


class ComparisonThresholds(BaseModel):
    """Relative change of the mean (percent) beyond which a metric is a regression/improvement."""

    model_config = ConfigDict(extra="forbid")

    latency_pct: float = Field(default=20.0, gt=0, allow_inf_nan=False)
    error_pct: float = Field(default=50.0, gt=0, allow_inf_nan=False)
    throughput_pct: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    saturation_pct: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    critical_multiplier: float = Field(default=2.0, ge=1, allow_inf_nan=False)
    """A change beyond threshold x this is critical."""


ConfigSection = Literal["dynamic_config", "server_env", "worker_options", "dsql_plugin", "config_profile"]


class ConfigDiff(BaseModel):
    section: ConfigSection
    key: str
    change: Literal["changed", "added", "removed"]
    old_value: JsonValue = None
    new_value: JsonValue = None
    classification: ParameterClassification | None = None


class TelemetryDiff(BaseModel):
    metric: str
    group: MetricGroup
    unit: str
    old_value: MetricAggregate | None
    new_value: MetricAggregate | None
    change_pct: float | None
    """Relative change of the mean, percent; None when either side is missing or the base is 0."""
    direction: Literal["improved", "regressed", "unchanged", "missing"]
    severity: Literal["info", "warning", "critical"]
    note: str | None = None


class VersionDiff(BaseModel):
    component: Literal["temporal_server", "dsql_plugin", "worker_code"]
    old_version: str | None
    new_version: str | None


class ProfileComparison(BaseModel):
    profile_a_id: str
    profile_b_id: str
    thresholds: ComparisonThresholds
    config_diffs: list[ConfigDiff]
    telemetry_diffs: list[TelemetryDiff]
    version_diffs: list[VersionDiff]


CompareRequest.model_rebuild()
