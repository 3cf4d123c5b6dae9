"""Item 3, copilot side: a Temporal server restart in the middle of the observe loop.

A Temporal dev server of its own (SQLite file, so a restart keeps the histories) is stopped by
its PID while the observe loop is running and started again on the same port and file. The
worker and the client reconnect by themselves; the loop carries on from the cycle it was in:
every cycle 1..N is stored exactly once (none duplicated, none lost) except the one in flight at the
restart, whose signal collection may time out and which the loop then skips by design (logged,
counted as "skipped in flight"), and the run completes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import pytest
from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from reliability_results import ReliabilityRow, budget  # type: ignore[import-not-found]
from temporalio.client import Client
from whenever import Instant, TimeDelta

from copilot_snapshots import stressed_mid_snapshot  # type: ignore[import-not-found]
from temporal_dsql_copilot.health import HealthState, MachineState, ScaleBand
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.store import StateStore
from temporal_dsql_copilot.workflows import (
    CopilotActivities,
    ObserveClusterWorkflow,
    ObserveConfig,
    ObserveInput,
)
from temporal_dsql_copilot.workflows.worker import build_worker
from temporal_dsql_profiles.telemetry import PrometheusClient
from temporal_dsql_standins import PostgresServer, ScenarioPrometheus, TemporalDevServer

pytestmark = pytest.mark.standins


async def _status_cycle(client: Client, workflow_id: str) -> int:
    status = await client.get_workflow_handle(workflow_id).query(ObserveClusterWorkflow.status)
    return int(status.cycle)


async def _own_cluster_store(postgres_server: PostgresServer, prefix: str) -> tuple[CopilotSettings, StateStore]:
    """Settings and a schema-ready state store for a cluster id of this test's own (``prefix-xxxxxx``)."""
    settings = CopilotSettings(dsql_endpoint=postgres_server.host, dsql_port=postgres_server.port,
                               dsql_user=postgres_server.user, dsql_database=postgres_server.database,
                               dsql_password=postgres_server.password,  # type: ignore[arg-type]
                               cluster_id=f"{prefix}-{uuid.uuid4().hex[:6]}")
    store = await StateStore.connect(settings)
    await store.setup_schema()
    return settings, store


async def test_temporal_restart_mid_observe_loop(postgres_server: PostgresServer,
                                                 prometheus_with_scenarios: ScenarioPrometheus,
                                                 reliability: ReliabilityRow) -> None:
    cycles = budget(ci=8, full=20)
    reliability.test = "fault: Temporal restart mid observe loop"
    reliability.faults = "Temporal dev server stopped by PID, restarted"
    server = TemporalDevServer().start()
    _settings, store = await _own_cluster_store(postgres_server, "restart")
    queue, workflow_id = f"copilot-{uuid.uuid4()}", f"observe-{uuid.uuid4()}"
    request = ObserveInput(config=ObserveConfig(cluster_id=store.cluster_id, interval_seconds=0.5,
                                                dedupe_window_seconds=60.0),
                           machine=MachineState(state=HealthState.HAPPY, band=ScaleBand.MID), max_cycles=cycles)
    try:
        client = await Client.connect(server.address, plugins=[PydanticAIPlugin()])
        async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as prom, \
                build_worker(client, CopilotActivities(metrics=prom, store=store), task_queue=queue):
            handle = await client.start_workflow(ObserveClusterWorkflow.run, request, id=workflow_id,
                                                 task_queue=queue)
            deadline = time.monotonic() + 60
            while await _status_cycle(client, workflow_id) < 3:
                assert time.monotonic() < deadline, "the loop never reached cycle 3"
                await asyncio.sleep(0.1)
            restarted_at = await _status_cycle(client, workflow_id)
            reliability.notes["restarted at cycle"] = restarted_at
            server.stop()  # by PID, mid-loop
            await asyncio.sleep(2)
            server = TemporalDevServer(workdir=server.workdir, port=server.port).start()
            status = await asyncio.wait_for(handle.result(), timeout=180)

        rows = await store.pool.fetch(
            "SELECT cycle FROM copilot_signal_snapshots WHERE workflow_id = $1 ORDER BY cycle", workflow_id)
        stored = [int(r["cycle"]) for r in rows]
        duplicated = sum(n - 1 for n in Counter(stored).values() if n > 1)
        missing = sorted(set(range(1, cycles + 1)) - set(stored))
        # The cycle in flight when the server died may have its signal collection time out (the
        # completion could not be reported): the loop logs it and moves on to the next interval by
        # design, so it has no snapshot. Any other missing cycle is lost.
        in_flight = {restarted_at, restarted_at + 1}
        lost = [c for c in missing if c not in in_flight]
        reliability.load = f"{cycles} observe cycles"
        reliability.lost, reliability.duplicated = len(lost), duplicated
        reliability.notes.update({"cycles stored": len(stored), "final cycle": status.cycle,
                                  "skipped in flight": len(missing) - len(lost)})
        assert status.cycle == cycles and not lost and duplicated == 0, f"lost cycles {lost}, stored {stored}"
        assert len(missing) <= 1 and stored[-1] == cycles  # the loop resumed and ran to its last cycle
    finally:
        await store.close()
        server.stop()


async def test_bedrock_down_falls_back_to_rules(postgres_server: PostgresServer,
                                                prometheus_with_scenarios: ScenarioPrometheus,
                                                reliability: ReliabilityRow, monkeypatch: pytest.MonkeyPatch) -> None:
    """The explainer's real Bedrock model (pydantic-ai's Bedrock provider over boto3) with the
    bedrock-runtime endpoint refusing connections: the assessment is still produced and stored,
    by the rules, within its budget, with the failure on record."""
    from temporal_dsql_copilot.assessment import AssessmentTrigger
    from temporal_dsql_copilot.assessment.agent import register_bedrock_model, unregister_model
    from temporal_dsql_copilot.health import assess_workers, evaluate, thresholds_for
    from temporal_dsql_copilot.workflows import AssessHealthWorkflow, AssessInput
    from temporal_dsql_standins import free_port

    reliability.test = "fault: Bedrock down"
    reliability.faults = "bedrock-runtime connections refused"
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{free_port()}")
    server = TemporalDevServer().start()
    settings, store = await _own_cluster_store(postgres_server, "bedrock")
    snap = stressed_mid_snapshot()
    ev = evaluate(MachineState(band=ScaleBand.MID), snap)
    queue = f"copilot-{uuid.uuid4()}"
    assessments = budget(ci=1, full=3)
    # What the worker's entry point does when COPILOT_BEDROCK_ENABLED (temporal_dsql_copilot.workflows.worker).
    register_bedrock_model(settings.bedrock_model_id, region="us-east-1")
    try:
        client = await Client.connect(server.address, plugins=[PydanticAIPlugin()])
        async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as prom, \
                build_worker(client, CopilotActivities(metrics=prom, store=store), task_queue=queue):
            results = []
            for sequence in range(1, assessments + 1):
                request = AssessInput(
                    trigger=AssessmentTrigger.STATE_CHANGE, workflow_id=f"wf-{uuid.uuid4()}", sequence=sequence,
                    cluster_id=store.cluster_id, evaluation=ev, snapshot=snap, model_id=settings.bedrock_model_id,
                    workers=assess_workers(ev.state, snap, thresholds_for(ev.current.band)), timeout_seconds=10.0)
                began = time.monotonic()
                results.append((await client.execute_workflow(AssessHealthWorkflow.run, request,
                                                              id=f"assess-{uuid.uuid4()}", task_queue=queue),
                                time.monotonic() - began))
        stored = await store.assessments_between(Instant.now() - TimeDelta(hours=1), Instant.now())
        reliability.load = f"{assessments} assessments with the Bedrock model"
        reliability.lost = len({a.id for a, _ in results} - {a.id for a in stored})
        reliability.notes["answer"] = f"rules in {max(t for _, t in results):.1f}s"
        for assessment, elapsed in results:
            assert assessment.explained_by == "rules" and assessment.explanation_error, assessment
            # Refused by the endpoint, not failed before reaching it (e.g. in the workflow sandbox).
            assert "Could not connect to the endpoint URL" in assessment.explanation_error, assessment
            assert assessment.suggested_actions and elapsed < 15
        assert reliability.lost == 0
    finally:
        unregister_model(settings.bedrock_model_id)
        await store.close()
        server.stop()
