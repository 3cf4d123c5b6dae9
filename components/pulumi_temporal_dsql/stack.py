"""What stacks/__main__.py runs: read the stack config once, build the preset, export outputs.

Config is read here, at the edge (never inside components). Every config problem is a
`ComponentInputError` naming the key; compiler problems arrive as `ConfigCompileError` with
every compiler message.
"""

from __future__ import annotations

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
from pulumi_temporal_dsql.stack_config import read_stack_config
from temporal_dsql_config import aws_rules

__all__ = ["OUTPUT_NAMES", "build_stack", "component_name", "preset_args_from_config"]

_NAMED: dict[str, tuple[type[TemporalDsqlPreset], type[TemporalDsqlPresetArgs]]] = {
    "starter": (Starter, StarterArgs),
    "mid-scale": (MidScale, MidScaleArgs),
    "high-throughput": (HighThroughput, HighThroughputArgs),
}


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
    """The preset's args from the stack config, read by the one reader (stack_config.read_stack_config,
    Pulumi's typed-config rules) that `temporal-dsql plan/diff --stack-config` use too."""
    settings = read_stack_config(config.get)
    region = pulumi.Config("aws").get("region")
    if region is not None:
        problems = aws_rules.check_region("aws:region", region)
        if problems:
            raise ComponentInputError(problems[0].message, field="aws:region", allowed=problems[0].allowed,
                                      suggestion=problems[0].suggestion)
    _, args_class = _NAMED.get(settings.preset, (TemporalDsqlPreset, TemporalDsqlPresetArgs))
    optional: dict[str, Any] = dict(settings.options)
    if settings.private_subnet_ids is not None:
        optional["private_subnet_ids"] = settings.private_subnet_ids
    if settings.deletion_protection is not None:
        optional["deletion_protection"] = settings.deletion_protection
    if settings.log_retention_days is not None:
        optional["log_retention_days"] = settings.log_retention_days
    if not settings.build_lambda:
        # Offline plans do not build: they name the bundle the build would produce.
        from pulumi_temporal_dsql.lambda_bundle import bundle_path

        optional["profile_api_code"] = pulumi.FileArchive(str(bundle_path()))
    build = config.get_object("buildImages")
    if build is not None:
        optional["build_images"] = _image_build_args(build)
    return args_class(
        preset=cast(PresetName, settings.preset),  # an unknown name fails in the compiler, with its whole message
        overrides=settings.overrides,
        copilot_enabled=settings.copilot,
        profile_api_enabled=settings.profile_api,
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
