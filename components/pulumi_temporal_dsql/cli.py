"""`temporal-dsql`: the offline plan and the Lambda bundle builder.

    temporal-dsql plan --preset mid-scale --format tree|json
    temporal-dsql diff --preset mid-scale --to-preset high-throughput --format text|json
    temporal-dsql build-lambda --out DIR
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from copilot_core.errors import InputError
from pulumi_temporal_dsql.errors import ComponentInputError

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

    overrides = _parse_overrides(override, "--override")
    try:
        result = plan(preset, modifier=modifier, overrides=overrides, stack=stack,
                      extra_config={"copilot": "true" if copilot else "false"})
    except InputError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(result.to_json() if output_format is PlanFormat.json else render_tree(result))


def _parse_overrides(items: list[str] | None, option: str) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"override {item!r} is not key=value", param_hint=option)
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    return overrides


class DiffFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("diff")
def diff_command(
    preset: Annotated[str | None, typer.Option(help="The current stack's preset (or from --stack-config).")] = None,
    modifier: Annotated[str | None, typer.Option(help="The current stack's modifier.")] = None,
    override: Annotated[list[str] | None, typer.Option(help="The current stack's overrides, key=value.")] = None,
    copilot: Annotated[bool | None, typer.Option("--copilot/--no-copilot", help="The current stack has the SRE copilot.")] = None,
    stack_config: Annotated[Path | None, typer.Option(help="The current stack's Pulumi.<stack>.yaml: preset, modifier, overrides, copilot and the rest of its config.")] = None,
    to_preset: Annotated[str | None, typer.Option(help="Proposed preset (default: the current one).")] = None,
    to_modifier: Annotated[str | None, typer.Option(help="Proposed modifier ('none' drops it; default: the current one).")] = None,
    to_override: Annotated[list[str] | None, typer.Option(help="Proposed override key=value, on top of the current ones.")] = None,
    drop_override: Annotated[list[str] | None, typer.Option(help="A current override the proposal removes.")] = None,
    to_copilot: Annotated[bool | None, typer.Option("--to-copilot/--to-no-copilot", help="Proposed copilot (default: as now).")] = None,
    output_format: Annotated[DiffFormat, typer.Option("--format", help="text or json.")] = DiffFormat.text,
    stack: Annotated[str | None, typer.Option(help="Stack name used in URNs and resource names (default: <stack> of "
                                                    "--stack-config Pulumi.<stack>.yaml, else 'plan').")] = None,
) -> None:
    """What the proposed inputs move: knobs (old -> new, why), resources (create/replace/update/delete), refusals.

    Exit code: 0 no change, 1 changes, 2 refused (or bad input).
    """
    from pulumi_temporal_dsql.diff import StackInputs, stack_diff, stack_inputs_from_config

    try:
        base = StackInputs(preset or "")
        if stack_config is not None:
            if not stack_config.is_file():
                raise ComponentInputError(f"No stack config at {stack_config}.", field="stack_config",
                                          suggestion="Pass a Pulumi.<stack>.yaml file, e.g. stacks/Pulumi.dev.yaml.")
            base = stack_inputs_from_config(stack_config.read_text())
        elif preset is None:
            raise ComponentInputError("diff needs the current stack's preset.", field="preset",
                                      allowed=["starter", "mid-scale", "high-throughput"],
                                      suggestion="Pass --preset, or --stack-config stacks/Pulumi.<stack>.yaml.")
        # Options given on the command line win over the stack config.
        current_overrides = {**base.overrides, **_parse_overrides(override, "--override")}
        current = StackInputs(preset or base.preset, modifier or base.modifier, current_overrides,
                              base.copilot if copilot is None else copilot, base.extra_config)
        proposed_overrides = {k: v for k, v in current_overrides.items() if k not in set(drop_override or [])}
        proposed_overrides.update(_parse_overrides(to_override, "--to-override"))
        proposed_modifier = current.modifier if to_modifier is None else (None if to_modifier == "none" else to_modifier)
        proposed = StackInputs(to_preset or current.preset, proposed_modifier, proposed_overrides,
                               current.copilot if to_copilot is None else to_copilot, current.extra_config)
        result = stack_diff(current, proposed, stack=stack or _stack_name(stack_config))
    except InputError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(result.to_json() if output_format is DiffFormat.json else result.to_text(), nl=False)
    raise typer.Exit(result.exit_code)


def _stack_name(stack_config: Path | None) -> str:
    """`prod` for Pulumi.prod.yaml: the stack the file configures names its resources and tables."""
    if stack_config is not None and stack_config.name.startswith("Pulumi.") and stack_config.suffix in (".yaml", ".yml"):
        return stack_config.name.removeprefix("Pulumi.").rsplit(".", 1)[0] or "plan"
    return "plan"


@app.command("build-lambda")
def build_lambda_command(
    out: Annotated[Path, typer.Option(help="Directory for profile_api-<digest>.zip.")] = Path("build/lambda"),
    no_bytecode: Annotated[bool, typer.Option("--no-bytecode", help="Skip compiling .pyc with Python 3.12.")] = False,
    wheelhouse: Annotated[Path | None, typer.Option(help="Install the pinned wheels from this directory only (offline); "
                                                         "default: $TEMPORAL_DSQL_WHEELHOUSE, else the index.")] = None,
) -> None:
    """Build the profile API Lambda zip (Python 3.12, arm64, the `lambda` dependency group only)."""
    from pulumi_temporal_dsql.errors import LambdaBundleError
    from pulumi_temporal_dsql.lambda_bundle import build_bundle

    try:
        result = build_bundle(out, compile_bytecode=not no_bytecode, wheelhouse=wheelhouse)
    except LambdaBundleError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(json.dumps({
        "path": str(result.path), "sha256": result.sha256, "zipped_bytes": result.zipped_bytes,
        "unzipped_bytes": result.unzipped_bytes, "files": result.files,
        "bytecode_compiled": result.bytecode_compiled, "project_packages": list(result.packages),
    }, indent=2))
