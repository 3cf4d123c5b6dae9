"""Offline plan: run the REAL stack program (stacks/__main__.py) under Pulumi's mocks.

No credentials, no Pulumi CLI, no cloud calls: `pulumi.runtime.set_mocks` replaces the engine,
the recording monitor keeps every registration (type, name, parent, inputs), and the stack's
exported outputs are resolved at the end. `plan()` is the function the CLI (`temporal-dsql
plan`) and the demo call; each call starts a fresh root stack, so several plans can run in one
process one after another (not concurrently: Pulumi's runtime settings are process-global).
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import json
import runpy
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from pulumi_temporal_dsql.preview.mocks import RecordedResource, RecordingMocks, RecordingMonitor

__all__ = [
    "PROJECT", "Plan", "PlannedResource", "plan", "portable_path", "render_tree", "run_under_mocks", "stable_order",
    "stack_program",
]

PROJECT = "temporal-dsql"
_PLAN_LOCK = threading.Lock()

# A process that planned holds ~100k long-lived objects (pulumi, the pulumi_aws modules the stack
# declares, the compiler); interpreter shutdown runs full collections over all of them while
# tearing modules down, ~0.7 s of a cold `temporal-dsql plan` spent after its output is written.
# Freezing them at exit (atexit runs before the teardown) keeps those passes to what is left; the
# objects are freed by the teardown's reference counting or by the process ending, as before.
atexit.register(gc.freeze)
# Inputs worth printing per type (the rest are in the JSON form).
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:ecs/taskDefinition:TaskDefinition": ("family", "cpu", "memory"),
    "aws:ecs/service:Service": ("name", "desiredCount"),
    "aws:dsql/cluster:Cluster": ("deletionProtectionEnabled",),
    "aws:dynamodb/table:Table": ("name", "hashKey", "billingMode"),
    "aws:opensearch/domain:Domain": ("domainName", "engineVersion"),
    "aws:lambda/function:Function": ("name", "runtime", "architectures", "handler"),
    "aws:lambda/functionUrl:FunctionUrl": ("authorizationType",),
    "aws:lb/loadBalancer:LoadBalancer": ("name", "internal", "loadBalancerType"),
    "aws:lb/listener:Listener": ("port", "protocol"),
    "aws:s3/bucketObjectv2:BucketObjectv2": ("key",),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays"),
    "aws:ecs/cluster:Cluster": ("name",),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock",),
}


@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    urn: str
    parent: str | None
    inputs: dict[str, Any]
    protect: bool = False
    replace_on_changes: tuple[str, ...] = ()

    def options(self) -> dict[str, Any]:
        """The engine-enforced options set on it (only those: most resources have none)."""
        return {**({"protect": True} if self.protect else {}),
                **({"replaceOnChanges": list(self.replace_on_changes)} if self.replace_on_changes else {})}

    def key_inputs(self) -> dict[str, Any]:
        return {k: self.inputs[k] for k in KEY_INPUTS.get(self.type, ()) if k in self.inputs}


@dataclass(frozen=True)
class Plan:
    preset: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    config: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "preset": self.preset,
                "stack": self.stack,
                "resources": [
                    {"type": r.type, "name": r.name, "urn": r.urn, "parent": r.parent, "inputs": r.inputs,
                     **({"options": r.options()} if r.options() else {})}
                    for r in self.resources
                ],
                "outputs": self.outputs,
            },
            indent=2,
            sort_keys=True,
            default=_json_default,
        )

    def urns(self) -> list[str]:
        return sorted(r.urn for r in self.resources)

    def by_type(self, typ: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == typ]


def portable_path(path: str) -> str:
    """A path as the plan shows it: relative to the program's directory (where Pulumi runs it, the
    working directory: two clones, or a checkout and an installed wheel, give the same plan), and
    never absolute (a path outside that directory keeps its name only)."""
    candidate = Path(path)
    if not candidate.is_absolute():
        return candidate.as_posix()
    try:
        return candidate.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return f"<outside the project>/{candidate.name}"


def _json_default(value: Any) -> Any:
    if isinstance(value, (pulumi.FileArchive, pulumi.FileAsset)):
        return {"archive" if isinstance(value, pulumi.FileArchive) else "asset": portable_path(str(value.path))}
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": sorted(value.assets)}
    if isinstance(value, pulumi.StringAsset):
        return {"string_asset_bytes": len(value.text)}
    return repr(value)


def stack_program() -> Path:
    """The `pulumi new` template's program, shipped in the package (templates/temporal-dsql/ of the
    repository): what a project made from the template runs, found the same way from any folder."""
    from pulumi_temporal_dsql.resources import data_file

    return data_file("template", "__main__.py")


def _plain(value: Any) -> Any:
    """Secrets and unknowns under mocks arrive as plain values or Output objects; make them JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the mock protocol carries every number as a float
    return value


def plan(
    preset: str,
    *,
    modifier: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    stack: str = "plan",
    extra_config: Mapping[str, str] | None = None,
    program: Path | None = None,
    mocks: RecordingMocks | None = None,
) -> Plan:
    """Run the stack program under mocks for `preset` and return every resource and output."""
    config = {f"{PROJECT}:preset": preset, f"{PROJECT}:buildLambda": "false", "aws:region": "us-east-1"}
    if modifier:
        config[f"{PROJECT}:modifier"] = modifier
    if overrides:
        config[f"{PROJECT}:overrides"] = json.dumps(dict(overrides))
    for key, value in (extra_config or {}).items():
        config[key if ":" in key else f"{PROJECT}:{key}"] = value
    program = program or stack_program()
    recorded, exported = run_under_mocks(
        lambda: runpy.run_path(str(program), run_name="__main__"), config=config, stack=stack, mocks=mocks
    )
    resources = stable_order(
        [PlannedResource(type=r.typ, name=r.name, urn=r.urn, parent=r.parent or None, inputs=_plain(r.inputs),
                         protect=r.protect, replace_on_changes=r.replace_on_changes)
         for r in recorded]
    )
    return Plan(preset=preset, stack=stack, resources=resources, outputs=exported, config=config)


def stable_order(resources: list[PlannedResource]) -> list[PlannedResource]:
    """Parents before their children, siblings by URN: the same list on every run.

    Registration order follows asyncio scheduling (and set iteration under hash randomisation),
    so two runs of one program would list the same resources in different orders; callers (the
    policy pack among them) rely on a parent coming before its children, so a plain URN sort
    will not do.
    """
    urns = {r.urn for r in resources}
    children: dict[str | None, list[PlannedResource]] = {}
    for resource in resources:
        children.setdefault(resource.parent if resource.parent in urns else None, []).append(resource)
    ordered: list[PlannedResource] = []
    stack = sorted(children.get(None, []), key=lambda r: r.urn, reverse=True)
    while stack:
        resource = stack.pop()
        ordered.append(resource)
        stack.extend(sorted(children.get(resource.urn, []), key=lambda r: r.urn, reverse=True))
    return ordered


def run_under_mocks(
    program: Callable[[], Any],
    *,
    config: Mapping[str, str] | None = None,
    stack: str = "plan",
    project: str = PROJECT,
    mocks: RecordingMocks | None = None,
) -> tuple[list[RecordedResource], dict[str, Any]]:
    """Run `program` as a Pulumi program under fresh mocks: (every registration, stack outputs)."""
    with _PLAN_LOCK:
        _ensure_event_loop()
        recorder = mocks or RecordingMocks()
        monitor = RecordingMonitor(recorder)
        pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]
        pulumi.runtime.set_mocks(recorder, project=project, stack=stack, preview=False, monitor=monitor)
        pulumi.runtime.set_all_config(dict(config or {}))
        pulumi_settings.SETTINGS.rpc_manager.clear()
        pulumi_settings.SETTINGS.outputs.clear()
        root = pulumi_settings.get_root_resource()
        exported: dict[str, Any] = {}
        # No automatic collections while the program runs: it allocates few cycles, but the
        # imports it triggers (the pulumi_aws modules of its resource types) push the young
        # generations into full collections over every live object, ~0.25 s of a ~1.5 s cold
        # plan. One plan's cycles wait for the next collection after it.
        collecting = gc.isenabled()
        gc.disable()
        try:
            _sync_await(run_pulumi_func(program))
            outputs = getattr(root, "outputs", None) if root is not None else None
            if outputs:
                resolved = _sync_await(pulumi.Output.from_input(dict(outputs)).future())
                exported = _plain(resolved or {})
        except BaseException:
            # A failed program leaves Pulumi's futures holding the error in reference cycles; collect
            # them here, so their "exception was never retrieved" finalizers run now and not in the
            # middle of whatever the caller does next. The coroutines Pulumi abandoned are its own.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
                gc.collect()
            raise
        finally:
            if collecting:
                # What the run allocated is all still in the youngest generation; the first
                # collection after enabling would traverse every survivor (~0.1 s). Promote them
                # to the oldest generation instead (freeze + unfreeze moves, never traverses);
                # any garbage among them goes at the next full collection. Not when the caller
                # froze objects of its own: unfreeze would release those too.
                if gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()
            pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]
        return list(monitor.recorded), exported


def _ensure_event_loop() -> None:
    """Pulumi's mocks build futures on the thread's current loop; give the thread one.

    After an asyncio.run() (or pytest-asyncio) the main thread has no usable loop left, and
    `asyncio.Future()` inside pulumi would fail with "There is no current event loop".
    """
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def render_tree(result: Plan, *, value_width: int | None = 120) -> str:
    """The plan as an indented tree (children under their parent), then the stack outputs.

    On a terminal an output longer than ``value_width`` (the profile JSON) is cut with "..."; the
    CLI passes None off a terminal, so a pipe or a file gets every value whole."""
    children: dict[str | None, list[PlannedResource]] = {}
    urns = {r.urn for r in result.resources}
    for resource in result.resources:
        parent = resource.parent if resource.parent in urns else None
        children.setdefault(parent, []).append(resource)
    lines = [f"stack {PROJECT}/{result.stack}  preset={result.preset}  resources={len(result.resources)}"]

    def walk(parent: str | None, depth: int) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):
            detail = " ".join(f"{k}={json.dumps(v, default=_json_default)}" for k, v in resource.key_inputs().items())
            lines.append(f"{'  ' * depth}+ {resource.type}  {resource.name}" + (f"  {detail}" if detail else ""))
            walk(resource.urn, depth + 1)

    walk(None, 1)
    lines.append("outputs:")
    for key in sorted(result.outputs):
        value = result.outputs[key]
        text = value if isinstance(value, str) else json.dumps(value, default=_json_default)
        if value_width is not None and isinstance(text, str) and len(text) > value_width:
            text = text[:value_width - 3] + "..."
        lines.append(f"  {key}: {text}")
    return "\n".join(lines)
