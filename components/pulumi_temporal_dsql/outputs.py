"""The consumer contract: the outputs a temporal-dsql stack exports for other stacks to read.

One typed, documented table (`StackOutputs`); the preset exports exactly these keys, the README's
Outputs table is generated from it, and `TemporalDsqlOutputs` reads them from another stack:

    temporal = TemporalDsqlOutputs(pulumi.StackReference("acme/temporal-dsql/prod"))
    pulumi.export("address", temporal.frontend_address)

Keys are snake_case (as `pulumi stack output` shows them). `None` means "not deployed" (the
profile API or the copilot switched off); a consumer reads those with `get`, not `require`.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict, cast, get_type_hints

import pulumi

__all__ = ["OPTIONAL_OUTPUTS", "OUTPUT_NAMES", "StackOutputs", "TemporalDsqlOutputs", "output_attribute"]


class StackOutputs(TypedDict):
    """Every output of a temporal-dsql stack, with its type once resolved."""

    frontend_address: str
    """Temporal frontend gRPC address, `host:7233` of the internal network load balancer."""
    ui_address: str
    """Temporal Web UI URL (`http://host:8080`, internal load balancer)."""
    namespace: str
    """The namespace registered at deployment."""
    vpc_id: str
    """VPC of the cluster (created, or the one passed in)."""
    private_subnet_ids: list[str]
    """Private subnets the tasks, load balancer and OpenSearch run in."""
    security_group_id: str
    """Security group of the Temporal tasks; allow it in your workers' rules, or add workers to it."""
    dsql_cluster_id: str
    """Aurora DSQL cluster identifier of the persistence store."""
    dsql_endpoint: str
    """Aurora DSQL endpoint (`<id>.dsql.<region>.on.aws`)."""
    dsql_cluster_arn: str
    """Aurora DSQL cluster ARN (for `dsql:DbConnect` grants)."""
    bucket_name: str
    """S3 bucket holding the compiled config (config/) and the behaviour profiles."""
    profile_api_url: str | None
    """Behaviour-profile API Function URL; None without the profile API."""
    amp_workspace_id: str
    """Amazon Managed Prometheus workspace id."""
    amp_query_url: str
    """AMP query endpoint (`.../workspaces/<id>`), for Grafana and the copilot."""
    ecs_cluster_arn: str
    """ECS cluster running the Temporal services."""
    preset: str
    """The scale preset deployed."""
    history_shards: int
    """numHistoryShards of the cluster (fixed for its lifetime)."""
    profile_json: str
    """The deployed ConfigProfile as JSON (what the copilot and `temporal-dsql diff` compare against)."""
    kb_id: str | None
    """The copilot's Bedrock knowledge base id; None without the copilot."""
    kb_data_source_id: str | None
    """The copilot's knowledge-base data source id; None without the copilot."""
    kb_bucket: str | None
    """The copilot's knowledge-base bucket; None without the copilot."""
    copilot_dsql_cluster_id: str | None
    """The copilot's own DSQL cluster identifier (its state store); None without the copilot."""
    copilot_dsql_endpoint: str | None
    """The copilot's own DSQL endpoint; None without the copilot."""
    copilot_dsql_cluster_arn: str | None
    """The copilot's own DSQL cluster ARN; None without the copilot."""
    estimatedMonthlyCost: float | None  # the exported key, camelCase as `temporal-dsql cost` names it
    """Monthly estimate in USD (`temporal-dsql cost`'s total), priced offline; None in an unpriced region."""


OUTPUT_NAMES: tuple[str, ...] = tuple(StackOutputs.__annotations__)
OPTIONAL_OUTPUTS: frozenset[str] = frozenset(
    name for name, hint in get_type_hints(StackOutputs).items() if type(None) in getattr(hint, "__args__", ())
)


def output_attribute(name: str) -> str:
    """The Python attribute an output is read from: snake_case (`estimatedMonthlyCost` ->
    `estimated_monthly_cost`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class TemporalDsqlOutputs:
    """Typed access to a temporal-dsql stack's outputs through a StackReference: the always-present
    ones with `require_output` (a missing one fails the consumer's deployment loudly), the optional
    ones with `get_output`."""

    frontend_address: pulumi.Output[str]
    ui_address: pulumi.Output[str]
    namespace: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    security_group_id: pulumi.Output[str]
    dsql_cluster_id: pulumi.Output[str]
    dsql_endpoint: pulumi.Output[str]
    dsql_cluster_arn: pulumi.Output[str]
    bucket_name: pulumi.Output[str]
    profile_api_url: pulumi.Output[str | None]
    amp_workspace_id: pulumi.Output[str]
    amp_query_url: pulumi.Output[str]
    ecs_cluster_arn: pulumi.Output[str]
    preset: pulumi.Output[str]
    history_shards: pulumi.Output[int]
    profile_json: pulumi.Output[str]
    kb_id: pulumi.Output[str | None]
    kb_data_source_id: pulumi.Output[str | None]
    kb_bucket: pulumi.Output[str | None]
    copilot_dsql_cluster_id: pulumi.Output[str | None]
    copilot_dsql_endpoint: pulumi.Output[str | None]
    copilot_dsql_cluster_arn: pulumi.Output[str | None]
    estimated_monthly_cost: pulumi.Output[float | None]

    def __init__(self, reference: pulumi.StackReference) -> None:
        self.reference = reference
        for name in OUTPUT_NAMES:
            output: pulumi.Output[Any] = (
                reference.get_output(name) if name in OPTIONAL_OUTPUTS else reference.require_output(name)
            )
            setattr(self, output_attribute(name), output)

    def all(self) -> pulumi.Output[StackOutputs]:
        """Every output at once, as the typed dictionary."""
        return cast("pulumi.Output[StackOutputs]",
                    pulumi.Output.all(**{n: getattr(self, output_attribute(n)) for n in OUTPUT_NAMES}))
