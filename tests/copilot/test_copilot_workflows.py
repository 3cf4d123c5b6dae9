"""The copilot's workflows on a real Temporal dev server, with real AMP (Prometheus) and store (PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from pydantic_ai.messages import ModelMessage, ModelResponse, RetryPromptPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from whenever import Instant, TimeDelta

from copilot_snapshots import stressed_mid_snapshot  # type: ignore[import-not-found]
from temporal_dsql_copilot.assessment import AssessmentTrigger, HealthAssessment
from temporal_dsql_copilot.assessment.agent import register_model, unregister_model
from temporal_dsql_copilot.health import (
    HealthState,
    MachineState,
    ScaleBand,
    assess_workers,
    evaluate,
    thresholds_for,
)
from temporal_dsql_copilot.knowledge.base import KnowledgeChunk
from temporal_dsql_copilot.narrative import LokiLogSource
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.store import StateStore, StoredSnapshot
from temporal_dsql_copilot.workflows import (
    AssessHealthWorkflow,
    AssessInput,
    CopilotActivities,
    ObserveClusterWorkflow,
    ObserveConfig,
    ObserveInput,
    ObserveStatus,
    RetentionWorkflow,
    SetThresholdsInput,
)
from temporal_dsql_copilot.workflows.inputs import PruneInput, RequestAssessmentInput
from temporal_dsql_copilot.workflows.worker import (
    WORKFLOWS,
    build_worker,
    ensure_schedules,
    start_observe,
    workflow_runner,
)
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.storage import ProfileStore
from temporal_dsql_profiles.telemetry import PrometheusClient
from temporal_dsql_standins import free_port, temporal_binary
from temporal_dsql_standins.scenarios import ScenarioPrometheus

pytestmark = pytest.mark.standins


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_binary()),
                                                plugins=[PydanticAIPlugin()])
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def prom_client(prometheus_with_scenarios: ScenarioPrometheus) -> AsyncIterator[PrometheusClient]:
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as client:
        yield client


def _offset_into(prom: ScenarioPrometheus, name: str, fraction: float) -> float:
    window = prom.windows[name]
    at = window.start + (window.end - window.start) * fraction
    return (Instant.now() - at).total("seconds")


async def _wait_status(handle: WorkflowHandle[ObserveClusterWorkflow, ObserveStatus],
                       ready: Callable[[ObserveStatus], bool], timeout: float = 30.0) -> ObserveStatus:
    for _ in range(int(timeout / 0.05)):
        status = await handle.query(ObserveClusterWorkflow.status)
        if ready(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"status never became ready: {status}")


def _config(store: StateStore, **kw: object) -> ObserveConfig:
    base: dict[str, object] = {"cluster_id": store.cluster_id, "interval_seconds": 0.2, "dedupe_window_seconds": 60.0}
    return ObserveConfig.model_validate({**base, **kw})


async def test_observe_loop_decides_from_amp_and_stores(temporal_env: WorkflowEnvironment, prom_client: PrometheusClient,
                                                       prometheus_with_scenarios: ScenarioPrometheus,
                                                       cluster_store: StateStore) -> None:
    client: Client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    activities = CopilotActivities(metrics=prom_client, store=cluster_store)
    offset = _offset_into(prometheus_with_scenarios, "overloaded-400wps", 0.9)
    request = ObserveInput(config=_config(cluster_store, replay_offset_seconds=offset), max_cycles=3,
                           machine=MachineState(band=ScaleBand.HIGH))
    workflow_id = f"observe-{uuid.uuid4()}"
    async with build_worker(client, activities, task_queue=queue):
        status = await client.execute_workflow(ObserveClusterWorkflow.run, request, id=workflow_id, task_queue=queue)
    assert status.cycle == 3 and status.state is HealthState.STRESSED
    # Deterministic: the recorded history replays without a non-determinism error.
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    await Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner(),
                   plugins=[PydanticAIPlugin()]).replay_workflow(history)
    assert status.sequence == 1  # one state-change assessment (Happy -> Stressed), none while it stays Stressed
    counts = await cluster_store.table_counts()
    assert counts["copilot_signal_snapshots"] >= 3
    latest = await cluster_store.latest_assessment()
    assert latest is not None and latest.trigger is AssessmentTrigger.STATE_CHANGE
    assert latest.health_state is HealthState.STRESSED and latest.explained_by == "rules"
    assert latest.transition is not None and latest.transition.signals
    assert latest.signals.primary.state_transitions_per_sec and latest.signals.primary.state_transitions_per_sec > 0


async def test_runtime_control_signals_updates_queries(temporal_env: WorkflowEnvironment, prom_client: PrometheusClient,
                                                        prometheus_with_scenarios: ScenarioPrometheus,
                                                        cluster_store: StateStore) -> None:
    client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    offset = _offset_into(prometheus_with_scenarios, "healthy-150wps", 0.5)
    request = ObserveInput(config=_config(cluster_store, replay_offset_seconds=offset, interval_seconds=0.3))
    async with build_worker(client, CopilotActivities(metrics=prom_client, store=cluster_store), task_queue=queue):
        handle = await client.start_workflow(ObserveClusterWorkflow.run, request, id=f"observe-{uuid.uuid4()}",
                                             task_queue=queue)
        try:
            status = await _wait_status(handle, lambda s: s.cycle >= 2)
            assert status.state is HealthState.HAPPY

            await handle.signal(ObserveClusterWorkflow.pause)
            paused_at = (await _wait_status(handle, lambda s: s.paused and not s.cycling)).cycle
            with pytest.raises(WorkflowUpdateFailedError):
                await handle.execute_update(ObserveClusterWorkflow.set_thresholds,
                                            SetThresholdsInput(overrides={"no_such_threshold": 1.0}))
            # Tighten persistence latency so the healthy scenario reads as pressure.
            applied = await handle.execute_update(
                ObserveClusterWorkflow.set_thresholds,
                SetThresholdsInput(overrides={"stressed_persistence_latency_p99_ms": 1.0}))
            assert applied == {"stressed_persistence_latency_p99_ms": 1.0}
            assert (await handle.query(ObserveClusterWorkflow.status)).state is HealthState.HAPPY

            # While paused a forced assessment still runs one cycle, under the new thresholds.
            await handle.signal(ObserveClusterWorkflow.request_assessment, RequestAssessmentInput())
            status = await _wait_status(handle, lambda s: s.last_assessment_at is not None)
            assert status.paused and status.state is HealthState.STRESSED
            assert status.cycle <= paused_at + 2
            latest = await cluster_store.latest_assessment()
            assert latest is not None and latest.trigger is AssessmentTrigger.FORCED
            assert "DSQL persistence slow" in {i.title for i in latest.issues}
        finally:
            await handle.terminate()


async def test_continue_as_new_bounds_history(temporal_env: WorkflowEnvironment, prom_client: PrometheusClient,
                                              prometheus_with_scenarios: ScenarioPrometheus,
                                              cluster_store: StateStore) -> None:
    client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    offset = _offset_into(prometheus_with_scenarios, "healthy-150wps", 0.5)
    request = ObserveInput(config=_config(cluster_store, replay_offset_seconds=offset, interval_seconds=0.05,
                                          continue_as_new_after_cycles=2), max_cycles=5)
    workflow_id = f"observe-{uuid.uuid4()}"
    async with build_worker(client, CopilotActivities(metrics=prom_client, store=cluster_store), task_queue=queue):
        handle = await client.start_workflow(ObserveClusterWorkflow.run, request, id=workflow_id, task_queue=queue)
        status = await handle.result()
    assert status.cycle == 5 and status.run_cycles <= 2  # the carried count survives each new run
    runs = [w async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(runs) >= 3


SECRET = "AKIAIOSFODNN7EXAMPLE"


class RunbookRetriever:
    """A KnowledgeRetriever over two in-memory runbooks (word overlap), one leaking a credential."""

    docs = [
        KnowledgeChunk(source="runbooks/persistence.md", text="Slow DSQL persistence: raise the pool size. "
                       f"Old note: aws_access_key_id={SECRET}"),
        KnowledgeChunk(source="runbooks/workers.md", text="Worker slots exhausted: never scale workers down."),
    ]

    async def retrieve(self, query: str, top_k: int = 5) -> list[KnowledgeChunk]:
        words = set(query.lower().split())
        ranked = sorted(self.docs, key=lambda d: -len(words & set(d.text.lower().split())))
        return ranked[:top_k]


def _explainer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    prompt = str(messages[-1].parts[-1].content)  # type: ignore[union-attr]
    assert "Decided health state: STRESSED" in prompt
    assert "Knowledge base context" in prompt and "runbooks/persistence.md" in prompt
    assert SECRET not in prompt  # Requirement 4.9, end to end through the durable agent
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {
        "summary": "History is falling behind because DSQL persistence is slow.",
        "factors": [{"rank": 1, "title": "persistence latency", "detail": "p99 far above the band limit"}],
        "suggested_actions": [
            {"action_type": "scale", "target_service": "worker", "description": "remove idle workers",
             "parameters": {"direction": "down"}, "risk": "low", "confidence": 0.4},
            {"action_type": "scale", "target_service": "history", "description": "add history hosts",
             "parameters": {"direction": "up", "delta": 2}, "risk": "medium", "confidence": 0.8},
        ],
    })])


def _failing(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    raise ConnectionError("bedrock unreachable")


async def _slow(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    await asyncio.sleep(20)
    raise AssertionError("the deadline should have cut this model call short")


def _assess_input(store: StateStore, model_id: str | None, **kw: object) -> AssessInput:
    snap = stressed_mid_snapshot()
    ev = evaluate(MachineState(band=ScaleBand.MID), snap)
    workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
    return AssessInput(trigger=AssessmentTrigger.STATE_CHANGE, workflow_id=f"wf-{uuid.uuid4()}", sequence=1,
                       cluster_id=store.cluster_id, evaluation=ev, workers=workers, snapshot=snap, model_id=model_id,
                       **kw)  # type: ignore[arg-type]


async def test_assessment_explained_by_durable_agent_with_rules_guarding(
        temporal_env: WorkflowEnvironment, prom_client: PrometheusClient, cluster_store: StateStore) -> None:
    client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    register_model("test:explainer", FunctionModel(_explainer))
    register_model("test:down", FunctionModel(_failing))
    register_model("test:slow", FunctionModel(_slow))
    activities = CopilotActivities(metrics=prom_client, store=cluster_store, retriever=RunbookRetriever())
    try:
        async with build_worker(client, activities, task_queue=queue):
            llm: HealthAssessment = await client.execute_workflow(
                AssessHealthWorkflow.run, _assess_input(cluster_store, "test:explainer", use_knowledge=True),
                id=f"assess-{uuid.uuid4()}", task_queue=queue)
            started = time.monotonic()
            late: HealthAssessment = await client.execute_workflow(
                AssessHealthWorkflow.run, _assess_input(cluster_store, "test:slow", timeout_seconds=5.0),
                id=f"assess-{uuid.uuid4()}", task_queue=queue)
            late_elapsed = time.monotonic() - started
            fallback: HealthAssessment = await client.execute_workflow(
                AssessHealthWorkflow.run, _assess_input(cluster_store, "test:down"),
                id=f"assess-{uuid.uuid4()}", task_queue=queue)
    finally:
        unregister_model("test:explainer")
        unregister_model("test:down")
        unregister_model("test:slow")
    assert llm.explained_by == "llm" and llm.summary.startswith("History is falling behind")
    assert llm.health_state is HealthState.STRESSED  # the rules' state, whatever the model says
    # Zero free slots: the model's worker scale-down is removed, its history scale-up kept.
    assert [a.target_service for a in llm.suggested_actions] == ["history"]
    assert fallback.explained_by == "rules" and fallback.explanation_error
    assert "bedrock unreachable" in fallback.explanation_error and fallback.suggested_actions
    # The 30 s budget (5 s here) holds even when the model hangs: rules answer in time.
    assert late.explained_by == "rules" and "Timeout" in (late.explanation_error or "") and late_elapsed < 8
    stored = await cluster_store.assessments_between(Instant.now() - TimeDelta(hours=1), Instant.now())
    assert {a.id for a in stored} >= {llm.id, fallback.id}


def _tool_user(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Asks for a signal's trend and the runbooks first, then explains from what the tools returned."""
    assert {t.name for t in info.function_tools} >= {"signal_history", "search_runbooks"}
    calls = sum(isinstance(m, ModelResponse) for m in messages)
    answers = [p for p in messages[-1].parts if isinstance(p, ToolReturnPart | RetryPromptPart)]
    if calls == 0:
        return ModelResponse(parts=[ToolCallPart("signal_history", {"name": "no_such_signal"})])
    if calls == 1:
        # The unknown name is answered with the allowed signal names, not a crash.
        first = answers[0]
        text = first.model_response_str() if isinstance(first, ToolReturnPart) else first.model_response()
        assert "Unknown signal 'no_such_signal'" in text and "persistence_latency_p99_ms" in text
        return ModelResponse(parts=[
            ToolCallPart("signal_history", {"name": "persistence_latency_p99_ms"}),
            ToolCallPart("search_runbooks", {"query": "slow DSQL persistence pool size"})])
    returns = {p.tool_name: json.loads(p.model_response_str()) for p in answers if isinstance(p, ToolReturnPart)}
    assert SECRET not in "".join(str(p) for m in messages for p in m.parts)  # runbook text is redacted
    trend = [point["value"] for point in returns["signal_history"]["points"]]
    sources = [hit["source"] for hit in returns["search_runbooks"]]
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {
        "summary": f"Persistence p99 rose over the window ({trend}); see {sources[0]}.",
        "factors": [{"rank": 1, "title": "persistence latency", "detail": f"trend {trend}"}],
        "suggested_actions": [{"action_type": "configure", "target_service": "history",
                               "description": f"raise the pool size ({sources[0]})", "parameters": {},
                               "risk": "low", "confidence": 0.7}],
    })])


async def test_explainer_tools_run_as_activities_and_reach_the_explanation(
        temporal_env: WorkflowEnvironment, prom_client: PrometheusClient, cluster_store: StateStore) -> None:
    """signal_history reads the window the assessment was given; search_runbooks the worker's retriever."""
    from temporal_dsql_copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot

    client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    base = Instant.now() - TimeDelta(minutes=2)
    window = [SignalSnapshot(observed_at=(base + TimeDelta(seconds=30 * i)).format_iso(),
                             primary=PrimarySignals(state_transitions_per_sec=120),
                             amplifiers=AmplifierSignals(persistence_latency_p99_ms=p99))
              for i, p99 in enumerate((300.0, 600.0))]
    request = _assess_input(cluster_store, "test:tools", window=window)
    request = request.model_copy(update={"window": [*window, request.snapshot]})
    register_model("test:tools", FunctionModel(_tool_user))
    workflow_id = f"assess-{uuid.uuid4()}"
    try:
        async with build_worker(client, CopilotActivities(metrics=prom_client, store=cluster_store,
                                                          retriever=RunbookRetriever()), task_queue=queue):
            result: HealthAssessment = await client.execute_workflow(AssessHealthWorkflow.run, request,
                                                                     id=workflow_id, task_queue=queue)
    finally:
        unregister_model("test:tools")
    assert result.explained_by == "llm", result.explanation_error
    assert "[300.0, 600.0, 900.0]" in result.summary and "runbooks/persistence.md" in result.summary
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    activity_types = [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events
                      if e.HasField("activity_task_scheduled_event_attributes")]
    assert sum("call_tool" in name for name in activity_types) >= 2, activity_types  # each tool call an activity


async def test_scheduled_assessment_is_deduplicated(temporal_env: WorkflowEnvironment, prom_client: PrometheusClient,
                                                    prometheus_with_scenarios: ScenarioPrometheus,
                                                    cluster_store: StateStore, copilot_settings: CopilotSettings) -> None:
    client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    settings = copilot_settings.model_copy(update={"temporal_task_queue": queue})
    offset = _offset_into(prometheus_with_scenarios, "healthy-150wps", 0.5)
    workflow_id = f"observe-{uuid.uuid4()}"
    request = ObserveInput(config=_config(cluster_store, replay_offset_seconds=offset, interval_seconds=0.3))
    async with build_worker(client, CopilotActivities(metrics=prom_client, store=cluster_store), task_queue=queue):
        handle = await client.start_workflow(ObserveClusterWorkflow.run, request, id=workflow_id, task_queue=queue)
        prefix = f"t{uuid.uuid4().hex[:6]}-"
        schedule_ids = await ensure_schedules(client, settings, observe_workflow_id=workflow_id, prefix=prefix)
        assert await ensure_schedules(client, settings, observe_workflow_id=workflow_id, prefix=prefix) == schedule_ids
        schedule = client.get_schedule_handle(schedule_ids[0])
        try:
            await schedule.trigger()
            status = await _wait_status(handle, lambda s: s.last_assessment_at is not None)
            assert status.sequence == 1 and status.state is HealthState.HAPPY
            await schedule.trigger()  # within the dedupe window: no second LLM/assessment
            cycle = status.cycle
            status = await _wait_status(handle, lambda s: s.cycle >= cycle + 3)
            assert status.sequence == 1
            latest = await cluster_store.latest_assessment()
            assert latest is not None and latest.trigger is AssessmentTrigger.SCHEDULED
            assert latest.health_state is HealthState.HAPPY  # scheduled assessments are produced when healthy
        finally:
            for sid in schedule_ids:
                await client.get_schedule_handle(sid).delete()
            await handle.terminate()


async def test_error_logs_trigger_an_assessment_with_patterns(
        temporal_env: WorkflowEnvironment, prom_client: PrometheusClient,
        prometheus_with_scenarios: ScenarioPrometheus, cluster_store: StateStore, recorded_loki_url: str) -> None:
    client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    offset = _offset_into(prometheus_with_scenarios, "healthy-150wps", 0.5)
    request = ObserveInput(config=_config(cluster_store, replay_offset_seconds=offset, use_logs=True),
                           machine=MachineState(band=ScaleBand.HIGH), max_cycles=3)
    activities = CopilotActivities(metrics=prom_client, store=cluster_store, logs=LokiLogSource(recorded_loki_url))
    async with build_worker(client, activities, task_queue=queue):
        status = await client.execute_workflow(ObserveClusterWorkflow.run, request, id=f"observe-{uuid.uuid4()}",
                                               task_queue=queue)
    # Happy throughout (no state change), but the OCC and timeout errors in the logs asked for one
    # assessment, and the dedupe window kept the next cycles from asking again.
    assert status.state is HealthState.HAPPY and status.sequence == 1
    latest = await cluster_store.latest_assessment()
    assert latest is not None and latest.trigger is AssessmentTrigger.LOG_PATTERN
    assert {"occ_serialization_failure", "dsql_connection_timeout"} <= {p.pattern for p in latest.log_patterns}
    # Every cycle's patterns are stored with its snapshot (what /status serves), not kept in memory.
    snapshot = await cluster_store.latest_snapshot()
    assert snapshot is not None and {p.pattern for p in snapshot.snapshot.log_patterns} >= {"member_joined"}


async def test_retention_workflow_prunes(temporal_env: WorkflowEnvironment, prom_client: PrometheusClient,
                                         cluster_store: StateStore) -> None:
    client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    old = _assess_input(cluster_store, None)
    old_snapshot = old.snapshot.model_copy(update={"observed_at": (Instant.now() - TimeDelta(hours=24 * 9)).format_iso()})
    stored = StoredSnapshot(cluster_id=cluster_store.cluster_id, workflow_id="old", cycle=1,
                            health_state=HealthState.HAPPY, band="mid", snapshot=old_snapshot)
    assert await cluster_store.save_snapshot(stored)
    async with build_worker(client, CopilotActivities(metrics=prom_client, store=cluster_store), task_queue=queue):
        deleted = await client.execute_workflow(RetentionWorkflow.run, PruneInput(retention_days=7),
                                                id=f"retention-{uuid.uuid4()}", task_queue=queue)
    assert deleted["copilot_signal_snapshots"] >= 1
    remaining = await cluster_store.timeline(Instant.now() - TimeDelta(hours=24 * 10), Instant.now())
    assert all(e.at >= (Instant.now() - TimeDelta(hours=24 * 7)).format_iso() for e in remaining)


async def _pending_profile_row(store: ProfileStore, created_at: Instant) -> tuple[uuid.UUID, str]:
    """A row as a create leaves it when its compensation failed: pending, invisible, with its object."""
    pid, key = uuid.uuid4(), f"profiles/test/{uuid.uuid4()}.json"
    created_us = created_at.timestamp(unit="nanosecond") // 1000

    async def insert(conn: Any) -> None:
        await conn.execute(
            "INSERT INTO behaviour_profiles (id, name, label, cluster_id, namespace, task_queue, window_start_us, "
            "window_end_us, created_at_us, state, s3_key) "
            "VALUES ($1, 'orphan', NULL, 'sweep-test', NULL, NULL, $2, $2, $2, 'pending', $3)", pid, created_us, key)

    await store._tx(insert)
    await asyncio.to_thread(store._s3.put_object, Bucket=store.bucket, Key=key, Body=b"{}")
    return pid, key


async def _row_state(store: ProfileStore, pid: uuid.UUID) -> str | None:
    async def read(conn: Any) -> str | None:
        return await conn.fetchval("SELECT state FROM behaviour_profiles WHERE id = $1", pid)  # type: ignore[no-any-return]

    return await store._tx(read)


async def test_retention_workflow_sweeps_stale_pending_profiles(
        temporal_env: WorkflowEnvironment, prom_client: PrometheusClient, cluster_store: StateStore,
        copilot_profile_service: ProfileService) -> None:
    profiles = copilot_profile_service.store
    stale_id, stale_key = await _pending_profile_row(profiles, Instant.now() - TimeDelta(hours=1))
    # A create in flight right now is pending too: the sweep must leave it alone.
    fresh_id, fresh_key = await _pending_profile_row(profiles, Instant.now())
    client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    activities = CopilotActivities(metrics=prom_client, store=cluster_store,
                                   stale_profile_sweep=profiles.sweep_stale_pending)
    async with build_worker(client, activities, task_queue=queue):
        deleted = await client.execute_workflow(RetentionWorkflow.run, PruneInput(retention_days=7),
                                                id=f"retention-{uuid.uuid4()}", task_queue=queue)
    assert deleted["behaviour_profiles_stale"] >= 1
    assert await _row_state(profiles, stale_id) is None
    listed = await asyncio.to_thread(profiles._s3.list_objects_v2, Bucket=profiles.bucket, Prefix="profiles/test/")
    keys = {o["Key"] for o in listed.get("Contents", [])}
    assert stale_key not in keys and fresh_key in keys
    assert await _row_state(profiles, fresh_id) == "pending"


async def test_a_fresh_observe_run_resumes_the_stored_state(temporal_env: WorkflowEnvironment,
                                                             prom_client: PrometheusClient,
                                                             cluster_store: StateStore) -> None:
    """Restarted (same workflow id, new run): Critical is not forgotten, and the next cycle's
    snapshot gets a new id instead of colliding with cycle 1 of the previous run."""
    client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    workflow_id = f"observe-{uuid.uuid4()}"
    previous = _assess_input(cluster_store, None).snapshot.model_copy(
        update={"observed_at": (Instant.now() - TimeDelta(minutes=1)).format_iso()})
    assert await cluster_store.save_snapshot(StoredSnapshot(
        cluster_id=cluster_store.cluster_id, workflow_id=workflow_id, cycle=7, health_state=HealthState.CRITICAL,
        band="mid", snapshot=previous))
    # One cycle only, so the interval costs no waiting; 10 x 10 s puts a minute ago inside the window's span.
    settings = CopilotSettings(cluster_id=cluster_store.cluster_id, temporal_task_queue=queue, bedrock_enabled=False,
                               log_source="none", observe_interval_seconds=10, signal_window_size=10)
    async with build_worker(client, CopilotActivities(metrics=prom_client, store=cluster_store), task_queue=queue):
        handle = await start_observe(client, settings, workflow_id=workflow_id, max_cycles=1, store=cluster_store)
        status = await handle.result()
    # Still impaired at "now" (or no evidence): Critical holds; a fresh Happy seed could not get there.
    assert status.state is HealthState.CRITICAL and status.cycle == 8
    assert status.window_size == 2  # the stored snapshot of a minute ago, then this cycle's
    latest = await cluster_store.latest_snapshot()
    assert latest is not None and (latest.workflow_id, latest.cycle) == (workflow_id, 8)


async def test_amp_outage_holds_the_state_and_is_retried(temporal_env: WorkflowEnvironment,
                                                         cluster_store: StateStore) -> None:
    client = temporal_env.client
    queue = f"copilot-{uuid.uuid4()}"
    start = MachineState(state=HealthState.STRESSED, band=ScaleBand.MID)
    request = ObserveInput(config=_config(cluster_store, interval_seconds=0.05), machine=start, max_cycles=2)
    dead = PrometheusClient(f"http://127.0.0.1:{free_port()}", sigv4=False, timeout=1.0)
    async with dead, build_worker(client, CopilotActivities(metrics=dead, store=cluster_store), task_queue=queue):
        status = await client.execute_workflow(ObserveClusterWorkflow.run, request,
                                               id=f"observe-{uuid.uuid4()}", task_queue=queue)
    # No data is not "idle": the state is held, every cycle ran, and the failures are on record.
    assert status.cycle == 2 and status.state is HealthState.STRESSED and status.sequence == 0
    snapshot = await cluster_store.latest_snapshot()
    assert snapshot is not None and snapshot.health_state is HealthState.STRESSED
    assert "throughput.state_transitions_per_sec" in snapshot.snapshot.failed_queries
    assert snapshot.snapshot.primary.state_transitions_per_sec is None


class _BrokenMetricsClient:
    """An AMP client with a bug (not an outage): the fetch activity itself fails."""

    async def query(self, promql: str, at: Instant | None = None) -> list[tuple[dict[str, str], object]]:
        raise RuntimeError("unexpected response shape")


def _samples(text: str, name: str) -> dict[str, float]:
    """Exposition lines of one metric: labels text -> value."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, _, value = line.rpartition(" ")
            out[labels[len(name):]] = float(value)
    return out


async def test_worker_exports_the_copilots_own_metrics(
        temporal_env: WorkflowEnvironment, prom_client: PrometheusClient,
        prometheus_with_scenarios: ScenarioPrometheus, cluster_store: StateStore,
        copilot_settings: CopilotSettings, recorded_loki_url: str) -> None:
    """A worker connected through `connect(settings)` serves /metrics on COPILOT_METRICS_BIND_ADDRESS:
    health state, cycles, fetch and query failures, assessments by trigger and explainer, log patterns."""
    import httpx

    from temporal_dsql_copilot.workflows import own_metrics
    from temporal_dsql_copilot.workflows.worker import connect

    port = free_port()
    settings = copilot_settings.model_copy(update={
        "temporal_address": temporal_env.client.service_client.config.target_host,
        "metrics_bind_address": f"127.0.0.1:{port}"})
    client = await connect(settings)
    offset = _offset_into(prometheus_with_scenarios, "healthy-150wps", 0.5)
    cluster = cluster_store.cluster_id
    healthy = ObserveInput(config=_config(cluster_store, replay_offset_seconds=offset, use_logs=True),
                           machine=MachineState(band=ScaleBand.HIGH), max_cycles=2)
    healthy_queue = queue = f"copilot-{uuid.uuid4()}"
    activities = CopilotActivities(metrics=prom_client, store=cluster_store, logs=LokiLogSource(recorded_loki_url))
    async with build_worker(client, activities, task_queue=queue):
        status = await client.execute_workflow(ObserveClusterWorkflow.run, healthy, id=f"observe-{uuid.uuid4()}",
                                               task_queue=queue)
    assert status.state is HealthState.HAPPY and status.sequence == 1  # the error logs asked for one assessment
    # AMP down (queries fail, the cycle is observed) and a broken client (the fetch itself fails).
    dead = PrometheusClient(f"http://127.0.0.1:{free_port()}", sigv4=False, timeout=1.0)
    outage = ObserveInput(config=_config(cluster_store, interval_seconds=0.05), max_cycles=1,
                          machine=MachineState(state=HealthState.STRESSED, band=ScaleBand.MID))
    outage_queue = f"copilot-{uuid.uuid4()}"
    async with dead:
        for metrics in (dead, _BrokenMetricsClient()):
            queue = outage_queue if metrics is dead else f"copilot-{uuid.uuid4()}"
            async with build_worker(client, CopilotActivities(metrics=metrics, store=cluster_store), task_queue=queue):
                await client.execute_workflow(ObserveClusterWorkflow.run, outage, id=f"observe-{uuid.uuid4()}",
                                              task_queue=queue)

    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    mine = f'cluster_id="{cluster}"'

    def value(name: str, *labels: str) -> float:
        return sum(v for k, v in _samples(text, name).items() if mine in k and all(lab in k for lab in labels))

    # The SDK labels each series with the worker's task queue: Happy there, Stressed held through the outage.
    happy, stressed = (own_metrics.HEALTH_STATE_VALUES[s] for s in (HealthState.HAPPY, HealthState.STRESSED))
    assert value(own_metrics.HEALTH_STATE, f'task_queue="{healthy_queue}"') == happy
    assert value(own_metrics.HEALTH_STATE, f'task_queue="{outage_queue}"') == stressed
    assert len([k for k in _samples(text, own_metrics.HEALTH_STATE) if mine in k]) == 2
    assert value(own_metrics.OBSERVE_CYCLES, 'outcome="observed"') == 3
    assert value(own_metrics.OBSERVE_CYCLES, 'outcome="fetch_failed"') == 1
    assert value(own_metrics.SIGNAL_FETCH_FAILURES) == 1
    assert value(own_metrics.SIGNAL_QUERY_FAILURES) >= 5  # every catalog query of the outage cycle
    assert value(own_metrics.ASSESSMENTS, 'trigger="log_pattern"', 'explained_by="rules"') == 1
    assert value(own_metrics.LOG_PATTERNS, 'pattern="occ_serialization_failure"', 'service="history"') >= 1
    for name in own_metrics.METRIC_NAMES:
        assert f"# HELP {name} " in text, name
    assert "temporal_workflow_completed" in text  # the SDK's own metrics share the endpoint
