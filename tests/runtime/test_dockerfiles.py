"""Static checks of the two Dockerfiles (no docker engine on this machine; `copilot dev build` builds them)."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def copy_sources(steps: list[tuple[str, str]]) -> list[str]:
    sources = []
    for keyword, rest in steps:
        if keyword == "COPY" and "--from=" not in rest:
            parts = [p for p in rest.split() if not p.startswith("--")]
            sources.extend(parts[:-1])
    return sources


def test_runtime_dockerfile_layers_onto_a_base_image_arg() -> None:
    dockerfile = REPO / "docker" / "runtime" / "Dockerfile"
    steps = instructions(dockerfile)
    assert steps[0][0] == "ARG" and steps[0][1].startswith("BASE_IMAGE")
    assert ("FROM", "${BASE_IMAGE}") in steps
    for source in copy_sources(steps):  # context: docker/runtime
        assert (dockerfile.parent / source).is_file(), source
    entrypoint = json.loads(dict(steps)["ENTRYPOINT"])
    assert entrypoint == ["python3", "/usr/local/bin/render_config.py", "start"]
    env = dict(steps)["ENV"]
    assert "TEMPORAL_DYNAMIC_CONFIG_FILE=/etc/temporal/config/dynamicconfig/dynamicconfig.yaml" in env
    assert dict(steps)["USER"] == "temporal"


def test_copilot_dockerfile_builds_from_the_lock_as_non_root() -> None:
    dockerfile = REPO / "docker" / "copilot" / "Dockerfile"
    steps = instructions(dockerfile)
    runs = [rest for keyword, rest in steps if keyword == "RUN"]
    syncs = [run for run in runs if run.startswith("uv sync")]
    assert syncs and all("--frozen" in run and "--no-dev" in run for run in syncs)
    for source in copy_sources(steps):  # context: the repository root
        assert (REPO / source).exists(), source
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users == ["copilot"]
    assert any("useradd" in run and "--uid 10001" in run for run in runs)
    healthcheck = [rest for keyword, rest in steps if keyword == "HEALTHCHECK"]
    assert len(healthcheck) == 1
    assert json.loads(healthcheck[0].split("CMD", 1)[1]) == ["python", "/app/entrypoint.py", "healthcheck"]
    assert json.loads(dict(steps)["ENTRYPOINT"]) == ["python", "/app/entrypoint.py"]
    assert json.loads(dict(steps)["CMD"]) == ["worker"]
