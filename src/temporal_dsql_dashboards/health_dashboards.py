"""The detail dashboards the copilot dashboard links to: Server Health, DSQL Persistence, Workers.

Queries are either the metric catalog's (``catalog_expr``) or breakdowns over the same metric
names; tests/grafana runs every expression against Prometheus loaded with a scenario and requires
data, so a panel that could only ever be empty fails the suite.
"""

from __future__ import annotations

from temporal_dsql_core.metric_catalog import SERVICES
from temporal_dsql_dashboards._catalog_queries import catalog_expr, catalog_unit
from temporal_dsql_dashboards._panels import (
    DashboardSpec,
    Grid,
    Json,
    dashboard,
    dashboard_link,
    prometheus_target,
    query_variable,
    stat,
    text_variable,
    timeseries,
)
from temporal_dsql_dashboards.annotations import state_change_annotation

__all__ = [
    "COPILOT_UID",
    "DSQL_UID",
    "FRONTEND_ERROR_RATIO_EXPR",
    "FRONTEND_LATENCY_EXPR",
    "SERVER_UID",
    "SLOT_UTILISATION_EXPR",
    "WORKERS_UID",
    "compiled_slot_block_size",
    "dsql_persistence_dashboard",
    "namespace_variables",
    "related_links",
    "server_health_dashboard",
    "workers_dashboard",
]

COPILOT_UID = "temporal-sre-copilot"
SERVER_UID = "temporal-server-health"
DSQL_UID = "dsql-persistence"
WORKERS_UID = "temporal-workers"


# The frontend's request histogram and error counter as the Temporal server exports them (timers in
# ms; every call is counted in service_requests, every failed one in service_error_with_type).
# Long polls (Poll*TaskQueue) wait for work by design and would drown the latency of other calls.
FRONTEND_LATENCY_EXPR = ('histogram_quantile({q}, sum by (le) (rate(service_latency_milliseconds_bucket'
                         '{{service_name="frontend",operation!~"Poll.*"}}[$__rate_interval])))')
FRONTEND_ERRORS = 'service_error_with_type_total{service_name="frontend"}'
FRONTEND_ERROR_RATIO_EXPR = (f"100 * sum(rate({FRONTEND_ERRORS}[$__rate_interval])) / "
                             'sum(rate(service_requests_total{service_name="frontend"}[$__rate_interval]))')


def related_links(current: str) -> list[Json]:
    links = [
        (COPILOT_UID, "SRE Copilot"),
        (SERVER_UID, "Server Health"),
        (DSQL_UID, "DSQL Persistence"),
        (WORKERS_UID, "Workers"),
    ]
    return [dashboard_link(title, uid) for uid, title in links if uid != current]


_NAMESPACE_METRIC = "temporal_workflow_task_schedule_to_start_latency_bucket"


def namespace_variables() -> list[Json]:
    return [
        query_variable("namespace", _NAMESPACE_METRIC, "namespace", title="Namespace"),
        query_variable("task_queue", _NAMESPACE_METRIC, "task_queue", title="Task queue"),
    ]


def _catalog_series(title: str, metric_id: str, legend: str, description: str = "") -> Json:
    return timeseries(title, [prometheus_target(catalog_expr(metric_id), legend)],
                      unit=catalog_unit(metric_id), description=description or f"Metric catalog: {metric_id}")


def _catalog_stat(title: str, metric_id: str, thresholds: list[tuple[float | None, str]] | None = None) -> Json:
    return stat(title, [prometheus_target(catalog_expr(metric_id), title)], unit=catalog_unit(metric_id),
                description=f"Metric catalog: {metric_id}", thresholds=thresholds, color_mode="value")


def server_health_dashboard() -> Json:
    grid = Grid()
    add, section, panels = grid.add, grid.section, grid.panels

    section("Forward progress")
    add(_catalog_stat("State transitions/s", "throughput.state_transitions_per_sec"), 6, 4)
    add(_catalog_stat("Workflows started/s", "throughput.workflows_started_per_sec"), 6, 4)
    add(_catalog_stat("Workflows completed/s", "throughput.workflows_completed_per_sec"), 6, 4)
    add(_catalog_stat("Persistence p99", "latency.persistence_latency_p99",
                      [(None, "green"), (100, "orange"), (500, "red")]), 6, 4)
    add(_catalog_series("State transitions per second", "throughput.state_transitions_per_sec", "transitions/s"), 12, 8)
    add(timeseries("Workflows started vs completed", [
        prometheus_target(catalog_expr("throughput.workflows_started_per_sec"), "started", "A"),
        prometheus_target(catalog_expr("throughput.workflows_completed_per_sec"), "completed", "B"),
    ], unit="ops", description="Completions falling behind starts means work is piling up."), 12, 8)

    section("Frontend")
    add(timeseries("Frontend request latency", [
        prometheus_target(FRONTEND_LATENCY_EXPR.format(q=q), f"p{int(float(q) * 100)}", ref)
        for q, ref in (("0.5", "A"), ("0.95", "B"), ("0.99", "C"))],
        unit="ms", description="Latency of the frontend's API calls (service_latency), long polls excluded: "
                               "a poll waits for work by design."), 12, 8)
    add(timeseries("Frontend errors by type", [prometheus_target(
        f"sum by (error_type) (rate({FRONTEND_ERRORS}[$__rate_interval]))", "{{error_type}}")], unit="ops",
        description="Calls the frontend answered with an error (service_error_with_type), by error type."), 6, 8)
    add(timeseries("Frontend error rate", [prometheus_target(FRONTEND_ERROR_RATIO_EXPR, "errors %")],
                   unit="percent", description="Errored calls over all calls the frontend served."), 6, 8)

    section("Service health")
    add(timeseries("Requests per second by service and operation", [prometheus_target(
        "sum by (service_name, operation) (rate(service_requests_total[$__rate_interval]))", "{{service_name}} {{operation}}")],
        unit="ops"), 24, 8)
    add(timeseries("Exhausted DSQL retries by service", [prometheus_target(
        "sum by (service_name) (rate(dsql_tx_exhausted_total[$__rate_interval]))", "{{service_name}}")], unit="ops",
        description="Transactions that failed after the plugin's retry budget: surfaced to callers as errors."), 12, 8)
    add(timeseries("CPU by service", [prometheus_target(catalog_expr("resources.cpu_utilization", svc), svc, ref)
                                      for svc, ref in zip(SERVICES, "ABCD", strict=True)],
                   unit="percent", description="Metric catalog: resources.cpu_utilization"), 12, 8)
    add(timeseries("Memory by service", [prometheus_target(catalog_expr("resources.memory_utilization", svc), svc, ref)
                                         for svc, ref in zip(SERVICES, "ABCD", strict=True)],
                   unit="percent", description="Metric catalog: resources.memory_utilization"), 12, 8)

    section("Persistence")
    add(_catalog_series("History persistence latency p95", "latency.persistence_latency_p95", "p95"), 8, 8)
    add(_catalog_series("History persistence latency p99", "latency.persistence_latency_p99", "p99"), 8, 8)
    add(timeseries("History persistence operations", [prometheus_target(
        'sum(rate(persistence_latency_milliseconds_count{service_name="history"}[$__rate_interval]))', "ops/s")], unit="ops"), 8, 8)

    section("Matching and task queues")
    add(_catalog_series("Sync match rate", "matching.sync_match_rate", "sync match %"), 8, 8)
    add(_catalog_series("Task dispatch latency p95", "matching.task_dispatch_latency", "p95"), 8, 8)
    add(_catalog_series("Backlog (approximate)", "matching.backlog_count", "tasks"), 8, 8)

    return dashboard(DashboardSpec(
        uid=SERVER_UID, title="Temporal Server Health", tags=["temporal", "temporal-dsql"],
        description="Forward progress, per-service requests and errors, persistence and matching of the monitored cluster.",
        panels=panels, variables=namespace_variables(), links=related_links(SERVER_UID),
        annotations=[state_change_annotation()],
    ))


def dsql_persistence_dashboard() -> Json:
    grid = Grid()
    add, section, panels = grid.add, grid.section, grid.panels

    section("Connection pool")
    add(_catalog_stat("Open connections", "dsql_pool.pool_open_count"), 6, 4)
    add(_catalog_stat("In use", "dsql_pool.pool_in_use_count"), 6, 4)
    add(_catalog_stat("Idle", "dsql_pool.pool_idle_count"), 6, 4)
    add(stat("Pool max open", [prometheus_target("sum(dsql_pool_max_open)", "max open")],
             description="Configured maximum open connections (TEMPORAL_SQL_MAX_CONNS summed over instances).",
             color_mode="value"), 6, 4)
    add(timeseries("Pool connections by service", [
        prometheus_target("sum by (service_name) (dsql_pool_in_use)", "in use {{service_name}}", "A"),
        prometheus_target("sum by (service_name) (dsql_pool_idle)", "idle {{service_name}}", "B"),
    ], unit="short"), 12, 8)
    add(timeseries("Pool utilisation", [prometheus_target(
        "100 * sum(dsql_pool_in_use) / sum(dsql_pool_max_open)", "in use / max open")], unit="percent",
        description="Connections executing a statement over the configured maximum."), 12, 8)

    section("Connection reservoir")
    add(_catalog_stat("Reservoir size", "dsql_pool.reservoir_size", [(None, "red"), (1, "orange"), (5, "green")]), 6, 4)
    add(stat("Reservoir target", [prometheus_target("sum(dsql_reservoir_target)", "target")],
             description="DSQL_RESERVOIR_TARGET_READY summed over instances.", color_mode="value"), 6, 4)
    add(_catalog_stat("Empty events/s", "dsql_pool.reservoir_empty_events", [(None, "green"), (0.1, "orange"), (1, "red")]), 6, 4)
    add(_catalog_stat("Refills/s", "dsql_pool.reconnect_count"), 6, 4)
    add(timeseries("Reservoir size vs target", [
        prometheus_target("sum(dsql_reservoir_size)", "ready", "A"),
        prometheus_target("sum(dsql_reservoir_target)", "target", "B"),
    ], unit="short"), 8, 8)
    add(timeseries("Reservoir events", [
        prometheus_target("sum(rate(dsql_reservoir_empty_total[$__rate_interval]))", "empty", "A"),
        prometheus_target("sum(rate(dsql_reservoir_refills_total[$__rate_interval]))", "refills", "B"),
    ], unit="ops"), 8, 8)
    add(timeseries("Refill failures by reason", [prometheus_target(
        "sum by (reason) (rate(dsql_reservoir_refill_failures_total[$__rate_interval]))", "{{reason}}")], unit="ops",
        description="rate_limit: the connection rate limiter; token_provider: IAM auth token generation."), 8, 8)

    section("Distributed coordination (slot blocks)")
    add(timeseries("Slot blocks owned", [prometheus_target(
        "sum by (service_name) (dsql_slot_blocks_owned)", "{{service_name}}")], unit="short",
        description="Blocks of the cluster-wide connection budget leased from DynamoDB."), 8, 8)
    add(timeseries("Slot utilisation", [prometheus_target(SLOT_UTILISATION_EXPR, "slots used %")],
        unit="percent", description="Slots used over slots owned; owned = blocks x the Slot block size "
                                    "variable (DSQL_SLOT_BLOCK_SIZE, which the plugin does not export)."), 8, 8)
    add(timeseries("Slots used by service", [prometheus_target(
        "sum by (service_name) (dsql_slot_blocks_slots_used)", "{{service_name}}")], unit="short"), 8, 8)

    section("Transactions and OCC")
    add(_catalog_series("OCC conflicts per second", "errors.occ_conflicts_per_sec", "conflicts/s"), 8, 8)
    add(timeseries("Retries per second", [prometheus_target(
        "sum(rate(dsql_tx_retry_total[$__rate_interval]))", "retries/s")], unit="ops"), 8, 8)
    add(_catalog_series("Exhausted retries per second", "errors.exhausted_retries_per_sec", "exhausted/s"), 8, 8)

    return dashboard(DashboardSpec(
        uid=DSQL_UID, title="DSQL Persistence", tags=["temporal", "dsql", "temporal-dsql"],
        description="The DSQL plugin's pool, reservoir, slot-block and transaction metrics.",
        panels=panels, links=related_links(DSQL_UID), annotations=[state_change_annotation()],
        variables=[text_variable(
            "slot_block_size", str(compiled_slot_block_size()), "Slot block size",
            "DSQL_SLOT_BLOCK_SIZE of this deployment (slots per block); the default is the compiler's value for "
            "the presets that enable slot blocks. The plugin exports blocks owned and slots used, not the size.")],
    ))


# The plugin exports blocks owned and slots used but not the block size (DSQL_SLOT_BLOCK_SIZE,
# configurable; metric names in dsql_plugin_facts.md section 4), so slots owned come from a variable.
SLOT_UTILISATION_EXPR = (
    "100 * sum(dsql_slot_blocks_slots_used) / (sum(dsql_slot_blocks_owned) * $slot_block_size)"
)


def compiled_slot_block_size() -> int:
    """DSQL_SLOT_BLOCK_SIZE as the compiler sets it for the presets that enable slot blocks."""
    from temporal_dsql_config import ConfigCompiler

    compiler = ConfigCompiler()
    sizes = {size for preset in compiler.list_presets()
             if (size := compiler.compile(preset.name).dsql_plugin_config.slot_block_size) is not None}
    if len(sizes) != 1:
        raise ValueError(f"expected one compiled DSQL_SLOT_BLOCK_SIZE across the presets, got {sorted(sizes)}: "
                         "give the Slot block size variable one default per preset")
    return sizes.pop()


def workers_dashboard() -> Json:
    grid = Grid()
    add, section, panels = grid.add, grid.section, grid.panels

    section("Schedule-to-start")
    add(_catalog_stat("Workflow task p99", "latency.workflow_schedule_to_start_p99",
                      [(None, "green"), (50, "orange"), (200, "red")]), 6, 4)
    add(_catalog_stat("Activity task p99", "latency.activity_schedule_to_start_p99",
                      [(None, "green"), (100, "orange"), (500, "red")]), 6, 4)
    add(_catalog_stat("Slot utilisation", "resources.worker_task_slot_utilization",
                      [(None, "green"), (80, "orange"), (95, "red")]), 6, 4)
    add(_catalog_stat("Sync match rate", "matching.sync_match_rate",
                      [(None, "red"), (80, "orange"), (95, "green")]), 6, 4)
    add(timeseries("Workflow task schedule-to-start", [
        prometheus_target(catalog_expr("latency.workflow_schedule_to_start_p95"), "p95", "A"),
        prometheus_target(catalog_expr("latency.workflow_schedule_to_start_p99"), "p99", "B"),
    ], unit="ms"), 12, 8)
    add(timeseries("Activity task schedule-to-start", [
        prometheus_target(catalog_expr("latency.activity_schedule_to_start_p95"), "p95", "A"),
        prometheus_target(catalog_expr("latency.activity_schedule_to_start_p99"), "p99", "B"),
    ], unit="ms"), 12, 8)

    section("Task slots")
    add(timeseries("Slots available by worker type", [prometheus_target(
        'sum by (worker_type) (temporal_worker_task_slots_available{namespace=~"$namespace",task_queue=~"$task_queue"})',
        "{{worker_type}}")], unit="short",
        description="Zero free slots means the worker stops polling: scale out, never down."), 12, 8)
    add(timeseries("Slots used by worker type", [prometheus_target(
        'sum by (worker_type) (temporal_worker_task_slots_used{namespace=~"$namespace",task_queue=~"$task_queue"})',
        "{{worker_type}}")], unit="short"), 12, 8)
    add(_catalog_series("Slot utilisation", "resources.worker_task_slot_utilization", "used %"), 24, 8)

    return dashboard(DashboardSpec(
        uid=WORKERS_UID, title="Temporal Workers", tags=["temporal", "workers", "temporal-dsql"],
        description="SDK worker health: schedule-to-start latency and task slots.",
        panels=panels, variables=namespace_variables(), links=related_links(WORKERS_UID),
        annotations=[state_change_annotation()],
    ))
