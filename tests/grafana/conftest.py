"""Prometheus loaded with the synthetic cluster exactly as `copilot dev up` loads it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pytest
from whenever import Instant

from temporal_dsql_devstack.stack import TelemetryPlan, load_synthetic_cluster
from temporal_dsql_standins.prometheus import PrometheusServer


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


_GRAFANA_ENV_RE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_GRAFANA_401_BODY = "Authentication to data source failed"


def _expand(value: str, env: Mapping[str, str]) -> str:
    """Grafana's provisioning expansion of ``$VAR``/``${VAR}`` (unset -> empty)."""
    return _GRAFANA_ENV_RE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), value)


@dataclass(frozen=True)
class ProvisionedDatasource:
    """What Grafana's data source proxy uses of a provisioned datasource: URL and custom headers."""

    url: str
    headers: dict[str, str]

    @classmethod
    def from_provisioning(cls, uid: str, env: Mapping[str, str]) -> ProvisionedDatasource:
        from temporal_dsql_dashboards.provisioning import datasources

        (source,) = [d for d in datasources()["datasources"] if d["uid"] == uid]
        json_data, secure = source.get("jsonData", {}), source.get("secureJsonData", {})
        headers = {}
        index = 1
        # pkg/services/datasources/service/datasource.go, getCustomHeaders: httpHeaderName<n> from
        # jsonData with httpHeaderValue<n> from the decrypted secureJsonData, n = 1, 2, ... until a gap.
        while name := json_data.get(f"httpHeaderName{index}"):
            if f"httpHeaderValue{index}" in secure:
                # An unset token leaves "Bearer " (Go sends it); field values carry no trailing
                # whitespace on the wire (RFC 9110, 5.5), and httpx refuses to send any.
                headers[name] = _expand(secure[f"httpHeaderValue{index}"], env).strip()
            index += 1
        return cls(_expand(source["url"], env), headers)


class PageServer:
    """Serves HTML pages (path -> text) from its own 127.0.0.1 origin, like Grafana serves dashboards.

    It also stands in for Grafana's data source proxy (``/api/datasources/proxy/uid/<uid>/<path>``),
    which cannot run here: the datasource's URL and custom headers come from the generated
    provisioning file with ``grafana_env`` as Grafana's environment, and the proxy does what
    ``pkg/api/pluginproxy/ds_proxy.go`` does that matters to the action: drop the browser's
    Origin, Referer and Cookie headers, add the datasource's headers, and turn an upstream 401
    into a 400 whose whole body is "Authentication to data source failed".
    """

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import httpx

        from temporal_dsql_standins._process import free_port

        self.pages: dict[str, str] = {}
        self.grafana_env: dict[str, str] = {}
        self.proxied: list[tuple[str, str, dict[str, str]]] = []
        """(method, upstream URL, headers sent) of every proxied request."""
        server = self
        prefix = "/api/datasources/proxy/uid/"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith(prefix):
                    self._proxy()
                    return
                body = server.pages.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                if self.path.startswith(prefix):
                    self._proxy()
                    return
                self.send_response(405)
                self.end_headers()

            def _proxy(self) -> None:
                uid, _, rest = self.path.removeprefix(prefix).partition("/")
                source = ProvisionedDatasource.from_provisioning(uid, server.grafana_env)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                dropped = {"host", "origin", "referer", "cookie", "content-length", "connection"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
                headers.update(source.headers)
                url = source.url.rstrip("/") + "/" + rest
                server.proxied.append((self.command, url, headers))
                upstream = httpx.request(self.command, url, content=body, headers=headers, timeout=60)
                status, content = upstream.status_code, upstream.content
                content_type = upstream.headers.get("content-type", "application/json")
                if status == 401:
                    status, content, content_type = 400, _GRAFANA_401_BODY.encode(), "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

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
    service_env: dict[str, str]
    """The environment the stack's API runs with (to start another API over the same stores)."""
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

    from temporal_dsql_devstack.demo import request_assessment
    from temporal_dsql_devstack.stack import DevStack, service_env

    allowed, foreign = PageServer(), PageServer()
    state_dir = Path(tempfile.mkdtemp(prefix="grafana-stack-"))
    state_dir.chmod(0o755)  # PostgreSQL runs as `postgres` under root
    stack = DevStack(state_dir, allowed_origins=(allowed.origin,))
    try:
        report = stack.up()
        assert not report.failed and not report.unavailable, report
        env = dict(stack.state.env)
        api = env["COPILOT_DEV_API_URL"]
        # /status gives times at second precision: an assessment made in the same second as the
        # request reads as earlier than a sub-second `requested`, so compare whole seconds.
        requested = Instant.now().round("second", mode="floor")
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
        yield AssessedStack(env, service_env(stack.state), api, allowed, foreign)
    finally:
        stack.down(purge=True)
        allowed.close()
        foreign.close()
