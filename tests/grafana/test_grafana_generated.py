"""The committed grafana/ files are exactly what the builders generate, and hang together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from temporal_dsql_dashboards import check_files, generated_files
from temporal_dsql_dashboards._panels import COPILOT, with_cluster
from temporal_dsql_dashboards._render import dashboards
from temporal_dsql_dashboards.copilot_dashboard import STATUS_API_READS, copilot_dashboard
from temporal_dsql_dashboards.health_dashboards import (
    COPILOT_UID,
    DSQL_UID,
    SERVER_UID,
    SLOT_UTILISATION_EXPR,
    WORKERS_UID,
    dsql_persistence_dashboard,
)
from temporal_dsql_dashboards.profile_action import extract_request_template, interpolate
from temporal_dsql_dashboards.provisioning import REQUIRED_PLUGINS, datasources

ROOT = Path(__file__).resolve().parents[2]


def _panels(board: dict) -> list[dict]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_committed_files_match_the_builders() -> None:
    assert check_files(ROOT) == [], "run `uv run python -m temporal_dsql_dashboards` and commit grafana/"


def test_check_mode_detects_a_stale_file(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "temporal_dsql_dashboards", "--root", str(tmp_path)]
    assert subprocess.run(cmd, check=True, capture_output=True).returncode == 0
    assert subprocess.run([*cmd, "--check"], capture_output=True).returncode == 0
    stale = tmp_path / "grafana/dashboards/copilot/copilot.json"
    stale.write_text(stale.read_text().replace('"30s"', '"1m"', 1))
    result = subprocess.run([*cmd, "--check"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "grafana/dashboards/copilot/copilot.json" in result.stderr


def test_every_generated_file_parses() -> None:
    for generated in generated_files():
        if generated.path.endswith(".json"):
            json.loads(generated.content)
        else:
            assert isinstance(yaml.safe_load(generated.content), dict)


def test_dashboards_link_to_each_other_and_refresh_every_30s() -> None:
    boards = {b["uid"]: b for b in dashboards().values()}
    assert set(boards) == {COPILOT_UID, SERVER_UID, DSQL_UID, WORKERS_UID}
    for uid, board in boards.items():
        assert board["refresh"] == "30s"
        linked = {link["url"].removeprefix("/d/") for link in board["links"] if link["url"].startswith("/d/")}
        assert linked == set(boards) - {uid}, uid
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), f"duplicate panel ids in {uid}"
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24


def test_copilot_dashboard_has_every_requirement_7_element() -> None:
    board = copilot_dashboard()
    titles = {p["title"] for p in _panels(board)}
    assert {"Copilot Insights", "Most critical issue", "Status", "Analysis", "Suggested Remediations",
            "Log Pattern Alerts", "Create Behaviour Profile"} <= titles
    hero = next(p for p in _panels(board) if p["title"] == "Copilot Insights")
    content = hero["options"]["content"]
    for field in ("{{health_state}}", "{{percent confidence}}", "{{assessed_at}}", "{{summary}}", "View Guide"):
        assert field in content
    callout = next(p for p in _panels(board) if p["title"] == "Most critical issue")
    assert callout["options"]["renderMode"] == "allRows" and "mostCritical" in callout["options"]["helpers"]
    status = next(v for v in board["templating"]["list"] if v["name"] == "status")
    assert [o["value"] for o in status["options"]] == ["$__all", "happy", "stressed", "critical"]
    assert any(link["title"] == "View Guide" for link in board["links"])
    sparklines = [p for p in _panels(board) if p["type"] == "stat" and p["options"]["graphMode"] == "area"]
    assert len(sparklines) >= 6
    # Every status-API read a panel makes is declared, so the API test covers all of them.
    declared = {(r.path, r.root_selector) for r in STATUS_API_READS}
    for panel in _panels(board):
        for target in panel.get("targets", []):
            if target["datasource"] == COPILOT.ref:
                assert (target["url"], target["root_selector"]) in declared, panel["title"]


def test_the_status_filter_covers_every_copilot_api_panel() -> None:
    """Requirement 7.2: the Status variable filters the entire dashboard."""
    board = copilot_dashboard()
    filters = {r.panel: r.status_filter for r in STATUS_API_READS}
    readers = [p for p in _panels(board) if any(t["datasource"] == COPILOT.ref for t in p["targets"])]
    assert {p["title"] for p in readers} >= {"Copilot Insights", "Most critical issue", "Status", "Analysis",
                                             "Suggested Remediations", "Log Pattern Alerts", "Per-Service Health",
                                             "Health Timeline"}
    for panel in readers:
        for target in panel["targets"]:
            expression = target.get("filterExpression", "")
            assert '"${status}" == ""' in expression, f"{panel['title']} ignores the Status filter"
            assert expression in filters.values(), panel["title"]
    # The state the row-less panels compare with comes from a hidden variable over GET /status.
    (state,) = [v for v in board["templating"]["list"] if v["name"] == "copilot_state"]
    assert state["hide"] == 2 and state["refresh"] == 2 and state["datasource"] == COPILOT.ref
    query = state["query"]["infinityQuery"]
    assert (query["url"], query["root_selector"], [c["selector"] for c in query["columns"]]) == (
        "/status", "", ["health_state"])


def test_required_plugins_are_the_ones_the_dashboards_use() -> None:
    used = set()
    for board in dashboards().values():
        for panel in board["panels"]:
            used.add(panel["type"])
            used.update(t["datasource"]["type"] for t in panel.get("targets", []))
    assert set(REQUIRED_PLUGINS) <= used
    assert used - set(REQUIRED_PLUGINS) <= {"row", "stat", "table", "timeseries", "state-timeline", "prometheus"}


def test_request_template_round_trips_through_grafana_interpolation() -> None:
    panel = next(p for p in _panels(copilot_dashboard()) if p["title"] == "Create Behaviour Profile")
    template = extract_request_template(panel["options"]["afterRender"])
    body = {k: interpolate(v, {"__from": "1763800000000", "__to": "1763803600000", "cluster_id": "c1",
                               "namespace": "orders", "task_queue": "tq"}) for k, v in template.items()}
    assert body == {"cluster_id": "c1", "name": "grafana-c1-1763800000000-1763803600000", "namespace": "orders",
                    "task_queue": "tq", "time_window_end": "1763803600000",
                    "time_window_start": "1763800000000"}
    assert interpolate("$unknown ${also:raw}", {}) == "$unknown ${also:raw}"


def test_copilot_datasource_sends_the_api_token_from_grafanas_environment() -> None:
    # One custom header: Infinity adds it to the panels' queries, Grafana's data source proxy to the
    # Create Behaviour Profile action's POST; encrypted by Grafana, never sent to browsers.
    (source,) = [d for d in datasources()["datasources"] if d["uid"] == COPILOT.uid]
    assert source["jsonData"]["httpHeaderName1"] == "Authorization"
    assert source["secureJsonData"] == {"httpHeaderValue1": "Bearer ${COPILOT_API_TOKEN}"}
    # The action itself sets no Authorization header: the token is never in the dashboard.
    action = next(p for p in _panels(copilot_dashboard()) if p["title"] == "Create Behaviour Profile")
    assert "'Authorization'" not in action["options"]["afterRender"]


def test_slot_utilisation_takes_the_block_size_from_a_variable() -> None:
    board = dsql_persistence_dashboard()
    (panel,) = [p for p in _panels(board) if p["title"] == "Slot utilisation"]
    (target,) = panel["targets"]
    assert target["expr"] == with_cluster(SLOT_UTILISATION_EXPR) and "$slot_block_size" in target["expr"]
    assert "* 100)" not in target["expr"]  # the block size is configurable (DSQL_SLOT_BLOCK_SIZE)
    (variable,) = [v for v in board["templating"]["list"] if v["name"] == "slot_block_size"]
    from temporal_dsql_config import ConfigCompiler

    compiled = ConfigCompiler().compile("high-throughput").dsql_plugin_config.slot_block_size
    assert variable["query"] == variable["current"]["value"] == str(compiled)
