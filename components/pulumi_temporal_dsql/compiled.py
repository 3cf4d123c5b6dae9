"""The bridge to the config compiler: compile once, turn its errors into component errors.

The components read only what this module's `CompiledConfig` protocol names, so the compiler
can grow without the components noticing. Compilation happens in pure code before any
resource exists (validate and plan first, then build), and a guard-rail failure carries
every message the compiler produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pulumi_temporal_dsql.errors import ConfigCompileError
from temporal_dsql_core import ConfigProfile, ParameterValue
from temporal_dsql_core.deployed_config import DeployedConfig, DeployedVersions
from temporal_dsql_core.errors import InputError

__all__ = [
    "TABLE_PARAMETERS",
    "CompiledConfig",
    "ServiceSpecLike",
    "compile_config",
    "compile_for_deployment",
    "deployed_config",
    "deployed_profile",
    "table_overrides",
]

# The env names the compiled env_for() fills with the deployment's endpoint and region; the
# profile's parameters behind them (looked up in the compiler's registry) get the same values.
ENDPOINT_ENV_NAMES = frozenset({"CLUSTER_ENDPOINT", "TEMPORAL_SQL_HOST"})
REGION_ENV_NAMES = frozenset({"REGION", "AWS_REGION", "TEMPORAL_SQL_AWS_REGION"})

# The DynamoDB table-name parameters and the suffix of the name a deployment gives each table.
TABLE_PARAMETERS = {
    "dsql.distributed_rate_limiter_table": "rate-limiter",
    "dsql.conn_lease_table": "conn-lease",
}


class ServiceSpecLike(Protocol):
    replicas: int
    cpu: int
    memory_mib: int
    grpc_port: int
    membership_port: int
    metrics_port: int


class CompiledConfig(Protocol):
    """What the components use of `temporal_dsql_config.ConfigCompiler().compile(...)`'s result."""

    @property
    def env(self) -> Mapping[str, Mapping[str, str]]: ...
    @property
    def services(self) -> Mapping[str, Any]: ...
    @property
    def history_shards(self) -> int: ...
    @property
    def dynamic_config_yaml(self) -> str: ...
    @property
    def dsql_plugin_config(self) -> Any: ...
    @property
    def worker_options(self) -> Any: ...
    @property
    def profile(self) -> ConfigProfile: ...

    def env_for(self, service: str, *, cluster_endpoint: str, region: str) -> dict[str, str]: ...


def _messages(error: BaseException) -> list[str]:
    # GuardRailError: `errors` holds the failing rules (its `results` also holds warnings).
    results = getattr(error, "errors", None) or getattr(error, "results", None)
    if results:
        messages = []
        for result in results:
            if isinstance(result, InputError):  # InputErrors: each with its allowed values and fix
                messages.append(result.render())
                continue
            text = getattr(result, "message", None) or str(result)
            rule = getattr(result, "rule_name", None) or getattr(result, "name", None)
            messages.append(f"{rule}: {text}" if rule and rule not in text else text)
        return messages
    return [getattr(error, "message", None) or str(error)]


def compile_config(
    preset: str, modifier: str | None = None, overrides: Mapping[str, ParameterValue] | None = None,
    *, ec2_instance_type: str | None = None,
) -> CompiledConfig:
    """Compile the preset; raise `ConfigCompileError` carrying every compiler message on failure.

    `ec2_instance_type` None: the tasks run on Fargate (every size a Fargate size); else every task
    must fit that instance type after the ECS agent's reservation (temporal_dsql_config.fargate)."""
    from temporal_dsql_config import ConfigCompiler

    try:
        result = ConfigCompiler().compile(preset, modifier=modifier, overrides=dict(overrides or {}),
                                          ec2_instance_type=ec2_instance_type)
    except InputError as error:
        raise ConfigCompileError(
            _messages(error), field=error.field, allowed=error.allowed, suggestion=error.suggestion
        ) from error
    return result  # type: ignore[no-any-return,return-value]


def _table_name(result: CompiledConfig, attribute: str) -> str | None:
    value = getattr(result, attribute, None)
    return value if isinstance(value, str) and value else None


def rate_limiter_table(result: CompiledConfig) -> str | None:
    return _table_name(result, "distributed_rate_limiter_table")


def conn_lease_table(result: CompiledConfig) -> str | None:
    return _table_name(result, "conn_lease_table") or _table_name(result, "distributed_conn_lease_table")


def table_overrides(
    result: CompiledConfig, prefix: str, overrides: Mapping[str, ParameterValue] | None = None
) -> dict[str, str]:
    """`<prefix>-rate-limiter` / `<prefix>-conn-lease` for each table the compiled config enables
    and the caller did not name: the presets fix one name for every stack, and two stacks in one
    account and region would then share (and fight over) one table."""
    enabled = {
        "dsql.distributed_rate_limiter_table": rate_limiter_table(result),
        "dsql.conn_lease_table": conn_lease_table(result),
    }
    given = overrides or {}
    return {key: f"{prefix}-{suffix}" for key, suffix in TABLE_PARAMETERS.items() if enabled[key] and key not in given}


def compile_for_deployment(
    preset: str, modifier: str | None, overrides: Mapping[str, ParameterValue] | None, *, table_prefix: str,
    ec2_instance_type: str | None = None,
) -> CompiledConfig:
    """Compile, then (when tables are on) compile again with this deployment's table names as
    overrides: the compiler stays the one source of the env, the profile and the artifacts, and
    they all carry the names of the tables the deployment really creates."""
    result = compile_config(preset, modifier, overrides, ec2_instance_type=ec2_instance_type)
    names = table_overrides(result, table_prefix, overrides)
    if not names:
        return result
    return compile_config(preset, modifier, {**(overrides or {}), **names}, ec2_instance_type=ec2_instance_type)


def deployed_profile(profile: ConfigProfile, *, cluster_endpoint: str, region: str) -> ConfigProfile:
    """The profile with the deployment's real DSQL endpoint and region in place of the compiler's
    placeholders (`cluster-id.dsql.us-east-1.on.aws`, `us-east-1`): the endpoint is known only once
    the cluster exists, after compilation, exactly as `env_for` substitutes it in the env. This is
    the one place the stored and exported profile gets them."""
    from temporal_dsql_config import default_registry

    registry = default_registry()

    def replaced(params: list[Any]) -> list[Any]:
        out = []
        for param in params:
            env_names = set(registry.get(param.key).env_vars) if param.key in registry else set()
            if env_names & ENDPOINT_ENV_NAMES:
                param = param.model_copy(update={"value": cluster_endpoint})
            elif env_names & REGION_ENV_NAMES:
                param = param.model_copy(update={"value": region})
            out.append(param)
        return out

    return profile.model_copy(update={
        name: replaced(getattr(profile, name))
        for name in ("slo_params", "topology_params", "safety_params", "tuning_params")
    })


def _flat(model: Any) -> dict[str, Any]:
    """A pydantic model or mapping as flat key -> scalar (nested mappings become dotted keys)."""
    data = model.model_dump(mode="json") if hasattr(model, "model_dump") else dict(model)
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            for inner, item in _flat(value).items():
                flat[f"{key}.{inner}"] = item
        else:
            flat[key] = value
    return flat


def deployed_config(
    result: CompiledConfig, env: Mapping[str, Mapping[str, str]], versions: DeployedVersions | None = None,
    *, profile: ConfigProfile | None = None,
) -> DeployedConfig:
    """The artifact set written under config/ in the profile bucket (the layout profiles read back);
    `profile` is the deployed one (`deployed_profile`), the compiled one when not given."""
    return DeployedConfig(
        profile=profile or result.profile,
        dynamic_config_yaml=result.dynamic_config_yaml,
        dsql_plugin_config=_flat(result.dsql_plugin_config),
        worker_options=_flat(result.worker_options),
        env={service: dict(values) for service, values in env.items()},
        versions=versions or DeployedVersions(
            temporal_server_version=str(result.profile.temporal_server_version),
            dsql_plugin_version=str(result.profile.dsql_plugin_version),
        ),
    )
