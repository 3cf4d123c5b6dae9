"""AWS ECS adapter: per Temporal role, the RegisterTaskDefinition and CreateService requests.

Each request is the JSON body the ECS API (``aws ecs register-task-definition --cli-input-json``)
accepts: container environment as a name/value list, CPU units and memory, ports (gRPC,
membership, Prometheus metrics) and a health check; the service request carries the desired
count and the awsvpc network configuration, with placeholder subnet and security-group ids
(``subnet-REPLACE-WITH-...``, ``sg-REPLACE-WITH-...``) to replace before creating the service. The dynamic-config document is emitted beside them; the task definition mounts the
``dynamicconfig`` volume where the runtime image reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from temporal_dsql_config.adapters._artifacts import ProfileArtifacts, profile_artifacts
from temporal_dsql_config.adapters._emit import to_json
from temporal_dsql_config.models import RenderedSnippet, ServiceSpec
from temporal_dsql_core.profile import ConfigProfile

__all__ = [
    "DYNAMIC_CONFIG_DIR",
    "PLACEHOLDER_SECURITY_GROUPS",
    "PLACEHOLDER_SUBNETS",
    "ECSAdapter",
    "create_service_request",
    "register_task_definition_request",
]

DYNAMIC_CONFIG_DIR = "/etc/temporal/config/dynamicconfig"
DEFAULT_IMAGE = "temporal-dsql-runtime:latest"
# Replace these with the VPC's private subnets and the Temporal tasks' security group (the one that
# allows the membership ports inside the VPC and egress to DSQL on 5432).
PLACEHOLDER_SUBNETS: tuple[str, ...] = ("subnet-REPLACE-WITH-PRIVATE-SUBNET-A", "subnet-REPLACE-WITH-PRIVATE-SUBNET-B")
PLACEHOLDER_SECURITY_GROUPS: tuple[str, ...] = ("sg-REPLACE-WITH-TEMPORAL-TASKS-SG",)


def _family(service: str) -> str:
    return f"temporal-{service}"


def register_task_definition_request(
    service: str, spec: ServiceSpec, env: dict[str, str], *, image: str
) -> dict[str, Any]:
    container = {
        "name": _family(service),
        "image": image,
        "essential": True,
        "cpu": spec.cpu,
        "memory": spec.memory_mib,
        "environment": [{"name": name, "value": value} for name, value in sorted(env.items())],
        "portMappings": [
            {"name": f"{service}-grpc", "containerPort": spec.grpc_port, "protocol": "tcp"},
            {"name": f"{service}-membership", "containerPort": spec.membership_port, "protocol": "tcp"},
            {"name": f"{service}-metrics", "containerPort": spec.metrics_port, "protocol": "tcp"},
        ],
        "mountPoints": [{"sourceVolume": "dynamicconfig", "containerPath": DYNAMIC_CONFIG_DIR, "readOnly": False}],
        "healthCheck": {
            "command": ["CMD-SHELL", f"nc -z localhost {spec.grpc_port} || exit 1"],
            "interval": 30,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 60,
        },
    }
    return {
        "family": _family(service),
        # EC2 capacity with awsvpc gives each task a stable IP for ringpop membership.
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["EC2"],
        "cpu": str(spec.cpu),
        "memory": str(spec.memory_mib),
        "containerDefinitions": [container],
        "volumes": [{"name": "dynamicconfig"}],
    }


def create_service_request(
    service: str,
    spec: ServiceSpec,
    *,
    subnets: Sequence[str] = PLACEHOLDER_SUBNETS,
    security_groups: Sequence[str] = PLACEHOLDER_SECURITY_GROUPS,
) -> dict[str, Any]:
    return {
        "serviceName": _family(service),
        "taskDefinition": _family(service),
        "desiredCount": spec.replicas,
        "launchType": "EC2",
        "schedulingStrategy": "REPLICA",
        "enableExecuteCommand": True,
        "deploymentConfiguration": {"minimumHealthyPercent": 50, "maximumPercent": 200},
        # awsvpc task definitions need it (CreateService rejects them without). Private subnets and no
        # public IP: EC2 launch type cannot assign one, and the cluster is reached through SSM.
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(subnets),
                "securityGroups": list(security_groups),
                "assignPublicIp": "DISABLED",
            }
        },
    }


def render_ecs(
    artifacts: ProfileArtifacts,
    *,
    image: str,
    subnets: Sequence[str] = PLACEHOLDER_SUBNETS,
    security_groups: Sequence[str] = PLACEHOLDER_SECURITY_GROUPS,
) -> list[RenderedSnippet]:
    snippets: list[RenderedSnippet] = []
    for service, spec in artifacts.services.items():
        env = artifacts.env.get(service, {})
        snippets.append(RenderedSnippet.model_construct(
            language="json", filename=f"ecs/task-definitions/{_family(service)}.json",
            content=to_json(register_task_definition_request(service, spec, env, image=image)),
        ))
        snippets.append(RenderedSnippet.model_construct(
            language="json", filename=f"ecs/services/{_family(service)}.json",
            content=to_json(create_service_request(service, spec, subnets=subnets, security_groups=security_groups)),
        ))
    snippets.append(RenderedSnippet.model_construct(
        language="yaml", filename="ecs/dynamicconfig/dynamicconfig.yaml", content=artifacts.dynamic_config_yaml,
    ))
    return snippets


@dataclass
class ECSAdapter:
    platform: str = "ecs"
    name: str = "ecs"
    image: str = DEFAULT_IMAGE
    subnets: tuple[str, ...] = PLACEHOLDER_SUBNETS
    security_groups: tuple[str, ...] = PLACEHOLDER_SECURITY_GROUPS

    def render(self, profile: ConfigProfile) -> list[RenderedSnippet]:
        return render_ecs(profile_artifacts(profile), image=self.image, subnets=self.subnets,
                          security_groups=self.security_groups)
