"""The `copilot` command: the copilot's own commands (``copilot.cli``) plus `dev` and `demo`.

    copilot db | kb | conformance | recommend-config ...   the copilot (copilot.cli)
    copilot dev ...      the local stack (devstack.cli)
    copilot demo         the end-to-end demo (devstack.demo)

The console script points here rather than at ``copilot.cli`` so imports run one way: the developer
tooling imports the copilot, never the reverse.
"""

from __future__ import annotations

import typer

from copilot.cli import app as copilot_app
from devstack.cli import app as dev_app

__all__ = ["app"]

app = typer.Typer(help=copilot_app.info.help, no_args_is_help=True)
# The copilot's own commands and groups (db, kb), shared rather than copied: the same command
# objects, listed as `copilot --help` always has (commands, then demo; groups, then dev).
app.registered_commands += copilot_app.registered_commands
app.registered_groups += copilot_app.registered_groups


@app.command("demo")
def demo() -> None:
    """Run the end-to-end demo (the same as `make demo`)."""
    from devstack import demo as demo_module

    raise typer.Exit(int(demo_module.main([]) or 0))


app.add_typer(dev_app, name="dev")
