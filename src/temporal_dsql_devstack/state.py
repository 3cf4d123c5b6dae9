"""What `copilot dev up` started: one JSON file in the state directory, the only thing `down` trusts.

Each record holds the PIDs to stop, the port and the log file of one service. `down` stops
exactly these PIDs (never by process name), so nothing the user started elsewhere is touched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, Field

from temporal_dsql_standins._process import pid_alive, port_open

__all__ = ["DEFAULT_STATE_DIR", "ServiceRecord", "StackState", "state_dir"]

DEFAULT_STATE_DIR = Path(".local/dev")


def state_dir(explicit: Path | None = None) -> Path:
    """``--state-dir``, else ``$COPILOT_DEV_STATE_DIR``, else ``.local/dev`` under the cwd."""
    if explicit is not None:
        return explicit.resolve()
    env = os.environ.get("COPILOT_DEV_STATE_DIR")
    return Path(env).resolve() if env else DEFAULT_STATE_DIR.resolve()


class ServiceRecord(BaseModel):
    name: str
    pids: list[int]
    """Processes to stop, in order (e.g. the postmaster before its runuser parent)."""
    port: int
    url: str
    log_file: str
    workdir: str | None = None
    started_at: str
    stop_signal: str = "SIGTERM"
    """Signal that shuts the first PID down cleanly (SIGINT: PostgreSQL's fast shutdown)."""

    def alive(self) -> bool:
        if not any(pid_alive(pid) for pid in self.pids):
            return False
        return self.port == 0 or port_open(self.port)


class StackState(BaseModel):
    services: dict[str, ServiceRecord] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    """Environment a client (API, worker, CLI, demo) uses to reach the stack."""

    @classmethod
    def load(cls, directory: Path) -> StackState:
        path = directory / "state.json"
        if not path.exists():
            return cls()
        return cls.model_validate_json(path.read_text())

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "state.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.model_dump(), indent=2) + "\n")
        tmp.replace(path)
