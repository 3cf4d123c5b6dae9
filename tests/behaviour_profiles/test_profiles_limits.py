"""Bounded writes and reads of the profile store: the 24 h window, the document size, one read each."""

from __future__ import annotations

import uuid

import asyncpg
import boto3
import httpx
import pytest
from bp_testdata import make_profile  # type: ignore[import-not-found]
from pydantic import SecretStr
from whenever import Instant

from temporal_dsql_profiles.errors import InvalidProfileRequest, StorageUnavailable
from temporal_dsql_profiles.models import ConfigSnapshot
from temporal_dsql_profiles.scale import seed_profiles
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_profiles.storage import (
    BACKFILL_BATCH_PROFILES,
    MAX_DOCUMENT_BYTES,
    ListFilters,
    ProfileStore,
    document_key,
)
from temporal_dsql_standins import MotoServer, PostgresServer

pytestmark = pytest.mark.standins


def _cluster() -> str:
    return f"lim-{uuid.uuid4().hex[:8]}"


async def test_a_window_over_24_hours_is_refused_and_nothing_is_written(profile_service: ProfileService) -> None:
    cluster = _cluster()
    profile = make_profile(cluster, hours=24.5)
    with pytest.raises(InvalidProfileRequest) as refused:
        await profile_service.store.save(profile)
    assert refused.value.field == "time_window_end"
    assert await profile_service.store.count_rows(cluster_id=cluster) == 0
    await profile_service.store.save(make_profile(cluster, hours=24))  # the limit itself is allowed


async def test_a_document_over_the_limit_is_refused_on_save(profile_service: ProfileService) -> None:
    cluster = _cluster()
    big = ConfigSnapshot(sources=["s" * 1024] * (MAX_DOCUMENT_BYTES // 1024 + 1))
    profile = make_profile(cluster).model_copy(update={"config_snapshot": big})
    with pytest.raises(InvalidProfileRequest) as refused:
        await profile_service.store.save(profile)
    assert refused.value.field == "config_snapshot" and str(MAX_DOCUMENT_BYTES) in str(refused.value)
    assert await profile_service.store.count_rows(cluster_id=cluster) == 0


async def test_an_oversized_stored_document_is_refused_before_it_is_read(
        profile_service: ProfileService, api_client: httpx.AsyncClient) -> None:
    """A document larger than the limit (written by hand or by an older release) is refused from
    its size: get and compare answer a problem instead of loading it."""
    store = profile_service.store
    cluster = _cluster()
    small, large = make_profile(cluster), make_profile(cluster)
    for p in (small, large):
        await store.save(p)
    s3 = boto3.client("s3", endpoint_url=store._s3.meta.endpoint_url, region_name="us-east-1")
    s3.put_object(Bucket=store.bucket, Key=document_key(large.id), Body=b" " * (MAX_DOCUMENT_BYTES + 1))
    with pytest.raises(StorageUnavailable, match="limit"):
        await store.get(large.id)
    assert await store.get(small.id) == small
    response = await api_client.post("/profiles/compare", json={"profile_a_id": small.id, "profile_b_id": large.id})
    assert response.status_code == 502 and response.headers["content-type"].startswith("application/problem+json")
    # The list still shows both (it reads the index, never the documents).
    assert len((await store.list(ListFilters(cluster=cluster))).items) == 2


async def test_a_profile_is_listed_under_every_combination_of_its_fields_until_deleted(
        profile_service: ProfileService) -> None:
    store = profile_service.store
    cluster = _cluster()
    profile = make_profile(cluster, "ns-a", label="golden")
    await store.save(profile)
    combinations = [ListFilters(cluster=c, namespace=n, label=lab)
                    for c in (None, cluster) for n in (None, "ns-a") for lab in (None, "golden")]
    for filters in combinations:
        assert profile.id in {m.id for m in (await store.list(filters, limit=500)).items}, filters
    assert (await store.list(ListFilters(cluster=cluster, label="other"))).items == []
    await store.delete(profile.id)

    async def keys(conn: object) -> int:
        return int(await conn.fetchval(  # type: ignore[attr-defined]
            "SELECT count(*) FROM profile_list_keys WHERE profile_id = $1", uuid.UUID(profile.id)))

    assert await store._tx(keys) == 0  # type: ignore[arg-type]
    for filters in combinations:
        assert profile.id not in {m.id for m in (await store.list(filters, limit=500)).items}, filters


async def test_profiles_stored_before_the_key_table_are_listed_after_a_backfill_in_bounded_batches(
        postgres_server: PostgresServer, moto_server: MotoServer) -> None:
    """Rows without list keys (an older release) get them on the first connection, in transactions
    the stand-in's 3,000-row limit accepts, and are then listed under every filter."""
    name = f"backfill_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    settings = ProfileSettings(bucket="unused", s3_endpoint_url=moto_server.endpoint_url,
                               database_dsn=SecretStr(postgres_server.dsn.rsplit("/", 1)[0] + f"/{name}"))
    first = ProfileStore.from_settings(settings)
    await first.count_rows()
    await first.close()
    conn = await asyncpg.connect(postgres_server.dsn.rsplit("/", 1)[0] + f"/{name}")
    try:
        await seed_profiles(conn, first=0, count=2 * BACKFILL_BATCH_PROFILES + 100, now=Instant.now())
        await conn.execute("SET session_replication_role = replica")  # the older release's state
        await conn.execute("DELETE FROM profile_list_keys; DELETE FROM profile_schema_marks")
    finally:
        await conn.close()
    store = ProfileStore.from_settings(settings)
    try:
        assert await store.count_rows() == 2 * BACKFILL_BATCH_PROFILES + 100
        listed = []
        page = await store.list(ListFilters(), limit=500)
        listed += page.items
        while page.next_cursor:
            page = await store.list(ListFilters(), limit=500, cursor=page.next_cursor)
            listed += page.items
        assert len({m.id for m in listed}) == 2 * BACKFILL_BATCH_PROFILES + 100
        in_cluster = await store.list(ListFilters(cluster="cluster-3", namespace="ns-1"), limit=500)
        seeded = [i for i in range(2 * BACKFILL_BATCH_PROFILES + 100) if i % 10 == 3 and i % 3 == 1]  # seed's data
        assert sorted(m.name for m in in_cluster.items) == sorted(f"p{i}" for i in seeded)
    finally:
        await store.close()
