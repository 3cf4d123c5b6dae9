"""Every environment variable the copilot worker, API and CLI read, in one pydantic-settings model.

The Pulumi components and the copilot image import this model to build task-definition
environments, so field names are a public contract: add fields, never rename them. Each field is
read from ``COPILOT_<FIELD_NAME>`` (upper case), e.g. ``COPILOT_TEMPORAL_ADDRESS``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ENV_PREFIX", "CopilotSettings", "LogSourceKind", "get_settings"]

ENV_PREFIX = "COPILOT_"

LogSourceKind = Literal["none", "cloudwatch", "loki"]


class CopilotSettings(BaseSettings):
    """Configuration of the copilot worker, status API and CLI."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # --- the copilot's own Temporal cluster ---
    temporal_address: str = "127.0.0.1:7233"
    """host:port of the copilot's Temporal frontend (not the monitored cluster)."""
    temporal_namespace: str = "default"
    temporal_task_queue: str = "copilot-task-queue"
    metrics_bind_address: str | None = None
    """host:port of the worker's Prometheus endpoint (``/metrics``: the copilot's own ``copilot_*``
    metrics and the SDK's ``temporal_*``). The image sets ``0.0.0.0:9464``; unset, nothing listens."""

    # --- the monitored cluster ---
    cluster_id: str = "temporal-dsql"
    """Identifies the monitored cluster in the state store and for baseline profiles."""
    monitored_namespace: str = "default"
    """Temporal namespace of the monitored cluster whose baseline profile drift is measured against."""
    preset_name: str | None = None
    """Scale preset the monitored cluster was compiled with; its scale band seeds the state machine."""

    # --- metrics (Amazon Managed Prometheus, or any Prometheus for local work) ---
    amp_query_url: str = "http://127.0.0.1:9090"
    """Prometheus-compatible query base URL, e.g. https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>."""
    amp_sigv4: bool = False
    """Sign AMP queries with SigV4 (service `aps`); required against real AMP, off for local Prometheus."""
    aws_region: str = "us-east-1"
    query_timeout_seconds: float = 10.0

    # --- state store (Aurora DSQL; PostgreSQL stand-in locally) ---
    dsql_endpoint: str = "127.0.0.1"
    dsql_port: int = 5432
    dsql_database: str = "postgres"
    dsql_user: str = "admin"
    """``admin`` (an admin token, ``dsql:DbConnectAdmin``) or a dedicated role (``dsql:DbConnect``, a
    ``generate_db_connect_auth_token`` token): the deployed worker is ``copilot_store`` and the profile
    API's /status ``copilot_status`` (``temporal_dsql_copilot.store.db_roles``), created by the set-up."""
    dsql_password: SecretStr | None = None
    """Static password for the PostgreSQL stand-in; unset means an IAM auth token is generated for DSQL."""
    manage_schema: bool = True
    """The worker creates its tables at start (local work, as ``admin``). False where it connects as
    ``copilot_store``, which may not create tables: the deployment's set-up created them."""
    retention_days: int = Field(default=7, ge=7)
    """Assessments, issues and snapshots are kept at least this long (Requirement 5.3)."""

    # --- logs (narrative signals) ---
    log_source: LogSourceKind = "none"
    loki_url: str | None = None
    cloudwatch_log_group: str | None = None
    """One CloudWatch log group (kept for existing deployments); read together with cloudwatch_log_groups."""
    cloudwatch_log_groups: list[str] = Field(default_factory=list)
    """Every CloudWatch log group the cluster's services write to (one per service on ECS), e.g.
    ``COPILOT_CLOUDWATCH_LOG_GROUPS='["/ecs/temporal-history", "/ecs/temporal-matching"]'`` (a JSON array)."""
    log_lookback_seconds: int = 300
    """How far back an assessment reads logs for context (the observe loop scans each interval)."""

    # --- Bedrock (explanations and knowledge base) ---
    bedrock_model_id: str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    bedrock_enabled: bool = True
    """When false, every assessment is rule-based (no LLM call)."""
    kb_id: str | None = None
    kb_data_source_id: str | None = None
    kb_bucket: str | None = None
    kb_top_k: int = Field(default=5, ge=1, le=5)

    # --- loop timing ---
    observe_interval_seconds: float = Field(default=30.0, gt=0)
    assess_schedule_seconds: float = Field(default=300.0, gt=0)
    assessment_timeout_seconds: float = Field(default=30.0, gt=0)
    dedupe_window_seconds: float = Field(default=240.0, ge=0)
    """A scheduled assessment is skipped when another one finished this recently."""
    signal_window_size: int = Field(default=10, ge=1)
    continue_as_new_after_cycles: int = Field(default=200, ge=1)
    """ObserveClusterWorkflow continues as new after this many cycles, keeping its history bounded."""

    # --- health state machine ---
    critical_debounce_evaluations: int = Field(default=3, ge=1)
    """Consecutive critical evaluations needed before the state becomes Critical."""
    recovery_factor: float = Field(default=1.5, ge=1.0)
    """Leaving Critical needs progress this many times above the critical floor."""
    scale_band_hysteresis: float = Field(default=0.1, ge=0.0, lt=1.0)

    # --- status API ---
    # CORS has one setting, PROFILES_ALLOWED_ORIGINS (ProfileSettings.allowed_origins): the status
    # API is served by the same app as /profiles.
    api_port: int = 8080
    listen_host: str = "0.0.0.0"
    """Interface the image's API and the worker's ``/health`` listen on: every interface in a task's
    own network namespace; ``127.0.0.1`` when a container shares the host's network (the dev stack's
    compose file, the container tests), so nothing is reachable from outside the machine."""
    api_cache_seconds: float = Field(default=2.0, ge=0.0)
    """/status, /status/services and /status/summary are cached this long (one store read serves every
    concurrent panel; the observe loop writes every 30 s). 0 disables the cache."""

    def all_cloudwatch_log_groups(self) -> tuple[str, ...]:
        """cloudwatch_log_groups plus the single cloudwatch_log_group, each once, in the order given."""
        groups = [*self.cloudwatch_log_groups, *([self.cloudwatch_log_group] if self.cloudwatch_log_group else [])]
        return tuple(dict.fromkeys(g for g in groups if g))


@lru_cache(maxsize=1)
def get_settings() -> CopilotSettings:
    """The process's settings, read from the environment once (a factory, not an import-time singleton)."""
    return CopilotSettings()
