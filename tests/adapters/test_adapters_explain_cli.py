"""`temporal-dsql-config explain` and `compile --out` through the real CLI (typer's runner)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from temporal_dsql_config.cli import app
from temporal_dsql_config.compiler import ConfigCompiler
from temporal_dsql_config.explain import explain_key, explain_preset, explain_profile

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_key_by_registry_key_env_var_and_dynamic_config_key() -> None:
    code, out, _ = run("explain", "high-throughput", "--key", "DSQL_RESERVOIR_TARGET_READY")
    assert code == 0 and out.startswith("dsql.reservoir_target_ready = ")
    assert "classification: safety" in out and "rationale:" in out and "derivation:" in out
    code, out, _ = run("explain", "mid-scale", "--key", "history.persistenceMaxQPS", "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["key"] == "history.persistenceMaxQPS" and document["preset"] == "mid-scale"
    compiled = ConfigCompiler(sdk_adapters=[], platform_adapters=[]).compile("mid-scale")
    assert document["value"] == compiled.dynamic_config["history.persistenceMaxQPS"]
    # Temporal reads dynamic-config keys case-insensitively; so does explain.
    code, out, _ = run("explain", "--key", "HISTORY.PERSISTENCEMAXQPS", "--format", "json")
    assert code == 0 and json.loads(out)["key"] == "history.persistenceMaxQPS"


def test_unknown_names_get_close_matches() -> None:
    code, _, err = run("explain", "--key", "TEMPORAL_SQL_MAX_CON")
    assert code == 2
    assert "Unknown parameter 'TEMPORAL_SQL_MAX_CON'" in err and "TEMPORAL_SQL_MAX_CONNS" in err


def test_preset_level_text_and_json() -> None:
    code, text, _ = run("explain", "starter", "-m", "long-running")
    assert code == 0
    for heading in ("## SLO targets", "## How topology is derived", "## Locked safety parameters", "## Modifier"):
        assert heading in text
    code, out, _ = run("explain", "starter", "-m", "long-running", "--format", "json")
    document = json.loads(out)
    assert document["preset_name"] == "starter" and document["modifier"] == "long-running"
    assert document["locked_safety_params"] and document["reasoning_narrative"]


def test_profile_level_from_compile_out(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, _, err = run("compile", "mid-scale", "-m", "orchestrator", "-o", "history.replicas=5", "--out", str(out_dir))
    assert code == 0, err
    for name in ("go/worker_options.go", "python/worker_options.py", "compose/docker-compose.yml",
                 "compose/dynamicconfig/dynamicconfig.yaml", "ecs/task-definitions/temporal-history.json",
                 "ecs/services/temporal-history.json", "ecs/dynamicconfig/dynamicconfig.yaml"):
        assert (out_dir / "snippets" / name).read_text().strip(), name
    code, text, _ = run("explain", "--profile", str(out_dir / "profile.json"))
    assert code == 0
    assert "history.replicas (topology): preset 3 → override 5" in text
    # One renderer: the profile explanation ends with exactly the why section compile wrote.
    assert text.endswith((out_dir / "why.md").read_text())
    code, out, _ = run("explain", "--profile", str(out_dir / "profile.yaml"), "--format", "json")
    assert code == 0 and json.loads(out)["base_preset"] == "mid-scale"


def test_compile_selects_adapters(tmp_path: Path) -> None:
    out_dir = tmp_path / "go-only"
    code, _, err = run("compile", "starter", "--sdk", "go", "--platform", "none", "--out", str(out_dir))
    assert code == 0, err
    files = sorted(p.relative_to(out_dir / "snippets").as_posix() for p in (out_dir / "snippets").rglob("*") if p.is_file())
    assert files == ["go/worker_options.go"]
    code, _, err = run("compile", "starter", "--platform", "helm")
    assert code == 2 and "Unknown platform adapter 'helm'" in err and "compose" in err


def test_compile_why_section_is_the_explain_renderer() -> None:
    result = ConfigCompiler(sdk_adapters=[], platform_adapters=[]).compile("high-throughput", "simple-crud")
    assert explain_profile(result.profile).why_section == result.why_section


def test_the_three_levels_explain_with_the_compiler_they_are_given() -> None:
    # explain sits above the compiler (the compiler never imports explain): it takes one.
    compiler = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    profile = compiler.compile("starter", "simple-crud").profile
    assert explain_key("DSQL_TOKEN_DURATION", profile=profile, compiler=compiler).key == "dsql.token_duration"
    assert explain_preset("starter", modifier="simple-crud", compiler=compiler).modifier == "simple-crud"
    assert explain_profile(profile, compiler=compiler).base_preset == "starter"
