"""Test data shared by the behaviour-profile tests (a module, not conftest, so it imports by name)."""

from __future__ import annotations

from packaging.version import Version
from whenever import Instant

from temporal_dsql_core.deployed_config import DeployedConfig, DeployedVersions
from temporal_dsql_core.profile import ConfigProfile
from temporal_dsql_core.types import ParameterClassification, ResolvedParameter

BUCKET = "bp-test-profiles"
SECRET_PASSWORD = "hunter2-Very-Secret-9f8e7d"
SECRET_KEY_VALUE = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def make_config_profile(preset: str = "mid-scale", **values: bool | int | float | str) -> ConfigProfile:
    params = {"history.persistenceMaxQPS": 3000, "dsql.reservoir_target_ready": 50, **values}
    resolved = [ResolvedParameter(key=k, value=v, classification=ParameterClassification.TUNING, source="preset")
                for k, v in params.items()]
    return ConfigProfile(
        preset_name=preset, slo_params=[], topology_params=[], safety_params=[], tuning_params=resolved,
        temporal_server_version=Version("1.29.1"), dsql_plugin_version=Version("1.29.1"),
        compiler_version=Version("0.1.0"),
    )


def make_deployed_config() -> DeployedConfig:
    return DeployedConfig(
        profile=make_config_profile(),
        dynamic_config_yaml=("history.persistenceMaxQPS:\n  - value: 3000\n"
                             "matching.numTaskqueueReadPartitions:\n  - value: 8\n"),
        dsql_plugin_config={"reservoir_enabled": True, "reservoir_target_ready": 50, "max_conns": 50,
                            "max_idle_conns": 50, "token_bucket_rate": 100, "reservoir_inflight_limit": 8},
        worker_options={"max_concurrent_activities": 200, "workflow_task_pollers": 8, "poller_autoscaling": True},
        env={"history": {"TEMPORAL_SQL_HOST": "abc.dsql.us-east-1.on.aws", "TEMPORAL_SQL_PASSWORD": SECRET_PASSWORD,
                         "DSQL_TOKEN_BUCKET_RATE": "100", "AWS_SECRET_ACCESS_KEY": SECRET_KEY_VALUE,
                         "SOME_URL": "postgres://admin:pw1234@db:5432/x"}},
        versions=DeployedVersions(temporal_server_version="1.29.1", dsql_plugin_version="1.29.2",
                                  worker_code_sha="0123456789abcdef0123456789abcdef01234567"),
    )


def make_profile(cluster_id: str, namespace: str | None = "default", *, label: str | None = None,
                 start: Instant | None = None, hours: float = 1.0):  # type: ignore[no-untyped-def]
    """A complete BehaviourProfile without touching Prometheus (for storage tests)."""
    import uuid

    from whenever import TimeDelta

    from temporal_dsql_core.models import MetricAggregate
    from temporal_dsql_profiles.models import (
        BehaviourProfile,
        ConfigSnapshot,
        MissingMetric,
        TelemetrySummary,
    )

    start = start or Instant.from_utc(2026, 11, 20, 10)
    summary = TelemetrySummary(step_seconds=60)
    summary.set("throughput.state_transitions_per_sec",
                MetricAggregate(min=1, max=9, mean=5, p50=5, p95=8, p99=9))
    summary.missing.append(MissingMetric(metric="errors.dsql_auth_failures", reason="no series"))
    return BehaviourProfile(
        id=str(uuid.uuid4()), name="storage-test", label=label, cluster_id=cluster_id, namespace=namespace,
        time_window_start=start, time_window_end=start + TimeDelta(hours=hours),
        config_snapshot=ConfigSnapshot(config_profile=make_config_profile()), telemetry=summary,
        created_at=Instant.now(),
    )
