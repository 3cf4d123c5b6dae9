"""Behaviour-profile fixtures over the shared stand-ins (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import boto3
import httpx
import pytest
from bp_testdata import BUCKET, make_deployed_config  # type: ignore[import-not-found]
from whenever import Instant

from temporal_dsql_copilot.api.app import build_profile_service, create_app
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_standins import MotoServer, PostgresServer, ScenarioPrometheus


@pytest.fixture(scope="session")
def profile_bucket(moto_server: MotoServer) -> str:
    s3 = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    for key, body in make_deployed_config().to_objects().items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    return BUCKET


@pytest.fixture(scope="session")
def profile_settings(postgres_server: PostgresServer, moto_server: MotoServer,
                     prometheus_with_scenarios: ScenarioPrometheus, profile_bucket: str) -> ProfileSettings:
    return ProfileSettings(
        bucket=profile_bucket, s3_endpoint_url=moto_server.endpoint_url, database_dsn=postgres_server.dsn,
        amp_query_url=prometheus_with_scenarios.query_url, amp_sigv4=True, db_pool_max_size=10,
        allowed_origins=["http://grafana.local"],
    )


@pytest.fixture(scope="session")
async def profile_service(profile_settings: ProfileSettings) -> AsyncIterator[ProfileService]:
    service = build_profile_service(profile_settings)
    yield service
    await service.store.close()
    await service.telemetry.aclose()


@pytest.fixture(scope="session")
async def api_client(profile_settings: ProfileSettings,
                     profile_service: ProfileService) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(profile_settings, profile_service=profile_service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client


@pytest.fixture
def scenario_windows(prometheus_with_scenarios: ScenarioPrometheus) -> Iterator[dict[str, tuple[Instant, Instant]]]:
    yield {name: (w.start, w.end) for name, w in prometheus_with_scenarios.windows.items()}
