"""`copilot dev up | ps | logs | env | down` run as a user runs them, against real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from temporal_dsql_devstack.stack import PROFILE_BUCKET
from temporal_dsql_devstack.state import StackState
from temporal_dsql_standins._process import pid_alive, port_open

pytestmark = pytest.mark.standins


def dev(state: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "temporal_dsql_devstack", *args, "--state-dir", str(state)],
                            capture_output=True, text=True, timeout=240,
                            env={**os.environ, "COLUMNS": "250"})
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def _state_dir() -> Path:
    # pytest's tmp_path is 0700 under root: the postgres user could not reach its data directory.
    path = Path(tempfile.mkdtemp(prefix="dev-stack-"))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def stack_dir() -> Iterator[Path]:
    state = _state_dir()
    dev(state, "up", "postgres", "moto", "prometheus", "temporal")
    try:
        yield state
    finally:
        dev(state, "down", "--purge", check=False)


def test_up_starts_real_servers(stack_dir: Path) -> None:
    state = StackState.load(stack_dir)
    assert {"postgres", "moto", "prometheus", "temporal"} <= set(state.services)
    for record in state.services.values():
        assert all(pid_alive(pid) for pid in record.pids), record
        assert port_open(record.port), record
    # Prometheus holds the synthetic cluster's telemetry.
    prom = state.services["prometheus"].url
    result = httpx.get(f"{prom}/api/v1/query", params={"query": "sum(dsql_reservoir_size)"}, timeout=10).json()
    assert result["data"]["result"], result
    # moto has the profile bucket.
    s3 = boto3.client("s3", endpoint_url=state.services["moto"].url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    assert PROFILE_BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_up_again_keeps_running_services(stack_dir: Path) -> None:
    before = StackState.load(stack_dir).services
    output = dev(stack_dir, "up", "postgres", "moto", "prometheus", "temporal").stdout
    after = StackState.load(stack_dir).services
    assert {k: v.pids for k, v in before.items()} == {k: v.pids for k, v in after.items()}
    assert output.count("already running") == 4


def test_up_restarts_only_a_dead_service(stack_dir: Path) -> None:
    before = StackState.load(stack_dir).services
    moto_pid = before["moto"].pids[0]
    os.kill(moto_pid, 9)
    dev(stack_dir, "up", "postgres", "moto", "prometheus", "temporal")
    after = StackState.load(stack_dir).services
    assert after["moto"].pids != before["moto"].pids
    assert after["moto"].port == before["moto"].port, "clients keep the same endpoint"
    for name in ("postgres", "prometheus", "temporal"):
        assert after[name].pids == before[name].pids


def test_ps_env_and_logs(stack_dir: Path) -> None:
    ps = dev(stack_dir, "ps").stdout
    for name in ("postgres", "moto", "prometheus", "temporal"):
        assert name in ps
    assert ps.count("running") >= 4
    exports = dev(stack_dir, "env").stdout
    assert "export PROFILES_DATABASE_DSN='postgresql://" in exports
    assert "export COPILOT_AMP_QUERY_URL='http://127.0.0.1:" in exports
    logs = dev(stack_dir, "logs", "moto", "-n", "5")
    assert logs.returncode == 0
    bad = dev(stack_dir, "logs", "nosuch", check=False)
    # The shared grammar: bad input is exit 2, `error:` and `allowed:` lines on stderr.
    assert bad.returncode == 2 and "allowed: postgres, moto" in bad.stderr


def test_down_stops_only_what_up_started() -> None:
    tmp_path = _state_dir()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dev(tmp_path, "up", "moto", "prometheus")
        state = json.loads((tmp_path / "state.json").read_text())
        pids = [pid for record in state["services"].values() for pid in record["pids"]]
        dev(tmp_path, "down")
        assert not any(pid_alive(pid) for pid in pids)
        assert StackState.load(tmp_path).services == {}
        assert bystander.poll() is None, "down must not touch processes it did not start"
    finally:
        dev(tmp_path, "down", "--purge", check=False)  # also when an assertion above failed
        bystander.kill()
        bystander.wait()


def test_infra_and_build_say_what_is_missing(tmp_path: Path) -> None:
    # No pulumi CLI on PATH: nothing is created, and the message says how to install it.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "COLUMNS": "250"}
    infra = subprocess.run([sys.executable, "-m", "temporal_dsql_devstack", "infra", "apply", "--env-file",
                            str(tmp_path / ".env")], capture_output=True, text=True, timeout=60, env=env)
    assert infra.returncode == 4  # a dependency that is not there (the shared exit-code table)
    assert "pulumi CLI is not on PATH" in infra.stderr and "Nothing was created" in infra.stderr
    assert not (tmp_path / ".env").exists()
    # A docker engine that is not there: nothing is built.
    build = subprocess.run([sys.executable, "-m", "temporal_dsql_devstack", "build", "--base-image", "x:1"],
                           capture_output=True, text=True, timeout=60,
                           env={**env, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert build.returncode == 4 and "Nothing was built" in build.stderr


def test_copilot_entry_point_has_the_dev_commands(tmp_path: Path) -> None:
    copilot = Path(sys.executable).parent / "copilot"
    result = subprocess.run([str(copilot), "dev", "ps", "--state-dir", str(tmp_path)], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not started" in result.stdout and "worker" in result.stdout


def test_missing_debian_packages_are_found_from_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from temporal_dsql_devstack.system_deps import missing_packages

    assert missing_packages() == [], "this machine has every stand-in installed"
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH; PostgreSQL is still found in /usr/lib
    missing = missing_packages()
    assert {"chromium", "prometheus"} <= set(missing)
    assert "postgresql" not in missing
