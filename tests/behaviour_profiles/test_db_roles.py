"""Least privilege in the database: the profile API and the copilot connect as dedicated roles that
the schema set-up created and granted only the profile tables (issue 19). On the PostgreSQL
stand-in the role logs in with a password instead of DSQL's IAM mapping; what it may do is the
same grants."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import boto3
import pytest
from pydantic import SecretStr
from whenever import Instant, TimeDelta

from temporal_dsql_core.dsql import Dialect
from temporal_dsql_core.models import MetricAggregate
from temporal_dsql_profiles.db_roles import PROFILE_TABLES, SWEEP_EVENT, grant_statements, setup_profile_store
from temporal_dsql_profiles.jobs import run_job
from temporal_dsql_profiles.models import BehaviourProfile, ConfigSnapshot, TelemetrySummary
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_profiles.storage import ListFilters, ProfileStore
from temporal_dsql_standins import MotoServer, PostgresServer

pytestmark = pytest.mark.standins


def test_dsql_statements_map_the_role_to_its_iam_role_the_documented_way() -> None:
    arn = "arn:aws:iam::123456789012:role/temporal-plan-profile-api-role"
    statements = grant_statements(Dialect.DSQL, "profile_api", arn, exists=False)
    assert statements[:2] == ["CREATE ROLE profile_api WITH LOGIN", f"AWS IAM GRANT profile_api TO '{arn}'"]
    assert statements[2:] == [f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO profile_api" for t in PROFILE_TABLES]
    assert grant_statements(Dialect.DSQL, "profile_api", arn, exists=True, mapped=True)[0].startswith("GRANT")
    for bad_role, bad_arn in (("x; DROP TABLE t", arn), ("profile_api", "arn'; DROP TABLE t; --")):
        with pytest.raises(ValueError):
            grant_statements(Dialect.DSQL, bad_role, bad_arn, exists=False)


def _profile(cluster: str) -> BehaviourProfile:
    telemetry = TelemetrySummary(step_seconds=60)
    telemetry.set("throughput.state_transitions_per_sec", MetricAggregate(min=1, max=2, mean=1.5, p50=1, p95=2, p99=2))
    start = Instant.from_utc(2026, 11, 20, 10)
    return BehaviourProfile(id=str(uuid.uuid4()), name="role", cluster_id=cluster, time_window_start=start,
                            time_window_end=start + TimeDelta(hours=1), config_snapshot=ConfigSnapshot(),
                            telemetry=telemetry, created_at=Instant.now())


async def test_a_dedicated_role_does_everything_the_api_needs_with_only_its_grants(
        postgres_server: PostgresServer, moto_server: MotoServer) -> None:
    database = f"roles_{uuid.uuid4().hex[:8]}"
    role, password = f"profile_api_{uuid.uuid4().hex[:6]}", "role-pw"
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        await admin.execute(f"CREATE DATABASE {database}")
    finally:
        await admin.close()
    admin_dsn = postgres_server.dsn.rsplit("/", 1)[0] + f"/{database}"
    pool = await asyncpg.create_pool(admin_dsn, min_size=1, max_size=2)
    try:
        ran = await setup_profile_store(pool, Dialect.POSTGRES, {role: None}, login_passwords={role: password})
        again = await setup_profile_store(pool, Dialect.POSTGRES, {role: None}, login_passwords={role: password})
        assert f"CREATE ROLE {role} WITH LOGIN" in ran and f"CREATE ROLE {role} WITH LOGIN" not in again
        await pool.execute("CREATE TABLE other_data (x int)")
    finally:
        await pool.close()
    bucket = f"roles-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    role_dsn = f"postgresql://{role}:{password}@{postgres_server.host}:{postgres_server.port}/{database}"
    settings = ProfileSettings(bucket=bucket, s3_endpoint_url=moto_server.endpoint_url,
                               database_dsn=SecretStr(role_dsn), db_user=role, manage_schema=False)
    store = ProfileStore.from_settings(settings)
    cluster = f"r-{uuid.uuid4().hex[:6]}"
    try:
        meta = await store.save(_profile(cluster))
        assert (await store.set_baseline(meta.id)).is_baseline
        assert [m.id for m in (await store.list(ListFilters(cluster=cluster))).items] == [meta.id]
        await store.delete(meta.id)
        assert await store.sweep_stale_pending() == 0
    finally:
        await store.close()
    as_role = await asyncpg.connect(role_dsn)
    try:
        for forbidden in ("SELECT * FROM other_data", "CREATE TABLE mine (x int)", "DROP TABLE behaviour_profiles"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await as_role.execute(forbidden)
    finally:
        await as_role.close()
    # The scheduled sweep, as the Lambda runs it (no copilot needed).
    assert await asyncio.to_thread(run_job, {"temporal_dsql": SWEEP_EVENT}, settings) == {"ok": True, "job": SWEEP_EVENT, "swept": 0}
