"""The registry covers every real knob and emits only names the real systems read."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from temporal_dsql_config import ConfigCompiler, default_registry
from temporal_dsql_config.errors import UnknownParameterError
from temporal_dsql_config.explain import explain_profile
from temporal_dsql_core.types import OutputTarget, ParameterClassification, ParameterValue, ParameterValueType

DATA = Path(__file__).resolve().parents[1] / "data"

# dsql_plugin_facts.md §1 (1a-1f): every environment variable the DSQL plugin reads.
PLUGIN_ENV_VARS = [
    "CLUSTER_ENDPOINT", "REGION", "AWS_REGION", "DSQL_TOKEN_DURATION", "SERVICES",
    "DSQL_CONNECTION_RATE_LIMIT", "DSQL_CONNECTION_BURST_LIMIT", "DSQL_STAGGERED_STARTUP",
    "DSQL_STAGGERED_STARTUP_MAX_DELAY",
    "DSQL_DISTRIBUTED_RATE_LIMITER_ENABLED", "DSQL_DISTRIBUTED_RATE_LIMITER_TABLE",
    "DSQL_DISTRIBUTED_RATE_LIMITER_LIMIT", "DSQL_DISTRIBUTED_RATE_LIMITER_MAX_WAIT",
    "DSQL_TOKEN_BUCKET_ENABLED", "DSQL_TOKEN_BUCKET_RATE", "DSQL_TOKEN_BUCKET_CAPACITY", "DSQL_TOKEN_BUCKET_MAX_WAIT",
    "DSQL_RESERVOIR_ENABLED", "DSQL_RESERVOIR_TARGET_READY", "DSQL_RESERVOIR_LOW_WATERMARK",
    "DSQL_RESERVOIR_BASE_LIFETIME", "DSQL_RESERVOIR_LIFETIME_JITTER", "DSQL_RESERVOIR_GUARD_WINDOW",
    "DSQL_RESERVOIR_INITIAL_FILL_TIMEOUT", "DSQL_RESERVOIR_INFLIGHT_LIMIT",
    "DSQL_DISTRIBUTED_CONN_LEASE_ENABLED", "DSQL_DISTRIBUTED_CONN_LEASE_TABLE", "DSQL_SLOT_BLOCK_SIZE",
    "DSQL_SLOT_BLOCK_COUNT", "DSQL_SLOT_BLOCK_TTL", "DSQL_SLOT_BLOCK_RENEW_INTERVAL", "DSQL_DISTRIBUTED_CONN_LIMIT",
    "DSQL_POOL_WARMUP_STAGGER_DURATION", "DSQL_POOL_KEEPER_TICK_INTERVAL", "DSQL_POOL_KEEPER_MAX_CONNS_PER_TICK",
]
# §4: what the runtime image's entrypoint reads.
RUNTIME_ENV_VARS = [
    "TEMPORAL_SQL_HOST", "TEMPORAL_SQL_PORT", "TEMPORAL_SQL_USER", "TEMPORAL_SQL_DATABASE", "TEMPORAL_SQL_PLUGIN",
    "TEMPORAL_SQL_PLUGIN_NAME", "TEMPORAL_SQL_TLS_ENABLED", "TEMPORAL_SQL_IAM_AUTH", "TEMPORAL_SQL_MAX_CONNS",
    "TEMPORAL_SQL_MAX_IDLE_CONNS", "TEMPORAL_SQL_CONNECTION_TIMEOUT", "TEMPORAL_SQL_MAX_CONN_LIFETIME",
    "TEMPORAL_SQL_AWS_REGION", "TEMPORAL_HISTORY_SHARDS",
]
TSV_TYPES = {
    ParameterValueType.INT: "Int", ParameterValueType.FLOAT: "Float", ParameterValueType.BOOL: "Bool",
    ParameterValueType.DURATION: "Duration", ParameterValueType.STR: "String",
}
PRESETS = ["starter", "mid-scale", "high-throughput"]
MODIFIERS = [None, "simple-crud", "orchestrator", "batch-processor", "long-running"]


def _dynamic_config_registry() -> dict[str, str]:
    lines = (DATA / "temporal_dynamic_config_keys.tsv").read_text().splitlines()
    rows = csv.reader((line for line in lines if not line.startswith("#")), delimiter="\t")
    next(rows)  # header
    return {row[0].lower(): row[2] for row in rows}


def _tsv_defaults() -> dict[str, str]:
    lines = (DATA / "temporal_dynamic_config_keys.tsv").read_text().splitlines()
    rows = csv.reader((line for line in lines if not line.startswith("#")), delimiter="\t")
    next(rows)  # header
    return {row[0].lower(): row[3] for row in rows}


# Go constants the tsv's default column names, with their values in Temporal's source
# (common/primitives/constants.go: 4 * 1024 * 1024; common/dynamicconfig: 4 partitions).
GO_CONSTANTS = {"primitives.DefaultTransactionSizeLimit": "4*1024*1024", "defaultNumTaskQueuePartitions": "4"}
GO_DURATION_UNITS = {"time.Nanosecond": 1e-9, "time.Microsecond": 1e-6, "time.Millisecond": 1e-3,
                     "time.Second": 1.0, "time.Minute": 60.0, "time.Hour": 3600.0}


def _go_default(expression: str, value_type: ParameterValueType) -> ParameterValue:
    """A Go default expression of the tsv (``30*time.Second``, ``256000*4*1024``, ``true``) as a value."""
    from temporal_dsql_config.values import format_duration

    expression = GO_CONSTANTS.get(expression, expression).replace(" ", "")
    if value_type == ParameterValueType.BOOL:
        assert expression in ("true", "false"), expression
        return expression == "true"
    product = 1.0
    for factor in expression.split("*"):
        product *= GO_DURATION_UNITS[factor] if factor in GO_DURATION_UNITS else float(factor)
    if value_type == ParameterValueType.DURATION:
        return format_duration(product)
    if value_type == ParameterValueType.INT:
        assert product.is_integer(), expression
        return int(product)
    assert value_type == ParameterValueType.FLOAT, value_type
    return product


def test_go_default_expressions_parse() -> None:
    assert _go_default("30*time.Second", ParameterValueType.DURATION) == "30s"
    assert _go_default("time.Hour", ParameterValueType.DURATION) == "1h"
    assert _go_default("500*time.Millisecond", ParameterValueType.DURATION) == "500ms"
    assert _go_default("256000*4*1024", ParameterValueType.INT) == 1_048_576_000
    assert _go_default("primitives.DefaultTransactionSizeLimit", ParameterValueType.INT) == 4_194_304
    assert _go_default("10", ParameterValueType.FLOAT) == 10.0


def test_every_dynamic_config_default_is_temporals() -> None:
    """default_value of a dynamic-config entry is Temporal's own default (explain --profile lists every
    value that differs from it, so a wrong default would hide a derived value)."""
    tsv = _tsv_defaults()
    wrong = {}
    for entry in default_registry().by_target(OutputTarget.DYNAMIC_CONFIG):
        assert entry.dynamic_config_key is not None
        expected = _go_default(tsv[entry.dynamic_config_key.lower()], entry.value_type)
        if entry.default_value != expected or type(entry.default_value) is not type(expected):
            wrong[entry.key] = (entry.default_value, expected)
    assert wrong == {}


@pytest.mark.parametrize("preset", PRESETS)
def test_explain_profile_lists_every_value_that_differs_from_temporals_default(preset: str) -> None:
    tsv = _tsv_defaults()
    compiler = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    result = compiler.compile(preset)
    listed = {t.parameter_key for t in explain_profile(result.profile, compiler=compiler).derivation_chains}
    registry = default_registry()
    differing = set()
    for entry in registry.by_target(OutputTarget.DYNAMIC_CONFIG):
        assert entry.dynamic_config_key is not None
        temporal_default = _go_default(tsv[entry.dynamic_config_key.lower()], entry.value_type)
        if result.profile.values()[entry.key] != temporal_default:
            differing.add(entry.key)
    assert differing and differing <= listed
    # These are the reviewer's examples: the presets set them away from Temporal's defaults.
    assert {"matching.forwarderMaxOutstandingPolls", "matching.forwarderMaxOutstandingTasks",
            "matching.forwarderMaxRatePerSecond", "history.maxBufferedQueryCount", "history.cacheSizeBasedLimit",
            "system.enableActivityEagerExecution", "system.transactionSizeLimit"} <= listed


def _go_worker_fields() -> set[str]:
    lines = (DATA / "go_sdk_worker_options.tsv").read_text().splitlines()
    return {line.split("\t")[0] for line in lines[1:] if line and not line.startswith("#")} - {"field"}


def test_every_plugin_env_var_of_facts_section_1_is_registered() -> None:
    names = default_registry().env_var_names()
    assert len(PLUGIN_ENV_VARS) >= 35
    assert sorted(set(PLUGIN_ENV_VARS) - names) == []


def test_every_runtime_image_env_var_of_facts_section_4_is_registered() -> None:
    assert sorted(set(RUNTIME_ENV_VARS) - default_registry().env_var_names()) == []


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("modifier", MODIFIERS)
def test_emitted_dynamic_config_keys_and_types_exist_in_temporal(preset: str, modifier: str | None) -> None:
    known = _dynamic_config_registry()
    result = ConfigCompiler().compile(preset, modifier)
    registry = default_registry()
    by_dc = {e.dynamic_config_key: e for e in registry if e.dynamic_config_key}
    for key, value in result.dynamic_config.items():
        assert key.lower() in known, f"{key} is not a registered Temporal dynamic-config key"
        entry = by_dc[key]
        assert known[key.lower()] == TSV_TYPES[entry.value_type], key
        python_type = {"Int": int, "Float": float, "Bool": bool, "Duration": str, "String": str}[known[key.lower()]]
        assert type(value) is python_type, (key, value)


def test_every_dynamic_config_entry_is_emitted() -> None:
    result = ConfigCompiler().compile("starter")
    expected = {e.dynamic_config_key for e in default_registry().by_target(OutputTarget.DYNAMIC_CONFIG)}
    assert set(result.dynamic_config) == expected
    assert len(expected) >= 25


def test_worker_options_name_real_go_sdk_fields() -> None:
    fields = _go_worker_fields()
    assert "MaxConcurrentActivityExecutionSize" in fields
    for entry in default_registry().by_target(OutputTarget.WORKER_OPTIONS):
        if entry.worker_option is not None:
            assert entry.worker_option in fields, entry.key


def test_legacy_names_are_mapped_or_reported_never_emitted() -> None:
    compiler = ConfigCompiler()
    result = compiler.compile("starter", overrides={
        "persistence.transactionSizeLimit": 3_000_000,
        "persistence.defaultActivityRetryPolicy": "ignored",
        "DSQL_CONN_REFRESH_INTERVAL": "5m",
        "system.enableParentClosePolicy": True,
    })
    assert result.dynamic_config["system.transactionSizeLimit"] == 3_000_000
    emitted = set(result.dynamic_config) | {n for env in result.env.values() for n in env}
    for legacy in ("persistence.transactionSizeLimit", "persistence.defaultActivityRetryPolicy",
                   "DSQL_CONN_REFRESH_INTERVAL", "DSQL_CONN_REFRESH_JITTER", "system.enableParentClosePolicy",
                   "persistence.maxConns", "persistence.enableDSQLMode"):
        assert legacy not in emitted
    notes = " ".join(result.input_notes)
    assert "DSQL_CONN_REFRESH_INTERVAL: ignored" in notes
    assert "history.defaultActivityRetryPolicy" in notes
    assert "persistence.transactionSizeLimit: legacy name, read as system.transactionSizeLimit" in notes


def test_pool_legacy_keys_temporal_never_read_are_reported_not_mapped() -> None:
    # facts §3: persistence.maxConns / maxIdleConns are not registered keys, so Temporal never read
    # them; mapping them would silently change a deployment's pool.
    compiler = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    plain = compiler.compile("starter")
    result = compiler.compile("starter", overrides={"persistence.maxConns": 50, "persistence.maxIdleConns": 50})
    assert result.env == plain.env and result.guard_rail_results == []
    assert result.profile.overrides.values == {}
    notes = " ".join(result.input_notes)
    assert "persistence.maxConns: ignored" in notes and "TEMPORAL_SQL_MAX_CONNS" in notes
    assert "persistence.maxIdleConns: ignored" in notes
    assert "## Input notes" in result.why_section and "persistence.maxConns: ignored" in result.why_section
    for name in ("persistence.maxConns", "persistence.maxIdleConns"):
        assert default_registry().resolve_name(name).key is None


def test_temporal_sql_host_means_the_cluster_endpoint_on_every_path() -> None:
    from temporal_dsql_config.compat import parse_env

    compiler = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    host = "abcdefghijklmnopqrstuvwx12.dsql.us-east-1.on.aws"
    by_override = compiler.compile("starter", overrides={"TEMPORAL_SQL_HOST": host})
    for env in by_override.env.values():
        assert env["CLUSTER_ENDPOINT"] == env["TEMPORAL_SQL_HOST"] == host
    assert parse_env({"TEMPORAL_SQL_HOST": host}).overrides == {"dsql.cluster_endpoint": host}
    assert default_registry().resolve_name("TEMPORAL_SQL_HOST").key == "dsql.cluster_endpoint"
    # Two names of the one parameter with different values: an input error naming both.
    from temporal_dsql_config.errors import DsqlConfigError

    with pytest.raises(DsqlConfigError) as info:
        compiler.compile("starter", overrides={"TEMPORAL_SQL_HOST": host, "CLUSTER_ENDPOINT": "other.dsql.us-east-1.on.aws"})
    assert "TEMPORAL_SQL_HOST" in str(info.value) and "CLUSTER_ENDPOINT" in str(info.value)
    # The derived sql.host overridden by key to another host: an error rail.
    from temporal_dsql_config.errors import GuardRailError

    with pytest.raises(GuardRailError) as rail:
        compiler.compile("starter", overrides={"sql.host": "zyxwvutsrqponmlkjihgfedcba.dsql.us-east-1.on.aws"})
    assert [r.rule_name for r in rail.value.errors] == ["sql_host_matches_endpoint"]
    assert "CLUSTER_ENDPOINT" in rail.value.errors[0].message


def test_names_resolve_by_key_env_var_and_dynamic_config_key_case_insensitively() -> None:
    reg = default_registry()
    assert reg.resolve_name("DSQL_RESERVOIR_ENABLED").key == "dsql.reservoir_enabled"
    assert reg.resolve_name("TEMPORAL_SQL_MAX_CONNS").key == "dsql.pool_size"
    assert reg.resolve_name("history.MaxBufferedQueryCount").key == "history.maxBufferedQueryCount"
    assert reg.resolve_name("HISTORY.PERSISTENCEMAXQPS").key == "history.persistenceMaxQPS"
    assert reg.resolve_name("AWS_REGION").key == "dsql.region"
    with pytest.raises(UnknownParameterError) as info:
        reg.resolve_name("DSQL_RESERVOIR_ENABLE")
    assert "DSQL_RESERVOIR_ENABLED" in info.value.suggestions


def test_surfaced_parameters_are_at_most_fifteen() -> None:
    reg = default_registry()
    surfaced = reg.by_classification(ParameterClassification.SLO) + reg.by_classification(ParameterClassification.TOPOLOGY)
    assert 4 <= len(surfaced) <= 15


def test_duplicate_registration_is_rejected() -> None:
    reg = default_registry()
    from temporal_dsql_config.registry import ParameterRegistry

    with pytest.raises(ValueError, match="registered twice"):
        ParameterRegistry([*reg, reg.get("history.shards")])
