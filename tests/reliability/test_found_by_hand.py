"""Item 6 (and the schema fuzzer's finds): each defect found by hand or by fuzzing, as a
regression test against the real app on the stand-ins."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import httpx
import pytest
from typer.testing import CliRunner
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.api.app import create_app
from temporal_dsql_copilot.cli import app as copilot_cli
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_standins import MotoServer, ScenarioPrometheus

PROBLEM = "application/problem+json"
pytestmark = pytest.mark.standins


def _window(hours_ago: float, length_minutes: int = 30) -> dict[str, str]:
    end = Instant.now() - TimeDelta(hours=hours_ago)
    return {"time_window_start": (end - TimeDelta(minutes=length_minutes)).format_iso(),
            "time_window_end": end.format_iso()}


async def test_unknown_fields_are_422_problems_naming_the_closest_known_field(api_client: httpx.AsyncClient) -> None:
    cases = [
        ("/profiles/", {"name": "x", **_window(1), "task_queu": "orders"}, "task_queu", "task_queue"),
        ("/profiles/", {"name": "x", **_window(1), "bogus": 1}, "bogus", None),
        ("/profiles/compare", {"profile_a_id": "a", "profile_b_id": "b", "thresholds": {"latency_pc": 5}},
         "thresholds.latency_pc", "latency_pct"),
        ("/copilot/conformance", {"profile_id": "a", "preset": "mid-scale"}, "preset", "preset_name"),
    ]
    for path, body, field, closest in cases:
        response = await api_client.post(path, json=body)
        assert response.status_code == 422 and response.headers["content-type"] == PROBLEM, response.text
        problem = response.json()
        assert problem["field"] == field and field.rsplit(".", 1)[-1] in problem["detail"], problem
        if closest is not None:
            assert f"did you mean {closest!r}" in problem["detail"], problem
    listed = (await api_client.get("/profiles/")).json()["items"]
    assert all(item["name"] != "x" for item in listed)  # nothing was created by the refused requests


async def test_malformed_json_says_what_is_wrong_and_where(api_client: httpx.AsyncClient) -> None:
    broken = await api_client.post("/profiles/", content=b'{"name": x}', headers={"content-type": "application/json"})
    problem = broken.json()
    assert broken.status_code == 400 and broken.headers["content-type"] == PROBLEM
    assert problem["field"] == "body" and "not valid JSON" in problem["detail"], problem
    assert "line 1, column 10" in problem["detail"] and "(9)" not in problem["detail"]
    plain = await api_client.post("/profiles/", content=b"name=x", headers={"content-type": "text/plain"})
    assert plain.status_code == 422 and plain.headers["content-type"] == PROBLEM
    assert "JSON object" in plain.json()["detail"] and "text/plain" in plain.json()["detail"]
    assert "()" not in plain.json()["detail"]
    latin1 = await api_client.post("/profiles/", content=b'{"name": "\xff"}', headers={"content-type": "application/json"})
    assert latin1.status_code == 400 and latin1.headers["content-type"] == PROBLEM
    assert latin1.json()["field"] == "body"


async def test_every_rule_problem_names_its_field(api_client: httpx.AsyncClient) -> None:
    """The fuzzer's finds: rule violations whose detail did not name the field they blame."""
    now = Instant.now()
    too_long = await api_client.post("/profiles/", json={
        "name": "x", "time_window_start": (now - TimeDelta(hours=30)).format_iso(), "time_window_end": now.format_iso()})
    bad_filter = await api_client.get("/profiles/", params={"end": ""})
    same = await api_client.post("/profiles/compare", json={"profile_a_id": "a", "profile_b_id": "a"})
    month = await api_client.get("/status/timeline", params={"start": (now - TimeDelta(hours=24 * 40)).format_iso()})
    year_one = await api_client.get("/status/timeline", params={"end": "0001-01-01T08:20:14Z"})  # was a 500
    nul_filter = await api_client.get("/profiles/", params={"cluster": "a\x00b"})  # was a 500 from PostgreSQL
    for response in (too_long, bad_filter, same, month, year_one, nul_filter):
        problem = response.json()
        assert response.status_code == 400 and problem["field"] in problem["detail"], problem


async def test_nul_in_a_stored_field_is_a_422_naming_it(api_client: httpx.AsyncClient) -> None:
    response = await api_client.post("/profiles/", json={"name": "a\x00b", **_window(1)})
    assert response.status_code == 422 and response.json()["field"] == "name", response.text
    huge = await api_client.post("/profiles/", json={"name": "x", "time_window_start": -1.5e15,
                                                     "time_window_end": 9.9e59})  # OverflowError was a 500
    assert huge.status_code == 422 and huge.json()["field"] == "time_window_start", huge.text
    epoch_ms = await api_client.get("/status/timeline", params={"end": "1795352400000"})  # epoch ms: in the schema
    assert epoch_ms.status_code == 200 and epoch_ms.json()["end"].startswith("2026-11-22T13:00")
    seconds = await api_client.get("/status/timeline", params={"end": "1795352400"})  # seconds: refused (issue 19)
    assert seconds.status_code == 422 and "milliseconds" in seconds.text


async def test_a_newline_id_is_not_the_list(api_client: httpx.AsyncClient) -> None:
    """GET /profiles/%0A matched the list route (a `$` before a trailing newline) and answered a page."""
    response = await api_client.get("/profiles/%0A")
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM, response.text


async def test_no_token_is_a_401_even_for_a_malformed_body(reliability_env: dict[str, str]) -> None:
    """The body used to be parsed (and described) before the token was checked."""
    app = create_app(ProfileSettings(auth_mode="token", auth_token="s3cret-token",  # type: ignore[arg-type]
                                     bucket=reliability_env["PROFILES_BUCKET"]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        for content in (b'{"name": x}', b'{"name": "\xff"}', b"[]"):
            response = await client.post("/profiles/", content=content, headers={"content-type": "application/json"})
            assert response.status_code == 401 and response.headers["content-type"] == PROBLEM, response.text


async def test_window_without_telemetry_is_flagged_and_refused_as_baseline(
        api_client: httpx.AsyncClient, prometheus_with_scenarios: ScenarioPrometheus) -> None:
    namespace = f"ns-{uuid.uuid4().hex[:6]}"
    quiet_start = min(w.start for w in prometheus_with_scenarios.windows.values()) - TimeDelta(hours=3)
    empty = await api_client.post("/profiles/", json={
        "name": "quiet", "namespace": namespace, "time_window_start": quiet_start.format_iso(),
        "time_window_end": (quiet_start + TimeDelta(minutes=30)).format_iso()})
    assert empty.status_code == 201, empty.text
    assert empty.json()["telemetry_empty"] is True and empty.json()["observed_metrics"] == 0
    fetched = (await api_client.get(f"/profiles/{empty.json()['id']}")).json()
    assert fetched["telemetry_empty"] is True
    listed = (await api_client.get("/profiles/", params={"namespace": namespace})).json()["items"]
    assert [(i["id"], i["telemetry_empty"]) for i in listed] == [(empty.json()["id"], True)]

    refused = await api_client.post(f"/profiles/{empty.json()['id']}/baseline")
    assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["field"] == "profile_id" and "no telemetry" in refused.json()["detail"]
    assert not (await api_client.get(f"/profiles/{empty.json()['id']}")).json()["is_baseline"]

    healthy = prometheus_with_scenarios.windows["healthy-150wps"]
    real = await api_client.post("/profiles/", json={
        "name": "healthy", "namespace": namespace, "time_window_start": healthy.start.format_iso(),
        "time_window_end": (healthy.start + TimeDelta(minutes=30)).format_iso()})
    assert real.status_code == 201 and real.json()["observed_metrics"] > 0 and not real.json()["telemetry_empty"]
    switched = await api_client.post(f"/profiles/{real.json()['id']}/baseline")
    assert switched.status_code == 200 and switched.json()["is_baseline"] is True


def test_kb_sync_uses_the_profile_store_s3_endpoint(moto_server: MotoServer, tmp_path: Path) -> None:
    """`copilot dev env` exports PROFILES_S3_ENDPOINT_URL; kb sync used to ignore it (real S3)."""
    bucket = f"kb-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    (tmp_path / "runbook.md").write_text("# Runbook\n\nRestart the history service.\n")
    result = CliRunner().invoke(copilot_cli, ["kb", "sync", "--source", str(tmp_path)], env={
        "PROFILES_S3_ENDPOINT_URL": moto_server.endpoint_url, "COPILOT_KB_BUCKET": bucket,
        "COPILOT_KB_ID": "", "COPILOT_KB_DATA_SOURCE_ID": ""})
    assert result.exit_code == 0, result.output
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert any(k.endswith("runbook.md") for k in keys), keys
