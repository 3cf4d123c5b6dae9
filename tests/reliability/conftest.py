"""Reliability fixtures: the API served the way the Lambda serves it, over the session stand-ins,
and the ``reliability`` row each test fills in (see reliability_results.py).

``api_server`` runs ``lambdas/profile_api/handler.py``'s ``app`` (the object Mangum wraps) under
uvicorn in its own process, configured only through the ``PROFILES_*``/``COPILOT_*`` environment
like the Lambda, so nothing in the test process (event loop, pools, imports) is shared with it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest
from reliability_results import ReliabilityRow, write_rows  # type: ignore[import-not-found]

from behaviour_profiles.settings import ProfileSettings
from copilot.api.app import create_app
from copilot.settings import CopilotSettings
from copilot.status import StateStoreProvider
from copilot.store import StateStore
from standins import ManagedProcess, MotoServer, PostgresServer, ScenarioPrometheus, free_port

REPO = Path(__file__).resolve().parents[2]
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
    """This test's row of the table; its result is the test's outcome."""
    row = ReliabilityRow(test=request.node.name.removeprefix("test_"))
    yield row
    _ROWS.append(row)


@pytest.fixture(autouse=True)
def _record_outcome(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    for row in _ROWS:
        if row.test == request.node.name.removeprefix("test_") and row.result == "not run":
            outcome = request.node.stash.get(_OUTCOME, "failed")
            row.result = "pass" if outcome == "passed" else "FAIL"


@dataclass(frozen=True)
class ApiServer:
    url: str
    token: str | None
    bucket: str
    process: ManagedProcess


def api_environment(postgres: PostgresServer, moto: MotoServer, prometheus: ScenarioPrometheus,
                    bucket: str, cluster_id: str) -> dict[str, str]:
    """The Lambda's environment (PROFILES_*) plus the status API's (COPILOT_*) on the stand-ins."""
    return {
        **os.environ,
        "PROFILES_BUCKET": bucket, "PROFILES_S3_ENDPOINT_URL": moto.endpoint_url,
        "PROFILES_DATABASE_DSN": postgres.dsn, "PROFILES_AMP_QUERY_URL": prometheus.query_url,
        "PROFILES_AMP_SIGV4": "false", "PROFILES_CLUSTER_ID": cluster_id, "PROFILES_DB_POOL_MAX_SIZE": "5",
        "COPILOT_DSQL_ENDPOINT": postgres.host, "COPILOT_DSQL_PORT": str(postgres.port),
        "COPILOT_DSQL_USER": postgres.user, "COPILOT_DSQL_DATABASE": postgres.database,
        "COPILOT_DSQL_PASSWORD": postgres.password or "", "COPILOT_CLUSTER_ID": cluster_id,
        "COPILOT_BEDROCK_ENABLED": "false", "COPILOT_API_CACHE_SECONDS": "0",
    }


def start_api(env: dict[str, str], log_dir: Path, *, token: str | None = None) -> ManagedProcess:
    port = free_port()
    if token is not None:
        env = {**env, "PROFILES_AUTH_MODE": "token", "PROFILES_AUTH_TOKEN": token}
    process = ManagedProcess(
        name="profile-api", port=port, log_file=log_dir / f"api-{port}.log", env=env,
        argv=[sys.executable, "-m", "uvicorn", "handler:app", "--app-dir", str(REPO / "lambdas" / "profile_api"),
              "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
    )
    return process.start(ready_timeout=60)


@pytest.fixture(scope="session")
def reliability_env(postgres_server: PostgresServer, moto_server: MotoServer,
                    prometheus_with_scenarios: ScenarioPrometheus) -> dict[str, str]:
    bucket = f"reliability-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    cluster_id = f"rel-{uuid.uuid4().hex[:6]}"
    env = api_environment(postgres_server, moto_server, prometheus_with_scenarios, bucket, cluster_id)

    async def copilot_schema() -> None:
        store = await StateStore.connect(CopilotSettings(
            dsql_endpoint=postgres_server.host, dsql_port=postgres_server.port, dsql_user=postgres_server.user,
            dsql_database=postgres_server.database, dsql_password=postgres_server.password))  # type: ignore[arg-type]
        try:
            await store.setup_schema()
        finally:
            await store.close()

    asyncio.run(copilot_schema())
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
