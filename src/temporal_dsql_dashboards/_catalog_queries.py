"""PromQL for dashboard panels taken from the metric catalog, scoped by dashboard variables."""

from __future__ import annotations

from temporal_dsql_core.metric_catalog import SCOPE_PLACEHOLDER, CatalogMetric, catalog_metric
from temporal_dsql_dashboards._panels import with_rate_interval

__all__ = ["catalog_expr", "catalog_unit"]

_GRAFANA_UNITS = {"per_sec": "ops", "ms": "ms", "percent": "percent", "count": "short"}


def _scope(metric: CatalogMetric) -> str:
    matchers = []
    if metric.namespace_scoped:
        matchers.append('namespace=~"$namespace"')
    if metric.task_queue_label is not None:
        matchers.append(f'{metric.task_queue_label}=~"$task_queue"')
    return "".join("," + m for m in matchers)


def catalog_expr(metric_id: str, service: str | None = None) -> str:
    """The catalog's PromQL for a metric id with the namespace/task-queue variables applied.

    The catalog's fixed ``[5m]`` windows become ``[$__rate_interval]``: the copilot and the alert
    rules read the catalog at one fixed window, a dashboard at the one its zoom calls for."""
    metric = catalog_metric(metric_id)
    expr = with_rate_interval(metric.promql.replace(SCOPE_PLACEHOLDER, _scope(metric)))
    if metric.per_service:
        if service is None:
            raise ValueError(f"{metric_id} is per service: name the service")
        expr = expr.replace("{service}", service)
    return expr


def catalog_unit(metric_id: str) -> str:
    return _GRAFANA_UNITS[catalog_metric(metric_id).unit.value]
