"""Every input error at once (issue 13): bad overrides, env values and profile-file fields are all
reported in one run, each with its field, allowed values and a suggestion, and the CLI exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_config.cli import app
from temporal_dsql_config.compat import compile_from_env
from temporal_dsql_config.errors import InputErrors
from temporal_dsql_config.serialization import (
    profile_from_json,
    profile_from_yaml,
    profile_to_json,
    profile_to_yaml,
)

runner = CliRunner()
COMPILER = ConfigCompiler(sdk_adapters=[], platform_adapters=[])


def test_two_bad_overrides_are_both_reported() -> None:
    with pytest.raises(InputErrors) as caught:
        COMPILER.compile("mid-scale", "simple-crudd", {"history.replicaz": 3, "history.replicas": 999})
    errors = caught.value.errors
    assert [e.field for e in errors] == ["modifier", "history.replicaz", "history.replicas"]
    assert errors[0].allowed and "simple-crud" in errors[0].allowed
    assert errors[1].suggestion and "history.replicas" in errors[1].suggestion
    assert errors[2].suggestion and "max 500" in errors[2].suggestion
    problem = caught.value.as_problem()
    assert [p["field"] for p in problem["errors"]] == [e.field for e in errors]  # type: ignore[index,union-attr]


def test_one_bad_override_is_raised_as_itself() -> None:
    with pytest.raises(Exception) as caught:
        COMPILER.compile("mid-scale", overrides={"history.replicas": 0, "frontend.replicas": 2})
    assert not isinstance(caught.value, InputErrors)
    assert getattr(caught.value, "field", None) == "history.replicas"


def test_cli_prints_every_bad_override_and_exits_2() -> None:
    res = runner.invoke(app, ["compile", "starter", "-o", "history.replicaz=3", "-o", "history.replicas=999"])
    assert res.exit_code == 2
    assert "history.replicaz" in res.stderr and "above the maximum 500" in res.stderr
    assert "2 input error(s)" in res.stderr


def test_from_env_fails_on_an_unparsable_value_unless_defaults_are_accepted() -> None:
    env = {"TEMPORAL_SQL_MAX_CONNS": "abc", "DSQL_TOKEN_DURATION": "forever"}
    with pytest.raises(InputErrors) as caught:
        compile_from_env(env, overrides={"history.replicas": 0}, compiler=COMPILER)
    fields = [e.field for e in caught.value.errors]
    assert fields == ["DSQL_TOKEN_DURATION", "TEMPORAL_SQL_MAX_CONNS", "history.replicas"]
    assert all("--accept-plugin-defaults" in (e.suggestion or "") for e in caught.value.errors[:2])
    result, report = compile_from_env(env, compiler=COMPILER, accept_plugin_defaults=True)
    assert sorted(report.invalid) == ["DSQL_TOKEN_DURATION", "TEMPORAL_SQL_MAX_CONNS"]
    assert result.profile.get_param("dsql.pool_size").value != "abc"  # type: ignore[union-attr]


def test_cli_from_env_exits_2_and_accept_flag_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_SQL_MAX_CONNS", "abc")
    failed = runner.invoke(app, ["compile", "--from-env", "--format", "json"])
    assert failed.exit_code == 2 and "TEMPORAL_SQL_MAX_CONNS" in failed.stderr
    accepted = runner.invoke(app, ["compile", "--from-env", "--accept-plugin-defaults", "--format", "json"])
    assert accepted.exit_code == 0, accepted.stderr
    assert json.loads(accepted.stdout)["migration_report"]["entries"][0]["status"] == "invalid"


def _broken_profile() -> dict[str, object]:
    doc = json.loads(profile_to_json(COMPILER.compile("starter").profile))
    doc["preset_name"] = 3
    doc["slo_params"][0]["value"] = [1]
    doc["temporal_server_version"] = "x.y"
    return doc


def test_every_bad_profile_field_is_reported(tmp_path: Path) -> None:
    doc = _broken_profile()
    for parse, text in ((profile_from_json, json.dumps(doc)),
                        (profile_from_yaml, profile_to_yaml(COMPILER.compile("starter").profile).replace(
                            "preset_name: starter", "preset_name: [3]").replace(
                            "temporal_server_version: 1.29.1", "temporal_server_version: x.y"))):
        with pytest.raises(InputErrors) as caught:
            parse(text)
        fields = [e.field for e in caught.value.errors]
        assert "preset_name" in fields and "temporal_server_version" in fields
    with pytest.raises(InputErrors) as caught:
        profile_from_json(json.dumps(doc))
    value_error = next(e for e in caught.value.errors if e.field == "slo_params.0.value")
    assert value_error.allowed == ["bool", "int", "float", "str"]  # one error for the union, not four
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(doc))
    res = runner.invoke(app, ["explain", "--profile", str(path)])
    assert res.exit_code == 2 and "3 input error(s)" in res.stderr


def test_every_error_names_its_field_allowed_values_and_a_suggestion() -> None:
    """Unknown names, unparsable values, out-of-range values, bad env values and profile fields of
    the wrong type all carry what is allowed, not only a message (the issue's "field, allowed
    values and a suggestion")."""
    with pytest.raises(InputErrors) as caught:
        COMPILER.compile("mid-scale", overrides={
            "history.replicaz": 3, "dsql.pool_size": "abc", "history.replicas": 0, "dsql.token_duration": "zz"})
    by_field = {e.field: e for e in caught.value.errors}
    assert by_field["history.replicaz"].allowed and "history.replicas" in by_field["history.replicaz"].allowed
    assert by_field["dsql.pool_size"].allowed == ["an integer, 1 to 10000"]
    assert by_field["history.replicas"].allowed == ["1 to 500"]
    assert by_field["dsql.token_duration"].allowed == ["a Go duration"]
    assert all(e.suggestion for e in caught.value.errors)
    text = caught.value.render()
    assert text.count("Allowed:") == 4
    # ~200 names would bury the close matches: the text counts them, the problem document lists them.
    assert "Allowed: one of " in text and "Did you mean 'history.replicas'" in text
    problems = caught.value.as_problem()["errors"]
    assert all(p.get("allowed") for p in problems)  # type: ignore[union-attr]
    with pytest.raises(InputErrors) as from_env:
        compile_from_env({"TEMPORAL_SQL_MAX_CONNS": "abc", "DSQL_TOKEN_DURATION": "forever"}, compiler=COMPILER)
    assert [e.allowed for e in from_env.value.errors] == [["a Go duration"], ["an integer, 1 to 10000"]]
    with pytest.raises(InputErrors) as profile:
        profile_from_json(json.dumps(_broken_profile()))
    assert {e.field: e.allowed for e in profile.value.errors}["preset_name"] == ["str"]
