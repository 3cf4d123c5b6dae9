"""Backward compatibility: existing env vars as overrides on starter, parsed as the plugin parses them."""

from __future__ import annotations

import pytest

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_config.compat import (
    compile_from_env,
    env_to_overrides,
    has_dsql_env,
    migration_report,
    parse_env,
)
from temporal_dsql_config.values import format_duration, parse_go_bool, parse_go_duration, parse_go_int


@pytest.mark.parametrize(("text", "seconds"), [("45s", 45), ("11m", 660), ("1h30m", 5400), ("500ms", 0.5),
                                               ("1.5h", 5400), ("2m30s", 150), ("0", 0), ("-1m", -60)])
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == seconds
    assert parse_go_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("bad", ["", "15", "1d", "m", "1h 30m", " 5s"])
def test_invalid_go_durations(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_go_duration(bad)


def test_go_bool_and_int() -> None:
    for t in ("1", "t", "T", "TRUE", "true", "True"):
        assert parse_go_bool(t) is True
    for f in ("0", "f", "F", "FALSE", "false", "False"):
        assert parse_go_bool(f) is False
    for bad in ("yes", "on", "tRUE", ""):
        with pytest.raises(ValueError):
            parse_go_bool(bad)
    assert parse_go_int("1") == 1 and parse_go_int("-3") == -3
    with pytest.raises(ValueError):
        parse_go_int("1.0")


def test_env_vars_become_typed_overrides() -> None:
    overrides = env_to_overrides({
        "TEMPORAL_SQL_MAX_CONNS": "1", "TEMPORAL_SQL_MAX_IDLE_CONNS": "1", "DSQL_RESERVOIR_ENABLED": "1",
        "DSQL_RESERVOIR_BASE_LIFETIME": "1h30m", "DSQL_STAGGERED_STARTUP": "F", "PATH": "/usr/bin",
        "DSQL_STAGGERED_STARTUP_MAX_DELAY": "2s", "HOME": "/root",
    }).values
    assert overrides["dsql.pool_size"] == 1 and type(overrides["dsql.pool_size"]) is int
    assert overrides["dsql.reservoir_enabled"] is True
    assert overrides["dsql.reservoir_base_lifetime"] == "1h30m"
    assert overrides["dsql.staggered_startup"] is False
    assert "PATH" not in overrides and len(overrides) == 6


def test_invalid_values_are_reported_like_the_plugin_uses_defaults() -> None:
    imported = parse_env({"DSQL_CONNECTION_RATE_LIMIT": "ten", "DSQL_STAGGERED_STARTUP": "maybe",
                          "DSQL_CONN_REFRESH_INTERVAL": "5m", "DSQL_MADE_UP": "1"})
    assert "DSQL_CONNECTION_RATE_LIMIT" in imported.invalid
    assert imported.overrides["dsql.staggered_startup"] is True  # empty or invalid is true for this one
    assert "DSQL_CONN_REFRESH_INTERVAL" in imported.ignored and "DSQL_MADE_UP" in imported.ignored


def test_region_follows_the_plugins_reading_order() -> None:
    imported = parse_env({"AWS_REGION": "us-west-2", "REGION": "eu-west-1"})
    assert imported.overrides["dsql.region"] == "eu-west-1"
    assert "AWS_REGION" in imported.ignored
    assert parse_env({"TEMPORAL_SQL_HOST": "h.dsql.us-east-1.on.aws"}).overrides["dsql.cluster_endpoint"] == (
        "h.dsql.us-east-1.on.aws")


def test_no_preset_with_env_means_starter_and_reports_redundancy() -> None:
    env = {"DSQL_RESERVOIR_ENABLED": "false", "TEMPORAL_SQL_MAX_CONNS": "10", "TEMPORAL_SQL_MAX_IDLE_CONNS": "10",
           "DSQL_CONNECTION_RATE_LIMIT": "10", "DSQL_TOKEN_DURATION": "10m", "CLUSTER_ENDPOINT": "abcdefghijklmnopqrstuvwx12.dsql.us-east-1.on.aws",
           "DSQL_CONN_REFRESH_INTERVAL": "5m"}
    assert has_dsql_env(env) and not has_dsql_env({"PATH": "/bin", "AWS_REGION": "us-east-1"})
    result, report = compile_from_env(env)
    assert result.profile.preset_name == "starter"
    assert result.env["history"]["DSQL_TOKEN_DURATION"] == "10m"
    assert result.env["frontend"]["CLUSTER_ENDPOINT"] == "abcdefghijklmnopqrstuvwx12.dsql.us-east-1.on.aws"
    assert sorted(report.redundant) == ["DSQL_CONNECTION_RATE_LIMIT", "DSQL_RESERVOIR_ENABLED",
                                        "TEMPORAL_SQL_MAX_CONNS", "TEMPORAL_SQL_MAX_IDLE_CONNS"]
    assert sorted(report.overrides) == ["CLUSTER_ENDPOINT", "DSQL_TOKEN_DURATION"]
    assert report.ignored == ["DSQL_CONN_REFRESH_INTERVAL"]
    text = report.to_text()
    assert "Redundant" in text and "DSQL_TOKEN_DURATION=10m (preset: 15m)" in text


def test_explicit_overrides_win_over_env_and_presets_are_respected() -> None:
    result, report = compile_from_env({"TEMPORAL_SQL_MAX_CONNS": "40", "TEMPORAL_SQL_MAX_IDLE_CONNS": "40"},
                                      preset="mid-scale", overrides={"TEMPORAL_SQL_MAX_CONNS": "50",
                                                                     "TEMPORAL_SQL_MAX_IDLE_CONNS": "50"})
    assert result.profile.preset_name == "mid-scale"
    assert result.env["history"]["TEMPORAL_SQL_MAX_CONNS"] == "50"
    assert report.overrides == ["TEMPORAL_SQL_MAX_CONNS", "TEMPORAL_SQL_MAX_IDLE_CONNS"]


def test_migration_report_against_another_preset() -> None:
    report = migration_report({"DSQL_RESERVOIR_ENABLED": "true"}, "mid-scale", compiler=ConfigCompiler())
    assert report.redundant == ["DSQL_RESERVOIR_ENABLED"]
    assert migration_report({"DSQL_RESERVOIR_ENABLED": "true"}).overrides == ["DSQL_RESERVOIR_ENABLED"]
