"""`copilot dev up --compose`: the copilot's worker and API as containers, run by docker compose.

The stand-ins (PostgreSQL, moto, Prometheus, the Temporal dev server) stay processes, as in the
default process stack; the worker and the API run from the copilot image (`make images`) with the
same environment (`service_env`). Every container shares the host's network and listens on
127.0.0.1 only, so the containers reach the stand-ins on loopback and nothing is reachable from
outside the machine, and no traffic goes to a bridge address.

The file is written to ``<state dir>/docker-compose.yml`` and driven with ``docker compose`` (v2)
when that answers, else ``docker-compose`` (1.29, Debian's or PyPI's). ``down`` runs
``<compose> down`` with the same file and project, then stops the processes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from temporal_dsql_devstack.errors import DevStackError

__all__ = [
    "COMPOSE_FILE",
    "COPILOT_IMAGE",
    "compose_command",
    "compose_document",
    "compose_down",
    "compose_up",
    "project_name",
]

COMPOSE_FILE = "docker-compose.yml"
COPILOT_IMAGE = "temporal-sre-copilot:dev"
COMPOSE_HINT = ("Install Compose: Debian's `docker-compose` package (scripts/ensure-system-deps.sh installs it), "
                "`pip install docker-compose`, or the Compose v2 plugin (`docker compose`).")


def project_name(state_dir: Path) -> str:
    """One compose project per state directory, so two stacks (or tests) never share containers."""
    return "copilot-dev-" + hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:10]


def compose_command(docker: str | None = None) -> list[str]:
    """``docker compose`` (v2) when it answers, else ``docker-compose`` (v1); DevStackError when neither."""
    docker = docker or shutil.which("docker")
    if docker is not None:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=60, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy is not None:
        return [legacy]
    raise DevStackError("neither `docker compose` nor `docker-compose` is available", field="compose",
                        suggestion=COMPOSE_HINT)


def _healthcheck() -> dict[str, Any]:
    # The image's own check, more often than its HEALTHCHECK's 30 s: a developer waits for it.
    return {"test": ["CMD", "python", "/app/entrypoint.py", "healthcheck"], "interval": "5s", "timeout": "5s",
            "retries": 3, "start_period": "60s"}


def compose_document(env: Mapping[str, str], *, image: str = COPILOT_IMAGE, api_port: int, health_port: int,
                     metrics_port: int) -> dict[str, Any]:
    """The compose file: copilot-worker and copilot-api on the host's network, loopback only."""
    common = {**{key: str(value) for key, value in sorted(env.items())}, "COPILOT_LISTEN_HOST": "127.0.0.1"}
    return {
        "services": {
            "copilot-worker": {
                "image": image,
                "network_mode": "host",
                "command": ["worker", "--health-port", str(health_port)],
                "environment": {**common, "COPILOT_METRICS_BIND_ADDRESS": f"127.0.0.1:{metrics_port}"},
                "healthcheck": _healthcheck(),
                "restart": "no",
            },
            "copilot-api": {
                "image": image,
                "network_mode": "host",
                "command": ["api"],
                "environment": {**common, "COPILOT_API_PORT": str(api_port)},
                "healthcheck": _healthcheck(),
                "restart": "no",
            },
        },
    }


def _run(command: list[str], *, what: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise DevStackError(f"{what} did not finish within {timeout:.0f} s", field="compose",
                            suggestion="See `docker ps` and `docker logs`.") from exc
    if result.returncode != 0:
        raise DevStackError(f"{what} failed (exit {result.returncode}): {(result.stderr or result.stdout).strip()[-1500:]}",
                            field="compose", suggestion="Build the images first (`make images`); the output says why.")
    return result


def compose_up(state_dir: Path, env: Mapping[str, str], *, image: str = COPILOT_IMAGE, api_port: int,
               health_port: int, metrics_port: int) -> Path:
    """Write the compose file and `up -d --wait`-equivalent: start both services detached."""
    command = compose_command()
    path = state_dir / COMPOSE_FILE
    document = compose_document(env, image=image, api_port=api_port, health_port=health_port,
                                metrics_port=metrics_port)
    text = ("# Generated by `copilot dev up --compose` (temporal_dsql_devstack.compose_stack); `copilot dev down` removes it.\n"
            + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=120))
    path.write_text(text)
    _run([*command, "-f", str(path), "-p", project_name(state_dir), "config", "-q"], what="compose config")
    _run([*command, "-f", str(path), "-p", project_name(state_dir), "up", "-d"], what="compose up")
    return path


def compose_down(state_dir: Path) -> bool:
    """`<compose> down` with the file `compose_up` wrote; False when there is none (nothing to do)."""
    path = state_dir / COMPOSE_FILE
    if not path.exists():
        return False
    _run([*compose_command(), "-f", str(path), "-p", project_name(state_dir), "down", "--remove-orphans",
          "--timeout", "20"], what="compose down")
    path.unlink()
    return True
