"""Every guard rail fires on the configuration it guards against, and all fire together."""

from __future__ import annotations

import pytest

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_config.errors import GuardRailError
from temporal_dsql_config.models import GuardRailResult
from temporal_dsql_core.types import ParameterValue


@pytest.fixture(scope="module")
def compiler() -> ConfigCompiler:
    return ConfigCompiler()


def failing(compiler: ConfigCompiler, preset: str, overrides: dict[str, ParameterValue]) -> list[GuardRailResult]:
    with pytest.raises(GuardRailError) as info:
        compiler.compile(preset, overrides=overrides)
    assert info.value.profile is not None
    return info.value.results


def rules(results: list[GuardRailResult], severity: str) -> set[str]:
    return {r.rule_name for r in results if r.severity == severity}


def test_cluster_connection_limit(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "mid-scale", {"dsql.pool_size": 2000})
    assert "cluster_connection_limit" in rules(results, "error")
    message = next(r.message for r in results if r.rule_name == "cluster_connection_limit")
    assert "10,000" in message and "2 pools per process" in message


def test_cluster_connection_limit_counts_every_pool_per_process(compiler: ConfigCompiler) -> None:
    # pool 200: 2 pools per process hold 5,880 connections (fits); 4 hold 11,760 (does not).
    ok = compiler.compile("high-throughput", overrides={"dsql.pool_size": 200})
    assert ok.guard_rail_results and "cluster_connection_limit" not in rules(ok.guard_rail_results, "error")
    results = failing(compiler, "high-throughput", {"dsql.pool_size": 200, "dsql.pools_per_process": 4})
    assert "cluster_connection_limit" in rules(results, "error")


def test_slot_block_limit_is_the_ceiling_when_slot_blocks_are_on(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "high-throughput", {"dsql.slot_block_count": 10})  # 1,000 slots
    message = next(r.message for r in results if r.rule_name == "cluster_connection_limit")
    assert "slot-block limit of 1000" in message


def test_partition_oversized_is_a_warning(compiler: ConfigCompiler) -> None:
    result = compiler.compile("starter", overrides={"matching.numTaskqueueReadPartitions": 64})
    assert rules(result.guard_rail_results, "warning") == {"matching_partition_oversized"}
    assert "Consider 4" in result.guard_rail_results[0].message


def test_sticky_minimal_benefit_is_a_warning(compiler: ConfigCompiler) -> None:
    result = compiler.compile("mid-scale", overrides={"slo.typical_workflow_runtime_sec": 0.5})
    assert rules(result.guard_rail_results, "warning") == {"sticky_minimal_benefit"}
    off = compiler.compile("mid-scale", overrides={"slo.typical_workflow_runtime_sec": 0.5, "sdk.max_cached_workflows": 0})
    assert "sticky_minimal_benefit" not in rules(off.guard_rail_results, "warning")


def test_jittered_rotation_with_reservoir(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "mid-scale", {"DSQL_RESERVOIR_LIFETIME_JITTER": "0s"})
    assert "jittered_rotation" in rules(results, "error")


def test_jittered_rotation_without_reservoir_needs_staggered_startup(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "starter", {"DSQL_STAGGERED_STARTUP": "false", "history.replicas": 6})
    assert "jittered_rotation" in rules(results, "error")
    # A fleet small enough to re-open within one second of budget is fine.
    ok = compiler.compile("starter", overrides={"DSQL_STAGGERED_STARTUP": "false"})
    assert "jittered_rotation" not in rules(ok.guard_rail_results, "error")


def test_max_idle_must_equal_max_conns(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "starter", {"TEMPORAL_SQL_MAX_IDLE_CONNS": "5"})
    assert rules(results, "error") == {"max_idle_equals_max_conns"}
    assert "pool decays" in results[0].message


def test_reservoir_target_zero(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "mid-scale", {"dsql.reservoir_target_ready": 0})
    assert rules(results, "error") == {"reservoir_target_zero"}
    # Off: a zero target is not an error.
    ok = compiler.compile("starter", overrides={"dsql.reservoir_target_ready": 0})
    assert not rules(ok.guard_rail_results, "error")


def test_distributed_rate_limiter_needs_a_table(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "high-throughput", {"DSQL_DISTRIBUTED_RATE_LIMITER_TABLE": ""})
    assert rules(results, "error") == {"distributed_rate_limiter_table_missing"}
    assert "DSQL_DISTRIBUTED_RATE_LIMITER_TABLE" in results[0].message


def test_slot_blocks_need_a_table(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "high-throughput", {"dsql.conn_lease_table": ""})
    assert rules(results, "error") == {"conn_lease_table_missing"}


def test_connection_rate_budget_when_the_distributed_limiter_is_off(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "mid-scale", {"dsql.connection_rate_limit": 20})
    assert rules(results, "error") == {"connection_rate_budget"}
    assert "100 conn/s" in results[0].message
    # The same rate with the distributed limiter on is fine.
    ok = compiler.compile("high-throughput", overrides={"dsql.connection_rate_limit": 20})
    assert "connection_rate_budget" not in rules(ok.guard_rail_results, "error")


def test_token_duration_range(compiler: ConfigCompiler) -> None:
    for bad in ("10s", "16m", "1h"):
        results = failing(compiler, "starter", {"DSQL_TOKEN_DURATION": bad})
        assert rules(results, "error") == {"token_duration_range"}
        assert "15s" in results[0].message and "15m" in results[0].message
    for good in ("15s", "2m", "15m"):
        assert not rules(compiler.compile("starter", overrides={"DSQL_TOKEN_DURATION": good}).guard_rail_results, "error")


def test_reservoir_lifetime_and_guard_window(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "mid-scale", {"DSQL_RESERVOIR_BASE_LIFETIME": "50m", "DSQL_RESERVOIR_LIFETIME_JITTER": "4m"})
    assert "reservoir_lifetime_window" in rules(results, "error")
    results = failing(compiler, "mid-scale", {"DSQL_RESERVOIR_GUARD_WINDOW": "11m"})
    assert "reservoir_guard_window" in {r.rule_name for r in results}
    results = failing(compiler, "starter", {"TEMPORAL_SQL_MAX_CONN_LIFETIME": "58m"})
    assert "max_conn_lifetime_window" in {r.rule_name for r in results}


def test_pollers_within_slots(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "starter", {"sdk.activity_task_pollers": 500})
    assert rules(results, "error") == {"pollers_within_slots"}


def test_history_shards_power_of_two(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "starter", {"TEMPORAL_HISTORY_SHARDS": "1000"})
    assert rules(results, "error") == {"history_shards_power_of_two"}
    assert "512 or 1024" in results[0].message
    assert compiler.compile("starter", overrides={"history.shards": 2048}).history_shards == 2048


def test_all_errors_and_warnings_reported_before_halting(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "starter", {
        "TEMPORAL_SQL_MAX_IDLE_CONNS": "5", "history.shards": 1000, "DSQL_TOKEN_DURATION": "1h",
        "sdk.activity_task_pollers": 500, "matching.numTaskqueueReadPartitions": 64,
    })
    assert rules(results, "error") == {"max_idle_equals_max_conns", "history_shards_power_of_two",
                                       "token_duration_range", "pollers_within_slots"}
    assert "matching_partition_oversized" in rules(results, "warning")
    assert "expert_override" in rules(results, "warning")
    severities = [r.severity for r in results]
    assert severities == sorted(severities, key=lambda s: s != "error")  # errors first


def test_expert_overrides_warn_but_slo_and_topology_overrides_do_not(compiler: ConfigCompiler) -> None:
    result = compiler.compile("mid-scale", overrides={"history.persistenceMaxQPS": 5000, "history.replicas": 4,
                                                      "slo.max_e2e_workflow_latency_ms": 3000})
    warnings = [r for r in result.guard_rail_results if r.severity == "warning"]
    assert [w.parameter_keys for w in warnings] == [["history.persistenceMaxQPS"]]
    assert "expert override" in warnings[0].message and "6000" in warnings[0].message


def test_target_rate_outside_the_band_warns(compiler: ConfigCompiler) -> None:
    result = compiler.compile("starter", overrides={"slo.target_state_transitions_per_sec": 90})
    assert rules(result.guard_rail_results, "warning") == {"target_rate_outside_preset_band"}


def test_slot_block_rounding_counts_whole_blocks_per_pool(compiler: ConfigCompiler) -> None:
    from temporal_dsql_config.presets import slot_blocks_needed

    big = {"slo.target_state_transitions_per_sec": 20_000}
    derived = compiler.compile("high-throughput", overrides=big).profile.values()
    # The derived block size keeps whole-block rounding within the block count.
    assert slot_blocks_needed(derived, int(derived["dsql.slot_block_size"])) <= int(derived["dsql.slot_block_count"])
    assert int(derived["dsql.slot_block_size"]) < 100
    results = failing(compiler, "high-throughput", {**big, "dsql.slot_block_size": 100, "dsql.slot_block_count": 100})
    assert "slot_block_rounding" in rules(results, "error")
    message = next(r.message for r in results if r.rule_name == "slot_block_rounding")
    assert "only 100 exist" in message


def test_low_watermark_above_target_warns(compiler: ConfigCompiler) -> None:
    result = compiler.compile("mid-scale", overrides={"DSQL_RESERVOIR_LOW_WATERMARK": "80"})
    assert "reservoir_low_watermark_above_target" in rules(result.guard_rail_results, "warning")
    ok = compiler.compile("mid-scale", overrides={"DSQL_RESERVOIR_LOW_WATERMARK": "20"})
    assert "reservoir_low_watermark_above_target" not in rules(ok.guard_rail_results, "warning")


def test_cluster_connection_limit_counts_the_reservoir_target(compiler: ConfigCompiler) -> None:
    # Req 5.1 speaks of the reservoir target: pools of 50 with a target of 5,000 hold 5,000 each.
    results = failing(compiler, "mid-scale", {"DSQL_RESERVOIR_TARGET_READY": 5000})
    assert "cluster_connection_limit" in rules(results, "error")
    message = next(r.message for r in results if r.rule_name == "cluster_connection_limit")
    assert "50000 connections" in message and "reservoir target 5000" in message
    assert "DSQL_RESERVOIR_TARGET_READY" in message  # names the fix
    # Without the reservoir the target is never used, so only the pool counts.
    assert "cluster_connection_limit" not in rules(
        compiler.compile("starter", overrides={"DSQL_RESERVOIR_TARGET_READY": 5000}).guard_rail_results, "error")


def test_cluster_connection_limit_counts_a_low_watermark_that_raises_the_target(compiler: ConfigCompiler) -> None:
    # The plugin raises TARGET_READY to LOW_WATERMARK: a watermark of 2,000 holds 2,000 per history pool.
    results = failing(compiler, "mid-scale", {"DSQL_RESERVOIR_LOW_WATERMARK": 2000})
    message = next(r.message for r in results if r.rule_name == "cluster_connection_limit")
    assert "low watermark 2000" in message


def test_read_partitions_must_not_be_below_write_partitions(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "starter", {"matching.numTaskqueueWritePartitions": 16})
    assert rules(results, "error") == {"matching_partitions_read_below_write"}
    message = results[0].message
    assert "(4)" in message and "(16)" in message and "set both to 16" in message
    ok = compiler.compile("starter", overrides={"matching.numTaskqueueReadPartitions": 8,
                                                "matching.numTaskqueueWritePartitions": 4})
    assert "matching_partitions_read_below_write" not in rules(ok.guard_rail_results, "error")


def test_slot_blocks_never_exceed_the_cluster_quota(compiler: ConfigCompiler) -> None:
    result = compiler.compile("high-throughput", overrides={"slo.target_state_transitions_per_sec": 3000})
    env = result.env["history"]
    size, count = int(env["DSQL_SLOT_BLOCK_SIZE"]), int(env["DSQL_SLOT_BLOCK_COUNT"])
    assert size * count <= 10_000 and int(env["DSQL_DISTRIBUTED_CONN_LIMIT"]) == size * count
    assert (size, count) == (24, 416)  # floor(10,000 / 24), not ceil (417 x 24 = 10,008)
    assert result.guard_rail_results == []
    results = failing(compiler, "high-throughput", {"dsql.slot_block_size": 24, "dsql.slot_block_count": 417})
    assert rules(results, "error") == {"slot_block_quota"}
    assert "10008" in results[0].message and "416" in results[0].message


def test_local_burst_budget(compiler: ConfigCompiler) -> None:
    results = failing(compiler, "mid-scale", {"DSQL_CONNECTION_BURST_LIMIT": 1000})
    assert rules(results, "error") == {"connection_burst_budget"}
    assert "8000" in results[0].message and "1,000" in results[0].message and "at most 125" in results[0].message
    # With the distributed limiter (token bucket) the local burst is not the cluster's budget.
    ok = compiler.compile("high-throughput", overrides={"DSQL_CONNECTION_BURST_LIMIT": 1000})
    assert "connection_burst_budget" not in rules(ok.guard_rail_results, "error")
