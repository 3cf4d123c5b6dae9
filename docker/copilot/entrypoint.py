#!/usr/bin/env python3
"""Entrypoint of the copilot image: the worker or the API, each with a health endpoint.

CLI
---
    entrypoint.py worker [--health-port 8081] [-- COMMAND...]
        Runs the Temporal worker (default COMMAND: python -m temporal_dsql_copilot.workflows.worker) as a child
        process and serves GET /health on CopilotSettings.listen_host:--health-port: 200 while the
        worker process runs and the copilot's Temporal frontend (CopilotSettings.temporal_address)
        accepts connections, 503 with the reason otherwise. SIGTERM/SIGINT are forwarded to the worker; the
        entrypoint exits with the worker's exit code.
    entrypoint.py api
        Execs uvicorn with the status/profile API (temporal_dsql_copilot.api.app:create_app, factory) on
        CopilotSettings.listen_host:api_port; the app serves GET /health itself.
    entrypoint.py healthcheck
        What the container health check runs: GET /health of the role this container started
        (recorded in /tmp/copilot-role.json); exit 0 when it answers 200, 1 otherwise.

Configuration comes only from environment variables read through temporal_dsql_copilot.settings.CopilotSettings
(prefix COPILOT_), so the image and the components that set its env cannot drift apart.
ECS ignores a Dockerfile HEALTHCHECK: task definitions set
    "healthCheck": {"command": ["CMD", "python", "/app/entrypoint.py", "healthcheck"], ...}
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DEFAULT_WORKER_COMMAND = [sys.executable, "-m", "temporal_dsql_copilot.workflows.worker"]
DEFAULT_HEALTH_PORT = 8081
ROLE_FILE = Path(os.environ.get("ENTRYPOINT_ROLE_FILE", "/tmp/copilot-role.json"))


def log(message: str) -> None:
    print(f"copilot-entrypoint: {message}", file=sys.stderr, flush=True)


def _record_role(role: str, port: int) -> None:
    ROLE_FILE.write_text(json.dumps({"role": role, "port": port}), encoding="utf-8")


def _settings():  # type: ignore[no-untyped-def]
    from temporal_dsql_copilot.settings import CopilotSettings

    return CopilotSettings()


def temporal_reachable(address: str, timeout: float = 2.0) -> str | None:
    """None when host:port accepts a TCP connection, else why not."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return f"COPILOT_TEMPORAL_ADDRESS {address!r} is not host:port"
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return None
    except OSError as exc:
        return f"Temporal frontend {address} unreachable: {exc}"


class WorkerHealth:
    def __init__(self, process: subprocess.Popen[bytes], temporal_address: str) -> None:
        self.process = process
        self.temporal_address = temporal_address

    def problem(self) -> str | None:
        code = self.process.poll()
        if code is not None:
            return f"worker process exited with code {code}"
        return temporal_reachable(self.temporal_address)


def serve_health(health: WorkerHealth, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/health":
                self.send_error(404)
                return
            problem = health.problem()
            body = json.dumps({"status": "ok"} if problem is None else {"status": "unhealthy", "detail": problem})
            self.send_response(200 if problem is None else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_worker(command: Sequence[str], health_port: int) -> int:
    settings = _settings()
    process = subprocess.Popen(list(command))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: process.send_signal(received))
    server = serve_health(WorkerHealth(process, settings.temporal_address), health_port, settings.listen_host)
    _record_role("worker", health_port)
    log(f"worker pid {process.pid}; /health on :{health_port}; temporal {settings.temporal_address}")
    try:
        code = process.wait()
    finally:
        server.shutdown()
    # A worker ended by a signal exits like a shell reports it: 128 + signal number.
    return 128 - code if code < 0 else code


def run_api() -> int:
    settings = _settings()
    _record_role("api", settings.api_port)
    argv = [sys.executable, "-m", "uvicorn", "temporal_dsql_copilot.api.app:create_app", "--factory",
            "--host", settings.listen_host, "--port", str(settings.api_port), "--proxy-headers"]
    log("exec " + " ".join(argv))
    os.execv(argv[0], argv)
    return 1  # not reached


def healthcheck(timeout: float = 3.0) -> int:
    try:
        role = json.loads(ROLE_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log(f"unhealthy: no role recorded ({exc})")
        return 1
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{role['port']}/health", timeout=timeout) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        log(f"unhealthy: {role['role']} /health: {exc}")
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="entrypoint.py")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker")
    worker.add_argument("--health-port", type=int, default=DEFAULT_HEALTH_PORT)
    worker.add_argument("worker_command", nargs="*", help="after --: the worker command to run")
    commands.add_parser("api")
    commands.add_parser("healthcheck")
    args = parser.parse_args(argv)
    if args.command == "worker":
        return run_worker(args.worker_command or DEFAULT_WORKER_COMMAND, args.health_port)
    if args.command == "api":
        return run_api()
    return healthcheck()


if __name__ == "__main__":
    sys.exit(main())
