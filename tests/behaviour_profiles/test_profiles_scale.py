"""Pages cost the page: every list shape at a deep cursor over 100,000 profiles, by EXPLAIN ANALYZE.

For each documented list shape (``temporal_dsql_profiles.scale.list_shapes``: every filter alone, the
combinations the README and the copilot use, a label that matches nothing, old time ranges), the
exact SQL and arguments the store sends for the page 90 % deep are run under ``EXPLAIN (ANALYZE)``:
no table that grows with the profiles is read by a sequential scan, and the rows read and
discarded by filters are at most a few pages. (PostgreSQL may still sort a short tail of the
answer, read through a bitmap of the same index range, when that is cheaper than reading it in
order: bounded by the rest of the answer, never by the table.) One database per module, seeded
once with COPY (a few seconds).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from pydantic import SecretStr
from whenever import Instant

from temporal_dsql_profiles.scale import BIG_TABLES, deep_position, explain, list_shapes, seed_profiles
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_profiles.storage import ProfileStore
from temporal_dsql_standins import MotoServer, PostgresServer

pytestmark = pytest.mark.standins

ROWS = 100_000
PAGE = 50
A_FEW_PAGES = 3 * PAGE
SHAPES = list(list_shapes(Instant.now(), ROWS))


@pytest.fixture(scope="module")
async def seeded(postgres_server: PostgresServer,
                 moto_server: MotoServer) -> AsyncIterator[tuple[ProfileStore, asyncpg.Connection, Instant]]:
    name = f"scale_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    dsn = postgres_server.dsn.rsplit("/", 1)[0] + f"/{name}"
    store = ProfileStore.from_settings(ProfileSettings(bucket="unused", s3_endpoint_url=moto_server.endpoint_url,
                                                       database_dsn=SecretStr(dsn)))
    await store.count_rows()  # the store's own schema, indexes included
    now = Instant.now()
    conn = await asyncpg.connect(dsn)
    try:
        await seed_profiles(conn, first=0, count=ROWS, now=now)
        yield store, conn, now
    finally:
        await conn.close()
        await store.close()


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_deep_page_reads_an_index_range_not_the_table(
        seeded: tuple[ProfileStore, asyncpg.Connection, Instant], shape: str) -> None:
    store, conn, now = seeded
    filters = list_shapes(now, ROWS)[shape]
    position, total = await deep_position(conn, store, filters, 0.9)
    if shape != "label, no match":
        assert total > 5 * PAGE, f"{shape}: the fixture must make a deep page deep ({total} rows)"
    query = store.page_query(filters, limit=PAGE, position=position)
    plan = await explain(conn, query)
    assert not plan.seq_scanned & BIG_TABLES, f"{shape}: sequential scan\n{plan.text()}"
    assert plan.rows_removed <= A_FEW_PAGES, f"{shape}: {plan.rows_removed} rows discarded\n{plan.text()}"
    rows = await conn.fetch(query.sql, *query.args)
    expected = min(PAGE + 1, total - int(total * 0.9) - 1) if total else 0
    assert len(rows) == expected, f"{shape}: {len(rows)} rows after the 90 % position of {total}"
