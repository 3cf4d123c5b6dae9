"""docker/runtime/dynconfig_refresher.py against moto_server (S3 and SSM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "docker" / "runtime"
CONFIG_V1 = b"history.enableTransitionHistory:\n  - value: true\n"
CONFIG_V2 = b"history.enableTransitionHistory:\n  - value: false\nmatching.numTaskqueueReadPartitions:\n  - value: 8\n"


@pytest.fixture
def s3(moto_endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"profiles-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def make_refresher(refresher: ModuleType, source: str, dest: Path, endpoint: str, **kwargs: Any) -> Any:
    return refresher.Refresher(refresher.parse_source(source), dest, region="us-east-1",
                               endpoint_url=endpoint, **kwargs)


def stat_of(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def test_s3_fetch_writes_then_only_rewrites_on_change(
        refresher: ModuleType, s3: Any, bucket: str, moto_endpoint: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    s3.put_object(Bucket=bucket, Key="config/dynamic_config.yaml", Body=CONFIG_V1)
    dest = tmp_path / "dynamicconfig" / "dynamicconfig.yaml"
    worker = make_refresher(refresher, f"s3://{bucket}/config/dynamic_config.yaml", dest, moto_endpoint)

    assert worker.refresh_once() is True
    assert dest.read_bytes() == CONFIG_V1
    etag = s3.head_object(Bucket=bucket, Key="config/dynamic_config.yaml")["ETag"]
    assert worker.etag_file.read_text() == etag
    assert "dynconfig_refresher: wrote" in capsys.readouterr().err
    before = stat_of(dest)

    assert worker.refresh_once() is True  # conditional GET answers 304: nothing is rewritten
    assert stat_of(dest) == before
    assert f"dynconfig_refresher: unchanged source=s3://{bucket}/config/dynamic_config.yaml etag={etag}" \
        in capsys.readouterr().err

    s3.put_object(Bucket=bucket, Key="config/dynamic_config.yaml", Body=CONFIG_V2)
    assert worker.refresh_once() is True
    assert dest.read_bytes() == CONFIG_V2
    assert stat_of(dest) != before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["dynamicconfig.yaml", "dynamicconfig.yaml.etag"]


def test_same_bytes_under_a_new_etag_are_not_rewritten(
        refresher: ModuleType, s3: Any, bucket: str, moto_endpoint: str, tmp_path: Path) -> None:
    dest = tmp_path / "dynamicconfig.yaml"
    dest.write_bytes(CONFIG_V1)  # e.g. the file baked into the image, or left by a previous task
    before = stat_of(dest)
    s3.put_object(Bucket=bucket, Key="dc.yaml", Body=CONFIG_V1)
    worker = make_refresher(refresher, f"s3://{bucket}/dc.yaml", dest, moto_endpoint)
    assert worker.refresh_once() is True
    assert stat_of(dest) == before
    assert worker.etag_file.exists()


def test_missing_object_is_retried_a_bounded_number_of_times(
        refresher: ModuleType, bucket: str, moto_endpoint: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "dynamicconfig.yaml"
    dest.write_bytes(CONFIG_V1)
    worker = make_refresher(refresher, f"s3://{bucket}/absent.yaml", dest, moto_endpoint,
                            attempts=3, backoff=0.01)
    assert worker.refresh_once() is False
    err = capsys.readouterr().err
    assert err.count("dynconfig_refresher: fetch-failed") == 3
    assert "attempt=3/3" in err and "NoSuchKey" in err
    assert "dynconfig_refresher: gave-up" in err
    assert dest.read_bytes() == CONFIG_V1  # the last good file stays


@pytest.mark.parametrize(("body", "reason"), [
    (b"  \n", "is empty"),
    (b"key: [unclosed\n", "not valid YAML"),
    (b"- just\n- a list\n", "not a YAML mapping"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_bad_body_is_rejected_and_the_previous_file_kept(
        refresher: ModuleType, s3: Any, bucket: str, moto_endpoint: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], body: bytes, reason: str) -> None:
    dest = tmp_path / "dynamicconfig.yaml"
    dest.write_bytes(CONFIG_V1)
    s3.put_object(Bucket=bucket, Key="dc.yaml", Body=body)
    worker = make_refresher(refresher, f"s3://{bucket}/dc.yaml", dest, moto_endpoint, attempts=3)
    assert worker.refresh_once() is False
    err = capsys.readouterr().err
    assert "dynconfig_refresher: rejected" in err and reason in err
    assert "fetch-failed" not in err  # a bad body is not retried
    assert dest.read_bytes() == CONFIG_V1


def test_ssm_parameter_source(refresher: ModuleType, moto_endpoint: str, tmp_path: Path) -> None:
    ssm = boto3.client("ssm", endpoint_url=moto_endpoint, region_name="us-east-1")
    name = f"/temporal-dsql/{uuid.uuid4().hex[:8]}/dynamic-config"
    ssm.put_parameter(Name=name, Value=CONFIG_V1.decode(), Type="String")
    dest = tmp_path / "dynamicconfig.yaml"
    worker = make_refresher(refresher, f"ssm:{name}", dest, moto_endpoint)
    assert worker.refresh_once() is True
    assert dest.read_bytes() == CONFIG_V1 and worker.etag_file.read_text() == "ssm-v1"
    before = stat_of(dest)
    assert worker.refresh_once() is True
    assert stat_of(dest) == before
    ssm.put_parameter(Name=name, Value=CONFIG_V2.decode(), Type="String", Overwrite=True)
    assert worker.refresh_once() is True
    assert dest.read_bytes() == CONFIG_V2 and worker.etag_file.read_text() == "ssm-v2"


def test_bad_source_exits_2_with_a_message(refresher: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert refresher.main(["--source", "https://example/x", "--once"]) == 2
    assert "is not s3://<bucket>/<key> or ssm:<parameter name>" in capsys.readouterr().err


def run_cli(args: list[str], moto_endpoint: str, **kwargs: Any) -> Any:
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_endpoint, "AWS_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    return subprocess.Popen([sys.executable, str(RUNTIME_DIR / "dynconfig_refresher.py"), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_cli_once_is_the_init_container(s3: Any, bucket: str, moto_endpoint: str, tmp_path: Path) -> None:
    dest = tmp_path / "shared" / "dynamicconfig.yaml"
    missing = run_cli(["--source", f"s3://{bucket}/dc.yaml", "--dest", str(dest), "--once",
                       "--attempts", "2", "--backoff", "0.01"], moto_endpoint)
    _, err = missing.communicate(timeout=60)
    assert missing.returncode == 1 and "gave-up" in err and not dest.exists()
    s3.put_object(Bucket=bucket, Key="dc.yaml", Body=CONFIG_V1)
    ok = run_cli(["--source", f"s3://{bucket}/dc.yaml", "--dest", str(dest), "--once"], moto_endpoint)
    _, err = ok.communicate(timeout=60)
    assert ok.returncode == 0, err
    assert dest.read_bytes() == CONFIG_V1


def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_cli_loop_is_the_sidecar(s3: Any, bucket: str, moto_endpoint: str, tmp_path: Path) -> None:
    dest = tmp_path / "dynamicconfig.yaml"
    s3.put_object(Bucket=bucket, Key="dc.yaml", Body=CONFIG_V1)
    sidecar = run_cli(["--source", f"s3://{bucket}/dc.yaml", "--dest", str(dest), "--interval", "0.2"],
                      moto_endpoint)
    try:
        wait_for(lambda: dest.exists() and dest.read_bytes() == CONFIG_V1)
        s3.put_object(Bucket=bucket, Key="dc.yaml", Body=CONFIG_V2)
        wait_for(lambda: dest.read_bytes() == CONFIG_V2)
        time.sleep(0.8)  # a few more cycles, which must find the object unchanged
    finally:
        os.kill(sidecar.pid, signal.SIGTERM)
        _, err = sidecar.communicate(timeout=30)
    assert sidecar.returncode == 0
    assert err.count("dynconfig_refresher: wrote") == 2
    assert "dynconfig_refresher: unchanged" in err
    assert err.rstrip().endswith(f"dynconfig_refresher: stopped source=s3://{bucket}/dc.yaml")


# Property: atomic replacement (after write_atomically the destination holds exactly the new bytes
# and no temporary file is left beside it)
@settings(max_examples=50, deadline=None)
@given(old=st.binary(max_size=2000), new=st.binary(max_size=2000))
def test_property_atomic_replacement(refresher: ModuleType, tmp_path_factory: pytest.TempPathFactory,
                                     old: bytes, new: bytes) -> None:
    directory = tmp_path_factory.mktemp("atomic")
    dest = directory / "dynamicconfig.yaml"
    dest.write_bytes(old)
    refresher.write_atomically(dest, new)
    assert dest.read_bytes() == new
    assert [p.name for p in directory.iterdir()] == ["dynamicconfig.yaml"]
