"""Pulumi components for Temporal on ECS with Aurora DSQL persistence.

    from pulumi_temporal_dsql import MidScale, MidScaleArgs
    cluster = MidScale("temporal", MidScaleArgs(grafana_origin="https://grafana.example.com"))
    pulumi.export("frontend", cluster.frontend_address)

Type tokens are `temporal-dsql:<module>:<Type>` and are public API (renaming one replaces
resources). Children are named `<name>-<role>` and parented to their component.

Importing this package makes the pulumi_aws service packages lazy about their members
(`lazy_aws`): a program declaring a few dozen resource types imports their modules, not the
~500 modules of every service it touches.
"""

# ruff: noqa: E402  (the finder goes in before the component modules import pulumi_aws)
from pulumi_temporal_dsql import lazy_aws as _lazy_aws

_lazy_aws.install()  # before any component imports pulumi_aws


from pulumi_temporal_dsql.cluster import EcsCluster, EcsClusterArgs
from pulumi_temporal_dsql.copilot import CopilotWorkers, CopilotWorkersArgs
from pulumi_temporal_dsql.dsql import DsqlStore, DsqlStoreArgs
from pulumi_temporal_dsql.errors import ComponentInputError, ConfigCompileError, LambdaBundleError
from pulumi_temporal_dsql.network import Network, NetworkArgs
from pulumi_temporal_dsql.observability import MetricsWorkspace, MetricsWorkspaceArgs
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
from pulumi_temporal_dsql.profile_api import ProfileApi, ProfileApiArgs
from pulumi_temporal_dsql.service import TemporalService, TemporalServiceArgs
from pulumi_temporal_dsql.setup import OneOffTask, OneOffTaskArgs, SetupRunner, SetupRunnerArgs
from pulumi_temporal_dsql.storage import ProfileBucket, ProfileBucketArgs
from pulumi_temporal_dsql.visibility import Visibility, VisibilityArgs

__all__ = [
    "ComponentInputError",
    "ConfigCompileError",
    "CopilotWorkers",
    "CopilotWorkersArgs",
    "DsqlStore",
    "DsqlStoreArgs",
    "EcsCluster",
    "EcsClusterArgs",
    "HighThroughput",
    "HighThroughputArgs",
    "LambdaBundleError",
    "MetricsWorkspace",
    "MetricsWorkspaceArgs",
    "MidScale",
    "MidScaleArgs",
    "Network",
    "NetworkArgs",
    "OneOffTask",
    "OneOffTaskArgs",
    "ProfileApi",
    "ProfileApiArgs",
    "ProfileBucket",
    "ProfileBucketArgs",
    "SetupRunner",
    "SetupRunnerArgs",
    "Starter",
    "StarterArgs",
    "TemporalDsqlPreset",
    "TemporalDsqlPresetArgs",
    "TemporalService",
    "TemporalServiceArgs",
    "Visibility",
    "VisibilityArgs",
]
