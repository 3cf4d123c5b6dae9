"""The ephemeral dev stack: what `copilot dev` needs in AWS, and nothing that outlives a session.

Two Aurora DSQL clusters (the monitored Temporal cluster's and the copilot's own), the copilot's
Bedrock knowledge base with its S3 source bucket and S3 Vectors store, a profile bucket, and one
IAM policy a developer attaches to run the local stack against them. Every resource carries
Lifecycle=ephemeral and ManagedBy=pulumi; deletion protection is off and buckets force-destroy so
`copilot dev infra destroy` removes everything.

`build_dev_stack` is the program; `__main__.py` (stand-alone `pulumi up` with a Pulumi.yaml of
your own) and `pulumi_temporal_dsql.automation` (inline program, no Pulumi.yaml) both call it.
The exported output names are the keys `temporal_dsql_devstack.infra.DEV_ENV_KEYS` maps into `.env`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql.dsql import DsqlStore, DsqlStoreArgs
from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.iam import DSQL_CONNECT_ACTIONS, policy_document, statement
from pulumi_temporal_dsql.knowledge_base import KnowledgeBase, KnowledgeBaseArgs
from pulumi_temporal_dsql.storage import ProfileBucket, ProfileBucketArgs

__all__ = ["EPHEMERAL_TAGS", "OUTPUT_NAMES", "DevStack", "DevStackArgs", "build_dev_stack", "dev_stack_program"]

EPHEMERAL_TAGS = {"Lifecycle": "ephemeral", "ManagedBy": "pulumi"}
OUTPUT_NAMES = (
    "aws_region",
    "monitored_dsql_endpoint",
    "monitored_dsql_arn",
    "monitored_rate_limiter_table",
    "copilot_dsql_endpoint",
    "copilot_dsql_arn",
    "kb_id",
    "kb_data_source_id",
    "kb_source_bucket",
    "profile_bucket",
    "developer_policy_arn",
)
_NAME = re.compile(r"^[a-z][a-z0-9-]{2,30}$")


@dataclass(kw_only=True)
class DevStackArgs:
    prefix: str = "copilot-dev"
    """Name prefix of every resource (lower case, digits, dashes; it also names the S3 Vectors bucket)."""
    owner: str | None = None
    """Who created the stack (tag Owner), so a forgotten ephemeral stack can be traced."""
    extra_tags: dict[str, str] = field(default_factory=dict)


@dataclass
class DevStack:
    monitored: DsqlStore
    copilot: DsqlStore
    knowledge_base: KnowledgeBase
    profile_bucket: ProfileBucket
    developer_policy: aws.iam.Policy
    region: pulumi.Output[str]

    def outputs(self) -> dict[str, Any]:
        return {
            "aws_region": self.region,
            "monitored_dsql_endpoint": self.monitored.endpoint,
            "monitored_dsql_arn": self.monitored.arn,
            "monitored_rate_limiter_table": self.monitored.tables["rate-limiter"].name,
            "copilot_dsql_endpoint": self.copilot.endpoint,
            "copilot_dsql_arn": self.copilot.arn,
            "kb_id": self.knowledge_base.knowledge_base_id,
            "kb_data_source_id": self.knowledge_base.data_source_id,
            "kb_source_bucket": self.knowledge_base.source_bucket_name,
            "profile_bucket": self.profile_bucket.name,
            "developer_policy_arn": self.developer_policy.arn,
        }


def build_dev_stack(args: DevStackArgs) -> DevStack:
    if not _NAME.match(args.prefix):
        raise ComponentInputError(f"prefix {args.prefix!r} is not a valid resource name prefix", field="prefix",
                                  suggestion="Use 3-31 lower-case letters, digits and dashes, starting with a letter.")
    tags = {**args.extra_tags, **EPHEMERAL_TAGS}
    if args.owner:
        tags["Owner"] = args.owner
    prefix = args.prefix
    monitored = DsqlStore(f"{prefix}-monitored", DsqlStoreArgs(
        deletion_protection=False, rate_limiter_table=f"{prefix}-dsql-rate-limiter", tags=tags))
    copilot = DsqlStore(f"{prefix}-copilot", DsqlStoreArgs(deletion_protection=False, tags=tags))
    knowledge_base = KnowledgeBase(f"{prefix}-kb", KnowledgeBaseArgs(force_destroy=True, tags=tags))
    profile_bucket = ProfileBucket(f"{prefix}-profiles", ProfileBucketArgs(
        force_destroy=True, noncurrent_version_days=1, tags=tags))
    region = aws.get_region_output().region

    sync = knowledge_base.sync_statements()
    retrieve = knowledge_base.retrieval_statements()
    developer_policy = aws.iam.Policy(
        f"{prefix}-developer",
        description="Run the copilot dev stack locally against the ephemeral DSQL clusters and knowledge base.",
        policy=pulumi.Output.all(monitored.arn, copilot.arn, monitored.tables["rate-limiter"].arn,
                                 profile_bucket.arn, sync, retrieve).apply(
            lambda v: policy_document(
                statement(DSQL_CONNECT_ACTIONS, [v[0], v[1]], "ConnectToDevClusters"),
                statement(["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                          [v[2]], "RateLimiterTable"),
                statement(["s3:ListBucket"], [v[3]], "ProfileBucketList"),
                statement(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], [f"{v[3]}/*"], "ProfileBucketObjects"),
                *v[4], *v[5])),
        tags=tags)
    return DevStack(monitored=monitored, copilot=copilot, knowledge_base=knowledge_base,
                    profile_bucket=profile_bucket, developer_policy=developer_policy, region=region)


def dev_stack_program(args: DevStackArgs | None = None) -> None:
    """The whole Pulumi program: build the stack and export OUTPUT_NAMES."""
    if args is None:
        config = pulumi.Config()
        args = DevStackArgs(prefix=config.get("prefix") or "copilot-dev", owner=config.get("owner"))
    stack = build_dev_stack(args)
    for name, value in stack.outputs().items():
        pulumi.export(name, value)
