"""Every PromQL expression in every dashboard returns data from Prometheus loaded with a scenario.

A panel over a metric nothing exports (the prior art's Log Pattern Alerts) fails here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
import pytest
from whenever import TimeDelta

from copilot.grafana._render import dashboards

if TYPE_CHECKING:
    from conftest import LoadedPrometheus

_VARIABLES = {"$namespace": ".*", "$task_queue": ".*", "$__rate_interval": "5m", "$__interval": "30s"}


def _expressions() -> list[tuple[str, str, str]]:
    found = []
    for path, board in dashboards().items():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == "prometheus":
                    found.append((path, panel["title"], target["expr"]))
    return found


def _variable_queries() -> list[tuple[str, str]]:
    found = []
    for path, board in dashboards().items():
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                found.append((path, variable["definition"]))
    return found


def _substitute(expr: str) -> str:
    for name, value in _VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unsubstituted variable in {expr}"
    return expr


def test_dashboards_use_prometheus() -> None:
    assert len(_expressions()) >= 40


@pytest.mark.standins
@pytest.mark.parametrize(("dashboard", "panel", "expr"), _expressions(), ids=lambda v: re.sub(r"\W+", "_", v)[:60])
def test_every_panel_expression_returns_data(dashboard_prometheus: LoadedPrometheus, dashboard: str, panel: str,
                                             expr: str) -> None:
    plan = dashboard_prometheus.plan
    for label, instant in (("healthy", plan.healthy[1] - TimeDelta(minutes=5)),
                           ("overloaded", plan.overloaded[0] + TimeDelta(minutes=30))):
        response = httpx.post(f"{dashboard_prometheus.server.query_url}/api/v1/query",
                              data={"query": _substitute(expr), "time": str(instant.timestamp())}, timeout=10)
        body = response.json()
        assert response.status_code == 200, f"{dashboard} / {panel}: {body.get('error')}"
        series = body["data"]["result"]
        assert series, f"{dashboard} / {panel}: no data in the {label} window for {expr}"
        assert any(s["value"][1] not in ("NaN", "+Inf", "-Inf") for s in series), (
            f"{dashboard} / {panel}: only NaN/Inf in the {label} window for {expr}")


@pytest.mark.standins
@pytest.mark.parametrize(("dashboard", "definition"), _variable_queries())
def test_variable_queries_find_values(dashboard_prometheus: LoadedPrometheus, dashboard: str,
                                      definition: str) -> None:
    match = re.fullmatch(r"label_values\((\w+), (\w+)\)", definition)
    assert match, definition
    metric, label = match.groups()
    response = httpx.get(f"{dashboard_prometheus.server.query_url}/api/v1/label/{label}/values",
                         params={"match[]": metric}, timeout=10)
    assert response.status_code == 200
    assert response.json()["data"], f"{dashboard}: {definition} finds no values"
