"""`TemporalDsqlPreset`: one scale preset in, a deployed Temporal-on-DSQL cluster out.

The preset is compiled FIRST, in pure code; a compiler error (unknown preset, guard-rail
failure) fails the program with every compiler message before any resource is declared.
Then the children are created, each parented to this component (or to its logical owner),
named `<name>-<role>` so URNs are stable, and exposed as attributes; `register_outputs` is the
last call. `Starter`, `MidScale` and `HighThroughput` are the same component with the preset
fixed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql import images
from pulumi_temporal_dsql.choices import (
    ENVIRONMENT_CHOICES,
    CapacityMode,
    Environment,
    ModifierName,
    PresetName,
    ProfileApiAuth,
)
from pulumi_temporal_dsql.cluster import CAPACITY_MODES, EcsCluster, EcsClusterArgs
from pulumi_temporal_dsql.compiled import (
    CompiledConfig,
    compile_config,
    compile_for_deployment,
    conn_lease_table,
    deployed_config,
    deployed_profile,
    rate_limiter_table,
)
from pulumi_temporal_dsql.containers import canonical_json, environment
from pulumi_temporal_dsql.dsql import DsqlStore, DsqlStoreArgs
from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.fielddocs import documented
from pulumi_temporal_dsql.iam import (
    ACTIONS_WITHOUT_RESOURCES,
    DSQL_CONNECT_ACTIONS,
    DYNAMODB_ITEM_ACTIONS,
    ES_HTTP_ACTIONS,
    assume_role_policy,
    policy_document,
    statement,
)
from pulumi_temporal_dsql.image_build import ImageBuild, ImageBuildArgs
from pulumi_temporal_dsql.network import Network, NetworkArgs, task_security_group
from pulumi_temporal_dsql.observability import MetricsWorkspace, MetricsWorkspaceArgs
from pulumi_temporal_dsql.outputs import OUTPUT_NAMES, output_attribute
from pulumi_temporal_dsql.service import (
    DYNAMIC_CONFIG_FILE,
    RoleSpec,
    TaskSpec,
    TemporalService,
    TemporalServiceArgs,
    temporal_containers,
)
from pulumi_temporal_dsql.setup import (
    NAMESPACE_COMMAND,
    SCHEMA_COMMAND,
    VISIBILITY_COMMAND,
    OneOffTask,
    OneOffTaskArgs,
    SetupRunner,
    SetupRunnerArgs,
)
from pulumi_temporal_dsql.setup import visibility_env as setup_visibility_env
from pulumi_temporal_dsql.storage import ProfileBucket, ProfileBucketArgs
from pulumi_temporal_dsql.visibility import (
    VISIBILITY_INDEX_PREFIX,
    Visibility,
    VisibilityArgs,
    visibility_env,
)
from temporal_dsql_config import aws_rules
from temporal_dsql_core import ConfigProfile, ParameterValue
from temporal_dsql_core.alert_rules import rules_yaml

__all__ = [
    "ENVIRONMENTS",
    "HighThroughput",
    "HighThroughputArgs",
    "MidScale",
    "MidScaleArgs",
    "Starter",
    "StarterArgs",
    "TemporalDsqlPreset",
    "TemporalDsqlPresetArgs",
    "deployment_env",
]

ENVIRONMENTS = ENVIRONMENT_CHOICES
TEMPORAL_ROLES = ("history", "matching", "frontend", "worker")
UI_SPEC = RoleSpec(role="ui", replicas=1, cpu=256, memory_mib=512, grpc_port=8080)
FRONTEND_PORT = 7233


@documented
@dataclass(kw_only=True)
class TemporalDsqlPresetArgs:
    """Everything a preset deployment takes; every field but `preset` has a documented default."""

    preset: PresetName
    """Scale preset: starter, mid-scale or high-throughput (the compiler's list is authoritative)."""
    modifier: ModifierName | None = None
    """Workload modifier applied on top of the preset (simple-crud, orchestrator, batch-processor, long-running)."""
    overrides: Mapping[str, ParameterValue] = field(default_factory=dict)
    """Parameter key -> value; checked by the compiler's guard rails."""
    environment: Environment = "prod"
    """dev, staging or prod. dev turns deletion protection off and lets buckets be destroyed."""
    vpc_id: pulumi.Input[str] | None = None
    """Existing VPC; None creates a minimal one (2 AZs, private subnets, one NAT gateway)."""
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Private subnets of `vpc_id` for the tasks, load balancer and OpenSearch (required with vpc_id)."""
    vpc_cidr: str = "10.42.0.0/16"
    """CIDR of the created VPC (with `vpc_id`, the VPC's own CIDR is looked up instead)."""
    server_image: str = images.DEFAULT_SERVER_IMAGE
    """Temporal server image: the runtime layer (docker/runtime/) on the temporal-dsql fork's server build."""
    ui_image: str = images.DEFAULT_UI_IMAGE
    """Temporal Web UI image (public, Docker Hub)."""
    admin_tools_image: str = images.DEFAULT_ADMIN_TOOLS_IMAGE
    """Temporal admin-tools image (public, Docker Hub): registers the namespace and the visibility indices."""
    collector_image: str = images.DEFAULT_COLLECTOR_IMAGE
    """AWS Distro for OpenTelemetry collector (public ECR): scrapes :9090, remote-writes to AMP."""
    copilot_worker_image: str = images.DEFAULT_COPILOT_WORKER_IMAGE
    """SRE copilot image (docker/copilot/), used when copilot_enabled."""
    build_images: ImageBuildArgs | None = None
    """Build the runtime and copilot images from the shipped Dockerfiles during `pulumi up` and push them
    to an ECR repository the stack creates; the task definitions use the pushed digests (overrides
    server_image and copilot_worker_image). Needs `temporal-dsql[images]`."""
    capacity: CapacityMode = "fargate"
    """fargate (default) or ec2 (an Auto Scaling group of Graviton instances, stable IPs)."""
    ec2_instance_type: str = "m7g.xlarge"
    """Instance type of the EC2 capacity (capacity="ec2" only)."""
    ec2_instance_count: int = 3
    """Instances in the EC2 capacity's Auto Scaling group (capacity="ec2" only)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags added to every taggable resource (on top of project, preset and environment)."""
    deletion_protection: bool | None = None
    """DSQL cluster deletion protection; None means on, except for the dev environment."""
    copilot_enabled: bool = False
    """Deploy the SRE copilot (its own ECS cluster, Temporal server and DSQL cluster)."""
    profile_api_enabled: bool = True
    """Deploy the behaviour-profile API (Lambda + Function URL)."""
    profile_api_auth: ProfileApiAuth = "AWS_IAM"
    """AWS_IAM or token (a bearer token kept in Secrets Manager)."""
    profile_api_code: pulumi.Archive | None = None
    """The Lambda bundle; None builds it from the installed package into build/lambda/ (next to the program)."""
    grafana_origin: str | None = None
    """Browser origin of Grafana, the only origin the profile API's CORS allows."""
    opensearch_endpoint: str | None = None
    """Existing visibility endpoint; None creates an OpenSearch domain sized by the preset."""
    opensearch_domain_arn: str | None = None
    """ARN of the existing OpenSearch domain (required with opensearch_endpoint: IAM is granted on it)."""
    amp_workspace_id: str | None = None
    """Existing AMP workspace; None creates one."""
    namespace: str = "default"
    """The namespace registered at deployment."""
    namespace_retention: str = "72h"
    """Workflow retention of the registered namespace (a Go duration)."""
    log_retention_days: int = 30
    """CloudWatch Logs retention of every log group the stack creates."""
    bedrock_model_id: str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    """Bedrock model (inference profile) the copilot's explanations use."""
    service_ignore_changes: Sequence[str] = ()
    """Forwarded as `ignore_changes` to every `aws.ecs.Service` child (e.g. ["desired_count"])."""


@documented
@dataclass(kw_only=True)
class StarterArgs(TemporalDsqlPresetArgs):
    """Args of the starter preset (small clusters, development and light production)."""

    preset: PresetName = "starter"
    """Fixed: starter."""


@documented
@dataclass(kw_only=True)
class MidScaleArgs(TemporalDsqlPresetArgs):
    """Args of the mid-scale preset."""

    preset: PresetName = "mid-scale"
    """Fixed: mid-scale."""


@documented
@dataclass(kw_only=True)
class HighThroughputArgs(TemporalDsqlPresetArgs):
    """Args of the high-throughput preset."""

    preset: PresetName = "high-throughput"
    """Fixed: high-throughput."""


def deployment_env(*, visibility_host: str, visibility_index: str, region: str) -> dict[str, str]:
    """What the deployment adds to the compiled env (the compiled env wins on any shared key)."""
    return {
        **visibility_env(visibility_host, visibility_index),
        "TEMPORAL_DYNAMIC_CONFIG_FILE": DYNAMIC_CONFIG_FILE,
        "AWS_REGION": region,
    }


def role_spec(role: str, spec: Any) -> RoleSpec:
    return RoleSpec(
        role=role,
        replicas=int(spec.replicas),
        cpu=int(spec.cpu),
        memory_mib=int(spec.memory_mib),
        grpc_port=int(spec.grpc_port),
        membership_port=int(spec.membership_port) if spec.membership_port else None,
        metrics_port=int(spec.metrics_port) if spec.metrics_port else None,
    )


def _validate(args: TemporalDsqlPresetArgs, name: str) -> None:
    if not args.preset:
        raise ComponentInputError("preset is required.", field="preset", suggestion="Pass preset='mid-scale'.")
    # AWS's own rules (temporal_dsql_config.aws_rules: botocore's models) for what this component names
    # itself; the compiler checks the table names it is given.
    # Pulumi auto-names the bucket and the roles: the logical name + "-" + 7 random hex characters.
    auto = "-0000000"
    problems = [*aws_rules.check_log_group_name("name", f"/ecs/{name}/frontend"),
                *aws_rules.check_s3_bucket("name", f"{name}-profiles-bucket{auto}"),
                *aws_rules.check_iam_role_name("name", f"{name}-copilot-worker-task{auto}"),
                *(aws_rules.check_cidr("vpc_cidr", args.vpc_cidr) if args.vpc_id is None else [])]
    if problems:
        first = problems[0]
        raise ComponentInputError("; ".join(p.message for p in problems), field=first.field, allowed=first.allowed,
                                  suggestion=first.suggestion)
    if args.environment not in ENVIRONMENTS:
        raise ComponentInputError(
            f"Unknown environment {args.environment!r}.", field="environment", allowed=list(ENVIRONMENTS),
            suggestion="Use dev for throw-away stacks, prod otherwise.",
        )
    if args.capacity not in CAPACITY_MODES:
        raise ComponentInputError(
            f"Unknown capacity mode {args.capacity!r}.", field="capacity", allowed=list(CAPACITY_MODES),
            suggestion="Use capacity='fargate' unless you need stable instance IPs.",
        )
    if (args.vpc_id is None) != (args.private_subnet_ids is None):
        raise ComponentInputError(
            "vpc_id and private_subnet_ids go together.", field="private_subnet_ids",
            suggestion="Pass both to use an existing VPC, or neither to create one.",
        )
    if (args.opensearch_endpoint is None) != (args.opensearch_domain_arn is None):
        raise ComponentInputError(
            "opensearch_endpoint and opensearch_domain_arn go together.", field="opensearch_domain_arn",
            suggestion="IAM is granted on that domain only, so its ARN is needed.",
        )


class TemporalDsqlPreset(pulumi.ComponentResource):
    """Temporal on ECS with Aurora DSQL persistence, compiled from one scale preset."""

    compiled: CompiledConfig
    network: Network | None
    ecs: EcsCluster
    dsql: DsqlStore
    metrics: MetricsWorkspace
    visibility: Visibility
    bucket: ProfileBucket
    services: dict[str, TemporalService]
    ui: TemporalService
    load_balancer: aws.lb.LoadBalancer
    schema_setup: OneOffTask
    visibility_setup: OneOffTask
    namespace_setup: OneOffTask
    profile_api: Any
    copilot: Any
    copilot_dsql: DsqlStore | None
    """The copilot's own DSQL cluster (its state store), None without the copilot."""

    frontend_address: pulumi.Output[str]
    namespace: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    security_group_id: pulumi.Output[str]
    dsql_cluster_id: pulumi.Output[str]
    copilot_dsql_cluster_id: pulumi.Output[str | None]
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
    ui_address: pulumi.Output[str]
    kb_id: pulumi.Output[str | None]
    kb_data_source_id: pulumi.Output[str | None]
    kb_bucket: pulumi.Output[str | None]
    copilot_dsql_endpoint: pulumi.Output[str | None]
    copilot_dsql_cluster_arn: pulumi.Output[str | None]
    estimated_monthly_cost: pulumi.Output[float | None]
    """The monthly estimate in USD (`temporal-dsql cost`'s total), priced offline at declaration;
    None in a region the pinned price table does not cover."""

    TYPE = "temporal-dsql:index:TemporalDsqlPreset"

    def __init__(
        self, name: str, args: TemporalDsqlPresetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _validate(args, name)
        # Compile before any resource exists: a bad preset or a guard-rail failure ends the program here.
        self.compiled = compile_for_deployment(
            args.preset, args.modifier, args.overrides, table_prefix=name,
            ec2_instance_type=args.ec2_instance_type if args.capacity == "ec2" else None)
        from pulumi_temporal_dsql.preview.cost import ResourceCollector

        # Records every child as it is declared, so the component can price itself (no network).
        self._cost_inputs = ResourceCollector()
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[self._cost_inputs]))
        super().__init__(self.TYPE, name, None, opts)
        for field_name, (default, config_key, dockerfile) in images.UNBUILT_DEFAULTS.items():
            built = args.build_images is not None and (
                field_name == "server_image" or args.build_images.copilot_context is not None
            )
            if not built and getattr(args, field_name) == default and (
                field_name != "copilot_worker_image" or args.copilot_enabled
            ):
                pulumi.log.warn(
                    f"{field_name} is the unpublished default {default!r}: build it from {dockerfile}, push it to "
                    f"your registry and set `{config_key}` (see README, Images and the dev stack).", resource=self,
                )
        result = self.compiled
        dev = args.environment == "dev"
        deletion_protection = (not dev) if args.deletion_protection is None else args.deletion_protection
        tags = {"project": "temporal-dsql", "preset": args.preset, "environment": args.environment, **args.tags}
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        index = f"{VISIBILITY_INDEX_PREFIX}_{name}".replace("-", "_")

        # --- images: the defaults/configured references, or digests built and pushed by this `pulumi up` ---
        server_image: pulumi.Input[str] = args.server_image
        copilot_image: pulumi.Input[str] = args.copilot_worker_image
        self.image_build: ImageBuild | None = None
        if args.build_images is not None:
            self.image_build = ImageBuild(f"{name}-images", args.build_images, tags, opts=child)
            server_image = self.image_build.server_image
            if self.image_build.copilot_image is not None:
                copilot_image = self.image_build.copilot_image

        # --- network ---
        if args.vpc_id is None:
            self.network = Network(f"{name}-net", NetworkArgs(cidr_block=args.vpc_cidr, tags=tags), opts=child)
            vpc_id: pulumi.Input[str] = self.network.vpc_id
            subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] = self.network.private_subnet_ids
            self.security_group = self.network.security_group
        else:
            self.network = None
            vpc_id = args.vpc_id
            subnet_ids = args.private_subnet_ids  # type: ignore[assignment]
            # The tasks admit traffic from the given VPC's own range, looked up rather than assumed.
            vpc_cidr = aws.ec2.get_vpc_output(id=args.vpc_id, opts=invoke).cidr_block
            self.security_group = task_security_group(name, vpc_id, vpc_cidr, tags, self)
        security_groups = [self.security_group.id]

        # --- cluster, persistence, metrics, visibility ---
        self.ecs = EcsCluster(
            name,
            EcsClusterArgs(
                capacity=args.capacity, ec2_instance_type=args.ec2_instance_type,
                ec2_instance_count=args.ec2_instance_count, subnet_ids=subnet_ids,
                security_group_ids=security_groups, log_retention_days=args.log_retention_days, tags=tags,
            ),
            opts=child,
        )
        self.dsql = DsqlStore(
            f"{name}-dsql",
            DsqlStoreArgs(
                deletion_protection=deletion_protection,
                rate_limiter_table=rate_limiter_table(result),
                conn_lease_table=conn_lease_table(result),
                tags=tags,
            ),
            opts=child,
        )
        self.metrics = MetricsWorkspace(
            f"{name}-metrics",
            MetricsWorkspaceArgs(
                existing_workspace_id=args.amp_workspace_id, tags=tags,
                # The health alerts at this deployment's compiled bounds (grafana/alerts/ has each preset's).
                alert_rules=rules_yaml(result.profile.expected_bounds, result.profile.preset_name),
            ),
            opts=child,
        )
        self.visibility = Visibility(
            f"{name}-visibility",
            VisibilityArgs(
                preset=args.preset, index_name=index, existing_endpoint=args.opensearch_endpoint,
                existing_domain_arn=args.opensearch_domain_arn, subnet_ids=subnet_ids,
                security_group_ids=security_groups, tags=tags,
            ),
            opts=child,
        )

        # --- the env each role runs with: compiled env + what the deployment adds ---
        roles = [r for r in TEMPORAL_ROLES if r in result.services]

        def role_envs(values: list[Any]) -> dict[str, dict[str, str]]:
            endpoint, region_name, host = values
            extra = deployment_env(visibility_host=host, visibility_index=index, region=region_name)
            return {
                role: {**extra, **result.env_for(role, cluster_endpoint=endpoint, region=region_name)}
                for role in roles
            }

        self.role_env: pulumi.Output[dict[str, dict[str, str]]] = pulumi.Output.all(
            self.dsql.endpoint, region, self.visibility.endpoint
        ).apply(role_envs)

        # --- the compiled artifacts, stored as data under config/ ---
        layout = deployed_config(result, {role: {} for role in roles}).to_objects()
        # The profile with the real endpoint and region, stored under config/ and exported alike.
        self.deployed_profile: pulumi.Output[ConfigProfile] = pulumi.Output.all(self.dsql.endpoint, region).apply(
            lambda v: deployed_profile(result.profile, cluster_endpoint=v[0], region=v[1])
        )
        objects_output = pulumi.Output.all(self.role_env, self.deployed_profile).apply(
            lambda v: deployed_config(result, v[0], profile=v[1]).to_objects()
        )
        self.bucket = ProfileBucket(
            f"{name}-profiles",
            ProfileBucketArgs(
                force_destroy=dev,
                objects={key: objects_output.apply(_item(key)) for key in layout},
                tags=tags,
            ),
            opts=child,
        )
        dynamic_config_key = "config/dynamic_config.yaml"

        # --- IAM ---
        self.execution_role = aws.iam.Role(
            f"{name}-execution",
            assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
            managed_policy_arns=["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
            tags=tags,
            opts=child,
        )
        table_arns = [t.arn for t in self.dsql.tables.values()]
        task_policy = pulumi.Output.all(
            self.dsql.arn, self.bucket.arn, self.metrics.arn, self.visibility.domain_arn, *table_arns
        ).apply(
            lambda v: policy_document(
                statement(DSQL_CONNECT_ACTIONS, [v[0]], "Dsql"),
                statement(["s3:GetObject"], [f"{v[1]}/{dynamic_config_key}"], "ReadDynamicConfig"),
                statement(["aps:RemoteWrite"], [v[2]], "RemoteWrite"),
                statement(ES_HTTP_ACTIONS, [v[3], f"{v[3]}/*"], "Visibility"),
                *([statement(DYNAMODB_ITEM_ACTIONS, list(v[4:]), "RateLimiterAndSlotBlocks")] if len(v) > 4 else []),
                statement(sorted(a for a in ACTIONS_WITHOUT_RESOURCES if a.startswith("ssmmessages:")), ["*"], "EcsExec"),
            )
        )
        self.task_role = aws.iam.Role(
            f"{name}-task",
            assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
            inline_policies=[aws.iam.RoleInlinePolicyArgs(name="temporal-task", policy=task_policy)],
            tags=tags,
            opts=child,
        )
        self.ui_task_role = aws.iam.Role(
            f"{name}-ui-task",
            assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
            inline_policies=[
                aws.iam.RoleInlinePolicyArgs(
                    name="ecs-exec",
                    policy=policy_document(
                        statement(sorted(a for a in ACTIONS_WITHOUT_RESOURCES if a.startswith("ssmmessages:")), ["*"], "EcsExec")
                    ),
                )
            ],
            tags=tags,
            opts=child,
        )

        # --- logs, one group per role ---
        self.log_groups = {
            role: aws.cloudwatch.LogGroup(
                f"{name}-{role}-logs", name=f"/ecs/{name}/{role}", retention_in_days=args.log_retention_days,
                tags=tags, opts=child,
            )
            for role in [*roles, "ui", "setup"]
        }

        # --- frontend reachable by other stacks: internal NLB (gRPC 7233, UI 8080) ---
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-nlb",
            name=f"{name[:24]}-nlb",
            internal=True,
            load_balancer_type="network",
            subnets=subnet_ids,
            security_groups=security_groups,
            enable_cross_zone_load_balancing=True,
            tags=tags,
            opts=child,
        )
        lb_child = pulumi.ResourceOptions(parent=self.load_balancer)
        self.target_groups: dict[int, aws.lb.TargetGroup] = {}
        for port, label in ((FRONTEND_PORT, "fe"), (UI_SPEC.grpc_port, "ui")):
            group = aws.lb.TargetGroup(
                f"{name}-{label}-tg",
                name=f"{name[:24]}-{label}",
                port=port,
                protocol="TCP",
                target_type="ip",
                vpc_id=vpc_id,
                deregistration_delay=30,
                health_check=aws.lb.TargetGroupHealthCheckArgs(protocol="TCP", interval=10, healthy_threshold=2, unhealthy_threshold=2),
                tags=tags,
                opts=lb_child,
            )
            aws.lb.Listener(
                f"{name}-{label}-listener",
                load_balancer_arn=self.load_balancer.arn,
                port=port,
                protocol="TCP",
                default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=group.arn)],
                tags=tags,
                opts=pulumi.ResourceOptions(parent=group),
            )
            self.target_groups[port] = group
        self.frontend_address = self.load_balancer.dns_name.apply(lambda dns: f"{dns}:{FRONTEND_PORT}")
        self.ui_address = self.load_balancer.dns_name.apply(lambda dns: f"http://{dns}:{UI_SPEC.grpc_port}")

        # --- schema set-up: one task, run once per change, before any role serves ---
        fargate = args.capacity == "fargate"
        # The runner may run these two task families and no other (setup.SetupRunner's IAM).
        schema_family, namespace_family = f"{name}-schema", f"{name}-namespace"
        visibility_family = f"{name}-visibility"
        self.setup_runner = SetupRunner(
            f"{name}-setup",
            SetupRunnerArgs(
                cluster_arn=self.ecs.arn,
                pass_role_arns=[self.execution_role.arn, self.task_role.arn],
                task_families=[schema_family, namespace_family, visibility_family],
                log_retention_days=args.log_retention_days,
                tags=tags,
            ),
            opts=child,
        )
        setup_common: dict[str, Any] = {
            "runner": self.setup_runner,
            "cluster_arn": self.ecs.arn,
            "execution_role_arn": self.execution_role.arn,
            "task_role_arn": self.task_role.arn,
            "subnet_ids": subnet_ids,
            "security_group_ids": security_groups,
            "capacity_provider": self.ecs.capacity_provider_name,
            "log_group": self.log_groups["setup"].name,
            "region": region,
            "fargate": fargate,
            "tags": tags,
        }
        first_role = roles[0]
        self.schema_setup = OneOffTask(
            f"{name}-schema",
            OneOffTaskArgs(
                family=schema_family,
                image=server_image,
                command=SCHEMA_COMMAND,
                env=self.role_env.apply(lambda env: env[first_role]),
                **setup_common,
            ),
            opts=child,
        )

        # --- the visibility index template and indices (this deployment's and the copilot's) ---
        copilot_index = f"{index}_copilot"
        visibility_indices = [index, *([copilot_index] if args.copilot_enabled else [])]
        self.visibility_setup = OneOffTask(
            f"{name}-visibility-setup",
            OneOffTaskArgs(
                family=visibility_family,
                image=args.admin_tools_image,
                command=VISIBILITY_COMMAND,
                env=pulumi.Output.all(self.visibility.endpoint, region).apply(
                    lambda v: setup_visibility_env(v[0], visibility_indices, v[1])
                ),
                **setup_common,
            ),
            opts=child,
        )

        # --- one service per Temporal role ---
        self.services = {}
        for role in roles:
            spec = role_spec(role, result.services[role])
            def render(v: list[Any], spec: RoleSpec = spec) -> str:
                return canonical_json(
                    temporal_containers(
                        TaskSpec(
                            role=spec, image=v[5], config_image=v[5],
                            collector_image=args.collector_image, env=v[0][spec.role], log_group=v[1],
                            region=v[2], config_bucket=v[3], config_key=dynamic_config_key, remote_write_url=v[4],
                            cluster=name,  # the ECS cluster's name (EcsCluster above)
                        )
                    )
                )

            containers = pulumi.Output.all(
                self.role_env, self.log_groups[role].name, region, self.bucket.name, self.metrics.remote_write_url,
                server_image,
            ).apply(render)
            self.services[role] = TemporalService(
                f"{name}-{role}",
                TemporalServiceArgs(
                    role=spec,
                    cluster_arn=self.ecs.arn,
                    containers=containers,
                    execution_role_arn=self.execution_role.arn,
                    task_role_arn=self.task_role.arn,
                    subnet_ids=subnet_ids,
                    security_group_ids=security_groups,
                    namespace_arn=self.ecs.namespace.arn,
                    capacity_provider=self.ecs.capacity_provider_name,
                    fargate=fargate,
                    publish_port_name=None if role == "worker" else "grpc",
                    target_group_arns={str(FRONTEND_PORT): self.target_groups[FRONTEND_PORT].arn} if role == "frontend" else {},
                    depends_on=[self.schema_setup.invocation, self.visibility_setup.invocation,
                                *self.bucket.objects.values()],
                    service_ignore_changes=args.service_ignore_changes,
                    tags=tags,
                ),
                opts=child,
            )

        # --- the UI (a Service Connect client of temporal-frontend) ---
        ui_containers = pulumi.Output.all(self.log_groups["ui"].name, region).apply(
            lambda v: canonical_json(
                [
                    {
                        "name": "ui",
                        "image": args.ui_image,
                        "essential": True,
                        "environment": environment(
                            {"TEMPORAL_ADDRESS": f"temporal-frontend:{FRONTEND_PORT}", "TEMPORAL_UI_PORT": str(UI_SPEC.grpc_port),
                             "TEMPORAL_DEFAULT_NAMESPACE": args.namespace}
                        ),
                        "portMappings": [{"name": "http", "containerPort": UI_SPEC.grpc_port, "appProtocol": "http"}],
                        "logConfiguration": {
                            "logDriver": "awslogs",
                            "options": {"awslogs-group": v[0], "awslogs-region": v[1], "awslogs-stream-prefix": "ui"},
                        },
                    }
                ]
            )
        )
        self.ui = TemporalService(
            f"{name}-ui",
            TemporalServiceArgs(
                role=UI_SPEC,
                cluster_arn=self.ecs.arn,
                containers=ui_containers,
                execution_role_arn=self.execution_role.arn,
                task_role_arn=self.ui_task_role.arn,
                subnet_ids=subnet_ids,
                security_group_ids=security_groups,
                namespace_arn=self.ecs.namespace.arn,
                capacity_provider=self.ecs.capacity_provider_name,
                fargate=fargate,
                publish_port_name=None,
                volumes=(),
                target_group_arns={str(UI_SPEC.grpc_port): self.target_groups[UI_SPEC.grpc_port].arn},
                depends_on=[self.services["frontend"].service] if "frontend" in self.services else [],
                service_ignore_changes=args.service_ignore_changes,
                tags=tags,
            ),
            opts=child,
        )

        # --- the default namespace, registered through the NLB once the frontend exists ---
        self.namespace_setup = OneOffTask(
            f"{name}-namespace",
            OneOffTaskArgs(
                family=namespace_family,
                image=args.admin_tools_image,
                command=NAMESPACE_COMMAND,
                env=self.frontend_address.apply(
                    lambda address: {
                        "TEMPORAL_ADDRESS": address,
                        "TEMPORAL_NAMESPACE": args.namespace,
                        "TEMPORAL_NAMESPACE_RETENTION": args.namespace_retention,
                    }
                ),
                depends_on=[s.service for s in self.services.values()],
                **setup_common,
            ),
            opts=child,
        )

        # --- the copilot's own DSQL cluster (its state store): the profile API's /status reads it ---
        self.copilot_dsql = copilot_dsql = (
            DsqlStore(f"{name}-copilot-dsql", DsqlStoreArgs(deletion_protection=deletion_protection, tags=tags), opts=child)
            if args.copilot_enabled else None
        )

        # --- the behaviour-profile API ---
        self.profile_api = None
        if args.profile_api_enabled:
            from pulumi_temporal_dsql.profile_api import ProfileApi, ProfileApiArgs

            code = args.profile_api_code or _default_bundle()
            self.profile_api = ProfileApi(
                f"{name}-profile-api",
                ProfileApiArgs(
                    code=code,
                    bucket_name=self.bucket.name,
                    bucket_arn=self.bucket.arn,
                    dsql_endpoint=self.dsql.endpoint,
                    dsql_cluster_arn=self.dsql.arn,
                    amp_query_url=self.metrics.query_url,
                    amp_workspace_arn=self.metrics.arn,
                    cluster_id=name,
                    grafana_origin=args.grafana_origin,
                    auth=args.profile_api_auth,
                    # The copilot worker writes its state store under cluster_id=name; /status reads it there.
                    copilot_status={"dsql_endpoint": copilot_dsql.endpoint, "aws_region": region, "cluster_id": name}
                    if copilot_dsql is not None else None,
                    copilot_dsql_cluster_arn=copilot_dsql.arn if copilot_dsql is not None else None,
                    log_retention_days=args.log_retention_days,
                    tags=tags,
                ),
                opts=child,
            )

        # --- the SRE copilot, in its own cluster with its own Temporal and DSQL ---
        self.copilot = None
        if copilot_dsql is not None:
            from pulumi_temporal_dsql.copilot import CopilotWorkers, CopilotWorkersArgs

            # The copilot's own server is small whatever the monitored preset: it runs the starter config.
            copilot_config = compile_config("starter")
            copilot_temporal_env = pulumi.Output.all(copilot_dsql.endpoint, region, self.visibility.endpoint).apply(
                lambda v: {
                    **deployment_env(visibility_host=v[2], visibility_index=copilot_index, region=v[1]),
                    **copilot_config.env_for("frontend", cluster_endpoint=v[0], region=v[1]),
                    "TEMPORAL_ELASTICSEARCH_INDEX": copilot_index,
                }
            )
            self.copilot = CopilotWorkers(
                f"{name}-copilot",
                CopilotWorkersArgs(
                    worker_image=copilot_image,
                    temporal_image=server_image,
                    admin_tools_image=args.admin_tools_image,
                    temporal_env=copilot_temporal_env,
                    dsql_endpoint=copilot_dsql.endpoint,
                    dsql_cluster_arn=copilot_dsql.arn,
                    opensearch_domain_arn=self.visibility.domain_arn,
                    amp_query_url=self.metrics.query_url,
                    amp_workspace_arn=self.metrics.arn,
                    amp_remote_write_url=self.metrics.remote_write_url,
                    collector_image=args.collector_image,
                    # The Temporal roles' groups only (not the UI's or the set-up tasks').
                    monitored_log_group_arns=[self.log_groups[role].arn for role in roles],
                    profile_bucket_name=self.bucket.name,
                    profile_bucket_arn=self.bucket.arn,
                    profile_dsql_endpoint=self.dsql.endpoint,
                    profile_dsql_cluster_arn=self.dsql.arn,
                    subnet_ids=subnet_ids,
                    security_group_ids=security_groups,
                    cluster_id=name,
                    preset_name=args.preset,
                    monitored_namespace=args.namespace,
                    bedrock_model_id=args.bedrock_model_id,
                    force_destroy=dev,
                    log_retention_days=args.log_retention_days,
                    tags=tags,
                ),
                # Its server writes to its own index, created by the visibility set-up above.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.visibility_setup.invocation]),
            )

        # --- the profile store's schema set-up: tables, dedicated roles, their IAM mapping ---
        self.profile_store_setup = None
        db_roles: dict[str, pulumi.Input[str]] = {}
        if self.profile_api is not None:
            from pulumi_temporal_dsql.profile_api import PROFILE_API_DB_ROLE

            db_roles[PROFILE_API_DB_ROLE] = self.profile_api.role.arn
        if self.copilot is not None:
            db_roles["copilot_profiles"] = self.copilot.worker_role.arn
        # The copilot's state store on its own cluster: the worker as copilot_store, /status as copilot_status.
        copilot_db_roles: dict[str, pulumi.Input[str]] | None = None
        if self.copilot is not None:
            from pulumi_temporal_dsql.profile_api import COPILOT_STATUS_DB_ROLE, COPILOT_STORE_DB_ROLE

            copilot_db_roles = {COPILOT_STORE_DB_ROLE: self.copilot.worker_role.arn}
            if self.profile_api is not None:
                copilot_db_roles[COPILOT_STATUS_DB_ROLE] = self.profile_api.role.arn
        if db_roles:
            from pulumi_temporal_dsql.profile_api import ProfileStoreSetup, ProfileStoreSetupArgs

            self.profile_store_setup = ProfileStoreSetup(
                f"{name}-profile-store-setup",
                ProfileStoreSetupArgs(
                    code=args.profile_api_code or _default_bundle(), bucket_name=self.bucket.name,
                    dsql_endpoint=self.dsql.endpoint, dsql_cluster_arn=self.dsql.arn, cluster_id=name,
                    db_roles=db_roles, log_retention_days=args.log_retention_days, tags=tags,
                    copilot_dsql_endpoint=copilot_dsql.endpoint if copilot_db_roles is not None and copilot_dsql else None,
                    copilot_dsql_cluster_arn=copilot_dsql.arn if copilot_db_roles is not None and copilot_dsql else None,
                    copilot_db_roles=copilot_db_roles,
                ),
                opts=child,
            )

        # --- the history shard count, pinned where it deploys ---
        # Temporal fixes numHistoryShards when the schema is set up; a changed count would remap
        # every workflow. The count is the value of a protected SSM parameter that is replaced on
        # any change of its value: the Pulumi engine refuses to replace a protected resource, so
        # `pulumi up` (and `pulumi preview`) of a stack whose shard count changed fails before any
        # resource changes, with no state read at run time (a self-StackReference would depend on
        # the backend's outputs). The way out is the override history.shards=<deployed>, or a new
        # stack; tearing a stack down takes `pulumi state unprotect` of this parameter first.
        self.shard_pin = aws.ssm.Parameter(
            f"{name}-history-shards",
            name=f"/temporal-dsql/{name}/history-shards",
            type="String",
            value=str(result.history_shards),
            description="Temporal numHistoryShards of this deployment: fixed for the cluster's lifetime.",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=True, replace_on_changes=["value"]),
        )

        # --- outputs, registered last ---
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.vpc_id = pulumi.Output.from_input(vpc_id)
        self.private_subnet_ids = pulumi.Output.from_input(subnet_ids).apply(lambda ids: [str(i) for i in ids])
        self.security_group_id = self.security_group.id
        self.dsql_cluster_id = self.dsql.cluster.identifier
        self.dsql_endpoint = self.dsql.endpoint
        self.dsql_cluster_arn = self.dsql.arn
        self.bucket_name = self.bucket.name
        self.profile_api_url = self.profile_api.url if self.profile_api is not None else pulumi.Output.from_input(None)
        self.amp_workspace_id = self.metrics.workspace_id
        self.amp_query_url = self.metrics.query_url
        self.ecs_cluster_arn = self.ecs.arn
        self.preset = pulumi.Output.from_input(args.preset)
        self.history_shards = pulumi.Output.from_input(int(result.history_shards))
        self.profile_json = self.deployed_profile.apply(lambda profile: profile.model_dump_json())
        # The copilot's knowledge base, for `copilot kb sync --bucket --kb-id --ds-id` (None without it).
        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        self.kb_id = self.copilot.kb_id if self.copilot is not None else none
        self.kb_data_source_id = self.copilot.kb_data_source_id if self.copilot is not None else none
        self.kb_bucket = self.copilot.kb_bucket if self.copilot is not None else none
        # Its own DSQL cluster, for `copilot db check-connection` and backups (None without it).
        self.copilot_dsql_endpoint = copilot_dsql.endpoint if copilot_dsql is not None else none
        self.copilot_dsql_cluster_arn = copilot_dsql.arn if copilot_dsql is not None else none
        self.copilot_dsql_cluster_id = copilot_dsql.cluster.identifier if copilot_dsql is not None else none
        self.estimated_monthly_cost = region.apply(lambda r: _estimate_total(self._cost_inputs.inputs, result, args, r, self))
        self.register_outputs(self.stack_outputs())

    def stack_outputs(self) -> dict[str, pulumi.Input[Any]]:
        """The stack outputs (`outputs.StackOutputs`, the consumer contract), in its order."""
        return {name: getattr(self, output_attribute(name)) for name in OUTPUT_NAMES}


def _estimate_total(inputs: list[Any], compiled: CompiledConfig, args: TemporalDsqlPresetArgs, region: str,
                    resource: pulumi.Resource) -> float | None:
    """`temporal-dsql cost`'s monthly total for what this component declared (usage defaults)."""
    from pulumi_temporal_dsql.preview.cost import estimate
    from pulumi_temporal_dsql.preview.prices import UnpricedError
    from pulumi_temporal_dsql.preview.usage import WorkloadFacts

    facts = WorkloadFacts.from_profile_values(args.preset, compiled.profile.values(),
                                              log_retention_days=args.log_retention_days)
    try:
        total = estimate(inputs, facts=facts, region=region, bedrock_model_id=args.bedrock_model_id).total_monthly
    except UnpricedError as error:
        pulumi.log.warn(f"estimatedMonthlyCost: {error}", resource=resource)
        return None
    return round(total, 2)


def _item(key: str) -> Any:
    def pick(objects: dict[str, str]) -> str:
        return objects[key]

    return pick


def _default_bundle() -> pulumi.Archive:
    """Built from the installed package into build/lambda/ under the program's directory."""
    from pulumi_temporal_dsql.lambda_bundle import ensure_bundle

    return pulumi.FileArchive(str(ensure_bundle()))


class Starter(TemporalDsqlPreset):
    """The starter preset (small clusters, development and light production)."""

    # Same type token as the generic component: switching class never re-parents (replaces) children.

    def __init__(self, name: str, args: StarterArgs | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, _fixed(args or StarterArgs(), "starter"), opts)


class MidScale(TemporalDsqlPreset):
    """The mid-scale preset."""

    # Same type token as the generic component: switching class never re-parents (replaces) children.

    def __init__(self, name: str, args: MidScaleArgs | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, _fixed(args or MidScaleArgs(), "mid-scale"), opts)


class HighThroughput(TemporalDsqlPreset):
    """The high-throughput preset."""

    # Same type token as the generic component: switching class never re-parents (replaces) children.

    def __init__(
        self, name: str, args: HighThroughputArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, _fixed(args or HighThroughputArgs(), "high-throughput"), opts)


def _fixed(args: TemporalDsqlPresetArgs, preset: str) -> TemporalDsqlPresetArgs:
    if args.preset != preset:
        raise ComponentInputError(
            f"This component deploys the {preset} preset, not {args.preset!r}.", field="preset", allowed=[preset],
            suggestion="Use TemporalDsqlPreset for a preset chosen at run time.",
        )
    return args


def preset_component(preset: str) -> type[TemporalDsqlPreset]:
    """The named class for a preset, falling back to the generic component."""
    return {"starter": Starter, "mid-scale": MidScale, "high-throughput": HighThroughput}.get(preset, TemporalDsqlPreset)

