"""temporal_dsql_core.dsql against PostgreSQL: whole-transaction OCC retries, dialect DDL, IAM tokens."""

from __future__ import annotations

import asyncpg
import pytest
from whenever import Instant, TimeDelta

from temporal_dsql_core.dsql import (
    Dialect,
    IamTokenProvider,
    OccRetryExhausted,
    OccRetryPolicy,
    StaticPassword,
    apply_ddl,
    create_index_sql,
    create_pool,
    run_transaction,
)
from temporal_dsql_standins import PostgresServer

FAST = OccRetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.005)


async def _pool(pg: PostgresServer) -> asyncpg.Pool:
    return await create_pool(host=pg.host, port=pg.port, user=pg.user, database=pg.database,
                             password=StaticPassword(pg.password), max_size=4)


@pytest.mark.parametrize("sqlstate", ["40001", "OC000", "OC001"])
async def test_occ_conflict_reruns_the_whole_transaction(postgres_server: PostgresServer, sqlstate: str) -> None:
    pool = await _pool(postgres_server)
    table = f"occ_{sqlstate.lower()}"
    try:
        await apply_ddl(pool, [f"DROP TABLE IF EXISTS {table}", f"CREATE TABLE {table} (n INT)"])
        attempts = 0

        async def body(conn: asyncpg.Connection) -> int:
            nonlocal attempts
            attempts += 1
            await conn.execute(f"INSERT INTO {table} VALUES ($1)", attempts)
            if attempts < 3:  # DSQL reports OCC at commit; raise from the server with the real SQLSTATE
                await conn.execute(f"DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '{sqlstate}'; END $$")
            return attempts

        assert await run_transaction(pool, body, policy=FAST) == 3
        # Only the successful attempt's write survived: failed attempts were rolled back whole.
        assert await pool.fetchval(f"SELECT array_agg(n) FROM {table}") == [3]
    finally:
        await pool.close()


async def test_other_errors_are_not_retried_and_exhaustion_is_reported(postgres_server: PostgresServer) -> None:
    pool = await _pool(postgres_server)
    calls = 0

    async def broken(conn: asyncpg.Connection) -> None:
        nonlocal calls
        calls += 1
        await conn.execute("SELECT * FROM no_such_table")

    async def always_conflicting(conn: asyncpg.Connection) -> None:
        await conn.execute("DO $$ BEGIN RAISE EXCEPTION 'c' USING ERRCODE = '40001'; END $$")

    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await run_transaction(pool, broken, policy=FAST)
        assert calls == 1
        with pytest.raises(OccRetryExhausted) as info:
            await run_transaction(pool, always_conflicting, policy=FAST)
        assert info.value.attempts == 4
    finally:
        await pool.close()


def test_backoff_is_exponential_with_full_jitter() -> None:
    import random

    policy = OccRetryPolicy(base_delay=0.01, max_delay=0.2)
    rng = random.Random(1)
    for attempt in range(8):
        cap = min(0.2, 0.01 * 2 ** attempt)
        samples = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= s <= cap for s in samples) and max(samples) > cap * 0.8


async def test_dialects_create_indexes_their_own_way(postgres_server: PostgresServer) -> None:
    assert create_index_sql(Dialect.DSQL, "i", "t", ["a", "b"]) == "CREATE INDEX ASYNC IF NOT EXISTS i ON t (a, b)"
    pg_sql = create_index_sql(Dialect.POSTGRES, "dialect_idx", "dialect_t", ["a"])
    pool = await _pool(postgres_server)
    try:
        await apply_ddl(pool, ["CREATE TABLE IF NOT EXISTS dialect_t (id UUID PRIMARY KEY, a TEXT)", pg_sql])
        assert await pool.fetchval("SELECT count(*) FROM pg_indexes WHERE indexname = 'dialect_idx'") == 1
        with pytest.raises(asyncpg.PostgresSyntaxError):  # what DSQL's syntax does on PostgreSQL
            await pool.execute(create_index_sql(Dialect.DSQL, "dialect_idx2", "dialect_t", ["a"]))
    finally:
        await pool.close()


def test_iam_token_is_minted_offline_and_refreshed_before_expiry() -> None:
    provider = IamTokenProvider(hostname="abc123.dsql.us-east-1.on.aws", region="us-east-1",
                                expires_in=TimeDelta(minutes=15), refresh_margin=TimeDelta(minutes=3))
    t0 = Instant.now()
    first = provider.token(t0)
    assert first.startswith("abc123.dsql.us-east-1.on.aws/?Action=DbConnectAdmin")
    assert "X-Amz-Expires=900" in first
    assert provider.token(t0 + TimeDelta(minutes=11)) == first  # still well before expiry
    assert provider._expires_at == t0 + TimeDelta(minutes=15)
    provider.token(t0 + TimeDelta(minutes=13))  # inside the 3-minute refresh margin: minted anew
    assert provider._expires_at == t0 + TimeDelta(minutes=28)
    custom = IamTokenProvider(hostname="abc123.dsql.us-east-1.on.aws", region="us-east-1", admin=False)
    assert "Action=DbConnect&" in custom.token()


async def test_iam_token_works_as_the_asyncpg_password_callable(postgres_server: PostgresServer) -> None:
    """A DSQL-format token set as a role's password authenticates through the callable hook."""
    provider = IamTokenProvider(hostname="abc123.dsql.us-east-1.on.aws", region="us-east-1")
    token = provider.token()
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        await admin.execute("DROP ROLE IF EXISTS tokenuser")
        await admin.execute(f"CREATE ROLE tokenuser LOGIN PASSWORD '{token}'")
    finally:
        await admin.close()
    pool = await create_pool(host=postgres_server.host, port=postgres_server.port, user="tokenuser",
                             database="postgres", password=provider, max_size=2)
    try:
        assert await pool.fetchval("SELECT current_user") == "tokenuser"
    finally:
        await pool.close()
