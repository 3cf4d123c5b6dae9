"""Prometheus alert rules for the health signals, from a compiled profile's expected telemetry bounds.

One rules file per deployment: the dashboards' generator writes one per scale preset under
``grafana/alerts/`` and the Pulumi stack deploys the same text, rendered from its own compiled
profile, as an Amazon Managed Prometheus rule groups namespace. No threshold is made up here:

- a *Stressed* alert per amplifier or worker signal the copilot's state machine watches fires when
  the metric leaves the range the config compiler expects for the deployment
  (``ConfigProfile.expected_bounds``, config Requirement 16): above its upper bound, or below its
  lower bound for a higher-is-better metric;
- the worker alerts use copilot Requirement 14.4's thresholds: workflow-task schedule-to-start above
  50 ms is worker pressure, zero available task slots is worker saturation;
- the *Critical* alert is Requirement 12.1's invariant: work arrives and nothing progresses.

The expressions are the metric catalog's PromQL grouped by the ``cluster`` label, so one AMP
workspace can hold several clusters and each alert names its cluster. They keep the catalog's fixed
``[5m]`` windows: a rule has no ``$__rate_interval`` (that is Grafana's), and the bounds and the
copilot's thresholds are defined over the catalog's 5-minute rates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from temporal_dsql_core.metric_catalog import SCOPE_PLACEHOLDER, catalog_metric
from temporal_dsql_core.models import TelemetryBound

__all__ = [
    "ALERT_GROUP",
    "CLUSTER_LABEL",
    "HEALTH_LABEL",
    "NAMESPACE_NAME",
    "WORKER_SCHEDULE_TO_START_MS",
    "BoundAlert",
    "alert_rules",
    "by_cluster",
    "rules_yaml",
]

CLUSTER_LABEL = "cluster"
NAMESPACE_NAME = "temporal-dsql-health"
"""The AMP rule groups namespace the stack deploys."""
ALERT_GROUP = "temporal-dsql-health"
HEALTH_LABEL = "health"
"""Label naming the copilot state an alert corresponds to (stressed, critical)."""
WORKER_SCHEDULE_TO_START_MS = 50.0
"""Copilot Requirement 14.4: workflow-task schedule-to-start above 50 ms indicates worker pressure."""
FOR = "5m"
"""How long a condition holds before the alert fires: one catalog rate window, so one noisy
scrape of a gauge (backlog age, free slots) does not page anyone."""


@dataclass(frozen=True)
class BoundAlert:
    """An alert on a catalog metric leaving its compiled bound."""

    alert: str
    metric_id: str
    summary: str
    below: bool = False
    """Fire below the lower bound (higher is better) instead of above the upper bound."""


BOUND_ALERTS: tuple[BoundAlert, ...] = (
    BoundAlert("TemporalPersistenceLatencyHigh", "latency.persistence_latency_p99",
               "History persistence p99 latency above the deployment's expected bound"),
    BoundAlert("TemporalOccConflictsHigh", "errors.occ_conflicts_per_sec",
               "DSQL optimistic-concurrency conflicts above the deployment's expected rate"),
    BoundAlert("TemporalDsqlRetriesExhausted", "errors.exhausted_retries_per_sec",
               "DSQL transactions failing after their retry budget above the expected rate"),
    BoundAlert("TemporalDsqlReservoirEmpty", "dsql_pool.reservoir_empty_events",
               "Connection checkouts finding the DSQL reservoir empty above the expected rate"),
    BoundAlert("TemporalBacklogAgeHigh", "matching.backlog_age",
               "Oldest task-queue backlog older than the deployment's schedule-to-start SLO"),
    BoundAlert("TemporalSyncMatchRateLow", "matching.sync_match_rate",
               "Fewer tasks handed straight to a waiting poller than the deployment expects", below=True),
)

_AGGREGATION = re.compile(r"\b(sum|max|min|count)\s*(?:by\s*\(([^)]*)\)\s*)?\(")


def by_cluster(expr: str) -> str:
    """Every aggregation of ``expr`` also grouped by the cluster label, so the result keeps it."""
    def group(match: re.Match[str]) -> str:
        labels = [label.strip() for label in (match.group(2) or "").split(",") if label.strip()]
        return f"{match.group(1)} by ({', '.join([*labels, CLUSTER_LABEL])}) ("
    return _AGGREGATION.sub(group, expr)


def _catalog(metric_id: str) -> str:
    return by_cluster(catalog_metric(metric_id).promql.replace(SCOPE_PLACEHOLDER, ""))


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _rule(alert: str, expr: str, health: str, summary: str, description: str) -> dict[str, Any]:
    return {"alert": alert, "expr": expr, "for": FOR,
            "labels": {"severity": "critical" if health == "critical" else "warning", HEALTH_LABEL: health},
            "annotations": {"summary": summary, "description": description}}


def alert_rules(bounds: Iterable[TelemetryBound], preset: str) -> dict[str, Any]:
    """The rules file (Prometheus's rule-file format, which AMP's rule groups namespaces take)."""
    by_metric: Mapping[str, TelemetryBound] = {b.metric: b for b in bounds}
    rules: list[dict[str, Any]] = []
    for spec in BOUND_ALERTS:
        bound = by_metric[spec.metric_id]
        limit, op = (bound.lower, "<") if spec.below else (bound.upper, ">")
        unit = catalog_metric(spec.metric_id).unit.value
        rules.append(_rule(
            spec.alert, f"{_catalog(spec.metric_id)} {op} {_number(limit)}", "stressed", spec.summary,
            f"{spec.metric_id} is {{{{ $value | humanize }}}} ({unit}) on cluster {{{{ $labels.{CLUSTER_LABEL} }}}}; "
            f"the {preset} configuration expects {'at least' if spec.below else 'at most'} {_number(limit)}."))
    rules.append(_rule(
        "TemporalWorkflowTaskScheduleToStartHigh",
        f"{_catalog('latency.workflow_schedule_to_start_p99')} > {_number(WORKER_SCHEDULE_TO_START_MS)}",
        "stressed", "Workers are slow to pick up workflow tasks",
        f"Workflow-task schedule-to-start p99 is {{{{ $value | humanize }}}} ms on cluster "
        f"{{{{ $labels.{CLUSTER_LABEL} }}}}; above {_number(WORKER_SCHEDULE_TO_START_MS)} ms the workers cannot keep "
        "up (add pollers or workers)."))
    rules.append(_rule(
        "TemporalWorkerTaskSlotsExhausted",
        f"min by (worker_type, {CLUSTER_LABEL}) (temporal_worker_task_slots_available) == 0",
        "stressed", "A worker has no free task slots and stops polling",
        f"{{{{ $labels.worker_type }}}} slots are exhausted on cluster {{{{ $labels.{CLUSTER_LABEL} }}}}: "
        "scale workers out, never down."))
    starts = _catalog("throughput.workflows_started_per_sec")
    transitions = _catalog("throughput.state_transitions_per_sec")
    rules.append(_rule(
        "TemporalForwardProgressStopped", f"({starts} > 0) and on({CLUSTER_LABEL}) ({transitions} == 0)",
        "critical", "Workflows are arriving but no state transition is persisted",
        f"Cluster {{{{ $labels.{CLUSTER_LABEL} }}}} accepts workflow starts but makes no forward progress."))
    return {"groups": [{"name": ALERT_GROUP, "rules": rules}]}


def rules_yaml(bounds: Iterable[TelemetryBound], preset: str) -> str:
    """The rules file's text, byte-for-byte what the stack deploys for the preset."""
    header = (f"# Alert rules for the {preset} configuration: generated from the config compiler's expected "
              "telemetry bounds\n# (temporal_dsql_core.alert_rules); regenerate with "
              "`python -m temporal_dsql_dashboards`.\n")
    return header + yaml.safe_dump(alert_rules(bounds, preset), sort_keys=False, default_flow_style=False, width=120)
