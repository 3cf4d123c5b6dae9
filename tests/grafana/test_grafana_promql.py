"""Every PromQL expression in every dashboard returns data from Prometheus loaded with a scenario.

A panel over a metric nothing exports (the prior art's Log Pattern Alerts) fails here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
import pytest
from whenever import TimeDelta

from temporal_dsql_dashboards._render import dashboards
from temporal_dsql_dashboards.copilot_dashboard import STATE_GATE, copilot_dashboard
from temporal_dsql_dashboards.health_dashboards import SLOT_UTILISATION_EXPR, compiled_slot_block_size
from temporal_dsql_devstack.stack import CLUSTER_ID
from temporal_dsql_devstack.telemetry import SLOT_BLOCK_SIZE

if TYPE_CHECKING:
    from conftest import LoadedPrometheus

# Status "All" (allValue "") with the copilot's state known: the copilot dashboard's gate is open.
_VARIABLES = {"${status}": "", "${copilot_state}": "stressed", "$namespace": ".*", "$task_queue": ".*",
              "$cluster": ".*",
              "$slot_block_size": str(compiled_slot_block_size()), "$__rate_interval": "5m", "$__interval": "30s"}


def _expressions() -> list[tuple[str, str, str]]:
    found = []
    for path, board in dashboards().items():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == "prometheus":
                    found.append((path, panel["title"], target["expr"]))
    return found


def _variable_queries() -> list[tuple[str, str, str]]:
    found = []
    for path, board in dashboards().items():
        for variable in board["templating"]["list"]:
            if variable["type"] == "query" and variable["datasource"]["type"] == "prometheus":
                found.append((path, variable["name"], variable["definition"]))
    return found


def _substitute(expr: str, variables: dict[str, str] | None = None) -> str:
    for name, value in {**_VARIABLES, **(variables or {})}.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unsubstituted variable in {expr}"
    return expr


def test_dashboards_use_prometheus() -> None:
    assert len(_expressions()) >= 40


@pytest.mark.standins
@pytest.mark.parametrize(("dashboard", "panel", "expr"), _expressions(), ids=lambda v: re.sub(r"\W+", "_", v)[:60])
def test_every_panel_expression_returns_data(dashboard_prometheus: LoadedPrometheus, dashboard: str, panel: str,
                                             expr: str) -> None:
    """With the Cluster selector on "All" and on the synthetic cluster (so every series the query
    reads carries the cluster label); another cluster selects nothing."""
    plan = dashboard_prometheus.plan
    for label, instant, cluster in (("healthy", plan.healthy[1] - TimeDelta(minutes=5), ".*"),
                                    ("overloaded", plan.overloaded[0] + TimeDelta(minutes=30), ".*"),
                                    ("overloaded", plan.overloaded[0] + TimeDelta(minutes=30), CLUSTER_ID)):
        response = httpx.post(f"{dashboard_prometheus.server.query_url}/api/v1/query",
                              data={"query": _substitute(expr, {"$cluster": cluster}),
                                    "time": str(instant.timestamp())}, timeout=10)
        body = response.json()
        assert response.status_code == 200, f"{dashboard} / {panel}: {body.get('error')}"
        series = body["data"]["result"]
        assert series, f"{dashboard} / {panel}: no data in the {label} window for {expr}"
        assert any(s["value"][1] not in ("NaN", "+Inf", "-Inf") for s in series), (
            f"{dashboard} / {panel}: only NaN/Inf in the {label} window for {expr}")
    response = httpx.post(f"{dashboard_prometheus.server.query_url}/api/v1/query",
                          data={"query": _substitute(expr, {"$cluster": "no-such-cluster"}),
                                "time": str((plan.overloaded[0] + TimeDelta(minutes=30)).timestamp())}, timeout=10)
    assert response.json()["data"]["result"] == [], f"{dashboard} / {panel} ignores the Cluster selector"


@pytest.fixture(scope="module")
def metric_names(dashboard_prometheus: LoadedPrometheus) -> frozenset[str]:
    response = httpx.get(f"{dashboard_prometheus.server.query_url}/api/v1/label/__name__/values", timeout=10)
    return frozenset(response.json()["data"])


@pytest.mark.standins
def test_every_selector_of_every_query_filters_by_the_cluster_variable(metric_names: frozenset[str]) -> None:
    """Each metric the stand-in holds that a query names (the names come from Prometheus, not from
    the generator's own parsing) is selected with the cluster matcher, in panels and variables."""
    queries = [expr for _, _, expr in _expressions()]
    queries += [definition for _, name, definition in _variable_queries() if name != "cluster"]
    checked = 0
    for query in queries:
        for match in re.finditer(r"[A-Za-z_:][\w:]*", query):
            if match.group(0) in metric_names and query[match.start() - 1:match.start()] not in ('"', "$"):
                assert query[match.end():].startswith('{cluster=~"$cluster"'), (match.group(0), query)
                checked += 1
    assert checked >= len(queries)


@pytest.mark.standins
@pytest.mark.parametrize(("dashboard", "name", "definition"), _variable_queries())
def test_variable_queries_find_values(dashboard_prometheus: LoadedPrometheus, dashboard: str, name: str,
                                      definition: str) -> None:
    match = re.fullmatch(r"label_values\((\w+(?:\{[^}]*\})?), (\w+)\)", definition)
    assert match, definition
    selector, label = match.groups()
    response = httpx.get(f"{dashboard_prometheus.server.query_url}/api/v1/label/{label}/values",
                         params={"match[]": _substitute(selector, {"$cluster": CLUSTER_ID})}, timeout=10)
    assert response.status_code == 200
    values = response.json()["data"]
    assert values, f"{dashboard}: {definition} finds no values"
    if name == "cluster":
        # The synthetic cluster's series carry the copilot's cluster id, as a collector labels them.
        assert values == [CLUSTER_ID]


def test_every_prometheus_panel_of_the_copilot_dashboard_follows_the_status_filter() -> None:
    for panel in copilot_dashboard()["panels"]:
        for target in panel.get("targets", []):
            if target["datasource"]["type"] == "prometheus":
                assert target["expr"].endswith(f" and {STATE_GATE}"), panel["title"]


@pytest.mark.standins
@pytest.mark.parametrize(("status", "current", "shown"), [
    ("", "stressed", True), ("stressed", "stressed", True), ("critical", "stressed", False),
    ("happy", "critical", False), ("critical", "critical", True), ("", "", True), ("happy", "", False),
])
def test_the_status_filter_gates_the_signal_grid(dashboard_prometheus: LoadedPrometheus, status: str, current: str,
                                                 shown: bool) -> None:
    """The Status variable as Grafana's Prometheus datasource interpolates it (All = ""), the current
    state from the hidden copilot_state variable ("" before the first assessment)."""
    at = dashboard_prometheus.plan.overloaded[0] + TimeDelta(minutes=30)
    grid = [t["expr"] for p in copilot_dashboard()["panels"] for t in p.get("targets", [])
            if t["datasource"]["type"] == "prometheus"]
    assert len(grid) >= 6
    for expr in grid:
        query = _substitute(expr, {"${status}": status, "${copilot_state}": current})
        response = httpx.post(f"{dashboard_prometheus.server.query_url}/api/v1/query",
                              data={"query": query, "time": str(at.timestamp())}, timeout=10)
        assert response.status_code == 200, response.text
        assert bool(response.json()["data"]["result"]) is shown, (status, current, expr)


@pytest.mark.standins
def test_slot_utilisation_uses_the_block_size_variable(dashboard_prometheus: LoadedPrometheus) -> None:
    """Slots owned = blocks x the Slot block size variable: with the block size the synthetic
    cluster was generated with, utilisation is a percentage; with half of it, exactly twice that."""
    at = dashboard_prometheus.plan.overloaded[0] + TimeDelta(minutes=30)

    def utilisation(block_size: int) -> float:
        query = _substitute(SLOT_UTILISATION_EXPR, {"$slot_block_size": str(block_size)})
        response = httpx.post(f"{dashboard_prometheus.server.query_url}/api/v1/query",
                              data={"query": query, "time": str(at.timestamp())}, timeout=10)
        (sample,) = response.json()["data"]["result"]
        return float(sample["value"][1])

    assert compiled_slot_block_size() == SLOT_BLOCK_SIZE
    full = utilisation(SLOT_BLOCK_SIZE)
    assert 0 < full <= 100
    assert utilisation(SLOT_BLOCK_SIZE // 2) == pytest.approx(2 * full)
