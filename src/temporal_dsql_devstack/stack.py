"""The local stack: every stand-in `copilot dev up` starts, as real processes, and how to stop them.

Order (dependencies first): PostgreSQL (store for profiles and the copilot), moto (S3 for profile
documents), Prometheus loaded with a synthetic Temporal cluster's telemetry, a Temporal dev server
for the copilot, the API (uvicorn over ``temporal_dsql_copilot.api.app:create_app``) and the copilot worker.
Processes run in their own sessions so they outlive the CLI; their PIDs go to the state file and
`down` stops exactly those, in reverse order.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from whenever import Instant, TimeDelta

from temporal_dsql_devstack.errors import DevStackError
from temporal_dsql_devstack.state import ServiceRecord, StackState
from temporal_dsql_devstack.telemetry import LOG_GROUP, log_events, write_slot_block_series
from temporal_dsql_standins._process import (
    ManagedProcess,
    StandinError,
    free_port,
    pid_alive,
    port_open,
    stop_pid,
    wait_until,
)

if TYPE_CHECKING:
    from temporal_dsql_standins.prometheus import PrometheusServer

__all__ = [
    "API_MODULE",
    "PROFILE_BUCKET",
    "SERVICE_ORDER",
    "WORKER_MODULE",
    "DevStack",
    "StartReport",
    "TelemetryPlan",
    "load_synthetic_cluster",
    "service_env",
]

SERVICE_ORDER: tuple[str, ...] = ("postgres", "moto", "prometheus", "temporal", "api", "worker")
_INDEPENDENT = ("postgres", "moto", "prometheus", "temporal")
API_MODULE = "temporal_dsql_copilot.api.app"
WORKER_MODULE = "temporal_dsql_copilot.workflows.worker"
PROFILE_BUCKET = "temporal-dsql-profiles-local"
CLUSTER_ID = "local-dev"
COPILOT_TASK_QUEUE = "copilot-task-queue"
NAMESPACE = "default"
TASK_QUEUE = "default-tq"


@dataclass(frozen=True)
class TelemetryPlan:
    """The synthetic cluster's history: healthy first, then an overload that lasts into the future
    so the stack keeps showing live data for ``live_for`` after `up`."""

    healthy: tuple[Instant, Instant]
    overloaded: tuple[Instant, Instant]

    @classmethod
    def around(cls, now: Instant, live_for: TimeDelta = TimeDelta(minutes=30)) -> TelemetryPlan:
        # The overloaded scenario's 10-minute lead-in must not overlap the healthy window.
        return cls(healthy=(now - TimeDelta(minutes=135), now - TimeDelta(minutes=75)),
                   overloaded=(now - TimeDelta(minutes=60), now + live_for))


def load_synthetic_cluster(server: PrometheusServer, plan: TelemetryPlan) -> None:
    """Backfill the synthetic cluster (scenario series plus slot blocks) into a stopped Prometheus."""
    from temporal_dsql_standins.scenarios import ScenarioWindow, get_scenario, load_into_prometheus

    windows = [ScenarioWindow(get_scenario("healthy-150wps"), *plan.healthy, seed=1),
               ScenarioWindow(get_scenario("overloaded-400wps"), *plan.overloaded, seed=2)]
    # The series carry the copilot's cluster id as their `cluster` label, as a deployed collector
    # labels them, so the dashboards' Cluster selector lists it.
    load_into_prometheus(server, windows, namespace=NAMESPACE, task_queue=TASK_QUEUE, cluster=CLUSTER_ID)
    assert server.workdir is not None
    for index, window in enumerate(windows):
        path = write_slot_block_series(window.scenario, window.start, window.end,
                                       server.workdir / f"slot-blocks-{index}.om", cluster=CLUSTER_ID)
        server.backfill(path)
        path.unlink()


@dataclass
class StartReport:
    started: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    """Services whose code is not in this tree."""
    failed: dict[str, str] = field(default_factory=dict)
    """Services that are in the tree but did not come up (the others still run)."""


def _now_iso() -> str:
    return Instant.now().format_iso()


def _module_available(module: str) -> bool:
    """Whether ``module`` exists, without importing it or its parents (temporal_dsql_copilot.workflows pulls in
    temporalio and pydantic-ai, seconds of import time)."""
    from importlib.machinery import PathFinder

    path: list[str] | None = None
    spec = None
    for part in module.split("."):
        spec = PathFinder.find_spec(part, path)
        if spec is None:
            return False
        path = list(spec.submodule_search_locations or [])
    return spec is not None


@dataclass
class DevStack:
    """Starts and stops the local stack recorded under ``state_dir``."""

    state_dir: Path
    progress: Callable[[str], None] = lambda message: None
    telemetry_live_for: TimeDelta = field(default_factory=lambda: TimeDelta(minutes=30))
    allowed_origins: tuple[str, ...] = ()
    """Extra browser origins the API accepts (CORS), besides Grafana on :3000."""
    _fresh_ports: set[str] = field(default_factory=set, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def state(self) -> StackState:
        return StackState.load(self.state_dir)

    def _dir(self, name: str) -> Path:
        path = self.state_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ------------------------------------------------------------------ up
    def up(self, services: tuple[str, ...] = SERVICE_ORDER) -> StartReport:
        """Start what is not running; keep what is (idempotent). Returns what happened."""
        unknown = set(services) - set(SERVICE_ORDER)
        if unknown:
            raise DevStackError(f"unknown service(s) {sorted(unknown)}", field="service",
                                allowed=list(SERVICE_ORDER), suggestion="Name services as `copilot dev ps` lists them.")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.state_dir.chmod(0o755)  # PostgreSQL runs as `postgres` and must reach its data dir
        state = self.state
        report = StartReport()
        starters: dict[str, Callable[[StackState], ServiceRecord]] = {
            "postgres": self._start_postgres, "moto": self._start_moto, "prometheus": self._start_prometheus,
            "temporal": self._start_temporal, "api": self._start_api, "worker": self._start_worker,
        }

        def bring_up(name: str) -> None:
            record = state.services.get(name)
            if record is not None and record.alive():
                report.kept.append(name)
                self.progress(f"{name}: already running (pid {record.pids[0]}, {record.url})")
                return
            if record is not None:
                self._stop_record(record)  # half-dead leftovers: stop what is left of it
                del state.services[name]
            self.progress(f"{name}: starting")
            try:
                new = self._start_with_port_retry(name, starters[name], state)
            except _Unavailable as missing:
                report.unavailable[name] = str(missing)
                self.progress(f"{name}: NOT STARTED: {missing}")
                return
            except DevStackError as error:
                report.failed[name] = str(error)
                self.progress(f"{name}: FAILED: {error}")
                return
            with lock:
                state.services[name] = new
                state.save(self.state_dir)
                report.started.append(name)
            self.progress(f"{name}: up (pid {new.pids[0]}, {new.url})")

        lock = threading.Lock()
        futures: list[Future[None]] = []
        try:
            # The stand-ins do not depend on each other: start them side by side.
            try:
                with ThreadPoolExecutor(max_workers=4) as pool:
                    futures = [pool.submit(bring_up, name) for name in _INDEPENDENT if name in services]
            except BaseException:
                # Ctrl-C reaches only this thread: the workers go on starting servers. Let them
                # finish so every server they start is in the state file `down` stops from.
                wait(futures)
                raise
            for future in futures:
                future.result()  # re-raises the first failure
            for name in SERVICE_ORDER:
                if name in services and name not in _INDEPENDENT:
                    bring_up(name)
        finally:
            state.save(self.state_dir)
        return report

    # ---------------------------------------------------------------- down
    def down(self, *, purge: bool = False) -> list[str]:
        """Stop every recorded process, newest service first; ``purge`` also deletes the data."""
        state = self.state
        stopped = []
        for name in reversed(SERVICE_ORDER):
            record = state.services.pop(name, None)
            if record is None:
                continue
            self.progress(f"{name}: stopping pid {', '.join(map(str, record.pids))}")
            self._stop_record(record)
            stopped.append(name)
            state.save(self.state_dir)
        state.env.clear()
        state.save(self.state_dir)
        if purge:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        return stopped

    @staticmethod
    def _stop_record(record: ServiceRecord) -> None:
        first, *rest = record.pids
        if record.stop_signal != "SIGTERM" and pid_alive(first):
            with contextlib.suppress(ProcessLookupError):
                os.kill(first, getattr(signal, record.stop_signal))
            deadline = time.monotonic() + 15
            while pid_alive(first) and time.monotonic() < deadline:
                time.sleep(0.05)
        for pid in (first, *rest):
            stop_pid(pid)

    # ----------------------------------------------------------- services
    def _start_postgres(self, state: StackState) -> ServiceRecord:
        from temporal_dsql_standins.postgres import PostgresServer

        workdir = self._dir("postgres")
        server = PostgresServer(workdir=workdir, port=self._port(state, "postgres"))
        server.start()
        postmaster = _read_postmaster_pid(workdir) or server.pid
        assert server.pid is not None
        pids = [postmaster] if postmaster == server.pid else [postmaster, server.pid]
        state.env.update({
            "COPILOT_DEV_POSTGRES_DSN": server.dsn,
            "PGHOST": server.host, "PGPORT": str(server.port),
        })
        return ServiceRecord(name="postgres", pids=pids, port=server.port, url=server.dsn,
                             log_file=str(workdir / "postgres.log"), workdir=str(workdir),
                             started_at=_now_iso(), stop_signal="SIGINT")

    def _start_moto(self, state: StackState) -> ServiceRecord:
        from temporal_dsql_standins.moto import MotoServer

        workdir = self._dir("moto")
        server = MotoServer(port=self._port(state, "moto"), workdir=workdir).start()
        _create_bucket(server.endpoint_url, PROFILE_BUCKET)
        _seed_logs(server.endpoint_url, TelemetryPlan.around(Instant.now(), self.telemetry_live_for))
        state.env.update({"COPILOT_DEV_S3_ENDPOINT": server.endpoint_url, "COPILOT_DEV_BUCKET": PROFILE_BUCKET})
        return ServiceRecord(name="moto", pids=[server.pid], port=server.port, url=server.endpoint_url,
                             log_file=str(workdir / "moto.log"), workdir=str(workdir), started_at=_now_iso())

    def _start_prometheus(self, state: StackState) -> ServiceRecord:
        from temporal_dsql_standins.prometheus import PrometheusServer

        workdir = self._dir("prometheus")
        shutil.rmtree(workdir / "data", ignore_errors=True)  # telemetry is relative to now: regenerate it
        server = PrometheusServer(workdir=workdir, port=self._port(state, "prometheus"))
        plan = TelemetryPlan.around(Instant.now(), self.telemetry_live_for)
        self.progress("prometheus: backfilling healthy-150wps and overloaded-400wps telemetry")
        load_synthetic_cluster(server, plan)
        server.start()
        state.env.update({
            "COPILOT_DEV_PROMETHEUS_URL": server.query_url,
            "COPILOT_DEV_HEALTHY_WINDOW": f"{plan.healthy[0].format_iso()}/{plan.healthy[1].format_iso()}",
            "COPILOT_DEV_OVERLOADED_WINDOW": f"{plan.overloaded[0].format_iso()}/{Instant.now().format_iso()}",
        })
        return ServiceRecord(name="prometheus", pids=[server.pid], port=server.port, url=server.query_url,
                             log_file=str(workdir / "prometheus.log"), workdir=str(workdir), started_at=_now_iso())

    def _start_temporal(self, state: StackState) -> ServiceRecord:
        from temporal_dsql_standins.temporal import TemporalDevServer

        workdir = self._dir("temporal")
        server = TemporalDevServer(workdir=workdir, port=self._port(state, "temporal")).start()
        assert server.process is not None
        state.env.update({"COPILOT_TEMPORAL_ADDRESS": server.address})
        return ServiceRecord(name="temporal", pids=[server.process.pid], port=server.port, url=server.address,
                             log_file=str(server.process.log_file), workdir=str(workdir), started_at=_now_iso())

    def _start_api(self, state: StackState) -> ServiceRecord:
        if not _module_available(API_MODULE):
            raise _Unavailable(f"{API_MODULE} is not in this tree yet (the profile/status API)")
        workdir = self._dir("api")
        port = self._port(state, "api")
        origins = ["http://localhost:3000", "http://127.0.0.1:3000", *self.allowed_origins]
        state.env["COPILOT_DEV_ALLOWED_ORIGINS"] = ",".join(origins)
        process = ManagedProcess(
            name="api", port=port, log_file=workdir / "api.log",
            argv=[sys.executable, "-m", "uvicorn", f"{API_MODULE}:create_app", "--factory",
                  "--host", "127.0.0.1", "--port", str(port),
                  # info: the access log (one line per request) and the error log both go to api.log,
                  # which `copilot dev logs -f api` follows.
                  "--log-level", "info"],
            env=service_env(state),
        )
        try:
            process.start(ready_timeout=60)
        except BaseException:  # Ctrl-C while waiting: do not leave an unrecorded process behind
            process.stop()
            raise
        url = f"http://127.0.0.1:{port}"
        state.env["COPILOT_DEV_API_URL"] = url
        return ServiceRecord(name="api", pids=[process.pid], port=port, url=url,
                             log_file=str(process.log_file), workdir=str(workdir), started_at=_now_iso())

    def _start_worker(self, state: StackState) -> ServiceRecord:
        if not _module_available(WORKER_MODULE):
            raise _Unavailable(f"{WORKER_MODULE} is not in this tree yet (the copilot worker)")
        workdir = self._dir("worker")
        log_file = workdir / "worker.log"
        with log_file.open("ab") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", WORKER_MODULE], stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env={**os.environ, **service_env(state)}, start_new_session=True,
            )
        # The worker has no port: it is up once it polls its task queue on the Temporal server.
        try:
            wait_until(lambda: popen.poll() is not None or _has_pollers(state), timeout=90,
                       what="copilot worker polling its task queue")
        except StandinError as error:
            stop_pid(popen.pid)
            raise DevStackError(f"{error}; worker log: {log_file}", field="worker") from error
        except BaseException:  # Ctrl-C while waiting: leave no unrecorded process behind
            stop_pid(popen.pid)
            raise
        if popen.poll() is not None:
            tail = log_file.read_text(errors="replace").splitlines()[-15:]
            raise DevStackError(f"the copilot worker exited with code {popen.returncode}:\n" + "\n".join(tail),
                                field="worker", suggestion=f"See {log_file}.")
        url = f"{COPILOT_TASK_QUEUE} on {state.env.get('COPILOT_TEMPORAL_ADDRESS')}"
        return ServiceRecord(name="worker", pids=[popen.pid], port=0, url=url,
                             log_file=str(log_file), workdir=str(workdir), started_at=_now_iso())

    def _start_with_port_retry(self, name: str, starter: Callable[[StackState], ServiceRecord],
                               state: StackState) -> ServiceRecord:
        """A free port can be taken by another process between choosing and binding it (tests
        run side by side): start again on a fresh port when that is why the start failed."""
        for attempt in range(3):
            try:
                return starter(state)
            except StandinError as error:
                if attempt == 2 or "in use" not in str(error).lower():
                    raise
                self.progress(f"{name}: port taken by another process, retrying on a fresh port")
                with self._lock:
                    self._fresh_ports.add(name)
        raise AssertionError("unreachable")

    def _port(self, state: StackState, name: str) -> int:
        """Reuse the port a service had before (clients keep working) when it is still free."""
        previous = self.state.services.get(name)
        if (name not in self._fresh_ports and previous is not None and previous.port
                and not port_open(previous.port)):
            return previous.port
        return free_port()

    # ------------------------------------------------------------- helpers
    def iter_logs(self, name: str | None = None) -> Iterator[tuple[str, Path]]:
        for service in SERVICE_ORDER:
            record = self.state.services.get(service)
            if record is not None and (name is None or name == service):
                yield service, Path(record.log_file)


class _Unavailable(Exception):
    """A service whose code is not in this tree: reported, never faked."""


def _has_pollers(state: StackState) -> bool:
    """Whether a worker polls the copilot task queue (``temporal task-queue describe``)."""
    from temporal_dsql_standins.temporal import temporal_binary

    result = subprocess.run(  # fixed argv
        [str(temporal_binary()), "task-queue", "describe", "--task-queue", COPILOT_TASK_QUEUE,
         "--address", state.env.get("COPILOT_TEMPORAL_ADDRESS", ""), "-o", "json"],
        capture_output=True, text=True, timeout=20)
    if result.returncode != 0:
        return False
    with contextlib.suppress(ValueError):
        return bool(json.loads(result.stdout).get("pollers"))
    return False


def _read_postmaster_pid(workdir: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((workdir / "data" / "postmaster.pid").read_text().splitlines()[0])
    return None


def _create_bucket(endpoint_url: str, bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=bucket)


def _seed_logs(endpoint_url: str, plan: TelemetryPlan) -> None:
    """CloudWatch Logs (moto) get the synthetic cluster's log lines, one stream per service."""
    import boto3

    from temporal_dsql_standins.scenarios import get_scenario

    client = boto3.client("logs", endpoint_url=endpoint_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_group(logGroupName=LOG_GROUP)
    per_service: dict[str, list[tuple[int, str]]] = {}
    for name, window in (("healthy-150wps", plan.healthy), ("overloaded-400wps", plan.overloaded)):
        for service, events in log_events(get_scenario(name), *window).items():
            per_service.setdefault(service, []).extend(events)
    for service, events in per_service.items():
        stream = f"temporal/{service}/local-1"
        with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
            client.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        events.sort()
        for index in range(0, len(events), 5000):
            batch = events[index:index + 5000]
            client.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                                  logEvents=[{"timestamp": ts, "message": message} for ts, message in batch])


def service_env(state: StackState) -> dict[str, str]:
    """Environment for the API and the worker: the stack's endpoints under the settings' names."""
    env = dict(state.env)
    dsn_port = env.get("PGPORT", "5432")
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "COPILOT_DSQL_ENDPOINT": "127.0.0.1", "COPILOT_DSQL_PORT": dsn_port,
        "COPILOT_DSQL_PASSWORD": "localpw", "COPILOT_DSQL_USER": "admin", "COPILOT_DSQL_DATABASE": "postgres",
        "COPILOT_AMP_QUERY_URL": env.get("COPILOT_DEV_PROMETHEUS_URL", ""), "COPILOT_AMP_SIGV4": "false",
        "COPILOT_CLUSTER_ID": CLUSTER_ID, "COPILOT_MONITORED_NAMESPACE": NAMESPACE,
        "COPILOT_BEDROCK_ENABLED": "false", "COPILOT_PRESET_NAME": "mid-scale",
        "COPILOT_OBSERVE_INTERVAL_SECONDS": "5", "COPILOT_TEMPORAL_TASK_QUEUE": COPILOT_TASK_QUEUE,
        # Narrative signals from the synthetic cluster's logs in moto's CloudWatch Logs.
        "COPILOT_LOG_SOURCE": "cloudwatch", "COPILOT_CLOUDWATCH_LOG_GROUP": LOG_GROUP,
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": env.get("COPILOT_DEV_S3_ENDPOINT", ""),
        # temporal_dsql_profiles.settings.ProfileSettings
        "PROFILES_BUCKET": env.get("COPILOT_DEV_BUCKET", PROFILE_BUCKET),
        "PROFILES_S3_ENDPOINT_URL": env.get("COPILOT_DEV_S3_ENDPOINT", ""),
        "PROFILES_REGION": "us-east-1",
        "PROFILES_DATABASE_DSN": env.get("COPILOT_DEV_POSTGRES_DSN", ""),
        "PROFILES_AMP_QUERY_URL": env.get("COPILOT_DEV_PROMETHEUS_URL", ""),
        "PROFILES_AMP_SIGV4": "false",
        "PROFILES_AUTH_MODE": "iam",
        "PROFILES_CLUSTER_ID": CLUSTER_ID,
        # Grafana on its default port (plus DevStack.allowed_origins).
        "PROFILES_ALLOWED_ORIGINS": env.get("COPILOT_DEV_ALLOWED_ORIGINS", "http://localhost:3000,http://127.0.0.1:3000"),
    })
    return env
