"""Least privilege on the copilot's own cluster (issue 19): the worker connects as ``copilot_store``
and the profile API's /status as ``copilot_status``, roles the state store's set-up created and
granted only the state-store tables. On the PostgreSQL stand-in a role logs in with a password
instead of DSQL's IAM mapping; what it may do is the same grants."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import boto3
import pytest
from pydantic import SecretStr
from test_copilot_store import T0, _assessment, _snap  # type: ignore[import-not-found]
from whenever import TimeDelta

from temporal_dsql_copilot.health import HealthState, MachineState
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.store import StateStore, StoredSnapshot
from temporal_dsql_copilot.store.db_roles import (
    COPILOT_STATUS_DB_ROLE,
    COPILOT_STORE_DB_ROLE,
    SETUP_EVENT,
    grants_for,
    run_setup_job,
)
from temporal_dsql_copilot.store.store import store_password
from temporal_dsql_core.dsql import Dialect, IamTokenProvider
from temporal_dsql_profiles.storage import schema_statements as profile_schema
from temporal_dsql_standins import PostgresServer

pytestmark = pytest.mark.standins

PASSWORDS = {COPILOT_STORE_DB_ROLE: "store-pw", COPILOT_STATUS_DB_ROLE: "status-pw"}


def _settings(server: PostgresServer, database: str, user: str, password: str, cluster: str) -> CopilotSettings:
    return CopilotSettings(dsql_endpoint=server.host, dsql_port=server.port, dsql_database=database, dsql_user=user,
                           dsql_password=SecretStr(password), cluster_id=cluster, manage_schema=user == server.user,
                           bedrock_enabled=False)


@pytest.fixture
async def role_database(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh database with the state store set up as the superuser (the set-up's ``admin``), its
    two roles, and the profile tables beside it (what the roles must not reach)."""
    database = f"copilot_roles_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        await admin.execute(f"CREATE DATABASE {database}")
    finally:
        await admin.close()
    settings = _settings(postgres_server, database, postgres_server.user, postgres_server.password, "setup")
    store = await StateStore.connect(settings)
    try:
        ran = await store.setup_schema(roles=dict.fromkeys(PASSWORDS), login_passwords=PASSWORDS)
        assert {f"GRANT SELECT ON {t} TO {COPILOT_STATUS_DB_ROLE}" for _, t in grants_for(COPILOT_STATUS_DB_ROLE)} <= set(ran)
        for statement in profile_schema(Dialect.POSTGRES):
            await store.pool.execute(statement)
    finally:
        await store.close()
    yield database


async def test_the_worker_role_does_what_the_copilot_needs_and_nothing_else(
        postgres_server: PostgresServer, role_database: str) -> None:
    cluster = f"roles-{uuid.uuid4().hex[:6]}"
    settings = _settings(postgres_server, role_database, COPILOT_STORE_DB_ROLE, PASSWORDS[COPILOT_STORE_DB_ROLE], cluster)
    store = await StateStore.connect(settings)
    try:
        snap = _snap(T0, 100, 2, p99=900.0)
        assert await store.save_snapshot(StoredSnapshot(cluster_id=cluster, workflow_id="wf", cycle=1,
                                                        health_state=HealthState.STRESSED, band="mid", snapshot=snap))
        _, stressed = _assessment(MachineState(), snap, 1)
        assert await store.save_assessment(stressed)
        assert await store.save_assessment(stressed) is False  # the retried write (UPDATE path)
        assert len(await store.issues()) == len(stressed.issues) > 0
        _, healthy = _assessment(MachineState(), _snap(T0 + TimeDelta(minutes=5), 100, 0), 2)
        assert await store.save_assessment(healthy)  # clears the open issues (UPDATE)
        assert (await store.latest_assessment()) is not None and (await store.latest_snapshot()) is not None
        assert await store.resume_point("wf") is not None
        assert sum((await store.prune(T0 + TimeDelta(hours=1))).values()) > 0  # the retention job (DELETE)
        # What it may not do: create or change tables (why the deployed worker has manage_schema off),
        # read or write the profile index beside it.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await store.setup_schema()
        for forbidden in ("CREATE TABLE mine (x int)", "SELECT * FROM behaviour_profiles",
                          "DELETE FROM profile_baselines", "DROP TABLE copilot_issues",
                          "ALTER TABLE copilot_issues ADD COLUMN x int"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await store.pool.execute(forbidden)
    finally:
        await store.close()


async def test_the_status_role_only_reads_the_state_store(postgres_server: PostgresServer, role_database: str) -> None:
    settings = _settings(postgres_server, role_database, COPILOT_STATUS_DB_ROLE, PASSWORDS[COPILOT_STATUS_DB_ROLE], "s")
    store = await StateStore.connect(settings)
    try:
        assert await store.issues() == [] and await store.latest_assessment() is None
        assert set(await store.table_counts()) == {t for _, t in grants_for(COPILOT_STATUS_DB_ROLE)}
        snap = _snap(T0, 100, 2)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await store.save_snapshot(StoredSnapshot(cluster_id="s", workflow_id="wf", cycle=1,
                                                     health_state=HealthState.STRESSED, band="mid", snapshot=snap))
        for forbidden in ("DELETE FROM copilot_issues", "SELECT * FROM profile_list_keys", "CREATE TABLE mine (x int)"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await store.pool.execute(forbidden)
    finally:
        await store.close()


async def test_the_setup_job_is_rerunnable_and_knows_only_its_two_roles(
        postgres_server: PostgresServer, role_database: str) -> None:
    """The deployment's invocation (the Lambda handler's job): a second run re-grants, creates nothing."""
    settings = _settings(postgres_server, role_database, postgres_server.user, postgres_server.password, "setup")
    event = {"temporal_dsql": SETUP_EVENT, "roles": {COPILOT_STORE_DB_ROLE: None}}
    result = await asyncio.to_thread(run_setup_job, event, settings)
    assert result["ok"] is True and result["roles"] == [COPILOT_STORE_DB_ROLE]
    with pytest.raises(ValueError, match="unknown copilot state-store role"):
        await asyncio.to_thread(run_setup_job, {"temporal_dsql": SETUP_EVENT, "roles": {"profile_api": None}}, settings)


def test_a_dedicated_role_gets_a_dbconnect_token_not_an_admin_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token the worker presents as copilot_store is botocore's generate_db_connect_auth_token
    (Action=DbConnect), which dsql:DbConnect authorises; only ``admin`` gets DbConnectAdmin's."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    host = "abc.dsql.us-east-1.on.aws"
    client = boto3.client("dsql", region_name="us-east-1")
    expected = client.generate_db_connect_auth_token(Hostname=host, Region="us-east-1")
    password = store_password(CopilotSettings(dsql_endpoint=host, dsql_user=COPILOT_STORE_DB_ROLE))
    assert isinstance(password, IamTokenProvider)
    assert password.token().split("?", 1)[1].startswith("Action=DbConnect&")
    assert expected.startswith(f"{host}/?Action=DbConnect&")
    admin = store_password(CopilotSettings(dsql_endpoint=host, dsql_user="admin"))
    assert isinstance(admin, IamTokenProvider) and "?Action=DbConnectAdmin&" in admin.token()
