"""The copilot image's entrypoint (worker + API health) and its env contract with CopilotSettings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_standins import ManagedProcess, TemporalDevServer, free_port

ENTRYPOINT = Path(__file__).resolve().parents[2] / "docker" / "copilot" / "entrypoint.py"


@pytest.fixture(scope="module")
def temporal() -> Iterator[TemporalDevServer]:
    server = TemporalDevServer().start()
    try:
        yield server
    finally:
        server.stop()


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def image_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    return {**env, "ENTRYPOINT_ROLE_FILE": str(tmp_path / "role.json"), **extra}


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ENTRYPOINT), "healthcheck"], env=env, capture_output=True,
                          text=True, timeout=30, check=False)


def test_api_role_serves_health_on_the_settings_port(tmp_path: Path) -> None:
    port = free_port()
    env = image_env(tmp_path, COPILOT_API_PORT=str(port))
    api = ManagedProcess("copilot-api", [sys.executable, str(ENTRYPOINT), "api"], port=port,
                         log_file=tmp_path / "api.log", env=env)
    api.start(ready_timeout=60)
    try:
        assert get(f"http://127.0.0.1:{port}/health") == (200, {"status": "ok"})
        assert json.loads((tmp_path / "role.json").read_text()) == {"role": "api", "port": port}
        assert healthcheck(env).returncode == 0
    finally:
        api.stop()
    result = healthcheck(env)
    assert result.returncode == 1 and "unhealthy: api /health" in result.stderr


def test_worker_health_follows_the_process_and_temporal(tmp_path: Path, temporal: TemporalDevServer) -> None:
    health_port = free_port()
    marker = tmp_path / "worker-started"
    stand_in_worker = [sys.executable, "-c",
                       f"import pathlib, time; pathlib.Path({str(marker)!r}).touch(); time.sleep(120)"]
    env = image_env(tmp_path, COPILOT_TEMPORAL_ADDRESS=temporal.address)
    worker = subprocess.Popen([sys.executable, str(ENTRYPOINT), "worker", "--health-port", str(health_port),
                               "--", *stand_in_worker], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (marker.exists() and (tmp_path / "role.json").exists()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert get(f"http://127.0.0.1:{health_port}/health") == (200, {"status": "ok"})
        assert healthcheck(env).returncode == 0
    finally:
        worker.send_signal(signal.SIGTERM)  # forwarded to the worker process
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 128 + signal.SIGTERM
    assert f"temporal {temporal.address}" in err


def test_worker_is_unhealthy_when_temporal_is_unreachable(tmp_path: Path) -> None:
    health_port = free_port()
    closed = f"127.0.0.1:{free_port()}"
    env = image_env(tmp_path, COPILOT_TEMPORAL_ADDRESS=closed)
    worker = subprocess.Popen([sys.executable, str(ENTRYPOINT), "worker", "--health-port", str(health_port),
                               "--", sys.executable, "-c", "import time; time.sleep(120)"],
                              env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "role.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        status, body = get(f"http://127.0.0.1:{health_port}/health")
        assert status == 503 and body["status"] == "unhealthy"
        assert f"Temporal frontend {closed} unreachable" in body["detail"]
        assert healthcheck(env).returncode == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def test_worker_exit_code_is_the_entrypoints(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ENTRYPOINT), "worker", "--health-port", str(free_port()), "--",
                             sys.executable, "-c", "raise SystemExit(3)"], env=image_env(tmp_path),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 3


def test_copilot_workers_component_env_is_exactly_copilot_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every variable the CopilotWorkers component gives the worker is a CopilotSettings field, and
    the settings model builds from exactly that env (all required fields set)."""
    from pulumi_temporal_dsql.copilot import CopilotWorkers, CopilotWorkersArgs
    from pulumi_temporal_dsql.preview.plan import run_under_mocks

    captured: dict[str, Any] = {}

    def program() -> None:
        workers = CopilotWorkers("copilot", CopilotWorkersArgs(
            worker_image="temporal-sre-copilot:dev", temporal_image="temporal-dsql-runtime:test",
            admin_tools_image="temporalio/admin-tools:1.29", temporal_env={"TEMPORAL_SQL_HOST": "c.dsql.us-east-1.on.aws"},
            dsql_endpoint="c.dsql.us-east-1.on.aws", dsql_cluster_arn="arn:aws:dsql:us-east-1:123456789012:cluster/c",
            opensearch_domain_arn="arn:aws:es:us-east-1:123456789012:domain/t",
            amp_query_url="https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1",
            amp_workspace_arn="arn:aws:aps:us-east-1:123456789012:workspace/ws-1",
            monitored_log_group_arns=["arn:aws:logs:us-east-1:123456789012:log-group:/ecs/t"],
            subnet_ids=["subnet-1"], security_group_ids=["sg-1"], cluster_id="prod", preset_name="mid-scale",
            profile_bucket_name="prod-profiles", profile_bucket_arn="arn:aws:s3:::prod-profiles",
            profile_dsql_endpoint="m.dsql.us-east-1.on.aws",
            profile_dsql_cluster_arn="arn:aws:dsql:us-east-1:123456789012:cluster/m"))
        workers.worker_env.apply(lambda env: captured.update(env=env))

    resources, _ = run_under_mocks(program)
    env: dict[str, str] = captured["env"]
    from temporal_dsql_profiles.settings import ProfileSettings

    fields = CopilotSettings.model_fields
    profile_fields = ProfileSettings.model_fields
    # The worker reads two models: CopilotSettings (COPILOT_*) and, for its profile store
    # (temporal_dsql_copilot.runtime.profile_store_from_env), ProfileSettings (PROFILES_*). Nothing else.
    assert env and all(name.startswith(("COPILOT_", "PROFILES_")) for name in env)
    assert [n for n in env if n.startswith("COPILOT_") and n.removeprefix("COPILOT_").lower() not in fields] == []
    assert [n for n in env
            if n.startswith("PROFILES_") and n.removeprefix("PROFILES_").lower() not in profile_fields] == []
    required = [name for name, info in fields.items() if info.is_required()]
    assert all(f"COPILOT_{name.upper()}" in env for name in required)
    for name in list(os.environ):
        if name.startswith(("COPILOT_", "PROFILES_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = CopilotSettings()
    profiles = ProfileSettings()
    assert profiles.bucket == "prod-profiles" and profiles.dsql_endpoint == "m.dsql.us-east-1.on.aws"
    assert settings.log_source == "cloudwatch" and settings.cloudwatch_log_groups == ["/ecs/t"]
    # The component creates the knowledge base itself and hands its id to the worker.
    (kb,) = [r for r in resources if r.typ == "aws:bedrock/agentKnowledgeBase:AgentKnowledgeBase"]
    assert settings.kb_id and settings.kb_id.startswith(kb.name)
    assert settings.preset_name == "mid-scale"
    # The task definition carries the same env the entrypoint reads (container "copilot-worker").
    (task,) = [r for r in resources if r.typ == "aws:ecs/taskDefinition:TaskDefinition" and r.name == "copilot-worker-task"]
    (container,) = json.loads(task.inputs["containerDefinitions"])
    assert {e["name"]: e["value"] for e in container["environment"]} == env
    assert container.get("command") in (None, ["worker"])  # the image's default CMD runs the worker
    # ECS ignores the Dockerfile's HEALTHCHECK: the task definition runs the same entrypoint check.
    dockerfile = (Path(__file__).resolve().parents[2] / "docker" / "copilot" / "Dockerfile").read_text()
    image_check = json.loads(dockerfile.split("HEALTHCHECK", 1)[1].split("CMD", 1)[1].splitlines()[0])
    assert container["healthCheck"]["command"] == ["CMD", *image_check] == ["CMD", "python", "/app/entrypoint.py", "healthcheck"]
    assert {"interval", "timeout", "retries", "startPeriod"} <= set(container["healthCheck"])


def test_the_image_readme_says_what_the_component_and_dev_cli_do() -> None:
    """docker/copilot/README.md quotes the task definition's health check and the dev stack's env
    file; both must be what the code does (WORKER_HEALTH_CHECK, `copilot dev infra apply`'s default)."""
    import inspect
    import re

    from pulumi_temporal_dsql.copilot import WORKER_HEALTH_CHECK
    from temporal_dsql_devstack import cli as dev_cli

    readme = (Path(__file__).resolve().parents[2] / "docker" / "copilot" / "README.md").read_text()
    (quoted,) = [json.loads(m) for m in re.findall(r"`(\{\"command\".*?\})`", readme)]
    assert quoted == WORKER_HEALTH_CHECK
    env_files = set(re.findall(r"--env-file (\S+)", readme))
    default = inspect.signature(dev_cli.infra_apply_command).parameters["env_file"].default
    assert env_files == {str(default)} == {".env"}
