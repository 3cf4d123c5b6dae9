"""What stacks/__main__.py runs: read the stack config once, build the preset, export outputs.

Config is read here, at the edge (never inside components). Every config problem is a
`ComponentInputError` naming the key; compiler problems arrive as `ConfigCompileError` with
every compiler message.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pulumi

from pulumi_temporal_dsql.choices import PresetName
from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.image_build import ImageBuildArgs
from pulumi_temporal_dsql.outputs import OUTPUT_NAMES
from pulumi_temporal_dsql.preset import (
    HighThroughput,
    HighThroughputArgs,
    MidScale,
    MidScaleArgs,
    Starter,
    StarterArgs,
    TemporalDsqlPreset,
    TemporalDsqlPresetArgs,
)

__all__ = ["OUTPUT_NAMES", "build_stack", "component_name", "preset_args_from_config"]


_NAMED: dict[str, tuple[type[TemporalDsqlPreset], type[TemporalDsqlPresetArgs]]] = {
    "starter": (Starter, StarterArgs),
    "mid-scale": (MidScale, MidScaleArgs),
    "high-throughput": (HighThroughput, HighThroughputArgs),
}


def _bool(config: pulumi.Config, key: str, default: bool) -> bool:
    value = config.get(key)
    if value is None:
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ComponentInputError(f"Config {key} must be a boolean, not {value!r}.", field=key, allowed=["true", "false"])


def _overrides(config: pulumi.Config) -> dict[str, Any]:
    raw = config.get("overrides")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ComponentInputError(
            f"Config overrides is not JSON: {error}.", field="overrides",
            suggestion='Set it as an object: pulumi config set --path "overrides[\'history.replicas\']" 4',
        ) from error
    if not isinstance(value, dict):
        raise ComponentInputError("Config overrides must be an object of parameter -> value.", field="overrides")
    return value


_IMAGE_BUILD_KEYS = {"serverBaseImage": "server_base_image", "dsqlSchemaDir": "dsql_schema_dir",
                     "copilotContext": "copilot_context", "forceDelete": "force_delete"}


def _image_build_args(value: Any) -> ImageBuildArgs:
    """Config `buildImages`: {serverBaseImage, dsqlSchemaDir, copilotContext?, forceDelete?}."""
    if not isinstance(value, dict) or not {"serverBaseImage", "dsqlSchemaDir"} <= set(value) or set(value) - set(_IMAGE_BUILD_KEYS):
        raise ComponentInputError(
            "Config buildImages must be an object with serverBaseImage and dsqlSchemaDir.", field="buildImages",
            allowed=sorted(_IMAGE_BUILD_KEYS),
            suggestion='pulumi config set --path buildImages.serverBaseImage <fork image>; '
                       'pulumi config set --path buildImages.dsqlSchemaDir <fork>/schema/dsql/temporal/versioned',
        )
    return ImageBuildArgs(**{_IMAGE_BUILD_KEYS[key]: item for key, item in value.items()})


def preset_args_from_config(config: pulumi.Config) -> TemporalDsqlPresetArgs:
    preset = config.require("preset")
    _, args_class = _NAMED.get(preset, (TemporalDsqlPreset, TemporalDsqlPresetArgs))
    optional: dict[str, Any] = {}
    for key, field_name in (
        ("modifier", "modifier"),
        ("environment", "environment"),
        ("capacity", "capacity"),
        ("profileApiAuth", "profile_api_auth"),
        ("grafanaOrigin", "grafana_origin"),
        ("vpcId", "vpc_id"),
        ("vpcCidr", "vpc_cidr"),
        ("opensearchEndpoint", "opensearch_endpoint"),
        ("opensearchDomainArn", "opensearch_domain_arn"),
        ("ampWorkspaceId", "amp_workspace_id"),
        ("serverImage", "server_image"),
        ("uiImage", "ui_image"),
        ("adminToolsImage", "admin_tools_image"),
        ("collectorImage", "collector_image"),
        ("copilotWorkerImage", "copilot_worker_image"),
        ("namespace", "namespace"),
        ("bedrockModelId", "bedrock_model_id"),
    ):
        value = config.get(key)
        if value is not None:
            optional[field_name] = value
    subnets = config.get_object("privateSubnetIds")
    if subnets is not None:
        optional["private_subnet_ids"] = list(subnets)  # type: ignore[call-overload]
    if config.get("deletionProtection") is not None:
        optional["deletion_protection"] = _bool(config, "deletionProtection", True)
    if config.get("logRetentionDays") is not None:
        optional["log_retention_days"] = config.require_int("logRetentionDays")
    if not _bool(config, "buildLambda", True):
        # Offline plans do not build: they name the bundle the build would produce.
        from pulumi_temporal_dsql.lambda_bundle import bundle_path

        optional["profile_api_code"] = pulumi.FileArchive(str(bundle_path()))
    build = config.get_object("buildImages")
    if build is not None:
        optional["build_images"] = _image_build_args(build)
    return args_class(
        preset=cast(PresetName, preset),  # an unknown name fails in the compiler, with its whole message
        overrides=_overrides(config),
        copilot_enabled=_bool(config, "copilot", False),
        profile_api_enabled=_bool(config, "profileApi", True),
        tags={"stack": pulumi.get_stack()},
        **optional,
    )


def component_name(stack: str) -> str:
    """The preset component's name on `stack`: the prefix of every child's name, and of the
    DynamoDB tables the deployment names (`<name>-rate-limiter`), which `temporal-dsql diff` shows."""
    return f"temporal-{stack}"


def build_stack(config: pulumi.Config) -> TemporalDsqlPreset:
    """Create the preset component for this stack and export its outputs."""
    args = preset_args_from_config(config)
    component_class, _ = _NAMED.get(args.preset, (TemporalDsqlPreset, TemporalDsqlPresetArgs))
    name = component_name(pulumi.get_stack())
    if component_class is TemporalDsqlPreset:
        component = TemporalDsqlPreset(name, args)
    else:
        component = component_class(name, args)  # type: ignore[call-arg]
    for key, value in component.stack_outputs().items():
        pulumi.export(key, value)
    return component
