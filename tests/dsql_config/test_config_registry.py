"""The registry covers every real knob and emits only names the real systems read."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from copilot_core.types import OutputTarget, ParameterClassification, ParameterValueType
from dsql_config import ConfigCompiler, default_registry
from dsql_config.errors import UnknownParameterError

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
    from dsql_config.registry import ParameterRegistry

    with pytest.raises(ValueError, match="registered twice"):
        ParameterRegistry([*reg, reg.get("history.shards")])
