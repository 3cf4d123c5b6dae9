"""`temporal-dsql`: the offline plan and diff, and the Lambda bundle builder.

    temporal-dsql plan mid-scale [--format text|json|yaml]
    temporal-dsql diff mid-scale --to-preset high-throughput [--format text|json|yaml]
    temporal-dsql cost mid-scale --copilot --usage-file usage.yml [--format text|json|yaml] [--explain]
    temporal-dsql prices refresh --region us-east-1
    temporal-dsql build-lambda --out DIR

The grammar (positional preset, -m, -o, --format, exit codes, errors) is temporal_dsql_core.cli's and
temporal_dsql_config.grammar's, the same as `temporal-dsql-config` and `copilot`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from pulumi_temporal_dsql.errors import ComponentInputError
from temporal_dsql_config.grammar import (
    ModifierOption,
    OptionalPresetArgument,
    OverrideOption,
    complete_modifier,
    complete_override,
    complete_preset,
    parse_override_pairs,
)
from temporal_dsql_core.cli import (
    ExitCode,
    FormatOption,
    JsonFlag,
    OutputFormat,
    add_version_option,
    emit,
    fail,
    resolve_format,
    run,
)
from temporal_dsql_core.errors import InputError

__all__ = ["app", "main"]

app = typer.Typer(help="Temporal on ECS with Aurora DSQL: offline plan and diff, and the Lambda bundle.",
                  no_args_is_help=True)
add_version_option(app, "temporal-dsql")


@app.command("plan")
def plan_command(
    preset: OptionalPresetArgument = None,
    modifier: ModifierOption = None,
    override: OverrideOption = None,
    copilot: Annotated[bool | None, typer.Option("--copilot/--no-copilot", help="Include the SRE copilot (default: off, or as --stack-config says).")] = None,
    stack_config: Annotated[Path | None, typer.Option(help="A Pulumi.<stack>.yaml, read as the stack program reads it (preset, modifier, overrides, copilot, the rest).")] = None,
    fmt: FormatOption = OutputFormat.text,
    as_json: JsonFlag = False,
    stack: Annotated[str | None, typer.Option(help="Stack name used in URNs (default: <stack> of --stack-config, else 'plan').")] = None,
) -> None:
    """Run the real stack program under Pulumi's mocks and print every resource and the outputs."""
    from pulumi_temporal_dsql.preview.diff import StackInputs
    from pulumi_temporal_dsql.preview.plan import plan, render_tree

    fmt = resolve_format(fmt, as_json)
    try:
        base = _stack_inputs(stack_config) if stack_config is not None else StackInputs(preset or "")
        if not (preset or base.preset):
            raise ComponentInputError("plan needs a preset.", field="preset",
                                      allowed=["starter", "mid-scale", "high-throughput"],
                                      suggestion="Name one (`temporal-dsql plan mid-scale`), or pass --stack-config "
                                                 "stacks/Pulumi.<stack>.yaml.")
        overrides = {**base.overrides, **_parse_overrides(override, "--override")}
        with_copilot = base.copilot if copilot is None else copilot
        result = plan(preset or base.preset, modifier=modifier or base.modifier, overrides=overrides,
                      stack=stack or _stack_name(stack_config),
                      extra_config={**base.extra_config, "copilot": "true" if with_copilot else "false"})
    except InputError as error:
        fail(error)
    if fmt == OutputFormat.text:
        typer.echo(render_tree(result, value_width=120 if sys.stdout.isatty() else None))
    elif fmt == OutputFormat.json:
        typer.echo(result.to_json())
    else:
        emit(result.to_json(), fmt)


def _parse_overrides(items: list[str] | None, option: str) -> dict[str, Any]:
    """KEY=VALUE pairs (the compiler's one message for a bad pair); values parsed as JSON when they can be."""
    overrides: dict[str, Any] = {}
    for key, raw in parse_override_pairs(items, option=option).items():
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    return overrides


def _stack_inputs(stack_config: Path) -> Any:
    """The stack's inputs through the stack program's own reader (a UTF-8 file, typed errors otherwise)."""
    from pulumi_temporal_dsql.preview.diff import stack_inputs_from_config
    from temporal_dsql_config.files import read_input_text

    return stack_inputs_from_config(read_input_text(stack_config, field="--stack-config"))


@app.command("diff")
def diff_command(
    preset: OptionalPresetArgument = None,
    modifier: ModifierOption = None,
    override: OverrideOption = None,
    copilot: Annotated[bool | None, typer.Option("--copilot/--no-copilot", help="The current stack has the SRE copilot.")] = None,
    stack_config: Annotated[Path | None, typer.Option(help="The current stack's Pulumi.<stack>.yaml: preset, modifier, overrides, copilot and the rest of its config.")] = None,
    to_preset: Annotated[str | None, typer.Option(help="Proposed preset (default: the current one).",
                                                  autocompletion=complete_preset)] = None,
    to_modifier: Annotated[str | None, typer.Option(help="Proposed modifier ('none' drops it; default: the current one).",
                                                    autocompletion=complete_modifier)] = None,
    to_override: Annotated[list[str] | None, typer.Option(help="Proposed override KEY=VALUE, on top of the current ones.",
                                                          metavar="KEY=VALUE", autocompletion=complete_override)] = None,
    drop_override: Annotated[list[str] | None, typer.Option(help="A current override the proposal removes.")] = None,
    to_copilot: Annotated[bool | None, typer.Option("--to-copilot/--to-no-copilot", help="Proposed copilot (default: as now).")] = None,
    fmt: FormatOption = OutputFormat.text,
    as_json: JsonFlag = False,
    stack: Annotated[str | None, typer.Option(help="Stack name used in URNs and resource names (default: <stack> of "
                                                    "--stack-config Pulumi.<stack>.yaml, else 'plan').")] = None,
) -> None:
    """What the proposed inputs move: knobs (old -> new, why), resources (create/replace/update/delete), refusals.

    PRESET is the current stack's (or --stack-config's). Exit code: 0 no change, 1 changes, 2 bad input, 3 refused (a shard-count
    change, the replacement of a protected resource).
    """
    from pulumi_temporal_dsql.preview.diff import StackInputs, stack_diff

    try:
        base = StackInputs(preset or "")
        if stack_config is not None:
            base = _stack_inputs(stack_config)
        elif preset is None:
            raise ComponentInputError("diff needs the current stack's preset.", field="preset",
                                      allowed=["starter", "mid-scale", "high-throughput"],
                                      suggestion="Name the current preset (`diff mid-scale --to-preset ...`), "
                                                 "or pass --stack-config stacks/Pulumi.<stack>.yaml.")
        # Options given on the command line win over the stack config.
        current_overrides = {**base.overrides, **_parse_overrides(override, "--override")}
        current = StackInputs(preset or base.preset, modifier or base.modifier, current_overrides,
                              base.copilot if copilot is None else copilot, base.extra_config)
        unknown = [k for k in drop_override or [] if k not in current_overrides]
        if unknown:
            raise ComponentInputError(
                f"--drop-override {unknown[0]} is not a current override.", field="--drop-override",
                allowed=sorted(current_overrides) or ["(the current stack has no overrides)"],
                suggestion="Name a key the current stack overrides (--override or the stack config's overrides).")
        proposed_overrides = {k: v for k, v in current_overrides.items() if k not in set(drop_override or [])}
        proposed_overrides.update(_parse_overrides(to_override, "--to-override"))
        proposed_modifier = current.modifier if to_modifier is None else (None if to_modifier == "none" else to_modifier)
        proposed = StackInputs(to_preset or current.preset, proposed_modifier, proposed_overrides,
                               current.copilot if to_copilot is None else to_copilot, current.extra_config)
        result = stack_diff(current, proposed, stack=stack or _stack_name(stack_config))
    except InputError as error:
        fail(error)
    fmt = resolve_format(fmt, as_json)
    if fmt == OutputFormat.text:
        typer.echo(result.to_text(), nl=False)
    elif fmt == OutputFormat.json:
        typer.echo(result.to_json(), nl=False)
    else:
        emit(result.to_json(), fmt)
    raise typer.Exit(result.exit_code)


def _stack_name(stack_config: Path | None) -> str:
    """`prod` for Pulumi.prod.yaml: the stack the file configures names its resources and tables."""
    if stack_config is not None and stack_config.name.startswith("Pulumi.") and stack_config.suffix in (".yaml", ".yml"):
        return stack_config.name.removeprefix("Pulumi.").rsplit(".", 1)[0] or "plan"
    return "plan"


@app.command("cost")
def cost_command(
    preset: OptionalPresetArgument = None,
    modifier: ModifierOption = None,
    override: OverrideOption = None,
    copilot: Annotated[bool | None, typer.Option("--copilot/--no-copilot", help="Include the SRE copilot.")] = None,
    stack_config: Annotated[Path | None, typer.Option(help="A Pulumi.<stack>.yaml: preset, modifier, overrides, "
                                                           "copilot, capacity and the rest of its config.")] = None,
    usage_file: Annotated[Path | None, typer.Option(help="YAML/JSON usage file (Infracost's resource_usage format).")] = None,
    region: Annotated[str | None, typer.Option(help="Region whose prices apply (default: the --stack-config's "
                                                    "aws:region, else us-east-1).")] = None,
    fmt: FormatOption = OutputFormat.text,
    as_json: JsonFlag = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show where each usage quantity came from.")] = False,
) -> None:
    """The plan's monthly estimate (month = 730 h): per resource and cost component, subtotals per
    Temporal role and AWS service, one-off set-up runs apart, and cost per million actions."""
    from pulumi_temporal_dsql.preview.cost import estimate_plan, render_text
    from pulumi_temporal_dsql.preview.diff import StackInputs
    from pulumi_temporal_dsql.preview.plan import plan
    from pulumi_temporal_dsql.preview.prices import load_prices
    from pulumi_temporal_dsql.preview.usage import EMPTY_USAGE, load_usage_file

    try:
        base = StackInputs(preset or "")
        if stack_config is not None:
            base = _stack_inputs(stack_config)  # the one reader: plan, diff and the stack program use it too
        elif preset is None:
            raise ComponentInputError("cost needs a preset.", field="preset",
                                      allowed=["starter", "mid-scale", "high-throughput"],
                                      suggestion="Run `temporal-dsql cost mid-scale`, or pass --stack-config.")
        region = region or str(base.extra_config.get("aws:region") or "us-east-1")
        load_prices().region(region)  # an unpriced region fails before the plan runs
        usage = load_usage_file(usage_file) if usage_file is not None else EMPTY_USAGE
        overrides = {**base.overrides, **_parse_overrides(override, "--override")}
        with_copilot = base.copilot if copilot is None else copilot
        result = plan(preset or base.preset, modifier=modifier or base.modifier, overrides=overrides,
                      stack=_stack_name(stack_config),
                      extra_config={**base.extra_config, "copilot": "true" if with_copilot else "false"})
        estimate = estimate_plan(result, region=region, usage_file=usage)
    except InputError as error:
        fail(error)
    fmt = resolve_format(fmt, as_json)
    if fmt == OutputFormat.text:
        typer.echo(render_text(estimate, explain=explain), nl=False)
    elif fmt == OutputFormat.json:
        typer.echo(estimate.to_json())  # one trailing newline, like emit()
    else:
        emit(estimate.to_json(), fmt)


prices_app = typer.Typer(help="The pinned price table behind `temporal-dsql cost`.", no_args_is_help=True)
app.add_typer(prices_app, name="prices")


@prices_app.command("refresh")
def prices_refresh_command(
    region: Annotated[list[str] | None, typer.Option(help="Region to refresh (repeatable; default: every priced one).")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the table (default: the package's prices.json).")] = None,
    endpoint_url: Annotated[str | None, typer.Option(help="Price List API endpoint (default: AWS's, in us-east-1).")] = None,
    fmt: FormatOption = OutputFormat.text,
    as_json: JsonFlag = False,
) -> None:
    """Update the pinned prices from the AWS Price List API (boto3 `pricing`; needs credentials).

    Entries the API has no product for keep their pinned value and are listed. Exit code 4 when
    the API cannot be reached.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from pulumi_temporal_dsql.preview.prices import PRICES_FILE, load_prices
    from pulumi_temporal_dsql.preview.refresh import pricing_client, refresh_prices, write_prices

    table = load_prices(out if out is not None and out.is_file() else None)
    try:
        result = refresh_prices(table, pricing_client(endpoint_url), region or table.priced_regions())
    except (BotoCoreError, ClientError) as error:
        fail(f"the Price List API failed: {error}",
             "check AWS credentials and network access to api.pricing.us-east-1.amazonaws.com; "
             "the pinned table is unchanged.", code=ExitCode.UNAVAILABLE)
    target = out or PRICES_FILE
    write_prices(result.table, target)
    fmt = resolve_format(fmt, as_json)
    if fmt != OutputFormat.text:
        emit({"wrote": str(target),
              "updated": {k: {"old": old, "new": new} for k, (old, new) in sorted(result.updated.items())},
              "kept": list(result.unmatched)}, fmt)
        return
    for key, (old, new) in sorted(result.updated.items()):
        typer.echo(f"updated {key}: {old:g} -> {new:g}")
    for key in result.unmatched:
        typer.echo(f"kept    {key}: no matching product in the Price List (pinned value kept)")
    typer.echo(f"wrote {target}")


@app.command("build-lambda")
def build_lambda_command(
    out: Annotated[Path, typer.Option(help="Directory for profile_api-<digest>.zip.")] = Path("build/lambda"),
    no_bytecode: Annotated[bool, typer.Option("--no-bytecode", help="Skip compiling .pyc with Python 3.12.")] = False,
    fmt: FormatOption = OutputFormat.json,
    as_json: JsonFlag = False,
    wheelhouse: Annotated[Path | None, typer.Option(help="Install the pinned wheels from this directory only (offline); "
                                                         "default: $TEMPORAL_DSQL_WHEELHOUSE, else the index.")] = None,
) -> None:
    """Build the profile API Lambda zip (Python 3.12, arm64, the `lambda` dependency group only).

    Prints what it built: JSON by default (scripts read the path and digest), --format text for people.
    """
    from pulumi_temporal_dsql.errors import LambdaBundleError
    from pulumi_temporal_dsql.lambda_bundle import build_bundle

    try:
        result = build_bundle(out, compile_bytecode=not no_bytecode, wheelhouse=wheelhouse)
    except LambdaBundleError as error:
        fail(error, code=ExitCode.UNAVAILABLE)
    document = {
        "path": str(result.path), "sha256": result.sha256, "zipped_bytes": result.zipped_bytes,
        "unzipped_bytes": result.unzipped_bytes, "files": result.files,
        "bytecode_compiled": result.bytecode_compiled, "project_packages": list(result.packages),
    }
    fmt = resolve_format(fmt, as_json)
    if fmt == OutputFormat.text:
        for key, value in document.items():
            typer.echo(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    else:
        emit(document, fmt)


def main() -> None:
    """The `temporal-dsql` console script."""
    run(app, "temporal-dsql")
