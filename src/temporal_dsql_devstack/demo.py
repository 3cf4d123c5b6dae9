"""`make demo`: the whole product on this machine, end to end, in a few minutes.

1. compile the mid-scale preset and print the offline plan of the stack that would deploy it;
2. bring the local stack up (`copilot dev up`: PostgreSQL, moto, Prometheus with a synthetic
   cluster that ran healthy at 150 WPS and then overloaded at 400 WPS, Temporal, API, worker);
3. create a "healthy at 150 WPS" and an "overloaded at 400 WPS" behaviour profile over HTTP;
4. compare them: top regressions and a PNG chart;
5. have the copilot assess the cluster and print its status and explanation;
6. check both profiles' conformance with mid-scale;
7. tear everything down (also on failure or Ctrl-C) and say where to look next.

Every step goes through the product's real surface (compiler, plan CLI, HTTP API, Temporal). A
step whose piece is not in this tree fails loudly as MISSING; nothing is simulated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from whenever import Instant

from temporal_dsql_core.cli import ExitCode, make_console, print_error
from temporal_dsql_devstack.errors import DevStackError
from temporal_dsql_devstack.stack import CLUSTER_ID, SERVICE_ORDER, DevStack
from temporal_dsql_devstack.system_deps import REPO_ROOT, ensure_system_deps

__all__ = ["DemoResult", "MissingPiece", "main", "request_assessment", "run_demo"]

PRESET = "mid-scale"
OUT_DIR = REPO_ROOT / "out"
RULE_WIDTH = 100  # the step rules, on a terminal or off
PLAN_LINE_WIDTH = 160  # the plan panel's lines


class MissingPiece(Exception):
    """A part of the product this step needs is not in the tree (reported, never faked)."""


@dataclass
class StepResult:
    name: str
    status: str  # ok | missing | failed
    detail: str = ""
    seconds: float = 0.0


@dataclass
class DemoResult:
    steps: list[StepResult] = field(default_factory=list)
    chart: Path | None = None
    profiles: dict[str, str] = field(default_factory=dict)
    windows: dict[str, tuple[str, str]] = field(default_factory=dict)
    """profile label -> the (start, end) of its time window, as the API returned them."""
    health_state: str | None = None
    conformance: dict[str, str] = field(default_factory=dict)
    """profile label -> "conforming" | "drifted"."""

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.status == "ok" for s in self.steps)


@dataclass
class Demo:
    console: Console
    state_dir: Path
    keep: bool = False
    result: DemoResult = field(default_factory=DemoResult)
    stack: DevStack | None = None
    api_url: str = ""
    env: dict[str, str] = field(default_factory=dict)

    # ----------------------------------------------------------------- plumbing
    @contextlib.contextmanager
    def step(self, number: int, title: str) -> Iterator[None]:
        # A rule is as wide as the console: off a terminal that is the whole-values width, so cap it.
        self.console.print(Rule(f"[bold][{number}/7] {title}"), width=min(self.console.width, RULE_WIDTH))
        started = time.monotonic()
        try:
            with self.console.status(title):
                yield
        except MissingPiece as missing:
            self.result.steps.append(StepResult(title, "missing", str(missing), time.monotonic() - started))
            self.console.print(f"[bold yellow]MISSING:[/bold yellow] {missing}")
            return
        except (KeyboardInterrupt, SystemExit):
            self.result.steps.append(StepResult(title, "failed", "interrupted", time.monotonic() - started))
            raise
        except Exception as error:
            self.result.steps.append(StepResult(title, "failed", f"{type(error).__name__}: {error}",
                                                time.monotonic() - started))
            self.console.print(f"[bold red]FAILED:[/bold red] {type(error).__name__}: {error}")
            return
        elapsed = time.monotonic() - started
        self.result.steps.append(StepResult(title, "ok", "", elapsed))
        self.console.print(f"[green]done[/green] in {elapsed:.1f}s")

    def _api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if not self.api_url:
            raise MissingPiece("the API is not running (see step 2)")
        return httpx.request(method, f"{self.api_url}{path}", timeout=60, **kwargs)

    def _openapi_paths(self) -> set[str]:
        return set(self._api("GET", "/openapi.json").json().get("paths", {}))

    # ------------------------------------------------------------------- steps
    def compile_and_plan(self) -> None:
        from temporal_dsql_config import ConfigCompiler

        result = ConfigCompiler().compile(PRESET)
        table = Table(title=f"compiled {PRESET}", show_lines=False)
        table.add_column("what")
        table.add_column("value")
        history_env = result.env.get("history", {})
        for key in ("TEMPORAL_SQL_MAX_CONNS", "DSQL_RESERVOIR_ENABLED", "DSQL_RESERVOIR_TARGET_READY",
                    "DSQL_DISTRIBUTED_RATE_LIMITER_ENABLED", "TEMPORAL_HISTORY_SHARDS"):
            if key in history_env:
                table.add_row(f"history env {key}", str(history_env[key]))
        table.add_row("dynamic-config keys", str(len(result.dynamic_config)))
        table.add_row("guard rails", ", ".join(f"{r.severity}: {getattr(r, 'rule', getattr(r, 'name', ''))}"
                                               for r in result.guard_rail_results) or "all passed")
        bounds = result.profile.expected_bounds
        table.add_row("expected telemetry bounds", f"{len(bounds)} metrics")
        self.console.print(table)
        plan_cli = Path(sys.executable).parent / "temporal-dsql"
        if not plan_cli.exists():
            raise MissingPiece(f"{plan_cli} (the offline plan CLI of components/pulumi_temporal_dsql) is not installed")
        plan = subprocess.run([str(plan_cli), "plan", PRESET, "--copilot"], capture_output=True,
                              text=True, timeout=120)
        if plan.returncode != 0:
            raise RuntimeError(f"temporal-dsql plan failed: {plan.stderr[-1500:]}")
        lines = plan.stdout.splitlines()
        resources = sum(1 for line in lines if line.lstrip().startswith("+ "))
        # A panel pads every line to its longest (the profile JSON output): lines are cut here;
        # `temporal-dsql plan mid-scale` prints them whole.
        shown = [line if len(line) <= PLAN_LINE_WIDTH else line[:PLAN_LINE_WIDTH - 3] + "..." for line in lines]
        self.console.print(Panel("\n".join(shown), title=f"offline plan: {PRESET} + copilot ({resources} resources)",
                                 expand=False))

    def stack_up(self) -> None:
        installed = ensure_system_deps()
        if installed:
            self.console.print(f"installed Debian packages: {', '.join(installed)}")
        self.stack = DevStack(self.state_dir, progress=lambda m: self.console.print(f"  {m}"))
        report = self.stack.up(SERVICE_ORDER)
        from temporal_dsql_devstack.schema import setup_schemas

        setup_schemas(self.stack.state, progress=lambda m: self.console.print(f"  {m}"))
        state = self.stack.state
        self.env = dict(state.env)
        self.api_url = self.env.get("COPILOT_DEV_API_URL", "")
        if report.failed:
            raise RuntimeError("; ".join(f"{name}: {why}" for name, why in report.failed.items()))
        if report.unavailable:
            raise MissingPiece("; ".join(f"{name}: {why}" for name, why in report.unavailable.items()))

    def create_profiles(self) -> None:
        if "COPILOT_DEV_HEALTHY_WINDOW" not in self.env or not self.api_url:
            raise RuntimeError("the local stack is not up (step 2 failed), so no profile can be created")
        windows = {
            "healthy-150wps": ("healthy at 150 WPS", self.env["COPILOT_DEV_HEALTHY_WINDOW"]),
            "overloaded-400wps": ("overloaded at 400 WPS", self.env["COPILOT_DEV_OVERLOADED_WINDOW"]),
        }
        table = Table(title="behaviour profiles (POST /profiles/)")
        for column in ("label", "id", "window", "seconds"):
            table.add_column(column)
        for label, (name, window) in windows.items():
            start, end = window.split("/")
            started = time.monotonic()
            response = self._api("POST", "/profiles/", json={
                "name": name, "cluster_id": CLUSTER_ID, "time_window_start": start, "time_window_end": end,
                "label": label,
            })
            if response.status_code != 201:
                raise RuntimeError(f"creating {label!r}: HTTP {response.status_code}: {response.text[:500]}")
            profile = response.json()
            self.result.profiles[label] = profile["id"]
            self.result.windows[label] = (profile["time_window_start"], profile["time_window_end"])
            table.add_row(label, profile["id"], f"{start[11:19]} to {end[11:19]} UTC", f"{time.monotonic() - started:.2f}")
        self.console.print(table)

    def compare(self) -> None:
        from temporal_dsql_devstack.chart import Window, save_comparison, write_comparison_png

        if len(self.result.profiles) < 2:
            raise RuntimeError("the two profiles were not created (step 3 failed)")
        a, b = self.result.profiles["healthy-150wps"], self.result.profiles["overloaded-400wps"]
        response = self._api("POST", "/profiles/compare", json={"profile_a_id": a, "profile_b_id": b})
        if response.status_code != 200:
            raise RuntimeError(f"compare: HTTP {response.status_code}: {response.text[:500]}")
        comparison = response.json()
        regressions = [d for d in comparison["telemetry_diffs"] if d["direction"] == "regressed"]
        table = Table(title=f"top regressions, healthy-150wps -> overloaded-400wps ({len(regressions)} regressed)")
        for column in ("metric", "severity", "healthy mean", "overloaded mean", "change"):
            table.add_column(column)
        for diff in regressions[:10]:
            pct = diff.get("change_pct")
            table.add_row(diff["metric"], diff["severity"], f"{diff['old_value']['mean']:.3g}",
                          f"{diff['new_value']['mean']:.3g} {diff.get('unit', '')}",
                          "from 0" if pct is None else f"{pct:+.0f} %")
        self.console.print(table)
        windows = {label: Window.parse(label, *self.result.windows[label])
                   for label in ("healthy-150wps", "overloaded-400wps")}
        healthy, overloaded = windows["healthy-150wps"], windows["overloaded-400wps"]
        # The numbers behind the chart, to read them or re-draw it (python -m temporal_dsql_devstack.chart).
        save_comparison(OUT_DIR / "demo-comparison.json", comparison, healthy, overloaded)
        self.result.chart = write_comparison_png(comparison["telemetry_diffs"], OUT_DIR / "demo-comparison.png",
                                                 a=healthy, b=overloaded)
        self.console.print(f"comparison chart: [bold]{self.result.chart}[/bold]")

    def assess(self) -> None:
        if "/status" not in self._openapi_paths():
            raise MissingPiece("the copilot status API (GET /status) is not mounted in temporal_dsql_copilot.api.app")
        if self.stack is None or "worker" not in self.stack.state.services:
            raise MissingPiece("the copilot worker is not running, so nothing can assess the cluster")
        # /status gives times at second precision: an assessment made in the same second as the
        # request reads as earlier than a sub-second `requested`, so compare whole seconds.
        requested = Instant.now().round("second", mode="floor")
        asyncio.run(request_assessment(self.env))
        deadline = time.monotonic() + 90
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = self._api("GET", "/status")
            if response.status_code == 200:
                status = response.json()
                stamp = _assessment_time(status)
                if stamp is not None and stamp >= requested:
                    break
            time.sleep(1)
        else:
            raise RuntimeError(f"no assessment newer than {requested.format_iso()} within 90 s; last /status: "
                               f"{str(status)[:500]}")
        summary = self._api("GET", "/status/summary").json()
        self.result.health_state = status["health_state"]
        self.console.print(Panel(_render_status(status, summary), title="copilot status (GET /status, /status/summary)",
                                 expand=False))

    def conformance(self) -> None:
        if "/copilot/conformance" not in self._openapi_paths():
            raise MissingPiece("the copilot's conformance endpoint (POST /copilot/conformance) is not in the API")
        table = Table(title=f"conformance with {PRESET} (POST /copilot/conformance)")
        for column in ("profile", "label", "metrics passed", "out of bounds"):
            table.add_column(column)
        labels = {}
        for name, profile_id in self.result.profiles.items():
            response = self._api("POST", "/copilot/conformance", json={"profile_id": profile_id,
                                                                       "preset_name": PRESET})
            if response.status_code != 200:
                raise RuntimeError(f"conformance of {name}: HTTP {response.status_code}: {response.text[:500]}")
            report = response.json()
            failed = [m for m in report["metrics"] if not m["passed"]]
            labels[name] = report["label"]
            table.add_row(name, report["label"], f"{len(report['metrics']) - len(failed)}/{len(report['metrics'])}",
                          ", ".join(f"{m['metric']} ({m['observed']:.3g} not in {m['lower']:.3g}..{m['upper']:.3g})"
                                    if m["observed"] is not None else f"{m['metric']} (no data)"
                                    for m in failed[:4]) or "none")
        self.console.print(table)
        self.result.conformance = labels

    def teardown(self) -> None:
        if self.stack is None:
            return
        if self.keep:
            self.console.print(f"--keep: the stack stays up; stop it with `copilot dev down --state-dir {self.state_dir}`")
            return
        stopped = self.stack.down(purge=True)
        self.console.print(f"stopped: {', '.join(stopped) or 'nothing'}")


async def request_assessment(env: dict[str, str]) -> None:
    """Signal the copilot's observe loop (ObserveClusterWorkflow) to assess the cluster now."""
    from temporal_dsql_copilot.settings import CopilotSettings
    from temporal_dsql_copilot.workflows.inputs import RequestAssessmentInput
    from temporal_dsql_copilot.workflows.observe import ObserveClusterWorkflow
    from temporal_dsql_copilot.workflows.worker import OBSERVE_WORKFLOW_ID, connect

    # The copilot's own client (pydantic payload conversion, as the worker uses).
    client = await connect(CopilotSettings(temporal_address=env["COPILOT_TEMPORAL_ADDRESS"]))
    handle = client.get_workflow_handle_for(ObserveClusterWorkflow.run, OBSERVE_WORKFLOW_ID)
    deadline = time.monotonic() + 30
    while True:  # the worker starts the observe loop a moment after it comes up
        try:
            await handle.signal(ObserveClusterWorkflow.request_assessment, RequestAssessmentInput())
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def _assessment_time(status: dict[str, Any]) -> Instant | None:
    value = status.get("assessed_at")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return Instant.parse_iso(value)
    return None


def _render_status(status: dict[str, Any], summary: dict[str, Any]) -> str:
    """GET /status and GET /status/summary as the operator reads them."""
    confidence = status.get("confidence")
    lines = [
        f"state: {status['health_state'].upper()}   band: {status.get('band')}   bottleneck: {status.get('bottleneck')}"
        f"   confidence: {'n/a' if confidence is None else f'{confidence:.0%}'}",
        f"assessed at {status.get('assessed_at')} (explained by {summary.get('explained_by')})",
        "",
        f"summary: {summary.get('summary') or status.get('summary')}",
    ]
    if status.get("reason"):
        lines.append(f"why: {status['reason']}")
    if summary.get("factors"):
        lines += ["", "explanation:"] + [f"  {i}. {factor}" for i, factor in enumerate(summary["factors"], 1)]
    if status.get("recommended_actions"):
        lines += ["", "suggested remediations:"]
        lines += [f"  - {a['detail']['description']} ({a['detail']['target_service']}, risk {a['detail']['risk']}, "
                  f"confidence {a['confidence']:.0%})" for a in status["recommended_actions"]]
    if status.get("log_patterns"):
        lines += ["", "log patterns:"]
        lines += [f"  - {p['count']}x {p['pattern']} ({p['service']})" for p in status["log_patterns"][:6]]
    return "\n".join(lines)


def _summary(console: Console, demo: Demo, started: float) -> None:
    table = Table(title=f"demo finished in {time.monotonic() - started:.0f}s")
    for column in ("step", "result", "seconds", "detail"):
        table.add_column(column)
    colours = {"ok": "green", "missing": "yellow", "failed": "red"}
    for step in demo.result.steps:
        table.add_row(step.name, f"[{colours[step.status]}]{step.status}[/]", f"{step.seconds:.1f}", step.detail[:120])
    console.print(table)
    next_steps = [
        "grafana/dashboards/: the four dashboards (import them, or `docker compose up` in deploy/compose/)",
        "`copilot dev up` keeps the same stack running; `copilot dev ps`, `copilot dev logs -f`",
        "`temporal-dsql-config explain mid-scale` for why each value was chosen",
        "`temporal-dsql plan high-throughput --copilot` for the bigger stack",
    ]
    if demo.result.chart is not None:
        next_steps.insert(0, f"{demo.result.chart}: the healthy vs overloaded comparison chart")
    console.print(Panel("\n".join(f"- {s}" for s in next_steps), title="where to look next", expand=False))


def run_demo(console: Console, state_dir: Path, *, keep: bool = False) -> DemoResult:
    demo = Demo(console=console, state_dir=state_dir, keep=keep)
    steps: list[tuple[str, Callable[[], None]]] = [
        (f"compile {PRESET} and plan the stack offline", demo.compile_and_plan),
        ("bring the local stack up", demo.stack_up),
        ("create the healthy and overloaded profiles", demo.create_profiles),
        ("compare them", demo.compare),
        ("copilot assessment", demo.assess),
        (f"conformance with {PRESET}", demo.conformance),
    ]
    started = time.monotonic()
    try:
        for number, (title, action) in enumerate(steps, start=1):
            with demo.step(number, title):
                action()
    finally:
        with demo.step(7, "tear down"):
            demo.teardown()
        _summary(console, demo, started)
        _write_result(demo.result)
    return demo.result


def _write_result(result: DemoResult) -> None:
    """out/demo-result.json: what the demo found, for scripts and the end-to-end test."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    document = {
        "ok": result.ok, "health_state": result.health_state, "profiles": result.profiles,
        "conformance": result.conformance, "chart": str(result.chart) if result.chart else None,
        "steps": [{"name": s.name, "status": s.status, "detail": s.detail, "seconds": round(s.seconds, 2)}
                  for s in result.steps],
    }
    (OUT_DIR / "demo-result.json").write_text(json.dumps(document, indent=2) + "\n")


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m temporal_dsql_devstack.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".local" / "demo")
    parser.add_argument("--keep", action="store_true", help="leave the stack running at the end")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    console = make_console()  # off a terminal: whole profile ids and metric names, no 80-column cut
    try:
        result = run_demo(console, args.state_dir.resolve(), keep=args.keep)
    except KeyboardInterrupt:
        console.print("[red]interrupted: the stack was torn down[/red]")
        return 130
    except DevStackError as error:
        print_error(error)
        return int(ExitCode.UNAVAILABLE)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
