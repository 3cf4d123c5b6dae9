"""What stacks/__main__.py runs: read the stack config once, build the preset, export outputs.

Config is read here, at the edge (never inside components). Every config problem is a
`ComponentInputError` naming the key; compiler problems arrive as `ConfigCompileError` with
every compiler message.
"""

from __future__ import annotations

from typing import Any

import pulumi

from dsql_config import aws_rules
from pulumi_temporal_dsql.errors import ComponentInputError
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

__all__ = ["OUTPUT_NAMES", "build_stack", "component_name", "preset_args_from_config"]

OUTPUT_NAMES = (
    "frontend_address",
    "ui_address",
    "namespace",
    "dsql_endpoint",
    "dsql_cluster_arn",
    "bucket_name",
    "profile_api_url",
    "amp_workspace_id",
    "amp_query_url",
    "ecs_cluster_arn",
    "preset",
    "history_shards",
    "profile_json",
    "kb_id",
    "kb_data_source_id",
    "kb_bucket",
    "copilot_dsql_endpoint",
    "copilot_dsql_cluster_arn",
    "estimatedMonthlyCost",
)

_NAMED: dict[str, tuple[type[TemporalDsqlPreset], type[TemporalDsqlPresetArgs]]] = {
    "starter": (Starter, StarterArgs),
    "mid-scale": (MidScale, MidScaleArgs),
    "high-throughput": (HighThroughput, HighThroughputArgs),
}


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
        from pulumi_temporal_dsql.lambda_bundle import inputs_digest, project_root

        root = project_root()
        optional["profile_api_code"] = pulumi.FileArchive(
            str(root / "build" / "lambda" / f"profile_api-{inputs_digest(root)[:16]}.zip")
        )
    return args_class(
        preset=settings.preset,
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
