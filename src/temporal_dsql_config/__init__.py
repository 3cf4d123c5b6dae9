"""The temporal-dsql config compiler: scale presets, workload modifiers, guard rails, artifacts.

    from temporal_dsql_config import ConfigCompiler
    result = ConfigCompiler().compile("mid-scale", modifier="orchestrator",
                                      overrides={"CLUSTER_ENDPOINT": "abc.dsql.eu-west-1.on.aws"})
"""

from temporal_dsql_config.compiler import ConfigCompiler
from temporal_dsql_config.models import (
    CompilationResult,
    CompilationTrace,
    ConfigProfile,
    DSQLPluginConfig,
    GuardRailResult,
    PresetDescription,
    PresetSummary,
    RenderedSnippet,
    ScalePreset,
    ServiceSpec,
    WorkerOptions,
)
from temporal_dsql_config.registry import ParameterRegistry, default_registry
from temporal_dsql_config.resolve import Resolution, coerce_value

__all__ = [
    "CompilationResult",
    "CompilationTrace",
    "ConfigCompiler",
    "ConfigProfile",
    "DSQLPluginConfig",
    "GuardRailResult",
    "ParameterRegistry",
    "PresetDescription",
    "PresetSummary",
    "RenderedSnippet",
    "Resolution",
    "ScalePreset",
    "ServiceSpec",
    "WorkerOptions",
    "coerce_value",
    "default_registry",
]
