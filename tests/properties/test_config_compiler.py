"""Hypothesis properties 1-6 and 8-12 of the config compiler (design: Correctness Properties).

Property 7 (adapter output completeness) belongs to the adapters' tests.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from temporal_dsql_config import ConfigCompiler, default_registry
from temporal_dsql_config.artifacts import format_env_value
from temporal_dsql_config.compat import migration_report
from temporal_dsql_config.errors import GuardRailError
from temporal_dsql_config.serialization import (
    profile_from_json,
    profile_from_yaml,
    profile_to_json,
    profile_to_yaml,
)
from temporal_dsql_config.values import format_duration
from temporal_dsql_core.types import (
    ParameterClassification,
    ParameterEntry,
    ParameterValue,
    ParameterValueType,
)

COMPILER = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
REGISTRY = default_registry()
PRESETS = ["starter", "mid-scale", "high-throughput"]
MODIFIERS = [None, "simple-crud", "orchestrator", "batch-processor", "long-running"]
BANDS = {"starter": (1, 49), "mid-scale": (50, 500), "high-throughput": (501, 5000)}
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

presets = st.sampled_from(PRESETS)
modifiers = st.sampled_from(MODIFIERS)


# Names AWS constrains (botocore's models, temporal_dsql_config.aws_rules): values of the form AWS accepts.
_CLUSTER_ID = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=26, max_size=26)
AWS_NAMED: dict[str, st.SearchStrategy[ParameterValue]] = {
    "dsql.cluster_endpoint": _CLUSTER_ID.map(lambda i: f"{i}.dsql.us-east-1.on.aws"),
    "sql.host": _CLUSTER_ID.map(lambda i: f"{i}.dsql.us-east-1.on.aws"),
    "dsql.region": st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"]),
    "dsql.distributed_rate_limiter_table": st.from_regex(r"[a-zA-Z0-9_.-]{3,40}", fullmatch=True),
    "dsql.conn_lease_table": st.from_regex(r"[a-zA-Z0-9_.-]{3,40}", fullmatch=True),
}


def value_for(entry: ParameterEntry) -> st.SearchStrategy[ParameterValue]:
    """Values within the entry's constraints, in its type (durations in the compiler's canonical form)."""
    c = entry.constraints
    if c is not None and c.allowed_values:
        return st.sampled_from(c.allowed_values)
    lo = c.min_value if c and c.min_value is not None else 0
    hi = c.max_value if c and c.max_value is not None else 1_000_000
    t = entry.value_type
    if t == ParameterValueType.BOOL:
        return st.booleans()
    if t == ParameterValueType.INT:
        return st.integers(math.ceil(lo), math.floor(hi))
    if t == ParameterValueType.FLOAT:
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if t == ParameterValueType.DURATION:
        return st.integers(0, 7200).map(lambda s: format_duration(float(s)))
    if entry.key in AWS_NAMED:
        return AWS_NAMED[entry.key]
    return st.one_of(st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=20),
                     st.sampled_from(["true", "1", "null", "1e5", "0x10", "yes", "~", "- a"]))


@st.composite
def slo_and_topology_overrides(draw: st.DrawFn, preset: str) -> dict[str, ParameterValue]:
    """Adopter-facing overrides inside the preset's band (what a valid compilation is built from)."""
    lo, hi = BANDS[preset]
    out: dict[str, ParameterValue] = {}
    if draw(st.booleans()):
        out["slo.target_state_transitions_per_sec"] = draw(st.integers(lo, hi))
    if draw(st.booleans()):
        out["slo.target_workflow_completion_rate"] = draw(st.integers(1, max(2, hi // 4)))
    if draw(st.booleans()):
        out["slo.max_schedule_to_start_ms"] = draw(st.integers(50, 5000))
    if draw(st.booleans()):
        out["slo.typical_workflow_runtime_sec"] = draw(st.floats(2, 86_400, allow_nan=False))
    if draw(st.booleans()):
        out["history.shards"] = 2 ** draw(st.integers(9, 14))
    for service in ("history", "matching", "frontend", "worker"):
        if draw(st.booleans()):
            out[f"{service}.replicas"] = draw(st.integers(1, 8))
    if draw(st.booleans()):
        out["sdk.worker_count"] = draw(st.integers(1, 64))
    if draw(st.booleans()):
        out["dsql.region"] = draw(st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"]))
    return out


@st.composite
def compilations(draw: st.DrawFn) -> tuple[str, str | None, dict[str, ParameterValue]]:
    preset = draw(presets)
    return preset, draw(modifiers), draw(slo_and_topology_overrides(preset))


def compile_valid(preset: str, modifier: str | None, overrides: dict[str, ParameterValue]):  # type: ignore[no-untyped-def]
    try:
        return COMPILER.compile(preset, modifier, overrides)
    except GuardRailError as exc:  # e.g. many replicas against 100 conn/s: not a valid compilation
        assume(False)
        raise AssertionError("unreachable") from exc


# Feature: enhance-config-ux, Property 1: Parameter classification uniqueness
@PROPERTY_SETTINGS
@given(data=compilations())
def test_property_1_parameter_classification_uniqueness(data: tuple[str, str | None, dict[str, ParameterValue]]) -> None:
    profile = COMPILER.resolve(data[0], modifier=data[1], overrides=data[2])
    resolved_profile = COMPILER.profile_from(profile)
    groups = {
        ParameterClassification.SLO: resolved_profile.slo_params,
        ParameterClassification.TOPOLOGY: resolved_profile.topology_params,
        ParameterClassification.SAFETY: resolved_profile.safety_params,
        ParameterClassification.TUNING: resolved_profile.tuning_params,
    }
    seen: dict[str, ParameterClassification] = {}
    for classification, params in groups.items():
        for p in params:
            assert p.key not in seen, f"{p.key} is in {seen.get(p.key)} and {classification}"
            assert p.classification == classification == REGISTRY.get(p.key).classification
            seen[p.key] = classification
    assert set(seen) == set(REGISTRY.keys())
    assert all(e.classification in ParameterClassification for e in REGISTRY)


# Feature: enhance-config-ux, Property 2: Derived parameter completeness
@PROPERTY_SETTINGS
@given(data=compilations())
def test_property_2_derived_parameter_completeness(data: tuple[str, str | None, dict[str, ParameterValue]]) -> None:
    profile = compile_valid(*data).profile
    assert profile.safety_params and profile.tuning_params
    resolved = {p.key: p.value for p in [*profile.safety_params, *profile.tuning_params]}
    for classification in (ParameterClassification.SAFETY, ParameterClassification.TUNING):
        for entry in REGISTRY.by_classification(classification):
            assert entry.key in resolved
            assert resolved[entry.key] is not None


# Feature: enhance-config-ux, Property 3: Exposed parameter count invariant
@PROPERTY_SETTINGS
@given(preset=presets, modifier=modifiers)
def test_property_3_exposed_parameter_count_invariant(preset: str, modifier: str | None) -> None:
    profile = COMPILER.compile(preset, modifier).profile
    assert len(profile.slo_params) + len(profile.topology_params) <= 15


# Feature: enhance-config-ux, Property 4: Dynamic config YAML validity
@PROPERTY_SETTINGS
@given(data=compilations())
def test_property_4_dynamic_config_yaml_validity(data: tuple[str, str | None, dict[str, ParameterValue]]) -> None:
    import yaml

    result = compile_valid(*data)
    document = yaml.safe_load(result.dynamic_config_yaml)
    expected_keys = {e.dynamic_config_key for e in REGISTRY if e.dynamic_config_key}
    assert set(document) == expected_keys
    values = result.profile.values()
    for entry in REGISTRY:
        if entry.dynamic_config_key:
            (item,) = document[entry.dynamic_config_key]
            assert item["constraints"] == {}
            assert item["value"] == values[entry.key]


# Feature: enhance-config-ux, Property 5: Override application
@PROPERTY_SETTINGS
@given(preset=presets, data=st.data())
def test_property_5_override_application(preset: str, data: st.DataObject) -> None:
    entry = data.draw(st.sampled_from(list(REGISTRY)))
    value = data.draw(value_for(entry))
    res = COMPILER.resolve(preset, overrides={entry.key: value})
    assert res.values[entry.key] == value
    assert res.sources[entry.key] == "override"
    profile = COMPILER.profile_from(res)
    param = profile.get_param(entry.key)
    assert param is not None and param.value == value and param.source == "override"
    # The real external name works the same way.
    if entry.env_vars and entry.env_vars[0] not in ("TEMPORAL_SQL_MAX_CONNS", "TEMPORAL_SQL_HOST"):
        assert COMPILER.resolve(preset, overrides={entry.env_vars[0]: value}).values[entry.key] == value


# Feature: enhance-config-ux, Property 6: Why section presence
@PROPERTY_SETTINGS
@given(data=compilations())
def test_property_6_why_section_presence(data: tuple[str, str | None, dict[str, ParameterValue]]) -> None:
    result = compile_valid(*data)
    assert result.why_section.strip()
    assert result.profile.preset_name in result.why_section


# Feature: enhance-config-ux, Property 8: MaxIdleConns equals MaxConns guard rail
@PROPERTY_SETTINGS
@given(preset=presets, pool=st.integers(1, 200), idle=st.integers(0, 200))
def test_property_8_max_idle_equals_max_conns(preset: str, pool: int, idle: int) -> None:
    assume(pool != idle)
    try:
        COMPILER.compile(preset, overrides={"TEMPORAL_SQL_MAX_CONNS": pool, "TEMPORAL_SQL_MAX_IDLE_CONNS": idle})
    except GuardRailError as exc:
        hits = [r for r in exc.results if r.rule_name == "max_idle_equals_max_conns"]
        assert len(hits) == 1 and hits[0].severity == "error"
    else:
        raise AssertionError("compilation did not halt")


# Error triggers on starter that each add exactly one guard-rail error.
ERROR_TRIGGERS: dict[str, dict[str, ParameterValue]] = {
    "max_idle_equals_max_conns": {"dsql.max_idle_conns": 3},
    "history_shards_power_of_two": {"history.shards": 500},
    "token_duration_range": {"dsql.token_duration": "1h"},
    "reservoir_target_zero": {"dsql.reservoir_enabled": True, "dsql.reservoir_target_ready": 0},
    "distributed_rate_limiter_table_missing": {"dsql.distributed_rate_limiter_enabled": True},
    "pollers_within_slots": {"sdk.workflow_task_pollers": 1000},
    "conn_lease_table_missing": {"dsql.slot_block_enabled": True},
    "connection_rate_budget": {"dsql.connection_rate_limit": 100},
    "reservoir_lifetime_window": {"dsql.reservoir_base_lifetime": "55m"},
    "cluster_connection_limit": {"dsql.pool_size": 5000, "dsql.max_idle_conns": 5000},
    "matching_partitions_read_below_write": {"matching.numTaskqueueWritePartitions": 16},
    "connection_burst_budget": {"dsql.connection_burst_limit": 1000},
    "sql_host_matches_endpoint": {"sql.host": "zyxwvutsrqponmlkjihgfedcba.dsql.us-east-1.on.aws"},
    "fargate_task_size": {"history.cpu": 1536},
}


# Feature: enhance-config-ux, Property 9: All guard rail errors reported
@PROPERTY_SETTINGS
@given(chosen=st.sets(st.sampled_from(sorted(ERROR_TRIGGERS)), min_size=1))
def test_property_9_all_guard_rail_errors_reported(chosen: set[str]) -> None:
    if "cluster_connection_limit" in chosen and "max_idle_equals_max_conns" in chosen:
        chosen = chosen - {"max_idle_equals_max_conns"}  # both set the idle limit
    overrides: dict[str, ParameterValue] = {}
    for rule in sorted(chosen):
        overrides.update(ERROR_TRIGGERS[rule])
    expected = set(chosen)
    if "distributed_rate_limiter_table_missing" in chosen:
        expected.discard("connection_rate_budget")  # the local budget does not apply with the distributed limiter
        expected.discard("connection_burst_budget")  # nor does the local burst
    try:
        COMPILER.compile("starter", overrides=overrides)
    except GuardRailError as exc:
        errors = [r for r in exc.results if r.severity == "error"]
        assert len(errors) == len(expected)
        assert {r.rule_name for r in errors} == expected
    else:
        raise AssertionError("compilation did not halt")


# Feature: enhance-config-ux, Property 10: Config_Profile serialization round-trip
@PROPERTY_SETTINGS
@given(data=compilations(), extra=st.data())
def test_property_10_config_profile_round_trip(data: tuple[str, str | None, dict[str, ParameterValue]],
                                               extra: st.DataObject) -> None:
    # Plus one override of any parameter with any valid value (strings such as "true" or "1" included).
    entry = extra.draw(st.sampled_from(list(REGISTRY)))
    overrides = {**data[2], entry.key: extra.draw(value_for(entry))}
    profile = COMPILER.profile_from(COMPILER.resolve(data[0], modifier=data[1], overrides=overrides))
    from_json = profile_from_json(profile_to_json(profile))
    assert from_json == profile
    assert from_json.model_dump() == profile.model_dump()
    assert all(type(a.value) is type(b.value) for a, b in zip(from_json.all_params(), profile.all_params(), strict=True))
    from_yaml = profile_from_yaml(profile_to_yaml(profile))
    assert from_yaml == profile
    assert all(type(a.value) is type(b.value) for a, b in zip(from_yaml.all_params(), profile.all_params(), strict=True))


# Feature: enhance-config-ux, Property 11: Describe-preset completeness and grouping
@PROPERTY_SETTINGS
@given(preset=presets, modifier=modifiers)
def test_property_11_describe_preset_completeness_and_grouping(preset: str, modifier: str | None) -> None:
    desc = COMPILER.describe_preset(preset, modifier=modifier)
    keys = [p.key for group in desc.groups.values() for p in group]
    assert sorted(keys) == sorted(REGISTRY.keys())
    for classification, group in desc.groups.items():
        assert all(p.classification == classification and p.rationale for p in group)
    assert desc.groups[ParameterClassification.SLO] and desc.groups[ParameterClassification.TOPOLOGY]


def _different(entry: ParameterEntry, value: ParameterValue) -> ParameterValue:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        c = entry.constraints
        return value - 1 if c and c.max_value is not None and value + 1 > c.max_value else value + 1
    if isinstance(value, float):
        return value + 1.0
    if entry.value_type == ParameterValueType.DURATION:
        from temporal_dsql_config.values import parse_go_duration

        return format_duration(parse_go_duration(value) + 1)
    if entry.key in ("dsql.cluster_endpoint", "sql.host"):
        return ("b" if value[0] == "a" else "a") + value[1:]
    return value + "x"


# Names that share one parameter with another name (region, endpoint) are left out: the plugin reads
# only the first of them, so "redundant" is decided per parameter there.
CANDIDATE_ENV = sorted(
    name
    for e in REGISTRY
    for name in e.env_vars
    if name not in {"SERVICES", "REGION", "AWS_REGION", "TEMPORAL_SQL_AWS_REGION", "TEMPORAL_SQL_HOST",
                    "TEMPORAL_SQL_PLUGIN", "TEMPORAL_SQL_PLUGIN_NAME"}
    and (e.constraints is None or not e.constraints.allowed_values)
)


# Feature: enhance-config-ux, Property 12: Redundant environment variable detection
@PROPERTY_SETTINGS
@given(preset=presets, names=st.sets(st.sampled_from(CANDIDATE_ENV), min_size=1, max_size=12), data=st.data())
def test_property_12_redundant_env_var_detection(preset: str, names: set[str], data: st.DataObject) -> None:
    derived = COMPILER.resolve(preset).values
    redundant = set(data.draw(st.sets(st.sampled_from(sorted(names)))))
    env: dict[str, str] = {}
    for name in names:
        key = REGISTRY.resolve_name(name).key
        assert key is not None
        value = derived[key]
        env[name] = format_env_value(value if name in redundant else _different(REGISTRY.get(key), value))
    report = migration_report(env, preset, compiler=COMPILER)
    assert set(report.redundant) == redundant
    assert set(report.overrides) == names - redundant
