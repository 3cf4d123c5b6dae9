"""ECS adapter: botocore's own validator accepts every request the adapter writes."""

from __future__ import annotations

import json

import yaml
from adapter_combos import COMBOS, snippet
from adapter_consumers import ecs_validation_errors


def test_task_definitions_and_services_validate_against_the_ecs_model(compiled) -> None:
    for combo in COMBOS:
        result = compiled[combo]
        for service, spec in result.services.items():
            task = json.loads(snippet(result, f"ecs/task-definitions/temporal-{service}.json"))
            assert ecs_validation_errors("RegisterTaskDefinition", task) == []
            create = json.loads(snippet(result, f"ecs/services/temporal-{service}.json"))
            assert ecs_validation_errors("CreateService", create) == []

            container = task["containerDefinitions"][0]
            assert {e["name"]: e["value"] for e in container["environment"]} == result.env[service]
            assert (container["cpu"], container["memory"]) == (spec.cpu, spec.memory_mib)
            assert (task["cpu"], task["memory"]) == (str(spec.cpu), str(spec.memory_mib))
            assert {p["containerPort"] for p in container["portMappings"]} == {
                spec.grpc_port, spec.membership_port, spec.metrics_port}
            assert create["desiredCount"] == spec.replicas
            assert create["taskDefinition"] == task["family"]
            # awsvpc task definitions cannot be created as a service without a network configuration.
            assert task["networkMode"] == "awsvpc"
            vpc = create["networkConfiguration"]["awsvpcConfiguration"]
            assert vpc["subnets"] and all(s.startswith("subnet-REPLACE-WITH-") for s in vpc["subnets"])
            assert vpc["securityGroups"] and all(g.startswith("sg-REPLACE-WITH-") for g in vpc["securityGroups"])
            assert vpc["assignPublicIp"] == "DISABLED"  # EC2 launch type cannot assign public IPs


def test_dynamic_config_document_is_the_compiled_one(compiled) -> None:
    for combo in COMBOS:
        result = compiled[combo]
        document = yaml.safe_load(snippet(result, "ecs/dynamicconfig/dynamicconfig.yaml"))
        assert {k: v[0]["value"] for k, v in document.items()} == result.dynamic_config


def test_validator_rejects_broken_requests(compiled) -> None:
    result = compiled[COMBOS[0]]
    task = json.loads(snippet(result, "ecs/task-definitions/temporal-history.json"))
    task["containerDefinitions"][0]["cpu"] = "2048"  # must be an integer
    assert ecs_validation_errors("RegisterTaskDefinition", task)
    task = json.loads(snippet(result, "ecs/task-definitions/temporal-history.json"))
    task["networkMode"] = "overlay"  # not an ECS network mode
    assert ecs_validation_errors("RegisterTaskDefinition", task)
    task = json.loads(snippet(result, "ecs/task-definitions/temporal-history.json"))
    del task["family"]
    assert ecs_validation_errors("RegisterTaskDefinition", task)
    create = json.loads(snippet(result, "ecs/services/temporal-history.json"))
    create["desiredCount"] = "3"
    assert ecs_validation_errors("CreateService", create)
    create = json.loads(snippet(result, "ecs/services/temporal-history.json"))
    del create["networkConfiguration"]["awsvpcConfiguration"]["subnets"]  # required by the model
    assert ecs_validation_errors("CreateService", create)
    create = json.loads(snippet(result, "ecs/services/temporal-history.json"))
    create["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] = "MAYBE"  # not in the enum
    assert ecs_validation_errors("CreateService", create)


def test_adapter_takes_real_subnets_and_security_groups(compiled) -> None:
    from temporal_dsql_config.adapters.ecs import ECSAdapter

    result = compiled[COMBOS[0]]
    adapter = ECSAdapter(subnets=("subnet-0abc",), security_groups=("sg-0def",))
    rendered = {s.filename: s.content for s in adapter.render(result.profile)}
    create = json.loads(rendered["ecs/services/temporal-history.json"])
    assert create["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == ["subnet-0abc"]
    assert create["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == ["sg-0def"]
    assert ecs_validation_errors("CreateService", create) == []
