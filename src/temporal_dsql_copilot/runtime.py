"""Build the worker's activities from settings: state store, log source, knowledge, baseline drift."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporal_dsql_copilot.narrative import CloudWatchLogSource, LogSource, LokiLogSource
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.store import StateStore
from temporal_dsql_copilot.workflows.activities import CopilotActivities

if TYPE_CHECKING:
    from temporal_dsql_profiles.storage import ProfileStore

__all__ = ["build_activities", "build_log_source", "profile_store_from_env"]


def build_log_source(settings: CopilotSettings) -> LogSource | None:
    if settings.log_source == "loki" and settings.loki_url:
        return LokiLogSource(settings.loki_url)
    groups = settings.all_cloudwatch_log_groups()
    if settings.log_source == "cloudwatch" and groups:
        return CloudWatchLogSource(groups, region=settings.aws_region)
    return None


def profile_store_from_env() -> ProfileStore | None:
    """The behaviour-profile store (PROFILES_* settings); without its database there is no baseline."""
    from temporal_dsql_profiles.settings import ProfileSettings
    from temporal_dsql_profiles.storage import ProfileStore

    settings = ProfileSettings()
    if settings.database_dsn is None and settings.dsql_endpoint is None:
        return None
    return ProfileStore.from_settings(settings)


async def build_activities(settings: CopilotSettings, metrics: Any) -> CopilotActivities:
    from temporal_dsql_copilot.knowledge.factory import build_retriever

    store = await StateStore.connect(settings)
    if settings.manage_schema:  # deployed, the set-up created the tables and this role may not
        await store.setup_schema()
    # Bedrock KB when COPILOT_KB_ID is set, the local corpus retriever otherwise.
    retriever = build_retriever(settings)
    profiles = profile_store_from_env()
    if profiles is None:
        return CopilotActivities(metrics=metrics, store=store, logs=build_log_source(settings), retriever=retriever)
    from temporal_dsql_copilot.loop.baseline import ProfileBaselineDrift

    # The same store serves drift and the retention job's sweep of rows a failed create left
    # pending (nothing else schedules it: the profile API runs on Lambda).
    return CopilotActivities(metrics=metrics, store=store, logs=build_log_source(settings), retriever=retriever,
                             baseline_drift=ProfileBaselineDrift(store=profiles),
                             stale_profile_sweep=profiles.sweep_stale_pending)
