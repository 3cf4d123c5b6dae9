"""`copilot` CLI: db commands on the PostgreSQL stand-in, kb commands through botocore's Stubber
(moto lacks the bedrock-agent APIs), conformance / recommend-config on a real profile."""

from __future__ import annotations

import json

import boto3
from botocore.stub import Stubber
from typer.testing import CliRunner
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.cli import app
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.store import StateStore
from temporal_dsql_profiles.models import CreateProfileRequest
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_standins import ScenarioPrometheus, free_port

runner = CliRunner()


def _db_env(settings: CopilotSettings, **extra: str) -> dict[str, str]:
    assert settings.dsql_password is not None
    return {"COPILOT_DSQL_ENDPOINT": settings.dsql_endpoint, "COPILOT_DSQL_PORT": str(settings.dsql_port),
            "COPILOT_DSQL_USER": settings.dsql_user, "COPILOT_DSQL_DATABASE": settings.dsql_database,
            "COPILOT_DSQL_PASSWORD": settings.dsql_password.get_secret_value(), **extra}


def test_db_commands(copilot_settings: CopilotSettings) -> None:
    env = _db_env(copilot_settings)
    setup = runner.invoke(app, ["db", "setup-schema"], env=env)
    assert setup.exit_code == 0, setup.output
    assert "schema applied" in setup.output
    check = runner.invoke(app, ["db", "check-connection"], env=env)
    assert check.exit_code == 0 and "PostgreSQL" in check.output
    tables = runner.invoke(app, ["db", "list-tables", "--json"], env=env)
    assert tables.exit_code == 0
    assert set(json.loads(tables.output)) == {"copilot_assessments", "copilot_issues", "copilot_signal_snapshots"}
    down = runner.invoke(app, ["db", "check-connection"], env={**env, "COPILOT_DSQL_PORT": str(free_port())})
    assert down.exit_code == 4 and "error" in down.output  # a dependency unreachable


def _stubbed() -> tuple[object, Stubber]:
    client = boto3.client("bedrock-agent", region_name="us-east-1")
    return client, Stubber(client)


def test_kb_commands_with_stubber() -> None:
    client, stub = _stubbed()
    job = {"knowledgeBaseId": "KB1", "dataSourceId": "DS1", "ingestionJobId": "JOB1", "status": "STARTING",
           "startedAt": Instant.now().to_stdlib(), "updatedAt": Instant.now().to_stdlib()}
    stub.add_response("start_ingestion_job", {"ingestionJob": job}, {"knowledgeBaseId": "KB1", "dataSourceId": "DS1"})
    stub.add_response("get_knowledge_base", {"knowledgeBase": {
        "knowledgeBaseId": "KB1", "name": "copilot-kb", "knowledgeBaseArn": "arn:aws:bedrock:us-east-1:1:kb/KB1",
        "roleArn": "arn:aws:iam::1:role/kb", "status": "ACTIVE", "createdAt": Instant.now().to_stdlib(),
        "updatedAt": Instant.now().to_stdlib(),
        "knowledgeBaseConfiguration": {"type": "VECTOR", "vectorKnowledgeBaseConfiguration": {
            "embeddingModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"}}}},
        {"knowledgeBaseId": "KB1"})
    stub.add_response("list_ingestion_jobs", {"ingestionJobSummaries": [
        {k: job[k] for k in ("knowledgeBaseId", "dataSourceId", "ingestionJobId", "status", "startedAt", "updatedAt")}]},
        {"knowledgeBaseId": "KB1", "dataSourceId": "DS1", "maxResults": 10,
         "sortBy": {"attribute": "STARTED_AT", "order": "DESCENDING"}})
    stub.add_client_error("get_ingestion_job", service_error_code="ResourceNotFoundException",
                          service_message="no such job", http_status_code=404)
    obj = {"bedrock_agent": client}
    with stub:
        started = runner.invoke(app, ["kb", "start-ingestion", "--kb-id", "KB1", "--ds-id", "DS1"], obj=obj)
        assert started.exit_code == 0 and "JOB1" in started.output
        status = runner.invoke(app, ["kb", "status", "--kb-id", "KB1"], obj=obj)
        assert status.exit_code == 0 and "copilot-kb" in status.output and "ACTIVE" in status.output
        jobs = runner.invoke(app, ["kb", "list-jobs", "--kb-id", "KB1", "--ds-id", "DS1"], obj=obj)
        assert jobs.exit_code == 0 and "JOB1" in jobs.output
        missing = runner.invoke(app, ["kb", "status", "--kb-id", "KB1", "--ds-id", "DS1", "--job-id", "nope"], obj=obj)
        assert missing.exit_code == 4 and "no such job" in missing.output
        stub.assert_no_pending_responses()
    no_kb = runner.invoke(app, ["kb", "start-ingestion"], obj=obj, env={"COPILOT_KB_ID": ""})
    assert no_kb.exit_code == 2 and "kb_id" in no_kb.output


async def test_conformance_and_recommend_commands(copilot_profile_service: ProfileService,
                                                  copilot_profile_settings: ProfileSettings,
                                                  prometheus_with_scenarios: ScenarioPrometheus) -> None:
    window = prometheus_with_scenarios.windows["overloaded-400wps"]
    meta = await copilot_profile_service.create(CreateProfileRequest(
        name="cli-overload", cluster_id="copilot-cli", time_window_start=window.start + TimeDelta(minutes=30),
        time_window_end=window.end - TimeDelta(minutes=5)))
    env = {"PROFILES_BUCKET": copilot_profile_settings.bucket,
           "PROFILES_S3_ENDPOINT_URL": copilot_profile_settings.s3_endpoint_url or "",
           "PROFILES_DATABASE_DSN": copilot_profile_settings.database_dsn.get_secret_value()
           if copilot_profile_settings.database_dsn else ""}
    import asyncio

    result = await asyncio.to_thread(runner.invoke, app, ["conformance", meta.id, "mid-scale", "--json"],
                                     env=env)
    assert result.exit_code == 3, result.output  # drifted
    assert json.loads(result.output)["label"] == "drifted"
    unknown = await asyncio.to_thread(runner.invoke, app, ["conformance", meta.id, "huge"], env=env)
    assert unknown.exit_code == 2 and "mid-scale" in unknown.output
    rec = await asyncio.to_thread(runner.invoke, app, ["recommend-config", meta.id, "mid-scale", "--json"],
                                  env=env)
    assert rec.exit_code == 0, rec.output
    assert json.loads(rec.output)["recommended_preset"] == "high-throughput"


async def test_drift_command_against_the_active_baseline(
        copilot_settings: CopilotSettings, copilot_profile_service: ProfileService,
        copilot_profile_settings: ProfileSettings, prometheus_with_scenarios: ScenarioPrometheus,
        cluster_store: StateStore) -> None:
    """`copilot drift`: the latest stored snapshot (overloaded) against a healthy baseline."""
    import asyncio

    from temporal_dsql_copilot.health import HealthState
    from temporal_dsql_copilot.metrics import collect_signals
    from temporal_dsql_copilot.store import StoredSnapshot
    from temporal_dsql_profiles.telemetry import PrometheusClient

    env = {**_db_env(copilot_settings, COPILOT_CLUSTER_ID=cluster_store.cluster_id),
           "PROFILES_BUCKET": copilot_profile_settings.bucket,
           "PROFILES_S3_ENDPOINT_URL": copilot_profile_settings.s3_endpoint_url or "",
           "PROFILES_DATABASE_DSN": copilot_profile_settings.database_dsn.get_secret_value()
           if copilot_profile_settings.database_dsn else ""}
    none_yet = await asyncio.to_thread(runner.invoke, app, ["drift"], env=env)
    assert none_yet.exit_code == 0 and "no active baseline" in none_yet.output

    healthy = prometheus_with_scenarios.windows["healthy-150wps"]
    overload = prometheus_with_scenarios.windows["overloaded-400wps"]
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as prom:
        overload_now = await collect_signals(prom, overload.start + (overload.end - overload.start) * 0.8)
    assert await cluster_store.save_snapshot(StoredSnapshot(
        cluster_id=cluster_store.cluster_id, workflow_id="cli-drift", cycle=1, health_state=HealthState.STRESSED,
        band="mid", snapshot=overload_now))
    baseline = await copilot_profile_service.create(CreateProfileRequest(
        name="golden", cluster_id=cluster_store.cluster_id, time_window_start=healthy.start + TimeDelta(minutes=10),
        time_window_end=healthy.end - TimeDelta(minutes=10)))
    await copilot_profile_service.store.set_baseline(baseline.id)

    result = await asyncio.to_thread(runner.invoke, app, ["drift", "--json"], env=env)
    assert result.exit_code == 3, result.output  # regressions found
    report = json.loads(result.output)
    assert report["baseline_id"] == baseline.id
    assert "errors.occ_conflicts_per_sec" in {d["metric_id"] for d in report["drift"] if d["regressed"]}
    table = await asyncio.to_thread(runner.invoke, app, ["drift"], env=env)
    assert table.exit_code == 3 and "regressed" in table.output
    down = await asyncio.to_thread(runner.invoke, app, ["drift"], env={**env, "COPILOT_DSQL_PORT": str(free_port())})
    assert down.exit_code == 4 and "error" in down.output  # a dependency unreachable
