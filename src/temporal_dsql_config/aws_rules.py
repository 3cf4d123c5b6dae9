"""AWS's own rules for the names and addresses a deployment uses, read from botocore.

Where botocore's service models constrain a value (a shape's min/max/pattern/enum) that is the
rule checked: DynamoDB table names (``dynamodb`` TableName), CloudWatch log group names (``logs``
LogGroupName), IAM role names (``iam`` roleNameType), the DSQL cluster id in an endpoint (``dsql``
ClusterId), EC2 instance types (``ec2`` InstanceType enum). Regions are the ones botocore's
endpoint data lists in its partitions. Where no model constrains a value, the rule is AWS's
documented one, cited where it is written: S3 bucket names ("Bucket naming rules", Amazon S3 User
Guide), DSQL endpoints (``<cluster id>.dsql.<region>.on.aws``, Aurora DSQL User Guide), VPC CIDRs
(a /16 to /28 IPv4 block, Amazon VPC User Guide). Each check returns the errors (field, what AWS
allows, a suggestion) so callers report every one at once.

botocore is loaded on the first check, not at import: a compile without such overrides never
pays for reading the models.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from temporal_dsql_config.errors import DsqlConfigError
from temporal_dsql_config.fargate import Ec2Capacity, ec2_capacity

__all__ = [
    "ShapeRule",
    "check_cidr",
    "check_dsql_endpoint",
    "check_dynamodb_table",
    "check_iam_role_name",
    "check_log_group_name",
    "check_region",
    "check_s3_bucket",
    "ec2_capacity_for",
    "endpoint_region",
    "known_regions",
    "shape_rule",
]

DSQL_ENDPOINT_SUFFIX = "on.aws"  # <cluster id>.dsql.<region>.on.aws (Aurora DSQL User Guide, "Connecting")


@dataclass(frozen=True, slots=True)
class ShapeRule:
    """A botocore string shape's constraints."""

    service: str
    shape: str
    min: int | None
    max: int | None
    pattern: str | None
    enum: tuple[str, ...]

    def describe(self) -> str:
        parts = []
        if self.min is not None or self.max is not None:
            parts.append(f"{self.min or 0}-{self.max if self.max is not None else '∞'} characters")
        if self.pattern:
            parts.append(f"matching {self.pattern}")
        return f"{', '.join(parts)} ({self.service} {self.shape} in botocore's service model)"

    def violations(self, value: str) -> list[str]:
        found = []
        if self.min is not None and len(value) < self.min:
            found.append(f"shorter than {self.min} characters")
        if self.max is not None and len(value) > self.max:
            found.append(f"longer than {self.max} characters")
        # AWS's patterns are Java regexes matched against the whole value; \w is ASCII there.
        if self.pattern and not re.fullmatch(self.pattern, value, re.ASCII):
            found.append(f"not matching {self.pattern}")
        if self.enum and value not in self.enum:
            found.append("not a known value")
        return found


@functools.cache
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@functools.cache
def shape_rule(service: str, shape: str) -> ShapeRule:
    model = _session().get_service_model(service).shape_for(shape)
    meta = model.metadata
    return ShapeRule(service, shape, meta.get("min"), meta.get("max"), meta.get("pattern"),
                     tuple(getattr(model, "enum", None) or ()))


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's endpoint data."""
    data = _session().get_component("data_loader").load_data("endpoints")
    return frozenset(region for partition in data["partitions"] for region in partition["regions"])


def _shape_check(field: str, value: str, service: str, shape: str, what: str,
                 suggestion: str) -> list[DsqlConfigError]:
    rule = shape_rule(service, shape)
    problems = rule.violations(value)
    if not problems:
        return []
    return [DsqlConfigError(f"{what} {value!r} is not one AWS accepts: {', '.join(problems)}.", field=field,
                            allowed=[rule.describe()], suggestion=suggestion)]


def check_dynamodb_table(field: str, value: str) -> list[DsqlConfigError]:
    return _shape_check(field, value, "dynamodb", "TableName", "DynamoDB table name",
                        "Use 3-255 letters, digits, '_', '-' or '.', e.g. temporal-prod-rate-limiter.")


def check_log_group_name(field: str, value: str) -> list[DsqlConfigError]:
    return _shape_check(field, value, "logs", "LogGroupName", "CloudWatch log group name",
                        "Use 1-512 letters, digits and . - _ / #, e.g. /ecs/temporal-prod/history.")


def check_iam_role_name(field: str, value: str) -> list[DsqlConfigError]:
    return _shape_check(field, value, "iam", "roleNameType", "IAM role name",
                        "Use at most 64 letters, digits and + = , . @ _ -; shorten the stack name.")


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def check_s3_bucket(field: str, value: str) -> list[DsqlConfigError]:
    """S3's general-purpose bucket naming rules (botocore's s3 BucketName has no pattern): 3-63
    lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..',
    not an IP address, none of the reserved prefixes/suffixes (Amazon S3 User Guide, "Bucket naming rules")."""
    problems = []
    if not _BUCKET.fullmatch(value):
        problems.append("not 3-63 lowercase letters, digits, '.' or '-' starting and ending with a letter or digit")
    if ".." in value:
        problems.append("two adjacent periods")
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value):
        problems.append("formatted as an IP address")
    if value.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or value.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")):
        problems.append("a prefix or suffix S3 reserves")
    if not problems:
        return []
    return [DsqlConfigError(f"S3 bucket name {value!r} is not one S3 accepts: {'; '.join(problems)}.", field=field,
                            allowed=["3-63 characters: a-z 0-9 . - (S3 bucket naming rules)"],
                            suggestion="Use a lowercase name such as temporal-prod-profiles.")]


def check_region(field: str, value: str) -> list[DsqlConfigError]:
    if value in known_regions():
        return []
    from temporal_dsql_core.errors import close_matches

    hits = close_matches(value, sorted(known_regions()))
    return [DsqlConfigError(f"{value!r} is not an AWS region botocore knows.", field=field,
                            allowed=sorted(known_regions()),
                            suggestion=(f"Did you mean {' or '.join(repr(h) for h in hits)}?" if hits
                                        else "Use a region such as us-east-1."))]


def endpoint_region(endpoint: str) -> str | None:
    """The region in a DSQL endpoint of the documented form, else None."""
    parts = endpoint.split(".")
    if len(parts) == 5 and parts[1] == "dsql" and ".".join(parts[3:]) == DSQL_ENDPOINT_SUFFIX:
        return parts[2]
    return None


def check_dsql_endpoint(field: str, value: str, region: str | None) -> list[DsqlConfigError]:
    """``<cluster id>.dsql.<region>.on.aws``: the id as botocore's dsql ClusterId, the host as its
    Endpoint pattern, a known region, and (given ``region``) the same region as the deployment's."""
    host = shape_rule("dsql", "Endpoint")
    cluster_id = shape_rule("dsql", "ClusterId")
    parts = value.split(".")
    form = (f"<cluster id: {cluster_id.pattern}>.dsql.<region>.{DSQL_ENDPOINT_SUFFIX} "
            f"(host {host.pattern}; dsql ClusterId/Endpoint in botocore's model)")
    found = endpoint_region(value)
    if host.violations(value) or found is None or cluster_id.violations(parts[0]):
        return [DsqlConfigError(f"DSQL endpoint {value!r} is not a DSQL cluster endpoint.", field=field,
                                allowed=[form], suggestion="Copy the endpoint the DSQL console or "
                                "`aws dsql get-cluster` shows, e.g. abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws.")]
    errors = check_region(field, found)
    if not errors and region is not None and found != region:
        errors.append(DsqlConfigError(
            f"DSQL endpoint {value!r} is in {found} but the region is {region!r}: the plugin would sign IAM "
            "tokens for the wrong region.", field=field, allowed=[f"an endpoint in {region}"],
            suggestion=f"Set the region (REGION) to {found}, or use the cluster's endpoint in {region}."))
    return errors


def check_cidr(field: str, value: str) -> list[DsqlConfigError]:
    """An IPv4 VPC block from /16 to /28, written as its network address (Amazon VPC User Guide,
    "VPC CIDR blocks"; botocore's ec2 CidrBlock is an unconstrained string)."""
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        return [DsqlConfigError(f"VPC CIDR {value!r} is not an IPv4 network: {error}.", field=field,
                                allowed=["an IPv4 block /16 to /28, e.g. 10.0.0.0/16"],
                                suggestion="Write the network address and prefix, e.g. 10.0.0.0/16.")]
    if not 16 <= network.prefixlen <= 28:
        return [DsqlConfigError(f"VPC CIDR {value!r} is a /{network.prefixlen}; AWS allows /16 to /28.", field=field,
                                allowed=["an IPv4 block /16 to /28"], suggestion="Use e.g. 10.0.0.0/16.")]
    return []


def ec2_capacity_for(instance_type: str) -> Ec2Capacity:
    """The capacity of an EC2 instance type botocore's ec2 model knows and this package can size."""
    rule = shape_rule("ec2", "InstanceType")
    capacity = ec2_capacity(instance_type) if instance_type in rule.enum else None
    if capacity is None:
        from temporal_dsql_core.errors import close_matches

        sized = [t for t in rule.enum if ec2_capacity(t) is not None]
        hits = close_matches(instance_type, sized)
        raise DsqlConfigError(
            f"{instance_type!r} is not an EC2 instance type the ECS capacity can run "
            "(a Graviton m/c/r 6-8th generation or t4g type, as botocore's ec2 InstanceType lists them).",
            field="ec2_instance_type", allowed=sized,
            suggestion=f"Did you mean {' or '.join(repr(h) for h in hits)}?" if hits else "Use e.g. m7g.xlarge.")
    return capacity
