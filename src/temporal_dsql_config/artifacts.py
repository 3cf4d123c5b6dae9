"""Turn resolved values into the deployable artifacts: dynamic config, env maps, plugin config,
worker options and service shapes."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping

from temporal_dsql_config.models import SERVICE_NAMES, DSQLPluginConfig, ServiceSpec, WorkerOptions
from temporal_dsql_config.presets import (
    per_process_connections,
    per_process_low_watermark,
    per_process_reservoir_target,
)
from temporal_dsql_config.registry import ParameterRegistry
from temporal_dsql_config.values import parse_go_duration
from temporal_dsql_core.types import OutputTarget, ParameterValue, ParameterValueType

__all__ = [
    "SERVICE_PORTS",
    "build_dsql_plugin_config",
    "build_dynamic_config",
    "build_env",
    "build_services",
    "build_worker_options",
    "dynamic_config_yaml",
    "format_env_value",
]

# (gRPC, membership) ports per role, as the ECS deployment uses them; metrics on 9090 everywhere.
SERVICE_PORTS: dict[str, tuple[int, int]] = {
    "frontend": (7233, 6933),
    "history": (7234, 6934),
    "matching": (7235, 6935),
    "worker": (7239, 6939),
}

Values = Mapping[str, ParameterValue]


def _on(key: str) -> Callable[[Values], bool]:
    return lambda v: bool(v[key])


_RESERVOIR = _on("dsql.reservoir_enabled")
_DISTRIBUTED = _on("dsql.distributed_rate_limiter_enabled")
_SLOTS = _on("dsql.slot_block_enabled")

# Env vars emitted only when the feature they configure is on (the plugin ignores them otherwise).
_EMIT_WHEN: dict[str, Callable[[Values], bool]] = {
    "dsql.reservoir_target_ready": _RESERVOIR,
    "dsql.reservoir_low_watermark": _RESERVOIR,
    "dsql.reservoir_base_lifetime": _RESERVOIR,
    "dsql.reservoir_lifetime_jitter": _RESERVOIR,
    "dsql.reservoir_guard_window": _RESERVOIR,
    "dsql.reservoir_initial_fill_timeout": _RESERVOIR,
    "dsql.reservoir_inflight_limit": _RESERVOIR,
    "dsql.pool_warmup_stagger_duration": lambda v: not v["dsql.reservoir_enabled"],
    "dsql.pool_keeper_tick_interval": lambda v: not v["dsql.reservoir_enabled"],
    "dsql.pool_keeper_max_conns_per_tick": lambda v: not v["dsql.reservoir_enabled"],
    "dsql.distributed_rate_limiter_table": _DISTRIBUTED,
    "dsql.distributed_rate_limiter_limit": _DISTRIBUTED,
    "dsql.distributed_rate_limiter_max_wait": _DISTRIBUTED,
    "dsql.token_bucket_enabled": _DISTRIBUTED,
    "dsql.token_bucket_rate": lambda v: bool(v["dsql.distributed_rate_limiter_enabled"] and v["dsql.token_bucket_enabled"]),
    "dsql.token_bucket_capacity": lambda v: bool(v["dsql.distributed_rate_limiter_enabled"] and v["dsql.token_bucket_enabled"]),
    "dsql.token_bucket_max_wait": lambda v: bool(v["dsql.distributed_rate_limiter_enabled"] and v["dsql.token_bucket_enabled"]),
    "dsql.conn_lease_table": _SLOTS,
    "dsql.slot_block_size": _SLOTS,
    "dsql.slot_block_count": _SLOTS,
    "dsql.slot_block_ttl": _SLOTS,
    "dsql.slot_block_renew_interval": _SLOTS,
    "dsql.distributed_conn_limit": _SLOTS,
    "dsql.staggered_startup_max_delay": _on("dsql.staggered_startup"),
}


def format_env_value(value: ParameterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_PER_SERVICE_KEYS = frozenset({"temporal.services", "dsql.max_idle_conns", "dsql.reservoir_target_ready",
                               "dsql.reservoir_low_watermark", "dsql.pool_keeper_max_conns_per_tick"})


def _per_service_value(key: str, service: str, values: Values) -> ParameterValue:
    # Most keys are the same for every service: answered before any per-process arithmetic
    # (this runs for every env key x service on every compile).
    if key not in _PER_SERVICE_KEYS:
        return values[key]
    if key == "temporal.services":
        return service
    if key == "dsql.max_idle_conns":
        idle = int(values[key])
        return per_process_connections(values, service) if idle == int(values["dsql.pool_size"]) else idle
    if key == "dsql.reservoir_target_ready":
        return per_process_reservoir_target(values, service)
    if key == "dsql.reservoir_low_watermark":
        return per_process_low_watermark(values, service)
    # dsql.pool_keeper_max_conns_per_tick
    if service == "history":
        return values[key]
    return min(10, max(1, math.ceil(per_process_connections(values, service) / 120)))


def _env_plan(registry: ParameterRegistry) -> list[tuple[str, Callable[[Values], bool] | None, list[str], list[str]]]:
    plan = _PLANS.get(id(registry))
    if plan is None or plan[0] is not registry:
        rows = []
        for entry in registry.by_target(OutputTarget.ENV_VARS):
            services = [s.value for s in entry.services] if entry.services is not None else list(SERVICE_NAMES)
            rows.append((entry.key, _EMIT_WHEN.get(entry.key), services, list(entry.env_vars)))
        plan = (registry, rows)
        _PLANS[id(registry)] = plan
    return plan[1]


_PLANS: dict[int, tuple[ParameterRegistry, list[tuple[str, Callable[[Values], bool] | None, list[str], list[str]]]]] = {}


def build_env(registry: ParameterRegistry, values: Values) -> dict[str, dict[str, str]]:
    env: dict[str, dict[str, str]] = {s: {} for s in SERVICE_NAMES}
    for key, when, services, names in _env_plan(registry):
        if when is not None and not when(values):
            continue
        if key in _PER_SERVICE_KEYS:
            for service in services:
                value = format_env_value(_per_service_value(key, service, values))
                for name in names:
                    env[service][name] = value
            continue
        value = format_env_value(values[key])  # the same for every service: formatted once
        for service in services:
            target = env[service]
            for name in names:
                target[name] = value
    return {s: dict(sorted(e.items())) for s, e in env.items()}


def _dc_value(value_type: ParameterValueType, value: ParameterValue) -> ParameterValue:
    if value_type == ParameterValueType.FLOAT:
        return float(value)
    return value


def build_dynamic_config(registry: ParameterRegistry, values: Values) -> dict[str, ParameterValue]:
    out: dict[str, ParameterValue] = {}
    for entry in registry.by_target(OutputTarget.DYNAMIC_CONFIG):
        assert entry.dynamic_config_key is not None
        out[entry.dynamic_config_key] = _dc_value(entry.value_type, values[entry.key])
    return dict(sorted(out.items()))


def _yaml_scalar(value: ParameterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)  # a JSON string is a valid double-quoted YAML scalar


def dynamic_config_yaml(dynamic_config: Mapping[str, ParameterValue]) -> str:
    """Temporal's file format: key -> list of {value, constraints}; unconstrained here.

    Emitted directly (PyYAML's pure-Python dumper costs milliseconds per compile); the tests parse
    it back with yaml.safe_load and compare with ``dynamic_config``.
    """
    lines = [_HEADER]
    for key, value in sorted(dynamic_config.items()):
        lines.append(f"{key}:\n  - value: {_yaml_scalar(value)}\n    constraints: {{}}\n")
    return "".join(lines)


_HEADER = "# Generated by temporal-dsql-config; every key is registered in Temporal's constants.go.\n"


def _minutes(values: Values, key: str) -> float:
    return parse_go_duration(str(values[key])) / 60


def build_dsql_plugin_config(values: Values) -> DSQLPluginConfig:
    distributed = bool(values["dsql.distributed_rate_limiter_enabled"])
    bucket = distributed and bool(values["dsql.token_bucket_enabled"])
    slots = bool(values["dsql.slot_block_enabled"])
    return DSQLPluginConfig(
        reservoir_enabled=bool(values["dsql.reservoir_enabled"]),
        reservoir_target_ready=int(values["dsql.reservoir_target_ready"]),
        reservoir_base_lifetime_min=_minutes(values, "dsql.reservoir_base_lifetime"),
        reservoir_lifetime_jitter_min=_minutes(values, "dsql.reservoir_lifetime_jitter"),
        reservoir_guard_window_sec=parse_go_duration(str(values["dsql.reservoir_guard_window"])),
        reservoir_inflight_limit=int(values["dsql.reservoir_inflight_limit"]),
        max_conns=int(values["dsql.pool_size"]),
        max_idle_conns=int(values["dsql.max_idle_conns"]),
        max_conn_lifetime_min=_minutes(values, "dsql.max_conn_lifetime"),
        connection_rate_limit=int(values["dsql.connection_rate_limit"]),
        connection_burst_limit=int(values["dsql.connection_burst_limit"]),
        distributed_rate_limiter_enabled=distributed,
        distributed_rate_limiter_table=str(values["dsql.distributed_rate_limiter_table"]) if distributed else None,
        token_bucket_enabled=bucket,
        token_bucket_rate=int(values["dsql.token_bucket_rate"]) if bucket else None,
        token_bucket_capacity=int(values["dsql.token_bucket_capacity"]) if bucket else None,
        slot_block_enabled=slots,
        slot_block_size=int(values["dsql.slot_block_size"]) if slots else None,
        slot_block_count=int(values["dsql.slot_block_count"]) if slots else None,
        conn_lease_table=str(values["dsql.conn_lease_table"]) if slots else None,
        token_duration_sec=parse_go_duration(str(values["dsql.token_duration"])),
        max_conns_matching=per_process_connections(values, "matching"),
        max_conns_frontend=per_process_connections(values, "frontend"),
        max_conns_worker=per_process_connections(values, "worker"),
    )


def build_worker_options(values: Values) -> WorkerOptions:
    return WorkerOptions(
        max_concurrent_activities=int(values["sdk.max_concurrent_activities"]),
        max_concurrent_workflow_tasks=int(values["sdk.max_concurrent_workflow_tasks"]),
        max_concurrent_local_activities=int(values["sdk.max_concurrent_local_activities"]),
        workflow_task_pollers=int(values["sdk.workflow_task_pollers"]),
        activity_task_pollers=int(values["sdk.activity_task_pollers"]),
        poller_autoscaling=bool(values["sdk.poller_autoscaling"]),
        sticky_schedule_to_start_timeout_sec=parse_go_duration(str(values["sdk.sticky_schedule_to_start_timeout"])),
        disable_eager_activities=bool(values["sdk.disable_eager_activities"]),
        max_concurrent_eager_activities=int(values["sdk.max_concurrent_eager_activities"]),
        max_cached_workflows=int(values["sdk.max_cached_workflows"]),
    )


def build_services(values: Values) -> dict[str, ServiceSpec]:
    return {
        s: ServiceSpec(
            name=s,
            replicas=int(values[f"{s}.replicas"]),
            cpu=int(values[f"{s}.cpu"]),
            memory_mib=int(values[f"{s}.memory_mib"]),
            grpc_port=SERVICE_PORTS[s][0],
            membership_port=SERVICE_PORTS[s][1],
        )
        for s in SERVICE_NAMES
    }
