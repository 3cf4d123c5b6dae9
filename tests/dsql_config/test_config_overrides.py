"""Overrides on every parameter, by registry key or real name; typed errors for bad input."""

from __future__ import annotations

import pytest

from temporal_dsql_config import ConfigCompiler, default_registry
from temporal_dsql_config.errors import (
    ConstraintViolationError,
    DsqlConfigError,
    UnknownModifierError,
    UnknownParameterError,
    UnknownPresetError,
)
from temporal_dsql_core.errors import InputError
from temporal_dsql_core.types import ParameterOverrides


@pytest.fixture(scope="module")
def compiler() -> ConfigCompiler:
    return ConfigCompiler()


def test_tuning_overrides_are_applied_not_dropped(compiler: ConfigCompiler) -> None:
    result = compiler.compile("starter", overrides={"history.persistenceMaxQPS": 5000})
    param = result.profile.get_param("history.persistenceMaxQPS")
    assert param is not None and param.value == 5000 and param.source == "override"
    assert result.dynamic_config["history.persistenceMaxQPS"] == 5000
    trace = next(t for t in result.trace if t.parameter_key == "history.persistenceMaxQPS")
    assert trace.base_value == 1000 and trace.final_value == 5000
    assert trace.derivation_chain[-1] == "expert override: 1000 → 5000"
    assert result.profile.overrides == ParameterOverrides(values={"history.persistenceMaxQPS": 5000})


def test_overrides_by_env_var_and_dynamic_config_name(compiler: ConfigCompiler) -> None:
    result = compiler.compile("mid-scale", overrides={
        "CLUSTER_ENDPOINT": "abcdefghijklmnopqrstuvwx12.dsql.eu-west-1.on.aws",
        "AWS_REGION": "eu-west-1",
        "matching.numTaskqueueReadPartitions": 12,
        "MaxConcurrentActivityExecutionSize": 300,
    })
    env = result.env["matching"]
    assert env["CLUSTER_ENDPOINT"] == env["TEMPORAL_SQL_HOST"] == "abcdefghijklmnopqrstuvwx12.dsql.eu-west-1.on.aws"
    assert env["REGION"] == env["AWS_REGION"] == "eu-west-1"
    assert result.dynamic_config["matching.numTaskqueueWritePartitions"] == 12  # derived from the override
    assert result.worker_options.max_concurrent_activities == 300


def test_every_parameter_accepts_an_override(compiler: ConfigCompiler) -> None:
    for entry in default_registry():
        res = compiler.resolve("mid-scale", overrides={entry.key: entry.default_value})
        assert res.values[entry.key] == entry.default_value
        assert res.sources[entry.key] == "override"


def test_strings_are_parsed_as_the_parameter_type(compiler: ConfigCompiler) -> None:
    res = compiler.resolve("starter", overrides={"TEMPORAL_SQL_MAX_CONNS": "1", "TEMPORAL_SQL_MAX_IDLE_CONNS": "1",
                                                 "DSQL_RESERVOIR_ENABLED": "T", "DSQL_TOKEN_DURATION": "14m0s",
                                                 "slo.typical_workflow_runtime_sec": "2.5"})
    assert res.values["dsql.pool_size"] == 1 and type(res.values["dsql.pool_size"]) is int
    assert res.values["dsql.reservoir_enabled"] is True
    assert res.values["dsql.token_duration"] == "14m"
    assert res.values["slo.typical_workflow_runtime_sec"] == 2.5


def test_unknown_names_suggest_close_matches(compiler: ConfigCompiler) -> None:
    with pytest.raises(UnknownParameterError) as info:
        compiler.compile("starter", overrides={"history.replica": 3})
    assert "history.replicas" in info.value.suggestions
    assert isinstance(info.value, InputError) and info.value.field == "history.replica"
    with pytest.raises(UnknownParameterError) as info:
        compiler.compile("starter", overrides={"DSQL_RESERVOIR_TARGET": 3})
    assert "DSQL_RESERVOIR_TARGET_READY" in str(info.value)


def test_out_of_range_names_min_and_max(compiler: ConfigCompiler) -> None:
    with pytest.raises(ConstraintViolationError) as info:
        compiler.compile("starter", overrides={"dsql.connection_rate_limit": 500})
    assert info.value.max_value == 100 and "max 100" in str(info.value)
    with pytest.raises(ConstraintViolationError) as info:
        compiler.compile("starter", overrides={"history.replicas": 0})
    assert info.value.min_value == 1 and "min 1" in str(info.value)
    with pytest.raises(ConstraintViolationError) as info:
        compiler.compile("starter", overrides={"TEMPORAL_SQL_PLUGIN": "postgres12"})
    assert info.value.allowed == ["dsql"]


def test_wrong_types_are_rejected(compiler: ConfigCompiler) -> None:
    for name, value in (("history.replicas", True), ("history.replicas", "three"), ("dsql.reservoir_enabled", "yes"),
                        ("DSQL_TOKEN_DURATION", "fifteen minutes"), ("history.replicas", 2.5)):
        with pytest.raises(ConstraintViolationError) as info:
            compiler.compile("starter", overrides={name: value})
        # Typed errors name the field and say how to fix the value.
        assert info.value.field == compiler.registry.resolve_name(name).key
        assert info.value.suggestion
    with pytest.raises(ConstraintViolationError) as info:
        compiler.compile("starter", overrides={"DSQL_RESERVOIR_ENABLED": "maybe"})
    assert info.value.allowed is not None and {"1", "t", "TRUE", "false", "F"} <= set(info.value.allowed)
    with pytest.raises(ConstraintViolationError) as info:
        compiler.compile("starter", overrides={"DSQL_TOKEN_DURATION": "1x"})
    assert "1h30m" in str(info.value.suggestion)


def test_conflicting_names_for_one_parameter(compiler: ConfigCompiler) -> None:
    with pytest.raises(DsqlConfigError, match="different values"):
        compiler.compile("starter", overrides={"REGION": "eu-west-1", "AWS_REGION": "us-west-2"})
    ok = compiler.compile("starter", overrides={"REGION": "eu-west-1", "AWS_REGION": "eu-west-1"})
    assert ok.env["worker"]["AWS_REGION"] == "eu-west-1"


def test_unknown_preset_and_modifier(compiler: ConfigCompiler) -> None:
    with pytest.raises(UnknownPresetError) as p:
        compiler.compile("mid_scale")
    assert p.value.allowed == ["starter", "mid-scale", "high-throughput"] and "mid-scale" in str(p.value)
    with pytest.raises(UnknownModifierError) as m:
        compiler.compile("starter", "batch")
    assert "batch-processor" in str(m.value)


def test_overrides_equal_to_the_derived_value_do_not_warn(compiler: ConfigCompiler) -> None:
    derived = compiler.resolve("mid-scale").values
    same = {k: derived[k] for k in ("dsql.pool_size", "dsql.connection_burst_limit", "history.persistenceMaxQPS",
                                    "dsql.reservoir_base_lifetime", "matching.numTaskqueueWritePartitions")}
    result = compiler.compile("mid-scale", overrides=same)
    assert result.guard_rail_results == []
    chains = {t.parameter_key: t for t in result.trace}
    for key in same:  # recorded in the trace, as an override that changes nothing
        assert chains[key].source == "override"
        assert any("redundant" in step for step in chains[key].derivation_chain), chains[key].derivation_chain
    assert "redundant" in result.why_section
    # Equal to the value derived from the other overrides (not the preset's): still no warning.
    result = compiler.compile("mid-scale", overrides={"dsql.pool_size": 40, "dsql.max_idle_conns": 40})
    assert [r.parameter_keys for r in result.guard_rail_results] == [["dsql.pool_size"]]
    # A different value warns with the value it replaced.
    result = compiler.compile("mid-scale", overrides={"history.persistenceMaxQPS": 7000})
    assert [r.rule_name for r in result.guard_rail_results] == ["expert_override"]
    assert f"derived value was {derived['history.persistenceMaxQPS']}" in result.guard_rail_results[0].message


def test_stock_env_compiles_without_warnings() -> None:
    # Every env var the compiler emits for the starter preset, fed back in: nothing to warn about.
    from temporal_dsql_config.compat import compile_from_env

    plain = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    stock = {k: v for k, v in plain.compile("starter").env["history"].items() if k != "SERVICES"}
    assert len(stock) > 20
    result, report = compile_from_env(stock, compiler=plain)
    assert result.guard_rail_results == []
    assert report.overrides == [] and len(report.redundant) >= 20
