"""Reliability fixtures: the API served the way the Lambda serves it, over the session stand-ins,
and the ``reliability`` row each test fills in (see reliability_results.py).

``api_server`` runs ``lambdas/profile_api/handler.py``'s ``app`` (the object Mangum wraps) under
uvicorn in its own process, configured only through the ``PROFILES_*``/``COPILOT_*`` environment
like the Lambda, so nothing in the test process (event loop, pools, imports) is shared with it.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from reliability_results import ReliabilityRow, write_rows  # type: ignore[import-not-found]
from reliability_stack import ApiServer, api_environment, setup_copilot_schema, start_api  # type: ignore[import-not-found]

from temporal_dsql_copilot.api.app import create_app
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.status import StateStoreProvider
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_standins import MotoServer, PostgresServer, ScenarioPrometheus

_ROWS: list[ReliabilityRow] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if report.when == "call" or (report.when == "setup" and report.failed):  # type: ignore[attr-defined]
        item.stash[_OUTCOME] = report.outcome  # type: ignore[attr-defined]
    return report


_OUTCOME = pytest.StashKey[str]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("RELIABILITY_RESULTS")
    if target and _ROWS:
        write_rows(Path(target), _ROWS)


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> Iterator[ReliabilityRow]:
    """This test's row of the table; its result is the test's outcome (the call phase's report
    exists by the time this fixture is torn down)."""
    row = ReliabilityRow(test=request.node.name.removeprefix("test_"))
    yield row
    row.result = "pass" if request.node.stash.get(_OUTCOME, "failed") == "passed" else "FAIL"
    _ROWS.append(row)


@pytest.fixture(scope="session")
def reliability_env(postgres_server: PostgresServer, moto_server: MotoServer,
                    prometheus_with_scenarios: ScenarioPrometheus) -> dict[str, str]:
    bucket = f"reliability-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    cluster_id = f"rel-{uuid.uuid4().hex[:6]}"
    env = api_environment(postgres_server, moto_server, prometheus_with_scenarios, bucket, cluster_id)

    setup_copilot_schema(postgres_server)
    return env


@pytest.fixture(scope="session", params=["iam", "token"])
def api_server(request: pytest.FixtureRequest, reliability_env: dict[str, str],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """The API twice: ``iam`` (auth left to AWS, as on a Function URL) and ``token`` (bearer token)."""
    token = secrets.token_urlsafe(16) if request.param == "token" else None
    process = start_api(reliability_env, tmp_path_factory.mktemp("api"), token=token)
    try:
        yield ApiServer(f"http://127.0.0.1:{process.port}", token, reliability_env["PROFILES_BUCKET"], process)
    finally:
        process.stop()


@pytest.fixture(scope="session")
async def api_client(reliability_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The same app in process (ASGI), for the regression tests that need no second process."""
    env = reliability_env
    settings = ProfileSettings(
        bucket=env["PROFILES_BUCKET"], s3_endpoint_url=env["PROFILES_S3_ENDPOINT_URL"],
        database_dsn=env["PROFILES_DATABASE_DSN"], amp_query_url=env["PROFILES_AMP_QUERY_URL"],  # type: ignore[arg-type]
        amp_sigv4=False, cluster_id=env["PROFILES_CLUSTER_ID"], db_pool_max_size=20)
    status = StateStoreProvider(CopilotSettings(
        dsql_endpoint=env["COPILOT_DSQL_ENDPOINT"], dsql_port=int(env["COPILOT_DSQL_PORT"]),
        dsql_user=env["COPILOT_DSQL_USER"], dsql_database=env["COPILOT_DSQL_DATABASE"],
        dsql_password=env["COPILOT_DSQL_PASSWORD"], cluster_id=env["COPILOT_CLUSTER_ID"],  # type: ignore[arg-type]
        api_cache_seconds=0.0))
    app = create_app(settings, status_store=status)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api", timeout=60) as client:
        yield client
    await app.state.profile_service.store.close()
    await app.state.profile_service.telemetry.aclose()
    if status.store is not None:
        await status.store.close()
