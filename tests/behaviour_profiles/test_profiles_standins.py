"""The shared stand-ins really start, answer and stop by PID."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path

import asyncpg
import boto3
import pytest

from temporal_dsql_core.errors import InputError
from temporal_dsql_standins import MotoServer, PostgresServer, ScenarioPrometheus
from temporal_dsql_standins._process import pid_alive


async def test_postgres_server_accepts_the_static_password(postgres_server: PostgresServer) -> None:
    conn = await asyncpg.connect(host=postgres_server.host, port=postgres_server.port, user="admin",
                                 password=postgres_server.password, database="postgres")
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


def test_postgres_stop_by_pid_ends_the_postmaster() -> None:
    server = PostgresServer().start()
    postmaster = server._postmaster_pid()
    assert postmaster is not None and pid_alive(postmaster)
    server.stop()
    assert not pid_alive(postmaster), Path(f"/proc/{postmaster}/cmdline").read_bytes() if pid_alive(postmaster) else ""
    assert server.workdir is not None and not server.workdir.exists()  # data removed with the server


def test_moto_server_serves_conditional_s3_writes(moto_server: MotoServer) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1")
    s3.create_bucket(Bucket="standin-check")
    s3.put_object(Bucket="standin-check", Key="k", Body=b"1", IfNoneMatch="*")
    try:
        s3.put_object(Bucket="standin-check", Key="k", Body=b"2", IfNoneMatch="*")
        raise AssertionError("second conditional put must fail")
    except s3.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket="standin-check", Key="k")["Body"].read() == b"1"


def test_prometheus_serves_the_amp_url_shape(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    window = prometheus_with_scenarios.windows["healthy-150wps"]
    query = urllib.parse.urlencode({
        "query": "sum(rate(dsql_tx_conflict_total[5m]))", "start": window.start.timestamp(),
        "end": window.end.timestamp(), "step": 60,
    })
    url = f"{prometheus_with_scenarios.query_url}/api/v1/query_range?{query}"
    assert "/workspaces/ws-local" in url
    with urllib.request.urlopen(url) as response:
        body = json.load(response)
    values = [float(v) for _, v in body["data"]["result"][0]["values"]]
    assert len(values) == 121
    assert all(0.4 < v < 0.6 for v in values)
    # The unprefixed path is not served, as on AMP.
    bare = f"http://127.0.0.1:{prometheus_with_scenarios.server.port}/api/v1/query?query=up"
    try:
        urllib.request.urlopen(bare)
        raise AssertionError("unprefixed path must 404")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404


def test_scenario_openmetrics_is_deterministic_seconds_ascending_and_terminated(tmp_path: Path) -> None:
    from whenever import Instant, TimeDelta

    from temporal_dsql_standins import SCENARIOS, get_scenario, write_openmetrics

    assert {"healthy-150wps", "overloaded-400wps"} <= set(SCENARIOS)
    end = Instant.from_utc(2026, 11, 22, 12)
    start = end - TimeDelta(minutes=30)
    a = write_openmetrics(get_scenario("overloaded-400wps"), start, end, tmp_path / "a.om", seed=3)
    b = write_openmetrics(get_scenario("overloaded-400wps"), start, end, tmp_path / "b.om", seed=3)
    c = write_openmetrics(get_scenario("overloaded-400wps"), start, end, tmp_path / "c.om", seed=4)
    assert a.read_text() == b.read_text() != c.read_text()
    lines = a.read_text().splitlines()
    assert lines[-1] == "# EOF"
    last: dict[str, int] = {}
    for line in lines:
        if line.startswith("#"):
            continue
        series, _value, ts = line.rsplit(" ", 2)
        stamp = int(ts)
        assert end.timestamp() - 3600 <= stamp <= end.timestamp()  # seconds, not milliseconds
        assert stamp > last.get(series, 0)  # ascending within every series
        last[series] = stamp
    names = {line.split("{")[0].split(" ")[0] for line in lines if not line.startswith("#")}
    for needed in ("dsql_tx_conflict_total", "dsql_reservoir_size", "service_requests_total",
                   "temporal_workflow_task_schedule_to_start_latency_bucket", "approximate_backlog_count"):
        assert needed in names
    with pytest.raises(InputError):
        get_scenario("nope")
