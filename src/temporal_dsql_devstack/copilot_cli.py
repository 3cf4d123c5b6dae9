"""The `copilot` command: the copilot's own commands (``temporal_dsql_copilot.cli``) plus `dev` and `demo`.

    copilot db | kb | conformance | recommend-config ...   the copilot (temporal_dsql_copilot.cli)
    copilot dev ...      the local stack (temporal_dsql_devstack.cli)
    copilot demo         the end-to-end demo (temporal_dsql_devstack.demo; --keep leaves the stack running)

`temporal-copilot` is the same command under a name that does not clash with the AWS Copilot CLI.

The console script points here rather than at ``temporal_dsql_copilot.cli`` so imports run one way: the developer
tooling imports the copilot, never the reverse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from temporal_dsql_copilot.cli import app as copilot_app
from temporal_dsql_core.cli import add_version_option, run
from temporal_dsql_devstack.cli import app as dev_app

__all__ = ["app", "main"]

app = typer.Typer(help=copilot_app.info.help, no_args_is_help=True)
add_version_option(app, "copilot")
# The copilot's own commands and groups (db, kb), shared rather than copied: the same command
# objects, listed as `copilot --help` always has (commands, then demo; groups, then dev).
app.registered_commands += copilot_app.registered_commands
app.registered_groups += copilot_app.registered_groups


@app.command("demo")
def demo(
    keep: Annotated[bool, typer.Option("--keep", help="Leave the local stack running at the end "
                                                      "(`copilot dev down --state-dir .local/demo` stops it).")] = False,
    state_dir: Annotated[Path | None, typer.Option("--state-dir", help="Where the demo's stack lives "
                                                                       "(default .local/demo).")] = None,
) -> None:
    """Run the end-to-end demo (the same as `make demo`)."""
    from temporal_dsql_devstack import demo as demo_module

    argv = [*(["--keep"] if keep else []), *(["--state-dir", str(state_dir)] if state_dir else [])]
    raise typer.Exit(int(demo_module.main(argv) or 0))


app.add_typer(dev_app, name="dev")


def main() -> None:
    """The `copilot` and `temporal-copilot` console scripts."""
    import sys

    run(app, Path(sys.argv[0]).name if sys.argv and Path(sys.argv[0]).name in {"copilot", "temporal-copilot"}
        else "copilot")
