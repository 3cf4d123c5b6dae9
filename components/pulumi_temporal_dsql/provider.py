"""The preset as a Pulumi component provider, for TypeScript, Go, YAML, C# and Java programs.

    pulumi package add <path to provider/ of the repository, or a git URL of it>

`provider/PulumiPlugin.yaml` (runtime: python) runs `provider/__main__.py`, which calls `main()`:
Pulumi's Python component-provider host (`pulumi.provider.experimental.component_provider_host`)
infers the package schema from the annotations below, and each `TemporalDsql` resource a program
declares is constructed here, in Python, as a `TemporalDsqlPreset`.

The schema needs types Pulumi can express: the choice fields are enums (the `choices` Literals'
values), the nested image-build settings a TypedDict. One Args field has no exact schema type,
listed in `NOT_EXPRESSIBLE`; it is exposed with the closest one.
"""

# No `from __future__ import annotations`: the component analyzer reads the annotations as objects.

import dataclasses
from enum import Enum, StrEnum
from typing import Any, NotRequired, Required, TypedDict

import pulumi

from pulumi_temporal_dsql.image_build import ImageBuildArgs
from pulumi_temporal_dsql.outputs import OUTPUT_NAMES, output_attribute
from pulumi_temporal_dsql.preset import TemporalDsqlPreset, TemporalDsqlPresetArgs

__all__ = [
    "NOT_EXPRESSIBLE",
    "PACKAGE",
    "Capacity",
    "DeployEnvironment",
    "ImageBuildInputs",
    "Modifier",
    "Preset",
    "ProfileApiAuthMode",
    "TemporalDsql",
    "TemporalDsqlArgs",
    "main",
    "preset_args",
]

PACKAGE = "temporal-dsql"
NOT_EXPRESSIBLE = {
    "overrides": "its values are a union (str | int | float | bool | list | dict, ParameterValue) and a schema "
                 "has no unions: exposed as a map of Any, checked by the compiler's guard rails at construct time",
}
"""Args fields whose Python type the schema cannot state exactly, and what it states instead."""


class Preset(StrEnum):
    """Scale preset."""

    STARTER = "starter"
    MID_SCALE = "mid-scale"
    HIGH_THROUGHPUT = "high-throughput"


class Modifier(StrEnum):
    """Workload modifier applied on top of the preset."""

    SIMPLE_CRUD = "simple-crud"
    ORCHESTRATOR = "orchestrator"
    BATCH_PROCESSOR = "batch-processor"
    LONG_RUNNING = "long-running"


class DeployEnvironment(StrEnum):
    """dev turns deletion protection off and lets buckets be destroyed."""

    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class Capacity(StrEnum):
    """Where the tasks run."""

    FARGATE = "fargate"
    EC2 = "ec2"


class ProfileApiAuthMode(StrEnum):
    """The profile API's Function URL auth."""

    AWS_IAM = "AWS_IAM"
    TOKEN = "token"


class ImageBuildInputs(TypedDict):
    """Build the runtime and copilot images during the deployment and push them to ECR."""

    server_base_image: Required[str]
    """The temporal-dsql fork's server image (temporal-server with the DSQL plugin and temporal-sql-tool)."""
    dsql_schema_dir: Required[str]
    """The fork's `schema/dsql/temporal/versioned` directory (the `temporal-dsql-schema` build context)."""
    copilot_context: NotRequired[str]
    """A checkout of temporal-dsql to build the copilot image from; unset keeps copilotWorkerImage."""
    force_delete: NotRequired[bool]
    """Let `pulumi destroy` delete the repositories with their images (dev stacks)."""


class TemporalDsqlArgs(TypedDict):
    """TemporalDsqlPresetArgs for other languages (same fields, camelCase in the schema)."""

    preset: Required[Preset]
    """Scale preset: starter, mid-scale or high-throughput."""
    modifier: NotRequired[Modifier]
    """Workload modifier applied on top of the preset."""
    overrides: NotRequired[dict[str, Any]]
    """Parameter key -> value; checked by the compiler's guard rails."""
    environment: NotRequired[DeployEnvironment]
    """dev, staging or prod. dev turns deletion protection off and lets buckets be destroyed."""
    vpc_id: NotRequired[pulumi.Input[str]]
    """Existing VPC; unset creates a minimal one (2 AZs, private subnets, one NAT gateway)."""
    private_subnet_ids: NotRequired[pulumi.Input[list[str]]]
    """Private subnets of vpcId for the tasks, load balancer and OpenSearch (required with vpcId)."""
    vpc_cidr: NotRequired[str]
    """CIDR of the created VPC."""
    server_image: NotRequired[str]
    """Temporal server image: the runtime layer (docker/runtime/) on the temporal-dsql fork's server build."""
    ui_image: NotRequired[str]
    """Temporal Web UI image."""
    admin_tools_image: NotRequired[str]
    """Temporal admin-tools image."""
    collector_image: NotRequired[str]
    """AWS Distro for OpenTelemetry collector image."""
    copilot_worker_image: NotRequired[str]
    """SRE copilot image, used when copilotEnabled."""
    build_images: NotRequired[ImageBuildInputs]
    """Build and push the runtime and copilot images during the deployment (pinned by digest)."""
    capacity: NotRequired[Capacity]
    """fargate (default) or ec2."""
    ec2_instance_type: NotRequired[str]
    """Instance type of the EC2 capacity."""
    ec2_instance_count: NotRequired[int]
    """Instances in the EC2 capacity's Auto Scaling group."""
    tags: NotRequired[dict[str, str]]
    """Tags added to every taggable resource."""
    deletion_protection: NotRequired[bool]
    """DSQL cluster deletion protection; unset means on, except for the dev environment."""
    copilot_enabled: NotRequired[bool]
    """Deploy the SRE copilot."""
    profile_api_enabled: NotRequired[bool]
    """Deploy the behaviour-profile API (Lambda + Function URL)."""
    profile_api_auth: NotRequired[ProfileApiAuthMode]
    """AWS_IAM or token."""
    profile_api_code: NotRequired[pulumi.Archive]
    """The Lambda bundle; unset builds it from the installed package."""
    grafana_origin: NotRequired[str]
    """Browser origin of Grafana, the only origin the profile API's CORS allows."""
    opensearch_endpoint: NotRequired[str]
    """Existing visibility endpoint; unset creates an OpenSearch domain."""
    opensearch_domain_arn: NotRequired[str]
    """ARN of the existing OpenSearch domain (required with opensearchEndpoint)."""
    amp_workspace_id: NotRequired[str]
    """Existing AMP workspace; unset creates one."""
    namespace: NotRequired[str]
    """The namespace registered at deployment."""
    namespace_retention: NotRequired[str]
    """Workflow retention of the registered namespace."""
    log_retention_days: NotRequired[int]
    """CloudWatch Logs retention of every log group."""
    bedrock_model_id: NotRequired[str]
    """Bedrock model the copilot's explanations use."""
    service_ignore_changes: NotRequired[list[str]]
    """Forwarded as ignore_changes to every ECS service."""


def preset_args(args: TemporalDsqlArgs) -> TemporalDsqlPresetArgs:
    """The Python Args for the provider's inputs (enums to their values, nested dicts to dataclasses)."""
    values: dict[str, Any] = {}
    for key, value in dict(args).items():
        if isinstance(value, Enum):
            value = value.value
        if key == "build_images" and isinstance(value, dict):
            value = ImageBuildArgs(**value)
        values[key] = value
    known = {f.name for f in dataclasses.fields(TemporalDsqlPresetArgs)}
    return TemporalDsqlPresetArgs(**{k: v for k, v in values.items() if k in known})


class TemporalDsql(pulumi.ComponentResource):
    """Temporal on ECS with Aurora DSQL persistence, compiled from one scale preset (temporal-dsql)."""

    frontend_address: pulumi.Output[str]
    """Temporal frontend gRPC address, host:7233 of the internal network load balancer."""
    ui_address: pulumi.Output[str]
    """Temporal Web UI URL (internal load balancer)."""
    namespace: pulumi.Output[str]
    """The namespace registered at deployment."""
    vpc_id: pulumi.Output[str]
    """VPC of the cluster."""
    private_subnet_ids: pulumi.Output[list[str]]
    """Private subnets the tasks, load balancer and OpenSearch run in."""
    security_group_id: pulumi.Output[str]
    """Security group of the Temporal tasks."""
    dsql_cluster_id: pulumi.Output[str]
    """Aurora DSQL cluster identifier."""
    dsql_endpoint: pulumi.Output[str]
    """Aurora DSQL endpoint."""
    dsql_cluster_arn: pulumi.Output[str]
    """Aurora DSQL cluster ARN."""
    bucket_name: pulumi.Output[str]
    """S3 bucket of the compiled config and behaviour profiles."""
    profile_api_url: pulumi.Output[str] | None
    """Behaviour-profile API Function URL (unset without the profile API)."""
    amp_workspace_id: pulumi.Output[str]
    """Amazon Managed Prometheus workspace id."""
    amp_query_url: pulumi.Output[str]
    """AMP query endpoint."""
    ecs_cluster_arn: pulumi.Output[str]
    """ECS cluster running the Temporal services."""
    preset: pulumi.Output[str]
    """The scale preset deployed."""
    history_shards: pulumi.Output[int]
    """numHistoryShards of the cluster."""
    profile_json: pulumi.Output[str]
    """The deployed ConfigProfile as JSON."""
    kb_id: pulumi.Output[str] | None
    """The copilot's Bedrock knowledge base id."""
    kb_data_source_id: pulumi.Output[str] | None
    """The copilot's knowledge-base data source id."""
    kb_bucket: pulumi.Output[str] | None
    """The copilot's knowledge-base bucket."""
    copilot_dsql_cluster_id: pulumi.Output[str] | None
    """The copilot's own DSQL cluster identifier."""
    copilot_dsql_endpoint: pulumi.Output[str] | None
    """The copilot's own DSQL endpoint."""
    copilot_dsql_cluster_arn: pulumi.Output[str] | None
    """The copilot's own DSQL cluster ARN."""
    estimated_monthly_cost: pulumi.Output[float] | None
    """Monthly estimate in USD, priced offline (unset in an unpriced region)."""

    def __init__(self, name: str, args: TemporalDsqlArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:index:TemporalDsql", name, None, opts)
        self.cluster = TemporalDsqlPreset(name, preset_args(args), pulumi.ResourceOptions(parent=self))
        outputs = self.cluster.stack_outputs()
        for key in OUTPUT_NAMES:
            setattr(self, output_attribute(key), pulumi.Output.from_input(outputs[key]))
        self.register_outputs({key: getattr(self, output_attribute(key)) for key in OUTPUT_NAMES})


def main() -> None:
    """Serve the component provider (what provider/__main__.py runs)."""
    from importlib.metadata import version

    from pulumi.provider.experimental import component_provider_host

    component_provider_host([TemporalDsql], name=PACKAGE, version=version("temporal-dsql"))
