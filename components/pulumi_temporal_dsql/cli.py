"""`temporal-dsql`: the offline plan and the Lambda bundle builder.

    temporal-dsql plan --preset mid-scale --format tree|json
    temporal-dsql build-lambda --out DIR
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from copilot_core.errors import InputError

__all__ = ["app"]

app = typer.Typer(help="Temporal on ECS with Aurora DSQL: offline plan and Lambda bundle.", no_args_is_help=True)


class PlanFormat(StrEnum):
    tree = "tree"
    json = "json"


@app.command("plan")
def plan_command(
    preset: Annotated[str, typer.Option(help="Scale preset: starter, mid-scale, high-throughput.")],
    modifier: Annotated[str | None, typer.Option(help="Workload modifier.")] = None,
    override: Annotated[list[str] | None, typer.Option(help="key=value (value parsed as JSON when it can be).")] = None,
    copilot: Annotated[bool, typer.Option(help="Include the SRE copilot.")] = False,
    output_format: Annotated[PlanFormat, typer.Option("--format", help="tree or json.")] = PlanFormat.tree,
    stack: Annotated[str, typer.Option(help="Stack name used in URNs.")] = "plan",
) -> None:
    """Run the real stack program under Pulumi's mocks and print every resource and the outputs."""
    from pulumi_temporal_dsql.plan import plan, render_tree

    overrides: dict[str, object] = {}
    for item in override or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"override {item!r} is not key=value", param_hint="--override")
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    try:
        result = plan(preset, modifier=modifier, overrides=overrides, stack=stack,
                      extra_config={"copilot": "true" if copilot else "false"})
    except InputError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(result.to_json() if output_format is PlanFormat.json else render_tree(result))


@app.command("build-lambda")
def build_lambda_command(
    out: Annotated[Path, typer.Option(help="Directory for profile_api-<digest>.zip.")] = Path("build/lambda"),
    no_bytecode: Annotated[bool, typer.Option("--no-bytecode", help="Skip compiling .pyc with Python 3.12.")] = False,
) -> None:
    """Build the profile API Lambda zip (Python 3.12, arm64, the `lambda` dependency group only)."""
    from pulumi_temporal_dsql.errors import LambdaBundleError
    from pulumi_temporal_dsql.lambda_bundle import build_bundle

    try:
        result = build_bundle(out, compile_bytecode=not no_bytecode)
    except LambdaBundleError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(json.dumps({
        "path": str(result.path), "sha256": result.sha256, "zipped_bytes": result.zipped_bytes,
        "unzipped_bytes": result.unzipped_bytes, "files": result.files,
        "bytecode_compiled": result.bytecode_compiled, "project_packages": list(result.packages),
    }, indent=2))
