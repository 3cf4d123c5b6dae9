"""One grammar across `temporal-dsql-config`, `temporal-dsql` and `copilot` (README: Command-line
conventions), checked through the installed console scripts and the Typer apps they run.

Expected values come from the README's tables and the issue (preset names, exit codes 0-4, the
`error:` prefix), not from copilot_core.cli's constants.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from devstack.copilot_cli import app as copilot_app
from dsql_config.cli import app as config_app
from pulumi_temporal_dsql.cli import app as plan_app

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PRESETS = ("starter", "mid-scale", "high-throughput")  # README: Concepts
MODIFIERS = ("simple-crud", "orchestrator", "batch-processor", "long-running")
APPS = {"temporal-dsql-config": config_app, "temporal-dsql": plan_app, "copilot": copilot_app}
runner = CliRunner()


def cli(*argv: str, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False)


def commands(group: typer.Typer) -> dict[str, Any]:
    """Every leaf command of an app by its path (`dev ps`), as click sees it."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            found[path.strip()] = command
            return
        for name, sub in subcommands.items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(group), "")
    return found


# --- entry points and --version -------------------------------------------------------------------


def run_script(prog: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """What the console script `prog` does with argv (copilot_core.cli.run), in this process."""
    from copilot_core.cli import run

    with pytest.raises(SystemExit) as ended:
        run(APPS[prog], prog, argv)
    captured = capsys.readouterr()
    return int(ended.value.code or 0), captured.out, captured.err


def test_every_tool_prints_its_version_and_temporal_copilot_is_copilot(capsys: pytest.CaptureFixture[str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    scripts = project["scripts"]
    assert scripts["temporal-copilot"] == scripts["copilot"] == "devstack.entry:main"  # checks the extra, then copilot_cli
    for prog in APPS:
        assert run_script(prog, ["--version"], capsys) == (0, f"{prog} {project['version']}\n", ""), prog
    done = cli("temporal-copilot", "--version")  # the installed second entry point names itself
    assert (done.returncode, done.stdout) == (0, f"temporal-copilot {project['version']}\n")


# --- one error style, one message for one mistake --------------------------------------------------

NOT_A_PRESET = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=16).filter(
    lambda name: name not in PRESETS and not name.startswith("-"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NOT_A_PRESET)
def test_property_the_same_unknown_preset_gives_the_same_message_and_exit_2_everywhere(name: str) -> None:
    # Property: one mistake, one message: every command that takes a preset answers an unknown one
    # with the same `error:` lines on stderr, nothing on stdout, and exit 2 (bad input).
    answers = [
        runner.invoke(config_app, ["compile", name]),
        runner.invoke(config_app, ["describe-preset", name]),
        runner.invoke(config_app, ["explain", name]),
        runner.invoke(plan_app, ["plan", name]),
        runner.invoke(plan_app, ["diff", name]),
        runner.invoke(copilot_app, ["conformance", "some-profile-id", name]),
    ]
    first = answers[0].stderr
    assert first.startswith(f"error: Unknown scale preset {name!r}.\n")
    assert "  allowed: starter, mid-scale, high-throughput\n" in first
    for answer in answers:
        assert (answer.exit_code, answer.stdout, answer.stderr) == (2, "", first)


@settings(max_examples=10, deadline=None)
@given(pair=st.text(alphabet="abcdefghijklmnopqrstuvwxyz._", min_size=1, max_size=20))
def test_property_an_override_without_equals_gives_the_same_message_everywhere(pair: str) -> None:
    # Property: `-o NAME` without `=VALUE` is the same bad input (exit 2, same lines) in every tool.
    answers = [runner.invoke(config_app, ["compile", "starter", "-o", pair]),
               runner.invoke(plan_app, ["plan", "starter", "-o", pair]),
               runner.invoke(plan_app, ["diff", "starter", "-o", pair])]
    assert answers[0].stderr.startswith(f"error: Override {pair!r} is not KEY=VALUE.\n")
    for answer in answers:
        assert (answer.exit_code, answer.stderr) == (2, answers[0].stderr)


def test_the_same_unknown_modifier_gives_the_same_message_everywhere() -> None:
    answers = [runner.invoke(config_app, ["compile", "mid-scale", "-m", "orchestrater"]),
               runner.invoke(plan_app, ["plan", "mid-scale", "-m", "orchestrater"]),
               runner.invoke(copilot_app, ["conformance", "some-profile-id", "mid-scale", "-m", "orchestrater"])]
    assert answers[0].stderr.startswith("error: Unknown workload modifier 'orchestrater'.\n")
    assert "hint: Did you mean 'orchestrator'?" in answers[0].stderr
    assert {(a.exit_code, a.stderr) for a in answers} == {(2, answers[0].stderr)}


@pytest.mark.parametrize("prog", list(APPS))
def test_usage_errors_are_error_lines_with_a_hint_and_exit_2(prog: str, capsys: pytest.CaptureFixture[str]) -> None:
    command, path = {"temporal-dsql-config": (["compile", "starter"], "compile"),
                     "temporal-dsql": (["plan", "starter"], "plan"), "copilot": (["dev", "ps"], "dev ps")}[prog]
    code, out, err = run_script(prog, [*command, "--zzz"], capsys)
    assert (code, out) == (2, "")
    first, hint = err.splitlines()
    assert first.startswith("error: No such option: --zzz")
    assert hint == f"  hint: run `{prog} {path} --help` for the options"
    code, out, err = run_script(prog, [*command, "--format", "xml"], capsys)
    assert code == 2 and err.startswith("error: Invalid value for '--format'") and "'text', 'json', 'yaml'" in err
    # An input error that reaches the script's top is printed the same way (no traceback).
    code, out, err = run_script(prog, {"temporal-dsql-config": ["describe-preset", "huge"],
                                       "temporal-dsql": ["plan", "huge"],
                                       "copilot": ["conformance", "x", "huge"]}[prog], capsys)
    assert (code, out) == (2, "") and err.startswith("error: Unknown scale preset 'huge'.\n")


# --- exit codes: a refusal is not a bad input -------------------------------------------------------


def test_refused_is_3_and_bad_input_is_2() -> None:
    refused = runner.invoke(config_app, ["compile", "starter", "-o", "history.shards=1000"])  # not a power of two
    bad = runner.invoke(config_app, ["compile", "starter", "-o", "history.replicas=0"])  # below the minimum
    assert (refused.exit_code, bad.exit_code) == (3, 2)
    assert refused.stderr.rstrip().splitlines()[-2].startswith("error: compilation halted: 1 guard-rail error(s).")
    shards = runner.invoke(plan_app, ["diff", "mid-scale", "--to-preset", "high-throughput"])
    assert shards.exit_code == 3 and "REFUSED history.shards" in shards.stdout
    assert runner.invoke(plan_app, ["diff", "mid-scale", "--to-preset", "high-throughputt"]).exit_code == 2


def test_an_unreachable_dependency_is_4(tmp_path: Path) -> None:
    # Nothing listens on this port: the copilot's store cannot be reached.
    from standins._process import free_port

    done = runner.invoke(copilot_app, ["db", "check-connection"],
                         env={"COPILOT_DSQL_ENDPOINT": "127.0.0.1", "COPILOT_DSQL_PORT": str(free_port()),
                              "COPILOT_DSQL_PASSWORD": "x"})
    assert done.exit_code == 4 and done.stderr.startswith("error: "), done.output


# --- every data command has --format; every preset is positional ----------------------------------

# Commands that act rather than print data (their output is progress or a one-line confirmation).
ACTIONS = {"db setup-schema", "db check-connection", "kb sync", "kb start-ingestion", "demo", "dev up", "dev down",
           "dev logs", "dev env", "dev schema setup", "dev infra apply", "dev infra destroy", "dev build",
           "prices refresh"}


@pytest.mark.parametrize("prog", list(APPS))
def test_every_data_command_takes_format_text_json_yaml_and_json(prog: str) -> None:
    for path, command in commands(APPS[prog]).items():
        options = {opt: param for param in command.params for opt in getattr(param, "opts", [])}
        if path in ACTIONS:
            continue
        assert "--format" in options and "--json" in options, f"{prog} {path} has no --format/--json"
        default = options["--format"].default  # a member of the option's enum: its values are the choices
        assert [str(c.value) for c in type(default)] == ["text", "json", "yaml"], (prog, path, default)


@pytest.mark.parametrize("prog", list(APPS))
def test_the_preset_is_always_positional_and_completes(prog: str) -> None:
    for path, command in commands(APPS[prog]).items():
        for param in command.params:
            if param.name == "preset":
                assert param.param_type_name == "argument", f"{prog} {path}: the preset is an option"
            if param.name in {"preset", "modifier", "override"}:
                assert "-p" not in getattr(param, "opts", []), f"{prog} {path}: -p"
            if param.name == "override":
                assert set(param.opts) == {"--override", "-o"}, f"{prog} {path}: {param.opts}"
            if param.name == "modifier":
                assert set(param.opts) == {"--modifier", "-m"}, f"{prog} {path}: {param.opts}"


@pytest.mark.parametrize("argv", [["temporal-dsql-config", "list-presets"],
                                  ["temporal-dsql-config", "explain", "mid-scale", "--key", "history.replicas"],
                                  ["temporal-dsql-config", "describe-preset", "starter"],
                                  ["temporal-dsql", "plan", "starter"]])
def test_yaml_is_the_same_document_as_json(argv: list[str]) -> None:
    app = APPS[argv[0]]
    as_json = runner.invoke(app, [*argv[1:], "--json"])
    as_yaml = runner.invoke(app, [*argv[1:], "--format", "yaml"])
    assert as_json.exit_code == as_yaml.exit_code == 0
    assert yaml.safe_load(as_yaml.stdout) == json.loads(as_json.stdout)


# --- completion -----------------------------------------------------------------------------------


def test_completion_of_preset_modifier_and_parameter_names_in_all_three(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def complete(prog: str, words: str) -> list[str]:
        # What bash's completion function asks the console script (`--show-completion bash`).
        app = APPS["copilot" if prog == "temporal-copilot" else prog]
        with monkeypatch.context() as env:
            env.setenv(f"_{prog.replace('-', '_').upper()}_COMPLETE", "complete_bash")
            env.setenv("COMP_WORDS", words)
            env.setenv("COMP_CWORD", str(len(words.split(" ")) - 1))
            from copilot_core.cli import run

            with pytest.raises(SystemExit):
                run(app, prog, [])
        return capsys.readouterr().out.split()

    assert complete("temporal-dsql-config", "temporal-dsql-config compile ") == list(PRESETS)
    assert complete("temporal-dsql-config", "temporal-dsql-config describe-preset hi") == ["high-throughput"]
    assert complete("temporal-dsql", "temporal-dsql plan m") == ["mid-scale"]
    assert complete("temporal-dsql", "temporal-dsql plan mid-scale -m ") == list(MODIFIERS)
    assert complete("copilot", "copilot conformance some-id st") == ["starter"]
    assert complete("temporal-copilot", "temporal-copilot recommend-config some-id -m long") == ["long-running"]
    overrides = complete("temporal-dsql-config", "temporal-dsql-config compile starter -o history.repl")
    assert "history.replicas=" in overrides and all(o.startswith("history.repl") for o in overrides)
    assert "DSQL_RESERVOIR_ENABLED=" in complete("temporal-dsql", "temporal-dsql plan starter -o DSQL_RESERVOIR_E")
    assert complete("temporal-dsql-config", "temporal-dsql-config explain starter --key dsql.token_dur") == [
        "dsql.token_duration"]
    for prog in APPS:
        code, script, _ = run_script(prog, ["--show-completion", "bash"], capsys)
        assert code == 0 and f"_{prog.replace('-', '_').upper()}_COMPLETE" in script


# --- output that pipes ---------------------------------------------------------------------------


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    # Each output is larger than a pipe's buffer (64 KiB), so the writer does meet the closed pipe.
    for argv in (["temporal-dsql-config", "compile", "high-throughput", "--format", "json"],
                 ["temporal-dsql-config", "compile", "high-throughput"],
                 ["temporal-dsql-config", "describe-preset", "high-throughput", "--format", "yaml"]):
        with subprocess.Popen([str(BIN / argv[0]), *argv[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            proc.stdout.readline()
            proc.stdout.close()
            stderr = proc.stderr.read()
            code = proc.wait(timeout=120)
        assert (code, stderr) == (0, b""), (argv, stderr)


def test_off_a_terminal_every_row_is_one_whole_line() -> None:
    # describe-preset once folded long values and rationales over several lines, so grep found nothing.
    document = json.loads(cli("temporal-dsql-config", "describe-preset", "high-throughput", "--format", "json").stdout)
    text = cli("temporal-dsql-config", "describe-preset", "high-throughput", env={"COLUMNS": "80"}).stdout
    lines = text.splitlines()
    rows = [p for group in document["groups"].values() for p in group]
    assert rows
    for row in rows:
        value = str(row["value"]).lower() if isinstance(row["value"], bool) else str(row["value"])
        assert any(row["key"] in line and value in line and row["rationale"] in line for line in lines), row["key"]


def test_no_color_is_honoured_and_pipes_get_no_colour() -> None:
    forced = cli("temporal-dsql-config", "list-presets", env={"FORCE_COLOR": "1"}).stdout
    assert re.search(r"\x1b\[[\d;]*m", forced), "FORCE_COLOR should colour the output (else this test proves nothing)"
    no_color = cli("temporal-dsql-config", "list-presets", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert not re.search(r"\x1b\[(?:[\d;]*;)?(?:3[0-8]|9[0-7])(?:;[\d;]*)?m", no_color), no_color[:300]
    piped = cli("temporal-dsql-config", "list-presets", env={"TERM": "xterm-256color"}).stdout
    assert "\x1b[" not in piped


def test_copilot_dev_ps_json_lists_every_service_with_whole_values(tmp_path: Path) -> None:
    for argv in (["dev", "ps", "--json"], ["dev", "ps", "--format", "json"]):
        done = cli("copilot", *argv, "--state-dir", str(tmp_path))
        assert done.returncode == 0, done.stderr
        document = json.loads(done.stdout)
        assert document["state_dir"] == str(tmp_path)
        assert [s["name"] for s in document["services"]] == ["postgres", "moto", "prometheus", "temporal", "api",
                                                              "worker"]
        assert {s["status"] for s in document["services"]} == {"not started"}


def test_copilot_demo_has_keep() -> None:
    help_text = runner.invoke(copilot_app, ["demo", "--help"], prog_name="copilot").stdout
    assert "--keep" in help_text
