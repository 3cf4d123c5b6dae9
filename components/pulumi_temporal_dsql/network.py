"""A minimal VPC for when the caller brings none: two AZs, public and private subnets, one NAT.

The subnet layout is computed in pure code from the CIDR and the AZ count and exported as an
output (`subnet_layout`), so it never changes silently on an upgrade (the awsx "upgrade
re-lays out my subnets" complaint). The tasks' security group admits traffic from inside the
VPC only; nothing here is reachable from the internet.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

__all__ = ["Network", "NetworkArgs", "SubnetSpec", "subnet_layout"]


@dataclass(frozen=True)
class SubnetSpec:
    az_index: int
    kind: str  # "public" or "private"
    cidr: str


def subnet_layout(cidr_block: str, az_count: int) -> list[SubnetSpec]:
    """Private /20s first (tasks need room), then public /24s from the top of the range."""
    network = ipaddress.ip_network(cidr_block)
    if network.prefixlen > 18:
        raise ValueError(f"VPC CIDR {cidr_block} is too small: use a /18 or larger")
    private = list(itertools.islice(network.subnets(new_prefix=20), az_count))
    top = int(network.broadcast_address) + 1  # the /24s at the very top of the range
    public = [ipaddress.ip_network((top - 256 * (az_count - i), 24)) for i in range(az_count)]
    specs = [SubnetSpec(i, "private", str(c)) for i, c in enumerate(private)]
    specs += [SubnetSpec(i, "public", str(c)) for i, c in enumerate(public)]
    return specs


@dataclass(kw_only=True)
class NetworkArgs:
    cidr_block: str = "10.42.0.0/16"
    """VPC CIDR; the layout is derived from it deterministically."""
    az_count: int = 2
    """Availability zones to spread subnets over."""
    tags: Mapping[str, str] = field(default_factory=dict)


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    security_group: aws.ec2.SecurityGroup
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    subnet_layout: list[SubnetSpec]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.subnet_layout = subnet_layout(args.cidr_block, args.az_count)
        azs = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr_block,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": f"{name}-vpc"},
            opts=child,
        )
        vpc_child = pulumi.ResourceOptions(parent=self.vpc)
        self.internet_gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={**tags, "Name": f"{name}-igw"}, opts=vpc_child
        )
        self.public_route_table = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=self.internet_gateway.id)],
            tags={**tags, "Name": f"{name}-public"},
            opts=vpc_child,
        )
        self.public_subnets: list[aws.ec2.Subnet] = []
        self.private_subnets: list[aws.ec2.Subnet] = []
        for spec in self.subnet_layout:
            subnet = aws.ec2.Subnet(
                f"{name}-{spec.kind}-{spec.az_index}",
                vpc_id=self.vpc.id,
                cidr_block=spec.cidr,
                availability_zone=azs.names[spec.az_index],
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-{spec.kind}-{spec.az_index}", "tier": spec.kind},
                opts=vpc_child,
            )
            (self.public_subnets if spec.kind == "public" else self.private_subnets).append(subnet)
        for index, subnet in enumerate(self.public_subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{index}",
                subnet_id=subnet.id,
                route_table_id=self.public_route_table.id,
                opts=pulumi.ResourceOptions(parent=subnet),
            )
        # One NAT gateway: tasks pull images and reach DSQL's public endpoint through it.
        self.nat_eip = aws.ec2.Eip(f"{name}-nat-eip", domain="vpc", tags=tags, opts=vpc_child)
        self.nat_gateway = aws.ec2.NatGateway(
            f"{name}-nat",
            allocation_id=self.nat_eip.id,
            subnet_id=self.public_subnets[0].id,
            tags={**tags, "Name": f"{name}-nat"},
            opts=pulumi.ResourceOptions(parent=self.vpc, depends_on=[self.internet_gateway]),
        )
        self.private_route_table = aws.ec2.RouteTable(
            f"{name}-private-rt",
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=self.nat_gateway.id)],
            tags={**tags, "Name": f"{name}-private"},
            opts=vpc_child,
        )
        for index, subnet in enumerate(self.private_subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{index}",
                subnet_id=subnet.id,
                route_table_id=self.private_route_table.id,
                opts=pulumi.ResourceOptions(parent=subnet),
            )
        # Gateway endpoints are free and keep S3 (config objects) and DynamoDB traffic off the NAT.
        for service in ("s3", "dynamodb"):
            aws.ec2.VpcEndpoint(
                f"{name}-{service}-endpoint",
                vpc_id=self.vpc.id,
                service_name=pulumi.Output.concat("com.amazonaws.", aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region, f".{service}"),
                vpc_endpoint_type="Gateway",
                route_table_ids=[self.private_route_table.id],
                tags=tags,
                opts=vpc_child,
            )
        self.security_group = task_security_group(name, self.vpc.id, args.cidr_block, tags, self.vpc)
        self.vpc_id = self.vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])  # type: ignore[assignment]
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "subnet_layout": [spec.__dict__ for spec in self.subnet_layout],
            }
        )


def task_security_group(
    name: str, vpc_id: pulumi.Input[str], vpc_cidr: pulumi.Input[str], tags: Mapping[str, str], parent: pulumi.Resource
) -> aws.ec2.SecurityGroup:
    """Ingress from inside the VPC only (membership, gRPC, metrics); egress anywhere (DSQL, AWS APIs)."""
    return aws.ec2.SecurityGroup(
        f"{name}-tasks-sg",
        vpc_id=vpc_id,
        description="Temporal tasks: traffic from inside the VPC only",
        ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=[vpc_cidr], description="VPC-internal")],
        egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"], description="AWS APIs and DSQL")],
        tags={**tags, "Name": f"{name}-tasks"},
        opts=pulumi.ResourceOptions(parent=parent),
    )
