"""Telemetry collection against the real Prometheus stand-in (AMP URL shape, SigV4-signed)."""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest
from whenever import Instant, TimeDelta

from temporal_dsql_core.metric_catalog import CATALOG, iter_queries
from temporal_dsql_profiles.errors import TelemetryUnavailable
from temporal_dsql_profiles.models import TelemetrySummary
from temporal_dsql_profiles.telemetry import (
    BATCH_LABEL,
    PrometheusClient,
    aggregate,
    choose_step,
    collect_telemetry,
)
from temporal_dsql_standins import PrometheusServer, ScenarioPrometheus


async def test_healthy_window_matches_the_scenario_levels(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    window = prometheus_with_scenarios.windows["healthy-150wps"]
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=True) as client:
        summary = await collect_telemetry(client, window.start, window.end, namespace="default")
    started = summary.throughput.workflows_started_per_sec
    assert started is not None and 140 < started.mean < 160
    conflicts = summary.errors.occ_conflicts_per_sec
    assert conflicts is not None and 0.4 < conflicts.mean < 0.6
    assert summary.matching.sync_match_rate is not None and summary.matching.sync_match_rate.mean > 95
    assert summary.resources.cpu_utilization.history is not None
    # Auth failures are exported as a zero-rate counter: that is data (0), not missing.
    assert summary.errors.dsql_auth_failures is not None and summary.errors.dsql_auth_failures.max == 0
    assert summary.missing == []
    assert summary.step_seconds == 60


async def test_overload_shows_conflicts_drained_reservoir_and_slow_schedule_to_start(
        prometheus_with_scenarios: ScenarioPrometheus) -> None:
    healthy, overloaded = (prometheus_with_scenarios.windows[n] for n in ("healthy-150wps", "overloaded-400wps"))
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as client:
        a = await collect_telemetry(client, healthy.start, healthy.end)
        b = await collect_telemetry(client, overloaded.start, overloaded.end)
    for key in ("errors.occ_conflicts_per_sec", "latency.workflow_schedule_to_start_p99",
                "dsql_pool.reservoir_empty_events"):
        old, new = a.get(key), b.get(key)
        assert old is not None and new is not None and new.max > 10 * max(old.max, 0.01), key
    reservoir = b.get("dsql_pool.reservoir_size")
    assert reservoir is not None and reservoir.min < 0.1 * reservoir.max


async def test_a_window_without_data_is_missing_never_zero(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    start = prometheus_with_scenarios.windows["healthy-150wps"].start - TimeDelta(hours=10)
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as client:
        summary = await collect_telemetry(client, start, start + TimeDelta(hours=1))
    keys = TelemetrySummary.metric_keys()
    assert sorted(m.metric for m in summary.missing) == sorted(keys)
    assert all(summary.get(k) is None for k in keys)
    assert all("no series" in m.reason for m in summary.missing)


async def test_namespace_scope_filters_series(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    window = prometheus_with_scenarios.windows["healthy-150wps"]
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as client:
        summary = await collect_telemetry(client, window.start, window.end, namespace="no-such-namespace")
    missing = {m.metric for m in summary.missing}
    scoped = {k for k, m in CATALOG.items() if m.namespace_scoped}
    assert scoped <= missing
    # Cluster-wide plugin metrics are not namespace-scoped and still have data.
    assert summary.errors.occ_conflicts_per_sec is not None


async def test_queries_are_sigv4_signed_for_aps(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request)

    http = httpx.AsyncClient(event_hooks={"request": [record]})
    client = PrometheusClient(prometheus_with_scenarios.query_url, region="eu-west-1", sigv4=True, client=http)
    try:
        await client.query("sum(dsql_pool_open)")
    finally:
        await http.aclose()
    auth = seen[0].headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/eu-west-1/aps/aws4_request" in auth
    assert "x-amz-date" in seen[0].headers


async def test_concurrency_is_bounded_and_faster_than_serial(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    in_flight = peak = 0

    async def start(_request: httpx.Request) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)

    async def end(_response: httpx.Response) -> None:
        nonlocal in_flight
        in_flight -= 1

    http = httpx.AsyncClient(event_hooks={"request": [start], "response": [end]})
    window = prometheus_with_scenarios.windows["overloaded-400wps"]
    client = PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False, concurrency=3, client=http)
    try:
        queries = [q.promql for q in iter_queries()]
        results = await client.query_many(queries, window.start, window.end, TimeDelta(seconds=60))
    finally:
        await http.aclose()
    assert len(results) == len(queries)
    assert 1 < peak <= 3


async def test_prometheus_down_is_telemetry_unavailable() -> None:
    server = PrometheusServer()
    server.start()
    url = server.query_url
    server.remove()
    async with PrometheusClient(url, sigv4=False, timeout=2) as client:
        with pytest.raises(TelemetryUnavailable) as info:
            await collect_telemetry(client, Instant.now() - TimeDelta(hours=1), Instant.now())
    assert info.value.extensions["upstream"] == url


async def test_bad_promql_is_an_upstream_error_with_details(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as client:
        with pytest.raises(TelemetryUnavailable) as info:
            await client.query("sum(rate(")
    assert info.value.extensions["upstream_status"] == 400


def test_aggregate_ignores_nan_and_handles_single_values() -> None:
    assert aggregate([]) is None
    assert aggregate([math.nan, math.inf]) is None
    one = aggregate([3.0, math.nan])
    assert one is not None and one.min == one.max == one.p99 == one.mean == 3.0
    agg = aggregate([float(i) for i in range(1, 101)])
    assert agg is not None and agg.p50 == pytest.approx(50.5) and agg.p99 == pytest.approx(99.01)


def test_step_targets_720_points_and_respects_the_point_limit() -> None:
    start = Instant.from_utc(2026, 1, 1)
    assert choose_step(start, start + TimeDelta(hours=2), TimeDelta(seconds=60)) == TimeDelta(seconds=60)
    assert choose_step(start, start + TimeDelta(hours=24), TimeDelta(seconds=60)) == TimeDelta(seconds=120)
    assert choose_step(start, start + TimeDelta(hours=24), TimeDelta(seconds=1),
                       target_points=100_000) == TimeDelta(seconds=8)  # Prometheus' 11,000-point limit


async def test_client_is_reusable_across_event_loop_tasks(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as client:
        first, second = await asyncio.gather(client.query("sum(dsql_pool_max_open)"),
                                             client.query("sum(dsql_pool_max_open)"))
    assert first[0][1].value == second[0][1].value
    assert 180 < first[0][1].value < 220  # 4 services x 50 connections, with scenario jitter


async def test_batched_queries_return_exactly_what_one_query_per_request_returns(
        prometheus_with_scenarios: ScenarioPrometheus) -> None:
    """Several catalog queries per request (tagged with BATCH_LABEL, joined by ``or``) give each
    query the same series, labels and samples as sending it alone; the tag never leaks out."""
    requests = 0

    async def count(_request: httpx.Request) -> None:
        nonlocal requests
        requests += 1

    http = httpx.AsyncClient(event_hooks={"request": [count]})
    window = prometheus_with_scenarios.windows["overloaded-400wps"]
    queries = [q.promql for q in iter_queries(namespace="default")]
    alone = PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False, batch=1, concurrency=4)
    batched = PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False, batch=5, concurrency=4, client=http)
    try:
        expected = await alone.query_many(queries, window.start, window.end, TimeDelta(seconds=60))
        got = await batched.query_many(queries, window.start, window.end, TimeDelta(seconds=60))
    finally:
        await alone.aclose()
        await http.aclose()
    assert requests == math.ceil(len(queries) / 5)
    key = lambda s: sorted(s.labels.items())  # noqa: E731
    assert [sorted(r, key=key) for r in got] == [sorted(r, key=key) for r in expected]
    assert any(r for r in got)
    assert not any(BATCH_LABEL in s.labels for r in got for s in r)


async def test_a_bad_query_in_a_batch_is_reported_alone(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    window = prometheus_with_scenarios.windows["overloaded-400wps"]
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False, batch=3) as client:
        with pytest.raises(TelemetryUnavailable) as info:
            await client.query_many(["sum(dsql_pool_open)", "sum(rate(", "sum(dsql_pool_idle)"], window.start, window.end, TimeDelta(seconds=60))
    assert info.value.extensions["upstream_status"] in (400, 422)
    assert info.value.extensions["query"] == "sum(rate("  # not the whole batch


async def test_loopback_answers_are_uncompressed_and_remote_ones_compressed(
        prometheus_with_scenarios: ScenarioPrometheus) -> None:
    """On loopback gzip only costs CPU on both ends: the client asks for identity and Prometheus
    answers plain; an AMP workspace (a network away) keeps compressed answers."""
    asked: list[str | None] = []
    encodings: list[str | None] = []

    async def request(req: httpx.Request) -> None:
        asked.append(req.headers.get("accept-encoding"))

    async def response(resp: httpx.Response) -> None:
        encodings.append(resp.headers.get("content-encoding"))

    http = httpx.AsyncClient(event_hooks={"request": [request], "response": [response]})
    window = prometheus_with_scenarios.windows["healthy-150wps"]
    client = PrometheusClient(prometheus_with_scenarios.query_url, sigv4=True, client=http)
    try:
        await client.query_many([q.promql for q in iter_queries()][:4], window.start, window.end,
                                TimeDelta(seconds=60))
    finally:
        await http.aclose()
    assert asked and all(a == "identity" for a in asked)
    assert encodings and all(e is None for e in encodings)
    assert PrometheusClient("https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1").compress
    assert not PrometheusClient("http://localhost:9090").compress
    assert PrometheusClient("http://127.0.0.1:9090", compress=True).compress


async def test_profile_aggregates_are_those_of_the_decoded_series(prometheus_with_scenarios: ScenarioPrometheus) -> None:
    """collect_telemetry reads the values straight from Prometheus' answer (no Sample objects);
    each aggregate equals aggregate() over the samples query_range decodes for that query."""
    window = prometheus_with_scenarios.windows["overloaded-400wps"]
    step = choose_step(window.start, window.end, TimeDelta(seconds=60))
    queries = list(iter_queries())
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as client:
        summary = await collect_telemetry(client, window.start, window.end)
        for query in queries:
            series = await client.query_range(query.promql, window.start, window.end, step)
            assert summary.get(query.key) == aggregate(s.value for one in series for s in one.samples), query.key
    assert sum(summary.get(q.key) is not None for q in queries) > len(queries) // 2
