"""One ECS task definition + service per Temporal role (and the UI), with dynamic config as data.

Each Temporal task has four containers:
- `config-init` runs the refresher once: it copies the compiled dynamic config from S3 onto the
  task's shared `dynamicconfig` volume and exits; `temporal` starts only after it SUCCEEDS;
- `temporal` is the runtime image (renders its config from the env, execs the server role);
- `config-refresher` keeps polling the S3 object and atomically replaces the file when it
  changes; Temporal's file poller (`dynamicConfigClient.pollInterval`) hot-reloads it;
- `metrics-collector` scrapes :9090 and remote-writes to AMP with SigV4.
Only the object's *location* is in the task definition, never its content, so changing dynamic
config alone changes no task definition and restarts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql.containers import environment
from pulumi_temporal_dsql.task_definitions import task_definition

__all__ = [
    "DYNAMIC_CONFIG_DIR",
    "DYNAMIC_CONFIG_FILE",
    "Reservations",
    "RoleSpec",
    "TaskSpec",
    "TemporalService",
    "TemporalServiceArgs",
    "refresher_command",
    "reservations",
    "server_health_command",
    "temporal_containers",
]

DYNAMIC_CONFIG_VOLUME = "dynamicconfig"
DYNAMIC_CONFIG_DIR = "/etc/temporal/config/dynamicconfig"
DYNAMIC_CONFIG_FILE = f"{DYNAMIC_CONFIG_DIR}/dynamicconfig.yaml"
REFRESHER = "/usr/local/bin/dynconfig_refresher.py"
REFRESH_INTERVAL_SECONDS = 30
# Reservations of the helper containers, capped and scaled to the task: ECS refuses a task whose
# container reservations sum to more than the task's cpu/memory, and the smallest compiled task
# (the starter worker, 256 CPU / 512 MiB) cannot carry fixed 192 CPU / 384 MiB of helpers plus a
# server. The helpers take at most a quarter of the task; the Temporal container gets the rest.
# Reservations are shares and soft limits (no hard `memory`), so an idle helper lends its share.
INIT_CPU, INIT_MEMORY = 32, 64
REFRESHER_CPU, REFRESHER_MEMORY = 32, 64
COLLECTOR_CPU, COLLECTOR_MEMORY = 128, 256


@dataclass(frozen=True)
class Reservations:
    """cpu units / MiB reserved per container of a Temporal task; they sum to the task size."""

    init: tuple[int, int]
    refresher: tuple[int, int]
    collector: tuple[int, int] | None
    temporal: tuple[int, int]


def reservations(cpu: int, memory_mib: int, *, collector: bool) -> Reservations:
    """Split a task's cpu and memory between the helpers (capped, <= 1/4 of the task) and Temporal."""
    init = (min(INIT_CPU, cpu // 16), min(INIT_MEMORY, memory_mib // 16))
    refresher = (min(REFRESHER_CPU, cpu // 16), min(REFRESHER_MEMORY, memory_mib // 16))
    collect = (min(COLLECTOR_CPU, cpu // 8), min(COLLECTOR_MEMORY, memory_mib // 8)) if collector else None
    helpers = [init, refresher, *([collect] if collect else [])]
    temporal = (cpu - sum(h[0] for h in helpers), memory_mib - sum(h[1] for h in helpers))
    return Reservations(init=init, refresher=refresher, collector=collect, temporal=temporal)

def server_health_command(port: int) -> list[str]:
    """The server container's ECS health check (ECS ignores a Dockerfile HEALTHCHECK): the runtime
    image's own probe, since the image guarantees python3 but not an `nc` with `-z`."""
    return ["CMD", "python3", "/usr/local/bin/render_config.py", "healthcheck", "--port", str(port)]


def refresher_command(*, once: bool) -> list[str]:
    """The refresher invocation (docker/runtime/dynconfig_refresher.py); the source is in the env."""
    return ["python3", REFRESHER, "--once"] if once else ["python3", REFRESHER]


def refresher_env(bucket: str, key: str, region: str) -> dict[str, str]:
    """The refresher's environment fallbacks (DYNCONFIG_*): where to read, where to write."""
    return {
        "DYNCONFIG_SOURCE": f"s3://{bucket}/{key}",
        "DYNCONFIG_DEST": DYNAMIC_CONFIG_FILE,
        "DYNCONFIG_INTERVAL": str(REFRESH_INTERVAL_SECONDS),
        "AWS_REGION": region,
    }


@dataclass(frozen=True)
class RoleSpec:
    """Ports and size of one role, from the compiler's ServiceSpec (or the UI's fixed spec)."""

    role: str
    replicas: int
    cpu: int
    memory_mib: int
    grpc_port: int
    membership_port: int | None = None
    metrics_port: int | None = None


@dataclass(frozen=True)
class TaskSpec:
    """Everything a Temporal role's container list depends on, all plain (resolved) values."""

    role: RoleSpec
    image: str
    config_image: str
    collector_image: str
    env: Mapping[str, str]
    log_group: str
    region: str
    config_bucket: str
    config_key: str
    remote_write_url: str
    cluster: str | None = None
    """The ``cluster`` label the collector puts on every series (the ECS cluster's name)."""


def _logs(group: str, region: str, prefix: str) -> dict[str, Any]:
    return {
        "logDriver": "awslogs",
        "options": {"awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": prefix},
    }


def temporal_containers(spec: TaskSpec) -> list[dict[str, Any]]:
    """The four container definitions of a Temporal role's task (not yet normalised)."""
    from pulumi_temporal_dsql.observability import collector_container

    role = spec.role
    mount = {"sourceVolume": DYNAMIC_CONFIG_VOLUME, "containerPath": DYNAMIC_CONFIG_DIR, "readOnly": False}
    fetch_env = environment(refresher_env(spec.config_bucket, spec.config_key, spec.region))
    ports: list[dict[str, Any]] = [
        {"name": "grpc", "containerPort": role.grpc_port, "appProtocol": "grpc"},
    ]
    if role.membership_port is not None:
        ports.append({"name": "membership", "containerPort": role.membership_port})
    if role.metrics_port is not None:
        ports.append({"name": "metrics", "containerPort": role.metrics_port, "appProtocol": "http"})
    sizes = reservations(role.cpu, role.memory_mib, collector=role.metrics_port is not None)
    containers: list[dict[str, Any]] = [
        {
            "name": "config-init",
            "image": spec.config_image,
            "essential": False,
            "entryPoint": [],
            "command": refresher_command(once=True),
            "cpu": sizes.init[0],
            "memoryReservation": sizes.init[1],
            "environment": fetch_env,
            "mountPoints": [mount],
            "logConfiguration": _logs(spec.log_group, spec.region, "config-init"),
        },
        {
            "name": "temporal",
            "image": spec.image,
            "essential": True,
            "cpu": sizes.temporal[0],
            "memoryReservation": sizes.temporal[1],
            "environment": environment(spec.env),
            "portMappings": ports,
            "mountPoints": [{**mount, "readOnly": True}],
            "dependsOn": [{"containerName": "config-init", "condition": "SUCCESS"}],
            "healthCheck": {
                "command": server_health_command(role.grpc_port),
                "interval": 30,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 120,
            },
            "stopTimeout": 60,
            "logConfiguration": _logs(spec.log_group, spec.region, role.role),
        },
        {
            "name": "config-refresher",
            "image": spec.config_image,
            "essential": False,
            "entryPoint": [],
            "command": refresher_command(once=False),
            "cpu": sizes.refresher[0],
            "memoryReservation": sizes.refresher[1],
            "environment": fetch_env,
            "mountPoints": [mount],
            "dependsOn": [{"containerName": "config-init", "condition": "SUCCESS"}],
            "logConfiguration": _logs(spec.log_group, spec.region, "config-refresher"),
        },
    ]
    if role.metrics_port is not None and sizes.collector is not None:
        containers.append(
            collector_container(
                cpu=sizes.collector[0],
                memory_mib=sizes.collector[1],
                image=spec.collector_image,
                remote_write_url=spec.remote_write_url,
                region=spec.region,
                service=role.role,
                scrape_port=role.metrics_port,
                log_group=spec.log_group,
                cluster=spec.cluster,
            )
        )
    return containers


@dataclass(kw_only=True)
class TemporalServiceArgs:
    role: RoleSpec
    cluster_arn: pulumi.Input[str]
    containers: pulumi.Input[str]
    """Canonical container-definitions JSON (see `containers.canonical_json`)."""
    execution_role_arn: pulumi.Input[str]
    task_role_arn: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    security_group_ids: Sequence[pulumi.Input[str]]
    namespace_arn: pulumi.Input[str]
    capacity_provider: pulumi.Input[str] = "FARGATE"
    fargate: bool = True
    publish_port_name: str | None = "grpc"
    """The port published through Service Connect as `temporal-<role>` (None: client only)."""
    volumes: Sequence[str] = (DYNAMIC_CONFIG_VOLUME,)
    target_group_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """container port -> target group ARN (the frontend's and UI's load balancer)."""
    depends_on: Sequence[pulumi.Resource] = ()
    service_ignore_changes: Sequence[str] = ()
    """Forwarded to the `aws.ecs.Service` child as `ignore_changes` (e.g. ["desired_count"])."""
    tags: Mapping[str, str] = field(default_factory=dict)


class TemporalService(pulumi.ComponentResource):
    task_definition: aws.ecs.TaskDefinition
    service: aws.ecs.Service

    def __init__(self, name: str, args: TemporalServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:ecs:TemporalService", name, None, opts)
        role = args.role
        tags = {**args.tags, "temporal-role": role.role}
        self.task_definition = task_definition(
            f"{name}-task",
            family=name,
            cpu=role.cpu,
            memory_mib=role.memory_mib,
            containers=args.containers,
            execution_role_arn=args.execution_role_arn,
            task_role_arn=args.task_role_arn,
            fargate=args.fargate,
            volumes=args.volumes,
            tags=tags,
            parent=self,
        )
        service_connect: aws.ecs.ServiceServiceConnectConfigurationArgs = aws.ecs.ServiceServiceConnectConfigurationArgs(
            enabled=True,
            namespace=args.namespace_arn,
            services=[
                aws.ecs.ServiceServiceConnectConfigurationServiceArgs(
                    port_name=args.publish_port_name,
                    discovery_name=f"temporal-{role.role}",
                    client_alias=[
                        aws.ecs.ServiceServiceConnectConfigurationServiceClientAliasArgs(
                            port=role.grpc_port, dns_name=f"temporal-{role.role}"
                        )
                    ],
                )
            ]
            if args.publish_port_name
            else None,
        )
        self.service = aws.ecs.Service(
            f"{name}-service",
            name=name,
            cluster=args.cluster_arn,
            task_definition=self.task_definition.arn,
            desired_count=role.replicas,
            capacity_provider_strategies=[
                aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider=args.capacity_provider, weight=1)
            ],
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=args.subnet_ids, security_groups=list(args.security_group_ids), assign_public_ip=False
            ),
            service_connect_configuration=service_connect,
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(target_group_arn=arn, container_name="temporal" if role.role != "ui" else "ui", container_port=int(port))
                for port, arn in sorted(args.target_group_arns.items())
            ],
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            # History and matching rebalance shards/partitions on every task change: roll one at a time.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            enable_execute_command=True,
            propagate_tags="SERVICE",
            wait_for_steady_state=False,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=list(args.depends_on), ignore_changes=list(args.service_ignore_changes) or None
            ),
        )
        self.register_outputs({"service_name": self.service.name, "task_definition_arn": self.task_definition.arn})

