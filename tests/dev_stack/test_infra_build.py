"""`copilot dev infra` and `copilot dev build` logic: what happens without pulumi / a docker engine,
the .env they write, and the docker builds they run (through a recording `docker` on PATH)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from temporal_dsql_devstack.build import (
    BASE_IMAGE,
    COPILOT_IMAGE,
    RUNTIME_IMAGE,
    SCHEMA_CONTEXT,
    DockerUnavailable,
    build_commands,
    build_images,
    docker_engine,
    schema_directory,
)
from temporal_dsql_devstack.errors import DevStackError
from temporal_dsql_devstack.infra import (
    DEV_ENV_KEYS,
    PulumiUnavailable,
    env_values,
    infra_apply,
    infra_destroy,
    merge_env_file,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def path_without(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """PATH reduced to a directory holding only the named tools (symlinked from the real PATH)."""

    def make(*keep: str) -> Path:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        for tool in keep:
            found = shutil.which(tool)
            if found:
                (bin_dir / tool).symlink_to(found)
        monkeypatch.setenv("PATH", str(bin_dir))
        return bin_dir

    return make


def test_infra_without_pulumi_says_how_to_install_and_touches_nothing(path_without, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path_without()
    env_file = tmp_path / ".env"
    env_file.write_text("KEEP=1\n")
    with pytest.raises(PulumiUnavailable) as caught:
        infra_apply(region="eu-west-1", env_file=env_file)
    assert caught.value.field == "pulumi"
    assert "pulumi CLI is not on PATH" in str(caught.value) and "Install the Pulumi CLI" in str(caught.value)
    assert "Nothing was created or destroyed" in str(caught.value)
    assert env_file.read_text() == "KEEP=1\n"
    with pytest.raises(PulumiUnavailable):
        infra_destroy(region="eu-west-1")


def test_infra_module_imports_no_pulumi() -> None:
    code = "import sys, temporal_dsql_devstack.infra, temporal_dsql_devstack.build; print(sorted(m for m in sys.modules if m.startswith('pulumi')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"


def outputs() -> dict[str, str]:
    return {name: f"value-of-{name}" for name in DEV_ENV_KEYS}


def test_env_values_map_every_output() -> None:
    env = env_values(outputs())
    assert env["COPILOT_DSQL_ENDPOINT"] == "value-of-copilot_dsql_endpoint"
    assert env["TEMPORAL_SQL_HOST"] == env["CLUSTER_ENDPOINT"] == "value-of-monitored_dsql_endpoint"
    assert env["AWS_REGION"] == env["COPILOT_AWS_REGION"] == "value-of-aws_region"
    with pytest.raises(DevStackError) as caught:
        env_values({k: v for k, v in outputs().items() if k != "kb_id"})
    assert "kb_id" in str(caught.value) and caught.value.field == "outputs"


def test_merge_env_file_keeps_other_lines(tmp_path: Path) -> None:
    env_file = tmp_path / "dev" / ".env"
    env_file.parent.mkdir()
    env_file.write_text("# my settings\nCOPILOT_KB_ID=old\nOTHER=keep me\n\n# COPILOT_KB_BUCKET=commented\n")
    merge_env_file(env_file, {"COPILOT_KB_ID": "KBNEW00001", "COPILOT_KB_BUCKET": "bucket-1"})
    assert env_file.read_text() == ("# my settings\nCOPILOT_KB_ID=KBNEW00001\nOTHER=keep me\n\n"
                                    "# COPILOT_KB_BUCKET=commented\n# written by `copilot dev infra apply`\n"
                                    "COPILOT_KB_BUCKET=bucket-1\n")


keys = st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True)
values = st.from_regex(r"[a-zA-Z0-9._:/-]{0,20}", fullmatch=True)


# Property: .env merge (after a merge every new value is set, every other variable keeps its value)
@settings(max_examples=50, deadline=None)
@given(existing=st.dictionaries(keys, values, max_size=6), new=st.dictionaries(keys, values, max_size=6))
def test_property_env_merge(tmp_path_factory: pytest.TempPathFactory, existing: dict[str, str],
                            new: dict[str, str]) -> None:
    env_file = tmp_path_factory.mktemp("env") / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in existing.items()))
    merge_env_file(env_file, new)
    parsed = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line and not line.startswith("#"))
    assert parsed == {**existing, **new}


# --- build -------------------------------------------------------------------------------------

def test_build_without_docker_cli(path_without) -> None:  # type: ignore[no-untyped-def]
    path_without()
    with pytest.raises(DockerUnavailable) as caught:
        build_images(REPO, base_image="temporal-dsql:latest")
    assert "docker CLI is not on PATH" in str(caught.value) and "Nothing was built" in str(caught.value)


def test_build_without_a_running_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if shutil.which("docker") is None:  # the real CLI is what this test talks to
        pytest.fail("the docker CLI is expected on this machine (Debian docker.io / docker-ce-cli)")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(DockerUnavailable) as caught:
        docker_engine()
    assert "the docker engine is not running" in str(caught.value)
    assert "Cannot connect to the Docker daemon" in str(caught.value)


def test_build_requires_the_temporal_dsql_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEMPORAL_DSQL_PATH", str(tmp_path / "nowhere"))
    with pytest.raises(DevStackError) as caught:
        build_commands(REPO)
    assert caught.value.field == "TEMPORAL_DSQL_PATH"
    assert f"no temporal-dsql checkout at {tmp_path / 'nowhere'}" in str(caught.value)
    assert "set TEMPORAL_DSQL_PATH" in str(caught.value)


def checkout_with_schema(root: Path, layout: str = "schema/dsql/temporal/versioned") -> Path:
    checkout = root / "temporal-dsql"
    checkout.mkdir()
    (checkout / "Dockerfile").write_text("FROM scratch\n")
    (checkout / layout / "v1.1").mkdir(parents=True)
    (checkout / layout / "v1.1" / "manifest.json").write_text('{"CurrVersion": "1.1"}\n')
    return checkout


def test_build_commands_from_a_checkout_and_from_an_image(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    checkout = checkout_with_schema(tmp_path)
    monkeypatch.setenv("TEMPORAL_DSQL_PATH", str(checkout))
    monkeypatch.delenv("TEMPORAL_DSQL_SCHEMA_DIR", raising=False)
    steps = build_commands(REPO, platform="linux/arm64")
    assert [s.image for s in steps] == [BASE_IMAGE, RUNTIME_IMAGE, COPILOT_IMAGE]
    assert steps[0].argv == ["docker", "build", "--platform", "linux/arm64", "-t", BASE_IMAGE, "-f",
                             str(checkout / "Dockerfile"), str(checkout)]
    assert f"BASE_IMAGE={BASE_IMAGE}" in steps[1].argv and steps[1].argv[-1] == str(REPO / "docker" / "runtime")
    schema = checkout / "schema" / "dsql" / "temporal" / "versioned"
    context = steps[1].argv[steps[1].argv.index("--build-context") + 1]
    assert context == f"{SCHEMA_CONTEXT}={schema}"
    assert steps[2].argv[-1] == str(REPO)
    reused = build_commands(REPO, base_image="123.dkr.ecr/temporal-dsql:1.2")
    assert [s.image for s in reused] == [RUNTIME_IMAGE, COPILOT_IMAGE]
    assert "BASE_IMAGE=123.dkr.ecr/temporal-dsql:1.2" in reused[0].argv
    assert f"{SCHEMA_CONTEXT}={schema}" in reused[0].argv  # the schema comes from the checkout either way


def test_build_finds_the_older_schema_layout_or_says_where_it_looked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    checkout = checkout_with_schema(tmp_path, "schema/dsql/v12/temporal/versioned")
    monkeypatch.setenv("TEMPORAL_DSQL_PATH", str(checkout))
    monkeypatch.delenv("TEMPORAL_DSQL_SCHEMA_DIR", raising=False)
    assert schema_directory(checkout) == checkout / "schema/dsql/v12/temporal/versioned"
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("TEMPORAL_DSQL_SCHEMA_DIR", str(empty))
    with pytest.raises(DevStackError) as caught:
        build_commands(REPO, base_image="temporal-dsql:latest")
    assert caught.value.field == "TEMPORAL_DSQL_SCHEMA_DIR"
    assert f"no versioned DSQL schema (vX.Y/manifest.json) in {empty}" in str(caught.value)
    assert "TEMPORAL_DSQL_PATH" in str(caught.value)


@pytest.fixture
def recording_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `docker` executable first on PATH that answers `info` and records each build."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    record = tmp_path / "docker-calls.jsonl"
    script = bin_dir / "docker"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(record)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "if sys.argv[1] == 'info':\n    print('28.2.2')\n"
        f"elif 'temporal-sre-copilot:dev' in sys.argv and __import__('os').path.exists({str(tmp_path / 'fail-copilot')!r}):\n"
        "    sys.exit(7)\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


@pytest.fixture
def schema_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    checkout = checkout_with_schema(tmp_path)
    monkeypatch.setenv("TEMPORAL_DSQL_PATH", str(checkout))
    monkeypatch.delenv("TEMPORAL_DSQL_SCHEMA_DIR", raising=False)
    return checkout


def test_build_images_runs_the_builds_in_order(recording_docker: Path, schema_checkout: Path) -> None:
    built = build_images(REPO, base_image="temporal-dsql:latest")
    assert built == [RUNTIME_IMAGE, COPILOT_IMAGE]
    calls = [json.loads(line) for line in recording_docker.read_text().splitlines()]
    assert calls[0][0] == "info"
    assert [c[c.index("-t") + 1] for c in calls[1:]] == [RUNTIME_IMAGE, COPILOT_IMAGE]


def test_a_failed_build_stops_and_names_the_image(recording_docker: Path, schema_checkout: Path) -> None:
    (recording_docker.parent / "fail-copilot").touch()
    with pytest.raises(DevStackError) as caught:
        build_images(REPO, base_image="temporal-dsql:latest")
    assert f"building {COPILOT_IMAGE} failed (exit 7)" in str(caught.value)
