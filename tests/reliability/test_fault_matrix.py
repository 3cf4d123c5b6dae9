"""Item 3: the fault matrix, injected for real against the API the Lambda serves.

Dedicated stand-ins so faults never leak into other tests: a PostgreSQL of its own (DSQL; stopped
by its PID and resumed), and TCP fault proxies in front of moto (S3) and Prometheus (AMP) that
refuse connections (down) or hold them beyond the query timeout (slow). For each fault: a create
works before it; during it the API answers the documented status (profile store: S3 and AMP 502,
DSQL 503, each with Retry-After because a retry helps) as an RFC 7807 problem and writes nothing
(no S3 document, no index row); once the store is back the next create works with no manual step,
and no acknowledged profile is lost or duplicated. The stale-pending sweep after a crash between
the S3 put and the index flip is covered by tests/behaviour_profiles/test_profiles_storage.py.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import boto3
import httpx
import pytest
from fault_proxy import FaultProxy  # type: ignore[import-not-found]
from reliability_results import ReliabilityRow  # type: ignore[import-not-found]
from reliability_stack import api_environment, setup_copilot_schema, start_api  # type: ignore[import-not-found]
from whenever import TimeDelta

from temporal_dsql_standins import ManagedProcess, MotoServer, PostgresServer, ScenarioPrometheus

pytestmark = pytest.mark.standins

QUERY_TIMEOUT_SECONDS = 2.0
PROBLEM = "application/problem+json"


@dataclass
class FaultStack:
    api: ManagedProcess
    url: str
    postgres: PostgresServer
    s3: FaultProxy
    prometheus: FaultProxy
    moto_endpoint: str
    bucket: str
    window: tuple[str, str]


@pytest.fixture(scope="module")
def fault_stack(moto_server: MotoServer, prometheus_with_scenarios: ScenarioPrometheus,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    postgres = PostgresServer().start()
    s3 = FaultProxy("127.0.0.1", moto_server.port).start()
    prom_url = urlsplit(prometheus_with_scenarios.query_url)
    prometheus = FaultProxy("127.0.0.1", prom_url.port or 80).start()
    bucket = f"faults-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    env = api_environment(postgres, moto_server, prometheus_with_scenarios, bucket, "fault-cluster")
    env.update({
        "PROFILES_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3.port}",
        "PROFILES_AMP_QUERY_URL": prom_url._replace(netloc=f"127.0.0.1:{prometheus.port}").geturl(),
        "PROFILES_QUERY_TIMEOUT_SECONDS": str(QUERY_TIMEOUT_SECONDS), "PROFILES_DB_CONNECT_TIMEOUT_SECONDS": "2",
    })

    setup_copilot_schema(postgres)
    api = start_api(env, tmp_path_factory.mktemp("fault-api"))
    healthy = prometheus_with_scenarios.windows["healthy-150wps"]
    window = (healthy.start.format_iso(), (healthy.start + TimeDelta(minutes=20)).format_iso())
    try:
        yield FaultStack(api, f"http://127.0.0.1:{api.port}", postgres, s3, prometheus, moto_server.endpoint_url,
                         bucket, window)
    finally:
        api.stop()
        s3.stop()
        prometheus.stop()
        postgres.stop()


def _documents(stack: FaultStack) -> int:
    s3 = boto3.client("s3", endpoint_url=stack.moto_endpoint, region_name="us-east-1")
    return int(s3.list_objects_v2(Bucket=stack.bucket, Prefix="profiles/").get("KeyCount", 0))


def _census(stack: FaultStack) -> tuple[int, int]:
    """(index rows in any state, S3 documents), read from the stand-ins directly (not the proxies)."""
    async def rows() -> int:
        conn = await asyncpg.connect(stack.postgres.dsn)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM behaviour_profiles"))
        finally:
            await conn.close()

    return asyncio.run(rows()), _documents(stack)


@dataclass
class Exercise:
    stack: FaultStack
    row: ReliabilityRow
    client: httpx.Client
    acknowledged: list[str]
    requests: int = 0

    def create(self, expect: int | None = 201) -> httpx.Response:
        start, end = self.stack.window
        response = self.client.post("/profiles/", json={"name": f"fault-{self.requests}", "time_window_start": start,
                                                        "time_window_end": end})
        self.requests += 1
        if response.status_code == 201:
            self.acknowledged.append(response.json()["id"])
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def during_fault(self, documented: int, *, index_up: bool = True) -> dict[str, object]:
        """A create while a store is failing: the documented problem with Retry-After, nothing
        written (index rows are counted when the index itself is up; finish() checks them after)."""
        census = (lambda: _census(self.stack)) if index_up else (lambda: (0, _documents(self.stack)))
        before = census()
        began = time.monotonic()
        response = self.create(expect=None)
        elapsed = time.monotonic() - began
        if response.status_code >= 500 and response.status_code != documented:
            self.row.server_errors += 1
        assert response.status_code == documented, response.text
        assert response.headers["content-type"] == PROBLEM and response.json()["status"] == documented
        assert int(response.headers["retry-after"]) > 0
        assert census() == before, "a failed create left a partial write"
        self.row.notes.setdefault("answer", f"{documented} + Retry-After in {elapsed:.1f}s")
        problem: dict[str, object] = response.json()
        return problem

    def finish(self) -> None:
        listed = [p["id"] for p in self.client.get("/profiles/", params={"limit": 500}).json()["items"]]
        self.row.lost = len(set(self.acknowledged) - set(listed))
        self.row.duplicated = sum(n - 1 for n in Counter(listed).values() if n > 1)
        self.row.load = f"{self.requests} creates (before, during, after)"
        rows, documents = _census(self.stack)
        assert rows == documents == len(listed), (rows, documents, len(listed))
        assert self.row.lost == 0 and self.row.duplicated == 0 and self.row.server_errors == 0


@pytest.fixture
def exercise(fault_stack: FaultStack, reliability: ReliabilityRow) -> Iterator[Exercise]:
    with httpx.Client(base_url=fault_stack.url, timeout=120) as client:
        yield Exercise(fault_stack, reliability, client, [])


def test_fault_s3_down(exercise: Exercise) -> None:
    exercise.row.test, exercise.row.faults = "fault: S3 down", "S3 connections refused (proxy)"
    exercise.create()
    exercise.stack.s3.down()
    try:
        problem = exercise.during_fault(502)
        # The failing store and a correlation id; the bucket only in the server log (issue 19).
        assert problem["store"] == "s3" and problem["correlation_id"]
        assert exercise.stack.bucket not in json.dumps(problem)
        assert exercise.client.get("/profiles/").status_code == 200  # the index is still readable
    finally:
        exercise.stack.s3.up()
    exercise.create()  # recovered without a manual step
    exercise.finish()


def test_fault_dsql_down(exercise: Exercise) -> None:
    exercise.row.test, exercise.row.faults = "fault: DSQL down", "PostgreSQL stopped by PID, resumed"
    exercise.create()
    exercise.stack.postgres.stop(remove=False)
    try:
        problem = exercise.during_fault(503, index_up=False)
        assert "state store" in str(problem["title"]).lower()
        status = exercise.client.get("/status")
        assert status.status_code == 200 and status.json()["degraded"] is True  # Grafana shows "degraded"
        drift = exercise.client.get("/copilot/drift")
        assert drift.status_code == 503 and drift.headers["content-type"] == PROBLEM and "retry-after" in drift.headers
    finally:
        exercise.stack.postgres.resume()
    exercise.create()
    exercise.finish()


def test_fault_prometheus_down(exercise: Exercise) -> None:
    exercise.row.test, exercise.row.faults = "fault: Prometheus/AMP down", "AMP connections refused (proxy)"
    exercise.create()
    exercise.stack.prometheus.down()
    try:
        exercise.during_fault(502)
    finally:
        exercise.stack.prometheus.up()
    exercise.create()
    exercise.finish()


def test_fault_prometheus_slow(exercise: Exercise) -> None:
    exercise.row.test = "fault: Prometheus/AMP slow"
    exercise.row.faults = f"AMP held {QUERY_TIMEOUT_SECONDS * 3:.0f}s > {QUERY_TIMEOUT_SECONDS:.0f}s query timeout"
    exercise.create()
    exercise.stack.prometheus.slow(QUERY_TIMEOUT_SECONDS * 3)
    try:
        began = time.monotonic()
        exercise.during_fault(502)
        assert time.monotonic() - began < 60, "a slow upstream must not hold the request indefinitely"
    finally:
        exercise.stack.prometheus.up()
    exercise.create()
    exercise.finish()
