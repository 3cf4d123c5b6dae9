"""Helpers of the container tests: a running container, polling, a directory containers can write."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from temporal_dsql_devstack.images import DockerCli

__all__ = ["Container", "shared_dir", "wait_for"]


@dataclass
class Container:
    """One `docker run -d` container, removed by the fixture that made it."""

    cli: DockerCli
    id: str

    def inspect(self, template: str) -> str:
        return self.cli.run("inspect", "--format", template, self.id, timeout=60).stdout.decode().strip()

    def logs(self) -> str:
        result = self.cli.run("logs", self.id, timeout=60)
        return (result.stdout + result.stderr).decode(errors="replace")

    def wait(self, timeout: float = 120) -> int:
        result = self.cli.run("wait", self.id, timeout=timeout)
        return int(result.stdout.decode().strip() or "-1")



def shared_dir() -> Path:
    """A directory the containers' users (temporal, copilot: not root) can write to; pytest's
    tmp_path is 0700 under root, so it is made under /tmp, world-writable."""
    path = Path(tempfile.mkdtemp(prefix="container-test-"))
    path.chmod(0o777)
    return path


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll ``condition`` until it holds; an exception from it counts as "not yet"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if condition():
                return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
