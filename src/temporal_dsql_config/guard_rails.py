"""Guard rails: rules that catch unsafe or contradictory configurations before deployment.

Every rule runs on every compilation; the engine returns all errors and warnings together
(Requirement 5.8). Shipped presets and modifiers compile with zero results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from temporal_dsql_config.fargate import (
    FARGATE_MEMORY_MIB,
    Ec2Capacity,
    is_fargate_size,
    nearest_fargate_sizes,
)
from temporal_dsql_config.models import SERVICE_NAMES, GuardRailResult
from temporal_dsql_config.presets import (
    CONNECTION_RATE_BUDGET,
    DSQL_BURST_CAPACITY,
    DSQL_MAX_CONNECTIONS,
    per_process_connections,
    per_process_held_connections,
    per_process_low_watermark,
    per_process_reservoir_target,
    slot_blocks_needed,
    useful_partitions,
)
from temporal_dsql_config.values import format_duration, parse_go_duration
from temporal_dsql_core.types import ParameterValue

__all__ = ["GUARD_RAILS", "GuardRail", "GuardRailEngine", "GuardRailInput", "GuardRailResult", "total_connections"]

LIFETIME_CEILING_MIN = 50.0  # "well under 60": leaves room for a 5-minute transaction plus margin
TOKEN_MIN_SEC, TOKEN_MAX_SEC = 15.0, 900.0
CHURN_CEILING_PER_SEC = 50.0  # half the 100 conn/s budget


@dataclass(frozen=True, slots=True)
class GuardRailInput:
    values: Mapping[str, ParameterValue]
    task_factor: float = 1.0
    # Where the tasks run: None is Fargate (the default), else the EC2 instance type's capacity.
    ec2: Ec2Capacity | None = None

    def i(self, key: str) -> int:
        return int(self.values[key])

    def f(self, key: str) -> float:
        return float(self.values[key])

    def b(self, key: str) -> bool:
        return bool(self.values[key])

    def secs(self, key: str) -> float:
        return parse_go_duration(str(self.values[key]))


Check = Callable[[GuardRailInput], list[GuardRailResult]]


@dataclass(frozen=True, slots=True)
class GuardRail:
    name: str
    severity: str
    description: str
    check: Check


def total_connections(values: Mapping[str, ParameterValue]) -> int:
    """Σ over services of replicas x connections one pool holds x pools per process.

    A pool holds its pool size; with the reservoir on, the refiller keeps the reservoir target ready
    (raised to the low watermark when that is higher), so the larger of the two counts (Req 5.1).
    """
    pools = int(values["dsql.pools_per_process"])
    return pools * sum(int(values[f"{s}.replicas"]) * per_process_held_connections(values, s) for s in SERVICE_NAMES)


def _err(rule: str, message: str, keys: Sequence[str]) -> list[GuardRailResult]:
    return [GuardRailResult(rule_name=rule, severity="error", message=message, parameter_keys=list(keys))]


def _warn(rule: str, message: str, keys: Sequence[str]) -> list[GuardRailResult]:
    return [GuardRailResult(rule_name=rule, severity="warning", message=message, parameter_keys=list(keys))]


_REPLICA_KEYS = [f"{s}.replicas" for s in SERVICE_NAMES]
_POOL_KEYS = ["dsql.pool_size", "dsql.pool_size.matching", "dsql.pool_size.frontend", "dsql.pool_size.worker"]


def _cluster_connection_limit(g: GuardRailInput) -> list[GuardRailResult]:
    total = total_connections(g.values)
    limit = DSQL_MAX_CONNECTIONS
    source = "DSQL's default limit of 10,000 connections per cluster"
    if g.b("dsql.slot_block_enabled") and g.b("dsql.reservoir_enabled"):
        slots = g.i("dsql.slot_block_size") * g.i("dsql.slot_block_count")
        if slots < limit:
            limit, source = slots, f"the slot-block limit of {slots} (block size x block count)"
    if total > limit:
        reservoir = g.b("dsql.reservoir_enabled")

        def held(s: str) -> str:
            n = per_process_held_connections(g.values, s)
            if not reservoir:
                return f"{s} {g.i(f'{s}.replicas')}x{n}"
            return (f"{s} {g.i(f'{s}.replicas')}x{n} (pool {per_process_connections(g.values, s)}, reservoir target "
                    f"{per_process_reservoir_target(g.values, s)}, low watermark {per_process_low_watermark(g.values, s)})")

        detail = ", ".join(held(s) for s in SERVICE_NAMES)
        counted = "max(pool, reservoir target, low watermark)" if reservoir else "pool size"
        return _err(
            "cluster_connection_limit",
            f"The fleet would hold {total} connections ({detail}, x {g.i('dsql.pools_per_process')} pools per "
            f"process; per process the {counted} counts), over {source}; DSQL refuses further connections with "
            "TOO_MANY_CONNECTIONS (53300). Lower the pool sizes, the reservoir target (DSQL_RESERVOIR_TARGET_READY, "
            "normally equal to the pool) or the replicas, or raise the cluster quota.",
            [*_REPLICA_KEYS, *_POOL_KEYS, "dsql.pools_per_process", "dsql.reservoir_target_ready",
             "dsql.reservoir_low_watermark"],
        )
    return []


def _slot_block_quota(g: GuardRailInput) -> list[GuardRailResult]:
    if not g.b("dsql.slot_block_enabled"):
        return []
    size, count = g.i("dsql.slot_block_size"), g.i("dsql.slot_block_count")
    if size * count > DSQL_MAX_CONNECTIONS:
        return _err(
            "slot_block_quota",
            f"Slot blocks {count} x {size} = {size * count} connections is over DSQL's default limit of "
            f"{DSQL_MAX_CONNECTIONS:,} per cluster: the global limiter would admit connections DSQL refuses "
            f"(TOO_MANY_CONNECTIONS 53300). Use at most {DSQL_MAX_CONNECTIONS // size} blocks of {size} "
            "(DSQL_SLOT_BLOCK_COUNT = floor(10,000 / DSQL_SLOT_BLOCK_SIZE)), or raise the cluster quota first.",
            ["dsql.slot_block_size", "dsql.slot_block_count"],
        )
    return []


def _partitions_read_at_least_write(g: GuardRailInput) -> list[GuardRailResult]:
    read, write = g.i("matching.numTaskqueueReadPartitions"), g.i("matching.numTaskqueueWritePartitions")
    if read < write:
        return _err(
            "matching_partitions_read_below_write",
            f"matching.numTaskqueueReadPartitions ({read}) is below matching.numTaskqueueWritePartitions ({write}): "
            f"tasks written to partitions {read}-{write - 1} are never polled. Read partitions must be >= write "
            f"partitions; set both to {write} (or lower the write partitions to {read}).",
            ["matching.numTaskqueueReadPartitions", "matching.numTaskqueueWritePartitions"],
        )
    return []


def _sql_host_is_endpoint(g: GuardRailInput) -> list[GuardRailResult]:
    host, endpoint = str(g.values["sql.host"]), str(g.values["dsql.cluster_endpoint"])
    if host != endpoint:
        return _err(
            "sql_host_matches_endpoint",
            f"sql.host (TEMPORAL_SQL_HOST) {host!r} differs from dsql.cluster_endpoint (CLUSTER_ENDPOINT) "
            f"{endpoint!r}: Temporal would connect to one host while the plugin signs IAM tokens and keys its "
            "DynamoDB items for the other. Set only CLUSTER_ENDPOINT (or TEMPORAL_SQL_HOST, which means the same "
            "parameter); sql.host follows it.",
            ["sql.host", "dsql.cluster_endpoint"],
        )
    return []


def _slot_block_rounding(g: GuardRailInput) -> list[GuardRailResult]:
    if not (g.b("dsql.slot_block_enabled") and g.b("dsql.reservoir_enabled")):
        return []
    size, count = g.i("dsql.slot_block_size"), g.i("dsql.slot_block_count")
    needed = slot_blocks_needed(g.values, size)
    if needed > count:
        return _err(
            "slot_block_rounding",
            f"Every pool acquires whole slot blocks (ceil(target / {size})): the fleet needs {needed} blocks "
            f"but only {count} exist, so some processes would run without global connection limiting. "
            "Use smaller blocks (DSQL_SLOT_BLOCK_SIZE) or more of them.",
            ["dsql.slot_block_size", "dsql.slot_block_count", "dsql.reservoir_target_ready", *_REPLICA_KEYS],
        )
    return []


def _partition_oversized(g: GuardRailInput) -> list[GuardRailResult]:
    partitions = g.i("matching.numTaskqueueReadPartitions")
    useful = useful_partitions(g.f("slo.target_state_transitions_per_sec"), g.task_factor)
    if partitions > 2 * useful:
        return _warn(
            "matching_partition_oversized",
            f"{partitions} task-queue partitions for a task throughput that can use about {useful} "
            f"(one per 50 tasks/s); idle partitions add poll latency. Consider {useful}.",
            ["matching.numTaskqueueReadPartitions", "slo.target_state_transitions_per_sec"],
        )
    return []


def _sticky_minimal_benefit(g: GuardRailInput) -> list[GuardRailResult]:
    runtime = g.f("slo.typical_workflow_runtime_sec")
    if g.i("sdk.max_cached_workflows") > 0 and runtime < 2:
        return _warn(
            "sticky_minimal_benefit",
            f"Sticky execution caching is on but workflows typically run {runtime:g}s (< 2s): they finish "
            "before a cached copy is reused, so the cache costs memory for little benefit.",
            ["sdk.max_cached_workflows", "slo.typical_workflow_runtime_sec"],
        )
    return []


def _jittered_rotation(g: GuardRailInput) -> list[GuardRailResult]:
    if g.b("dsql.reservoir_enabled"):
        if g.secs("dsql.reservoir_lifetime_jitter") <= 0:
            return _err(
                "jittered_rotation",
                "The reservoir's lifetime jitter is 0: every connection opened together expires together, "
                "a thundering herd against DSQL's 100 conn/s. Rotation must be jittered (e.g. 2m).",
                ["dsql.reservoir_lifetime_jitter"],
            )
        return []
    # Without the reservoir, database/sql rotates at MaxConnLifetime with no jitter; only a staggered
    # start (or a fleet small enough to re-open within one second of budget) keeps rotation spread.
    total = total_connections(g.values)
    if not g.b("dsql.staggered_startup") and total > CONNECTION_RATE_BUDGET:
        return _err(
            "jittered_rotation",
            f"Reservoir off and staggered startup off: {total} connections open together and all reach "
            f"MaxConnLifetime ({g.values['dsql.max_conn_lifetime']}) together, more than DSQL's "
            f"{CONNECTION_RATE_BUDGET} conn/s can re-open. Enable DSQL_STAGGERED_STARTUP or the reservoir.",
            ["dsql.staggered_startup", "dsql.reservoir_enabled", "dsql.max_conn_lifetime"],
        )
    return []


def _max_idle_equals_max(g: GuardRailInput) -> list[GuardRailResult]:
    if g.i("dsql.max_idle_conns") != g.i("dsql.pool_size"):
        return _err(
            "max_idle_equals_max_conns",
            f"MaxIdleConns ({g.i('dsql.max_idle_conns')}) differs from MaxConns ({g.i('dsql.pool_size')}): "
            "the pool decays to the idle limit and re-opens connections under load, spending the cluster's "
            "100 conn/s budget. Set them equal.",
            ["dsql.max_idle_conns", "dsql.pool_size"],
        )
    return []


def _reservoir_target_zero(g: GuardRailInput) -> list[GuardRailResult]:
    if g.b("dsql.reservoir_enabled") and g.i("dsql.reservoir_target_ready") <= 0:
        return _err(
            "reservoir_target_zero",
            "The reservoir is enabled but its target is 0: reservoir target must be positive when the "
            "reservoir is enabled (it is normally the pool size).",
            ["dsql.reservoir_target_ready", "dsql.reservoir_enabled"],
        )
    return []


def _low_watermark(g: GuardRailInput) -> list[GuardRailResult]:
    if g.b("dsql.reservoir_enabled") and g.i("dsql.reservoir_low_watermark") > g.i("dsql.reservoir_target_ready"):
        return _warn(
            "reservoir_low_watermark_above_target",
            f"DSQL_RESERVOIR_LOW_WATERMARK ({g.i('dsql.reservoir_low_watermark')}) is above the target "
            f"({g.i('dsql.reservoir_target_ready')}); the plugin raises the target to the watermark, so every "
            "process keeps more connections ready than the connection budget was computed for.",
            ["dsql.reservoir_low_watermark", "dsql.reservoir_target_ready"],
        )
    return []


def _rate_limiter_table(g: GuardRailInput) -> list[GuardRailResult]:
    if g.b("dsql.distributed_rate_limiter_enabled") and not str(g.values["dsql.distributed_rate_limiter_table"]).strip():
        return _err(
            "distributed_rate_limiter_table_missing",
            "Distributed rate limiting is enabled but no DynamoDB table name is configured "
            "(DSQL_DISTRIBUTED_RATE_LIMITER_TABLE); the plugin would silently fall back to the local limiter.",
            ["dsql.distributed_rate_limiter_table", "dsql.distributed_rate_limiter_enabled"],
        )
    return []


def _conn_lease_table(g: GuardRailInput) -> list[GuardRailResult]:
    out: list[GuardRailResult] = []
    if g.b("dsql.slot_block_enabled"):
        if not str(g.values["dsql.conn_lease_table"]).strip():
            out += _err(
                "conn_lease_table_missing",
                "Slot blocks (DSQL_DISTRIBUTED_CONN_LEASE_ENABLED) are enabled but no DynamoDB table is "
                "configured (DSQL_DISTRIBUTED_CONN_LEASE_TABLE); the plugin would run without global limiting.",
                ["dsql.conn_lease_table", "dsql.slot_block_enabled"],
            )
        if not g.b("dsql.reservoir_enabled"):
            out += _warn(
                "slot_blocks_need_reservoir",
                "Slot blocks only take effect with the reservoir on; with it off they do nothing.",
                ["dsql.slot_block_enabled", "dsql.reservoir_enabled"],
            )
    return out


def _connection_rate_budget(g: GuardRailInput) -> list[GuardRailResult]:
    if g.b("dsql.distributed_rate_limiter_enabled"):
        return []
    processes = sum(g.i(k) for k in _REPLICA_KEYS)
    rate = g.i("dsql.connection_rate_limit")
    if processes * rate > CONNECTION_RATE_BUDGET:
        return _err(
            "connection_rate_budget",
            f"{processes} processes x {rate} new connections/s = {processes * rate}/s exceeds DSQL's "
            f"{CONNECTION_RATE_BUDGET} conn/s cluster limit while the distributed limiter is off "
            f"(CONFIGURED_LIMIT_EXCEEDED 53400). Use at most {max(1, CONNECTION_RATE_BUDGET // processes)}/s "
            "per process or enable the distributed rate limiter.",
            ["dsql.connection_rate_limit", "dsql.distributed_rate_limiter_enabled", *_REPLICA_KEYS],
        )
    return []


def _connection_burst_budget(g: GuardRailInput) -> list[GuardRailResult]:
    if g.b("dsql.distributed_rate_limiter_enabled"):
        return []
    processes = sum(g.i(k) for k in _REPLICA_KEYS)
    burst = g.i("dsql.connection_burst_limit")
    if processes * burst > DSQL_BURST_CAPACITY:
        return _err(
            "connection_burst_budget",
            f"{processes} processes x a local burst of {burst} = {processes * burst} connections at once exceeds "
            f"DSQL's burst capacity of {DSQL_BURST_CAPACITY:,} (refilled at {CONNECTION_RATE_BUDGET}/s) while the "
            "distributed limiter is off; a fleet restart would hit CONFIGURED_LIMIT_EXCEEDED (53400). Use at most "
            f"{max(1, DSQL_BURST_CAPACITY // processes)} per process (DSQL_CONNECTION_BURST_LIMIT) or enable the "
            "distributed rate limiter.",
            ["dsql.connection_burst_limit", "dsql.distributed_rate_limiter_enabled", *_REPLICA_KEYS],
        )
    return []


def _churn(g: GuardRailInput) -> list[GuardRailResult]:
    total = total_connections(g.values)
    lifetime = g.secs("dsql.reservoir_base_lifetime") if g.b("dsql.reservoir_enabled") else g.secs("dsql.max_conn_lifetime")
    if lifetime > 0 and total / lifetime > CHURN_CEILING_PER_SEC:
        return _warn(
            "connection_churn",
            f"{total} connections rotating every {format_duration(lifetime)} is {total / lifetime:.1f} new "
            f"connections/s, over half of DSQL's {CONNECTION_RATE_BUDGET} conn/s. Lengthen the lifetime or shrink pools.",
            ["dsql.reservoir_base_lifetime", "dsql.max_conn_lifetime", *_POOL_KEYS],
        )
    return []


def _token_duration(g: GuardRailInput) -> list[GuardRailResult]:
    secs = g.secs("dsql.token_duration")
    if not TOKEN_MIN_SEC <= secs <= TOKEN_MAX_SEC:
        return _err(
            "token_duration_range",
            f"DSQL_TOKEN_DURATION {g.values['dsql.token_duration']} is outside [15s, 15m]; the plugin would "
            "silently replace it by 15m. Use a value between min 15s and max 15m.",
            ["dsql.token_duration"],
        )
    return []


def _reservoir_lifetime(g: GuardRailInput) -> list[GuardRailResult]:
    out: list[GuardRailResult] = []
    base = g.secs("dsql.reservoir_base_lifetime")
    jitter = g.secs("dsql.reservoir_lifetime_jitter")
    guard = g.secs("dsql.reservoir_guard_window")
    longest = base + jitter / 2
    keys = ["dsql.reservoir_base_lifetime", "dsql.reservoir_lifetime_jitter"]
    if longest > LIFETIME_CEILING_MIN * 60:
        out += _err(
            "reservoir_lifetime_window",
            f"Reservoir lifetime up to {format_duration(longest)} (base + jitter/2) is not well under DSQL's "
            f"60-minute connection limit; keep it at most {LIFETIME_CEILING_MIN:g}m.",
            keys,
        )
    shortest = base - jitter / 2
    if guard >= shortest:
        out += _err(
            "reservoir_guard_window",
            f"Guard window {format_duration(guard)} is not below the shortest connection lifetime "
            f"{format_duration(max(0.0, shortest))}: every connection would be discarded at checkout.",
            [*keys, "dsql.reservoir_guard_window"],
        )
    if g.secs("dsql.max_conn_lifetime") > LIFETIME_CEILING_MIN * 60 + 5 * 60:
        out += _err(
            "max_conn_lifetime_window",
            f"MaxConnLifetime {g.values['dsql.max_conn_lifetime']} leaves no room under DSQL's 60-minute "
            "connection limit for a 5-minute transaction; use at most 55m.",
            ["dsql.max_conn_lifetime"],
        )
    return out


def _pollers_within_slots(g: GuardRailInput) -> list[GuardRailResult]:
    out: list[GuardRailResult] = []
    for pollers, slots in (
        ("sdk.workflow_task_pollers", "sdk.max_concurrent_workflow_tasks"),
        ("sdk.activity_task_pollers", "sdk.max_concurrent_activities"),
    ):
        if g.i(pollers) > g.i(slots):
            out += _err(
                "pollers_within_slots",
                f"{pollers} ({g.i(pollers)}) exceeds {slots} ({g.i(slots)}): pollers would hold tasks no slot "
                "can run. Keep pollers well below the slots.",
                [pollers, slots],
            )
    return out


def _shards_power_of_two(g: GuardRailInput) -> list[GuardRailResult]:
    shards = g.i("history.shards")
    if shards < 1 or shards & (shards - 1):
        lower = 1 << max(0, shards.bit_length() - 1)
        return _err(
            "history_shards_power_of_two",
            f"history.shards {shards} is not a power of two; shard count can never change after the "
            f"cluster is created. Use {lower} or {lower * 2}.",
            ["history.shards"],
        )
    return []


def _task_size(g: GuardRailInput) -> list[GuardRailResult]:
    """Every task's size is one ECS accepts where it runs: a Fargate size, or one that fits the EC2
    instance after the kernel's share and the ECS agent's reservation (temporal_dsql_config.fargate)."""
    out: list[GuardRailResult] = []
    for s in SERVICE_NAMES:
        cpu, memory = g.i(f"{s}.cpu"), g.i(f"{s}.memory_mib")
        keys = [f"{s}.cpu", f"{s}.memory_mib"]
        if g.ec2 is not None:
            if not g.ec2.fits(cpu, memory):
                out += _err(
                    "ec2_task_fits_instance",
                    f"{s} task {cpu} CPU units / {memory} MiB does not fit a {g.ec2.instance_type} "
                    f"({g.ec2.cpu_units} CPU units, {g.ec2.task_memory_mib} MiB left for tasks after the kernel "
                    "and the ECS agent's reservation): ECS would never place it. Use a larger instance type or "
                    f"at most {g.ec2.cpu_units} CPU units and {g.ec2.task_memory_mib} MiB.",
                    keys,
                )
            continue
        if not is_fargate_size(cpu, memory):
            allowed = FARGATE_MEMORY_MIB.get(cpu)
            what = (f"memory {memory} MiB is not allowed with {cpu} CPU units (Fargate allows "
                    f"{allowed[0]}-{allowed[-1]} MiB in its steps)" if allowed else
                    f"{cpu} CPU units is not a Fargate CPU size ({', '.join(str(c) for c in FARGATE_MEMORY_MIB)})")
            nearest = " or ".join(f"{c} CPU / {m} MiB" for c, m in nearest_fargate_sizes(cpu, memory))
            out += _err(
                "fargate_task_size",
                f"{s} task {cpu} CPU units / {memory} MiB is not a Fargate task size: {what}; ECS would refuse "
                f"the task definition at deploy time. Nearest valid sizes: {nearest} (-o {s}.cpu=... "
                f"-o {s}.memory_mib=...), or run on EC2 capacity.",
                keys,
            )
    return out


GUARD_RAILS: tuple[GuardRail, ...] = (
    GuardRail("cluster_connection_limit", "error", "Σ(replicas x max(pool, reservoir target) x pools per process) within 10,000 / slot blocks", _cluster_connection_limit),
    GuardRail("slot_block_quota", "error", "slot block size x count within 10,000", _slot_block_quota),
    GuardRail("slot_block_rounding", "error", "whole slot blocks per pool fit the block count", _slot_block_rounding),
    GuardRail("matching_partitions_read_below_write", "error", "read partitions >= write partitions", _partitions_read_at_least_write),
    GuardRail("matching_partition_oversized", "warning", "partitions at most 2x what the task throughput uses", _partition_oversized),
    GuardRail("sticky_minimal_benefit", "warning", "sticky caching with workflows under 2s", _sticky_minimal_benefit),
    GuardRail("jittered_rotation", "error", "connection rotation is jittered (no thundering herd)", _jittered_rotation),
    GuardRail("max_idle_equals_max_conns", "error", "MaxIdleConns = MaxConns", _max_idle_equals_max),
    GuardRail("reservoir_target_zero", "error", "reservoir target positive when the reservoir is on", _reservoir_target_zero),
    GuardRail("reservoir_low_watermark_above_target", "warning", "low watermark at most the target", _low_watermark),
    GuardRail("distributed_rate_limiter_table_missing", "error", "table named when the distributed limiter is on", _rate_limiter_table),
    GuardRail("conn_lease_table_missing", "error", "table named when slot blocks are on", _conn_lease_table),
    GuardRail("connection_rate_budget", "error", "Σ replicas x per-process rate within 100 conn/s (local limiter)", _connection_rate_budget),
    GuardRail("connection_burst_budget", "error", "Σ replicas x per-process burst within 1,000 (local limiter)", _connection_burst_budget),
    GuardRail("connection_churn", "warning", "steady rotation well under 100 conn/s", _churn),
    GuardRail("token_duration_range", "error", "DSQL_TOKEN_DURATION within [15s, 15m]", _token_duration),
    GuardRail("reservoir_lifetime_window", "error", "lifetime + jitter/2 well under 60m; guard window below lifetime", _reservoir_lifetime),
    GuardRail("pollers_within_slots", "error", "pollers ≤ slots", _pollers_within_slots),
    GuardRail("history_shards_power_of_two", "error", "history shards a power of two", _shards_power_of_two),
    GuardRail("sql_host_matches_endpoint", "error", "TEMPORAL_SQL_HOST = CLUSTER_ENDPOINT", _sql_host_is_endpoint),
    GuardRail("fargate_task_size", "error", "every task a Fargate size (or fitting the EC2 instance)", _task_size),
)


class GuardRailEngine:
    def __init__(self, rails: Sequence[GuardRail] = GUARD_RAILS) -> None:
        self.rails = tuple(rails)

    def evaluate(self, values: Mapping[str, ParameterValue], *, task_factor: float = 1.0,
                 ec2: Ec2Capacity | None = None) -> list[GuardRailResult]:
        """Every rule's results, errors first; never stops at the first failure."""
        g = GuardRailInput(values, task_factor, ec2)
        results = [r for rail in self.rails for r in rail.check(g)]
        return sorted(results, key=lambda r: 0 if r.severity == "error" else 1)
