"""Drift against a real baseline profile (profile store on the stand-ins) and recommend-config."""

from __future__ import annotations

import uuid

from whenever import TimeDelta

from temporal_dsql_copilot.loop import DriftInput, ProfileBaselineDrift
from temporal_dsql_copilot.loop.recommend import recommend_config
from temporal_dsql_copilot.metrics import collect_signals
from temporal_dsql_profiles.models import CreateProfileRequest
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.telemetry import PrometheusClient
from temporal_dsql_standins.scenarios import ScenarioPrometheus


async def test_drift_against_the_active_baseline(copilot_profile_service: ProfileService,
                                                 prometheus_with_scenarios: ScenarioPrometheus) -> None:
    cluster = f"drift-{uuid.uuid4().hex[:6]}"
    healthy = prometheus_with_scenarios.windows["healthy-150wps"]
    overload = prometheus_with_scenarios.windows["overloaded-400wps"]
    store = copilot_profile_service.store
    checker = ProfileBaselineDrift(store=store)
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as prom:
        overload_now = await collect_signals(prom, overload.start + (overload.end - overload.start) * 0.8)
        healthy_now = await collect_signals(prom, healthy.start + (healthy.end - healthy.start) * 0.5)

    empty = await checker(DriftInput(cluster_id=cluster, namespace=None, snapshot=overload_now))
    assert empty.baseline_id is None and empty.drift == []  # no baseline yet

    baseline = await copilot_profile_service.create(CreateProfileRequest(
        name="golden", cluster_id=cluster, time_window_start=healthy.start + TimeDelta(minutes=10),
        time_window_end=healthy.end - TimeDelta(minutes=10)))
    await store.set_baseline(baseline.id)

    report = await checker(DriftInput(cluster_id=cluster, namespace=None, snapshot=overload_now))
    assert report.baseline_id == baseline.id
    regressed = {d.metric_id for d in report.drift if d.regressed}
    assert {"errors.occ_conflicts_per_sec", "latency.persistence_latency_p99", "matching.backlog_age"} <= regressed
    calm = await checker(DriftInput(cluster_id=cluster, namespace=None, snapshot=healthy_now))
    assert not [d for d in calm.drift if d.regressed and d.metric_id.startswith("errors.")]


async def test_recommend_config_for_a_healthy_starter_profile(copilot_profile_service: ProfileService,
                                                              prometheus_with_scenarios: ScenarioPrometheus) -> None:
    healthy = prometheus_with_scenarios.windows["healthy-150wps"]
    meta = await copilot_profile_service.create(CreateProfileRequest(
        name="steady", cluster_id=f"rec-{uuid.uuid4().hex[:6]}", time_window_start=healthy.start + TimeDelta(minutes=10),
        time_window_end=healthy.end - TimeDelta(minutes=10)))
    profile = await copilot_profile_service.store.get(meta.id)
    rec = recommend_config(profile, preset_name="starter")
    # ~450 state transitions/s is far beyond starter (< 50) and inside mid-scale's 50-500 band:
    # move up one preset, with the throughput as evidence.
    assert rec.recommended_preset == "mid-scale"
    assert rec.evidence[0].metric.startswith("throughput.state_transitions_per_sec")
    assert rec.compiles and not rec.rejected
