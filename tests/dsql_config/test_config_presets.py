"""Preset and modifier values of Requirements 2 and 3, SLO-driven derivation, expected bounds."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_config.bounds import METRIC_NAMES
from temporal_dsql_config.explain import explain_preset
from temporal_dsql_config.guard_rails import total_connections
from temporal_dsql_config.values import parse_go_duration
from temporal_dsql_core.types import ParameterValue

PRESETS = ["starter", "mid-scale", "high-throughput"]
MODIFIERS = ["simple-crud", "orchestrator", "batch-processor", "long-running"]
CORE = ConfigCompiler(sdk_adapters=[], platform_adapters=[])


@pytest.fixture(scope="module")
def compiler() -> ConfigCompiler:
    return ConfigCompiler()


def values(compiler: ConfigCompiler, preset: str, modifier: str | None = None,
           **overrides: ParameterValue) -> dict[str, ParameterValue]:
    return compiler.compile(preset, modifier, {k.replace("__", "."): v for k, v in overrides.items()}).profile.values()


def test_starter_defaults(compiler: ConfigCompiler) -> None:
    result = compiler.compile("starter")
    v = result.profile.values()
    assert v["dsql.reservoir_enabled"] is False
    assert v["dsql.pool_size"] == 10
    assert result.env["history"]["TEMPORAL_SQL_MAX_CONNS"] == "10"
    assert v["dsql.distributed_rate_limiter_enabled"] is False
    assert v["dsql.slot_block_enabled"] is False
    assert "DSQL_SLOT_BLOCK_SIZE" not in result.env["history"]
    assert result.env["history"]["DSQL_DISTRIBUTED_CONN_LEASE_ENABLED"] == "false"
    assert result.distributed_rate_limiter_table is None and result.conn_lease_table is None
    assert v["history.persistenceMaxQPS"] <= 1500  # low
    assert v["slo.target_state_transitions_per_sec"] < 50


def test_mid_scale_defaults(compiler: ConfigCompiler) -> None:
    result = compiler.compile("mid-scale")
    v = result.profile.values()
    assert v["dsql.reservoir_enabled"] is True
    assert v["dsql.pool_size"] == 50
    assert v["dsql.reservoir_target_ready"] == 50
    assert v["dsql.distributed_rate_limiter_enabled"] is False  # per-instance limiting
    assert result.env["history"]["DSQL_CONNECTION_RATE_LIMIT"] == str(v["dsql.connection_rate_limit"])
    starter = compiler.compile("starter").profile.values()
    assert starter["history.persistenceMaxQPS"] < v["history.persistenceMaxQPS"] <= 15_000  # moderate
    assert 50 <= float(v["slo.target_state_transitions_per_sec"]) <= 500


def test_high_throughput_defaults(compiler: ConfigCompiler) -> None:
    result = compiler.compile("high-throughput")
    v = result.profile.values()
    mid = compiler.compile("mid-scale").profile.values()
    assert v["dsql.reservoir_enabled"] is True
    assert v["dsql.reservoir_target_ready"] == v["dsql.pool_size"]
    assert v["dsql.distributed_rate_limiter_enabled"] is True
    assert result.distributed_rate_limiter_table == "temporal-dsql-rate-limiter"
    assert result.env["history"]["DSQL_DISTRIBUTED_RATE_LIMITER_TABLE"] == "temporal-dsql-rate-limiter"
    assert result.conn_lease_table == "temporal-dsql-conn-lease"
    assert parse_go_duration(str(v["dsql.max_conn_lifetime"])) < 55 * 60
    assert v["matching.numTaskqueueReadPartitions"] >= 16 > mid["matching.numTaskqueueReadPartitions"]
    assert v["history.persistenceMaxQPS"] > mid["history.persistenceMaxQPS"]  # aggressive
    assert float(v["slo.target_state_transitions_per_sec"]) > 500


def test_long_running_enables_sticky_caching_with_longer_timeout(compiler: ConfigCompiler) -> None:
    for preset in PRESETS:
        base, mod = values(compiler, preset), values(compiler, preset, "long-running")
        assert mod["sdk.max_cached_workflows"] > base["sdk.max_cached_workflows"] > 0
        assert parse_go_duration(str(mod["sdk.sticky_schedule_to_start_timeout"])) > parse_go_duration(
            str(base["sdk.sticky_schedule_to_start_timeout"]))
        assert mod["system.enableStickyQuery"] is True


def test_batch_processor_raises_partitions_and_activity_slots(compiler: ConfigCompiler) -> None:
    for preset in PRESETS:
        base, mod = values(compiler, preset), values(compiler, preset, "batch-processor")
        assert mod["matching.numTaskqueueReadPartitions"] > base["matching.numTaskqueueReadPartitions"]
        assert mod["matching.numTaskqueueWritePartitions"] == mod["matching.numTaskqueueReadPartitions"]
        assert mod["sdk.max_concurrent_activities"] > base["sdk.max_concurrent_activities"]


def test_simple_crud_enables_eager_and_lowers_partitions(compiler: ConfigCompiler) -> None:
    for preset in PRESETS:
        base, mod = values(compiler, preset), values(compiler, preset, "simple-crud")
        assert base["system.enableActivityEagerExecution"] is False
        assert mod["system.enableActivityEagerExecution"] is True
        assert mod["sdk.disable_eager_activities"] is False
        assert mod["sdk.max_concurrent_eager_activities"] > 0
        assert mod["matching.numTaskqueueReadPartitions"] <= base["matching.numTaskqueueReadPartitions"]
    for preset in ("mid-scale", "high-throughput"):  # starter is already at Temporal's minimum of 4
        assert (values(compiler, preset, "simple-crud")["matching.numTaskqueueReadPartitions"]
                < values(compiler, preset)["matching.numTaskqueueReadPartitions"])
    result = compiler.compile("mid-scale", "simple-crud")
    assert result.worker_options.disable_eager_activities is False
    assert result.dynamic_config["system.enableActivityEagerExecution"] is True


def test_orchestrator_balanced_partitions_moderate_workflow_slots_child_dispatch(compiler: ConfigCompiler) -> None:
    for preset in PRESETS:
        base, mod = values(compiler, preset), values(compiler, preset, "orchestrator")
        assert mod["matching.numTaskqueueReadPartitions"] == base["matching.numTaskqueueReadPartitions"]
        assert base["sdk.max_concurrent_workflow_tasks"] < mod["sdk.max_concurrent_workflow_tasks"] <= 2 * int(
            base["sdk.max_concurrent_workflow_tasks"])
        assert mod["limit.numPendingChildExecutions.error"] > base["limit.numPendingChildExecutions.error"]
        assert mod["matching.forwarderMaxChildrenPerNode"] > base["matching.forwarderMaxChildrenPerNode"]
        assert mod["history.enableParentClosePolicy"] is True


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("modifier", [m for m in MODIFIERS if m != "simple-crud"])
def test_modifiers_never_lower_a_preset_value(compiler: ConfigCompiler, preset: str, modifier: str) -> None:
    base, mod = values(compiler, preset), values(compiler, preset, modifier)
    for key, before in base.items():
        after = mod[key]
        if isinstance(before, bool) or (isinstance(before, str) and key.startswith(("dsql.", "sql.", "temporal."))):
            continue
        if isinstance(before, int | float):
            assert after >= before, (key, before, after)
        elif key.startswith(("sdk.", "history.", "matching.")) and before and before[-1] in "smh":
            assert parse_go_duration(str(after)) >= parse_go_duration(before), key


def test_simple_crud_lowers_only_partitions_and_never_below_the_preset_floor(compiler: ConfigCompiler) -> None:
    for preset in PRESETS:
        base, mod = values(compiler, preset), values(compiler, preset, "simple-crud")
        lowered = {k for k, v in base.items() if isinstance(v, int | float) and not isinstance(v, bool) and mod[k] < v}
        assert lowered <= {"matching.numTaskqueueReadPartitions", "matching.numTaskqueueWritePartitions",
                           "matching.forwarderMaxOutstandingPolls", "matching.forwarderMaxOutstandingTasks",
                           "matching.forwarderMaxRatePerSecond"}
        assert mod["matching.numTaskqueueReadPartitions"] >= {"starter": 4, "mid-scale": 4, "high-throughput": 16}[preset]


PARTITION_FLOOR = {"starter": 4, "mid-scale": 4, "high-throughput": 16}
RATE_BAND = {"starter": (1, 49), "mid-scale": (50, 500), "high-throughput": (501, 5000)}


@settings(max_examples=40, deadline=None)
@given(data=st.data(), preset=st.sampled_from(PRESETS))
def test_simple_crud_partition_step_is_traced_and_never_below_the_preset_floor(data, preset: str) -> None:  # type: ignore[no-untyped-def]
    """Requirement 3.4 (fewer partitions) vs "never below the preset's own": the trace shows the preset's
    rate-derived count as base_value, the modifier's step, and a final value between floor and base."""
    rate = data.draw(st.integers(*RATE_BAND[preset]))
    over = {"slo.target_state_transitions_per_sec": rate}
    plain = CORE.compile(preset, None, over)
    crud = CORE.compile(preset, "simple-crud", over)
    key = "matching.numTaskqueueReadPartitions"
    t_plain = next(t for t in plain.trace if t.parameter_key == key)
    t_crud = next(t for t in crud.trace if t.parameter_key == key)
    assert t_crud.base_value == t_plain.final_value == plain.profile.values()[key]
    final = crud.profile.values()[key]
    assert PARTITION_FLOOR[preset] <= final <= t_plain.final_value
    assert crud.profile.values()["matching.numTaskqueueWritePartitions"] == final
    assert crud.guard_rail_results == []
    if final < t_plain.final_value:
        assert t_crud.source == "modifier"
        assert "modifier simple-crud" in t_crud.derivation_chain[-1]
        assert "never below the preset floor" in t_crud.derivation_chain[-1]
        narrative = explain_preset(preset, modifier="simple-crud", compiler=CORE).to_text()
        assert "never below the preset's." not in narrative  # the narrative must not claim nothing was lowered
    else:
        assert t_crud.source == "derived" and len(t_crud.derivation_chain) == 1


def test_batch_processor_partition_step_is_traced() -> None:
    result = CORE.compile("mid-scale", "batch-processor")
    trace = next(t for t in result.trace if t.parameter_key == "matching.numTaskqueueReadPartitions")
    assert trace.source == "modifier" and trace.final_value > trace.base_value  # type: ignore[operator]
    assert trace.derivation_chain[-1].startswith("modifier batch-processor (partitions:")


@pytest.mark.parametrize(("preset", "modifier"), list(itertools.product(PRESETS, [None, *MODIFIERS])))
def test_every_shipped_combination_compiles_with_zero_warnings(compiler: ConfigCompiler, preset: str,
                                                                modifier: str | None) -> None:
    result = compiler.compile(preset, modifier)
    assert result.guard_rail_results == []
    assert result.why_section.strip()


def test_slo_rate_drives_derived_values_inside_the_band(compiler: ConfigCompiler) -> None:
    low = compiler.compile("mid-scale", overrides={"slo.target_state_transitions_per_sec": 100})
    high = compiler.compile("mid-scale", overrides={"slo.target_state_transitions_per_sec": 480})
    lv, hv = low.profile.values(), high.profile.values()
    for key in ("history.replicas", "matching.numTaskqueueReadPartitions", "history.persistenceMaxQPS",
                "history.shards", "matching.persistenceMaxQPS"):
        assert hv[key] > lv[key], key
    assert hv["dsql.connection_rate_limit"] <= lv["dsql.connection_rate_limit"]  # more processes share 100/s
    trace = {t.parameter_key: t for t in high.trace}
    assert trace["history.replicas"].source == "derived"
    assert "history_replicas_from_rate" in trace["history.replicas"].derivation_chain[0]
    assert "slo.target_state_transitions_per_sec=480" in trace["history.replicas"].derivation_chain[0]
    assert high.guard_rail_results == []  # an SLO override is not an expert override


def test_high_throughput_pool_sized_from_rate_under_the_connection_budget(compiler: ConfigCompiler) -> None:
    base = compiler.compile("high-throughput").profile.values()
    few = compiler.compile("high-throughput", overrides={"history.replicas": 6}).profile.values()
    assert few["dsql.pool_size"] > base["dsql.pool_size"]  # more rate per replica, bigger pool
    big = compiler.compile("high-throughput", overrides={"slo.target_state_transitions_per_sec": 20_000})
    assert total_connections(big.profile.values()) <= 10_000
    assert big.guard_rail_results == []


def test_completion_rate_and_schedule_to_start_drive_workers_and_pollers(compiler: ConfigCompiler) -> None:
    slow = values(compiler, "mid-scale", slo__max_schedule_to_start_ms=1000)
    fast = values(compiler, "mid-scale", slo__max_schedule_to_start_ms=100)
    assert fast["sdk.workflow_task_pollers"] > slow["sdk.workflow_task_pollers"]
    relaxed = values(compiler, "mid-scale", slo__max_e2e_workflow_latency_ms=8000)
    assert relaxed["sdk.sticky_schedule_to_start_timeout"] == "4s"
    assert values(compiler, "mid-scale")["sdk.sticky_schedule_to_start_timeout"] == "1s"
    more = values(compiler, "mid-scale", slo__target_workflow_completion_rate=300)
    assert more["sdk.worker_count"] > values(compiler, "mid-scale")["sdk.worker_count"]


@pytest.mark.parametrize("preset", PRESETS)
def test_expected_bounds_cover_every_metric_and_follow_the_slo(compiler: ConfigCompiler, preset: str) -> None:
    profile = compiler.compile(preset).profile
    bounds = {b.metric: b for b in profile.expected_bounds}
    assert set(bounds) == set(METRIC_NAMES)
    assert len(METRIC_NAMES) == 27
    v = profile.values()
    assert bounds["latency.workflow_schedule_to_start_p99"].upper == v["slo.max_schedule_to_start_ms"]
    # Throughput may use the whole band of the preset, and at least 25% over the target rate.
    band_max = compiler.preset_definition(preset).throughput_range.max_st_per_sec
    rate_ceiling = max(1.25 * float(v["slo.target_state_transitions_per_sec"]), band_max or 0.0)
    assert bounds["throughput.state_transitions_per_sec"].upper == rate_ceiling
    assert bounds["throughput.workflows_started_per_sec"].upper >= rate_ceiling / 2
    assert bounds["matching.backlog_age"].upper == v["slo.max_schedule_to_start_ms"]  # both in ms
    assert all(b.lower <= b.upper for b in bounds.values())
    assert bounds["dsql_pool.pool_open_count"].upper == total_connections(v)
    if not v["dsql.reservoir_enabled"]:
        assert bounds["dsql_pool.reservoir_size"].upper == 0
    tighter = compiler.compile(preset, overrides={"slo.max_schedule_to_start_ms": 150}).profile
    assert {b.metric: b for b in tighter.expected_bounds}["latency.activity_schedule_to_start_p99"].upper == 150


def test_list_and_describe_presets(compiler: ConfigCompiler) -> None:
    names = [p.name for p in compiler.list_presets()]
    assert names == PRESETS
    definition = compiler.preset_definition("high-throughput")
    assert {r.name for r in definition.safety_derivations} >= {"pool_size_from_rate", "connection_rate_from_budget"}
    assert {r.name for r in definition.tuning_derivations} >= {"persistence_qps_from_rate"}


BANDS = {"starter": (1, 49), "mid-scale": (50, 500), "high-throughput": (501, 20_000)}


# Property (compiler-specific): any SLO inputs inside a preset's band derive a configuration that
# passes every guard rail with no warning, for every modifier.
@settings(max_examples=100, deadline=None)
@given(preset=st.sampled_from(PRESETS), modifier=st.sampled_from([None, *MODIFIERS]), data=st.data())
def test_property_slo_inputs_in_band_always_derive_a_safe_configuration(preset: str, modifier: str | None,
                                                                         data: st.DataObject) -> None:
    lo, hi = BANDS[preset]
    rate = data.draw(st.integers(lo, hi))
    overrides: dict[str, ParameterValue] = {
        "slo.target_state_transitions_per_sec": rate,
        "slo.target_workflow_completion_rate": data.draw(st.integers(1, rate)),
        "slo.max_schedule_to_start_ms": data.draw(st.integers(10, 600_000)),
        "slo.max_e2e_workflow_latency_ms": data.draw(st.integers(50, 10_000_000)),
        "slo.typical_workflow_runtime_sec": data.draw(st.floats(2, 1_000_000)),
    }
    result = CORE.compile(preset, modifier, overrides)
    assert result.guard_rail_results == []
    assert total_connections(result.profile.values()) <= 10_000


def test_env_for_rejects_unknown_services(compiler: ConfigCompiler) -> None:
    from temporal_dsql_config.errors import DsqlConfigError

    with pytest.raises(DsqlConfigError) as info:
        compiler.compile("starter").env_for("ui", cluster_endpoint="e", region="r")
    assert info.value.allowed == ["frontend", "history", "matching", "worker"]
