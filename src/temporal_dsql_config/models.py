"""The compiler's output models (design: dsql_config/models.py).

``ConfigProfile`` itself lives in ``temporal_dsql_core.profile`` (behaviour profiles snapshot it) and is
re-exported here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, Field

# GuardRailResult is defined beside GuardRailError, which carries them (errors imports nothing of
# the compiler's); re-exported here with the other output models.
from temporal_dsql_config.errors import DsqlConfigError, GuardRailResult
from temporal_dsql_core.deployed_config import DeployedConfig, DeployedVersions
from temporal_dsql_core.models import TelemetryBound
from temporal_dsql_core.profile import ConfigProfile
from temporal_dsql_core.types import (
    ParameterClassification,
    ParameterSource,
    ParameterValue,
    ServiceName,
)

__all__ = [
    "SERVICE_NAMES",
    "CompilationResult",
    "CompilationTrace",
    "ConfigProfile",
    "DSQLPluginConfig",
    "DerivationRule",
    "GuardRailResult",
    "ParameterDescription",
    "PresetDefault",
    "PresetDescription",
    "PresetSummary",
    "RenderedSnippet",
    "ScalePreset",
    "ServiceSpec",
    "ThroughputRange",
    "WorkerOptions",
    "construct_trusted",
    "is_plain_value",
]

SERVICE_NAMES: tuple[str, ...] = tuple(s.value for s in ServiceName)

_M = TypeVar("_M", bound=BaseModel)
_PLAIN_VALUE_TYPES = frozenset({bool, int, float, str})
_new = object.__new__  # BaseModel defines no __new__
_set = object.__setattr__
# BaseModel's slots, set through their descriptors (what pydantic's own model_construct does by
# object.__setattr__, one attribute lookup cheaper each).
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def is_plain_value(value: object) -> bool:
    """Exactly bool, int, float or str: what validating a ParameterValue field returns unchanged
    (the smart union keeps an exact type match), so building the model without validation stores
    the same object validation would."""
    return type(value) in _PLAIN_VALUE_TYPES


def construct_trusted(cls: type[_M], fields: dict[str, Any]) -> _M:
    """A model from values the compiler computed and typed itself, as validation would build it.

    Every compile builds ~220 small models (a trace row and a resolved parameter per registry
    key): one validation pass over them was ~0.3 ms of a ~0.75 ms compile, and `model_construct`
    is slower still (it walks the fields in Python). The caller names every field with a value of
    its exact type (`is_plain_value`, enum members, lists of str), so there is nothing to coerce
    and nothing to default; it falls back to validation when it cannot vouch for a value. The
    dict becomes the model's `__dict__`; the fields-set is a fresh set (pydantic adds to it).
    """
    model = _new(cls)
    _set(model, "__dict__", fields)
    _set_fields_set(model, set(fields))
    _set_extra(model, None)
    _set_private(model, None)
    return model
# The env vars that carry the deployment's endpoint and region (registry: dsql.cluster_endpoint,
# sql.host, dsql.region).
_ENDPOINT_ENV_NAMES = ("CLUSTER_ENDPOINT", "TEMPORAL_SQL_HOST")
_REGION_ENV_NAMES = ("REGION", "AWS_REGION", "TEMPORAL_SQL_AWS_REGION")


class CompilationTrace(BaseModel):
    parameter_key: str
    source: ParameterSource
    base_value: ParameterValue
    final_value: ParameterValue
    derivation_chain: list[str]


class DSQLPluginConfig(BaseModel):
    """The DSQL plugin settings of the history service (design field names; durations in min/sec)."""

    reservoir_enabled: bool
    reservoir_target_ready: int
    reservoir_base_lifetime_min: float
    reservoir_lifetime_jitter_min: float
    reservoir_guard_window_sec: float
    reservoir_inflight_limit: int
    max_conns: int
    max_idle_conns: int
    max_conn_lifetime_min: float
    connection_rate_limit: int
    connection_burst_limit: int
    distributed_rate_limiter_enabled: bool
    distributed_rate_limiter_table: str | None = None
    token_bucket_enabled: bool
    token_bucket_rate: int | None = None
    token_bucket_capacity: int | None = None
    slot_block_enabled: bool
    slot_block_size: int | None = None
    slot_block_count: int | None = None
    conn_lease_table: str | None = None
    token_duration_sec: float = 900.0
    # Pool sizes of the other roles (TEMPORAL_SQL_MAX_CONNS of each; max_conns above is history's).
    # Flat scalars, not a role -> size mapping: this model is stored as-is as config/dsql_plugin.json
    # (DeployedConfig) and compared key by key by behaviour profiles, so one flat shape serves the
    # CLI's dsql_plugin.json, the deployed object and the snapshot alike.
    max_conns_matching: int
    max_conns_frontend: int
    max_conns_worker: int

    def pool_size(self, service: str) -> int:
        """TEMPORAL_SQL_MAX_CONNS of one role's process."""
        if service not in SERVICE_NAMES:
            raise DsqlConfigError(
                f"Unknown service {service!r}.", field="service", allowed=list(SERVICE_NAMES),
                suggestion="Use one of the Temporal roles.",
            )
        return int(self.max_conns if service == "history" else getattr(self, f"max_conns_{service}"))


class WorkerOptions(BaseModel):
    """SDK-neutral worker options; adapters render them per language."""

    max_concurrent_activities: int
    max_concurrent_workflow_tasks: int
    max_concurrent_local_activities: int
    workflow_task_pollers: int
    activity_task_pollers: int
    poller_autoscaling: bool
    sticky_schedule_to_start_timeout_sec: float
    disable_eager_activities: bool
    max_concurrent_eager_activities: int
    max_cached_workflows: int


class ServiceSpec(BaseModel):
    """Shape of one Temporal role's ECS service / container."""

    name: str
    replicas: int
    cpu: int  # CPU units (1024 = 1 vCPU)
    memory_mib: int
    grpc_port: int
    membership_port: int
    metrics_port: int = 9090


class RenderedSnippet(BaseModel):
    """One file an SDK or platform adapter renders (the adapters issue fills these in)."""

    language: str
    filename: str
    content: str


class ThroughputRange(BaseModel):
    min_st_per_sec: float
    max_st_per_sec: float | None
    description: str


class PresetDefault(BaseModel):
    key: str
    value: ParameterValue


class DerivationRule(BaseModel):
    """A named rule: how ``key`` follows from ``depends_on``, as a readable expression."""

    name: str
    key: str
    expression: str
    depends_on: list[str]


class ScalePreset(BaseModel):
    name: str
    description: str
    throughput_range: ThroughputRange
    slo_defaults: list[PresetDefault]
    topology_defaults: list[PresetDefault]
    safety_derivations: list[DerivationRule]
    tuning_derivations: list[DerivationRule]
    expected_bounds: list[TelemetryBound] | None = None


class PresetSummary(BaseModel):
    name: str
    description: str
    throughput_range: ThroughputRange


class ParameterDescription(BaseModel):
    key: str
    classification: ParameterClassification
    value: ParameterValue
    source: ParameterSource
    rationale: str
    external_names: list[str] = Field(default_factory=list)


class PresetDescription(BaseModel):
    preset: str
    modifier: str | None
    description: str
    throughput_range: ThroughputRange
    groups: dict[ParameterClassification, list[ParameterDescription]]
    expected_bounds: list[TelemetryBound]


class CompilationResult(BaseModel):
    profile: ConfigProfile
    dynamic_config: dict[str, ParameterValue]
    dynamic_config_yaml: str
    dsql_plugin_config: DSQLPluginConfig
    env: dict[str, dict[str, str]]
    worker_options: WorkerOptions
    services: dict[str, ServiceSpec]
    history_shards: int
    sdk_snippets: list[RenderedSnippet] = Field(default_factory=list)
    platform_snippets: list[RenderedSnippet] = Field(default_factory=list)
    guard_rail_results: list[GuardRailResult]
    trace: list[CompilationTrace]
    why_section: str
    distributed_rate_limiter_table: str | None = None
    conn_lease_table: str | None = None
    # Names from the input that were legacy or ignored (what happened to each).
    input_notes: list[str] = Field(default_factory=list)

    def env_for(self, service: str, *, cluster_endpoint: str, region: str) -> dict[str, str]:
        """The service's env with the deployment's real endpoint and region substituted everywhere."""
        if service not in self.env:
            raise DsqlConfigError(
                f"Unknown service {service!r}.", field="service", allowed=sorted(self.env),
                suggestion="Use one of the Temporal roles.",
            )
        out = dict(self.env[service])
        for name in _ENDPOINT_ENV_NAMES:
            if name in out:
                out[name] = cluster_endpoint
        for name in _REGION_ENV_NAMES:
            if name in out:
                out[name] = region
        return out

    def deployed_config(self) -> DeployedConfig:
        """What the Pulumi components write under ``config/`` in the profile bucket."""
        return DeployedConfig(
            profile=self.profile,
            dynamic_config_yaml=self.dynamic_config_yaml,
            dsql_plugin_config=self.dsql_plugin_config.model_dump(),
            worker_options=self.worker_options.model_dump(),
            env=self.env,
            versions=DeployedVersions(
                temporal_server_version=str(self.profile.temporal_server_version),
                dsql_plugin_version=str(self.profile.dsql_plugin_version),
            ),
        )
