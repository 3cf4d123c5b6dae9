"""The worker's wiring from settings (what `python -m temporal_dsql_copilot.workflows.worker` builds)."""

from __future__ import annotations

import pytest

from temporal_dsql_copilot.narrative import CloudWatchLogSource, LokiLogSource
from temporal_dsql_copilot.runtime import build_activities, build_log_source
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.workflows import ObserveConfig
from temporal_dsql_copilot.workflows.worker import initial_observe_input
from temporal_dsql_profiles.settings import ProfileSettings


def test_log_source_from_settings() -> None:
    assert build_log_source(CopilotSettings()) is None
    assert isinstance(build_log_source(CopilotSettings(log_source="loki", loki_url="http://loki:3100")), LokiLogSource)
    cw = build_log_source(CopilotSettings(log_source="cloudwatch", cloudwatch_log_group="/ecs/temporal"))
    assert isinstance(cw, CloudWatchLogSource) and cw.log_groups == ("/ecs/temporal",)
    # The groups alone are enough to build the source; the single group is one more group.
    many = build_log_source(CopilotSettings(log_source="cloudwatch", cloudwatch_log_groups=["/ecs/h", "/ecs/m"]))
    assert isinstance(many, CloudWatchLogSource) and many.log_groups == ("/ecs/h", "/ecs/m")
    both = build_log_source(CopilotSettings(log_source="cloudwatch", cloudwatch_log_groups=["/ecs/h", "/ecs/m"],
                                            cloudwatch_log_group="/ecs/temporal"))
    assert isinstance(both, CloudWatchLogSource) and both.log_groups == ("/ecs/h", "/ecs/m", "/ecs/temporal")


def test_log_groups_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """COPILOT_CLOUDWATCH_LOG_GROUPS is a JSON array, as pydantic-settings reads list fields."""
    monkeypatch.setenv("COPILOT_CLOUDWATCH_LOG_GROUPS", '["/ecs/temporal-history", "/ecs/temporal-matching"]')
    monkeypatch.setenv("COPILOT_CLOUDWATCH_LOG_GROUP", "/ecs/temporal-history")
    settings = CopilotSettings()
    assert settings.cloudwatch_log_groups == ["/ecs/temporal-history", "/ecs/temporal-matching"]
    assert settings.all_cloudwatch_log_groups() == ("/ecs/temporal-history", "/ecs/temporal-matching")


def test_observe_input_from_settings() -> None:
    settings = CopilotSettings(preset_name="high-throughput", bedrock_enabled=False, observe_interval_seconds=10,
                               critical_debounce_evaluations=4)
    request = initial_observe_input(settings)
    assert request.machine.band.value == "high"
    assert request.config.model_id is None and request.config.interval_seconds == 10
    assert request.config.machine.critical_debounce == 4
    assert ObserveConfig.from_settings(CopilotSettings()).model_id == CopilotSettings().bedrock_model_id


async def test_build_activities_against_the_store(copilot_settings: CopilotSettings,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROFILES_DATABASE_DSN", raising=False)
    monkeypatch.delenv("PROFILES_DSQL_ENDPOINT", raising=False)
    activities = await build_activities(copilot_settings, metrics=None)
    try:
        assert activities.baseline_drift is None and activities.logs is None
        assert activities.retriever is not None  # the local corpus retriever without COPILOT_KB_ID
        assert set(await activities.store.table_counts()) >= {"copilot_assessments"}
    finally:
        await activities.store.close()


async def test_build_activities_wires_drift_and_the_stale_profile_sweep(
        copilot_settings: CopilotSettings, copilot_profile_settings: ProfileSettings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With a profile database the retention job also sweeps orphan pending profile rows."""
    assert copilot_profile_settings.database_dsn is not None
    monkeypatch.setenv("PROFILES_DATABASE_DSN", copilot_profile_settings.database_dsn.get_secret_value())
    monkeypatch.setenv("PROFILES_BUCKET", copilot_profile_settings.bucket)
    monkeypatch.setenv("PROFILES_S3_ENDPOINT_URL", str(copilot_profile_settings.s3_endpoint_url))
    activities = await build_activities(copilot_settings, metrics=None)
    try:
        assert activities.baseline_drift is not None and activities.stale_profile_sweep is not None
        assert await activities.stale_profile_sweep() >= 0  # runs against the real profile store
    finally:
        await activities.store.close()
        await activities.baseline_drift.store.close()  # type: ignore[union-attr]
