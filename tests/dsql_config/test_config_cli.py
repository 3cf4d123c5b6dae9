"""The temporal-dsql-config CLI through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from temporal_dsql_config.cli import app
from temporal_dsql_config.serialization import profile_from_json

runner = CliRunner()


def test_compile_json_stdout_is_only_the_result() -> None:
    res = runner.invoke(app, ["compile", "mid-scale", "-m", "orchestrator", "-o", "history.replicas=4",
                              "-o", "CLUSTER_ENDPOINT=abcdefghijklmnopqrstuvwx12.dsql.us-east-1.on.aws", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    for field in ("profile", "dynamic_config_yaml", "dsql_plugin_config", "env", "worker_options",
                  "guard_rail_results", "trace", "why_section"):
        assert field in doc
    assert doc["env"]["history"]["CLUSTER_ENDPOINT"] == "abcdefghijklmnopqrstuvwx12.dsql.us-east-1.on.aws"
    assert doc["profile"]["modifier"] == "orchestrator"
    assert doc["guard_rail_results"] == []
    assert profile_from_json(json.dumps(doc["profile"])).get_param("history.replicas").value == 4  # type: ignore[union-attr]


def test_compile_yaml_and_text() -> None:
    res = runner.invoke(app, ["compile", "starter", "--format", "yaml"])
    assert res.exit_code == 0
    assert yaml.safe_load(res.stdout)["profile"]["preset_name"] == "starter"
    text = runner.invoke(app, ["compile", "high-throughput"])
    assert text.exit_code == 0 and "Why this configuration" in text.stdout and "history" in text.stdout


def test_guard_rail_errors_exit_non_zero_after_printing_all() -> None:
    res = runner.invoke(app, ["compile", "starter", "-o", "TEMPORAL_SQL_MAX_IDLE_CONNS=3",
                              "-o", "history.shards=1000", "-o", "DSQL_TOKEN_DURATION=1h", "--format", "json"])
    assert res.exit_code == 3  # refused by the guard rails: not a bad input (2), README's exit-code table
    assert res.stdout == ""
    for rule in ("max_idle_equals_max_conns", "history_shards_power_of_two", "token_duration_range"):
        assert rule in res.stderr
    assert "3 guard-rail error(s)" in res.stderr


def test_bad_input_is_a_typed_error_message() -> None:
    res = runner.invoke(app, ["compile", "startr"])
    assert res.exit_code == 2 and "Did you mean 'starter'" in res.stderr
    res = runner.invoke(app, ["compile", "starter", "-o", "history.replica=2"])
    assert res.exit_code == 2 and "history.replicas" in res.stderr
    res = runner.invoke(app, ["compile", "starter", "-o", "dsql.connection_rate_limit=500"])
    assert res.exit_code == 2 and "max 100" in res.stderr
    res = runner.invoke(app, ["compile", "starter", "-o", "nonsense"])
    assert res.exit_code == 2 and "KEY=VALUE" in res.stderr
    res = runner.invoke(app, ["compile"])
    assert res.exit_code == 2 and "preset is required" in res.stderr


def test_out_dir_writes_every_artifact(tmp_path: Path) -> None:
    out = tmp_path / "profile"
    res = runner.invoke(app, ["compile", "high-throughput", "-m", "batch-processor", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("dynamic_config.yaml", "dsql_plugin.json", "profile.json", "profile.yaml", "why.md",
                 "worker_options.json", "env/history.env", "env/matching.env", "env/frontend.env", "env/worker.env"):
        assert (out / name).is_file(), name
    env = dict(line.split("=", 1) for line in (out / "env/history.env").read_text().splitlines())
    assert env["SERVICES"] == "history" and env["DSQL_RESERVOIR_ENABLED"] == "true"
    assert profile_from_json((out / "profile.json").read_text()).modifier == "batch-processor"
    assert json.loads((out / "dsql_plugin.json").read_text())["slot_block_enabled"] is True
    # Re-compiling replaces the directory; a failing compile leaves it untouched.
    assert runner.invoke(app, ["compile", "starter", "--out", str(out)]).exit_code == 0
    assert profile_from_json((out / "profile.json").read_text()).preset_name == "starter"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert runner.invoke(app, ["compile", "starter", "-o", "history.shards=3", "--out", str(out)]).exit_code == 3
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile"]  # no staging leftovers


def test_from_env_uses_starter_and_reports_migration(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DSQL_RESERVOIR_ENABLED", "false")
    monkeypatch.setenv("DSQL_TOKEN_DURATION", "10m")
    res = runner.invoke(app, ["compile", "--from-env", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["profile"]["preset_name"] == "starter"
    assert doc["env"]["history"]["DSQL_TOKEN_DURATION"] == "10m"
    statuses = {e["name"]: e["status"] for e in doc["migration_report"]["entries"]}
    assert statuses == {"DSQL_RESERVOIR_ENABLED": "redundant", "DSQL_TOKEN_DURATION": "override"}


def test_list_presets() -> None:
    res = runner.invoke(app, ["list-presets"])
    assert res.exit_code == 0
    for name in ("starter", "mid-scale", "high-throughput", "batch-processor", "under 50"):
        assert name in res.stdout
    doc = json.loads(runner.invoke(app, ["list-presets", "--format", "json"]).stdout)
    assert [p["name"] for p in doc["presets"]] == ["starter", "mid-scale", "high-throughput"]
    assert doc["presets"][1]["throughput_range"]["max_st_per_sec"] == 500


def test_describe_preset_groups_by_classification() -> None:
    res = runner.invoke(app, ["describe-preset", "mid-scale", "-m", "long-running"])
    assert res.exit_code == 0
    out = res.stdout
    positions = [out.index(f"{c} parameters") for c in ("SLO", "TOPOLOGY", "SAFETY", "TUNING")]
    assert positions == sorted(positions)
    assert "dsql.reservoir_enabled" in out and "sdk.max_cached_workflows" in out
    doc = json.loads(runner.invoke(app, ["describe-preset", "starter", "--format", "json"]).stdout)
    assert set(doc["groups"]) == {"slo", "topology", "safety", "tuning"}
    bad = runner.invoke(app, ["describe-preset", "huge"])
    assert bad.exit_code == 2 and "high-throughput" in bad.stderr


ENV_FILE = """# an existing temporal-dsql-deploy .env
export DSQL_RESERVOIR_ENABLED=true
DSQL_RESERVOIR_TARGET_READY="50"
TEMPORAL_SQL_MAX_CONNS=50
TEMPORAL_SQL_MAX_IDLE_CONNS=50
DSQL_CONN_REFRESH_INTERVAL=5m  # removed refresher
DSQL_TOKEN_DURATION='14m'
"""


def test_migrate_reports_redundant_env_vars_from_a_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_FILE)
    res = runner.invoke(app, ["migrate", "mid-scale", "--env-file", str(env_file), "--format", "json"])
    assert res.exit_code == 0, res.output
    statuses = {e["name"]: e["status"] for e in json.loads(res.stdout)["entries"]}
    assert statuses == {"DSQL_RESERVOIR_ENABLED": "redundant", "DSQL_RESERVOIR_TARGET_READY": "redundant",
                        "TEMPORAL_SQL_MAX_CONNS": "redundant", "TEMPORAL_SQL_MAX_IDLE_CONNS": "redundant",
                        "DSQL_CONN_REFRESH_INTERVAL": "ignored", "DSQL_TOKEN_DURATION": "override"}
    text = runner.invoke(app, ["migrate", "mid-scale", "--env-file", str(env_file)])
    assert "Redundant" in text.stdout and "DSQL_TOKEN_DURATION=14m (preset: 15m)" in text.stdout
    compiled = runner.invoke(app, ["compile", "mid-scale", "--env-file", str(env_file), "--format", "json"])
    assert json.loads(compiled.stdout)["env"]["history"]["DSQL_TOKEN_DURATION"] == "14m"
    bad = tmp_path / "bad.env"
    bad.write_text("JUST_A_NAME\n")
    res = runner.invoke(app, ["migrate", "--env-file", str(bad)])
    assert res.exit_code == 2 and "Line 1" in res.stderr
    missing = runner.invoke(app, ["migrate", "--env-file", str(tmp_path / "nope.env")])
    assert missing.exit_code == 2 and "No file at" in missing.stderr


def test_text_mode_prints_input_notes_on_stderr_and_in_why_md(tmp_path: Path) -> None:
    args = ["compile", "starter", "-o", "DSQL_CONN_REFRESH_INTERVAL=5m", "-o", "persistence.transactionSizeLimit=3000000"]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "NOTE DSQL_CONN_REFRESH_INTERVAL: ignored" in res.stderr
    assert "NOTE persistence.transactionSizeLimit: legacy name, read as system.transactionSizeLimit" in res.stderr
    assert "DSQL_CONN_REFRESH_INTERVAL" not in res.stdout.split("# Why this configuration")[0]
    why = (tmp_path / "out" / "why.md").read_text()
    assert "## Input notes" in why and "DSQL_CONN_REFRESH_INTERVAL: ignored" in why
    assert "persistence.transactionSizeLimit: legacy name" in why
    # JSON keeps stdout clean: the notes are in the document only.
    doc = runner.invoke(app, [*args, "--format", "json"])
    assert doc.exit_code == 0 and "NOTE" not in doc.stderr
    assert any("DSQL_CONN_REFRESH_INTERVAL" in n for n in json.loads(doc.stdout)["input_notes"])


def test_from_env_with_the_emitted_env_prints_no_warnings(tmp_path: Path) -> None:
    out = tmp_path / "stock"
    assert runner.invoke(app, ["compile", "mid-scale", "--out", str(out)]).exit_code == 0
    res = runner.invoke(app, ["compile", "mid-scale", "--env-file", str(out / "env" / "history.env")])
    assert res.exit_code == 0, res.output
    assert "WARNING" not in res.stderr and "expert_override" not in res.stderr
    assert "Redundant" in res.stderr
