"""The dashboards import into any Grafana: datasource variables, __inputs, $__rate_interval, the
cluster selector, the frontend panels and the copilot's state-change annotation."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from temporal_dsql_dashboards import generated_files
from temporal_dsql_dashboards._panels import DATASOURCES, shareable
from temporal_dsql_dashboards._render import dashboards
from temporal_dsql_dashboards.annotations import STATE_CHANGE_PATH, STATE_CHANGE_ROOT
from temporal_dsql_dashboards.copilot_dashboard import STATE_CHANGES, STATUS_API_READS
from temporal_dsql_dashboards.health_dashboards import SERVER_UID
from temporal_dsql_dashboards.provisioning import datasources

_VARIABLE_REF = re.compile(r"^\$\{(\w+)\}$")


def _datasource_refs(board: dict[str, Any]) -> Iterator[tuple[str, dict[str, str]]]:
    """Every datasource reference of a dashboard: panels, their targets, variables, annotations."""
    for panel in board["panels"]:
        if "datasource" in panel:
            yield f"panel {panel['title']}", panel["datasource"]
        for target in panel.get("targets", []):
            yield f"target {panel['title']}/{target['refId']}", target["datasource"]
    for variable in board["templating"]["list"]:
        if "datasource" in variable:
            yield f"variable {variable['name']}", variable["datasource"]
    for annotation in board["annotations"]["list"]:
        yield f"annotation {annotation['name']}", annotation["datasource"]


@pytest.mark.parametrize("path", sorted(dashboards()))
def test_every_datasource_reference_is_a_datasource_variable_of_its_type(path: str) -> None:
    board = dashboards()[path]
    variables = {v["name"]: v for v in board["templating"]["list"] if v["type"] == "datasource"}
    provisioned = {d["uid"]: d for d in datasources()["datasources"]}
    refs = list(_datasource_refs(board))
    assert refs
    for where, ref in refs:
        match = _VARIABLE_REF.match(ref["uid"])
        assert match, f"{path}: {where} has a fixed datasource uid {ref['uid']!r}"
        variable = variables[match.group(1)]
        assert variable["query"] == ref["type"], (path, where)
        # The provisioned copy defaults to the datasource provisioning creates, of the same type.
        assert provisioned[variable["current"]["value"]]["type"] == ref["type"], (path, where)
    assert "amp" not in json.dumps([r for _, r in refs]) and "copilot-api" not in json.dumps([r for _, r in refs])


@pytest.mark.parametrize("path", sorted(dashboards()))
def test_the_shared_copy_asks_for_each_datasource_on_import(path: str) -> None:
    board = dashboards()[path]
    shared = shareable(board)
    inputs = {i["name"]: i for i in shared["__inputs"]}
    variables = [v for v in shared["templating"]["list"] if v["type"] == "datasource"]
    assert {v["name"] for v in variables} == {slot.variable for slot in DATASOURCES}
    for variable in variables:
        # Grafana's import replaces ${<input>} everywhere with the uid of the datasource picked for it.
        (name,) = _VARIABLE_REF.match(variable["current"]["value"]).groups()  # type: ignore[union-attr]
        assert inputs[name]["type"] == "datasource" and inputs[name]["pluginId"] == variable["query"]
    text = json.dumps(shared)
    referenced = set(re.findall(r"\$\{(DS_\w+)\}", text))
    assert referenced == set(inputs), "every input is used and every ${DS_...} is an input"
    requires = {(r["type"], r["id"]) for r in shared["__requires"]}
    assert ("grafana", "grafana") in requires
    assert {("datasource", slot.plugin_id) for slot in DATASOURCES} <= requires
    assert {("panel", p["type"]) for p in board["panels"] if p["type"] != "row"} <= requires
    # Nothing of this installation's provisioning is left: no provisioned uid, no current query values.
    assert '"amp"' not in text and '"copilot-api"' not in text
    assert all(v["current"] == {} for v in shared["templating"]["list"] if v["type"] == "query")
    # Otherwise the same dashboard.
    assert {k: v for k, v in shared.items() if not k.startswith("__") and k != "templating"} == {
        k: v for k, v in board.items() if k != "templating"}


def test_the_shared_copies_are_generated_files() -> None:
    paths = {f.path for f in generated_files()}
    for rel in dashboards():
        assert f"grafana/shared/{rel.rpartition('/')[2]}" in paths


def _prometheus_queries() -> list[str]:
    queries = []
    for board in dashboards().values():
        queries += [t["expr"] for p in board["panels"] for t in p.get("targets", []) if "expr" in t]
        queries += [v["definition"] for v in board["templating"]["list"]
                    if v["type"] == "query" and v["datasource"]["type"] == "prometheus"]
    return queries


def test_no_fixed_range_remains_in_a_rate_query() -> None:
    queries = _prometheus_queries()
    ranged = [q for q in queries if re.search(r"\b(rate|irate|increase)\(", q)]
    assert len(ranged) >= 20
    for query in queries:
        assert not re.search(r"\[\d+[smhdwy]\]", query), query
    for query in ranged:
        windows = re.findall(r"\[([^\]]+)\]", query)
        assert windows and set(windows) == {"$__rate_interval"}, query


def test_every_query_filters_by_the_cluster_variable() -> None:
    for board in dashboards().values():
        (cluster,) = [v for v in board["templating"]["list"] if v["name"] == "cluster"]
        assert cluster["type"] == "query" and cluster["includeAll"] and cluster["allValue"] == ".*"
        assert cluster["definition"] == "label_values(service_requests_total, cluster)"
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == "prometheus":
                    assert 'cluster=~"$cluster"' in target["expr"], panel["title"]


def test_the_server_dashboard_has_frontend_latency_and_error_panels() -> None:
    (board,) = [b for b in dashboards().values() if b["uid"] == SERVER_UID]
    panels = {p["title"]: p for p in board["panels"]}
    latency = panels["Frontend request latency"]
    assert [t["legendFormat"] for t in latency["targets"]] == ["p50", "p95", "p99"]
    for target, quantile in zip(latency["targets"], ("0.5", "0.95", "0.99"), strict=True):
        assert target["expr"].startswith(f"histogram_quantile({quantile}, ")
        assert "service_latency_milliseconds_bucket" in target["expr"] and 'service_name="frontend"' in target["expr"]
    assert latency["fieldConfig"]["defaults"]["unit"] == "ms"
    (errors,) = panels["Frontend errors by type"]["targets"]
    assert "service_error_with_type_total" in errors["expr"] and "by (error_type)" in errors["expr"]
    (ratio,) = panels["Frontend error rate"]["targets"]
    assert "service_error_with_type_total" in ratio["expr"] and "service_requests_total" in ratio["expr"]
    assert panels["Frontend error rate"]["fieldConfig"]["defaults"]["unit"] == "percent"


@pytest.mark.parametrize("path", sorted(dashboards()))
def test_every_dashboard_marks_the_copilots_state_changes(path: str) -> None:
    (annotation,) = dashboards()[path]["annotations"]["list"]
    assert annotation["enable"] and annotation["datasource"]["type"] == "yesoreyeram-infinity-datasource"
    target = annotation["target"]
    assert (target["url"], target["root_selector"], target["format"]) == (STATE_CHANGE_PATH, STATE_CHANGE_ROOT,
                                                                           "dataframe")
    columns = {c["selector"]: c["type"] for c in target["columns"]}
    assert columns["at"] == "timestamp"
    assert annotation["mappings"]["time"] == {"source": "field", "value": "at"}
    assert {m["value"] for m in annotation["mappings"].values()} <= set(columns)
    # The read is declared, so tests/grafana/test_grafana_status_api.py checks it on the real API.
    assert STATE_CHANGES in STATUS_API_READS
    assert (STATE_CHANGES.path, STATE_CHANGES.root_selector, set(STATE_CHANGES.fields)) == (
        target["url"], target["root_selector"], set(columns))
