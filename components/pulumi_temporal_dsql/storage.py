"""The profile bucket: private, encrypted, versioned, TLS-only, with a lifecycle; and the compiled
config artifacts stored under `config/` in exactly the layout `DeployedConfig` reads back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

__all__ = ["PrivateBucketGuards", "ProfileBucket", "ProfileBucketArgs", "guard_private_bucket", "tls_only_policy"]


def tls_only_policy(bucket_arn: str) -> str:
    """Deny every request that does not use TLS (the S3 security best practice)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class PrivateBucketGuards:
    public_access_block: aws.s3.BucketPublicAccessBlock
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    tls_only: aws.s3.BucketPolicy


def guard_private_bucket(
    prefix: str, bucket: aws.s3.Bucket, *, sse_algorithm: str, bucket_key_enabled: bool | None = None
) -> PrivateBucketGuards:
    """What every bucket of ours gets (and the policy pack checks): no public access, encryption at
    rest, TLS-only access. Children of the bucket, named `<prefix>-public-access-block`,
    `<prefix>-encryption` and `<prefix>-tls-only`."""
    on_bucket = pulumi.ResourceOptions(parent=bucket)
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{prefix}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=on_bucket,
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{prefix}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm=sse_algorithm
                ),
                bucket_key_enabled=bucket_key_enabled,
            )
        ],
        opts=on_bucket,
    )
    tls_only = aws.s3.BucketPolicy(
        f"{prefix}-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(tls_only_policy),
        opts=pulumi.ResourceOptions(parent=bucket, depends_on=[public_access_block]),
    )
    return PrivateBucketGuards(public_access_block, encryption, tls_only)


@dataclass(kw_only=True)
class ProfileBucketArgs:
    force_destroy: bool = False
    """Allow destroying a non-empty bucket (dev only)."""
    noncurrent_version_days: int = 90
    """Old object versions (previous compiled configs, replaced profiles) expire after this many days."""
    objects: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """S3 key -> body, written as objects of the bucket (the compiled config under config/)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class ProfileBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: ProfileBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:storage:ProfileBucket", name, None, opts)
        tags = dict(args.tags)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket", force_destroy=args.force_destroy, tags=tags, opts=pulumi.ResourceOptions(parent=self)
        )
        on_bucket = pulumi.ResourceOptions(parent=self.bucket)
        guards = guard_private_bucket(name, self.bucket, sse_algorithm="aws:kms", bucket_key_enabled=True)
        self.public_access_block, self.encryption, self.policy = (
            guards.public_access_block, guards.encryption, guards.tls_only)
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=on_bucket,
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=on_bucket,
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.noncurrent_version_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[self.versioning]),
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.objects = self._put_objects(name, args.objects)
        self.register_outputs({"name": self.name, "arn": self.arn, "keys": sorted(self.objects)})

    def _put_objects(self, name: str, objects: Mapping[str, pulumi.Input[str]]) -> dict[str, aws.s3.BucketObjectv2]:
        """One S3 object per key (child of the bucket), named from the key so names are stable."""
        created = {}
        for key in sorted(objects):
            logical = f"{name}-" + key.replace("/", "-").replace(".", "-").strip("-")
            content_type = "application/json" if key.endswith(".json") else "application/yaml"
            created[key] = aws.s3.BucketObjectv2(
                logical,
                bucket=self.bucket.id,
                key=key,
                content=objects[key],
                content_type=content_type,
                server_side_encryption="aws:kms",
                opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[self.encryption]),
            )
        return created
