"""PostgreSQL 15 as the Aurora DSQL stand-in: a throwaway cluster on 127.0.0.1, stopped by PID.

PostgreSQL refuses to run as root, so when this process is root the server binaries run as the
``postgres`` user through ``runuser``. Binaries come from PATH or Debian's
``/usr/lib/postgresql/<major>/bin``. Authentication is scram with a static password, the local
equivalent of the DSQL IAM token (user ``admin``, database ``postgres``, as on DSQL).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from temporal_dsql_standins._process import (
    StandinError,
    free_port,
    pid_alive,
    stop_pid,
    wait_for_port,
    wait_until,
)
from temporal_dsql_standins.dsql_limits import DSQL_LIMITS_SQL

__all__ = ["PostgresServer", "postgres_binary"]


def postgres_binary(name: str) -> Path:
    """Find a PostgreSQL server binary (initdb, pg_ctl, postgres)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    found = shutil.which(name)
    if found:
        return Path(found)
    raise StandinError(f"{name} not found on PATH or in /usr/lib/postgresql/*/bin; "
                       "install PostgreSQL (scripts/ensure-system-deps.sh does)")


def stop_pid_after(pid: int, *, timeout: float) -> None:
    """Wait for a signalled process to exit; SIGKILL it when it does not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def _check_postgres_can_enter(workdir: Path) -> None:
    """Under root the server runs as ``postgres``, which must be able to enter every parent folder
    of its data (a ``mktemp -d`` folder is 0700): say which one and how to fix it, before initdb."""
    for parent in workdir.resolve().parents:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise StandinError(f"PostgreSQL runs as the `postgres` user, which cannot enter {parent} "
                               f"(mode {parent.stat().st_mode & 0o777:o}): `chmod o+x {parent}`, or choose "
                               "a state directory under a folder others can enter (the default, .local/, is)")


@dataclass
class PostgresServer:
    """initdb + postgres on a free 127.0.0.1 port; ``stop()`` ends it by PID and removes the data."""

    user: str = "admin"
    password: str = "localpw"
    database: str = "postgres"
    port: int = 0
    workdir: Path | None = None
    max_connections: int = 300
    dsql_limits: bool = True
    """Refuse what DSQL refuses: a transaction writing over 3,000 rows or older than 5 minutes, in
    every table of every database (``temporal_dsql_standins.dsql_limits``)."""
    pid: int | None = None
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def start(self, *, ready_timeout: float = 30.0) -> PostgresServer:
        if not self.port:
            self.port = free_port()
        self.workdir = self.workdir or Path(tempfile.mkdtemp(prefix="pg-standin-"))
        data, sock, log = self.workdir / "data", self.workdir / "sock", self.workdir / "postgres.log"
        pwfile = self.workdir / "pwfile"
        sock.mkdir(parents=True, exist_ok=True)
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            _check_postgres_can_enter(self.workdir)
            shutil.chown(self.workdir, "postgres")
            shutil.chown(sock, "postgres")
            shutil.chown(pwfile, "postgres")
            self.workdir.chmod(0o700)
        if not (data / "PG_VERSION").exists():
            initdb = subprocess.run(
                _as_postgres([str(postgres_binary("initdb")), "-D", str(data), "-U", self.user,
                              "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                              f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"]),
                check=False, capture_output=True, text=True,
            )
            if initdb.returncode != 0:
                raise StandinError(f"initdb failed (exit {initdb.returncode}) for {data}: "
                                   f"{(initdb.stderr or initdb.stdout).strip()[-800:]}")
        argv = _as_postgres([
            str(postgres_binary("postgres")), "-D", str(data), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={sock}",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", f"max_connections={self.max_connections}",
        ])
        with log.open("ab") as out:
            self._popen = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid = self._popen.pid
        try:
            wait_for_port(self.port, timeout=ready_timeout, process=self._popen,
                          what="postgres", log_file=log)
            # The port opens before recovery ends ("the database system is starting up"): ready
            # means a real query answered through the same TCP + scram path clients use.
            wait_until(self.check_query, timeout=ready_timeout, what="postgres answering a query",
                       process=self._popen, log_file=log)
            if self.dsql_limits:
                for database in ("template1", self.database):
                    self._psql(database, DSQL_LIMITS_SQL)
        except StandinError:
            self.stop()
            raise
        return self

    def _psql(self, database: str, sql: str) -> None:
        done = subprocess.run(
            [str(postgres_binary("psql")), "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", database,
             "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
            capture_output=True, text=True, check=False, env={**os.environ, "PGPASSWORD": self.password})
        if done.returncode != 0:
            raise StandinError(f"psql on {database} failed: {done.stderr.strip()}")

    def check_query(self) -> bool:
        """Run ``SELECT 1`` over TCP with the password, as a client would; raise with psql's error."""
        result = subprocess.run(
            [str(postgres_binary("psql")), "-h", self.host, "-p", str(self.port), "-U", self.user,
             "-d", self.database, "-X", "-tAc", "SELECT 1"],
            capture_output=True, text=True, check=False, timeout=10,
            env={**os.environ, "PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "5"},
        )
        if result.returncode != 0 or result.stdout.strip() != "1":
            raise StandinError(f"psql SELECT 1 failed (exit {result.returncode}): "
                               f"{(result.stderr or result.stdout).strip()[-500:]}")
        return True

    def _postmaster_pid(self) -> int | None:
        if self.workdir is None:
            return None
        pidfile = self.workdir / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(pidfile.read_text().splitlines()[0])
        return None

    def stop(self, *, remove: bool = True) -> None:
        """Fast shutdown (SIGINT) of the postmaster by its PID, then of runuser; SIGKILL on timeout.

        SIGTERM would be a "smart" shutdown that waits for every pooled client to disconnect.
        """
        postmaster = self._postmaster_pid()
        if postmaster is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGINT)
            stop_pid_after(postmaster, timeout=10.0)
        if self._popen is not None:
            stop_pid(self._popen.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout=5)
            self._popen = None
        if remove and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def resume(self) -> PostgresServer:
        """Start again after ``stop(remove=False)``: same port, same data (for fault tests)."""
        return self.start()

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
