"""The copilot image against the local stand-ins: `copilot dev up --compose` runs its worker and API
as containers (host network, 127.0.0.1 only); the worker completes an observe cycle, the API creates
a profile and serves /status in every auth mode, the image's health check passes, and
`copilot dev down` removes the containers again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import yaml
from image_helpers import Container, wait_for

from temporal_dsql_devstack.compose_stack import project_name
from temporal_dsql_devstack.images import DockerCli, ImageSet
from temporal_dsql_devstack.stack import CLUSTER_ID, service_env
from temporal_dsql_devstack.state import StackState
from temporal_dsql_standins import free_port
from temporal_dsql_standins._process import pid_alive

pytestmark = pytest.mark.standins


def dev(state: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "temporal_dsql_devstack", *args, "--state-dir", str(state)],
                            capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "250"})
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def project_containers(cli: DockerCli, state: Path) -> dict[str, str]:
    """compose service -> container id, of every container (running or not) of the stack's project."""
    listed = cli.run("ps", "-a", "--filter", f"label=com.docker.compose.project={project_name(state)}",
                     "--format", '{{.ID}} {{.Label "com.docker.compose.service"}}', timeout=60)
    assert listed.returncode == 0, listed.stderr.decode()
    return {service: cid for cid, service in (line.split() for line in listed.stdout.decode().splitlines())}


@pytest.fixture(scope="module")
def compose_stack(images: ImageSet) -> Iterator[Path]:
    state = Path(tempfile.mkdtemp(prefix="dev-compose-"))
    state.chmod(0o755)  # PostgreSQL runs as `postgres` and must reach its data directory
    try:
        dev(state, "up", "--compose", "--image", images.copilot)
        yield state
    finally:
        dev(state, "down", "--purge", check=False)


def status_of(cli: DockerCli, container_id: str) -> str:
    return cli.run("inspect", "--format", "{{.State.Health.Status}}", container_id).stdout.decode().strip()


def test_up_compose_runs_the_worker_and_api_containers_on_loopback(docker_cli: DockerCli, compose_stack: Path) -> None:
    containers = project_containers(docker_cli, compose_stack)
    assert set(containers) == {"copilot-worker", "copilot-api"}
    document = yaml.safe_load((compose_stack / "docker-compose.yml").read_text())
    for name, service in document["services"].items():
        # The network rule: the host's network, listening on loopback, nothing published.
        assert service["network_mode"] == "host" and "ports" not in service, name
        assert service["environment"]["COPILOT_LISTEN_HOST"] == "127.0.0.1"
    # The stand-ins stay processes.
    state = StackState.load(compose_stack)
    assert {"postgres", "moto", "prometheus", "temporal"} <= set(state.services)
    assert not {"api", "worker"} & set(state.services)
    for service, container_id in containers.items():  # the image's health check, as compose runs it
        wait_for(lambda cid=container_id: status_of(docker_cli, cid) == "healthy", timeout=180,
                 what=f"{service} healthy", interval=1)


def test_the_worker_container_completes_an_observe_cycle(compose_stack: Path) -> None:
    api = StackState.load(compose_stack).env["COPILOT_DEV_API_URL"]
    # A snapshot only exists once the worker's observe loop queried Prometheus and wrote the store.
    wait_for(lambda: httpx.get(f"{api}/status", timeout=10).json().get("observed_at") is not None,
             timeout=240, what="an observe cycle of the worker container", interval=1)
    status = httpx.get(f"{api}/status", timeout=10).json()
    assert status["health_state"] in ("happy", "stressed", "critical") and not status["degraded"]


def _api_env(state: StackState, mode: str, port: int) -> tuple[dict[str, str], dict[str, str]]:
    """(container env, request headers) for an API in ``mode``."""
    env = {**service_env(state), "COPILOT_API_PORT": str(port), "COPILOT_LISTEN_HOST": "127.0.0.1"}
    if mode == "iam":  # enforced by the Function URL on AWS: the app itself checks nothing
        return {**env, "PROFILES_AUTH_MODE": "iam"}, {}
    token = f"token-{mode}-{port}"
    if mode == "token":
        return {**env, "PROFILES_AUTH_MODE": "token", "PROFILES_AUTH_TOKEN": token}, {"authorization": f"Bearer {token}"}
    moto = state.services["moto"].url
    secrets = boto3.client("secretsmanager", endpoint_url=moto, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    arn = secrets.create_secret(Name=f"copilot-api-token-{port}", SecretString=token)["ARN"]
    return ({**env, "PROFILES_AUTH_MODE": "token", "PROFILES_AUTH_TOKEN_SECRET_ARN": arn,
             "PROFILES_SECRETSMANAGER_ENDPOINT_URL": moto}, {"authorization": f"Bearer {token}"})


AUTH_MODES = ("iam", "token", "token-secretsmanager")


@pytest.fixture(scope="module")
def api_containers(docker_cli: DockerCli, images: ImageSet,
                   compose_stack: Path) -> Iterator[dict[str, tuple[Container, int, dict[str, str]]]]:
    """One API container per auth mode, started side by side: mode -> (container, port, headers)."""
    state = StackState.load(compose_stack)
    started: dict[str, tuple[Container, int, dict[str, str]]] = {}
    try:
        for mode in AUTH_MODES:
            port = free_port()
            env, headers = _api_env(state, mode, port)
            flags = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
            # The image's own HEALTHCHECK command, checked every second instead of every 30 s.
            result = docker_cli.run("run", "-d", "--network", "host", "--health-interval", "1s",
                                    "--health-start-period", "60s", *flags, images.copilot, "api")
            assert result.returncode == 0, result.stderr.decode(errors="replace")
            started[mode] = (Container(docker_cli, result.stdout.decode().strip()), port, headers)
        yield started
    finally:
        for container, _, _ in started.values():
            docker_cli.run("rm", "-f", container.id)


@pytest.mark.parametrize("mode", AUTH_MODES)
def test_the_api_container_creates_a_profile_and_serves_status(
        compose_stack: Path, api_containers: dict[str, tuple[Container, int, dict[str, str]]], mode: str) -> None:
    state = StackState.load(compose_stack)
    container, port, headers = api_containers[mode]
    wait_for(lambda: status_of(container.cli, container.id) == "healthy", timeout=180, what="the API healthy",
             interval=0.5)
    base = f"http://127.0.0.1:{port}"
    start, end = state.env["COPILOT_DEV_HEALTHY_WINDOW"].split("/")
    body: dict[str, Any] = {"name": f"container {mode}", "cluster_id": CLUSTER_ID, "time_window_start": start,
                            "time_window_end": end, "label": f"container-{mode}"}
    if headers:  # the token modes refuse a request without the token, as a problem document
        refused = httpx.post(f"{base}/profiles/", json=body, timeout=60)
        assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")
    created = httpx.post(f"{base}/profiles/", json=body, headers=headers, timeout=120)
    assert created.status_code == 201, created.text
    profile = created.json()
    assert profile["cluster_id"] == CLUSTER_ID and profile["name"] == body["name"]
    fetched = httpx.get(f"{base}/profiles/{profile['id']}", headers=headers, timeout=60)
    assert fetched.status_code == 200 and fetched.json()["id"] == profile["id"]
    status = httpx.get(f"{base}/status", headers=headers, timeout=60)
    assert status.status_code == 200 and not status.json()["degraded"], status.text
    assert container.cli.run("exec", container.id, "python", "/app/entrypoint.py", "healthcheck").returncode == 0


def test_down_removes_the_containers_and_stops_the_processes(docker_cli: DockerCli, compose_stack: Path) -> None:
    state = StackState.load(compose_stack)
    pids = [pid for record in state.services.values() for pid in record.pids]
    result = dev(compose_stack, "down")
    assert "compose: copilot-worker and copilot-api removed" in result.stdout
    assert project_containers(docker_cli, compose_stack) == {}
    assert not (compose_stack / "docker-compose.yml").exists()
    assert not any(pid_alive(pid) for pid in pids)
    assert json.loads((compose_stack / "state.json").read_text())["services"] == {}
