"""Ready means ready: a stand-in's ``start()`` returns once its service answers a real request.

An open port is not readiness: Temporal's frontend answers "Frontend is not healthy yet" until its
membership is up, PostgreSQL refuses queries during recovery, Prometheus answers 503 while it loads
its blocks. These tests drive the readiness rule with a real process whose port opens long before it
is healthy, and check each stand-in answers a request of its own kind the moment ``start()`` returns.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from temporal_dsql_standins import (
    ManagedProcess,
    MotoServer,
    PostgresServer,
    PrometheusServer,
    StandinError,
    free_port,
)
from temporal_dsql_standins._process import pid_alive

# A server whose port opens at once but answers 503 until the marker file exists: the shape of
# Temporal's frontend before membership, or Prometheus before its TSDB is loaded.
SLOW_SERVER = """
import http.server, pathlib, sys
marker = pathlib.Path(sys.argv[2])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = marker.exists()
        self.send_response(200 if ok else 503)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"starting up")
    def log_message(self, *args):
        pass
print("listening", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _slow_server(tmp_path: Path) -> tuple[ManagedProcess, Path]:
    script = tmp_path / "slow_server.py"
    script.write_text(SLOW_SERVER)
    port = free_port()
    marker = tmp_path / "healthy"
    process = ManagedProcess(name="slow server", argv=[sys.executable, str(script), str(port), str(marker)],
                             port=port, log_file=tmp_path / "slow.log")
    return process, marker


def test_start_waits_past_an_open_port_until_the_service_answers(tmp_path: Path) -> None:
    process, marker = _slow_server(tmp_path)
    answers: list[int] = []

    def healthy() -> bool:
        status = _get(f"http://127.0.0.1:{process.port}/")
        answers.append(status)
        if status != 200:
            # The port is open and the service still refuses: become healthy only after the probe
            # has seen that, so the test proves the probe (not the port) decided readiness.
            if answers.count(503) >= 3:
                marker.touch()
            raise StandinError(f"answered {status}")
        return True

    with process.start(ready_timeout=30, healthy=healthy):
        assert answers[:3] == [503, 503, 503]
        assert answers[-1] == 200
        assert _get(f"http://127.0.0.1:{process.port}/") == 200


def test_a_service_that_never_gets_healthy_fails_with_its_last_error_and_log_and_is_stopped(
        tmp_path: Path) -> None:
    process, _marker = _slow_server(tmp_path)

    def healthy() -> bool:
        raise StandinError(f"answered {_get(f'http://127.0.0.1:{process.port}/')}")

    with pytest.raises(StandinError) as failure:
        process.start(ready_timeout=2, healthy=healthy)
    message = str(failure.value)
    assert "slow server health check was not ready within" in message
    assert "last error: StandinError: answered 503" in message
    assert "--- last log lines ---" in message and "listening" in message
    assert process.popen is not None and not pid_alive(process.popen.pid)


def test_a_process_that_exits_fails_at_once_with_its_exit_code(tmp_path: Path) -> None:
    process = ManagedProcess(name="short-lived", argv=[sys.executable, "-c", "print('bye'); raise SystemExit(3)"],
                             port=free_port(), log_file=tmp_path / "short.log")
    with pytest.raises(StandinError, match=r"short-lived on 127\.0\.0\.1:\d+ exited with code 3"):
        process.start(ready_timeout=30)


@pytest.mark.standins
def test_postgres_answers_a_query_when_start_returns() -> None:
    import asyncio

    import asyncpg

    async def select_one(dsn: str) -> int:
        connection = await asyncpg.connect(dsn)
        try:
            return int(await connection.fetchval("SELECT 1"))
        finally:
            await connection.close()

    with PostgresServer() as server:
        assert asyncio.run(select_one(server.dsn)) == 1


@pytest.mark.standins
def test_moto_answers_s3_and_dynamodb_when_start_returns() -> None:
    import boto3

    with MotoServer() as server:
        s3 = boto3.client("s3", endpoint_url=server.endpoint_url, region_name="us-east-1")
        s3.create_bucket(Bucket="ready-check")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["ready-check"]
        dynamodb = boto3.client("dynamodb", endpoint_url=server.endpoint_url, region_name="us-east-1")
        assert dynamodb.list_tables()["TableNames"] == []


@pytest.mark.standins
def test_prometheus_answers_a_query_when_start_returns() -> None:
    with PrometheusServer() as server:
        url = f"{server.query_url}/api/v1/query?query=vector(7)"
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.loads(response.read())
        assert body["status"] == "success"
        assert body["data"]["result"][0]["value"][1] == "7"


@pytest.mark.standins
async def test_temporal_serves_clients_when_start_returns() -> None:
    # Connecting runs get_system_info: the call that failed with "Frontend is not healthy yet" when
    # start() returned on an open port (issue 22).
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
    from temporalio.client import Client

    from temporal_dsql_standins import TemporalDevServer

    server = TemporalDevServer().start()
    try:
        client = await Client.connect(server.address, namespace=server.namespace)
        described = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=server.namespace))
        assert described.namespace_info.name == server.namespace
    finally:
        server.stop()
