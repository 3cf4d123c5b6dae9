"""The visibility store: an OpenSearch domain sized by the preset, or an existing endpoint.

DSQL holds no visibility data (the plugin's visibility is a stub), so every deployment needs
Elasticsearch-compatible visibility. The domain is VPC-only, encrypted at rest and in
transit, HTTPS-only. It has no domain (resource-based) access policy: access is granted by the
identity policies of the task roles in the same account, which allow `es:ESHttp*` on this domain
only (and requests must be SigV4-signed, which the server's `aws-request-signing` and the
visibility set-up task do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql.errors import ComponentInputError

__all__ = ["OPENSEARCH_SIZES", "OpenSearchSize", "Visibility", "VisibilityArgs", "visibility_env"]


@dataclass(frozen=True)
class OpenSearchSize:
    instance_type: str
    instance_count: int
    volume_gib: int


# Sized after the anchor deployment (m6g.large.search, 2 nodes dev, 3 bench/prod).
OPENSEARCH_SIZES: dict[str, OpenSearchSize] = {
    "starter": OpenSearchSize("t3.medium.search", 1, 20),
    "mid-scale": OpenSearchSize("m6g.large.search", 2, 50),
    "high-throughput": OpenSearchSize("m6g.large.search", 3, 100),
}
VISIBILITY_INDEX_PREFIX = "temporal_visibility_v1"


def visibility_env(host: str, index: str) -> dict[str, str]:
    """The TEMPORAL_ELASTICSEARCH_* variables the runtime image's renderer reads."""
    return {
        "TEMPORAL_ELASTICSEARCH_HOST": host,
        "TEMPORAL_ELASTICSEARCH_PORT": "443",
        "TEMPORAL_ELASTICSEARCH_SCHEME": "https",
        "TEMPORAL_ELASTICSEARCH_VERSION": "v8",
        "TEMPORAL_ELASTICSEARCH_INDEX": index,
    }


@dataclass(kw_only=True)
class VisibilityArgs:
    preset: str
    index_name: str
    existing_endpoint: str | None = None
    """Use this OpenSearch endpoint instead of creating a domain (then also pass its ARN)."""
    existing_domain_arn: str | None = None
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


class Visibility(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    domain_arn: pulumi.Output[str]
    index_name: str
    domain: aws.opensearch.Domain | None

    def __init__(self, name: str, args: VisibilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:visibility:Visibility", name, None, opts)
        self.index_name = args.index_name
        if args.existing_endpoint is not None:
            if not args.existing_domain_arn:
                raise ComponentInputError(
                    "An existing OpenSearch endpoint needs its domain ARN (IAM is granted on that domain only).",
                    field="opensearch_domain_arn",
                    suggestion="Pass opensearch_domain_arn='arn:aws:es:<region>:<account>:domain/<name>'.",
                )
            self.domain = None
            self.endpoint = pulumi.Output.from_input(args.existing_endpoint)
            self.domain_arn = pulumi.Output.from_input(args.existing_domain_arn)
        else:
            size = OPENSEARCH_SIZES.get(args.preset, OPENSEARCH_SIZES["mid-scale"])
            subnets = pulumi.Output.from_input(args.subnet_ids or []).apply(lambda ids: list(ids)[: max(1, min(size.instance_count, 2))])
            domain_name = name[:28]
            self.domain = aws.opensearch.Domain(
                f"{name}-domain",
                domain_name=domain_name,
                engine_version="OpenSearch_2.17",
                cluster_config=aws.opensearch.DomainClusterConfigArgs(
                    instance_type=size.instance_type,
                    instance_count=size.instance_count,
                    zone_awareness_enabled=size.instance_count > 1,
                    zone_awareness_config=aws.opensearch.DomainClusterConfigZoneAwarenessConfigArgs(availability_zone_count=2)
                    if size.instance_count > 1
                    else None,
                ),
                ebs_options=aws.opensearch.DomainEbsOptionsArgs(ebs_enabled=True, volume_size=size.volume_gib, volume_type="gp3"),
                encrypt_at_rest=aws.opensearch.DomainEncryptAtRestArgs(enabled=True),
                node_to_node_encryption=aws.opensearch.DomainNodeToNodeEncryptionArgs(enabled=True),
                domain_endpoint_options=aws.opensearch.DomainDomainEndpointOptionsArgs(
                    enforce_https=True, tls_security_policy="Policy-Min-TLS-1-2-2019-07"
                ),
                vpc_options=aws.opensearch.DomainVpcOptionsArgs(subnet_ids=subnets, security_group_ids=list(args.security_group_ids)),
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.endpoint = self.domain.endpoint
            self.domain_arn = self.domain.arn
        self.register_outputs({"endpoint": self.endpoint, "domain_arn": self.domain_arn, "index": self.index_name})
