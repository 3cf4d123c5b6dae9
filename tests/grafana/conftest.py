"""Prometheus loaded with the synthetic cluster exactly as `copilot dev up` loads it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from whenever import Instant

from copilot.dev.stack import TelemetryPlan, load_synthetic_cluster
from standins.prometheus import PrometheusServer


@dataclass(frozen=True)
class LoadedPrometheus:
    server: PrometheusServer
    plan: TelemetryPlan


@pytest.fixture(scope="session")
def dashboard_prometheus() -> Iterator[LoadedPrometheus]:
    plan = TelemetryPlan.around(Instant.now())
    server = PrometheusServer()
    load_synthetic_cluster(server, plan)
    server.start()
    try:
        yield LoadedPrometheus(server, plan)
    finally:
        server.remove()


class PageServer:
    """Serves HTML pages (path -> text) from its own 127.0.0.1 origin."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from standins._process import free_port

        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class AssessedStack:
    """The whole local stack, the copilot having assessed the overloaded cluster once."""

    env: dict[str, str]
    api_url: str
    allowed: PageServer
    """Serves pages from an origin the API allows (CORS)."""
    foreign: PageServer
    """Serves pages from an origin the API does not allow."""


@pytest.fixture(scope="session")
def assessed_stack() -> Iterator[AssessedStack]:
    import asyncio
    import tempfile
    import time
    from pathlib import Path

    import httpx

    from copilot.demo import request_assessment
    from copilot.dev.stack import DevStack

    allowed, foreign = PageServer(), PageServer()
    state_dir = Path(tempfile.mkdtemp(prefix="grafana-stack-"))
    state_dir.chmod(0o755)  # PostgreSQL runs as `postgres` under root
    stack = DevStack(state_dir, allowed_origins=(allowed.origin,))
    try:
        report = stack.up()
        assert not report.failed and not report.unavailable, report
        env = dict(stack.state.env)
        api = env["COPILOT_DEV_API_URL"]
        requested = Instant.now()
        asyncio.run(request_assessment(env))
        deadline = time.monotonic() + 120
        status: dict[str, object] = {}
        while time.monotonic() < deadline:
            status = httpx.get(f"{api}/status", timeout=10).json()
            assessed = status.get("assessed_at")
            if isinstance(assessed, str) and Instant.parse_iso(assessed) >= requested:
                break
            time.sleep(1)
        else:
            pytest.fail(f"no assessment within 120 s: {status}")
        yield AssessedStack(env, api, allowed, foreign)
    finally:
        stack.down(purge=True)
        allowed.close()
        foreign.close()
