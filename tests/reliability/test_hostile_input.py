"""Issue 19 against the API the Lambda serves (uvicorn in its own process, configured like the
Lambda): the stall property, write-equals-read bounds, idempotent creates under concurrency and
under SIGKILL with client retries. Each test fills its row of ``make reliability``'s table with
what it threw at the API and what it counted (lost, duplicated, 5xx).

Wall-clock figures (the create latency at maximum field sizes, /health latency meanwhile) are
recorded in the row's notes; they are asserted only at ``RELIABILITY_SCALE=full`` (``make
reliability``), never in ``make test``, where the structural properties stand for them (RE2
patterns, the snapshot off the event loop: tests/behaviour_profiles/test_hostile_input_*.py).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import boto3
import httpx
import pytest
from pydantic import SecretStr
from reliability_results import SCALE, ReliabilityRow, budget  # type: ignore[import-not-found]
from reliability_stack import ApiServer, start_api  # type: ignore[import-not-found]

from temporal_dsql_profiles.limits import (
    CLUSTER_ID_MAX_BYTES,
    ENV_VALUE_MAX_BYTES,
    JSON_MAX_DEPTH,
    LABEL_MAX_BYTES,
    NAME_MAX_BYTES,
    NAMESPACE_MAX_BYTES,
    TASK_QUEUE_MAX_BYTES,
)
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_profiles.storage import DOCUMENT_PREFIX, ProfileStore
from temporal_dsql_standins import ManagedProcess, ScenarioPrometheus

pytestmark = pytest.mark.standins

STALL_CREATE_SECONDS = 1.0
STALL_HEALTH_SECONDS = 0.1


def _headers(api: ApiServer, **extra: str) -> dict[str, str]:
    return {**({"Authorization": f"Bearer {api.token}"} if api.token else {}), **extra}


def _window(prometheus: ScenarioPrometheus) -> tuple[str, str]:
    window = prometheus.windows["healthy-150wps"]
    return window.start.format_iso(), window.end.format_iso()


def _nested(depth: int, leaf: object) -> object:
    value = leaf
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def _max_body(prometheus: ScenarioPrometheus, unit: str) -> dict[str, Any]:
    """Every string field at its maximum, filled with a fragment that makes backtracking slow."""
    start, end = _window(prometheus)
    fill = (unit * ENV_VALUE_MAX_BYTES)[:ENV_VALUE_MAX_BYTES]
    return {
        "name": ("n" * NAME_MAX_BYTES), "label": "l" * LABEL_MAX_BYTES,
        "cluster_id": (uuid.uuid4().hex + "c" * CLUSTER_ID_MAX_BYTES)[:CLUSTER_ID_MAX_BYTES],
        "namespace": "\U0001F600" * (NAMESPACE_MAX_BYTES // 4), "task_queue": "q" * TASK_QUEUE_MAX_BYTES,
        "worker_code_sha": "a" * 64, "time_window_start": start, "time_window_end": end,
        "server_env_vars": {"history": {f"V{i}": fill for i in range(7)}},
        "dynamic_config": {"deep": _nested(JSON_MAX_DEPTH - 1, fill[:1000]),
                           **{f"k{i}": fill for i in range(7)}},
    }


async def test_stall_property_every_field_at_its_maximum(api_server: ApiServer, reliability: ReliabilityRow,
                                                         prometheus_with_scenarios: ScenarioPrometheus) -> None:
    # Property: every string field at its maximum length (with adversarial content for the
    # redaction patterns) answers, and /health keeps answering meanwhile.
    units = ["a", "eyJ", "a://a:", "-----BEGIN ", "ghp_", "AKIA"][: budget(3, 6)]
    rounds = budget(1, 3)
    health: list[float] = []
    creates: list[float] = []
    statuses: list[int] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=api_server.url, timeout=60) as client:
        # Warm-up (not measured): the first request imports and mounts the routers, opens the
        # pool and the clients; the property is about hostile input, not cold start.
        start, end = _window(prometheus_with_scenarios)
        warm = await client.post("/profiles/", headers=_headers(api_server), json={
            "name": "warm-up", "cluster_id": f"warm-{uuid.uuid4().hex[:6]}", "time_window_start": start,
            "time_window_end": end})
        assert warm.status_code == 201, warm.text

        async def poll_health() -> None:
            while not stop.is_set():
                began = time.perf_counter()
                response = await client.get("/health")
                health.append(time.perf_counter() - began)
                statuses.append(response.status_code)
                await asyncio.sleep(0.01)

        poller = asyncio.create_task(poll_health())
        try:
            for _ in range(rounds):
                for unit in units:
                    began = time.perf_counter()
                    response = await client.post("/profiles/", json=_max_body(prometheus_with_scenarios, unit),
                                                 headers=_headers(api_server))
                    creates.append(time.perf_counter() - began)
                    statuses.append(response.status_code)
                    assert response.status_code == 201, response.text[:500]
        finally:
            stop.set()
            await poller
    reliability.load = f"{len(creates)} creates with every field at its maximum, /health polled {len(health)} x"
    reliability.server_errors = sum(1 for s in statuses if s >= 500)
    create_p50 = sorted(creates)[len(creates) // 2]
    health_p99 = sorted(health)[max(0, int(len(health) * 0.99) - 1)]
    reliability.notes = {"create_p50_s": round(create_p50, 3), "create_max_s": round(max(creates), 3),
                         "health_p99_s": round(health_p99, 3), "health_max_s": round(max(health), 3)}
    assert reliability.server_errors == 0
    if SCALE == "full":
        # Median and p99, not the maximum: on a shared 2-core machine one scheduling hiccup is not
        # the property (before the fix one such create took 15-18 s and /health 10-17 s).
        assert create_p50 < STALL_CREATE_SECONDS, reliability.notes
        assert health_p99 < STALL_HEALTH_SECONDS, reliability.notes


async def test_write_equals_read_bounds(api_server: ApiServer, reliability: ReliabilityRow,
                                        prometheus_with_scenarios: ScenarioPrometheus) -> None:
    # Property: anything stored at the maximum can be read, compared, made the baseline, and used by
    # conformance, recommend-config and drift; one past the maximum is a 4xx, never stored.
    statuses: list[tuple[str, int]] = []
    async with httpx.AsyncClient(base_url=api_server.url, timeout=60, headers=_headers(api_server)) as client:
        body = _max_body(prometheus_with_scenarios, "a")
        a = await client.post("/profiles/", json=body)
        b = await client.post("/profiles/", json={**body, "dynamic_config": {"deep": 1}})
        statuses += [("create", a.status_code), ("create", b.status_code)]
        assert a.status_code == b.status_code == 201, (a.text[:300], b.text[:300])
        pa, pb = a.json()["id"], b.json()["id"]
        reads = [
            ("get", await client.get(f"/profiles/{pa}")),
            ("list", await client.get("/profiles/", params={"cluster": body["cluster_id"],
                                                             "namespace": body["namespace"]})),
            ("compare", await client.post("/profiles/compare", json={"profile_a_id": pa, "profile_b_id": pb})),
            ("baseline", await client.post(f"/profiles/{pa}/baseline")),
            ("conformance", await client.post("/copilot/conformance",
                                              json={"profile_id": pa, "preset_name": "mid-scale"})),
            ("recommend", await client.post("/copilot/recommend-config",
                                             json={"profile_id": pa, "preset_name": "mid-scale"})),
            ("drift", await client.get("/copilot/drift", params={"namespace": body["namespace"]})),
        ]
        statuses += [(name, r.status_code) for name, r in reads]
        over = [
            ("deeper", await client.post("/profiles/", json={**body, "dynamic_config": {
                "deep": _nested(JSON_MAX_DEPTH, 1)}})),
            ("longer namespace", await client.post("/profiles/", json={**body, "namespace": "n" * 8000})),
            ("bigger env", await client.post("/profiles/", json={**body, "server_env_vars": {
                "h": {"V": "a" * (ENV_VALUE_MAX_BYTES + 1)}}})),
        ]
        statuses += [(name, r.status_code) for name, r in over]
    reliability.load = f"2 creates at every maximum, {len(reads)} reads of them, {len(over)} creates one past"
    reliability.server_errors = sum(1 for _, s in statuses if s >= 500)
    reliability.lost = sum(1 for name, r in reads if r.status_code != 200)
    reliability.notes = {name: status for name, status in statuses}
    assert all(r.status_code == 200 for _, r in reads), [(n, r.status_code, r.text[:200]) for n, r in reads]
    assert all(400 <= r.status_code < 500 for _, r in over), [(n, r.status_code) for n, r in over]


async def test_idempotent_creates_under_concurrency(api_server: ApiServer, reliability: ReliabilityRow,
                                                    prometheus_with_scenarios: ScenarioPrometheus) -> None:
    # Property: N concurrent sends of one create under one Idempotency-Key make one profile; the
    # same key with another body is a 422.
    keys, copies = budget(4, 20), budget(4, 10)
    start, end = _window(prometheus_with_scenarios)
    cluster = f"idem-{uuid.uuid4().hex[:8]}"
    ids: dict[str, set[str]] = {}
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=api_server.url, timeout=120) as client:
        for n in range(keys):
            key = f"idem-{uuid.uuid4()}"
            body = {"name": f"idem-{n}", "cluster_id": cluster, "time_window_start": start, "time_window_end": end}
            answers = await asyncio.gather(*(client.post("/profiles/", json=body,
                                                         headers=_headers(api_server, **{"Idempotency-Key": key}))
                                             for _ in range(copies)))
            statuses += [a.status_code for a in answers]
            ids[key] = {a.json()["id"] for a in answers if a.status_code == 201}
            changed = await client.post("/profiles/", json={**body, "name": "other"},
                                        headers=_headers(api_server, **{"Idempotency-Key": key}))
            statuses.append(changed.status_code)
            assert changed.status_code == 422, changed.text
        listed = await client.get("/profiles/", params={"cluster": cluster, "limit": 500}, headers=_headers(api_server))
    stored = [m["id"] for m in listed.json()["items"]]
    reliability.load = f"{keys} keys x {copies} concurrent sends + 1 changed body each"
    reliability.duplicated = len(stored) - keys
    reliability.lost = sum(1 for v in ids.values() if not v)
    reliability.server_errors = sum(1 for s in statuses if s >= 500)
    assert all(len(v) == 1 for v in ids.values()), ids
    assert reliability.duplicated == 0 and reliability.lost == 0 and reliability.server_errors == 0


@pytest.fixture
def own_api(reliability_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An API process this test may SIGKILL and restart (the session's api_server stays up)."""
    holder: dict[str, Any] = {"process": start_api(reliability_env, tmp_path), "log_dir": tmp_path}
    try:
        yield holder
    finally:
        process: ManagedProcess = holder["process"]
        process.stop()


async def test_crash_kill_mid_create_with_client_retries(own_api: dict[str, Any], reliability_env: dict[str, str],
                                                         reliability: ReliabilityRow,
                                                         prometheus_with_scenarios: ScenarioPrometheus) -> None:
    # Property: SIGKILL of the API mid-create, then the client retries with the same key until it
    # gets an answer: 0 duplicates, and after the sweep 0 orphans (pending rows, stray documents).
    creates = budget(3, 15)
    start, end = _window(prometheus_with_scenarios)
    cluster = f"kill-{uuid.uuid4().hex[:8]}"
    rng = random.Random(19)
    kills = retries = server_errors = 0
    acknowledged: dict[str, str] = {}
    for n in range(creates):
        key = f"kill-{uuid.uuid4()}"
        body = {"name": f"kill-{n}", "cluster_id": cluster, "time_window_start": start, "time_window_end": end}
        process: ManagedProcess = own_api["process"]
        url = f"http://127.0.0.1:{process.port}"
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            attempt = asyncio.create_task(client.post("/profiles/", json=body, headers={"Idempotency-Key": key}))
            await asyncio.sleep(rng.uniform(0.0, 0.4))  # the fault's timing, not a synchronisation
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
            assert process.popen is not None
            process.popen.wait(timeout=30)
            try:
                first = await attempt
                if first.status_code == 201:
                    acknowledged[key] = first.json()["id"]
                server_errors += first.status_code >= 500
            except httpx.HTTPError:
                pass  # the client saw the connection die: it retries below
        own_api["process"] = process = start_api(reliability_env, own_api["log_dir"])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{process.port}", timeout=60) as client:
            for _ in range(10):
                retries += 1
                response = await client.post("/profiles/", json=body, headers={"Idempotency-Key": key})
                if response.status_code == 201:
                    assert acknowledged.setdefault(key, response.json()["id"]) == response.json()["id"]
                    break
                server_errors += response.status_code >= 500 and response.status_code not in (502, 503)
    settings = ProfileSettings(bucket=reliability_env["PROFILES_BUCKET"],
                               s3_endpoint_url=reliability_env["PROFILES_S3_ENDPOINT_URL"],
                               database_dsn=SecretStr(reliability_env["PROFILES_DATABASE_DSN"]))
    store = ProfileStore.from_settings(settings)
    try:
        from whenever import TimeDelta

        swept = await store.sweep_stale_pending(older_than=TimeDelta(seconds=0))
        ready = await store.count_rows("ready", cluster_id=cluster)
        pending = await store.count_rows("pending", cluster_id=cluster)
        ids = {p.id for p in (await store.list(_filters(cluster), limit=500)).items}
    finally:
        await store.close()
    conn = await asyncpg.connect(reliability_env["PROFILES_DATABASE_DSN"])
    try:
        indexed = {str(r["s3_key"]) for r in await conn.fetch("SELECT s3_key FROM behaviour_profiles")}
    finally:
        await conn.close()
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1")
    objects = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=settings.bucket, Prefix=DOCUMENT_PREFIX) for o in page.get("Contents", [])}
    stray = objects - indexed  # a document without its index row: an orphan
    reliability.load = f"{creates} creates, {kills} SIGKILLs mid-create, {retries} client retries"
    reliability.faults = "SIGKILL of the API process"
    reliability.lost = creates - len(acknowledged)
    reliability.duplicated = ready - len(set(acknowledged.values()))
    reliability.server_errors = server_errors
    reliability.notes = {"swept": swept, "pending_after_sweep": pending, "stray_documents": len(stray)}
    assert len(acknowledged) == creates and ready == creates and set(acknowledged.values()) == ids
    assert pending == 0 and not stray and server_errors == 0


def _filters(cluster: str) -> Any:
    from temporal_dsql_profiles.storage import ListFilters

    return ListFilters(cluster=cluster)
