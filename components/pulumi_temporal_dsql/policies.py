"""The policy pack's rules: guard rails and security checks, as plain validation functions.

Run with `pulumi preview --policy-pack components/pulumi_temporal_dsql/policy`. Each rule is a
`pulumi_policy` policy whose `validate` takes the resource (or stack) arguments and reports
violations; the tests call them with the resource arguments the offline plan records.
During a preview, values that are not known yet (ARNs, endpoints) arrive as None: the rules
skip those instead of guessing.

History shards can never change on an existing cluster (`numHistoryShards` is fixed when the
database is initialised). Pass the value the stack was created with as policy config
(`{"history-shards-immutable": {"historyShards": 1024}}`, e.g. from
`pulumi stack output history_shards`) and any other value is a mandatory violation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from pulumi_temporal_dsql.containers import canonical_json
from pulumi_temporal_dsql.iam import wildcard_resources

__all__ = ["POLICIES", "policy_by_name"]

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
DSQL_CLUSTER = "aws:dsql/cluster:Cluster"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


# --- security ---------------------------------------------------------------------------------


def _public_access_blocked(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != PUBLIC_ACCESS_BLOCK:
        return
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        if args.props.get(flag) is not True:
            report(f"{args.name}: {flag} must be true (buckets stay private).", None)


def _bucket_children(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every bucket has a public access block, encryption and a TLS-only policy as children."""
    buckets = [r for r in args.resources if r.resource_type == BUCKET]
    for bucket in buckets:
        children = {r.resource_type: r for r in args.resources if r.parent is not None and r.parent.urn == bucket.urn}
        if PUBLIC_ACCESS_BLOCK not in children:
            report(f"bucket {bucket.name} has no public access block", bucket.urn)
        if ENCRYPTION not in children:
            report(f"bucket {bucket.name} has no server-side encryption configuration", bucket.urn)
        policy = children.get(BUCKET_POLICY)
        document = _json(policy.props.get("policy")) if policy is not None else None
        if policy is None or (document is not None and not _denies_insecure_transport(document)):
            report(f"bucket {bucket.name} does not deny requests without TLS (aws:SecureTransport=false)", bucket.urn)


def _denies_insecure_transport(document: Mapping[str, Any]) -> bool:
    statements = document.get("Statement", [])
    for stmt in statements if isinstance(statements, list) else [statements]:
        condition = stmt.get("Condition", {}).get("Bool", {})
        if stmt.get("Effect") == "Deny" and str(condition.get("aws:SecureTransport")).lower() == "false":
            return True
    return False


def _iam_documents(args: ResourceValidationArgs) -> list[tuple[str, Any]]:
    if args.resource_type == ROLE:
        return [(p.get("name", "inline"), p.get("policy")) for p in args.props.get("inlinePolicies") or []]
    if args.resource_type in (ROLE_POLICY, IAM_POLICY):
        return [(args.name, args.props.get("policy"))]
    return []


def _no_wildcard_resources(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for name, document in _iam_documents(args):
        parsed = _json(document)
        if parsed is None:
            continue  # not known yet during preview
        for actions, resource in wildcard_resources(parsed):
            report(f"{args.name}/{name}: {', '.join(actions)} on {resource!r}; grant the exact ARN instead.", None)


# --- guard rails ------------------------------------------------------------------------------


def _dsql_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DSQL_CLUSTER:
        return
    tags = args.props.get("tags") or {}
    if tags.get("environment") == "dev":
        return
    if args.props.get("deletionProtectionEnabled") is not True:
        report(f"{args.name}: DSQL deletion protection must be on outside dev (it holds every workflow).", None)


def _log_retention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == LOG_GROUP and not args.props.get("retentionInDays"):
        report(f"{args.name}: log group without retention keeps logs (and costs) forever.", None)


def _containers(args: ResourceValidationArgs) -> list[dict[str, Any]] | None:
    if args.resource_type != TASK_DEFINITION:
        return None
    raw = args.props.get("containerDefinitions")
    parsed = _json(raw)
    return parsed if isinstance(parsed, list) else None


def _canonical_containers(args: ResourceValidationArgs, report: ReportViolation) -> None:
    containers = _containers(args)
    if containers is None:
        return
    network_mode = str(args.props.get("networkMode") or "awsvpc")
    if args.props.get("containerDefinitions") != canonical_json(containers, network_mode=network_mode):
        report(
            f"{args.name}: container definitions are not in AWS's normalised form; every `up` would replace the "
            "task definition. Build them with pulumi_temporal_dsql.containers.canonical_json.",
            None,
        )


def _temporal_env(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in _containers(args) or []:
        if container.get("name") != "temporal":
            continue
        names = {e.get("name") for e in container.get("environment", [])}
        missing = sorted({"CLUSTER_ENDPOINT", "AWS_REGION", "REGION"} - names)
        if missing:
            report(f"{args.name}: the DSQL plugin needs {', '.join(missing)} (slot blocks fail without them).", None)


def _history_shards(args: StackValidationArgs, report: ReportViolation) -> None:
    values: dict[str, str] = {}
    for resource in args.resources:
        if resource.resource_type != TASK_DEFINITION:
            continue
        parsed = _json(resource.props.get("containerDefinitions"))
        for container in parsed if isinstance(parsed, list) else []:
            for item in container.get("environment", []):
                if item.get("name") == "TEMPORAL_HISTORY_SHARDS":
                    values[resource.urn] = str(item.get("value"))
    if len(set(values.values())) > 1:
        report(f"tasks disagree on TEMPORAL_HISTORY_SHARDS: {sorted(set(values.values()))}", None)
    recorded = args.get_config().get("historyShards")
    if recorded is not None:
        for urn, value in sorted(values.items()):
            if value != str(recorded):
                report(
                    f"history shards would change from {recorded} to {value}: numHistoryShards is fixed once the "
                    "cluster exists. Keep the value, or build a new cluster and migrate.",
                    urn,
                )


def _resource(
    name: str, description: str, validate: Callable[[ResourceValidationArgs, ReportViolation], None]
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=EnforcementLevel.MANDATORY
    )


POLICIES: list[Policy] = [
    _resource("s3-public-access-blocked", "Profile buckets block every form of public access.", _public_access_blocked),
    StackValidationPolicy(
        name="s3-private-encrypted-tls-only",
        description="Every bucket has a public access block, encryption and a TLS-only bucket policy.",
        validate=_bucket_children,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    _resource("iam-no-wildcard-resources", "IAM statements name exact ARNs wherever one exists.", _no_wildcard_resources),
    _resource("dsql-deletion-protection", "DSQL clusters are deletion-protected outside dev.", _dsql_deletion_protection),
    _resource("log-retention-set", "Every log group has a retention period.", _log_retention),
    _resource(
        "ecs-container-definitions-canonical",
        "Container definitions are normalised, so a second `up` shows no diff.",
        _canonical_containers,
    ),
    _resource("temporal-dsql-env", "Temporal tasks set CLUSTER_ENDPOINT, REGION and AWS_REGION.", _temporal_env),
    StackValidationPolicy(
        name="history-shards-immutable",
        description="History shards agree across roles and never change on an existing stack.",
        validate=_history_shards,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties={"historyShards": {"type": "integer"}}),
    ),
]


def policy_by_name(name: str) -> Policy:
    for policy in POLICIES:
        if policy.name == name:
            return policy
    raise KeyError(name)
