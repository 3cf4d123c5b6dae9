"""Compose adapter: a complete docker-compose.yml that the Compose Specification schema accepts."""

from __future__ import annotations

import copy

import yaml
from adapter_combos import COMBOS, snippet
from adapter_consumers import compose_validator

COMPOSE = "compose/docker-compose.yml"
ROLES = ("history", "matching", "frontend", "worker")


def test_every_combo_validates_against_the_compose_spec(compiled) -> None:
    validator = compose_validator()
    for combo in COMBOS:
        document = yaml.safe_load(snippet(compiled[combo], COMPOSE))
        errors = sorted(validator.iter_errors(document), key=str)
        assert errors == [], [e.message for e in errors]


def test_services_carry_env_replicas_ports_health_and_dynamic_config(compiled) -> None:
    for combo in COMBOS:
        result = compiled[combo]
        services = yaml.safe_load(snippet(result, COMPOSE))["services"]
        assert set(services) == {*(f"temporal-{r}" for r in ROLES), "temporal-ui"}
        for role in ROLES:
            service, spec = services[f"temporal-{role}"], result.services[role]
            env = {k: v for k, v in service["environment"].items() if v is not None}
            assert env == result.env[role]
            assert service["deploy"]["replicas"] == spec.replicas
            assert str(spec.grpc_port) in service["healthcheck"]["test"][-1]
            assert any(v.startswith("./dynamicconfig:/etc/temporal/config/dynamicconfig") for v in service["volumes"])
            exposed = {*service.get("expose", []), *(p.rsplit(":", 1)[-1] for p in service.get("ports", []))}
            assert {str(spec.grpc_port), str(spec.membership_port), str(spec.metrics_port)} <= exposed
        mounted = yaml.safe_load(snippet(result, "compose/dynamicconfig/dynamicconfig.yaml"))
        assert {k: v[0]["value"] for k, v in mounted.items()} == result.dynamic_config


def test_schema_rejects_what_compose_would_reject(compiled) -> None:
    validator = compose_validator()
    document = yaml.safe_load(snippet(compiled[COMBOS[0]], COMPOSE))
    cases = []
    bad = copy.deepcopy(document)
    bad["services"]["temporal-history"]["replicas"] = 3  # not a service key (deploy.replicas is)
    cases.append(bad)
    bad = copy.deepcopy(document)
    bad["services"]["temporal-history"]["healthcheck"]["interval"] = "30 seconds"
    cases.append(bad)
    bad = copy.deepcopy(document)
    bad["services"]["temporal-ui"]["ports"] = ["8080:http"]
    cases.append(bad)
    bad = copy.deepcopy(document)
    bad["services"]["temporal-history"]["deploy"]["replicas"] = "3"
    cases.append(bad)
    for case in cases:
        assert list(validator.iter_errors(case))
