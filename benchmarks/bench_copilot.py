"""Copilot goals: one health state-machine evaluation (<= 10 us CPU) and GET /status p99 under 50
concurrent requests against the PostgreSQL state store (<= 25 ms). Starts its own PostgreSQL."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid

from benchmarks._table import BenchRow

__all__ = ["run"]


STATE_MACHINE_GOAL_US = 10.0


def _state_machine_row() -> BenchRow:
    from temporal_dsql_copilot.health import MachineState, ScaleBand, evaluate
    from temporal_dsql_copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot, WorkerSignals

    snapshots = [
        SignalSnapshot(observed_at="2026-11-22T12:00:00Z",
                       primary=PrimarySignals(state_transitions_per_sec=st, history_tasks_per_sec=st,
                                              backlog_age_sec=backlog, workflow_completions_per_sec=20,
                                              workflow_failures_per_sec=1),
                       amplifiers=AmplifierSignals(persistence_latency_p99_ms=p99, occ_conflicts_per_sec=3,
                                                   pool_utilization=0.5, frontend_latency_p99_ms=200),
                       worker=WorkerSignals(workflow_slots_available=10, workflow_schedule_to_start_p99_ms=20))
        for st, backlog, p99 in ((120, 2, 20), (120, 90, 400), (1, 400, 900), (800, 5, 50))
    ]
    state = MachineState(band=ScaleBand.MID)
    rounds, blocks = 2000, 7
    for snapshot in snapshots * 50:  # warm-up
        state = evaluate(state, snapshot).current
    cpus, walls = [], []
    for _ in range(blocks):  # the median block: a neighbour's burst spoils a block, not the figure
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            for snapshot in snapshots:
                state = evaluate(state, snapshot).current
        n = rounds * len(snapshots)
        walls.append((time.perf_counter() - wall) / n * 1e6)
        cpus.append((time.process_time() - cpu) / n * 1e6)
    cpu_us, wall_us = statistics.median(cpus), statistics.median(walls)
    ok = cpu_us <= STATE_MACHINE_GOAL_US
    # The goal is judged on CPU time: on a shared 2-core box wall time mostly measures the neighbours.
    return BenchRow("state machine", f"{cpu_us:.1f} us CPU", f"<= {STATE_MACHINE_GOAL_US:g} us", ok,
                    "" if ok else f"min {min(cpus):.1f} us",
                    f"state machine: temporal_dsql_copilot.health.evaluate() over 4 snapshots that move between states, "
                    f"{blocks} blocks of {rounds * len(snapshots)} evaluations after a warm-up; CPU time per "
                    f"evaluation, median block (fastest {min(cpus):.1f} us; wall {wall_us:.1f} us).")


CONCURRENCY = 50


async def _keep_alive_client(port: int, path: str, requests: int, into: list[float]) -> None:
    """One HTTP/1.1 keep-alive connection sending ``requests`` GETs back to back.

    Deliberately minimal (no HTTP library): client and server share the machine's two cores, and
    an httpx client spends more CPU per request than the server does, so it would measure itself.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    try:
        for _ in range(requests):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            into.append(time.perf_counter() - started)
            assert head.startswith(b"HTTP/1.1 200"), head
    finally:
        writer.close()


async def _closed_loop(port: int, path: str, requests: int, into: list[float]) -> None:
    """CONCURRENCY connections, each with one request in flight at a time."""
    await asyncio.gather(*(_keep_alive_client(port, path, requests, into) for _ in range(CONCURRENCY)))


async def _status_p99(dsn_parts: dict[str, object]) -> tuple[float, float]:
    import httpx
    from whenever import Instant, TimeDelta

    from temporal_dsql_copilot.assessment import (
        AssessmentContext,
        AssessmentTrigger,
        finalize_assessment,
        rule_based_explanation,
    )
    from temporal_dsql_copilot.health import (
        MachineState,
        ScaleBand,
        assess_workers,
        evaluate,
        service_health,
        thresholds_for,
    )
    from temporal_dsql_copilot.settings import CopilotSettings
    from temporal_dsql_copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot
    from temporal_dsql_copilot.store import StateStore, StoredSnapshot

    settings = CopilotSettings(**dsn_parts, cluster_id=f"bench-{uuid.uuid4().hex[:6]}")  # type: ignore[arg-type]
    store = await StateStore.connect(settings, max_size=20)
    await store.setup_schema()
    state = MachineState(band=ScaleBand.MID)
    start = Instant.now() - TimeDelta(hours=2)
    for cycle in range(240):  # two hours of 30 s cycles, with an assessment on every change
        snap = SignalSnapshot(observed_at=(start + TimeDelta(seconds=30 * cycle)).format_iso(),
                              primary=PrimarySignals(state_transitions_per_sec=120, history_tasks_per_sec=120,
                                                     backlog_age_sec=90 if (cycle // 20) % 2 else 2,
                                                     workflow_completions_per_sec=10, workflow_failures_per_sec=0),
                              amplifiers=AmplifierSignals(persistence_latency_p99_ms=40))
        ev = evaluate(state, snap)
        workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
        services = service_health(ev, workers)
        await store.save_snapshot(StoredSnapshot(cluster_id=store.cluster_id, workflow_id="bench", cycle=cycle,
                                                 health_state=ev.state, band=ev.current.band.value, snapshot=snap,
                                                 transition=ev.transition, services=services))
        if ev.transition is not None:
            ctx = AssessmentContext(trigger=AssessmentTrigger.STATE_CHANGE, evaluation=ev, workers=workers,
                                    services=services, snapshot=snap)
            await store.save_assessment(finalize_assessment(ctx, rule_based_explanation(ctx), workflow_id="bench",
                                                            sequence=cycle, assessed_at=snap.observed_at,
                                                            explained_by="rules"))
        state = ev.current
    await store.close()

    # The API as it is served locally: uvicorn (httptools, uvloop) in its own process, 50
    # concurrent keep-alive connections. On Lambda each concurrent request has its own instance.
    import os
    import subprocess
    import sys

    from temporal_dsql_standins import free_port, wait_for_port
    from temporal_dsql_standins._process import stop_pid

    port = free_port()
    env = {**os.environ, "COPILOT_DSQL_ENDPOINT": settings.dsql_endpoint, "COPILOT_DSQL_PORT": str(settings.dsql_port),
           "COPILOT_DSQL_USER": settings.dsql_user, "COPILOT_DSQL_DATABASE": settings.dsql_database,
           "COPILOT_DSQL_PASSWORD": settings.dsql_password.get_secret_value() if settings.dsql_password else "",
           "COPILOT_CLUSTER_ID": settings.cluster_id, "PROFILES_AMP_SIGV4": "false"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "temporal_dsql_copilot.api.app:create_app",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                               "--no-access-log"], env=env)
    latencies: list[float] = []
    floor: list[float] = []
    try:
        wait_for_port(port, timeout=60, process=server, what="status API")  # type: ignore[arg-type]
        for _ in range(2):  # warm-up: connections, the store pool, the cache
            await _closed_loop(port, "/status", 3, [])
        await _closed_loop(port, "/status", 40, latencies)
        await _closed_loop(port, "/health", 40, floor)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert not (await client.get("/status")).json()["degraded"]
    finally:
        stop_pid(server.pid)
    return (statistics.quantiles(latencies, n=100)[98] * 1000, statistics.quantiles(floor, n=100)[98] * 1000)


def _status_row() -> BenchRow:
    from temporal_dsql_standins import PostgresServer

    server = PostgresServer().start()
    try:
        p99, floor = asyncio.run(_status_p99({"dsql_endpoint": server.host, "dsql_port": server.port,
                                       "dsql_user": server.user, "dsql_database": server.database,
                                       "dsql_password": server.password}))
    finally:
        server.stop()
    # The floor is GET /health on the same server: what uvicorn + FastAPI alone cost at 50 concurrent.
    return BenchRow("GET /status p99", f"{p99:.1f} ms", "<= 25 ms", p99 <= 25,
                    "" if p99 <= 25 else f"/health floor {floor:.0f} ms",
                    "GET /status p99: 50 concurrent keep-alive connections against uvicorn serving the app, "
                    f"PostgreSQL state store; the floor is GET /health on the same server ({floor:.1f} ms), what "
                    "uvicorn + FastAPI alone cost at that concurrency on this machine.")


def run() -> list[BenchRow]:
    return [_state_machine_row(), _status_row()]
