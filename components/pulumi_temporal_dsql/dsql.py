"""The Aurora DSQL cluster and, when the compiled config turns them on, the DynamoDB tables of
the plugin's distributed rate limiter and connection slot blocks.

DSQL has no endpoint output: it is built as `<identifier>.dsql.<region>.on.aws`. The tables
have the shape the plugin writes (string hash key `pk`, TTL on `ttl_epoch`, on-demand).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

__all__ = ["DsqlStore", "DsqlStoreArgs", "dsql_endpoint"]


def dsql_endpoint(identifier: str, region: str) -> str:
    return f"{identifier}.dsql.{region}.on.aws"


@dataclass(kw_only=True)
class DsqlStoreArgs:
    deletion_protection: bool = True
    """Off only for dev stacks: a protected cluster cannot be destroyed by accident."""
    rate_limiter_table: str | None = None
    """Name of the distributed rate limiter table; None when the compiled config disables it."""
    conn_lease_table: str | None = None
    """Name of the slot-block (connection lease) table; None when disabled."""
    tags: Mapping[str, str] = field(default_factory=dict)


class DsqlStore(pulumi.ComponentResource):
    cluster: aws.dsql.Cluster
    endpoint: pulumi.Output[str]
    arn: pulumi.Output[str]
    tables: dict[str, aws.dynamodb.Table]

    def __init__(self, name: str, args: DsqlStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:dsql:DsqlStore", name, None, opts)
        tags = dict(args.tags)
        self.cluster = aws.dsql.Cluster(
            f"{name}-cluster",
            deletion_protection_enabled=args.deletion_protection,
            tags={**tags, "Name": name},
            opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection),
        )
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        self.endpoint = pulumi.Output.all(self.cluster.identifier, region).apply(lambda v: dsql_endpoint(v[0], v[1]))
        self.arn = self.cluster.arn
        self.tables = {}
        for role, table_name in (("rate-limiter", args.rate_limiter_table), ("conn-lease", args.conn_lease_table)):
            if table_name is None:
                continue
            self.tables[role] = aws.dynamodb.Table(
                f"{name}-{role}",
                name=table_name,
                billing_mode="PAY_PER_REQUEST",
                hash_key="pk",
                attributes=[aws.dynamodb.TableAttributeArgs(name="pk", type="S")],
                ttl=aws.dynamodb.TableTtlArgs(attribute_name="ttl_epoch", enabled=True),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {"endpoint": self.endpoint, "arn": self.arn, "tables": {k: t.name for k, t in self.tables.items()}}
        )
