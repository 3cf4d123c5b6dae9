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
