"""The `copilot` command users type is temporal_dsql_devstack.copilot_cli: the copilot's commands plus `dev` and `demo`."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import typer.main
from typer.testing import CliRunner

import temporal_dsql_copilot as copilot
from temporal_dsql_copilot.cli import app as copilot_app
from temporal_dsql_devstack.cli import app as dev_app
from temporal_dsql_devstack.copilot_cli import app

REPO = Path(__file__).resolve().parents[2]


def test_the_console_script_is_the_devstack_composition() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    # temporal_dsql_devstack.entry checks the copilot/dev extras are installed (naming the one to install), then
    # runs temporal_dsql_devstack.copilot_cli.main: `app` under the shared grammar (temporal_dsql_core.cli.run);
    # `temporal-copilot` is the same command under a name that does not clash with the AWS Copilot CLI.
    assert scripts["copilot"] == scripts["temporal-copilot"] == "temporal_dsql_devstack.entry:main"


def test_copilot_has_its_own_commands_then_demo_then_its_groups_then_dev() -> None:
    top = typer.main.get_command(app)
    own = typer.main.get_command(copilot_app)
    assert isinstance(top, typer.main.TyperGroup) and isinstance(own, typer.main.TyperGroup)
    assert not {"dev", "demo"} & set(own.commands)  # the copilot's CLI knows nothing of its tooling
    own_commands = [n for n, c in own.commands.items() if not isinstance(c, typer.main.TyperGroup)]
    own_groups = [n for n, c in own.commands.items() if isinstance(c, typer.main.TyperGroup)]
    # The order `copilot --help` has always listed them in.
    assert list(top.commands) == [*own_commands, "demo", *own_groups, "dev"]
    dev = top.commands["dev"]
    assert isinstance(dev, typer.main.TyperGroup)
    assert set(dev.commands) == set(typer.main.get_command(dev_app).commands)


def test_copilot_dev_and_the_copilot_commands_answer_through_the_composed_command() -> None:
    runner = CliRunner()
    dev_help = runner.invoke(app, ["dev", "--help"], prog_name="copilot")
    assert dev_help.exit_code == 0 and "Usage: copilot dev" in dev_help.output
    db_help = runner.invoke(app, ["db", "--help"], prog_name="copilot")
    assert db_help.exit_code == 0 and "setup-schema" in db_help.output


def test_no_module_of_the_copilot_is_about_the_dev_stack_grafana_or_the_demo() -> None:
    names = {m.name.split(".")[1] for m in pkgutil.walk_packages(copilot.__path__, "copilot.")}
    assert not names & {"dev", "grafana", "demo"}
