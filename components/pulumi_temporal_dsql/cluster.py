"""The ECS cluster: Container Insights on, a Cloud Map HTTP namespace for Service Connect, and
capacity (Fargate by default; an EC2 Graviton Auto Scaling group as an option, which is what
the anchor deployment chose for stable membership IPs).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.iam import assume_role_policy

__all__ = ["CAPACITY_MODES", "CapacityMode", "EcsCluster", "EcsClusterArgs"]

CapacityMode = Literal["fargate", "ec2"]
CAPACITY_MODES: tuple[str, ...] = ("fargate", "ec2")
# SSM public parameter holding the current ECS-optimised Amazon Linux 2023 arm64 AMI.
ECS_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"


@dataclass(kw_only=True)
class EcsClusterArgs:
    capacity: str = "fargate"
    """"fargate" (default) or "ec2" (an Auto Scaling group of Graviton instances)."""
    ec2_instance_type: str = "m7g.xlarge"
    ec2_instance_count: int = 3
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Private subnets for EC2 capacity (unused with Fargate)."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    log_retention_days: int = 30
    tags: Mapping[str, str] = field(default_factory=dict)


class EcsCluster(pulumi.ComponentResource):
    cluster: aws.ecs.Cluster
    namespace: aws.servicediscovery.HttpNamespace
    capacity_provider_name: str | pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: EcsClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:ecs:EcsCluster", name, None, opts)
        if args.capacity not in CAPACITY_MODES:
            raise ComponentInputError(
                f"Unknown capacity mode {args.capacity!r}.", field="capacity", allowed=list(CAPACITY_MODES),
                suggestion="Use capacity='fargate' unless you need stable instance IPs.",
            )
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.capacity = args.capacity
        self.namespace = aws.servicediscovery.HttpNamespace(
            f"{name}-ns", name=name, description=f"Service Connect namespace of {name}", tags=tags, opts=child
        )
        self.exec_log_group = aws.cloudwatch.LogGroup(
            f"{name}-exec-logs", name=f"/ecs/{name}/exec", retention_in_days=args.log_retention_days, tags=tags, opts=child
        )
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            configuration=aws.ecs.ClusterConfigurationArgs(
                execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                    logging="OVERRIDE",
                    log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                        cloud_watch_log_group_name=self.exec_log_group.name
                    ),
                )
            ),
            service_connect_defaults=aws.ecs.ClusterServiceConnectDefaultsArgs(namespace=self.namespace.arn),
            tags=tags,
            opts=child,
        )
        cluster_child = pulumi.ResourceOptions(parent=self.cluster)
        if args.capacity == "fargate":
            self.capacity_provider_name = "FARGATE"
            providers: list[pulumi.Input[str]] = ["FARGATE", "FARGATE_SPOT"]
        else:
            self.capacity_provider_name = self._ec2_capacity(name, args, tags).name
            providers = [self.capacity_provider_name]
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=self.cluster.name,
            capacity_providers=providers,
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=self.capacity_provider_name, weight=1, base=0
                )
            ],
            opts=cluster_child,
        )
        self.arn = self.cluster.arn
        self.register_outputs({"arn": self.arn, "namespace_arn": self.namespace.arn})

    def _ec2_capacity(self, name: str, args: EcsClusterArgs, tags: dict[str, str]) -> aws.ecs.CapacityProvider:
        if args.subnet_ids is None:
            raise ComponentInputError(
                "EC2 capacity needs subnets.", field="subnet_ids", suggestion="Pass the private subnet ids."
            )
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-instance-role",
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            managed_policy_arns=[
                "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
                "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
            ],
            tags=tags,
            opts=child,
        )
        profile = aws.iam.InstanceProfile(f"{name}-instance-profile", role=role.name, opts=pulumi.ResourceOptions(parent=role))
        ami = aws.ssm.get_parameter_output(name=ECS_AMI_PARAMETER, opts=pulumi.InvokeOutputOptions(parent=self))
        user_data = self.cluster.name.apply(
            lambda cluster: base64.b64encode(f"#!/bin/bash\necho ECS_CLUSTER={cluster} >> /etc/ecs/ecs.config\n".encode()).decode()
        )
        template = aws.ec2.LaunchTemplate(
            f"{name}-launch-template",
            image_id=ami.value,
            instance_type=args.ec2_instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            vpc_security_group_ids=list(args.security_group_ids),
            user_data=user_data,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(http_tokens="required", http_endpoint="enabled"),
            tags=tags,
            opts=child,
        )
        group = aws.autoscaling.Group(
            f"{name}-asg",
            min_size=args.ec2_instance_count,
            max_size=args.ec2_instance_count * 2,
            desired_capacity=args.ec2_instance_count,
            vpc_zone_identifiers=args.subnet_ids,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(id=template.id, version="$Latest"),
            protect_from_scale_in=True,
            tags=[aws.autoscaling.GroupTagArgs(key="AmazonECSManaged", value="true", propagate_at_launch=True)],
            opts=pulumi.ResourceOptions(parent=template),
        )
        return aws.ecs.CapacityProvider(
            f"{name}-ec2-capacity",
            auto_scaling_group_provider=aws.ecs.CapacityProviderAutoScalingGroupProviderArgs(
                auto_scaling_group_arn=group.arn,
                managed_termination_protection="ENABLED",
                managed_scaling=aws.ecs.CapacityProviderAutoScalingGroupProviderManagedScalingArgs(
                    status="ENABLED", target_capacity=100
                ),
            ),
            tags=tags,
            opts=child,
        )
