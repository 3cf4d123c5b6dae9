"""`temporal-dsql-config`: compile presets, list and describe them.

With ``--format json`` stdout holds only the JSON document; diagnostics go to stderr.

Start-up is part of every command a person types, so what only some commands use is imported by
those commands: rich (the consoles are created on first print), PyYAML, the explainer and the
env-var migration.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from temporal_dsql_config.adapters import discover_adapters, select_adapters
from temporal_dsql_config.compiler import ConfigCompiler
from temporal_dsql_config.errors import DsqlConfigError, GuardRailError, InputFileError
from temporal_dsql_config.files import atomic_write, format_env_file, read_input_text
from temporal_dsql_config.grammar import (
    KeyOption,
    ModifierOption,
    OptionalPresetArgument,
    OverrideOption,
    PresetArgument,
    parse_override_pairs,
)
from temporal_dsql_config.models import CompilationResult, GuardRailResult
from temporal_dsql_config.modifiers import MODIFIERS
from temporal_dsql_config.serialization import profile_to_json, profile_to_yaml
from temporal_dsql_core.cli import (
    ExitCode,
    FormatOption,
    JsonFlag,
    OutputFormat,
    add_version_option,
    emit,
    fail,
    make_console,
    resolve_format,
    run,
)
from temporal_dsql_core.errors import InputError
from temporal_dsql_core.types import ParameterClassification

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from temporal_dsql_config.explain import KeyExplanation, PresetExplanation, ProfileExplanation

__all__ = ["app", "main", "write_output_dir"]

# Interpreter shutdown runs full collections over every live object (pydantic's schemas, the
# registry, typer's command tree) after the command has printed: ~30 ms of a ~0.3 s
# `compile --format json`. Freezing them at exit (atexit runs first) leaves those passes nothing
# to walk; the process ending frees the memory as before.
atexit.register(gc.freeze)

app = typer.Typer(
    name="temporal-dsql-config",
    help="Compile Temporal-on-Aurora-DSQL configuration from a scale preset, a workload modifier and overrides.",
    no_args_is_help=True,
)
add_version_option(app, "temporal-dsql-config")


class _LazyConsole:
    """A rich Console created on first use (``--format json`` never prints through one)."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            self._console = make_console(stderr=self._stderr)
        return getattr(self._console, name)


err: Console = _LazyConsole(stderr=True)  # type: ignore[assignment]
out: Console = _LazyConsole(stderr=False)  # type: ignore[assignment]


def _text(*parts: str | tuple[str, str]) -> Text:
    from rich.text import Text

    return Text.assemble(*parts)


def _print_results(results: list[GuardRailResult]) -> None:
    for r in results:
        style = "bold red" if r.severity == "error" else "yellow"
        err.print(_text((r.severity.upper(), style), f" [{r.rule_name}] {r.message}"), soft_wrap=True)


def _print_notes(notes: list[str]) -> None:
    """Legacy and ignored input names: stderr in text mode (JSON/YAML carry them as input_notes)."""
    for note in notes:
        err.print(_text(("NOTE", "cyan"), f" {note}"), soft_wrap=True, highlight=False)


def result_document(result: CompilationResult, migration: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = result.model_dump(mode="json")
    if migration is not None:
        doc["migration_report"] = migration
    return doc


OUTPUT_MARKER = ".temporal-dsql-config.json"


def _output_files(result: CompilationResult) -> dict[str, str]:
    """Every artifact, relative path -> text; built (and checked) before anything is written."""
    files = {
        "dynamic_config.yaml": result.dynamic_config_yaml,
        "dsql_plugin.json": result.dsql_plugin_config.model_dump_json(indent=2) + "\n",
        "worker_options.json": result.worker_options.model_dump_json(indent=2) + "\n",
        "profile.json": profile_to_json(result.profile) + "\n",
        "profile.yaml": profile_to_yaml(result.profile),
        "why.md": result.why_section,
    }
    for service, env in result.env.items():
        files[f"env/{service}.env"] = format_env_file(env)
    for snippet in [*result.sdk_snippets, *result.platform_snippets]:
        files[f"snippets/{snippet.filename}"] = snippet.content
    return files


def _earlier_output(target: Path) -> list[str] | None:
    """The files an earlier compile wrote into ``target`` (its marker), None without a marker."""
    marker = target / OUTPUT_MARKER
    if not marker.is_file():
        return None
    try:
        doc = json.loads(marker.read_text(encoding="utf-8"))
        return [str(f) for f in doc["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_output_dir(result: CompilationResult, target: Path, *, force: bool = False) -> None:
    """Write every artifact into ``target``: each file atomically, only the compiler's own files.

    A non-empty directory is written into only when it is an earlier compile output (it holds the
    marker file listing what that compile wrote) or with ``force``; files of an earlier compile
    that this one no longer writes are removed, nothing else ever is.
    """
    files = _output_files(result)  # a bad value is refused here, before anything is written
    try:
        if target.exists() and not target.is_dir():
            raise InputFileError(f"--out {target} is a file, not a directory.", field="--out",
                                 suggestion="Name a directory (it is created when missing).")
        earlier = _earlier_output(target) if target.is_dir() else None
        if target.is_dir() and earlier is None and any(target.iterdir()) and not force:
            raise InputFileError(
                f"--out {target} is not empty and holds no {OUTPUT_MARKER}, so it is not an earlier compile output.",
                field="--out", suggestion="Name an empty or new directory, or pass --force to write the compiler's "
                "files into it (other files are left alone).")
        target.mkdir(parents=True, exist_ok=True)
        for relative, text in files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text)
        for relative in sorted(set(earlier or ()) - set(files)):
            stale = target / relative
            # Only what the marker says an earlier compile wrote, and only inside target.
            if stale.resolve().is_relative_to(target.resolve()) and stale.is_file():
                stale.unlink()
        atomic_write(target / OUTPUT_MARKER, json.dumps({"tool": "temporal-dsql-config", "files": sorted(files)},
                                                        indent=2) + "\n")
    except OSError as error:
        raise InputFileError(f"Cannot write --out {target}: {error.strerror or error} ({error.filename or target}).",
                             field="--out", suggestion="Choose a directory you can write to.") from None


def _print_text(result: CompilationResult) -> None:
    from rich.table import Table

    p = result.profile
    out.print(f"[bold]Preset[/bold] {p.preset_name}" + (f" + {p.modifier}" if p.modifier else ""))
    for cls, params in (("SLO", p.slo_params), ("Topology", p.topology_params)):
        out.print(f"[bold]{cls}[/bold]: " + ", ".join(f"{x.key}={x.value}" for x in params), soft_wrap=True)
    table = Table(title="Services")
    for col in ("service", "replicas", "cpu", "memory MiB", "pool (TEMPORAL_SQL_MAX_CONNS)"):
        table.add_column(col)
    for name, spec in result.services.items():
        table.add_row(name, str(spec.replicas), str(spec.cpu), str(spec.memory_mib),
                      result.env[name].get("TEMPORAL_SQL_MAX_CONNS", ""))
    out.print(table)
    out.print(f"history shards: {result.history_shards}; dynamic-config keys: {len(result.dynamic_config)}")
    _print_notes(result.input_notes)
    _print_results(result.guard_rail_results)
    out.file.flush()
    sys.stdout.write(result.why_section)


@app.command("compile")
def compile_cmd(
    preset: OptionalPresetArgument = None,
    modifier: ModifierOption = None,
    override: OverrideOption = None,
    from_env: Annotated[bool, typer.Option("--from-env", help="Read existing DSQL_* / TEMPORAL_SQL_* env vars as overrides")] = False,
    env_file: Annotated[Path | None, typer.Option("--env-file", help="Like --from-env, reading a dotenv file instead of the process env")] = None,
    accept_plugin_defaults: Annotated[bool, typer.Option("--accept-plugin-defaults", help="With --from-env/--env-file: accept the plugin's default for a value it cannot parse instead of failing")] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write the artifacts into this directory")] = None,
    force: Annotated[bool, typer.Option("--force", help="With --out: write into a non-empty directory that is not an earlier compile output (its other files are kept)")] = False,
    capacity: Annotated[str, typer.Option("--capacity", help="fargate (every task a Fargate size) or an EC2 instance type such as m7g.xlarge (every task must fit it)")] = "fargate",
    fmt: FormatOption = OutputFormat.text,
    as_json: JsonFlag = False,
    # >>> adapters (issue 3)
    sdk: Annotated[str | None, typer.Option("--sdk", help="SDK adapters to render, comma-separated (default: all discovered; 'none' for none)")] = None,
    platform: Annotated[str | None, typer.Option("--platform", help="Platform adapters to render, comma-separated (default: all discovered; 'none' for none)")] = None,
    # <<< adapters
) -> None:
    """Compile a preset (+ modifier + overrides) into validated artifacts (PRESET: starter with --from-env)."""
    fmt = resolve_format(fmt, as_json)
    migration = None
    try:
        # >>> adapters: the selected adapters render on every compile; --out gets their files.
        sdk_found, platform_found = discover_adapters()
        compiler = ConfigCompiler(
            sdk_adapters=select_adapters(sdk_found, sdk, field="sdk"),
            platform_adapters=select_adapters(platform_found, platform, field="platform"),
        )
        # <<< adapters
        overrides = parse_override_pairs(override)
        ec2_type = None if capacity == "fargate" else capacity
        if from_env or env_file is not None:
            from temporal_dsql_config.compat import (  # its models: only --from-env
                compile_from_env,
                has_dsql_env,
            )

            env = _read_env(env_file)
            if preset is None and not has_dsql_env(env):
                raise DsqlConfigError("--from-env found no DSQL environment variables and no preset was given.",
                                      field="preset", allowed=[p.name for p in compiler.list_presets()],
                                      suggestion="Name a preset, e.g. `compile starter`.")
            result, report = compile_from_env(env, preset, modifier, overrides, compiler=compiler,
                                              accept_plugin_defaults=accept_plugin_defaults, ec2_instance_type=ec2_type)
            migration = report.model_dump(mode="json")
            if fmt == OutputFormat.text:
                err.print(report.to_text(), markup=False, highlight=False)
        else:
            if preset is None:
                raise DsqlConfigError("A preset is required (or use --from-env).", field="preset",
                                      allowed=[p.name for p in compiler.list_presets()],
                                      suggestion="Run `temporal-dsql-config list-presets`.")
            result = compiler.compile(preset, modifier, overrides, ec2_instance_type=ec2_type)
        if out_dir is not None:
            write_output_dir(result, out_dir, force=force)
    except GuardRailError as exc:
        _print_results(exc.results)
        err.file.flush()
        fail(f"compilation halted: {len(exc.errors)} guard-rail error(s).",
             "every error above names its rule; change the values it names or drop the override",
             code=ExitCode.REFUSED)
    except InputError as exc:
        fail(exc)
    if out_dir is not None:
        err.print(f"wrote {out_dir}")
    if fmt == OutputFormat.text:
        _print_text(result)
    else:
        emit(result_document(result, migration), fmt)


def _read_env(env_file: Path | None) -> dict[str, str]:
    from temporal_dsql_config.compat import read_env_file

    if env_file is None:
        return dict(os.environ)
    return read_env_file(read_input_text(env_file, field="--env-file"))


@app.command("migrate")
def migrate_cmd(
    preset: OptionalPresetArgument = None,
    modifier: ModifierOption = None,
    env_file: Annotated[Path | None, typer.Option("--env-file", help="A dotenv file (default: the process env)")] = None,
    fmt: FormatOption = OutputFormat.text,
    as_json: JsonFlag = False,
) -> None:
    """Which existing DSQL env vars the preset (default starter) already produces, which differ, which are dead."""
    from temporal_dsql_config.compat import migration_report

    fmt = resolve_format(fmt, as_json)
    try:
        report = migration_report(_read_env(env_file), preset or "starter", modifier)
    except InputError as exc:
        fail(exc)
    if fmt == OutputFormat.text:
        sys.stdout.write(report.to_text())
    else:
        emit(report, fmt)


@app.command("list-presets")
def list_presets(fmt: FormatOption = OutputFormat.text, as_json: JsonFlag = False) -> None:
    """List the scale presets and workload modifiers."""
    from rich.table import Table

    fmt = resolve_format(fmt, as_json)
    compiler = ConfigCompiler()
    presets = compiler.list_presets()
    if fmt != OutputFormat.text:
        emit({"presets": [p.model_dump(mode="json") for p in presets],
              "modifiers": [{"name": m.name, "description": m.description} for m in MODIFIERS.values()]}, fmt)
        return
    table = Table(title="Scale presets")
    for col in ("preset", "throughput", "summary"):
        table.add_column(col)
    for p in presets:
        table.add_row(p.name, p.throughput_range.description, p.description)
    out.print(table)
    mods = Table(title="Workload modifiers (-m)")
    mods.add_column("modifier")
    mods.add_column("summary")
    for m in MODIFIERS.values():
        mods.add_row(m.name, m.description)
    out.print(mods)


@app.command("describe-preset")
def describe_preset(
    preset: PresetArgument,
    modifier: ModifierOption = None,
    fmt: FormatOption = OutputFormat.text,
    as_json: JsonFlag = False,
) -> None:
    """Every resolved parameter grouped by classification: value, source and rationale."""
    from rich.table import Table

    fmt = resolve_format(fmt, as_json)
    try:
        desc = ConfigCompiler().describe_preset(preset, modifier=modifier)
    except InputError as exc:
        fail(exc)
    if fmt != OutputFormat.text:
        emit(desc, fmt)
        return
    title = desc.preset + (f" + {desc.modifier}" if desc.modifier else "")
    out.print(f"[bold]{title}[/bold]: {desc.description} ({desc.throughput_range.description})")
    for cls in ParameterClassification:
        table = Table(title=f"{cls.value.upper()} parameters", show_lines=False)
        table.add_column("parameter", no_wrap=True)
        table.add_column("value", overflow="fold")
        table.add_column("source", no_wrap=True)
        table.add_column("rationale", overflow="fold")
        for p in desc.groups[cls]:
            table.add_row(p.key, str(p.value).lower() if isinstance(p.value, bool) else str(p.value), p.source, p.rationale)
        out.print(table)


# >>> explain (issue 3)
@app.command("explain")
def explain_cmd(
    preset: OptionalPresetArgument = None,
    key: KeyOption = None,
    modifier: ModifierOption = None,
    profile_file: Annotated[Path | None, typer.Option("--profile", help="A compiled profile (profile.json or profile.yaml)")] = None,
    fmt: FormatOption = OutputFormat.text,
    as_json: JsonFlag = False,
) -> None:
    """Why a value is what it is: one key (--key K [PRESET]), a preset (PRESET [-m]) or a compiled profile (--profile)."""
    from temporal_dsql_config.explain import explain_key, explain_preset, explain_profile
    from temporal_dsql_config.serialization import profile_from_json, profile_from_yaml

    fmt = resolve_format(fmt, as_json)
    try:
        if key is None and preset is None and profile_file is None:
            raise DsqlConfigError("Nothing to explain.", field="PRESET/--key/--profile",
                                  suggestion="Give PRESET [-m M], --key NAME [PRESET] or --profile FILE.")
        if profile_file is not None and preset is not None:
            raise DsqlConfigError("--profile already names its preset.", field="preset",
                                  suggestion="Drop the PRESET argument, or drop --profile.")
        profile = None
        if profile_file is not None:
            if not profile_file.is_file():
                raise DsqlConfigError(f"No profile file at {profile_file}.", field="--profile",
                                      suggestion="Write one with `temporal-dsql-config compile PRESET --out DIR`.")
            text = read_input_text(profile_file, field="--profile")
            is_yaml = profile_file.suffix in (".yaml", ".yml")
            profile = profile_from_yaml(text) if is_yaml else profile_from_json(text)
        explanation: KeyExplanation | PresetExplanation | ProfileExplanation
        if key is not None:
            explanation = explain_key(key, preset=preset or "starter", modifier=modifier, profile=profile)
        elif profile is not None:
            explanation = explain_profile(profile)
        else:
            assert preset is not None
            explanation = explain_preset(preset, modifier=modifier)
    except InputError as exc:
        fail(exc)
    if fmt == OutputFormat.text:
        sys.stdout.write(explanation.to_text())
    elif fmt == OutputFormat.json:
        sys.stdout.write(explanation.to_json())
    else:
        emit(explanation.to_json(), fmt)
# <<< explain


def main() -> None:
    """The `temporal-dsql-config` console script."""
    run(app, "temporal-dsql-config")
