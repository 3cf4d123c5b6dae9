"""`docker compose config` (v2, else docker-compose 1.29) validates the compose files: the mid-scale
cluster in deploy/compose and the file `copilot dev up --compose` writes. No engine needed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from temporal_dsql_devstack.compose_stack import compose_command, compose_document

REPO = Path(__file__).resolve().parents[2]
DEPLOY_COMPOSE = REPO / "deploy" / "compose" / "docker-compose.yml"


def config(path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DSQL_CLUSTER_ENDPOINT"}
    return subprocess.run([*compose_command(), "-f", str(path), "-p", "config-check", "config"], capture_output=True,
                          text=True, timeout=120, check=False, env={**environment, **(env or {})})


def test_the_deploy_compose_file_is_valid_once_the_endpoint_is_set() -> None:
    ok = config(DEPLOY_COMPOSE, {"DSQL_CLUSTER_ENDPOINT": "k5abc.dsql.us-east-1.on.aws"})
    assert ok.returncode == 0, ok.stderr
    resolved = yaml.safe_load(ok.stdout)
    assert resolved["services"]["temporal-frontend"]["environment"]["TEMPORAL_SQL_HOST"] == "k5abc.dsql.us-east-1.on.aws"
    # Without it, compose itself refuses, with the file's own message.
    refused = config(DEPLOY_COMPOSE)
    assert refused.returncode != 0 and "set DSQL_CLUSTER_ENDPOINT" in refused.stderr


def test_the_dev_compose_file_is_valid_and_host_networked(tmp_path: Path) -> None:
    document = compose_document({"COPILOT_TEMPORAL_ADDRESS": "127.0.0.1:7233", "COPILOT_DSQL_PORT": "5432"},
                                api_port=18080, health_port=18081, metrics_port=19464)
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(document))
    ok = config(path)
    assert ok.returncode == 0, ok.stderr
    resolved = yaml.safe_load(ok.stdout)["services"]
    assert {name: service["network_mode"] for name, service in resolved.items()} == \
        {"copilot-worker": "host", "copilot-api": "host"}
    assert resolved["copilot-api"]["environment"]["COPILOT_API_PORT"] == "18080"


def test_config_rejects_an_invalid_file(tmp_path: Path) -> None:
    # The check can fail: a service with a port mapping of the wrong type is refused.
    document = compose_document({}, api_port=1, health_port=2, metrics_port=3)
    document["services"]["copilot-api"]["ports"] = {"8080": "8080"}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(document))
    refused = config(path)
    assert refused.returncode != 0 and "ports" in refused.stderr
