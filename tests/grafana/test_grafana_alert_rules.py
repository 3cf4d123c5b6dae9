"""The alert rules: promtool accepts every shipped file, and the stand-in Prometheus evaluating them
raises a stress alert on the overloaded scenario and none on the healthy one."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from whenever import Instant, TimeDelta

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_core.alert_rules import BOUND_ALERTS, HEALTH_LABEL, WORKER_SCHEDULE_TO_START_MS, rules_yaml
from temporal_dsql_dashboards.alerts import SCALE_PRESETS, alert_rule_files, rules_file_name
from temporal_dsql_standins.prometheus import PrometheusServer, promtool_binary
from temporal_dsql_standins.scenarios import ScenarioWindow, get_scenario, load_into_prometheus

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "grafana" / "alerts"


@pytest.mark.parametrize("preset", SCALE_PRESETS)
def test_promtool_validates_the_shipped_rules_file(preset: str) -> None:
    path = ALERTS / rules_file_name(preset)
    assert path.read_text() == alert_rule_files()[path.name]
    result = subprocess.run([str(promtool_binary()), "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(yaml.safe_load(path.read_text())['groups'][0]['rules'])} rules found" in result.stdout


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: a rule with a PromQL syntax error does not pass."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(alert_rule_files()[rules_file_name("mid-scale")].replace("> 12.5", "> > 12.5", 1))
    result = subprocess.run([str(promtool_binary()), "check", "rules", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0


@pytest.mark.parametrize("preset", SCALE_PRESETS)
def test_thresholds_are_the_compilers_bounds_and_the_specs_worker_limits(preset: str) -> None:
    bounds = {b.metric: b for b in ConfigCompiler().compile(preset).profile.expected_bounds}
    rules = {r["alert"]: r for r in yaml.safe_load(alert_rule_files()[rules_file_name(preset)])["groups"][0]["rules"]}
    for spec in BOUND_ALERTS:
        bound = bounds[spec.metric_id]
        op, limit = rules[spec.alert]["expr"].rsplit(" ", 2)[-2:]
        assert (op, float(limit)) == (("<", bound.lower) if spec.below else (">", bound.upper)), spec.alert
    # copilot Requirement 14.4: schedule-to-start above 50 ms, zero free slots.
    assert WORKER_SCHEDULE_TO_START_MS == 50.0
    assert rules["TemporalWorkflowTaskScheduleToStartHigh"]["expr"].endswith("> 50")
    assert rules["TemporalWorkerTaskSlotsExhausted"]["expr"].endswith("== 0")
    assert {r["labels"][HEALTH_LABEL] for r in rules.values()} == {"stressed", "critical"}
    for rule in rules.values():
        assert "[5m]" in rule["expr"] or "rate(" not in rule["expr"]
        assert "by (" in rule["expr"] and "cluster" in rule["expr"], rule["alert"]


@pytest.fixture(scope="module")
def evaluated() -> Iterator[dict[str, dict[str, str]]]:
    """Two stand-in Prometheus servers with the mid-scale rules (the synthetic cluster's band: 150
    starts/s is 450 transitions/s), one holding the healthy and one the overloaded scenario around
    now: alert name -> state, per scenario, once every rule was evaluated."""
    rules_text = rules_yaml(ConfigCompiler().compile("mid-scale").profile.expected_bounds, "mid-scale")
    now = Instant.now()
    servers: dict[str, PrometheusServer] = {}
    states: dict[str, dict[str, str]] = {}
    try:
        for scenario in ("healthy-150wps", "overloaded-400wps"):
            server = PrometheusServer(evaluation_interval="1s")
            assert server.workdir is not None
            rules = server.workdir / "rules.yaml"
            rules.write_text(rules_text)
            server.rule_files.append(rules)
            servers[scenario] = server
            window = ScenarioWindow(get_scenario(scenario), now - TimeDelta(minutes=60), now + TimeDelta(minutes=30),
                                    seed=7)
            load_into_prometheus(server, [window], cluster="alerts-test")
            server.start()
        for scenario, server in servers.items():
            deadline = time.monotonic() + 60
            while True:
                groups = httpx.get(f"{server.query_url}/api/v1/rules", timeout=10).json()["data"]["groups"]
                rules_seen = [r for g in groups for r in g["rules"]]
                if rules_seen and all(r["lastEvaluation"] > "2000" for r in rules_seen):
                    break
                assert time.monotonic() < deadline, f"{scenario}: rules not evaluated within 60 s: {groups}"
                time.sleep(0.5)
            assert all(r["health"] == "ok" for r in rules_seen), rules_seen
            states[scenario] = {r["name"]: r["state"] for r in rules_seen}
        yield states
    finally:
        for server in servers.values():
            server.remove()


@pytest.mark.standins
def test_the_overloaded_cluster_raises_stress_alerts(evaluated: dict[str, dict[str, str]]) -> None:
    """Active = the condition holds (``pending`` until it held for the rule's ``for``, then firing)."""
    active = {name for name, state in evaluated["overloaded-400wps"].items() if state in ("pending", "firing")}
    # At two thirds of the ramp: persistence p99 and OCC conflicts are far past mid-scale's bounds.
    assert {"TemporalPersistenceLatencyHigh", "TemporalOccConflictsHigh"} <= active
    assert "TemporalForwardProgressStopped" not in active, active  # overloaded, still progressing


@pytest.mark.standins
def test_the_healthy_cluster_raises_no_alert(evaluated: dict[str, dict[str, str]]) -> None:
    assert set(evaluated["healthy-150wps"].values()) == {"inactive"}, evaluated["healthy-150wps"]
