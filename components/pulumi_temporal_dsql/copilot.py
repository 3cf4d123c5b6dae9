"""The SRE copilot's workers, in their own ECS cluster with their own Temporal server.

The copilot must keep working while the monitored cluster is unhealthy, so it shares nothing
with it but the visibility domain (under its own index) and the metrics workspace (read only):
- its own Temporal server: one task running every role in a single binary
  (SERVICES=history,matching,frontend,worker), persisting to its OWN DSQL cluster, with a
  `namespace-setup` helper container that registers the copilot namespace once the server is
  healthy (one replica, so it never runs twice at once);
- the copilot worker service (image input), configured ONLY through `CopilotSettings` field
  names, so the variable names cannot drift from what the code reads;
- IAM: bedrock:InvokeModel on the given model, aps:QueryMetrics on the workspace, dsql:DbConnect on
  its own cluster as the ``copilot_store`` database role (the worker never creates tables: the
  set-up, ``profile_api.ProfileStoreSetup`` with the copilot's cluster, creates them and the role), read of the monitored cluster's Temporal log groups (the same groups the worker's
  COPILOT_CLOUDWATCH_LOG_GROUPS names), and, when the profile store is given, what
  `temporal_dsql_copilot.runtime.profile_store_from_env` needs for baseline drift and the stale-profile sweep:
  the PROFILES_* settings, read of the bucket's config/ and profiles/ objects (delete of
  profiles/ objects, which the sweep removes) and DSQL on the monitored cluster's index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql import images
from pulumi_temporal_dsql.containers import canonical_json, environment
from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.iam import (
    DSQL_CONNECT_ACTIONS,
    ES_HTTP_ACTIONS,
    assume_role_policy,
    policy_document,
    statement,
)
from pulumi_temporal_dsql.observability import collector_container
from pulumi_temporal_dsql.profile_api import COPILOT_STORE_DB_ROLE
from pulumi_temporal_dsql.settings_env import settings_env
from pulumi_temporal_dsql.task_definitions import task_definition

__all__ = [
    "WORKER_HEALTH_CHECK",
    "CopilotWorkers",
    "CopilotWorkersArgs",
    "copilot_env",
    "log_group_name",
    "profile_env",
]

# ECS ignores a Dockerfile HEALTHCHECK, so the task definition repeats the image's check: the
# entrypoint's `healthcheck` asks the worker's /health (worker process alive and the copilot's
# Temporal frontend reachable). Full form (all four numbers) so AWS's normalised JSON shows no diff.
WORKER_HEALTH_CHECK = {
    "command": ["CMD", "python", "/app/entrypoint.py", "healthcheck"],
    "interval": 30,
    "timeout": 5,
    "retries": 3,
    "startPeriod": 60,
}

COPILOT_SERVICES = "history,matching,frontend,worker"
COPILOT_TEMPORAL_ALIAS = "copilot-temporal"
# The single binary's own frontend, for its publicClient (the worker role's client) and the
# cluster's rpcAddress: the runtime template defaults to `temporal-frontend:7233`, a Service
# Connect name the copilot's namespace never publishes (it publishes only `copilot-temporal`),
# and every role of this task shares one network namespace with the frontend (bound on 0.0.0.0).
# IPv4 loopback, not `localhost`, which may resolve to ::1 first while the server binds IPv4.
COPILOT_FRONTEND_ADDRESS = "127.0.0.1:7233"
COPILOT_METRICS_PORT = 9464
"""The worker's Prometheus endpoint (CopilotSettings.metrics_bind_address), scraped by its collector."""
# A quarter of the worker task at most, like the Temporal tasks' helper containers.
COPILOT_COLLECTOR_CPU, COPILOT_COLLECTOR_MEMORY = 128, 256


def copilot_env(values: Mapping[str, Any]) -> dict[str, str]:
    """The worker's env from `temporal_dsql_copilot.settings.CopilotSettings` field names."""
    from temporal_dsql_copilot.settings import CopilotSettings

    return settings_env(CopilotSettings, values)


def profile_env(values: Mapping[str, Any]) -> dict[str, str]:
    """The worker's profile-store env from `temporal_dsql_profiles.settings.ProfileSettings` field names."""
    from temporal_dsql_profiles.settings import ProfileSettings

    return settings_env(ProfileSettings, values)


def log_group_name(arn: str) -> str:
    """`arn:aws:logs:<region>:<account>:log-group:<name>[:*]` -> `<name>`."""
    return arn.split(":log-group:", 1)[1].removesuffix(":*")


def bedrock_model_arn(region: str, model_id: str) -> str:
    """Inference profiles (`us.`/`eu.`/`global.` prefixes) have their own ARN form."""
    if model_id.startswith("arn:"):
        return model_id
    if model_id.split(".")[0] in ("us", "eu", "apac", "global", "jp", "au", "ca"):
        return f"arn:aws:bedrock:{region}::inference-profile/{model_id}"
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


@dataclass(kw_only=True)
class CopilotWorkersArgs:
    worker_image: pulumi.Input[str]
    temporal_image: pulumi.Input[str]
    admin_tools_image: str
    temporal_env: pulumi.Input[Mapping[str, str]]
    """Server env (DSQL, visibility under the copilot's own index, shards) without SERVICES."""
    dsql_endpoint: pulumi.Input[str]
    dsql_cluster_arn: pulumi.Input[str]
    opensearch_domain_arn: pulumi.Input[str]
    amp_query_url: pulumi.Input[str]
    amp_workspace_arn: pulumi.Input[str]
    amp_remote_write_url: pulumi.Input[str] | None = None
    """Where the worker's own metrics (``copilot_*``, the SDK's ``temporal_*``) are remote-written by a
    collector sidecar (the monitored workspace, so Grafana reads them with the cluster's); None: none."""
    monitored_log_group_arns: Sequence[pulumi.Input[str]]
    """The monitored Temporal roles' log groups: read by IAM and by the worker's CloudWatch source."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    security_group_ids: Sequence[pulumi.Input[str]]
    cluster_id: str
    preset_name: str
    monitored_namespace: str = "default"
    bedrock_model_id: str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    profile_bucket_name: pulumi.Input[str] | None = None
    """The monitored deployment's profile bucket (config/ and profiles/); None: no baseline drift."""
    profile_bucket_arn: pulumi.Input[str] | None = None
    profile_dsql_endpoint: pulumi.Input[str] | None = None
    """The DSQL cluster holding the profile index (the monitored cluster's)."""
    profile_dsql_cluster_arn: pulumi.Input[str] | None = None
    knowledge_base: bool = True
    """Create the Bedrock knowledge base (`knowledge_base.KnowledgeBase`) the explanations cite."""
    force_destroy: bool = False
    """Let dev stacks destroy non-empty knowledge-base buckets."""
    namespace: str = "copilot"
    collector_image: str = images.DEFAULT_COLLECTOR_IMAGE
    log_retention_days: int = 30
    tags: Mapping[str, str] = field(default_factory=dict)


class CopilotWorkers(pulumi.ComponentResource):
    cluster: aws.ecs.Cluster
    temporal_service: aws.ecs.Service
    worker_service: aws.ecs.Service
    worker_env: pulumi.Output[dict[str, str]]
    kb_id: pulumi.Output[str | None]
    """Bedrock knowledge base id (`copilot kb sync --kb-id`); None without the knowledge base."""
    kb_data_source_id: pulumi.Output[str | None]
    """Its S3 data source id (`--ds-id`)."""
    kb_bucket: pulumi.Output[str | None]
    """The bucket the corpus is uploaded to (`--bucket`)."""

    def __init__(self, name: str, args: CopilotWorkersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:copilot:CopilotWorkers", name, None, opts)
        profile_inputs = (args.profile_bucket_name, args.profile_bucket_arn, args.profile_dsql_endpoint,
                          args.profile_dsql_cluster_arn)
        if any(v is None for v in profile_inputs) and not all(v is None for v in profile_inputs):
            raise ComponentInputError(
                "profile_bucket_name, profile_bucket_arn, profile_dsql_endpoint and profile_dsql_cluster_arn go together.",
                field="profile_bucket_name",
                suggestion="Pass all four (baseline drift against the profile store) or none.",
            )
        child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "component": "copilot"}
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        self.namespace_resource = aws.servicediscovery.HttpNamespace(f"{name}-ns", name=name, tags=tags, opts=child)
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            service_connect_defaults=aws.ecs.ClusterServiceConnectDefaultsArgs(namespace=self.namespace_resource.arn),
            tags=tags,
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/ecs/{name}", retention_in_days=args.log_retention_days, tags=tags, opts=child
        )
        self.execution_role = aws.iam.Role(
            f"{name}-execution",
            assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
            managed_policy_arns=["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
            tags=tags,
            opts=child,
        )
        server_policy = pulumi.Output.all(args.dsql_cluster_arn, args.opensearch_domain_arn).apply(
            lambda v: policy_document(
                statement(DSQL_CONNECT_ACTIONS, [v[0]], "CopilotDsql"),
                statement(ES_HTTP_ACTIONS, [v[1], f"{v[1]}/*"], "Visibility"),
            )
        )
        self.server_role = aws.iam.Role(
            f"{name}-server-task",
            assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
            inline_policies=[aws.iam.RoleInlinePolicyArgs(name="copilot-temporal", policy=server_policy)],
            tags=tags,
            opts=child,
        )
        self.knowledge_base = None
        kb_statements: pulumi.Output[list[dict[str, Any]]] = pulumi.Output.from_input([])
        if args.knowledge_base:
            from pulumi_temporal_dsql.knowledge_base import KnowledgeBase, KnowledgeBaseArgs

            self.knowledge_base = KnowledgeBase(
                f"{name}-kb", KnowledgeBaseArgs(force_destroy=args.force_destroy, tags=tags), opts=child
            )
            kb_statements = self.knowledge_base.retrieval_statements()
        log_group_arns = pulumi.Output.all(*args.monitored_log_group_arns)
        profiles = args.profile_bucket_arn is not None
        exports_metrics = args.amp_remote_write_url is not None
        worker_policy = pulumi.Output.all(
            region, args.dsql_cluster_arn, args.amp_workspace_arn, log_group_arns, kb_statements,
            args.profile_bucket_arn, args.profile_dsql_cluster_arn,
        ).apply(
            lambda v: policy_document(
                statement(["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                          [bedrock_model_arn(v[0], args.bedrock_model_id)], "Explain"),
                statement(["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"], [v[2]], "Metrics"),
                *([statement(["aps:RemoteWrite"], [v[2]], "ExportOwnMetrics")] if exports_metrics else []),
                # The dedicated database role copilot_store, created with only the state-store tables
                # and mapped to this IAM role by the set-up (ProfileStoreSetup): never DbConnectAdmin.
                statement(["dsql:DbConnect"], [v[1]], "StateStore"),
                statement(["logs:FilterLogEvents", "logs:GetLogEvents", "logs:StartQuery", "logs:GetQueryResults"],
                          [arn if arn.endswith(":*") else f"{arn}:*" for arn in v[3]], "ReadLogs"),
                *v[4],
                *(
                    [
                        # ListBucket turns a missing optional config/ object into 404, not 403.
                        statement(["s3:ListBucket"], [v[5]], "ProfileBucket"),
                        statement(["s3:GetObject"], [f"{v[5]}/config/*", f"{v[5]}/profiles/*"], "ReadProfiles"),
                        # The stale-profile sweep removes the documents of profiles a failed create left pending.
                        statement(["s3:DeleteObject"], [f"{v[5]}/profiles/*"], "SweepStaleProfiles"),
                        # A dedicated database role (copilot_profiles), created and mapped to this IAM
                        # role by the profile store's set-up: DbConnect, never DbConnectAdmin.
                        statement(["dsql:DbConnect"], [v[6]], "ProfileIndex"),
                    ]
                    if profiles else []
                ),
            )
        )
        self.worker_role = aws.iam.Role(
            f"{name}-worker-task",
            assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
            inline_policies=[aws.iam.RoleInlinePolicyArgs(name="copilot-worker", policy=worker_policy)],
            tags=tags,
            opts=child,
        )

        # The images may be digests pushed by this `pulumi up` (build_images): resolved with the rest.
        server_containers = pulumi.Output.all(
            pulumi.Output.from_input(args.temporal_env), self.log_group.name, region, args.temporal_image
        ).apply(lambda v: canonical_json(self._server_containers(dict(v[0]), v[1], v[2], replace(args, temporal_image=v[3]))))
        self.temporal_task = task_definition(
            f"{name}-temporal-task",
            family=f"{name}-temporal",
            cpu=1024,
            memory_mib=2048,
            containers=server_containers,
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.server_role.arn,
            tags=tags,
            parent=self,
        )
        network = aws.ecs.ServiceNetworkConfigurationArgs(
            subnets=args.subnet_ids, security_groups=list(args.security_group_ids), assign_public_ip=False
        )
        self.temporal_service = aws.ecs.Service(
            f"{name}-temporal",
            name=f"{name}-temporal",
            cluster=self.cluster.arn,
            task_definition=self.temporal_task.arn,
            desired_count=1,
            launch_type="FARGATE",
            network_configuration=network,
            service_connect_configuration=aws.ecs.ServiceServiceConnectConfigurationArgs(
                enabled=True,
                namespace=self.namespace_resource.arn,
                services=[
                    aws.ecs.ServiceServiceConnectConfigurationServiceArgs(
                        port_name="grpc",
                        discovery_name=COPILOT_TEMPORAL_ALIAS,
                        client_alias=[aws.ecs.ServiceServiceConnectConfigurationServiceClientAliasArgs(port=7233, dns_name=COPILOT_TEMPORAL_ALIAS)],
                    )
                ],
            ),
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            # One server task: stop the old before starting the new (no two single binaries on one ring).
            deployment_minimum_healthy_percent=0,
            deployment_maximum_percent=100,
            enable_execute_command=True,
            tags=tags,
            opts=child,
        )
        settings_values: dict[str, Any] = {
            "temporal_address": f"{COPILOT_TEMPORAL_ALIAS}:7233",
            "temporal_namespace": args.namespace,
            "cluster_id": args.cluster_id,
            "monitored_namespace": args.monitored_namespace,
            "preset_name": args.preset_name,
            "amp_query_url": args.amp_query_url,
            "amp_sigv4": True,
            "aws_region": region,
            "dsql_endpoint": args.dsql_endpoint,
            "dsql_user": COPILOT_STORE_DB_ROLE,
            "manage_schema": False,
            "log_source": "cloudwatch",
            # Every monitored Temporal role's group: the CloudWatch source reads them all.
            "cloudwatch_log_groups": log_group_arns.apply(lambda arns: [log_group_name(a) for a in arns]),
            "bedrock_model_id": args.bedrock_model_id,
            "bedrock_enabled": True,
        }
        if exports_metrics:
            settings_values["metrics_bind_address"] = f"0.0.0.0:{COPILOT_METRICS_PORT}"
        if self.knowledge_base is not None:
            settings_values["kb_id"] = self.knowledge_base.knowledge_base_id
            settings_values["kb_data_source_id"] = self.knowledge_base.data_source_id
            settings_values["kb_bucket"] = self.knowledge_base.source_bucket_name
        from temporal_dsql_profiles.db_roles import COPILOT_PROFILES_DB_ROLE

        profile_values: dict[str, Any] = (
            {"bucket": args.profile_bucket_name, "region": region, "dsql_endpoint": args.profile_dsql_endpoint,
             "cluster_id": args.cluster_id, "db_user": COPILOT_PROFILES_DB_ROLE, "manage_schema": False}
            if profiles else {}
        )
        self.worker_env = pulumi.Output.all(
            pulumi.Output.all(**settings_values).apply(copilot_env),
            pulumi.Output.all(**profile_values).apply(profile_env),
        ).apply(lambda v: {**v[0], **v[1]})
        worker_containers = pulumi.Output.all(
            self.worker_env, self.log_group.name, region, pulumi.Output.from_input(args.amp_remote_write_url), args.worker_image
        ).apply(lambda v: canonical_json(self._worker_containers(v[0], v[1], v[2], v[3], replace(args, worker_image=v[4]))))
        self.worker_task = task_definition(
            f"{name}-worker-task",
            family=f"{name}-worker",
            cpu=512,
            memory_mib=1024,
            containers=worker_containers,
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.worker_role.arn,
            tags=tags,
            parent=self,
        )
        self.worker_service = aws.ecs.Service(
            f"{name}-worker",
            name=f"{name}-worker",
            cluster=self.cluster.arn,
            task_definition=self.worker_task.arn,
            desired_count=1,
            launch_type="FARGATE",
            network_configuration=network,
            service_connect_configuration=aws.ecs.ServiceServiceConnectConfigurationArgs(
                enabled=True, namespace=self.namespace_resource.arn
            ),
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            enable_execute_command=True,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.temporal_service]),
        )
        kb = self.knowledge_base
        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        self.kb_id = kb.knowledge_base_id if kb is not None else none
        self.kb_data_source_id = kb.data_source_id if kb is not None else none
        self.kb_bucket = kb.source_bucket_name if kb is not None else none
        self.register_outputs(
            {
                "cluster_arn": self.cluster.arn,
                "temporal_address": f"{COPILOT_TEMPORAL_ALIAS}:7233",
                "namespace": args.namespace,
                "kb_id": self.kb_id,
                "kb_data_source_id": self.kb_data_source_id,
                "kb_bucket": self.kb_bucket,
            }
        )

    @staticmethod
    def _worker_containers(
        env: dict[str, str], log_group: str, region: str, remote_write_url: str | None, args: CopilotWorkersArgs
    ) -> list[dict[str, Any]]:
        worker: dict[str, Any] = {
            "name": "copilot-worker",
            "image": args.worker_image,
            "essential": True,
            "environment": environment(env),
            "healthCheck": WORKER_HEALTH_CHECK,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": "worker"},
            },
        }
        if remote_write_url is None:
            return [worker]
        worker["portMappings"] = [{"name": "metrics", "containerPort": COPILOT_METRICS_PORT, "appProtocol": "http"}]
        collector = collector_container(
            image=args.collector_image, remote_write_url=remote_write_url, region=region, service="copilot-worker",
            scrape_port=COPILOT_METRICS_PORT, log_group=log_group, cpu=COPILOT_COLLECTOR_CPU,
            memory_mib=COPILOT_COLLECTOR_MEMORY,
        )
        return [worker, collector]

    @staticmethod
    def _server_containers(env: dict[str, str], log_group: str, region: str, args: CopilotWorkersArgs) -> list[dict[str, Any]]:
        def logs(prefix: str) -> dict[str, Any]:
            return {"logDriver": "awslogs", "options": {"awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": prefix}}

        from pulumi_temporal_dsql.service import server_health_command
        from pulumi_temporal_dsql.setup import SCHEMA_COMMAND

        server_env = {**env, "SERVICES": COPILOT_SERVICES, "TEMPORAL_FRONTEND_ADDRESS": COPILOT_FRONTEND_ADDRESS}
        return [
            {
                # One replica with minimum-healthy 0: the schema is never applied by two tasks at once.
                "name": "schema-setup",
                "image": args.temporal_image,
                "essential": False,
                "entryPoint": ["/bin/sh", "-c"],
                "command": [SCHEMA_COMMAND],
                "environment": environment(server_env),
                "logConfiguration": logs("schema-setup"),
            },
            {
                "name": "temporal",
                "image": args.temporal_image,
                "essential": True,
                "environment": environment(server_env),
                "portMappings": [
                    {"name": "grpc", "containerPort": 7233, "appProtocol": "grpc"},
                    {"name": "metrics", "containerPort": 9090, "appProtocol": "http"},
                ],
                "healthCheck": {"command": server_health_command(7233), "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 120},
                "dependsOn": [{"containerName": "schema-setup", "condition": "SUCCESS"}],
                "logConfiguration": logs("temporal"),
            },
            {
                "name": "namespace-setup",
                "image": args.admin_tools_image,
                "essential": False,
                "entryPoint": ["/bin/sh", "-c"],
                "command": [
                    "temporal operator namespace describe --namespace $TEMPORAL_NAMESPACE --address localhost:7233 "
                    "|| temporal operator namespace create --namespace $TEMPORAL_NAMESPACE --retention 168h --address localhost:7233"
                ],
                "environment": environment({"TEMPORAL_NAMESPACE": args.namespace}),
                "dependsOn": [{"containerName": "temporal", "condition": "HEALTHY"}],
                "logConfiguration": logs("namespace-setup"),
            },
        ]
