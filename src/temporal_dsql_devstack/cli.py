"""`copilot dev ...`: the local stack as real processes (no Docker needed).

    copilot dev up            start what is missing (installs Debian packages as root), idempotent
    copilot dev up --compose  the same stand-ins, with the copilot's worker and API as containers
                              (docker compose, the image from `make images`)
    copilot dev ps            what runs, with PIDs, ports and URLs (--format json for scripts)
    copilot dev logs [svc]    tail the logs (-f to follow; `api` is the API's access and error log)
    copilot dev env           shell exports pointing clients at the stack
    copilot dev schema setup  create the profile and copilot tables in the local PostgreSQL
    copilot dev schema setup --aws [--env-file .env]
                              every schema of the AWS dev stack (Temporal on both DSQL clusters,
                              copilot + profile tables, visibility indices), each step reported
    copilot dev down          stop exactly what `up` started (compose services, then PIDs); --purge
                              deletes the data
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

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
from temporal_dsql_devstack.build import RUNTIME_IMAGE
from temporal_dsql_devstack.compose_stack import COPILOT_IMAGE
from temporal_dsql_devstack.errors import DevStackError
from temporal_dsql_devstack.schema import setup_aws_schemas, setup_schemas
from temporal_dsql_devstack.stack import SERVICE_ORDER, DevStack, service_env
from temporal_dsql_devstack.state import state_dir
from temporal_dsql_devstack.system_deps import ensure_system_deps

__all__ = ["app"]

app = typer.Typer(help="The local stack: PostgreSQL, moto, Prometheus, Temporal, the API and the worker.",
                  no_args_is_help=True)
schema_app = typer.Typer(help="Database schemas of the local stack (or, with --aws, of the AWS dev stack).", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
console = make_console()

StateDir = Annotated[Path | None, typer.Option("--state-dir", help="Where PIDs, data and logs live "
                                                                   "(default .local/dev or $COPILOT_DEV_STATE_DIR).")]


def _stack(directory: Path | None) -> DevStack:
    return DevStack(state_dir(directory), progress=lambda message: console.print(f"  {message}"))


def _fail(error: DevStackError) -> None:
    """A failed start, schema or build is a runtime failure (exit 4); the message says what to fix."""
    fail(error, code=ExitCode.UNAVAILABLE)


@app.command()
def up(
    service: Annotated[list[str] | None, typer.Argument(help=f"Only these ({', '.join(SERVICE_ORDER)}).")] = None,
    directory: StateDir = None,
    install: Annotated[bool, typer.Option(help="Install missing Debian packages (root only).")] = True,
    compose: Annotated[bool, typer.Option(
        "--compose", help="Run the worker and the API as containers with docker compose (v2, else "
                          "docker-compose 1.29); the stand-ins stay processes. Build the image with `make images`.")]
    = False,
    image: Annotated[str, typer.Option(help="--compose: the copilot image")] = COPILOT_IMAGE,
) -> None:
    """Start the local stack; services already running are kept."""
    wanted = tuple(service) if service else SERVICE_ORDER
    if compose:  # the worker and the API come from compose, not from processes
        wanted = tuple(name for name in wanted if name not in _COMPOSE_SERVICES)
    try:
        if install:
            installed = ensure_system_deps()
            if installed:
                console.print(f"installed Debian packages: {', '.join(installed)}")
        stack = _stack(directory)
        console.print(f"[bold]copilot dev up[/bold] (state in {stack.state_dir})")
        report = stack.up(wanted)
        if "postgres" in stack.state.services:
            setup_schemas(stack.state, progress=lambda message: console.print(f"  {message}"))
        if compose and not report.failed:
            _compose_up(stack, image)
    except DevStackError as error:
        _fail(error)
    _print_ps(stack)
    if report.unavailable:
        console.print("[yellow]not started:[/yellow] " + "; ".join(f"{k}: {v}" for k, v in report.unavailable.items()))
    if report.failed:
        fail("failed: " + "; ".join(f"{k}: {v}" for k, v in report.failed.items()), code=ExitCode.UNAVAILABLE)


_COMPOSE_SERVICES = ("api", "worker")


def _compose_up(stack: DevStack, image: str) -> None:
    from temporal_dsql_devstack.compose_stack import compose_up
    from temporal_dsql_standins import free_port

    state = stack.state
    api_port = free_port()
    path = compose_up(stack.state_dir, service_env(state), image=image, api_port=api_port,
                      health_port=free_port(), metrics_port=free_port())
    state.env.update({"COPILOT_DEV_API_URL": f"http://127.0.0.1:{api_port}", "COPILOT_DEV_COMPOSE_FILE": str(path)})
    state.save(stack.state_dir)
    console.print(f"  compose: copilot-worker and copilot-api up ({path}); API on http://127.0.0.1:{api_port}")


@app.command()
def down(directory: StateDir = None,
         purge: Annotated[bool, typer.Option("--purge", "-v", help="Also delete data and logs.")] = False) -> None:
    """Stop what `up` started: the compose services (`up --compose`), then the processes by PID."""
    from temporal_dsql_devstack.compose_stack import compose_down

    stack = _stack(directory)
    try:
        if compose_down(stack.state_dir):
            console.print("compose: copilot-worker and copilot-api removed")
    except DevStackError as error:
        _fail(error)
    stopped = stack.down(purge=purge)
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


def _print_ps(stack: DevStack) -> None:
    state = stack.state
    table = Table(title="local stack")
    for column in ("service", "status", "pid", "port", "url", "log"):
        table.add_column(column)
    for name in SERVICE_ORDER:
        record = state.services.get(name)
        if record is None:
            table.add_row(name, "[dim]not started[/dim]", "", "", "", "")
            continue
        status = "[green]running[/green]" if record.alive() else "[red]dead[/red]"
        table.add_row(name, status, ",".join(map(str, record.pids)), str(record.port or ""), record.url,
                      record.log_file)
    console.print(table)


def ps_document(stack: DevStack) -> dict[str, Any]:
    """What `ps` shows, as data: every service in start order, with whole URLs and paths."""
    services: list[dict[str, Any]] = []
    for name in SERVICE_ORDER:
        record = stack.state.services.get(name)
        if record is None:
            services.append({"name": name, "status": "not started", "pids": [], "port": None, "url": None,
                             "log": None})
            continue
        services.append({"name": name, "status": "running" if record.alive() else "dead", "pids": list(record.pids),
                         "port": record.port, "url": record.url or None, "log": record.log_file})
    return {"state_dir": str(stack.state_dir), "services": services}


@app.command()
def ps(directory: StateDir = None, fmt: FormatOption = OutputFormat.text, as_json: JsonFlag = False) -> None:
    """Status of every service of the local stack (--format json: the same as data)."""
    stack = _stack(directory)
    fmt = resolve_format(fmt, as_json)
    if fmt != OutputFormat.text:
        emit(ps_document(stack), fmt)
        return
    _print_ps(stack)


@app.command()
def env(directory: StateDir = None) -> None:
    """Shell exports that point the CLI, API and worker at the stack: eval "$(copilot dev env)"."""
    stack = _stack(directory)
    for key, value in sorted(service_env(stack.state).items()):
        print(f"export {key}='{value}'")


@app.command()
def logs(
    service: Annotated[str | None, typer.Argument(help="One service; all when omitted.")] = None,
    directory: StateDir = None,
    lines: Annotated[int, typer.Option("--lines", "-n")] = 40,
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
) -> None:
    """Show the last lines of the logs; -f keeps following them."""
    stack = _stack(directory)
    if service is not None and service not in SERVICE_ORDER:
        fail(DevStackError(f"Unknown service {service!r}.", field="service", allowed=list(SERVICE_ORDER),
                           suggestion="Name one of the services `copilot dev ps` lists, or none for all."))
    files = list(stack.iter_logs(service))
    if not files:
        fail("nothing is running", "`copilot dev up` first", code=ExitCode.UNAVAILABLE)
    positions: dict[Path, int] = {}
    for name, path in files:
        text = path.read_text(errors="replace") if path.exists() else ""
        for line in text.splitlines()[-lines:]:
            console.print(f"[cyan]{name:>10}[/cyan] | {escape(line)}", markup=True, highlight=False)
        positions[path] = len(text.encode())
    while follow:
        time.sleep(0.5)
        for name, path in files:
            if not path.exists():
                continue
            with path.open("rb") as handle:
                handle.seek(positions.get(path, 0))
                chunk = handle.read()
            positions[path] = positions.get(path, 0) + len(chunk)
            for line in chunk.decode(errors="replace").splitlines():
                console.print(f"[cyan]{name:>10}[/cyan] | {escape(line)}", highlight=False)
            console.file.flush()


@schema_app.command("setup")
def schema_setup(
    directory: StateDir = None,
    aws: Annotated[bool, typer.Option("--aws", help="Set up the AWS dev stack's schemas (both DSQL clusters, "
                                                    "visibility) instead of the local PostgreSQL.")] = False,
    env_file: Annotated[Path, typer.Option(help="--aws: the dotenv `copilot dev infra apply` wrote")] = Path(".env"),
    image: Annotated[str, typer.Option(help="--aws: runtime image with temporal-sql-tool (`copilot dev build`)")]
    = RUNTIME_IMAGE,
    region: Annotated[str | None, typer.Option(help="--aws: overrides AWS_REGION of the .env")] = None,
    visibility_endpoint: Annotated[str | None, typer.Option(
        help="--aws: OpenSearch endpoint for the visibility indices (the dev stack has none; default "
             "VISIBILITY_ENDPOINT of the .env; without one the step is skipped)")] = None,
    visibility_index: Annotated[str | None, typer.Option(
        help="--aws: the deployment's index; the copilot's is <index>_copilot")] = None,
    template_file: Annotated[Path | None, typer.Option(
        help="--aws: Temporal's index_template_v7.json (default: read from the admin-tools image with docker)")] = None,
    admin_tools_image: Annotated[str | None, typer.Option(help="--aws: image the template is read from")] = None,
) -> None:
    """Create the schemas: the local PostgreSQL's tables, or with --aws every schema of the AWS dev stack."""
    if aws:
        _schema_setup_aws(env_file, image=image, region=region, visibility_endpoint=visibility_endpoint,
                          visibility_index=visibility_index, template_file=template_file,
                          admin_tools_image=admin_tools_image)
        return
    stack = _stack(directory)
    try:
        results = setup_schemas(stack.state, progress=lambda message: console.print(f"  {message}"))
    except DevStackError as error:
        _fail(error)
    failed = [name for name, ok in results.items() if not ok]
    if failed:
        raise typer.Exit(ExitCode.UNAVAILABLE)


def _schema_setup_aws(env_file: Path, **options: Any) -> None:
    console.print(f"[bold]copilot dev schema setup --aws[/bold] (dev stack from {env_file})")
    try:
        results = setup_aws_schemas(env_file, progress=lambda message: console.print(f"  {message}",
                                                                                     highlight=False, markup=False),
                                    **options)
    except DevStackError as error:
        _fail(error)
    colours = {"ok": "green", "FAILED": "red", "skipped": "yellow"}
    table = Table(title="schema set-up")
    for column in ("#", "step", "target", "status", "detail / fix"):
        table.add_column(column, overflow="fold")
    for number, result in enumerate(results, 1):
        detail = result.detail + (f"\nfix: {result.fix}" if result.fix else "")
        table.add_row(str(number), result.step, result.target,
                      f"[{colours[result.status]}]{result.status}[/{colours[result.status]}]", escape(detail))
    console.print(table)
    if any(result.failed for result in results):
        raise typer.Exit(ExitCode.UNAVAILABLE)


infra_app = typer.Typer(help="Ephemeral AWS resources of the dev stack (Pulumi Automation API).",
                        no_args_is_help=True)
app.add_typer(infra_app, name="infra")


@infra_app.command("apply")
def infra_apply_command(
    region: Annotated[str, typer.Option(envvar="AWS_REGION")] = "us-east-1",
    stack_name: Annotated[str, typer.Option("--stack")] = "dev",
    prefix: str = "copilot-dev",
    owner: str | None = None,
    env_file: Annotated[Path, typer.Option(help="dotenv file the outputs are written to")] = Path(".env"),
) -> None:
    """Create or update the dev stack's AWS resources and write their coordinates to .env."""
    from temporal_dsql_devstack.infra import infra_apply

    try:
        result = infra_apply(stack=stack_name, region=region, prefix=prefix, owner=owner, env_file=env_file,
                             on_output=console.print)
    except DevStackError as error:
        _fail(error)
    table = Table(title="dev stack outputs")
    table.add_column("output")
    table.add_column("value")
    for key, value in sorted(result.outputs.items()):
        table.add_row(key, str(value))
    console.print(table)


@infra_app.command("destroy")
def infra_destroy_command(
    region: Annotated[str, typer.Option(envvar="AWS_REGION")] = "us-east-1",
    stack_name: Annotated[str, typer.Option("--stack")] = "dev",
    prefix: str = "copilot-dev",
) -> None:
    """Destroy the dev stack's AWS resources."""
    from temporal_dsql_devstack.infra import infra_destroy

    try:
        infra_destroy(stack=stack_name, region=region, prefix=prefix, on_output=console.print)
    except DevStackError as error:
        _fail(error)


@app.command()
def build(
    temporal_dsql_path: Annotated[Path | None, typer.Option(envvar="TEMPORAL_DSQL_PATH",
                                                            help="temporal-dsql checkout for the base image")] = None,
    base_image: Annotated[str | None, typer.Option(help="reuse this server image instead of building it")] = None,
    platform: str | None = None,
) -> None:
    """Build the runtime image and the copilot image with docker."""
    from temporal_dsql_devstack.build import build_images
    from temporal_dsql_devstack.system_deps import REPO_ROOT

    try:
        built = build_images(REPO_ROOT, temporal_dsql_path=temporal_dsql_path, base_image=base_image,
                             platform=platform, on_step=lambda step: console.print(f"[bold]building {step.image}"))
    except DevStackError as error:
        _fail(error)
    console.print(f"built: {', '.join(built)}")
