"""Fixtures for the runtime image's programs, which are single files imported by path."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from temporal_dsql_standins import free_port

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "docker" / "runtime"


def load_runtime_program(name: str) -> ModuleType:
    """docker/runtime/<name>.py as a module (spec_from_file_location), loaded once per session."""
    module_name = f"_runtime_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, RUNTIME_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def render_config() -> ModuleType:
    return load_runtime_program("render_config")


@pytest.fixture(scope="session")
def visibility_setup() -> ModuleType:
    return load_runtime_program("visibility_setup")


@pytest.fixture(scope="session")
def refresher() -> ModuleType:
    return load_runtime_program("dynconfig_refresher")


class TaskMetadataServer:
    """A local HTTP server answering GET <base>/task like the ECS task metadata endpoint v4."""

    def __init__(self) -> None:
        self.task_document: object = {}
        self.status = 200
        self.requests: list[str] = []
        self.port = free_port()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                if self.path != "/v4/abc-123/task":
                    self.send_error(404)
                    return
                body = json.dumps(owner.task_document).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/v4/abc-123"


@pytest.fixture(scope="session")
def task_metadata_server() -> Iterator[TaskMetadataServer]:
    server = TaskMetadataServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="session")
def moto_endpoint(moto_server: Any) -> str:
    """The session's shared moto_server (tests/conftest.py); tests use their own bucket names."""
    return str(moto_server.endpoint_url)


@pytest.fixture(autouse=True)
def _dummy_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
