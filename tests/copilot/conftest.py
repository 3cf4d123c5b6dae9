"""Copilot fixtures: settings pointing at the stand-ins and a state store on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import ThreadingHTTPServer

import boto3
import httpx
import pytest
from copilot_test_loki import RecordedLoki  # type: ignore[import-not-found]

from temporal_dsql_copilot.api.app import build_profile_service, create_app
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.status import StateStoreProvider
from temporal_dsql_copilot.store import StateStore
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_standins import MotoServer, PostgresServer, ScenarioPrometheus, free_port


@pytest.fixture(scope="session")
def copilot_settings(postgres_server: PostgresServer) -> CopilotSettings:
    return CopilotSettings(
        dsql_endpoint=postgres_server.host, dsql_port=postgres_server.port, dsql_user=postgres_server.user,
        dsql_database=postgres_server.database, dsql_password=postgres_server.password,  # type: ignore[arg-type]
        bedrock_enabled=False, api_cache_seconds=0.0,
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


@pytest.fixture(scope="session")
def copilot_profile_settings(postgres_server: PostgresServer, moto_server: MotoServer,
                             prometheus_with_scenarios: ScenarioPrometheus) -> ProfileSettings:
    bucket = f"copilot-profiles-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    return ProfileSettings(bucket=bucket, s3_endpoint_url=moto_server.endpoint_url,
                           database_dsn=postgres_server.dsn, amp_query_url=prometheus_with_scenarios.query_url,
                           amp_sigv4=False, db_pool_max_size=5)


@pytest.fixture(scope="session")
async def copilot_profile_service(copilot_profile_settings: ProfileSettings) -> AsyncIterator[ProfileService]:
    """The behaviour-profile service on the stand-ins (its own bucket), for drift/conformance/recommend."""
    service = build_profile_service(copilot_profile_settings)
    yield service
    await service.store.close()
    await service.telemetry.aclose()


@pytest.fixture
async def status_client(cluster_store: StateStore, copilot_settings: CopilotSettings,
                        copilot_profile_service: ProfileService) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ProfileSettings(allowed_origins=["http://grafana.local"]), profile_service=copilot_profile_service,
                     status_store=StateStoreProvider(copilot_settings, store=cluster_store))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client


@pytest.fixture
def recorded_loki_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), RecordedLoki)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    RecordedLoki.fail = False
