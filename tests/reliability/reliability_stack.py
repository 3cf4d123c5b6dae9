"""The API process and environment the reliability tests run against (imported by conftest and
the fault matrix; a module, not conftest, so it imports by name)."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.store import StateStore
from temporal_dsql_standins import ManagedProcess, MotoServer, PostgresServer, ScenarioPrometheus, free_port

__all__ = ["ApiServer", "api_environment", "setup_copilot_schema", "start_api"]

REPO = Path(__file__).resolve().parents[2]


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


def setup_copilot_schema(postgres: PostgresServer) -> None:
    """The copilot's state-store tables, so the status API reads real (empty) tables."""
    async def setup() -> None:
        store = await StateStore.connect(CopilotSettings(
            dsql_endpoint=postgres.host, dsql_port=postgres.port, dsql_user=postgres.user,
            dsql_database=postgres.database, dsql_password=postgres.password))  # type: ignore[arg-type]
        try:
            await store.setup_schema()
        finally:
            await store.close()

    asyncio.run(setup())
