"""The /profiles API end to end over ASGI, against PostgreSQL, moto S3 and Prometheus stand-ins."""

from __future__ import annotations

import uuid

import httpx
from bp_testdata import SECRET_KEY_VALUE, SECRET_PASSWORD  # type: ignore[import-not-found]
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.api.app import create_app
from temporal_dsql_core.instants import parse_instant
from temporal_dsql_core.metric_catalog import metric_ids
from temporal_dsql_profiles.settings import ProfileSettings

PROBLEM = "application/problem+json"


def _cluster() -> str:
    return f"c-{uuid.uuid4().hex[:8]}"


async def _create(client: httpx.AsyncClient, window: tuple[Instant, Instant], **extra: object) -> dict:
    body = {"name": "p", "cluster_id": _cluster(), "time_window_start": window[0].format_iso(),
            "time_window_end": window[1].format_iso(), **extra}
    response = await client.post("/profiles/", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_get_round_trip_with_config_snapshot_and_versions(
        api_client: httpx.AsyncClient, scenario_windows: dict) -> None:
    meta = await _create(api_client, scenario_windows["healthy-150wps"], label="golden", namespace="default",
                         worker_code_sha="abc1234")
    assert set(meta) >= {"id", "name", "time_window_start", "cluster_id", "is_baseline", "created_at"}
    assert "telemetry" not in meta
    full = (await api_client.get(f"/profiles/{meta['id']}")).json()
    assert full["label"] == "golden" and full["namespace"] == "default"
    assert full["temporal_server_version"] == "1.29.1" and full["dsql_plugin_version"] == "1.29.2"
    assert full["worker_code_sha"] == "abc1234"  # the request wins over the deployed SHA
    started = full["telemetry"]["throughput"]["workflows_started_per_sec"]
    assert set(started) == {"min", "max", "mean", "p50", "p95", "p99"} and 140 < started["mean"] < 160
    snap = full["config_snapshot"]
    assert snap["sources"] == ["deployed:config/"]
    assert {"key": "history.persistenceMaxQPS", "value": 3000} in snap["dynamic_config"]
    env = {e["name"]: e for e in snap["server_env_vars"]}
    assert env["TEMPORAL_SQL_PASSWORD"]["redacted"] and env["AWS_SECRET_ACCESS_KEY"]["redacted"]
    assert env["SOME_URL"]["redacted"]
    assert env["DSQL_TOKEN_BUCKET_RATE"] == {"service": "history", "name": "DSQL_TOKEN_BUCKET_RATE",
                                             "value": "100", "redacted": False}
    assert snap["dsql_plugin_config"]["reservoir_target_ready"] == 50
    assert snap["dsql_plugin_config"]["other"] == {"reservoir_inflight_limit": 8}
    assert snap["worker_options"]["max_concurrent_activities"] == 200
    assert snap["config_profile"]["preset_name"] == "mid-scale"
    text = (await api_client.get(f"/profiles/{meta['id']}")).text
    assert SECRET_PASSWORD not in text and SECRET_KEY_VALUE not in text and "pw1234" not in text


async def test_epoch_millisecond_times_from_grafana_are_accepted(
        api_client: httpx.AsyncClient, scenario_windows: dict) -> None:
    start, end = scenario_windows["overloaded-400wps"]
    body = {"name": "from-grafana", "cluster_id": _cluster(), "time_window_start": str(start.timestamp() * 1000),
            "time_window_end": end.timestamp() * 1000, "namespace": "", "task_queue": "$__all", "label": ""}
    response = await api_client.post("/profiles/", json=body)
    assert response.status_code == 201, response.text
    meta = response.json()
    assert meta["namespace"] is None and meta["label"] is None
    assert meta["time_window_start"] == parse_instant(start.timestamp() * 1000).format_iso()
    assert meta["time_window_end"] == parse_instant(end.timestamp() * 1000).format_iso()


async def test_window_rules_are_400_problems_that_explain_the_maximum(api_client: httpx.AsyncClient) -> None:
    now = Instant.now()
    cases = {
        "longer than 24 h": (now - TimeDelta(hours=25), now, "at most 24 hours"),
        "end before start": (now - TimeDelta(hours=1), now - TimeDelta(hours=2), "must be after"),
        "in the future": (now, now + TimeDelta(hours=1), "in the future"),
    }
    for case, (start, end, phrase) in cases.items():
        response = await api_client.post("/profiles/", json={
            "name": "x", "cluster_id": "c", "time_window_start": start.format_iso(),
            "time_window_end": end.format_iso()})
        assert response.status_code == 400, case
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["status"] == 400 and phrase in problem["detail"], (case, problem)
        assert problem["field"] == "time_window_end"
    bad = await api_client.post("/profiles/", json={"name": "x", "time_window_start": "yesterday",
                                                    "time_window_end": now.format_iso(), "cluster_id": "c"})
    # Schema mismatches (as opposed to the window rules above) are 422, naming the field.
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert bad.json()["errors"][0]["field"] == "time_window_start" and "time_window_start" in bad.json()["detail"]


async def test_not_found_compare_same_id_and_bad_filters(api_client: httpx.AsyncClient, scenario_windows: dict) -> None:
    missing = str(uuid.uuid4())
    for response in (await api_client.get(f"/profiles/{missing}"), await api_client.get("/profiles/not-a-uuid"),
                     await api_client.post(f"/profiles/{missing}/baseline"),
                     await api_client.delete(f"/profiles/{missing}")):
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    meta = await _create(api_client, scenario_windows["healthy-150wps"])
    same = await api_client.post("/profiles/compare", json={"profile_a_id": meta["id"], "profile_b_id": meta["id"]})
    assert same.status_code == 400 and "two different profiles" in same.json()["detail"]
    unknown = await api_client.get("/profiles/?colour=red")
    assert unknown.status_code == 400 and "cluster" in unknown.json()["allowed"]
    bad_time = await api_client.get("/profiles/?start=tuesday")
    assert bad_time.status_code == 400 and bad_time.json()["field"] == "start"


async def test_compare_orders_the_largest_regressions_first(api_client: httpx.AsyncClient,
                                                            scenario_windows: dict) -> None:
    a = await _create(api_client, scenario_windows["healthy-150wps"], namespace="default")
    b = await _create(api_client, scenario_windows["overloaded-400wps"], namespace="default",
                      dynamic_config={"history.persistenceMaxQPS": 9000, "frontend.rps": 4000},
                      temporal_server_version="1.30.0")
    response = await api_client.post("/profiles/compare", json={"profile_a_id": a["id"], "profile_b_id": b["id"]})
    assert response.status_code == 200, response.text
    comparison = response.json()
    diffs = comparison["telemetry_diffs"]
    assert {d["metric"].split(".")[0] + "." + d["metric"].split(".")[1] for d in diffs} == set(metric_ids())
    assert diffs[0]["severity"] == "critical" and diffs[0]["direction"] == "regressed"
    ranks = [{"critical": 0, "warning": 1, "info": 2}[d["severity"]] for d in diffs]
    assert ranks == sorted(ranks)
    by_metric = {d["metric"]: d for d in diffs}
    assert by_metric["errors.occ_conflicts_per_sec"]["direction"] == "regressed"
    assert by_metric["matching.sync_match_rate"]["direction"] == "regressed"  # lower sync match is worse
    assert by_metric["throughput.workflows_started_per_sec"]["direction"] == "improved"
    changes = {(c["key"], c["change"]) for c in comparison["config_diffs"]}
    assert ("history.persistenceMaxQPS", "changed") in changes and ("frontend.rps", "added") in changes
    assert comparison["version_diffs"] == [{"component": "temporal_server", "old_version": "1.29.1",
                                            "new_version": "1.30.0"}]
    custom = await api_client.post("/profiles/compare", json={
        "profile_a_id": a["id"], "profile_b_id": b["id"], "thresholds": {"latency_pct": 1e9, "error_pct": 1e9,
                                                                         "throughput_pct": 1e9, "saturation_pct": 1e9}})
    assert all(d["direction"] in ("unchanged", "missing", "regressed", "improved") for d in custom.json()["telemetry_diffs"])
    assert not any(d["severity"] == "warning" for d in custom.json()["telemetry_diffs"])


async def test_baseline_list_filters_pagination_and_delete(api_client: httpx.AsyncClient,
                                                           scenario_windows: dict) -> None:
    cluster = _cluster()
    window = scenario_windows["healthy-150wps"]
    ids: list[str] = []
    for i in range(5):
        body = {"name": f"p{i}", "cluster_id": cluster, "label": f"l{i % 2}", "namespace": "default",
                "time_window_start": window[0].format_iso(), "time_window_end": window[1].format_iso()}
        ids.append((await api_client.post("/profiles/", json=body)).json()["id"])
    page = (await api_client.get(f"/profiles/?cluster={cluster}&limit=2")).json()
    seen = [m["id"] for m in page["items"]]
    while page["next_cursor"]:
        page = (await api_client.get(f"/profiles/?cluster={cluster}&limit=2&cursor={page['next_cursor']}")).json()
        seen += [m["id"] for m in page["items"]]
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    labelled = (await api_client.get(f"/profiles/?cluster={cluster}&label=l1")).json()["items"]
    assert len(labelled) == 2 and all("telemetry" not in m for m in labelled)
    later = window[1].timestamp() * 1000 + 1000
    assert (await api_client.get(f"/profiles/?cluster={cluster}&start={later}")).json()["items"] == []
    first = await api_client.post(f"/profiles/{ids[0]}/baseline")
    assert first.status_code == 200 and first.json()["is_baseline"]
    second = await api_client.post(f"/profiles/{ids[1]}/baseline")
    assert second.json()["is_baseline"]
    flags = {m["id"]: m["is_baseline"] for m in (await api_client.get(f"/profiles/?cluster={cluster}")).json()["items"]}
    assert [i for i, b in flags.items() if b] == [ids[1]]
    assert (await api_client.get(f"/profiles/{ids[1]}")).json()["is_baseline"] is True
    assert (await api_client.get(f"/profiles/{ids[0]}")).json()["is_baseline"] is False
    assert (await api_client.delete(f"/profiles/{ids[1]}")).status_code == 204
    assert (await api_client.get(f"/profiles/{ids[1]}")).status_code == 404
    flags = {m["id"]: m["is_baseline"] for m in (await api_client.get(f"/profiles/?cluster={cluster}")).json()["items"]}
    assert len(flags) == 4 and not any(flags.values())


async def test_cors_preflight_and_token_auth(profile_settings: ProfileSettings, profile_service: object,
                                             api_client: httpx.AsyncClient) -> None:
    preflight = await api_client.options("/profiles/", headers={
        "origin": "http://grafana.local", "access-control-request-method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://grafana.local"
    denied = await api_client.options("/profiles/", headers={
        "origin": "http://evil.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in denied.headers

    settings = ProfileSettings(**{**profile_settings.model_dump(), "auth_mode": "token", "auth_token": "s3cr3t-token",
                                  "database_dsn": profile_settings.database_dsn})
    app = create_app(settings, profile_service=profile_service)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        none = await client.get("/profiles/")
        assert none.status_code == 401 and none.headers["content-type"] == PROBLEM
        wrong = await client.get("/profiles/", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await client.get("/profiles/", headers={"authorization": "Bearer s3cr3t-token"})
        assert ok.status_code == 200
        # The container health check sends no token: /health answers without one, and only that.
        assert (await client.get("/health")).json() == {"status": "ok"}
        assert (await client.get("/health/x")).status_code in (401, 404)
