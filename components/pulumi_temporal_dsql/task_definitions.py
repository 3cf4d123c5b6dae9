"""The one way this package declares an ECS task definition.

Every task here is awsvpc (each task gets its own ENI, so security groups apply per task) and
Linux on ARM64: the images are built for Graviton, which both Fargate ARM64 and the EC2 capacity
provider's instances (Graviton) run. Only the compatibility follows the capacity choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql.errors import ComponentInputError
from temporal_dsql_config.fargate import FARGATE_MEMORY_MIB as _FARGATE_MEMORY_MIB

__all__ = ["CPU_ARCHITECTURE", "FARGATE_MEMORY_MIB", "check_fargate_size", "task_definition"]

CPU_ARCHITECTURE = "ARM64"

# The task sizes Fargate accepts: the compiler's table (temporal_dsql_config.fargate, AWS's documented one),
# so the compiler and the components can never disagree on what Fargate accepts.
FARGATE_MEMORY_MIB = _FARGATE_MEMORY_MIB


def check_fargate_size(family: str, cpu: int, memory_mib: int) -> None:
    """Fail at plan time, naming the task and the allowed values, when Fargate would refuse the size."""
    allowed = FARGATE_MEMORY_MIB.get(cpu)
    if allowed is None:
        raise ComponentInputError(
            f"Task {family}: cpu {cpu} is not a Fargate task size.", field=f"{family}.cpu",
            allowed=sorted(FARGATE_MEMORY_MIB),
            suggestion="Override the role's cpu with one of the allowed values, or use capacity='ec2'.",
        )
    if memory_mib not in allowed:
        raise ComponentInputError(
            f"Task {family}: memory {memory_mib} MiB is not allowed with cpu {cpu} on Fargate.",
            field=f"{family}.memory_mib", allowed=list(allowed),
            suggestion="Override the role's memory_mib with one of the allowed values, or use capacity='ec2'.",
        )


def task_definition(
    resource_name: str,
    *,
    family: pulumi.Input[str],
    cpu: int,
    memory_mib: int,
    containers: pulumi.Input[str],
    execution_role_arn: pulumi.Input[str],
    task_role_arn: pulumi.Input[str],
    parent: pulumi.Resource,
    fargate: bool = True,
    volumes: Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
) -> aws.ecs.TaskDefinition:
    """A task definition parented to `parent`; `containers` is canonical JSON (containers.canonical_json).

    `volumes` names task-scoped (bind-mount) volumes; None leaves the argument out altogether.
    """
    if fargate:
        check_fargate_size(resource_name, cpu, memory_mib)
    return aws.ecs.TaskDefinition(
        resource_name,
        family=family,
        cpu=str(cpu),
        memory=str(memory_mib),
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"] if fargate else ["EC2"],
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
            cpu_architecture=CPU_ARCHITECTURE, operating_system_family="LINUX"
        ),
        execution_role_arn=execution_role_arn,
        task_role_arn=task_role_arn,
        container_definitions=containers,
        volumes=None if volumes is None else [aws.ecs.TaskDefinitionVolumeArgs(name=v) for v in volumes],
        tags=dict(tags or {}),
        opts=pulumi.ResourceOptions(parent=parent),
    )
