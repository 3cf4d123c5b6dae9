"""Copilot fixtures: settings pointing at the stand-ins and a state store on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from copilot.settings import CopilotSettings
from copilot.store import StateStore
from standins import PostgresServer


@pytest.fixture(scope="session")
def copilot_settings(postgres_server: PostgresServer) -> CopilotSettings:
    return CopilotSettings(
        dsql_endpoint=postgres_server.host, dsql_port=postgres_server.port, dsql_user=postgres_server.user,
        dsql_database=postgres_server.database, dsql_password=postgres_server.password,  # type: ignore[arg-type]
        bedrock_enabled=False,
    )


@pytest.fixture(scope="session")
async def session_store(copilot_settings: CopilotSettings) -> AsyncIterator[StateStore]:
    store = await StateStore.connect(copilot_settings, max_size=20)
    await store.setup_schema()
    yield store
    await store.close()


@pytest.fixture
def cluster_store(session_store: StateStore) -> StateStore:
    """The session pool, scoped to a fresh cluster id so tests never see each other's rows."""
    return StateStore(pool=session_store.pool, cluster_id=f"test-{uuid.uuid4().hex[:8]}",
                      dialect=session_store.dialect)
