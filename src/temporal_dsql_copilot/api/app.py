"""``create_app``: the one FastAPI app behind the Lambda Function URL (and uvicorn locally).

It serves the ``/profiles`` router, the copilot's ``/status*``, ``/actions`` and ``/copilot/*``
routers, RFC 7807 problem-details handlers, CORS (origins from settings) and, in
``auth_mode="token"``, the bearer-token check.

Cold start is what a person waits for when Grafana calls a Lambda that has been idle, so the
app is built with only what every request needs (FastAPI, the problem handlers, the settings).
Each router is imported and mounted by the first request whose path it serves (a Lambda
instance that only ever answers ``POST /profiles/`` never imports the copilot's status models),
and its dependencies on ``app.state`` are built then; boto3, botocore (SigV4) and asyncpg are
imported later still, by the first call that talks to AWS or the database. ``/openapi.json``,
``/docs`` and :meth:`LazyRouterApp.mount_all_routers` mount every router first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from temporal_dsql_copilot.api.guard import RequestGuard
from temporal_dsql_profiles.problems import PROBLEM_RESPONSES, install_problem_handlers
from temporal_dsql_profiles.settings import ProfileSettings

if TYPE_CHECKING:
    from temporal_dsql_copilot.status.router import StateStoreProvider
    from temporal_dsql_profiles.service import ProfileService

__all__ = ["LazyRouterApp", "build_profile_service", "create_app"]


def build_profile_service(settings: ProfileSettings) -> ProfileService:
    from whenever import TimeDelta

    from temporal_dsql_profiles.service import ProfileService
    from temporal_dsql_profiles.storage import ProfileStore
    from temporal_dsql_profiles.telemetry import PrometheusClient

    telemetry = PrometheusClient(settings.amp_query_url, region=settings.region, sigv4=settings.amp_sigv4,
                                 timeout=settings.query_timeout_seconds, concurrency=settings.query_concurrency)
    return ProfileService(store=ProfileStore.from_settings(settings), telemetry=telemetry,
                          step=TimeDelta(seconds=settings.query_step_seconds),
                          scrape_interval=TimeDelta(seconds=settings.scrape_interval_seconds),
                          default_cluster_id=settings.cluster_id)


def _serves(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


class LazyRouterApp(FastAPI):
    """A FastAPI app whose routers are mounted by the first request under their path prefixes.

    Mounting is ``include_router`` itself, run synchronously before the request is routed, so
    there is no window in which a concurrent request on the same event loop sees half a router.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending_routers: list[tuple[tuple[str, ...], Callable[[FastAPI], None]]] = []

    def add_lazy_router(self, prefixes: tuple[str, ...], mount: Callable[[FastAPI], None]) -> None:
        """``mount(app)`` runs (once) before the first request whose path is under ``prefixes``."""
        self._pending_routers.append((prefixes, mount))

    def mount_all_routers(self) -> None:
        """Mount every pending router now (the OpenAPI document, tests that list the routes)."""
        self._mount(lambda prefixes: True)

    def _mount(self, wanted: Callable[[tuple[str, ...]], bool]) -> None:
        pending, self._pending_routers = self._pending_routers, []
        for prefixes, mount in pending:
            if wanted(prefixes):
                mount(self)
            else:
                self._pending_routers.append((prefixes, mount))

    def openapi(self) -> dict[str, Any]:
        self.mount_all_routers()
        return super().openapi()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._pending_routers and scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            self._mount(lambda prefixes: _serves(path, prefixes))
        await super().__call__(scope, receive, send)


def create_app(settings: ProfileSettings | None = None, *,
               profile_service: ProfileService | None = None,
               status_store: StateStoreProvider | None = None) -> LazyRouterApp:
    """The API app. ``profile_service`` overrides the one built from ``settings`` (tests, demo)."""
    settings = settings or ProfileSettings()
    # Auth is the RequestGuard's (below), not a route dependency: it runs before the body is read
    # and leaves /health public in every mode.
    app = LazyRouterApp(title="temporal-dsql API", version="0.1.0", responses=PROBLEM_RESPONSES)
    app.state.settings = settings
    app.state.profile_service = profile_service
    app.state.status_store = status_store
    if settings.auth_mode == "token":
        from temporal_dsql_copilot.api.auth import BearerTokenVerifier

        app.state.token_verifier = BearerTokenVerifier(settings)
    else:
        app.state.token_verifier = None
    install_problem_handlers(app)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes, verifier=app.state.token_verifier,
                       docs_public=settings.docs_public)
    if settings.allowed_origins:  # added after the guard, so outside it: preflights need no token
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=settings.allowed_origins, allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["authorization", "content-type"], max_age=600,
        )

    def profile_service_on_state(app: FastAPI) -> None:
        # Shared by /profiles and /copilot/*; built once, by whichever is mounted first.
        if app.state.profile_service is None:
            app.state.profile_service = build_profile_service(settings)

    def mount_profiles(app: FastAPI) -> None:
        from temporal_dsql_profiles.api import router

        profile_service_on_state(app)
        app.include_router(router)

    def status_store_on_state(app: FastAPI) -> None:
        # The copilot's state store (COPILOT_* settings), opened by its first read.
        if app.state.status_store is None:
            from temporal_dsql_copilot.settings import CopilotSettings
            from temporal_dsql_copilot.status.router import StateStoreProvider

            app.state.status_store = StateStoreProvider(CopilotSettings())

    def mount_status(app: FastAPI) -> None:
        from temporal_dsql_copilot.status.router import router

        status_store_on_state(app)
        app.include_router(router)

    def mount_loop(app: FastAPI) -> None:
        from temporal_dsql_copilot.status.loop_router import router

        profile_service_on_state(app)
        status_store_on_state(app)
        app.include_router(router)

    # Mount order is the order of the OpenAPI document when every router is mounted at once.
    app.add_lazy_router(("/profiles",), mount_profiles)
    app.add_lazy_router(("/status", "/actions"), mount_status)
    app.add_lazy_router(("/copilot",), mount_loop)

    # response_model=None: no response field to build (in an environment that has pydantic.v1,
    # FastAPI imports it to check every response model, which costs more than the app itself).
    @app.get("/health", include_in_schema=False, response_model=None)
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app
