"""The components' task definitions drive these programs as they are: the `temporal` container's env
satisfies render_config.py, and the config containers' command + env run dynconfig_refresher.py.

The stack program runs under Pulumi mocks (pulumi_temporal_dsql.preview.plan); the programs then run for
real, against a local ECS task-metadata server and moto_server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import yaml

from temporal_dsql_config import ConfigCompiler

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "docker" / "runtime"
ROLES = ("history", "matching", "frontend", "worker")


@pytest.fixture(scope="module")
def task_definitions() -> dict[str, list[dict[str, Any]]]:
    from pulumi_temporal_dsql.preview.plan import plan

    result = plan("starter")
    return {t.name: json.loads(t.inputs["containerDefinitions"])
            for t in result.by_type("aws:ecs/taskDefinition:TaskDefinition")}


def role_containers(task_definitions: dict[str, list[dict[str, Any]]], role: str) -> dict[str, dict[str, Any]]:
    (containers,) = [c for name, c in task_definitions.items() if name.endswith(f"-{role}-task")]
    return {c["name"]: c for c in containers}


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("environment", [])}


@pytest.mark.parametrize("role", ROLES)
def test_temporal_container_env_satisfies_the_entrypoint(
        render_config: ModuleType, task_metadata_server: Any, tmp_path: Path,
        task_definitions: dict[str, list[dict[str, Any]]], role: str) -> None:
    temporal = role_containers(task_definitions, role)["temporal"]
    env = env_of(temporal)
    assert env["SERVICES"] == role
    task_metadata_server.task_document = {"Containers": [
        {"Name": "temporal", "Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.0.9.8"]}]}]}
    dynamic_config = tmp_path / "dynamicconfig.yaml"
    dynamic_config.write_text("{}\n")
    env.update({
        "ECS_CONTAINER_METADATA_URI_V4": task_metadata_server.base_uri,  # the ECS agent sets it
        "TEMPORAL_PERSISTENCE_TEMPLATE": str(RUNTIME_DIR / "persistence-dsql-opensearch.template.yaml"),
        "TEMPORAL_RENDERED_CONFIG": str(tmp_path / "temporal.yaml"),
        "TEMPORAL_DYNAMIC_CONFIG_FILE": str(dynamic_config),  # the image's path, redirected here
    })
    argv, _ = render_config.prepare(env)
    assert argv[-2:] == ["--service", role]
    document = yaml.safe_load((tmp_path / "temporal.yaml").read_text())
    assert document["global"]["membership"]["broadcastAddress"] == "10.0.9.8"
    assert document["persistence"]["datastores"]["dsql-default"]["sql"]["connectAddr"] == \
        f"{env['TEMPORAL_SQL_HOST']}:{env.get('TEMPORAL_SQL_PORT', '5432')}"
    # The component mounts the dynamic-config volume where the template's default path points.
    mounts = {m["containerPath"] for m in temporal.get("mountPoints", [])}
    assert Path(render_config.DEFAULT_DYNAMIC_CONFIG).parent.as_posix() in mounts


def run_as_container(container: dict[str, Any], moto_endpoint: str, dest: Path) -> subprocess.CompletedProcess[str]:
    """The container's command with the image's program paths mapped to this checkout."""
    command = [part.replace("/usr/local/bin/", f"{RUNTIME_DIR}/") for part in container["command"]]
    assert command[0] == "python3"
    env = {**os.environ, **env_of(container), "DYNCONFIG_DEST": str(dest), "AWS_ENDPOINT_URL": moto_endpoint,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "DYNCONFIG_ATTEMPTS": "2",
           "DYNCONFIG_BACKOFF": "0.01"}
    return subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def test_config_init_container_fetches_the_compiled_dynamic_config(
        task_definitions: dict[str, list[dict[str, Any]]], moto_endpoint: str, tmp_path: Path) -> None:
    containers = role_containers(task_definitions, "history")
    init, sidecar = containers["config-init"], containers["config-refresher"]
    source = env_of(init)["DYNCONFIG_SOURCE"]
    assert source == env_of(sidecar)["DYNCONFIG_SOURCE"] and source.startswith("s3://")
    bucket, key = source.removeprefix("s3://").split("/", 1)
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    dest = tmp_path / "dynamicconfig.yaml"

    missing = run_as_container(init, moto_endpoint, dest)  # nothing published yet: the task must not start
    assert missing.returncode == 1 and "gave-up" in missing.stderr and not dest.exists()

    s3.create_bucket(Bucket=bucket)
    compiled = ConfigCompiler().compile("starter").dynamic_config_yaml
    s3.put_object(Bucket=bucket, Key=key, Body=compiled.encode())
    done = run_as_container(init, moto_endpoint, dest)
    assert done.returncode == 0, done.stderr
    assert dest.read_text() == compiled
    assert "--once" not in sidecar["command"]  # the sidecar is the loop


def test_copilot_single_binary_reaches_its_own_frontend(render_config: ModuleType, tmp_path: Path) -> None:
    """The copilot's server runs every role in one task; its publicClient (used by the worker role)
    and rpcAddress must point at that task's own frontend, not the template's default
    `temporal-frontend:7233`, which the copilot's Service Connect namespace never publishes."""
    from pulumi_temporal_dsql.preview.plan import plan

    result = plan("starter", extra_config={"copilot": "true"})
    (server,) = [t for t in result.by_type("aws:ecs/taskDefinition:TaskDefinition")
                 if t.name.endswith("-copilot-temporal-task")]
    temporal = next(c for c in json.loads(server.inputs["containerDefinitions"]) if c["name"] == "temporal")
    env = env_of(temporal)
    assert env["SERVICES"] == "history,matching,frontend,worker"
    dynamic_config = tmp_path / "dynamicconfig.yaml"
    dynamic_config.write_text("{}\n")
    env.update({
        "TEMPORAL_BROADCAST_ADDRESS": "10.0.9.8",
        "TEMPORAL_PERSISTENCE_TEMPLATE": str(RUNTIME_DIR / "persistence-dsql-opensearch.template.yaml"),
        "TEMPORAL_RENDERED_CONFIG": str(tmp_path / "temporal.yaml"),
        "TEMPORAL_DYNAMIC_CONFIG_FILE": str(dynamic_config),
    })
    render_config.prepare(env)
    document = yaml.safe_load((tmp_path / "temporal.yaml").read_text())
    frontend_port = document["services"]["frontend"]["rpc"]["grpcPort"]
    grpc_ports = {p["containerPort"] for p in temporal["portMappings"] if p.get("name") == "grpc"}
    for address in (document["publicClient"]["hostPort"],
                    document["clusterMetadata"]["clusterInformation"]["active"]["rpcAddress"]):
        host, _, port = address.rpartition(":")
        # Loopback: the frontend role is in this very process, bound on every interface.
        assert host == "127.0.0.1" and int(port) == frontend_port and frontend_port in grpc_ports
        assert document["services"]["frontend"]["rpc"]["bindOnIP"] in ("0.0.0.0", "127.0.0.1")
