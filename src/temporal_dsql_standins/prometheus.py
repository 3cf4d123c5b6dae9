"""Debian's Prometheus as the Amazon Managed Prometheus stand-in.

It serves the AMP URL shape (``/workspaces/<id>/api/v1/...``) through ``--web.route-prefix``, so
the production query client runs unchanged with only its base URL switched. Data is backfilled
with ``promtool tsdb create-blocks-from openmetrics`` BEFORE the server starts (blocks written into
a running server's data dir only show up after the next reload cycle, about a minute later), and
retention is set far beyond the default 15 days so historic scenario blocks are not deleted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from temporal_dsql_standins._process import ManagedProcess, StandinError, free_port, wait_until

__all__ = ["PrometheusServer", "prometheus_binary", "promtool_binary"]

_CONFIG = "global:\n  scrape_interval: 15s\nscrape_configs: []\n"


def _config(rule_files: list[Path], evaluation_interval: str) -> str:
    if not rule_files:
        return _CONFIG
    files = "".join(f"  - {json.dumps(str(path))}\n" for path in rule_files)
    return (f"global:\n  scrape_interval: 15s\n  evaluation_interval: {evaluation_interval}\n"
            f"rule_files:\n{files}scrape_configs: []\n")


def _binary(name: str) -> Path:
    found = shutil.which(name)
    if not found:
        raise StandinError(f"{name} not found on PATH; install the Debian package `prometheus` "
                           "(scripts/ensure-system-deps.sh does)")
    return Path(found)


def prometheus_binary() -> Path:
    return _binary("prometheus")


def promtool_binary() -> Path:
    return _binary("promtool")


@dataclass
class PrometheusServer:
    """A Prometheus on a free 127.0.0.1 port under ``/workspaces/<workspace_id>``."""

    workspace_id: str = "ws-local"
    port: int = 0
    workdir: Path | None = None
    retention: str = "36500d"
    process: ManagedProcess | None = None
    backfilled: list[Path] = field(default_factory=list)
    rule_files: list[Path] = field(default_factory=list)
    """Recording/alerting rule files loaded at start (AMP's rule groups namespaces, locally)."""
    evaluation_interval: str = "1m"

    def __post_init__(self) -> None:
        self.workdir = self.workdir or Path(tempfile.mkdtemp(prefix="prometheus-standin-"))
        if not self.port:
            self.port = free_port()

    @property
    def data_dir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "data"

    @property
    def query_url(self) -> str:
        """The AMP-shaped query base URL (append ``/api/v1/query_range``)."""
        return f"http://127.0.0.1:{self.port}/workspaces/{self.workspace_id}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise StandinError("prometheus is not started")
        return self.process.pid

    def backfill(self, openmetrics_file: Path) -> None:
        """Turn an OpenMetrics file (seconds timestamps, ascending per series, ``# EOF``) into blocks."""
        if self.process is not None and self.process.popen is not None and self.process.popen.poll() is None:
            raise StandinError("backfill before start: blocks added to a running Prometheus are only "
                               "loaded at its next reload cycle")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [str(promtool_binary()), "tsdb", "create-blocks-from", "openmetrics",
             str(openmetrics_file), str(self.data_dir)],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise StandinError(f"promtool failed on {openmetrics_file}: {result.stderr[-2000:]}")
        self.backfilled.append(openmetrics_file)

    def start(self, *, ready_timeout: float = 30.0) -> PrometheusServer:
        assert self.workdir is not None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "prometheus.yml"
        config.write_text(_config(self.rule_files, self.evaluation_interval))
        prefix = f"/workspaces/{self.workspace_id}"
        self.process = ManagedProcess(
            name="prometheus",
            argv=[
                str(prometheus_binary()), f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--storage.tsdb.retention.time={self.retention}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                f"--web.route-prefix={prefix}",
                f"--web.external-url=http://127.0.0.1:{self.port}{prefix}",
                "--web.enable-remote-write-receiver", "--web.enable-admin-api",
                "--log.level=warn",
            ],
            port=self.port, log_file=self.workdir / "prometheus.log",
        ).start(ready_timeout=ready_timeout)
        wait_until(self._ready, timeout=ready_timeout, what="prometheus /-/ready and a query",
                   process=self.process.popen, log_file=self.process.log_file)
        return self

    def _ready(self) -> bool:
        """``/-/ready`` answers 200 and one instant query answers ``vector(1)`` as success."""
        with urllib.request.urlopen(f"{self.query_url}/-/ready", timeout=5) as response:
            if response.status != 200:
                raise StandinError(f"/-/ready answered {response.status}")
        query = urllib.parse.urlencode({"query": "vector(1)"})
        with urllib.request.urlopen(f"{self.query_url}/api/v1/query?{query}", timeout=5) as response:
            body = json.loads(response.read())
        if body.get("status") != "success" or not body.get("data", {}).get("result"):
            raise StandinError(f"query vector(1) answered {str(body)[:300]}")
        return True

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def remove(self) -> None:
        self.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.remove()
