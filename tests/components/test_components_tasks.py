"""Task definitions: compiled env reaches the containers, AWS accepts them, config is data."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from components_helpers import PRESETS, container_env, containers, one

from pulumi_temporal_dsql.compiled import table_overrides
from pulumi_temporal_dsql.preset import deployment_env
from pulumi_temporal_dsql.preview.plan import Plan, plan
from pulumi_temporal_dsql.service import DYNAMIC_CONFIG_FILE
from temporal_dsql_config import ConfigCompiler

ROLES = ("history", "matching", "frontend", "worker")
TASK = "aws:ecs/taskDefinition:TaskDefinition"


def _temporal(plan_: Plan, role: str) -> dict[str, Any]:
    task = one(plan_, TASK, f"temporal-plan-{role}-task")
    return next(c for c in containers(task) if c["name"] == "temporal")


@pytest.mark.parametrize("preset", PRESETS)
def test_container_env_equals_the_compiled_env(plans: dict[str, Plan], preset: str) -> None:
    # The deployment compiles with its own DynamoDB table names as overrides (compiled.table_overrides).
    base = ConfigCompiler().compile(preset)
    result = ConfigCompiler().compile(preset, overrides=table_overrides(base, "temporal-plan"))
    outputs = plans[preset].outputs
    domain = one(plans[preset], "aws:opensearch/domain:Domain", "temporal-plan-visibility-domain")
    host = f"vpc-{domain.inputs['domainName']}"
    for role in ROLES:
        compiled = result.env_for(role, cluster_endpoint=outputs["dsql_endpoint"], region="us-east-1")
        env = container_env(_temporal(plans[preset], role))
        # Every compiled variable is there with the compiled value ...
        assert {k: env.get(k) for k in compiled} == compiled
        # ... and the only additions are the deployment's (visibility, config file, region).
        extra = {k: v for k, v in env.items() if k not in compiled}
        expected_keys = set(deployment_env(visibility_host=host, visibility_index="x", region="us-east-1"))
        assert set(extra) <= expected_keys
        assert env["TEMPORAL_DYNAMIC_CONFIG_FILE"] == DYNAMIC_CONFIG_FILE
        assert env["TEMPORAL_ELASTICSEARCH_HOST"].startswith(host)
        assert env["CLUSTER_ENDPOINT"] == outputs["dsql_endpoint"]
        assert env["TEMPORAL_HISTORY_SHARDS"] == str(result.history_shards) == str(outputs["history_shards"])


@pytest.mark.parametrize("preset", PRESETS)
def test_services_have_the_compiled_size_ports_and_counts(plans: dict[str, Plan], preset: str) -> None:
    result = ConfigCompiler().compile(preset)
    for role in ROLES:
        spec = result.services[role]
        task = one(plans[preset], TASK, f"temporal-plan-{role}-task")
        assert (int(task.inputs["cpu"]), int(task.inputs["memory"])) == (spec.cpu, spec.memory_mib)
        service = one(plans[preset], "aws:ecs/service:Service", f"temporal-plan-{role}-service")
        assert int(service.inputs["desiredCount"]) == spec.replicas
        ports = {p["containerPort"] for p in _temporal(plans[preset], role)["portMappings"]}
        assert ports == {spec.grpc_port, spec.membership_port, spec.metrics_port}
        health = _temporal(plans[preset], role)["healthCheck"]
        # The runtime image's own probe (docker/runtime/render_config.py, copied to /usr/local/bin)
        # on the role's gRPC port: ECS ignores image HEALTHCHECKs, and the image has no `nc -z`.
        assert health["command"] == ["CMD", "python3", "/usr/local/bin/render_config.py", "healthcheck",
                                     "--port", str(spec.grpc_port)]


def test_task_definitions_pass_botocore_register_task_definition_validation(plans: dict[str, Plan]) -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    validated = 0
    for plan_ in plans.values():
        for task in plan_.by_type(TASK):
            inputs = task.inputs
            params: dict[str, Any] = {
                "family": inputs["family"],
                "containerDefinitions": containers(task),
                "cpu": inputs["cpu"],
                "memory": inputs["memory"],
                "networkMode": inputs["networkMode"],
                "requiresCompatibilities": inputs["requiresCompatibilities"],
                "executionRoleArn": "arn:aws:iam::123456789012:role/execution",
                "taskRoleArn": "arn:aws:iam::123456789012:role/task",
                "runtimePlatform": inputs["runtimePlatform"],
            }
            if inputs.get("volumes"):
                params["volumes"] = [{"name": v["name"]} for v in inputs["volumes"]]
            report = ParamValidator().validate(params, shape)
            assert not report.has_errors(), f"{task.name}: {report.generate_report()}"
            validated += 1
    assert validated >= 3 * 7


def test_container_definitions_are_canonical(plans: dict[str, Plan]) -> None:
    from pulumi_temporal_dsql.containers import canonical_json

    for task in plans["mid-scale"].by_type(TASK):
        assert task.inputs["containerDefinitions"] == canonical_json(containers(task))


def test_dynamic_config_is_delivered_as_data(plans: dict[str, Plan]) -> None:
    """Init container + refresher sidecar on a shared volume; the YAML itself is an S3 object."""
    result = ConfigCompiler().compile("mid-scale")
    obj = one(plans["mid-scale"], "aws:s3/bucketObjectv2:BucketObjectv2", "temporal-plan-profiles-config-dynamic_config-yaml")
    assert obj.inputs["content"] == result.dynamic_config_yaml
    for role in ROLES:
        task = one(plans["mid-scale"], TASK, f"temporal-plan-{role}-task")
        by_name = {c["name"]: c for c in containers(task)}
        assert set(by_name) == {"config-init", "temporal", "config-refresher", "metrics-collector"}
        assert "--once" in by_name["config-init"]["command"] and "--once" not in by_name["config-refresher"]["command"]
        assert {"containerName": "config-init", "condition": "SUCCESS"} in by_name["temporal"]["dependsOn"]
        source = container_env(by_name["config-init"])["DYNCONFIG_SOURCE"]
        assert source.startswith("s3://") and source.endswith("/config/dynamic_config.yaml")
        assert result.dynamic_config_yaml not in task.inputs["containerDefinitions"]


def test_changing_only_dynamic_config_changes_no_task_definition(plans: dict[str, Plan]) -> None:
    compiler = ConfigCompiler()
    base = compiler.compile("mid-scale")
    key = "matching.numTaskqueueReadPartitions"
    changed_value = int(base.profile.get_param(key).value) * 2  # type: ignore[union-attr]
    overrides = {key: changed_value, "matching.numTaskqueueWritePartitions": changed_value}
    compiled = compiler.compile("mid-scale", overrides=overrides)
    assert compiled.dynamic_config_yaml != base.dynamic_config_yaml
    assert compiled.env == base.env
    changed = plan("mid-scale", overrides=overrides)
    before = {r.urn: r.inputs["containerDefinitions"] for r in plans["mid-scale"].by_type(TASK)}
    after = {r.urn: r.inputs["containerDefinitions"] for r in changed.by_type(TASK)}
    assert before == after
    yaml_before = one(plans["mid-scale"], "aws:s3/bucketObjectv2:BucketObjectv2", "temporal-plan-profiles-config-dynamic_config-yaml")
    yaml_after = one(changed, "aws:s3/bucketObjectv2:BucketObjectv2", "temporal-plan-profiles-config-dynamic_config-yaml")
    assert yaml_before.inputs["content"] != yaml_after.inputs["content"]


def test_compiled_artifacts_round_trip_through_deployed_config(plans: dict[str, Plan]) -> None:
    from temporal_dsql_core.deployed_config import DeployedConfig

    objects = {
        r.inputs["key"]: r.inputs["content"] for r in plans["mid-scale"].by_type("aws:s3/bucketObjectv2:BucketObjectv2")
    }
    assert all(key.startswith("config/") for key in objects)
    restored = DeployedConfig.from_objects(objects.get)
    assert restored is not None
    assert restored.profile.preset_name == "mid-scale"
    assert set(restored.env) == set(ROLES)
    assert restored.env["history"] == container_env(_temporal(plans["mid-scale"], "history"))
    assert json.loads(objects["config/profile.json"])["preset_name"] == "mid-scale"


@pytest.mark.parametrize("preset", PRESETS)
def test_stored_and_exported_profile_carry_the_real_endpoint_and_region(plans: dict[str, Plan], preset: str) -> None:
    """config/profile.json and the profile_json output hold the deployed DSQL endpoint and region
    (what every role's env has), never the compiler's placeholders."""
    plan_ = plans[preset]
    endpoint = plan_.outputs["dsql_endpoint"]
    objects = {r.inputs["key"]: r.inputs["content"] for r in plan_.by_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    env = container_env(_temporal(plan_, "history"))
    for document in (objects["config/profile.json"], plan_.outputs["profile_json"]):
        assert "cluster-id.dsql" not in document
        params = {p["key"]: p["value"] for group in ("topology_params", "tuning_params", "safety_params")
                  for p in json.loads(document)[group]}
        assert params["dsql.cluster_endpoint"] == endpoint == env["CLUSTER_ENDPOINT"]
        assert params["sql.host"] == endpoint == env["TEMPORAL_SQL_HOST"]
        assert params["dsql.region"] == env["AWS_REGION"] == "us-east-1"
    assert json.loads(objects["config/profile.json"]) == json.loads(plan_.outputs["profile_json"])


def test_profile_region_follows_the_deployment_region() -> None:
    from pulumi_temporal_dsql.preview.mocks import RecordingMocks

    plan_ = plan("starter", mocks=RecordingMocks(region="eu-west-1"))
    params = {p["key"]: p["value"] for p in json.loads(plan_.outputs["profile_json"])["topology_params"]}
    assert params["dsql.region"] == "eu-west-1"
    assert params["dsql.cluster_endpoint"] == plan_.outputs["dsql_endpoint"]
    assert plan_.outputs["dsql_endpoint"].endswith(".dsql.eu-west-1.on.aws")
