"""The policy pack's validations, called on the resource arguments the offline plan records."""

from __future__ import annotations

import json
from typing import Any

import pytest
from components_helpers import PRESETS
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from pulumi_temporal_dsql.policies import POLICIES, policy_by_name
from pulumi_temporal_dsql.preview.plan import Plan, PlannedResource


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
    )


def _resource_args(r: PlannedResource, config: dict[str, Any] | None = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(r.type, r.inputs, r.urn, r.name, _opts(), None, config)


def _stack_args(resources: list[PlannedResource], config: dict[str, Any] | None = None) -> StackValidationArgs:
    by_urn: dict[str, PolicyResource] = {}
    for r in resources:  # parents are recorded before their children
        parent = by_urn.get(r.parent or "")
        by_urn[r.urn] = PolicyResource(r.type, r.inputs, r.urn, r.name, _opts(), None, parent, [], {})
    return StackValidationArgs(list(by_urn.values()), config)


def violations(policy_name: str, resources: list[PlannedResource], config: dict[str, Any] | None = None) -> list[str]:
    policy = policy_by_name(policy_name)
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    if isinstance(policy, StackValidationPolicy):
        policy.validate(_stack_args(resources, config), report)  # type: ignore[misc]
    else:
        assert isinstance(policy, ResourceValidationPolicy)
        for r in resources:
            policy.validate(_resource_args(r, config), report)  # type: ignore[misc]
    return found


def _replace(resource: PlannedResource, **inputs: Any) -> PlannedResource:
    return PlannedResource(resource.type, resource.name, resource.urn, resource.parent, {**resource.inputs, **inputs})


@pytest.mark.parametrize("preset", PRESETS)
def test_every_policy_passes_on_the_presets(plans: dict[str, Plan], preset: str) -> None:
    shards = plans[preset].outputs["history_shards"]
    for policy in POLICIES:
        config = {"historyShards": int(shards)} if policy.name == "history-shards-immutable" else None
        assert violations(policy.name, plans[preset].resources, config) == [], policy.name


@pytest.mark.parametrize(
    "variant", [{"copilot": "true"}, {"capacity": "ec2", "environment": "dev"}, {"profileApiAuth": "token"}]
)
def test_every_policy_passes_on_the_optional_parts(plan_for, variant: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    plan_ = plan_for("starter", **variant)
    for policy in POLICIES:
        assert violations(policy.name, plan_.resources) == [], (policy.name, variant)


def test_public_bucket_is_a_violation(plans: dict[str, Plan]) -> None:
    resources = [
        _replace(r, blockPublicPolicy=False) if r.type.endswith("BucketPublicAccessBlock") else r
        for r in plans["starter"].resources
    ]
    assert any("blockPublicPolicy" in v for v in violations("s3-public-access-blocked", resources))


def test_bucket_without_encryption_or_tls_policy_is_a_violation(plans: dict[str, Plan]) -> None:
    without = [r for r in plans["starter"].resources if not r.type.endswith(("Encryption" "Configuration", "BucketPolicy"))]
    found = violations("s3-private-encrypted-tls-only", without)
    assert any("encryption" in v for v in found) and any("TLS" in v for v in found)
    allow_all = [
        _replace(r, policy=json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}))
        if r.type == "aws:s3/bucketPolicy:BucketPolicy" else r
        for r in plans["starter"].resources
    ]
    assert any("TLS" in v for v in violations("s3-private-encrypted-tls-only", allow_all))


def test_wildcard_iam_resource_is_a_violation(plans: dict[str, Plan]) -> None:
    role = next(r for r in plans["starter"].resources if r.name == "temporal-plan-task")
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dsql:DbConnectAdmin"], "Resource": "*"}]})
    bad = _replace(role, inlinePolicies=[{"name": "temporal-task", "policy": doc}])
    assert violations("iam-no-wildcard-resources", [bad])


def test_history_shards_change_is_a_violation(plans: dict[str, Plan]) -> None:
    resources = plans["mid-scale"].resources
    shards = int(plans["mid-scale"].outputs["history_shards"])
    assert violations("history-shards-immutable", resources, {"historyShards": shards}) == []
    found = violations("history-shards-immutable", resources, {"historyShards": shards * 2})
    assert found and all("fixed once the cluster exists" in v for v in found)


def test_unprotected_dsql_and_non_canonical_tasks_are_violations(plans: dict[str, Plan]) -> None:
    cluster = next(r for r in plans["mid-scale"].resources if r.type == "aws:dsql/cluster:Cluster")
    assert violations("dsql-deletion-protection", [_replace(cluster, deletionProtectionEnabled=False)])
    task = next(r for r in plans["mid-scale"].resources if r.name == "temporal-plan-history-task")
    messy = json.dumps(json.loads(task.inputs["containerDefinitions"]), indent=2)
    assert violations("ecs-container-definitions-canonical", [_replace(task, containerDefinitions=messy)])
    stripped = json.loads(task.inputs["containerDefinitions"])
    for c in stripped:
        c["environment"] = [e for e in c["environment"] if e["name"] != "CLUSTER_ENDPOINT"]
    assert violations("temporal-dsql-env", [_replace(task, containerDefinitions=json.dumps(stripped))])
    log = next(r for r in plans["mid-scale"].resources if r.type == "aws:cloudwatch/logGroup:LogGroup")
    assert violations("log-retention-set", [_replace(log, retentionInDays=None)])


def test_policy_pack_program_declares_every_policy() -> None:
    from pathlib import Path

    source = (Path(__file__).parents[2] / "components/pulumi_temporal_dsql/policy/__main__.py").read_text()
    assert "PolicyPack(" in source and "POLICIES" in source
    assert len({p.name for p in POLICIES}) == len(POLICIES) == 8
