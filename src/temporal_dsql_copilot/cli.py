"""`copilot`: manage the SRE copilot (Typer + Rich).

    copilot db setup-schema | check-connection | list-tables
    copilot kb sync | start-ingestion | status | list-jobs
    copilot drift [--namespace NS]
    copilot conformance PROFILE_ID PRESET [-m MODIFIER]
    copilot recommend-config PROFILE_ID [PRESET] [-m MODIFIER]
    copilot eval [--scenario FILE] [--cases DIR] [--format text|json|yaml]

Every command follows the shared grammar (temporal_dsql_core.cli): --format text|json|yaml (--json),
`error:` lines on stderr, exit 2 bad input, 3 a failed check, 4 a dependency unreachable.

Configuration comes from CopilotSettings (COPILOT_* environment variables); options override it.
The `copilot` command users type is ``temporal_dsql_devstack.copilot_cli.app``: these commands plus `copilot dev`
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

from temporal_dsql_config.grammar import ModifierOption, OptionalPresetArgument, PresetArgument
from temporal_dsql_copilot.exceptions import CopilotError, CopilotInputError
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_core.cli import (
    ExitCode,
    FormatOption,
    JsonFlag,
    OutputFormat,
    emit,
    fail,
    make_console,
    resolve_format,
)
from temporal_dsql_core.errors import InputError, TemporalDsqlError

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
    from temporal_dsql_copilot.store import StateStore, schema_statements

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
    from temporal_dsql_copilot.store import StateStore

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
    from temporal_dsql_copilot.store import StateStore

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

    from temporal_dsql_copilot.knowledge.sync import sync_corpus
    from temporal_dsql_profiles.settings import ProfileSettings

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
    from temporal_dsql_copilot.kb_admin import start_ingestion

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
    from temporal_dsql_copilot.kb_admin import kb_status

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
    from temporal_dsql_copilot.kb_admin import list_ingestion_jobs

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
    from temporal_dsql_profiles.settings import ProfileSettings
    from temporal_dsql_profiles.storage import ProfileStore

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
    from temporal_dsql_copilot.loop import DriftInput, DriftReport, ProfileBaselineDrift
    from temporal_dsql_copilot.store import StateStore
    from temporal_dsql_profiles.settings import ProfileSettings
    from temporal_dsql_profiles.storage import ProfileStore

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
    from temporal_dsql_config import ConfigCompiler
    from temporal_dsql_copilot.loop import assess_conformance

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
    from temporal_dsql_copilot.loop.recommend import recommend_config

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
    for refused in rec.refused:
        console.print(f"  [red]refused:[/red] {refused.key}={refused.proposed!r} (deployed {refused.deployed!r}): "
                      f"{refused.reason} Way out: {refused.way_out}.", markup=True, highlight=False)


# --- eval: replay scenarios, run the eval cases ----------------------------------------------------


def _print_replay(result: Any, fmt: OutputFormat) -> None:
    if fmt is not OutputFormat.text:
        emit(result, fmt)
        return
    for cycle in result.cycles:
        console.print(f"[bold]cycle {cycle.cycle}[/bold]  {cycle.observed_at}  {cycle.state}  (band {cycle.band}, "
                      f"bottleneck {cycle.bottleneck.replace('_', '-')})", soft_wrap=True, highlight=False)
        console.print(f"  {cycle.reason}", soft_wrap=True, highlight=False)
        for action in cycle.actions:
            console.print(f"  - {action.action_type} {action.target_service}: {action.description}",
                          soft_wrap=True, highlight=False)


async def _run_cases(cases: list[Any]) -> list[Any]:
    from temporal_dsql_copilot.eval import live_mode, offline_explainer, offline_judge, run_case

    if live_mode():
        model: Any = f"bedrock:{CopilotSettings().bedrock_model_id}"
        explainer, judge = model, model
    else:
        explainer, judge = offline_explainer(), offline_judge()
    snapshots: dict[str, Any] = {}
    generated = [c for c in cases if c.generator is not None]
    if generated:
        # Generator cases are rendered into a local Prometheus (the AMP stand-in) and read back with
        # the copilot's own queries; it is started here and stopped by its PID when done.
        from whenever import Instant

        from temporal_dsql_copilot.eval.generated import collect_case, generator_windows
        from temporal_dsql_profiles.telemetry import PrometheusClient
        from temporal_dsql_standins.scenarios import start_prometheus_with_scenarios

        windows = generator_windows(generated, Instant.now())
        prometheus = start_prometheus_with_scenarios(windows, workspace_id="ws-eval")
        try:
            async with PrometheusClient(prometheus.query_url, sigv4=False) as client:
                for case in generated:
                    snapshots[case.name] = await collect_case(case, client, windows[case.name])
        finally:
            prometheus.stop()
    return [await run_case(c, explainer=explainer, judge=judge, snapshots=snapshots.get(c.name)) for c in cases]


@app.command("eval")
def eval_cmd(
    scenario: Annotated[Path | None, typer.Option(
        "--scenario", help="Replay this scenario file (YAML) and print each cycle's verdict.")] = None,
    cases_dir: Annotated[Path | None, typer.Option(
        "--cases", help="Run the eval cases in this directory (default: the built-in cases).")] = None,
    fmt: FormatOption = OutputFormat.text, as_json: JsonFlag = False,
) -> None:
    """Replay a scenario through the rules (--scenario), or run the eval cases: every cycle's state and
    bottleneck against the spec, the scenario's claims, the actions and the explanation's facts.
    Exit 3 (a failed check) when a case fails."""
    from temporal_dsql_copilot.eval import ReplayResult, load_cases, load_scenario, replay

    fmt = resolve_format(fmt, as_json)
    try:
        if scenario is not None:
            if cases_dir is not None:
                raise CopilotInputError("--scenario and --cases cannot be combined.", field="--scenario",
                                        suggestion="Replay one scenario, or run a directory of cases.")
            loaded = load_scenario(scenario)
            _print_replay(ReplayResult(cycles=[c.verdict for c in replay(loaded)]), fmt)
            return
        import temporal_dsql_copilot.eval

        directory = cases_dir or Path(temporal_dsql_copilot.eval.__file__).parent / "cases"
        if not directory.is_dir():
            raise CopilotInputError(f"{str(directory)!r} is not a directory of eval cases.", field="--cases",
                                    suggestion="Pass a directory holding NN_name.yaml case files.")
        cases = load_cases(directory)
    except InputError as exc:
        fail(exc)
    except ValueError as exc:  # a case file that does not validate
        fail(exc, code=ExitCode.BAD_INPUT)
    try:
        results = asyncio.run(_run_cases(cases))
    except (TemporalDsqlError, OSError) as exc:
        fail(exc, code=ExitCode.UNAVAILABLE)
    failed = [r for r in results if not r.passed]
    if fmt is not OutputFormat.text:
        emit({"cases": [
            {"name": r.name, "clauses": r.clauses, "passed": r.passed, "cycles": len(r.cycles), "score": r.score,
             "problems": r.problems()} for r in results], "passed": len(results) - len(failed), "failed": len(failed)},
            fmt)
    else:
        table = Table("case", "clauses", "cycles", "verdicts", "facts", "result")
        for r in results:
            table.add_row(r.name, ", ".join(r.clauses), str(len(r.cycles)),
                          "ok" if not r.mismatches else f"{len(r.mismatches)} wrong", f"{r.score:.0%}",
                          "[green]pass[/green]" if r.passed else "[red]FAIL[/red]")
        console.print(table)
        for r in failed:
            for problem in r.problems():
                console.print(f"  {r.name}: {problem}", soft_wrap=True, highlight=False)
        console.print(f"{len(results) - len(failed)} of {len(results)} cases green")
    raise typer.Exit(int(ExitCode.REFUSED) if failed else 0)  # a failed check, in the shared table
