"""The status API (mounted in the one FastAPI app) over the PostgreSQL state store."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from pydantic import SecretStr
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.api.app import build_profile_service, create_app
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
from temporal_dsql_copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot, WorkerSignals
from temporal_dsql_copilot.status import StateStoreProvider
from temporal_dsql_copilot.store import StateStore, StoredSnapshot
from temporal_dsql_profiles.models import CreateProfileRequest
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_standins import ScenarioPrometheus, free_port

T0 = Instant.now() - TimeDelta(minutes=10)


async def _observe(store: StateStore, series: list[tuple[float, float, float]]) -> None:
    """Run the state machine over (st/s, backlog s, persistence p99 ms) and store like the workflow does."""
    state = MachineState(band=ScaleBand.MID)
    workflow_id = f"wf-{uuid.uuid4()}"
    for cycle, (st, backlog, p99) in enumerate(series):
        snap = SignalSnapshot(observed_at=(T0 + TimeDelta(seconds=30 * cycle)).format_iso(),
                              primary=PrimarySignals(state_transitions_per_sec=st, history_tasks_per_sec=st,
                                                     backlog_age_sec=backlog, workflow_completions_per_sec=10,
                                                     workflow_failures_per_sec=0),
                              amplifiers=AmplifierSignals(persistence_latency_p99_ms=p99),
                              # The workers run out of slots with the pressure (a worker amplifier, R14.6).
                              worker=WorkerSignals(workflow_slots_available=0 if p99 > 100 else 10))
        ev = evaluate(state, snap)
        workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
        services = service_health(ev, workers)
        await store.save_snapshot(StoredSnapshot(cluster_id=store.cluster_id, workflow_id=workflow_id, cycle=cycle,
                                                 health_state=ev.state, band=ev.current.band.value, snapshot=snap,
                                                 transition=ev.transition, services=services))
        if ev.transition is not None:
            ctx = AssessmentContext(trigger=AssessmentTrigger.STATE_CHANGE, evaluation=ev, workers=workers,
                                    services=services, snapshot=snap)
            await store.save_assessment(finalize_assessment(ctx, rule_based_explanation(ctx), workflow_id=workflow_id,
                                                            sequence=cycle, assessed_at=snap.observed_at,
                                                            explained_by="rules"))
        state = ev.current


async def test_status_endpoints_serve_the_state_machine(status_client: httpx.AsyncClient,
                                                        cluster_store: StateStore) -> None:
    empty = (await status_client.get("/status")).json()
    assert empty["health_state"] == "unknown" and not empty["degraded"]

    await _observe(cluster_store, [(120, 2, 20), (120, 2, 900), (120, 2, 900)])
    status = (await status_client.get("/status", headers={"origin": "http://grafana.local"}))
    assert status.headers["access-control-allow-origin"] == "http://grafana.local"
    body = status.json()
    assert body["health_state"] == "stressed" and body["band"] == "mid-scale"  # named as the deployment names it
    assert body["primary_signals"]["state_transitions_per_sec"] == 120
    assert body["amplifiers"]["persistence_latency_p99_ms"] == 900
    assert body["recommended_actions"] and 0 < body["recommended_actions"][0]["confidence"] <= 1
    assert body["issue_count"] >= 1

    services = {s["service"]: s["state"] for s in (await status_client.get("/status/services")).json()["services"]}
    assert services["persistence"] == "stressed" and services["history"] == "happy"
    assert services["worker"] == "stressed"  # zero free slots: worker-limited

    issues = (await status_client.get("/status/issues", params={"severity": "warning"})).json()["issues"]
    assert {i["issue"]["title"] for i in issues} == {"DSQL persistence slow", "workers cannot keep up"}
    bad = await status_client.get("/status/issues", params={"severity": "fatal"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["field"] == "severity" and "severity" in bad.json()["detail"]

    summary = (await status_client.get("/status/summary")).json()
    assert summary["health_state"] == "stressed" and "persistence" in summary["summary"]

    start_ms = int((T0 - TimeDelta(minutes=1)).timestamp(unit="millisecond"))
    timeline = (await status_client.get("/status/timeline", params={"start": start_ms})).json()
    assert [(e["from_state"], e["health_state"]) for e in timeline["entries"]] == [("happy", "stressed")]
    reversed_range = await status_client.get("/status/timeline", params={"start": Instant.now().format_iso(),
                                                                         "end": T0.format_iso()})
    assert reversed_range.status_code in (400, 422)
    assert reversed_range.headers["content-type"].startswith("application/problem+json")

    action = await status_client.post("/actions", json={"action": "scale history"})
    assert action.status_code == 501 and action.json()["status"] == 501
    assert (await status_client.get("/health")).json() == {"status": "ok"}


async def test_degraded_when_the_store_is_down(copilot_settings: CopilotSettings,
                                               copilot_profile_service: ProfileService) -> None:
    dead = copilot_settings.model_copy(update={"dsql_port": free_port()})
    app = create_app(ProfileSettings(), profile_service=copilot_profile_service,
                     status_store=StateStoreProvider(dead))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        for path in ("/status", "/status/services", "/status/issues", "/status/summary", "/status/timeline"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert response.json()["degraded"] is True, path
        assert (await client.get("/status")).json()["health_state"] == "unknown"


async def test_copilot_endpoints_answer_503_problems_when_a_store_is_down(
        copilot_settings: CopilotSettings, copilot_profile_settings: ProfileSettings,
        copilot_profile_service: ProfileService, cluster_store: StateStore) -> None:
    """/copilot/* compute on request: an unreachable store is a 503 RFC 7807 problem, never a 500."""
    dead_port = free_port()
    dead_copilot = copilot_settings.model_copy(update={"dsql_port": dead_port})
    app = create_app(ProfileSettings(), profile_service=copilot_profile_service,
                     status_store=StateStoreProvider(dead_copilot))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        response = await client.get("/copilot/drift")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 503 and problem["title"] == "Copilot state store unavailable"
    assert problem["store"] == "copilot_state_store" and "COPILOT_DSQL_ENDPOINT" in problem["suggestion"]
    assert "ConnectionRefusedError" not in response.text and problem["correlation_id"] in problem["detail"]
    assert response.headers["retry-after"] == "5"

    # The behaviour-profile store down (the copilot store up, with a snapshot to compare).
    await _observe(cluster_store, [(120, 2, 20)])
    assert copilot_profile_settings.database_dsn is not None
    dsn = copilot_profile_settings.database_dsn.get_secret_value()
    host_port = dsn.split("@", 1)[1].split("/", 1)[0]
    dead_profiles = build_profile_service(copilot_profile_settings.model_copy(update={
        "database_dsn": SecretStr(dsn.replace(host_port, f"127.0.0.1:{dead_port}")),
        "db_connect_timeout_seconds": 2.0}))
    app = create_app(ProfileSettings(), profile_service=dead_profiles,
                     status_store=StateStoreProvider(copilot_settings, store=cluster_store))
    profile_id = str(uuid.uuid4())
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            responses = {
                "drift": await client.get("/copilot/drift"),
                "conformance": await client.post("/copilot/conformance",
                                                 json={"profile_id": profile_id, "preset_name": "mid-scale"}),
                "recommend-config": await client.post("/copilot/recommend-config",
                                                      json={"profile_id": profile_id, "preset_name": "mid-scale"}),
            }
    finally:
        await dead_profiles.store.close()
        await dead_profiles.telemetry.aclose()
    for name, answer in responses.items():
        assert answer.status_code == 503, (name, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json"), name
        assert answer.json()["status"] == 503, name


async def test_conformance_and_recommend_config_endpoints(status_client: httpx.AsyncClient,
                                                          copilot_profile_service: ProfileService,
                                                          prometheus_with_scenarios: ScenarioPrometheus) -> None:
    window = prometheus_with_scenarios.windows["overloaded-400wps"]
    meta = await copilot_profile_service.create(CreateProfileRequest(
        name="overload", cluster_id="copilot-test", time_window_start=window.start + TimeDelta(minutes=30),
        time_window_end=window.end - TimeDelta(minutes=5)))
    report = (await status_client.post("/copilot/conformance",
                                       json={"profile_id": meta.id, "preset_name": "mid-scale"})).json()
    assert report["label"] == "drifted"
    failed = {m["metric"] for m in report["metrics"] if not m["passed"]}
    assert "errors.occ_conflicts_per_sec" in failed and "throughput.state_transitions_per_sec" in failed
    unknown = await status_client.post("/copilot/conformance", json={"profile_id": meta.id, "preset_name": "huge"})
    assert unknown.status_code in (400, 422) and "mid-scale" in unknown.text

    rec = (await status_client.post("/copilot/recommend-config",
                                    json={"profile_id": meta.id, "preset_name": "mid-scale"})).json()
    assert rec["recommended_preset"] == "high-throughput"  # ~4800 st/s is far beyond mid-scale's band
    assert rec["evidence"] and rec["compiles"]
    assert rec["summary"].startswith("For profile 'overload'")


async def test_status_answers_many_concurrent_requests(status_client: httpx.AsyncClient,
                                                       cluster_store: StateStore) -> None:
    await _observe(cluster_store, [(120, 2, 20), (120, 2, 20)])
    started = time.perf_counter()
    responses = await asyncio.gather(*(status_client.get("/status") for _ in range(50)))
    assert [r.json()["health_state"] for r in responses] == ["happy"] * 50, responses[0].json()
    assert time.perf_counter() - started < 30  # a sanity bound; the speed goal lives in benchmarks/


async def test_status_cache_is_single_flight_and_expires(copilot_settings: CopilotSettings,
                                                          copilot_profile_service: ProfileService,
                                                          cluster_store: StateStore) -> None:
    reads = 0
    real_latest = cluster_store.latest_snapshot

    class CountingStore(StateStore):
        async def latest_snapshot(self):  # type: ignore[no-untyped-def]
            nonlocal reads
            reads += 1
            return await real_latest()

    store = CountingStore(pool=cluster_store.pool, cluster_id=cluster_store.cluster_id)
    provider = StateStoreProvider(copilot_settings.model_copy(update={"api_cache_seconds": 0.5}), store=store)
    app = create_app(ProfileSettings(), profile_service=copilot_profile_service, status_store=provider)
    await _observe(cluster_store, [(120, 2, 20)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        first = await asyncio.gather(*(client.get("/status") for _ in range(20)))
        assert {r.json()["health_state"] for r in first} == {"happy"} and reads == 1
        await _observe(cluster_store, [(120, 2, 20), (120, 2, 900)])
        assert (await client.get("/status")).json()["health_state"] == "happy"  # still cached
        await asyncio.sleep(0.6)
        assert (await client.get("/status")).json()["health_state"] == "stressed" and reads == 2
