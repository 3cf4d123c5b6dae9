"""Process plumbing shared by every stand-in: free ports, readiness and stop-by-PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class StandinError(RuntimeError):
    """A stand-in server could not be installed, started or stopped."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, *, host: str = "127.0.0.1", timeout: float = 30.0,
                  process: subprocess.Popen[bytes] | None = None, what: str = "server",
                  log_file: Path | None = None) -> None:
    """Block until something listens on host:port; fail early when the process died."""
    wait_until(lambda: port_open(port, host), timeout=timeout, process=process,
               what=f"{what} on {host}:{port}", log_file=log_file)


def wait_until(ready: Callable[[], object], *, timeout: float, what: str,
               process: subprocess.Popen[bytes] | None = None, log_file: Path | None = None) -> None:
    """Poll ``ready`` until it returns a truthy value; fail with its last error and the log's tail.

    ``ready`` may also raise: the exception counts as "not ready yet" and its message is kept, so a
    time-out names what the service last answered (say "Frontend is not healthy yet"), not only that
    it was slow. A process that exits meanwhile fails at once.
    """
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        try:
            if ready():
                return
            last_error = ""
        except Exception as exc:  # any failure of the probe means "not ready yet"
            last_error = f"{type(exc).__name__}: {exc}"
        if process is not None and process.poll() is not None:
            raise StandinError(f"{what} exited with code {process.returncode} before it was ready"
                               + _last_error(last_error) + _log_tail(log_file))
        if time.monotonic() >= deadline:
            raise StandinError(f"{what} was not ready within {timeout:.0f}s" + _last_error(last_error)
                               + _log_tail(log_file))
        time.sleep(0.05)


def _last_error(error: str) -> str:
    return f"\nlast error: {error[:2000]}" if error else ""


def _log_tail(log_file: Path | None, lines: int = 20) -> str:
    if log_file is None or not log_file.exists():
        return ""
    tail = log_file.read_text(errors="replace").splitlines()[-lines:]
    return "\n--- last log lines ---\n" + "\n".join(tail)


def stop_pid(pid: int, *, timeout: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL: the stand-in is gone when this returns."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    try:
        waited, _status = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fall back to a signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie that is not our child still answers kill(0); /proc tells the truth.
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        with contextlib.suppress(OSError, IndexError):
            return stat.read_text().split(") ", 1)[1][0] != "Z"
    return True


@dataclass
class ManagedProcess:
    """A started server: its command, PID, address and log file."""

    name: str
    argv: Sequence[str]
    port: int
    log_file: Path
    host: str = "127.0.0.1"
    env: dict[str, str] | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise StandinError(f"{self.name} is not started")
        return self.popen.pid

    def start(self, *, ready_timeout: float = 30.0,
              healthy: Callable[[], object] | None = None) -> ManagedProcess:
        """Start the process; return once its port accepts and ``healthy`` (a real request of the
        service's own kind) succeeds, both within ``ready_timeout``; otherwise stop it and fail
        with the probe's last error and the log's tail."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.popen = subprocess.Popen(
                list(self.argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **(self.env or {})}, start_new_session=True,
            )
        try:
            deadline = time.monotonic() + ready_timeout
            wait_for_port(self.port, host=self.host, timeout=ready_timeout, process=self.popen,
                          what=self.name, log_file=self.log_file)
            if healthy is not None:
                wait_until(healthy, timeout=max(deadline - time.monotonic(), 1.0), process=self.popen,
                           what=f"{self.name} health check", log_file=self.log_file)
        except StandinError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.popen is not None:
            stop_pid(self.popen.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=1)

    def __enter__(self) -> ManagedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
