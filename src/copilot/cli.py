"""`copilot`: manage the SRE copilot (Typer + Rich).

    copilot db setup-schema | check-connection | list-tables
    copilot kb sync | start-ingestion | status | list-jobs
    copilot drift [--namespace NS]
    copilot conformance PROFILE_ID PRESET [-m MODIFIER]
    copilot recommend-config PROFILE_ID [PRESET] [-m MODIFIER]

Every command follows the shared grammar (copilot_core.cli): --format text|json|yaml (--json),
`error:` lines on stderr, exit 2 bad input, 3 a failed check, 4 a dependency unreachable.

Configuration comes from CopilotSettings (COPILOT_* environment variables); options override it.
The `copilot` command users type is ``devstack.copilot_cli.app``: these commands plus `copilot dev`
and `copilot demo` (the developer tooling sits above the copilot, so the copilot never imports it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from copilot.exceptions import CopilotError
from copilot.settings import CopilotSettings
from copilot_core.cli import (
    ExitCode,
    FormatOption,
    JsonFlag,
    OutputFormat,
    emit,
    fail,
    make_console,
    resolve_format,
)
from copilot_core.errors import InputError, TemporalDsqlError
from dsql_config.grammar import ModifierOption, OptionalPresetArgument, PresetArgument

__all__ = ["app"]

T = TypeVar("T")

app = typer.Typer(help="The Temporal DSQL SRE copilot.", no_args_is_help=True)
db_app = typer.Typer(help="The copilot's state store (Aurora DSQL).", no_args_is_help=True)
kb_app = typer.Typer(help="The Bedrock knowledge base.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
console = make_console()

Endpoint = Annotated[str | None, typer.Option("--endpoint", "-e", help="DSQL endpoint (default COPILOT_DSQL_ENDPOINT).")]


def _settings(endpoint: str | None = None) -> CopilotSettings:
    settings = CopilotSettings()
    return settings.model_copy(update={"dsql_endpoint": endpoint}) if endpoint else settings


def _run(work: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except InputError as exc:
        fail(exc)
    except (TemporalDsqlError, OSError) as exc:  # the copilot's and the profile store's errors alike
        fail(exc, code=ExitCode.UNAVAILABLE)


def _fail(exc: Exception) -> typer.Exit:
    """Bad input is exit 2; anything else here is a dependency that failed (exit 4)."""
    try:
        fail(exc)
    except typer.Exit as done:
        return done


# --- db ----------------------------------------------------------------------------------------


@db_app.command("setup-schema")
def setup_schema(endpoint: Endpoint = None) -> None:
    """Create the copilot's tables and indexes (idempotent; one DDL per transaction)."""
    from copilot.store import StateStore, schema_statements

    async def work() -> int:
        store = await StateStore.connect(_settings(endpoint))
        try:
            await store.setup_schema()
            return len(schema_statements(store.dialect))
        finally:
            await store.close()

    count = _run(work)
    console.print(f"[green]schema applied[/green] ({count} statements)")


@db_app.command("check-connection")
def check_connection(endpoint: Endpoint = None) -> None:
    """Connect and run SELECT version()."""
    from copilot.store import StateStore

    async def work() -> str:
        store = await StateStore.connect(_settings(endpoint))
        try:
            async with store.pool.acquire() as conn:
                return str(await conn.fetchval("SELECT version()"))
        finally:
            await store.close()

    try:
        version = _run(work)
    except typer.Exit:
        raise
    except Exception as exc:  # asyncpg's connection errors are not OSError subclasses
        raise _fail(exc) from exc
    console.print(f"[green]connected[/green] {version}")


@db_app.command("list-tables")
def list_tables(endpoint: Endpoint = None, fmt: FormatOption = OutputFormat.text, as_json: JsonFlag = False) -> None:
    """The copilot's tables with their row counts."""
    from copilot.store import StateStore

    async def work() -> dict[str, int]:
        store = await StateStore.connect(_settings(endpoint))
        try:
            return await store.table_counts()
        finally:
            await store.close()

    try:
        counts = _run(work)
    except typer.Exit:
        raise
    except Exception as exc:
        raise _fail(exc) from exc
    fmt = resolve_format(fmt, as_json)
    if fmt != OutputFormat.text:
        emit(counts, fmt)
        return
    table = Table("table", "rows")
    for name, rows in counts.items():
        table.add_row(name, str(rows))
    console.print(table)


# --- kb ----------------------------------------------------------------------------------------


def _bedrock_agent(ctx: typer.Context, settings: CopilotSettings) -> Any:
    """The bedrock-agent client; tests pass one (with botocore's Stubber) as ctx.obj["bedrock_agent"]."""
    if isinstance(ctx.obj, dict) and "bedrock_agent" in ctx.obj:
        return ctx.obj["bedrock_agent"]
    import boto3

    return boto3.client("bedrock-agent", region_name=settings.aws_region)


KbId = Annotated[str | None, typer.Option("--kb-id", help="Knowledge base id (default COPILOT_KB_ID).")]
DsId = Annotated[str | None, typer.Option("--ds-id", help="Data source id (default COPILOT_KB_DATA_SOURCE_ID).")]


@kb_app.command("sync")
def kb_sync(ctx: typer.Context,
            source: Annotated[Path, typer.Option("--source", help="The corpus directory.")] = Path("docs/knowledge"),
            bucket: Annotated[str | None, typer.Option("--bucket", help="Default COPILOT_KB_BUCKET.")] = None,
            kb_id: KbId = None, ds_id: DsId = None,
            endpoint_url: Annotated[str | None, typer.Option("--s3-endpoint-url", hidden=True)] = None) -> None:
    """Upload changed documents to S3 (and start an ingestion job when --kb-id/--ds-id are known)."""
    import boto3

    from behaviour_profiles.settings import ProfileSettings
    from copilot.knowledge.sync import sync_corpus

    settings = CopilotSettings()
    kb, ds = kb_id or settings.kb_id, ds_id or settings.kb_data_source_id
    # The same S3 endpoint as the profile store (PROFILES_S3_ENDPOINT_URL, which `copilot dev env`
    # exports for the local stack): without it a local sync would write to the real S3.
    endpoint_url = endpoint_url or ProfileSettings().s3_endpoint_url or None
    try:
        report = sync_corpus(source, bucket or settings.kb_bucket or "",
                             s3_client=boto3.client("s3", region_name=settings.aws_region, endpoint_url=endpoint_url),
                             bedrock_agent_client=_bedrock_agent(ctx, settings) if kb and ds else None,
                             kb_id=kb if kb and ds else None, data_source_id=ds if kb and ds else None)
    except Exception as exc:
        raise _fail(exc) from exc
    console.print(f"uploaded {len(report.uploaded)}, unchanged {len(report.unchanged)}, "
                  f"deleted {len(report.deleted)}" + (f", ingestion job {report.ingestion_job_id}"
                                                     if report.ingestion_job_id else ""))


@kb_app.command("start-ingestion")
def kb_start_ingestion(ctx: typer.Context, kb_id: KbId = None, ds_id: DsId = None) -> None:
    """Start a knowledge-base ingestion job (re-index without restarting the copilot)."""
    from copilot.kb_admin import start_ingestion

    settings = CopilotSettings()
    try:
        job = start_ingestion(_bedrock_agent(ctx, settings), kb_id or settings.kb_id,
                              ds_id or settings.kb_data_source_id)
    except (InputError, CopilotError) as exc:
        raise _fail(exc) from exc
    console.print(f"[green]ingestion job started[/green] {job['ingestionJobId']} ({job['status']})")


@kb_app.command("status")
def kb_status_cmd(ctx: typer.Context, kb_id: KbId = None, ds_id: DsId = None,
                  job_id: Annotated[str | None, typer.Option("--job-id")] = None,
                  fmt: FormatOption = OutputFormat.text, as_json: JsonFlag = False) -> None:
    """The knowledge base's status, or an ingestion job's with --job-id."""
    from copilot.kb_admin import kb_status

    settings = CopilotSettings()
    try:
        status = kb_status(_bedrock_agent(ctx, settings), kb_id or settings.kb_id,
                           data_source_id=ds_id or settings.kb_data_source_id, job_id=job_id)
    except (InputError, CopilotError) as exc:
        raise _fail(exc) from exc
    fmt = resolve_format(fmt, as_json)
    if fmt != OutputFormat.text:
        emit(json.loads(json.dumps(status, default=str)), fmt)
        return
    name = status.get("name") or status.get("ingestionJobId")
    console.print(f"{name}: [bold]{status['status']}[/bold]")


@kb_app.command("list-jobs")
def kb_list_jobs(ctx: typer.Context, kb_id: KbId = None, ds_id: DsId = None,
                 limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 10,
                 fmt: FormatOption = OutputFormat.text, as_json: JsonFlag = False) -> None:
    """Recent ingestion jobs, newest first."""
    from copilot.kb_admin import list_ingestion_jobs

    settings = CopilotSettings()
    try:
        jobs = list_ingestion_jobs(_bedrock_agent(ctx, settings), kb_id or settings.kb_id,
                                   ds_id or settings.kb_data_source_id, max_results=limit)
    except (InputError, CopilotError) as exc:
        raise _fail(exc) from exc
    fmt = resolve_format(fmt, as_json)
    if fmt != OutputFormat.text:
        emit(json.loads(json.dumps(jobs, default=str)), fmt)
        return
    table = Table("job", "status", "started")
    for job in jobs:
        table.add_row(job["ingestionJobId"], job["status"], str(job.get("startedAt", "")))
    console.print(table)


# --- closing the loop --------------------------------------------------------------------------


def _profile(profile_id: str) -> Any:
    from behaviour_profiles.settings import ProfileSettings
    from behaviour_profiles.storage import ProfileStore

    async def work() -> Any:
        store = ProfileStore.from_settings(ProfileSettings())
        try:
            return await store.get(profile_id)
        finally:
            await store.close()

    return _run(work)


@app.command("drift")
def drift_cmd(namespace: Annotated[str | None, typer.Option("--namespace", help="Baseline scope (default: the "
                                                            "cluster-wide baseline).")] = None,
              fmt: FormatOption = OutputFormat.text, as_json: JsonFlag = False) -> None:
    """The latest observed snapshot (COPILOT_DSQL_*) against the active baseline profile (PROFILES_*):
    drifted metrics and the config changes correlated with them. Exit 3 when a metric regressed."""
    from behaviour_profiles.settings import ProfileSettings
    from behaviour_profiles.storage import ProfileStore
    from copilot.loop import DriftInput, DriftReport, ProfileBaselineDrift
    from copilot.store import StateStore

    settings = _settings()

    async def work() -> DriftReport:
        state = await StateStore.connect(settings, min_size=0, max_size=1)
        profiles = ProfileStore.from_settings(ProfileSettings())
        try:
            latest = await state.latest_snapshot()
            if latest is None:
                return DriftReport()
            return await ProfileBaselineDrift(store=profiles)(
                DriftInput(cluster_id=state.cluster_id, namespace=namespace, snapshot=latest.snapshot))
        finally:
            await state.close()
            await profiles.close()

    report = _run(work)
    regressed = [d for d in report.drift if d.regressed]
    fmt = resolve_format(fmt, as_json)
    if fmt != OutputFormat.text:
        emit(report, fmt)
        raise typer.Exit(ExitCode.REFUSED if regressed else ExitCode.OK)
    if report.baseline_id is None:
        console.print("no active baseline for this cluster and namespace (or nothing observed yet)")
        return
    table = Table("metric", "current", "baseline", "change", "result")
    for d in report.drift:
        change = "-" if d.relative_change is None else f"{d.relative_change:+.0%}"
        table.add_row(d.metric_id, f"{d.current:.4g}", f"{d.baseline:.4g}", change,
                      "[red]regressed[/red]" if d.regressed else "[green]improved[/green]")
    console.print(table)
    for c in report.correlations:
        console.print(f"  config {c.config_key}: {c.old_value!r} -> {c.new_value!r} "
                      f"coincides with {', '.join(c.regressed_metrics)}")
    console.print(f"baseline {report.baseline_id}: {len(regressed)} metric(s) regressed")
    raise typer.Exit(ExitCode.REFUSED if regressed else ExitCode.OK)


@app.command("conformance")
def conformance_cmd(profile_id: Annotated[str, typer.Argument(help="A behaviour profile's id.")],
                    preset: PresetArgument, modifier: ModifierOption = None,
                    fmt: FormatOption = OutputFormat.text, as_json: JsonFlag = False) -> None:
    """Does this profile match PRESET? Per-metric pass/fail against the preset's expected bounds (exit 3: no)."""
    from copilot.loop import assess_conformance
    from dsql_config import ConfigCompiler

    try:
        bounds = ConfigCompiler().compile(preset, modifier=modifier, sdk="none", platform="none").profile.expected_bounds
    except InputError as exc:
        raise _fail(exc) from exc
    report = assess_conformance(preset, _profile(profile_id).telemetry, bounds)
    passed = ExitCode.OK if report.label == "conforming" else ExitCode.REFUSED
    fmt = resolve_format(fmt, as_json)
    if fmt != OutputFormat.text:
        emit(report, fmt)
        raise typer.Exit(passed)
    table = Table("metric", "observed", "bounds", "result")
    for m in report.metrics:
        table.add_row(m.metric, "-" if m.observed is None else f"{m.observed:.4g}", f"[{m.lower:g}, {m.upper:g}]",
                      "[green]pass[/green]" if m.passed else f"[red]fail[/red] {m.detail}")
    console.print(table)
    console.print(f"profile is [bold]{report.label}[/bold] with {preset}")
    raise typer.Exit(passed)


@app.command("recommend-config")
def recommend_cmd(profile_id: Annotated[str, typer.Argument(help="A behaviour profile's id.")],
                  preset: OptionalPresetArgument = None, modifier: ModifierOption = None,
                  fmt: FormatOption = OutputFormat.text, as_json: JsonFlag = False) -> None:
    """Preset or override changes for a profile (against PRESET, default its own), with evidence; every proposal compiles."""
    from copilot.loop.recommend import recommend_config

    try:
        rec = recommend_config(_profile(profile_id), preset_name=preset, modifier=modifier)
    except InputError as exc:
        raise _fail(exc) from exc
    fmt = resolve_format(fmt, as_json)
    if fmt != OutputFormat.text:
        emit(rec, fmt)
        return
    console.print(rec.summary)
    for e in rec.evidence:
        console.print(f"  evidence: {e.metric} = {e.observed:.4g} (expected {e.expected})")
    for r in rec.rejected:
        console.print(f"  [yellow]rejected by guard rails:[/yellow] {r}")
