"""`copilot eval`: replaying a scenario file (text and JSON), bad scenario files, and the eval cases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import temporal_dsql_copilot.eval
from temporal_dsql_copilot.cli import app

runner = CliRunner()
CASES_DIR = Path(temporal_dsql_copilot.eval.__file__).parent / "cases"

# The "workers gone" incident, as an SRE would write it from the dashboards.
INCIDENT = """\
preset: mid-scale
interval_seconds: 30
defaults: {workflow_starts_per_sec: 100.0, state_transitions_per_sec: 300.0, workflow_completions_per_sec: 100.0,
           workflow_failures_per_sec: 0.0, backlog_age_sec: 0.2, pollers: 4.0, persistence_latency_p99_ms: 20.0}
cycles:
  - {repeat: 2}
  - {pollers: 0.0, workflow_completions_per_sec: 0.0, backlog_age_sec: 30.0}
  - {pollers: 0.0, workflow_completions_per_sec: 0.0, backlog_age_sec: 60.0}
  - {pollers: 0.0, workflow_completions_per_sec: 0.0, backlog_age_sec: 90.0}
"""


def _write(tmp_path: Path, text: str, name: str = "incident.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_replay_prints_every_cycle_as_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--scenario", str(_write(tmp_path, INCIDENT)), "--format", "json"])
    assert result.exit_code == 0, result.output
    cycles = json.loads(result.output)["cycles"]
    assert [c["state"] for c in cycles] == ["happy", "happy", "stressed", "stressed", "critical"]
    assert [c["bottleneck"] for c in cycles] == ["healthy", "healthy"] + ["worker_limited"] * 3
    assert {"state", "bottleneck", "reason", "actions"} <= set(cycles[0])
    assert cycles[0]["actions"] == [] and cycles[-1]["actions"][0]["target_service"] == "worker"
    assert "no worker is polling" in cycles[-1]["reason"] and cycles[-1]["band"] == "mid-scale"
    assert [c["observed_at"] for c in cycles[:2]] == ["2026-01-01T00:00:00Z", "2026-01-01T00:00:30Z"]


def test_replay_text(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--scenario", str(_write(tmp_path, INCIDENT))])
    assert result.exit_code == 0, result.output
    assert "cycle 5  2026-01-01T00:02:00Z  critical  (band mid-scale, bottleneck worker-limited)" in result.output
    assert "- scale worker: Restore the workers" in result.output


@pytest.mark.parametrize(("text", "says"), [
    ("preset: mid-scale\ncycles:\n  - {state_transitons_per_sec: 3}\n",
     ["cycles[1]: unknown signal 'state_transitons_per_sec'", "Did you mean 'state_transitions_per_sec'?"]),
    ("preset: mid-scal\ncycles:\n  - {}\n", ["unknown preset 'mid-scal'", "Did you mean 'mid-scale'?"]),
    ("preset: mid-scale\ncycles: []\n", ["cycles must be a non-empty list"]),
    ("preset: mid-scale\ncycles:\n  - {pollers: lots}\n", ["cycles.0.pollers", "Values are numbers or null"]),
    ("preset: mid-scale\ncycles:\n  - {repeat: 0}\n", ["cycles[1].repeat must be a whole number"]),
    ("preset: [\n", ["not valid YAML"]),
])
def test_bad_scenario_files_are_input_errors(tmp_path: Path, text: str, says: list[str]) -> None:
    result = runner.invoke(app, ["eval", "--scenario", str(_write(tmp_path, text))])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error:") and "Traceback" not in result.output
    flat = " ".join(result.output.split())
    for words in says:
        assert words in flat, flat


def test_missing_scenario_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--scenario", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "cannot read the scenario file" in result.output


def test_a_failing_case_exits_3_a_failed_check_and_says_why(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(CASES_DIR / "13_workers_gone.yaml", cases)
    text = (cases / "13_workers_gone.yaml").read_text()
    (cases / "13_workers_gone.yaml").write_text(text.replace('states: "H*3 S*2 C*8"', 'states: "H*3 S*10"'))
    result = runner.invoke(app, ["eval", "--cases", str(cases), "--format", "json"])
    assert result.exit_code == 3, result.output  # the shared exit-code table: 3 = a failed check
    report = json.loads(result.output)
    assert report["failed"] == 1
    assert any(p.startswith("cycle 6: expected stressed") for p in report["cases"][0]["problems"])


@pytest.mark.standins
def test_every_built_in_case_is_green_on_the_offline_model() -> None:
    """`copilot eval` with no options: every case, generator cases included (a local Prometheus)."""
    result = runner.invoke(app, ["eval", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["failed"] == 0 and report["passed"] >= 20


def _readme_block(marker: str) -> str:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    after = readme.split(f"<!-- replay-example:{marker} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


def test_the_readme_replay_is_real_output(tmp_path: Path) -> None:
    """The README's replayed scenario prints exactly what the README shows."""
    path = _write(tmp_path, _readme_block("scenario"), "workers-gone.yaml")
    result = CliRunner().invoke(app, ["eval", "--scenario", str(path)], env={"COLUMNS": "200"}, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == _readme_block("output").strip()
