"""deploy/compose/ is what the Compose adapter generates today, and its consumers accept it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from temporal_dsql_devstack.compose import COMPOSE_DIR, check, compose_files

ROOT = Path(__file__).resolve().parents[2]


def test_committed_compose_files_are_current() -> None:
    assert check(ROOT) == [], "run `uv run python -m temporal_dsql_devstack.compose` and commit deploy/compose/"


def test_check_flags_an_edited_file(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "temporal_dsql_devstack.compose", "--root", str(tmp_path)]
    subprocess.run(cmd, check=True, capture_output=True)
    assert subprocess.run([*cmd, "--check"], capture_output=True).returncode == 0
    target = tmp_path / COMPOSE_DIR / "docker-compose.yml"
    target.write_text(target.read_text().replace("replicas: 3", "replicas: 1", 1))
    result = subprocess.run([*cmd, "--check"], capture_output=True, text=True)
    assert result.returncode == 1 and "docker-compose.yml" in result.stderr


def test_compose_file_validates_against_the_compose_specification() -> None:
    schema = json.loads((ROOT / "tests/data/compose-spec.json").read_text())
    document = yaml.safe_load(compose_files()[f"{COMPOSE_DIR}/docker-compose.yml"])
    jsonschema.Draft7Validator(schema).validate(document)
    services = document["services"]
    assert {"temporal-history", "temporal-matching", "temporal-frontend", "temporal-worker", "temporal-ui",
            "prometheus", "grafana"} <= set(services)
    assert services["temporal-history"]["environment"]["CLUSTER_ENDPOINT"].startswith("${DSQL_CLUSTER_ENDPOINT:?")


def test_mounted_paths_exist_in_the_repository() -> None:
    document = yaml.safe_load((ROOT / COMPOSE_DIR / "docker-compose.yml").read_text())
    for name, service in document["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / COMPOSE_DIR / source).exists(), f"{name} mounts missing {source}"


def test_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(compose_files()[f"{COMPOSE_DIR}/prometheus.yml"])
    result = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
