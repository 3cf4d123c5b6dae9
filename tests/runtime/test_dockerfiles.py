"""Static checks of the two Dockerfiles (tests/images builds and runs them with a real engine)."""

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


def test_runtime_image_carries_what_the_schema_set_up_task_runs() -> None:
    """The components' schema task runs `temporal-sql-tool --plugin dsql ... update-schema -d
    $TEMPORAL_SCHEMA_DIR` in the runtime image: the Dockerfile must put the schema exactly there
    (from the `schema` stage: the named build context `copilot dev build` passes, or the schema image
    `make images` builds) and check the tool exists."""
    from pulumi_temporal_dsql.setup import SCHEMA_COMMAND, SCHEMA_DIR
    from temporal_dsql_devstack.build import SCHEMA_CONTEXT

    steps = instructions(REPO / "docker" / "runtime" / "Dockerfile")
    envs = [rest for keyword, rest in steps if keyword == "ENV"]
    assert f"TEMPORAL_SCHEMA_DIR={SCHEMA_DIR}" in envs
    # The `schema` stage is FROM the named context's name by default, so --build-context replaces it.
    assert ("ARG", f"SCHEMA_IMAGE={SCHEMA_CONTEXT}") in steps and ("FROM", "${SCHEMA_IMAGE} AS schema") in steps
    copies = [rest.split() for keyword, rest in steps if keyword == "COPY" and "--from=schema" in rest]
    assert len(copies) == 1 and copies[0][-1].rstrip("/") == SCHEMA_DIR and copies[0][-2] == "/"
    runs = [rest for keyword, rest in steps if keyword == "RUN"]
    assert any("command -v temporal-sql-tool" in run and f"{SCHEMA_DIR}/*/manifest.json" in run for run in runs)
    assert "temporal-sql-tool --plugin dsql" in SCHEMA_COMMAND and "setup-schema -v 0.0" in SCHEMA_COMMAND
    assert f"update-schema -d ${{TEMPORAL_SCHEMA_DIR:-{SCHEMA_DIR}}}" in SCHEMA_COMMAND


def test_copilot_dockerfile_builds_from_the_lock_as_non_root() -> None:
    dockerfile = REPO / "docker" / "copilot" / "Dockerfile"
    steps = instructions(dockerfile)
    runs = [rest for keyword, rest in steps if keyword == "RUN"]
    syncs = [run for run in runs if "uv sync" in run]
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
