"""IAM is exact (no wildcard resource where an ARN exists); buckets are private; the tables and
DSQL cluster have the shapes the plugin needs; optional parts honour their switches."""

from __future__ import annotations

import fnmatch
import json
import os
from typing import Any

import pytest
from components_helpers import PRESETS, container_env, containers, one

from pulumi_temporal_dsql.compiled import TABLE_PARAMETERS
from pulumi_temporal_dsql.iam import wildcard_resources
from pulumi_temporal_dsql.preview.plan import Plan

ROLE = "aws:iam/role:Role"
TASK = "aws:ecs/taskDefinition:TaskDefinition"


def _documents(plan_: Plan) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for role in plan_.by_type(ROLE):
        for inline in role.inputs.get("inlinePolicies") or []:
            docs.append((f"{role.name}/{inline['name']}", json.loads(inline["policy"])))
    return docs


@pytest.mark.parametrize("preset", PRESETS)
def test_no_wildcard_iam_resource_where_an_arn_exists(plans: dict[str, Plan], preset: str) -> None:
    docs = _documents(plans[preset])
    assert len(docs) >= 4
    for name, doc in docs:
        assert wildcard_resources(doc) == [], name


def test_wildcard_detection_is_real() -> None:
    bad = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}
    assert wildcard_resources(bad) == [(["s3:GetObject"], "*")]
    star = {"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:us-east-1:1:table/t"}]}
    assert wildcard_resources(star)
    ok = {"Statement": [{"Effect": "Allow", "Action": ["ssmmessages:CreateControlChannel"], "Resource": "*"}]}
    assert wildcard_resources(ok) == []


def _task_policy(plan_: Plan) -> dict[str, Any]:
    role = one(plan_, ROLE, "temporal-plan-task")
    return json.loads(role.inputs["inlinePolicies"][0]["policy"])


def test_task_role_grants_exactly_what_temporal_needs(plans: dict[str, Plan]) -> None:
    plan_ = plans["high-throughput"]
    statements = {s["Sid"]: s for s in _task_policy(plan_)["Statement"]}
    assert statements["Dsql"]["Resource"] == [plan_.outputs["dsql_cluster_arn"]]
    assert "dsql:DbConnectAdmin" in statements["Dsql"]["Action"]
    bucket = plan_.outputs["bucket_name"]
    assert statements["ReadDynamicConfig"]["Resource"] == [f"arn:aws:s3:::{bucket}/config/dynamic_config.yaml"]
    assert statements["ReadDynamicConfig"]["Action"] == ["s3:GetObject"]
    assert statements["RemoteWrite"]["Action"] == ["aps:RemoteWrite"]
    assert statements["RemoteWrite"]["Resource"][0].startswith("arn:aws:aps:us-east-1:123456789012:workspace/")
    domain = one(plan_, "aws:opensearch/domain:Domain", "temporal-plan-visibility-domain").inputs["domainName"]
    assert all(r.startswith(f"arn:aws:es:us-east-1:123456789012:domain/{domain}") for r in statements["Visibility"]["Resource"])
    assert all(a.startswith("es:ESHttp") for a in statements["Visibility"]["Action"])
    tables = {t.inputs["name"] for t in plan_.by_type("aws:dynamodb/table:Table")}
    assert {r.rsplit("/", 1)[1] for r in statements["RateLimiterAndSlotBlocks"]["Resource"]} == tables
    assert "dynamodb:Scan" not in statements["RateLimiterAndSlotBlocks"]["Action"]


def test_dynamodb_tables_follow_the_compiled_config(plans: dict[str, Plan]) -> None:
    from temporal_dsql_config import ConfigCompiler

    for preset, plan_ in plans.items():
        base = ConfigCompiler().compile(preset)
        # Each table the preset enables, named after the deployment (temporal-<stack>).
        wanted = {f"temporal-plan-{suffix}" for t, suffix in ((base.distributed_rate_limiter_table, "rate-limiter"),
                                                              (base.conn_lease_table, "conn-lease")) if t}
        result = ConfigCompiler().compile(preset, overrides={k: f"temporal-plan-{v}" for k, v in TABLE_PARAMETERS.items()})
        tables = plan_.by_type("aws:dynamodb/table:Table")
        assert {t.inputs["name"] for t in tables} == wanted, preset
        for table in tables:
            assert table.inputs["hashKey"] == "pk"
            assert table.inputs["attributes"] == [{"name": "pk", "type": "S"}]
            assert table.inputs["ttl"] == {"attributeName": "ttl_epoch", "enabled": True}
            assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
        env = container_env(next(c for c in containers(one(plan_, "aws:ecs/taskDefinition:TaskDefinition", "temporal-plan-history-task")) if c["name"] == "temporal"))
        if base.distributed_rate_limiter_table:
            assert env["DSQL_DISTRIBUTED_RATE_LIMITER_TABLE"] == result.distributed_rate_limiter_table
            assert env["DSQL_DISTRIBUTED_CONN_LEASE_TABLE"] == "temporal-plan-conn-lease"


def test_dynamodb_table_names_are_per_stack_and_reach_env_and_profile(plan_for) -> None:  # type: ignore[no-untyped-def]
    """Two stacks in one account and region get different tables, and everything the compiler emits
    (every role's env, the stored profile) names the tables the stack really creates."""
    from pulumi_temporal_dsql.preview.plan import plan

    for stack in ("plan", "other"):
        plan_ = plan_for("high-throughput") if stack == "plan" else plan("high-throughput", stack=stack)
        names = sorted(t.inputs["name"] for t in plan_.by_type("aws:dynamodb/table:Table"))
        assert names == [f"temporal-{stack}-conn-lease", f"temporal-{stack}-rate-limiter"]
        for role in ("history", "matching", "frontend", "worker"):
            task = one(plan_, "aws:ecs/taskDefinition:TaskDefinition", f"temporal-{stack}-{role}-task")
            env = container_env(next(c for c in containers(task) if c["name"] == "temporal"))
            assert env["DSQL_DISTRIBUTED_RATE_LIMITER_TABLE"] == f"temporal-{stack}-rate-limiter"
            assert env["DSQL_DISTRIBUTED_CONN_LEASE_TABLE"] == f"temporal-{stack}-conn-lease"
        assert "temporal-dsql-rate-limiter" not in plan_.outputs["profile_json"]
    # A name the user gives wins.
    named = plan_for("high-throughput", overrides='{"dsql.conn_lease_table": "shared-leases"}')
    assert sorted(t.inputs["name"] for t in named.by_type("aws:dynamodb/table:Table")) == \
        ["shared-leases", "temporal-plan-rate-limiter"]


def test_bucket_is_private_encrypted_versioned_and_tls_only(plans: dict[str, Plan]) -> None:
    plan_ = plans["starter"]
    block = one(plan_, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "temporal-plan-profiles-public-access-block")
    assert all(block.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    sse = one(plan_, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "temporal-plan-profiles-encryption")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    versioning = one(plan_, "aws:s3/bucketVersioning:BucketVersioning", "temporal-plan-profiles-versioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    lifecycle = one(plan_, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "temporal-plan-profiles-lifecycle")
    assert lifecycle.inputs["rules"][0]["noncurrentVersionExpiration"]["noncurrentDays"] == 90
    policy = json.loads(one(plan_, "aws:s3/bucketPolicy:BucketPolicy", "temporal-plan-profiles-tls-only").inputs["policy"])
    deny = policy["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_dsql_deletion_protection_is_on_except_for_dev(plans: dict[str, Plan], plan_for) -> None:  # type: ignore[no-untyped-def]
    cluster = one(plans["mid-scale"], "aws:dsql/cluster:Cluster", "temporal-plan-dsql-cluster")
    assert cluster.inputs["deletionProtectionEnabled"] is True
    dev = plan_for("starter", environment="dev")
    assert one(dev, "aws:dsql/cluster:Cluster", "temporal-plan-dsql-cluster").inputs["deletionProtectionEnabled"] is False
    assert one(dev, "aws:s3/bucket:Bucket", "temporal-plan-profiles-bucket").inputs["forceDestroy"] is True


def test_frontend_is_behind_an_internal_nlb_on_7233(plans: dict[str, Plan]) -> None:
    plan_ = plans["mid-scale"]
    nlb = one(plan_, "aws:lb/loadBalancer:LoadBalancer", "temporal-plan-nlb")
    assert nlb.inputs["internal"] is True and nlb.inputs["loadBalancerType"] == "network"
    ports = sorted(int(r.inputs["port"]) for r in plan_.by_type("aws:lb/listener:Listener"))
    assert ports == [7233, 8080]
    frontend = one(plan_, "aws:ecs/service:Service", "temporal-plan-frontend-service")
    assert [int(lb["containerPort"]) for lb in frontend.inputs["loadBalancers"]] == [7233]


def test_profile_api_lambda_env_iam_and_auth(plans: dict[str, Plan], plan_for) -> None:  # type: ignore[no-untyped-def]
    from temporal_dsql_profiles.settings import ProfileSettings

    plan_ = plan_for("starter", grafanaOrigin="https://grafana.example.com")
    function = one(plan_, "aws:lambda/function:Function", "temporal-plan-profile-api-function")
    assert function.inputs["runtime"] == "python3.12" and function.inputs["architectures"] == ["arm64"]
    assert function.inputs["handler"] == "profile_api.handler.handler"
    env = function.inputs["environment"]["variables"]
    assert all(name.startswith("PROFILES_") for name in env)
    settings = ProfileSettings(**{k.removeprefix("PROFILES_").lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    assert settings.bucket == plan_.outputs["bucket_name"]
    assert settings.dsql_endpoint == plan_.outputs["dsql_endpoint"]
    assert settings.auth_mode == "iam"
    url = one(plan_, "aws:lambda/functionUrl:FunctionUrl", "temporal-plan-profile-api-url")
    assert url.inputs["authorizationType"] == "AWS_IAM"
    # CORS lives in ONE place, the Function URL (it answers the unsigned preflight that AWS_IAM
    # auth would otherwise reject): the Grafana origin there, and no CORS of the app's own.
    assert url.inputs["cors"]["allowOrigins"] == ["https://grafana.example.com"]
    assert set(url.inputs["cors"]["allowMethods"]) == {"GET", "POST", "DELETE"}
    assert {"authorization", "content-type", "x-amz-date", "x-amz-security-token"} <= set(url.inputs["cors"]["allowHeaders"])
    assert settings.allowed_origins == []
    no_origin = one(plans["starter"], "aws:lambda/functionUrl:FunctionUrl", "temporal-plan-profile-api-url")
    assert "cors" not in no_origin.inputs  # no Grafana origin: no browser origin is allowed
    policy = json.loads(one(plan_, ROLE, "temporal-plan-profile-api-role").inputs["inlinePolicies"][0]["policy"])
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    bucket_arn = f"arn:aws:s3:::{plan_.outputs['bucket_name']}"
    assert {bucket_arn, f"{bucket_arn}/profiles/*", plan_.outputs["dsql_cluster_arn"]} <= resources
    # Issue 19: writes only under profiles/ (config/dynamic_config.yaml is the servers' live config),
    # and the index through a dedicated database role (DbConnect, not DbConnectAdmin).
    writes = {r for s in policy["Statement"] for a in s["Action"] if a in ("s3:PutObject", "s3:DeleteObject")
              for r in s["Resource"]}
    assert writes == {f"{bucket_arn}/profiles/*"}
    assert f"{bucket_arn}/*" not in resources
    dsql_actions = {a for s in policy["Statement"] for a in s["Action"] if a.startswith("dsql:")}
    assert dsql_actions == {"dsql:DbConnect"}
    assert settings.db_user == "profile_api" and settings.manage_schema is False

    token = plan_for("starter", profileApiAuth="token")
    url = one(token, "aws:lambda/functionUrl:FunctionUrl", "temporal-plan-profile-api-url")
    assert url.inputs["authorizationType"] == "NONE"
    secret = one(token, "aws:secretsmanager/secret:Secret", "temporal-plan-profile-api-token")
    env = one(token, "aws:lambda/function:Function", "temporal-plan-profile-api-function").inputs["environment"]["variables"]
    assert env["PROFILES_AUTH_MODE"] == "token"
    assert env["PROFILES_AUTH_TOKEN_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    assert secret.name == "temporal-plan-profile-api-token"


def test_copilot_workers_get_settings_by_field_name_and_least_privilege(plan_for) -> None:  # type: ignore[no-untyped-def]
    from temporal_dsql_copilot.settings import CopilotSettings

    plan_ = plan_for("mid-scale", copilot="true")
    task = one(plan_, "aws:ecs/taskDefinition:TaskDefinition", "temporal-plan-copilot-worker-task")
    env = container_env(containers(task)[0])
    # COPILOT_* (CopilotSettings) plus PROFILES_* for its profile store (see the test below).
    assert env and all(k.startswith(("COPILOT_", "PROFILES_")) for k in env)
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        settings = CopilotSettings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert settings.temporal_address == "copilot-temporal:7233"
    assert settings.amp_sigv4 is True and settings.preset_name == "mid-scale"
    knowledge_base = one(plan_, "aws:bedrock/agentKnowledgeBase:AgentKnowledgeBase", "temporal-plan-copilot-kb-kb")
    assert settings.kb_id and settings.kb_data_source_id and settings.kb_bucket
    assert knowledge_base.type.startswith("aws:bedrock/")
    copilot_dsql = one(plan_, "aws:dsql/cluster:Cluster", "temporal-plan-copilot-dsql-cluster")
    assert settings.dsql_endpoint.endswith(".dsql.us-east-1.on.aws")
    assert settings.dsql_endpoint != plan_.outputs["dsql_endpoint"]  # its own cluster
    policy = json.loads(one(plan_, ROLE, "temporal-plan-copilot-worker-task").inputs["inlinePolicies"][0]["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["Explain"]["Resource"] == [
        "arn:aws:bedrock:us-east-1::inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    ]
    assert "aps:QueryMetrics" in by_sid["Metrics"]["Action"]
    assert by_sid["KnowledgeBaseRetrieve"]["Action"] == ["bedrock:Retrieve"]
    assert by_sid["KnowledgeBaseRetrieve"]["Resource"][0].startswith("arn:aws:bedrock:us-east-1:123456789012:knowledge-base/")
    assert by_sid["StateStore"]["Resource"] != [plan_.outputs["dsql_cluster_arn"]]
    assert copilot_dsql.inputs["deletionProtectionEnabled"] is True
    server = one(plan_, "aws:ecs/taskDefinition:TaskDefinition", "temporal-plan-copilot-temporal-task")
    names = {c["name"]: c for c in containers(server)}
    assert container_env(names["temporal"])["SERVICES"] == "history,matching,frontend,worker"
    assert container_env(names["temporal"])["TEMPORAL_ELASTICSEARCH_INDEX"].endswith("_copilot")
    assert {"containerName": "schema-setup", "condition": "SUCCESS"} in names["temporal"]["dependsOn"]
    from temporal_dsql_config import ConfigCompiler

    starter = ConfigCompiler().compile("starter")
    assert container_env(names["temporal"])["TEMPORAL_HISTORY_SHARDS"] == str(starter.history_shards)


def test_ec2_capacity_option(plan_for) -> None:  # type: ignore[no-untyped-def]
    plan_ = plan_for("starter", capacity="ec2")
    assert plan_.by_type("aws:autoscaling/group:Group")
    provider = one(plan_, "aws:ecs/capacityProvider:CapacityProvider", "temporal-plan-ec2-capacity")
    assert provider.inputs["autoScalingGroupProvider"]["managedTerminationProtection"] == "ENABLED"
    for task in plan_.by_type("aws:ecs/taskDefinition:TaskDefinition"):
        assert task.inputs["requiresCompatibilities"] == ["EC2"]


def test_existing_vpc_visibility_and_amp_are_used_as_given(plan_for) -> None:  # type: ignore[no-untyped-def]
    plan_ = plan_for(
        "starter",
        vpcId="vpc-0abc",
        privateSubnetIds='["subnet-a", "subnet-b"]',
        opensearchEndpoint="search-x.us-east-1.es.amazonaws.com",
        opensearchDomainArn="arn:aws:es:us-east-1:123456789012:domain/x",
        ampWorkspaceId="ws-existing",
    )
    types = {r.type for r in plan_.resources}
    assert "aws:ec2/vpc:Vpc" not in types and "aws:opensearch/domain:Domain" not in types
    assert "aws:amp/workspace:Workspace" not in types
    assert plan_.outputs["amp_workspace_id"] == "ws-existing"
    service = one(plan_, "aws:ecs/service:Service", "temporal-plan-history-service")
    assert service.inputs["networkConfiguration"]["subnets"] == ["subnet-a", "subnet-b"]
    env = container_env(next(c for c in containers(one(plan_, "aws:ecs/taskDefinition:TaskDefinition", "temporal-plan-history-task")) if c["name"] == "temporal"))
    assert env["TEMPORAL_ELASTICSEARCH_HOST"] == "search-x.us-east-1.es.amazonaws.com"
    group = one(plan_, "aws:ec2/securityGroup:SecurityGroup", "temporal-plan-tasks-sg")
    assert group.inputs["vpcId"] == "vpc-0abc"
    assert group.inputs["ingress"][0]["cidrBlocks"] == ["10.0.0.0/16"]  # the looked-up CIDR of vpc-0abc


def test_profile_api_can_be_left_out(plan_for) -> None:  # type: ignore[no-untyped-def]
    plan_ = plan_for("starter", profileApi="false")
    assert not [r for r in plan_.resources if "profile-api" in r.name]
    assert [r.name for r in plan_.by_type("aws:lambda/function:Function")] == ["temporal-plan-setup-function"]
    assert plan_.outputs["profile_api_url"] is None
    assert not [r for r in plan_.resources if "copilot" in r.name]  # the copilot is off by default


def test_profile_api_status_routes_read_the_copilots_own_store(plan_for) -> None:  # type: ignore[no-untyped-def]
    """The Lambda's app serves /status from CopilotSettings: with the copilot deployed, its env
    carries the copilot state store's settings (by field name) and its role may connect to the
    copilot's DSQL cluster, and to no other cluster beyond the monitored one it already reads."""
    from temporal_dsql_copilot.settings import CopilotSettings

    plan_ = plan_for("mid-scale", copilot="true")
    env = one(plan_, "aws:lambda/function:Function", "temporal-plan-profile-api-function").inputs["environment"]["variables"]
    copilot_vars = {k: v for k, v in env.items() if k.startswith("COPILOT_")}
    fields = {f"COPILOT_{name.upper()}" for name in CopilotSettings.model_fields}
    assert copilot_vars and set(copilot_vars) <= fields
    assert set(env) - set(copilot_vars) == {k for k in env if k.startswith("PROFILES_")}
    saved = dict(os.environ)
    try:
        os.environ.update(copilot_vars)
        status = CopilotSettings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    worker = one(plan_, "aws:ecs/taskDefinition:TaskDefinition", "temporal-plan-copilot-worker-task")
    worker_env = container_env(containers(worker)[0])
    # The store the worker writes is the store /status reads: same cluster, region and cluster id.
    assert status.dsql_endpoint == worker_env["COPILOT_DSQL_ENDPOINT"] != plan_.outputs["dsql_endpoint"]
    worker_policy = json.loads(one(plan_, ROLE, "temporal-plan-copilot-worker-task").inputs["inlinePolicies"][0]["policy"])
    (copilot_cluster_arn,) = {s["Sid"]: s for s in worker_policy["Statement"]}["StateStore"]["Resource"]
    assert status.dsql_endpoint.startswith(f"{copilot_cluster_arn.rsplit('/', 1)[1]}.dsql.")
    assert status.aws_region == "us-east-1" == worker_env["COPILOT_AWS_REGION"]
    assert status.cluster_id == worker_env["COPILOT_CLUSTER_ID"]
    policy = json.loads(one(plan_, ROLE, "temporal-plan-profile-api-role").inputs["inlinePolicies"][0]["policy"])
    dsql = {r for s in policy["Statement"] for a in s["Action"] if a.startswith("dsql:") for r in s["Resource"]}
    assert dsql == {plan_.outputs["dsql_cluster_arn"], copilot_cluster_arn}
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    # Issue 19: /status reads as the read-only copilot_status role (DbConnect), the worker writes as
    # copilot_store (DbConnect): neither holds DbConnectAdmin on the copilot's cluster.
    assert by_sid["CopilotStatusStore"] == {"Sid": "CopilotStatusStore", "Effect": "Allow",
                                            "Action": ["dsql:DbConnect"], "Resource": [copilot_cluster_arn]}
    assert (status.dsql_user, status.manage_schema) == ("copilot_status", False)
    assert {s["Sid"]: s for s in worker_policy["Statement"]}["StateStore"]["Action"] == ["dsql:DbConnect"]
    assert (worker_env["COPILOT_DSQL_USER"], worker_env["COPILOT_MANAGE_SCHEMA"].lower()) == ("copilot_store", "false")
    # Without the copilot, the Lambda gets no COPILOT_* settings and no copilot grant.
    plain = one(plan_for("mid-scale"), "aws:lambda/function:Function", "temporal-plan-profile-api-function")
    assert not [k for k in plain.inputs["environment"]["variables"] if k.startswith("COPILOT_")]


def test_copilot_worker_reads_every_temporal_log_group_and_the_profile_store(plan_for) -> None:  # type: ignore[no-untyped-def]
    """The worker's CloudWatch source gets every monitored Temporal role's group (and IAM exactly
    those), and its profile store (baseline drift, stale sweep) gets PROFILES_* settings and IAM."""
    from temporal_dsql_copilot.runtime import build_log_source, profile_store_from_env
    from temporal_dsql_copilot.settings import CopilotSettings
    from temporal_dsql_profiles.settings import ProfileSettings

    plan_ = plan_for("mid-scale", copilot="true")
    task = one(plan_, "aws:ecs/taskDefinition:TaskDefinition", "temporal-plan-copilot-worker-task")
    env = container_env(containers(task)[0])
    role_groups = sorted(r.inputs["name"] for r in plan_.by_type("aws:cloudwatch/logGroup:LogGroup")
                         if r.name in {f"temporal-plan-{role}-logs" for role in ("history", "matching", "frontend", "worker")})
    assert len(role_groups) == 4
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        settings = CopilotSettings()
        profiles = ProfileSettings()
        source = build_log_source(settings)
        store = profile_store_from_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert sorted(settings.all_cloudwatch_log_groups()) == role_groups
    assert source is not None and store is not None
    assert profiles.bucket == plan_.outputs["bucket_name"] and profiles.dsql_endpoint == plan_.outputs["dsql_endpoint"]
    assert profiles.region == settings.aws_region == "us-east-1"
    policy = json.loads(one(plan_, ROLE, "temporal-plan-copilot-worker-task").inputs["inlinePolicies"][0]["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    account_region = "arn:aws:logs:us-east-1:123456789012:log-group:"
    assert by_sid["ReadLogs"]["Resource"] == sorted(f"{account_region}{g}:*" for g in role_groups)
    bucket_arn = f"arn:aws:s3:::{plan_.outputs['bucket_name']}"
    assert by_sid["ReadProfiles"] == {"Sid": "ReadProfiles", "Effect": "Allow", "Action": ["s3:GetObject"],
                                      "Resource": [f"{bucket_arn}/config/*", f"{bucket_arn}/profiles/*"]}
    assert by_sid["SweepStaleProfiles"]["Resource"] == [f"{bucket_arn}/profiles/*"]
    assert by_sid["ProfileBucket"]["Resource"] == [bucket_arn]
    assert by_sid["ProfileIndex"]["Action"] == ["dsql:DbConnect"]
    assert profiles.db_user == "copilot_profiles" and profiles.manage_schema is False
    assert by_sid["ProfileIndex"]["Resource"] == [plan_.outputs["dsql_cluster_arn"]]


@pytest.mark.parametrize("preset", PRESETS)
def test_setup_runner_may_run_only_the_setup_tasks_on_its_cluster(plans: dict[str, Plan], preset: str) -> None:
    """ecs:RunTask is limited to the set-up task families (never a Temporal service's task
    definition) and to the deployment's own cluster."""
    plan_ = plans[preset]
    policy = json.loads(one(plan_, ROLE, "temporal-plan-setup-role").inputs["inlinePolicies"][0]["policy"])
    run = {s["Sid"]: s for s in policy["Statement"]}["RunSetupTasks"]
    assert run["Action"] == ["ecs:RunTask"]
    setup_families = {one(plan_, TASK, f"temporal-plan-{t}-task").inputs["family"]
                      for t in ("schema", "namespace", "visibility-setup")}
    prefix = "arn:aws:ecs:us-east-1:123456789012:task-definition/"
    assert run["Resource"] == sorted(f"{prefix}{family}:*" for family in setup_families)
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": plan_.outputs["ecs_cluster_arn"]}}
    # No service family matches any granted resource (a prefix wildcard would).
    service_families = {t.inputs["family"] for t in plan_.by_type(TASK)} - setup_families
    assert service_families
    for family in service_families:
        for resource in run["Resource"]:
            assert not fnmatch.fnmatchcase(f"{prefix}{family}:1", resource), (family, resource)
