"""Scale presets and the named derivation rules that turn SLO and topology inputs into values.

A preset supplies SLO defaults, floors and the few literal choices Requirement 2 fixes (reservoir on
or off, pool size 10 / 50, which DynamoDB features are on). Everything else is computed by the
rules in ``RULES``, in order, from already-resolved values, so an SLO change flows through topology,
safety and tuning, and every rule's name and expression lands in the compilation trace.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from temporal_dsql_config.errors import UnknownPresetError
from temporal_dsql_config.fargate import FARGATE_CPU_UNITS, fargate_cpu_at_least
from temporal_dsql_config.models import ThroughputRange
from temporal_dsql_config.modifiers import ModifierSpec
from temporal_dsql_config.values import format_duration, parse_go_duration
from temporal_dsql_core.types import ParameterValue

__all__ = [
    "CONNECTION_RATE_BUDGET",
    "DSQL_BURST_CAPACITY",
    "DSQL_MAX_CONNECTIONS",
    "PARTITIONS_KEY",
    "PRESETS",
    "RULES",
    "PresetSpec",
    "Rule",
    "RuleContext",
    "get_preset",
    "modifier_partitions",
    "per_process_connections",
    "per_process_effective_target",
    "per_process_held_connections",
    "per_process_low_watermark",
    "per_process_reservoir_target",
    "slot_blocks_needed",
    "useful_partitions",
    "values_a_modifier_may_lower",
]

DSQL_MAX_CONNECTIONS = 10_000  # default cluster quota (can be raised by AWS support)
CONNECTION_RATE_BUDGET = 100  # new connections per second per cluster, fixed
DSQL_BURST_CAPACITY = 1_000
ST_PER_HISTORY_REPLICA = 100  # state transitions/s one history replica is sized for
COMPLETIONS_PER_WORKER = 25  # workflow completions/s one application worker is sized for
TASKS_PER_PARTITION = 50  # tasks/s one task-queue partition serves comfortably
POOL_PER_REPLICA_RATE = 0.8  # connections per state transition/s handled by one history replica
CONNECTION_BUDGET_SHARE = 0.8  # share of the 10,000 connections the derived pools may use
SERVICE_POOL_WEIGHT = {"history": 1.0, "matching": 0.5, "frontend": 0.4, "worker": 0.2}


@dataclass(frozen=True, slots=True)
class PresetSpec:
    name: str
    description: str
    throughput_range: ThroughputRange
    slo: dict[str, ParameterValue]
    floors: dict[str, int]  # lower bounds of rate-derived values
    fixed: dict[str, ParameterValue]  # literal choices of Requirement 2
    derive_pool_from_rate: bool = False
    resources: dict[str, int] = field(default_factory=dict)  # cpu/memory floors

    def in_band(self, rate: float) -> bool:
        lo, hi = self.throughput_range.min_st_per_sec, self.throughput_range.max_st_per_sec
        return rate >= lo and (hi is None or rate <= hi)


@dataclass(slots=True)
class RuleContext:
    values: dict[str, ParameterValue]
    preset: PresetSpec
    modifier: ModifierSpec | None

    def i(self, key: str) -> int:
        v = self.values[key]
        assert not isinstance(v, str)
        return int(v)

    def f(self, key: str) -> float:
        v = self.values[key]
        assert not isinstance(v, str)
        return float(v)

    def b(self, key: str) -> bool:
        return bool(self.values[key])

    def secs(self, key: str) -> float:
        return parse_go_duration(str(self.values[key]))


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    key: str
    expression: str
    depends_on: tuple[str, ...]
    fn: Callable[[RuleContext], ParameterValue]
    # A last step after fn (e.g. rounding up to a Fargate size): (value, the trace's note or None).
    adjust: Callable[[ParameterValue], tuple[ParameterValue, str | None]] | None = None


def _ceil_to(x: float, step: int) -> int:
    return int(math.ceil(x / step - 1e-9) * step) if x > 0 else step


def _next_pow2(x: float) -> int:
    return 1 << max(0, math.ceil(math.log2(max(1.0, x))))


def useful_partitions(rate: float, task_factor: float = 1.0) -> int:
    """Partitions the task throughput can use: one per 50 tasks/s, multiple of 4, at least 4."""
    return max(4, _ceil_to(rate * task_factor / TASKS_PER_PARTITION, 4))


def per_process_connections(values: Mapping[str, ParameterValue], service: str) -> int:
    """Connections one process of ``service`` holds in one pool (reservoir target or pool size)."""
    suffix = "" if service == "history" else f".{service}"
    return int(values[f"dsql.pool_size{suffix}"])


def per_process_reservoir_target(values: Mapping[str, ParameterValue], service: str) -> int:
    """DSQL_RESERVOIR_TARGET_READY of one pool of ``service``: its pool scaled like history's target."""
    target = int(values["dsql.reservoir_target_ready"])
    history_pool = int(values["dsql.pool_size"])
    if service == "history" or history_pool == 0:
        return target
    return math.ceil(per_process_connections(values, service) * target / history_pool)


def per_process_low_watermark(values: Mapping[str, ParameterValue], service: str) -> int:
    """DSQL_RESERVOIR_LOW_WATERMARK of one pool of ``service``: scaled from history's like the target."""
    watermark = int(values["dsql.reservoir_low_watermark"])
    history_pool = int(values["dsql.pool_size"])
    if service == "history" or history_pool == 0:
        return watermark
    return math.ceil(per_process_connections(values, service) * watermark / history_pool)


def per_process_effective_target(values: Mapping[str, ParameterValue], service: str) -> int:
    """The reservoir target the plugin really uses: it raises TARGET_READY to LOW_WATERMARK when lower."""
    return max(per_process_reservoir_target(values, service), per_process_low_watermark(values, service))


def per_process_held_connections(values: Mapping[str, ParameterValue], service: str) -> int:
    """Connections one pool of ``service`` can hold open: the pool size, or with the reservoir on the
    larger of the pool and the (watermark-raised) target the refiller keeps ready."""
    pool = per_process_connections(values, service)
    if not values["dsql.reservoir_enabled"]:
        return pool
    return max(pool, per_process_effective_target(values, service))


def slot_blocks_needed(values: Mapping[str, ParameterValue], block_size: int) -> int:
    """Blocks the fleet acquires: every pool takes ceil(target / block size) whole blocks."""
    pools = int(values["dsql.pools_per_process"])
    return pools * sum(
        int(values[f"{s}.replicas"]) * math.ceil(per_process_effective_target(values, s) / block_size)
        for s in SERVICE_POOL_WEIGHT
    )


def _slot_block_size(ctx: RuleContext) -> int:
    # Whole-block rounding wastes up to one block per pool: blocks needed <= total/B + pools, which
    # fits 10,000/B blocks when B <= (10,000 - total) / pools.
    pools = ctx.i("dsql.pools_per_process") * sum(ctx.i(f"{s}.replicas") for s in SERVICE_POOL_WEIGHT)
    spare = DSQL_MAX_CONNECTIONS - _total_connections(ctx)
    return max(1, min(100, spare // pools if spare > 0 else 1))


def _floor(ctx: RuleContext, key: str) -> int:
    return ctx.preset.floors[key]


def _fixed(key: str, name: str = "preset_choice") -> Rule:
    return Rule(name, key, "the preset's fixed choice (Requirement 2)", (), lambda c: c.preset.fixed[key])


def _pool_cap(ctx: RuleContext) -> int:
    weighted = sum(ctx.i(f"{s}.replicas") * w for s, w in SERVICE_POOL_WEIGHT.items())
    return max(1, int(CONNECTION_BUDGET_SHARE * DSQL_MAX_CONNECTIONS / (ctx.i("dsql.pools_per_process") * weighted)))


def _pool_size(ctx: RuleContext) -> ParameterValue:
    if not ctx.preset.derive_pool_from_rate:
        return ctx.preset.fixed["dsql.pool_size"]
    per_replica = ctx.f("slo.target_state_transitions_per_sec") / ctx.i("history.replicas")
    wanted = max(_floor(ctx, "dsql.pool_size"), math.ceil(per_replica * POOL_PER_REPLICA_RATE))
    return min(wanted, _pool_cap(ctx))


def _service_pool(service: str) -> Rule:
    w = SERVICE_POOL_WEIGHT[service]
    return Rule(
        "service_pool_from_history_pool",
        f"dsql.pool_size.{service}",
        f"max(5, ceil(dsql.pool_size x {w}))",
        ("dsql.pool_size",),
        lambda c: max(5, math.ceil(c.i("dsql.pool_size") * w)),
    )


PARTITIONS_KEY = "matching.numTaskqueueReadPartitions"


def _partitions(ctx: RuleContext) -> ParameterValue:
    """The preset's own partition count; a modifier's change is a separate, traced step."""
    return max(_floor(ctx, PARTITIONS_KEY), _ceil_to(ctx.f(T) / TASKS_PER_PARTITION, 4))


def modifier_partitions(ctx: RuleContext, preset_value: int) -> tuple[int, str] | None:
    """The modifier's partition count and its trace step, or None when the modifier keeps the preset's.

    batch-processor raises both the rate-derived count and the floor; simple-crud halves the
    rate-derived count (Requirement 3.4: lower partitions for short request/response work) but never
    goes below the preset's floor, the one place a modifier lowers a preset value directly; the
    values derived from the partitions follow (`values_a_modifier_may_lower`).
    """
    m = ctx.modifier
    if m is None or (m.partition_factor == 1.0 and m.partition_floor_factor == 1.0):
        return None
    preset_floor = _floor(ctx, PARTITIONS_KEY)
    floor = int(preset_floor * m.partition_floor_factor)
    value = max(floor, _ceil_to(ctx.f(T) * m.partition_factor / TASKS_PER_PARTITION, 4))
    if value == preset_value:
        return None
    floor_text = f"preset floor {preset_floor}" + (f" x {m.partition_floor_factor:g}" if floor != preset_floor else "")
    lowered = " (lowered, never below the preset floor)" if value < preset_value else ""
    step = (f"modifier {m.name} (partitions: max({floor_text}, ceil4(target rate x {m.partition_factor:g} / "
            f"{TASKS_PER_PARTITION}))): {preset_value} → {value}{lowered}; {m.partition_reason}")
    return value, step


def _per_process_rate(ctx: RuleContext) -> int:
    processes = sum(ctx.i(f"{s}.replicas") for s in SERVICE_POOL_WEIGHT)
    return max(1, min(10, int(0.9 * CONNECTION_RATE_BUDGET / processes)))


def _total_connections(ctx: RuleContext) -> int:
    return ctx.i("dsql.pools_per_process") * sum(
        ctx.i(f"{s}.replicas") * per_process_connections(ctx.values, s) for s in SERVICE_POOL_WEIGHT
    )


def _slots(ctx: RuleContext, per_completion: int) -> int:
    per_worker = ctx.f("slo.target_workflow_completion_rate") / ctx.i("sdk.worker_count")
    return max(100, _ceil_to(per_worker * per_completion, 50))


def _pollers(ctx: RuleContext, slots_key: str) -> int:
    by_slo = math.ceil(4000 / ctx.f("slo.max_schedule_to_start_ms"))
    return max(2, min(ctx.i(slots_key) // 4, max(4, by_slo)))


T = "slo.target_state_transitions_per_sec"
C = "slo.target_workflow_completion_rate"

RULES: tuple[Rule, ...] = (
    # -- topology ------------------------------------------------------------------------------
    Rule("shards_from_rate", "history.shards", "max(preset floor, next power of two of 4 x target rate)", (T,),
         lambda c: max(_floor(c, "history.shards"), _next_pow2(4 * c.f(T)))),
    Rule("history_replicas_from_rate", "history.replicas", f"max(preset floor, ceil(target rate / {ST_PER_HISTORY_REPLICA}))",
         (T,), lambda c: max(_floor(c, "history.replicas"), math.ceil(c.f(T) / ST_PER_HISTORY_REPLICA))),
    Rule("matching_replicas_from_history", "matching.replicas", "max(preset floor, ceil(history.replicas / 2))",
         ("history.replicas",), lambda c: max(_floor(c, "matching.replicas"), math.ceil(c.i("history.replicas") / 2))),
    Rule("frontend_replicas_from_history", "frontend.replicas", "max(preset floor, ceil(history.replicas / 3))",
         ("history.replicas",), lambda c: max(_floor(c, "frontend.replicas"), math.ceil(c.i("history.replicas") / 3))),
    Rule("worker_replicas_from_history", "worker.replicas", "max(preset floor, ceil(history.replicas / 4))",
         ("history.replicas",), lambda c: max(_floor(c, "worker.replicas"), math.ceil(c.i("history.replicas") / 4))),
    Rule("partitions_from_task_throughput", PARTITIONS_KEY,
         f"max(preset floor, ceil4(target rate / {TASKS_PER_PARTITION}))",
         (T,), _partitions),
    Rule("workers_from_completion_rate", "sdk.worker_count", f"max(preset floor, ceil(completion rate / {COMPLETIONS_PER_WORKER}))",
         (C,), lambda c: max(_floor(c, "sdk.worker_count"), math.ceil(c.f(C) / COMPLETIONS_PER_WORKER))),
    # -- safety: pools and the 10,000-connection budget ------------------------------------------
    Rule("pools_per_process", "dsql.pools_per_process", "2 pools per process (the plugin docs' sizing assumption)", (),
         lambda c: 2),
    Rule("pool_size_from_rate", "dsql.pool_size",
         f"starter/mid: the preset's pool; high: min(ceil(rate per history replica x {POOL_PER_REPLICA_RATE}), "
         f"{int(CONNECTION_BUDGET_SHARE * 100)}% of 10,000 / (pools x Σ replicas x service weight))",
         (T, "history.replicas", "matching.replicas", "frontend.replicas", "worker.replicas", "dsql.pools_per_process"),
         _pool_size),
    _service_pool("matching"),
    _service_pool("frontend"),
    _service_pool("worker"),
    Rule("idle_equals_max", "dsql.max_idle_conns", "dsql.pool_size (MaxIdleConns = MaxConns)", ("dsql.pool_size",),
         lambda c: c.i("dsql.pool_size")),
    _fixed("dsql.max_conn_lifetime"),
    _fixed("dsql.token_duration"),
    _fixed("dsql.reservoir_enabled"),
    Rule("reservoir_target_equals_pool", "dsql.reservoir_target_ready", "dsql.pool_size", ("dsql.pool_size",),
         lambda c: c.i("dsql.pool_size")),
    _fixed("dsql.reservoir_base_lifetime"),
    _fixed("dsql.reservoir_lifetime_jitter"),
    _fixed("dsql.reservoir_guard_window"),
    Rule("connection_rate_from_budget", "dsql.connection_rate_limit",
         f"min(10, floor(90% of {CONNECTION_RATE_BUDGET} conn/s / Σ replicas))",
         ("history.replicas", "matching.replicas", "frontend.replicas", "worker.replicas"), _per_process_rate),
    Rule("burst_from_budget", "dsql.connection_burst_limit",
         f"min(100, floor(90% of the {DSQL_BURST_CAPACITY} burst / Σ replicas))",
         ("history.replicas", "matching.replicas", "frontend.replicas", "worker.replicas"),
         lambda c: max(1, min(100, int(0.9 * DSQL_BURST_CAPACITY / sum(c.i(f"{s}.replicas") for s in SERVICE_POOL_WEIGHT))))),
    _fixed("dsql.staggered_startup"),
    _fixed("dsql.distributed_rate_limiter_enabled"),
    _fixed("dsql.distributed_rate_limiter_table"),
    Rule("dsql_rate_limit", "dsql.distributed_rate_limiter_limit", "DSQL's 100 conn/s", (), lambda c: CONNECTION_RATE_BUDGET),
    _fixed("dsql.token_bucket_enabled"),
    Rule("dsql_refill_rate", "dsql.token_bucket_rate", "DSQL's 100 conn/s refill", (), lambda c: CONNECTION_RATE_BUDGET),
    Rule("dsql_burst_capacity", "dsql.token_bucket_capacity", "DSQL's 1,000 burst", (), lambda c: DSQL_BURST_CAPACITY),
    _fixed("dsql.slot_block_enabled"),
    _fixed("dsql.conn_lease_table"),
    Rule("slot_blocks_fit_every_pool", "dsql.slot_block_size",
         "clamp((10,000 - total connections) / pools in the fleet, 1, 100): whole-block rounding still fits",
         ("dsql.pool_size", "dsql.pools_per_process", "history.replicas", "matching.replicas", "frontend.replicas",
          "worker.replicas"), _slot_block_size),
    # floor, not ceil: block size x block count is the global limit and must not pass the 10,000 quota.
    Rule("slot_blocks_cover_cluster", "dsql.slot_block_count", "floor(10,000 / dsql.slot_block_size)",
         ("dsql.slot_block_size",), lambda c: DSQL_MAX_CONNECTIONS // c.i("dsql.slot_block_size")),
    Rule("legacy_limit_equals_slots", "dsql.distributed_conn_limit", "dsql.slot_block_size x dsql.slot_block_count",
         ("dsql.slot_block_size", "dsql.slot_block_count"), lambda c: c.i("dsql.slot_block_size") * c.i("dsql.slot_block_count")),
    # -- tuning: plugin -------------------------------------------------------------------------
    Rule("sql_host_is_endpoint", "sql.host", "dsql.cluster_endpoint", ("dsql.cluster_endpoint",),
         lambda c: c.values["dsql.cluster_endpoint"]),
    Rule("low_watermark_equals_target", "dsql.reservoir_low_watermark", "dsql.reservoir_target_ready",
         ("dsql.reservoir_target_ready",), lambda c: c.i("dsql.reservoir_target_ready")),
    Rule("fill_timeout_from_rate", "dsql.reservoir_initial_fill_timeout",
         "max(30s, 1.5 x target / per-process connection rate)", ("dsql.reservoir_target_ready", "dsql.connection_rate_limit"),
         lambda c: format_duration(max(30, math.ceil(1.5 * c.i("dsql.reservoir_target_ready") / c.i("dsql.connection_rate_limit"))))),
    Rule("inflight_limit", "dsql.reservoir_inflight_limit", "min(8, per-process connection rate)",
         ("dsql.connection_rate_limit",), lambda c: max(1, min(8, c.i("dsql.connection_rate_limit")))),
    Rule("warmup_over_budget", "dsql.pool_warmup_stagger_duration",
         f"ceil(total connections / {CONNECTION_RATE_BUDGET} conn/s) seconds",
         ("dsql.pool_size", "dsql.pools_per_process"), lambda c: format_duration(math.ceil(_total_connections(c) / CONNECTION_RATE_BUDGET))),
    Rule("keeper_per_tick", "dsql.pool_keeper_max_conns_per_tick", "min(10, ceil(dsql.pool_size / 120))",
         ("dsql.pool_size",), lambda c: min(10, math.ceil(c.i("dsql.pool_size") / 120))),
    # -- tuning: Temporal dynamic config --------------------------------------------------------
    Rule("persistence_qps_from_rate", "history.persistenceMaxQPS", "max(preset floor, ceil500(target rate x 24))", (T,),
         lambda c: max(_floor(c, "history.persistenceMaxQPS"), _ceil_to(c.f(T) * 24, 500))),
    Rule("matching_qps_half_history", "matching.persistenceMaxQPS", "ceil500(history.persistenceMaxQPS / 2)",
         ("history.persistenceMaxQPS",), lambda c: _ceil_to(c.i("history.persistenceMaxQPS") / 2, 500)),
    Rule("frontend_qps_half_history", "frontend.persistenceMaxQPS", "ceil500(history.persistenceMaxQPS / 2)",
         ("history.persistenceMaxQPS",), lambda c: _ceil_to(c.i("history.persistenceMaxQPS") / 2, 500)),
    Rule("worker_qps_tenth_history", "worker.persistenceMaxQPS", "max(500, ceil500(history.persistenceMaxQPS / 10))",
         ("history.persistenceMaxQPS",), lambda c: max(500, _ceil_to(c.i("history.persistenceMaxQPS") / 10, 500))),
    Rule("write_equals_read_partitions", "matching.numTaskqueueWritePartitions", "matching.numTaskqueueReadPartitions",
         ("matching.numTaskqueueReadPartitions",), lambda c: c.i("matching.numTaskqueueReadPartitions")),
    Rule("task_batch_from_rate", "matching.maxTaskBatchSize", "min(1000, max(100, ceil100(target rate / 5)))", (T,),
         lambda c: min(1000, max(100, _ceil_to(c.f(T) / 5, 100)))),
    Rule("read_batch_ten_writes", "matching.getTasksBatchSize", "min(10000, 10 x matching.maxTaskBatchSize)",
         ("matching.maxTaskBatchSize",), lambda c: min(10_000, 10 * c.i("matching.maxTaskBatchSize"))),
    Rule("long_poll", "matching.longPollExpirationInterval", "1m (Temporal's default)", (), lambda c: "1m"),
    Rule("forwarder_polls_from_partitions", "matching.forwarderMaxOutstandingPolls", "max(20, ceil(1.25 x partitions))",
         ("matching.numTaskqueueReadPartitions",), lambda c: max(20, math.ceil(1.25 * c.i("matching.numTaskqueueReadPartitions")))),
    Rule("forwarder_tasks_ten_per_poll", "matching.forwarderMaxOutstandingTasks", "10 x forwarderMaxOutstandingPolls",
         ("matching.forwarderMaxOutstandingPolls",), lambda c: 10 * c.i("matching.forwarderMaxOutstandingPolls")),
    Rule("forwarder_rate_from_tasks", "matching.forwarderMaxRatePerSecond", "max(forwarderMaxOutstandingTasks, 2 x target rate)",
         ("matching.forwarderMaxOutstandingTasks", T),
         lambda c: float(max(c.i("matching.forwarderMaxOutstandingTasks"), 2 * c.f(T)))),
    Rule("forwarder_fanout", "matching.forwarderMaxChildrenPerNode", "20 (Temporal's default)", (), lambda c: 20),
    Rule("timer_poll_from_rate", "history.timerProcessorMaxPollRPS", "max(20, ceil10(target rate / history.replicas / 2))",
         (T, "history.replicas"), lambda c: max(20, _ceil_to(c.f(T) / c.i("history.replicas") / 2, 10))),
    Rule("timer_ack_from_rate", "history.timerProcessorUpdateAckInterval", "10s at ≥ 500 state transitions/s, else 30s",
         (T,), lambda c: "10s" if c.f(T) >= 500 else "30s"),
    Rule("transfer_poll_equals_timer", "history.transferProcessorMaxPollRPS", "history.timerProcessorMaxPollRPS",
         ("history.timerProcessorMaxPollRPS",), lambda c: c.i("history.timerProcessorMaxPollRPS")),
    Rule("history_cache_half_memory", "history.hostLevelCacheMaxSizeBytes", "history.memory_mib / 2 in bytes",
         ("history.memory_mib",), lambda c: c.i("history.memory_mib") // 2 * 1024 * 1024),
    Rule("size_based_cache", "history.cacheSizeBasedLimit", "true", (), lambda c: True),
    Rule("cache_ttl", "history.cacheTTL", "1h (Temporal's default)", (), lambda c: "1h"),
    Rule("cache_lock_timeout", "history.cacheNonUserContextLockTimeout", "500ms", (), lambda c: "500ms"),
    Rule("buffered_queries_from_rate", "history.maxBufferedQueryCount", "max(1000, 2 x target rate)", (T,),
         lambda c: max(1000, math.ceil(2 * c.f(T)))),
    Rule("eager_activities_off", "system.enableActivityEagerExecution", "off unless the workload is simple-crud", (),
         lambda c: False),
    Rule("sticky_query", "system.enableStickyQuery", "true (Temporal's default)", (), lambda c: True),
    Rule("parent_close_policy", "history.enableParentClosePolicy", "true (Temporal's default)", (), lambda c: True),
    Rule("pending_children", "limit.numPendingChildExecutions.error", "2000 (Temporal's default)", (), lambda c: 2000),
    Rule("transaction_size_under_dsql_limit", "system.transactionSizeLimit",
         "4,000,000 bytes (under DSQL's 10 MiB per transaction)", (), lambda c: 4_000_000),
    Rule("frontend_rps_from_rate", "frontend.rps", "max(2400, ceil100(30 x target rate / frontend.replicas))",
         (T, "frontend.replicas"), lambda c: max(2400, _ceil_to(30 * c.f(T) / c.i("frontend.replicas"), 100))),
    Rule("namespace_rps_equals_rps", "frontend.namespaceRPS", "frontend.rps", ("frontend.rps",), lambda c: c.i("frontend.rps")),
    # -- tuning: SDK worker options ---------------------------------------------------------------
    Rule("activity_slots_from_completion_rate", "sdk.max_concurrent_activities",
         "max(100, ceil50(20 x completion rate / sdk.worker_count))", (C, "sdk.worker_count"), lambda c: _slots(c, 20)),
    Rule("workflow_slots_from_completion_rate", "sdk.max_concurrent_workflow_tasks",
         "max(100, ceil50(10 x completion rate / sdk.worker_count))", (C, "sdk.worker_count"), lambda c: _slots(c, 10)),
    Rule("local_activity_slots_equal_activity", "sdk.max_concurrent_local_activities", "sdk.max_concurrent_activities",
         ("sdk.max_concurrent_activities",), lambda c: c.i("sdk.max_concurrent_activities")),
    Rule("workflow_pollers_from_schedule_to_start", "sdk.workflow_task_pollers",
         "max(2, min(slots / 4, max(4, ceil(4000 / max schedule-to-start ms))))",
         ("slo.max_schedule_to_start_ms", "sdk.max_concurrent_workflow_tasks"),
         lambda c: _pollers(c, "sdk.max_concurrent_workflow_tasks")),
    Rule("activity_pollers_from_schedule_to_start", "sdk.activity_task_pollers",
         "max(2, min(slots / 4, max(4, ceil(4000 / max schedule-to-start ms))))",
         ("slo.max_schedule_to_start_ms", "sdk.max_concurrent_activities"),
         lambda c: _pollers(c, "sdk.max_concurrent_activities")),
    Rule("poller_autoscaling", "sdk.poller_autoscaling", "true (Temporal's recommendation)", (), lambda c: True),
    Rule("sticky_timeout_from_e2e", "sdk.sticky_schedule_to_start_timeout",
         "clamp(max e2e latency / 2, 1s, 5s): a vanished sticky worker delays a workflow task by this much",
         ("slo.max_e2e_workflow_latency_ms",),
         lambda c: format_duration(min(5.0, max(1.0, round(c.f("slo.max_e2e_workflow_latency_ms") / 2000, 1))))),
    Rule("eager_dispatch_off", "sdk.disable_eager_activities", "true unless the workload is simple-crud", (), lambda c: True),
    Rule("eager_slots_half_activity", "sdk.max_concurrent_eager_activities",
         "0 when eager dispatch is disabled, else sdk.max_concurrent_activities / 2",
         ("sdk.disable_eager_activities", "sdk.max_concurrent_activities"),
         lambda c: 0 if c.b("sdk.disable_eager_activities") else c.i("sdk.max_concurrent_activities") // 2),
    Rule("sticky_cache_from_slots", "sdk.max_cached_workflows", "max(1000, 10 x sdk.max_concurrent_workflow_tasks)",
         ("sdk.max_concurrent_workflow_tasks",), lambda c: max(1000, 10 * c.i("sdk.max_concurrent_workflow_tasks"))),
    Rule("namespace_pollers", "frontend.namespaceCount",
         "max(1200, 2 x sdk.worker_count x (workflow + activity pollers))",
         ("sdk.worker_count", "sdk.workflow_task_pollers", "sdk.activity_task_pollers"),
         lambda c: max(1200, 2 * c.i("sdk.worker_count") * (c.i("sdk.workflow_task_pollers") + c.i("sdk.activity_task_pollers")))),
)

def _fargate_cpu(value: ParameterValue) -> tuple[ParameterValue, str | None]:
    """Round a derived CPU size up to the next size Fargate accepts, and say so in the trace."""
    cpu = int(value)
    rounded = fargate_cpu_at_least(cpu)
    if rounded == cpu:
        return cpu, None
    return rounded, (f"rounded up to the Fargate CPU size {rounded} (Fargate accepts only "
                     f"{', '.join(str(c) for c in FARGATE_CPU_UNITS)} CPU units; {cpu} is not one)")


# Resources come before the rules that read them; kept separate for readability. Every derived
# (cpu, memory) pair is a Fargate task size by construction: cpu rounds up to a Fargate CPU size
# and 2 x cpu is a memory every Fargate CPU size allows (the properties test it for every preset,
# modifier, replica count and rate).
_RESOURCE_RULES: tuple[Rule, ...] = tuple(
    Rule(
        f"{svc}_cpu_from_rate",
        f"{svc}.cpu",
        f"next Fargate CPU size >= max(preset floor, 1024 x ceil(rate per history replica / 50) x {scale})",
        (T, "history.replicas"),
        (lambda s, k: lambda c: max(
            c.preset.resources[f"{s}.cpu"],
            min(16_384, int(1024 * math.ceil(c.f(T) / c.i("history.replicas") / 50) * k)),
        ))(svc, scale),
        adjust=_fargate_cpu,
    )
    for svc, scale in (("history", 1.0), ("matching", 0.5), ("frontend", 0.5), ("worker", 0.25))
) + tuple(
    Rule(f"{svc}_memory_twice_cpu", f"{svc}.memory_mib", f"2 x {svc}.cpu MiB (a Fargate memory for that CPU)",
         (f"{svc}.cpu",), (lambda s: lambda c: 2 * c.i(f"{s}.cpu"))(svc))
    for svc in ("history", "matching", "frontend", "worker")
)


def _ordered_rules() -> tuple[Rule, ...]:
    # Insert the resource rules right after the topology rules (cache size reads history memory).
    topo_end = next(i for i, r in enumerate(RULES) if r.key == "dsql.pools_per_process")
    return (*RULES[:topo_end], *_RESOURCE_RULES, *RULES[topo_end:])


ORDERED_RULES = _ordered_rules()


def values_a_modifier_may_lower() -> frozenset[str]:
    """The modifier rule: the partition count and every value derived from it (the rules'
    dependency closure: write partitions, forwarder polls, tasks and rate), nothing else.

    Fewer partitions need fewer forwarding polls and tasks, so a modifier that lowers the partitions
    lowers what is sized from them through the same rules; every other value a modifier only raises.
    Computed from the rules, so a new rule reading the partitions joins the set by itself.
    """
    lowered = {PARTITIONS_KEY}
    for rule in ORDERED_RULES:  # dependency order: a rule's inputs are settled before it
        if lowered.intersection(rule.depends_on):
            lowered.add(rule.key)
    return frozenset(lowered)

_COMMON_FIXED: dict[str, ParameterValue] = {
    "dsql.token_duration": "15m",
    "dsql.reservoir_base_lifetime": "11m",
    "dsql.reservoir_lifetime_jitter": "2m",
    "dsql.reservoir_guard_window": "45s",
    "dsql.staggered_startup": True,
}

PRESETS: dict[str, PresetSpec] = {
    p.name: p
    for p in (
        PresetSpec(
            name="starter",
            description="Low throughput, conservative resources: no reservoir, pool 10, local rate limiting only.",
            throughput_range=ThroughputRange(min_st_per_sec=0, max_st_per_sec=49.999,
                                             description="under 50 state transitions/s"),
            slo={T: 25, C: 5, "slo.max_schedule_to_start_ms": 1000, "slo.max_e2e_workflow_latency_ms": 5000,
                 "slo.typical_workflow_runtime_sec": 30.0},
            floors={"history.shards": 512, "history.replicas": 2, "matching.replicas": 2, "frontend.replicas": 2,
                    "worker.replicas": 1, "matching.numTaskqueueReadPartitions": 4, "sdk.worker_count": 2,
                    "history.persistenceMaxQPS": 1000},
            fixed={**_COMMON_FIXED, "dsql.pool_size": 10, "dsql.max_conn_lifetime": "55m", "dsql.reservoir_enabled": False,
                   "dsql.distributed_rate_limiter_enabled": False, "dsql.distributed_rate_limiter_table": "",
                   "dsql.token_bucket_enabled": False, "dsql.slot_block_enabled": False, "dsql.conn_lease_table": ""},
            resources={"history.cpu": 1024, "matching.cpu": 512, "frontend.cpu": 512, "worker.cpu": 256},
        ),
        PresetSpec(
            name="mid-scale",
            description="Moderate throughput, balanced resources: reservoir on, pool 50, per-instance rate limiting.",
            throughput_range=ThroughputRange(min_st_per_sec=50, max_st_per_sec=500,
                                             description="50 to 500 state transitions/s"),
            slo={T: 250, C: 50, "slo.max_schedule_to_start_ms": 500, "slo.max_e2e_workflow_latency_ms": 2000,
                 "slo.typical_workflow_runtime_sec": 30.0},
            floors={"history.shards": 1024, "history.replicas": 3, "matching.replicas": 2, "frontend.replicas": 2,
                    "worker.replicas": 1, "matching.numTaskqueueReadPartitions": 4, "sdk.worker_count": 4,
                    "history.persistenceMaxQPS": 3000},
            fixed={**_COMMON_FIXED, "dsql.pool_size": 50, "dsql.max_conn_lifetime": "55m", "dsql.reservoir_enabled": True,
                   "dsql.distributed_rate_limiter_enabled": False, "dsql.distributed_rate_limiter_table": "",
                   "dsql.token_bucket_enabled": False, "dsql.slot_block_enabled": False, "dsql.conn_lease_table": ""},
            resources={"history.cpu": 2048, "matching.cpu": 1024, "frontend.cpu": 1024, "worker.cpu": 512},
        ),
        PresetSpec(
            name="high-throughput",
            description="High throughput, aggressive resources: every DSQL plugin feature on (reservoir, "
                        "distributed token-bucket rate limiting, slot blocks).",
            throughput_range=ThroughputRange(min_st_per_sec=500.001, max_st_per_sec=None,
                                             description="over 500 state transitions/s"),
            slo={T: 1000, C: 200, "slo.max_schedule_to_start_ms": 200, "slo.max_e2e_workflow_latency_ms": 1000,
                 "slo.typical_workflow_runtime_sec": 30.0},
            floors={"history.shards": 4096, "history.replicas": 6, "matching.replicas": 4, "frontend.replicas": 3,
                    "worker.replicas": 2, "matching.numTaskqueueReadPartitions": 16, "sdk.worker_count": 8,
                    "history.persistenceMaxQPS": 15000, "dsql.pool_size": 50},
            fixed={**_COMMON_FIXED, "dsql.max_conn_lifetime": "50m", "dsql.reservoir_enabled": True,
                   "dsql.distributed_rate_limiter_enabled": True,
                   "dsql.distributed_rate_limiter_table": "temporal-dsql-rate-limiter",
                   "dsql.token_bucket_enabled": True, "dsql.slot_block_enabled": True,
                   "dsql.conn_lease_table": "temporal-dsql-conn-lease"},
            derive_pool_from_rate=True,
            resources={"history.cpu": 4096, "matching.cpu": 1024, "frontend.cpu": 2048, "worker.cpu": 512},
        ),
    )
}


def get_preset(name: str) -> PresetSpec:
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownPresetError(name, list(PRESETS)) from None
