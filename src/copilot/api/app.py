"""``create_app``: the one FastAPI app behind the Lambda Function URL (and uvicorn locally).

It mounts the ``/profiles`` router, RFC 7807 problem-details handlers, CORS (origins from
settings) and, in ``auth_mode="token"``, the bearer-token check. Dependencies live on
``app.state``; nothing heavy is imported until the first request (boto3 for S3 / Secrets Manager,
botocore for SigV4, asyncpg for the state store).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from whenever import TimeDelta

from behaviour_profiles.api import router as profile_router
from behaviour_profiles.problems import PROBLEM_RESPONSES, install_problem_handlers
from behaviour_profiles.service import ProfileService
from behaviour_profiles.settings import ProfileSettings
from behaviour_profiles.storage import ProfileStore
from behaviour_profiles.telemetry import PrometheusClient
from copilot.api.auth import BearerTokenVerifier, require_bearer_token
from copilot.settings import CopilotSettings
from copilot.status import StateStoreProvider, loop_router
from copilot.status import router as status_router

__all__ = ["build_profile_service", "create_app"]


def build_profile_service(settings: ProfileSettings) -> ProfileService:
    telemetry = PrometheusClient(settings.amp_query_url, region=settings.region, sigv4=settings.amp_sigv4,
                                 timeout=settings.query_timeout_seconds, concurrency=settings.query_concurrency)
    return ProfileService(store=ProfileStore.from_settings(settings), telemetry=telemetry,
                          step=TimeDelta(seconds=settings.query_step_seconds),
                          default_cluster_id=settings.cluster_id)


def create_app(settings: ProfileSettings | None = None, *,
               profile_service: ProfileService | None = None,
               status_store: StateStoreProvider | None = None) -> FastAPI:
    """The API app. ``profile_service`` overrides the one built from ``settings`` (tests, demo)."""
    settings = settings or ProfileSettings()
    dependencies = [Depends(require_bearer_token)] if settings.auth_mode == "token" else []
    app = FastAPI(title="temporal-dsql API", version="0.1.0", dependencies=dependencies,
                  responses=PROBLEM_RESPONSES)
    app.state.settings = settings
    app.state.profile_service = profile_service or build_profile_service(settings)
    app.state.token_verifier = BearerTokenVerifier(settings) if settings.auth_mode == "token" else None
    install_problem_handlers(app)
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.allowed_origins, allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["authorization", "content-type"], max_age=600,
        )

    app.include_router(profile_router)
    # The copilot's status API reads its state store (COPILOT_* settings), opened on first use.
    app.state.status_store = status_store or StateStoreProvider(CopilotSettings())
    app.include_router(status_router)
    app.include_router(loop_router)

    # --- further routers mount here ---
    # The copilot's /status router is added here (app.include_router(status_router)); its
    # dependencies go on app.state like the profile service above.

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
