"""Storage under concurrency and faults: real serialization conflicts, servers stopped mid-test."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import boto3
import httpx
import pytest
from bp_testdata import make_profile  # type: ignore[import-not-found]
from pydantic import SecretStr
from whenever import TimeDelta

from temporal_dsql_copilot.api.app import build_profile_service, create_app
from temporal_dsql_profiles.errors import StateStoreUnavailable, StorageUnavailable
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_profiles.storage import ListFilters, ProfileStore, document_key
from temporal_dsql_standins import MotoServer, PostgresServer, PrometheusServer


def _cluster() -> str:
    return f"c-{uuid.uuid4().hex[:8]}"


def _objects(endpoint: str, bucket: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="profiles/").get("Contents", [])]


def _fresh_bucket(endpoint: str) -> str:
    name = f"bp-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


async def _all(store: ProfileStore, filters: ListFilters) -> list[Any]:
    items, cursor = [], None
    while True:
        page = await store.list(filters, limit=100, cursor=cursor)
        items += page.items
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


async def test_200_concurrent_creates_and_baseline_switches_lose_nothing(profile_settings: ProfileSettings) -> None:
    store = ProfileStore.from_settings(profile_settings.model_copy(update={"db_pool_max_size": 20}))
    cluster = _cluster()
    profiles = [make_profile(cluster) for _ in range(200)]

    async def create_then_switch(profile: Any) -> None:
        await store.save(profile)
        await store.set_baseline(profile.id)

    try:
        await asyncio.gather(*(create_then_switch(p) for p in profiles))
        listed = await _all(store, ListFilters(cluster=cluster))
        assert sorted(m.id for m in listed) == sorted(p.id for p in profiles)
        assert [m.id for m in listed if m.is_baseline] != [] and sum(m.is_baseline for m in listed) == 1
        assert await store.baseline_count(cluster, "default") == 1
        assert store.retries > 0, "the switches must have hit real serialization conflicts"
        baseline = await store.baseline_for(cluster, "default")
        assert baseline is not None and baseline.is_baseline
    finally:
        await store.close()


async def test_baseline_scope_treats_none_and_empty_namespace_alike_and_separates_clusters(
        profile_settings: ProfileSettings) -> None:
    store = ProfileStore.from_settings(profile_settings)
    try:
        a, b = make_profile(_cluster(), None), make_profile(_cluster(), None)
        for p in (a, b):
            await store.save(p)
            await store.set_baseline(p.id)
        assert (await store.get_metadata(a.id)).is_baseline and (await store.get_metadata(b.id)).is_baseline
    finally:
        await store.close()


async def test_s3_stopped_mid_test_gives_502_and_leaves_no_row(profile_settings: ProfileSettings,
                                                              postgres_server: PostgresServer) -> None:
    moto = MotoServer().start()
    bucket = _fresh_bucket(moto.endpoint_url)
    settings = profile_settings.model_copy(update={"s3_endpoint_url": moto.endpoint_url, "bucket": bucket})
    store = ProfileStore.from_settings(settings)
    cluster = _cluster()
    try:
        await store.save(make_profile(cluster))  # works while S3 is up
        moto.stop()
        with pytest.raises(StorageUnavailable):
            await store.save(make_profile(cluster))  # pending row inserted, put fails, row dropped
        listed = await _all(store, ListFilters(cluster=cluster))
        assert len(listed) == 1
        # Only this test's cluster: other tests on the session database may leave pending rows of their own.
        assert await store.count_rows("pending", cluster_id=cluster) == 0
    finally:
        moto.stop()
        await store.close()


async def test_s3_stopped_gives_502_problem_through_the_api(profile_settings: ProfileSettings,
                                                           scenario_windows: dict,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    moto = MotoServer().start()
    bucket = _fresh_bucket(moto.endpoint_url)
    settings = profile_settings.model_copy(update={"s3_endpoint_url": moto.endpoint_url, "bucket": bucket})
    service = build_profile_service(settings)
    app = create_app(settings, profile_service=service)
    cluster = _cluster()
    start, end = scenario_windows["healthy-150wps"]
    moto.stop()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            response = await client.post("/profiles/", json={
                "name": "n", "cluster_id": cluster, "time_window_start": start.format_iso(),
                "time_window_end": end.format_iso()})
        assert response.status_code == 502 and response.headers["content-type"] == "application/problem+json"
        # Issue 19: the body names the store, the retry hint and a correlation id; the bucket and the
        # object URL go to the server log under that id, never to the client.
        problem = response.json()
        assert problem["store"] == "s3" and problem["retryable"] is True and "retry" in problem["detail"]
        assert bucket not in response.text and moto.endpoint_url not in response.text
        assert response.headers["x-correlation-id"] == problem["correlation_id"]
        logged = [r.getMessage() for r in caplog.records if problem["correlation_id"] in r.getMessage()]
        assert logged and bucket in logged[0]
        assert await _all(service.store, ListFilters(cluster=cluster)) == []
    finally:
        await service.store.close()
        await service.telemetry.aclose()


async def test_postgres_stopped_gives_503_and_writes_nothing_to_s3(profile_settings: ProfileSettings,
                                                                  moto_server: MotoServer,
                                                                  scenario_windows: dict) -> None:
    pg = PostgresServer().start()
    bucket = _fresh_bucket(moto_server.endpoint_url)
    settings = profile_settings.model_copy(update={"database_dsn": SecretStr(pg.dsn), "bucket": bucket})
    service = build_profile_service(settings)
    app = create_app(settings, profile_service=service)
    start, end = scenario_windows["healthy-150wps"]
    body = {"name": "n", "cluster_id": "pg-fault", "time_window_start": start.format_iso(),
            "time_window_end": end.format_iso()}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            assert (await client.post("/profiles/", json=body)).status_code == 201
            pg.stop(remove=False)
            down = await client.post("/profiles/", json=body)
            assert down.status_code == 503 and down.headers["content-type"] == "application/problem+json"
            assert down.headers["retry-after"] == "5"
            assert (await client.get("/profiles/")).status_code == 503
            assert len(_objects(moto_server.endpoint_url, bucket)) == 1  # only the first profile
            pg.resume()
            listed = (await client.get("/profiles/?cluster=pg-fault")).json()["items"]
            assert len(listed) == 1
    finally:
        await service.store.close()
        await service.telemetry.aclose()
        pg.stop()


class _StopPostgresAfterPut(ProfileStore):
    """Stops the real PostgreSQL right after the S3 put: between write steps 2 and 3."""

    postgres: PostgresServer

    async def _s3_call(self, what: str, call: Any) -> Any:
        result = await super()._s3_call(what, call)
        if what == "put":
            await asyncio.to_thread(self.postgres.stop, remove=False)
        return result


async def test_postgres_lost_between_put_and_ready_leaves_only_an_invisible_pending_row(
        profile_settings: ProfileSettings, moto_server: MotoServer) -> None:
    pg = PostgresServer().start()
    bucket = _fresh_bucket(moto_server.endpoint_url)
    settings = profile_settings.model_copy(update={"database_dsn": SecretStr(pg.dsn), "bucket": bucket})
    base = ProfileStore.from_settings(settings)
    store = _StopPostgresAfterPut(bucket=bucket, s3_client=base._s3, pool_factory=base._pool_factory,
                                  dialect=base.dialect)
    store.postgres = pg
    profile = make_profile(_cluster())
    try:
        with pytest.raises(StateStoreUnavailable):
            await store.save(profile)
        # The state could not be read back, so the row may be ready: the document stays.
        assert _objects(moto_server.endpoint_url, bucket) == [document_key(profile.id)]
        pg.resume()
        await store.close()
        with pytest.raises(Exception, match="No behaviour profile"):
            await store.get(profile.id)  # the row is pending: invisible
        assert await store.count_rows("pending") == 1
        assert await store.sweep_stale_pending(older_than=TimeDelta(seconds=0)) == 1
        assert await store.count_rows() == 0
        assert _objects(moto_server.endpoint_url, bucket) == []  # the sweep removed the document
    finally:
        await store.close()
        pg.stop()


class _FlakyCommitPool:
    """The real asyncpg pool, except that the first transaction marking a profile ready fails at
    COMMIT time: ``after_commit`` commits on PostgreSQL and then raises as if the connection dropped
    before the reply arrived (the lost-COMMIT-response case); otherwise it rolls back and raises."""

    def __init__(self, pool: Any, *, after_commit: bool) -> None:
        self.pool, self.after_commit, self.armed = pool, after_commit, True

    def acquire(self) -> Any:
        return _FlakyAcquire(self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


class _FlakyAcquire:
    def __init__(self, owner: _FlakyCommitPool) -> None:
        self.owner, self.inner = owner, owner.pool.acquire()

    async def __aenter__(self) -> Any:
        return _FlakyConnection(self.owner, await self.inner.__aenter__())

    async def __aexit__(self, *exc: Any) -> Any:
        return await self.inner.__aexit__(*exc)


class _FlakyConnection:
    def __init__(self, owner: _FlakyCommitPool, conn: Any) -> None:
        self.owner, self.conn, self.marks_ready = owner, conn, False

    async def execute(self, sql: str, *args: Any) -> Any:
        self.marks_ready |= "SET state = 'ready'" in sql
        return await self.conn.execute(sql, *args)

    def transaction(self, **kwargs: Any) -> Any:
        return _FlakyTransaction(self, self.conn.transaction(**kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


class _FlakyTransaction:
    def __init__(self, conn: _FlakyConnection, inner: Any) -> None:
        self.conn, self.inner = conn, inner

    async def __aenter__(self) -> Any:
        return await self.inner.__aenter__()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        import asyncpg

        owner = self.conn.owner
        if exc_type is not None or not (self.conn.marks_ready and owner.armed):
            return await self.inner.__aexit__(exc_type, exc, tb)
        owner.armed = False
        lost = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        if owner.after_commit:
            await self.inner.__aexit__(None, None, None)  # COMMIT reaches PostgreSQL
        else:
            await self.inner.__aexit__(type(lost), lost, None)  # ROLLBACK
        raise lost


def _flaky_store(settings: ProfileSettings, *, after_commit: bool) -> ProfileStore:
    base = ProfileStore.from_settings(settings)

    async def pool_factory() -> Any:
        return _FlakyCommitPool(await base._pool_factory(), after_commit=after_commit)

    return ProfileStore(bucket=settings.bucket, s3_client=base._s3, pool_factory=pool_factory,
                        dialect=base.dialect)


async def test_a_lost_commit_reply_when_marking_ready_keeps_the_stored_profile(
        profile_settings: ProfileSettings, moto_server: MotoServer) -> None:
    """The UPDATE to ready committed but the client saw an error: the row is ready, so deleting the
    document would leave a visible profile whose GET answers 502 forever. The save re-reads the
    state, keeps the document and succeeds."""
    bucket = _fresh_bucket(moto_server.endpoint_url)
    store = _flaky_store(profile_settings.model_copy(update={"bucket": bucket}), after_commit=True)
    profile = make_profile(_cluster())
    try:
        saved = await store.save(profile)
        assert saved.id == profile.id
        assert (await store.get(profile.id)) == profile
        assert _objects(moto_server.endpoint_url, bucket) == [document_key(profile.id)]
    finally:
        await store.close()


async def test_a_failed_commit_when_marking_ready_removes_document_and_row(
        profile_settings: ProfileSettings, moto_server: MotoServer) -> None:
    """The same error without the commit: the row is still pending, so both are removed."""
    bucket = _fresh_bucket(moto_server.endpoint_url)
    store = _flaky_store(profile_settings.model_copy(update={"bucket": bucket}), after_commit=False)
    profile = make_profile(_cluster())
    try:
        with pytest.raises(StateStoreUnavailable, match="unreachable"):
            await store.save(profile)
        assert _objects(moto_server.endpoint_url, bucket) == []
        with pytest.raises(Exception, match="No behaviour profile"):
            await store.get(profile.id)
        assert await _all(store, ListFilters(cluster=profile.cluster_id)) == []

        async def rows(conn: Any) -> int:
            return int(await conn.fetchval("SELECT count(*) FROM behaviour_profiles WHERE id = $1",
                                           uuid.UUID(profile.id)))

        assert await store._tx(rows) == 0
    finally:
        await store.close()


async def test_prometheus_stopped_gives_502_and_writes_nothing(profile_settings: ProfileSettings,
                                                              moto_server: MotoServer,
                                                              scenario_windows: dict,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    prom = PrometheusServer().start()
    bucket = _fresh_bucket(moto_server.endpoint_url)
    settings = profile_settings.model_copy(update={"amp_query_url": prom.query_url, "bucket": bucket})
    service: ProfileService = build_profile_service(settings)
    app = create_app(settings, profile_service=service)
    cluster = _cluster()
    start, end = scenario_windows["healthy-150wps"]
    prom.remove()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            response = await client.post("/profiles/", json={
                "name": "n", "cluster_id": cluster, "time_window_start": start.format_iso(),
                "time_window_end": end.format_iso()})
        assert response.status_code == 502
        problem = response.json()
        assert problem["store"] == "telemetry" and prom.query_url not in response.text
        logged = [r.getMessage() for r in caplog.records if problem["correlation_id"] in r.getMessage()]
        assert logged and prom.query_url in logged[0] and "unreachable" in logged[0]
        assert await _all(service.store, ListFilters(cluster=cluster)) == []
        assert _objects(moto_server.endpoint_url, bucket) == []
    finally:
        await service.store.close()
        await service.telemetry.aclose()


async def test_documents_are_immutable(profile_settings: ProfileSettings, moto_server: MotoServer) -> None:
    store = ProfileStore.from_settings(profile_settings)
    profile = make_profile(_cluster())
    try:
        await store.save(profile)
        s3 = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1")
        with pytest.raises(s3.exceptions.ClientError, match="PreconditionFailed"):
            s3.put_object(Bucket=profile_settings.bucket, Key=document_key(profile.id), Body=b"{}",
                          IfNoneMatch="*")
        assert (await store.get(profile.id)) == profile
    finally:
        await store.close()
