"""Python SDK adapter: keyword arguments for ``temporalio.worker.Worker``, as data and as a module.

``worker_kwargs`` is the JSON-able form (durations in seconds, poller behaviours as small dicts);
the rendered module builds the real objects (``timedelta``, ``PollerBehavior*``) so it can be
passed straight to ``Worker(client, task_queue=..., **WORKER_KWARGS)``. Every argument name is
a parameter of ``temporalio.worker.Worker`` (tests bind them to its signature). The Python SDK has
no counterpart of Go's MaxConcurrentEagerActivityExecutionSize, so that option is not emitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from temporal_dsql_config.adapters._artifacts import profile_artifacts
from temporal_dsql_config.adapters._common import autoscaling_pollers, profile_title
from temporal_dsql_config.models import RenderedSnippet, WorkerOptions
from temporal_dsql_core.profile import ConfigProfile

__all__ = ["PollerBehaviorSpec", "PythonSDKAdapter", "render_python", "worker_kwargs"]


class PollerBehaviorSpec(TypedDict, total=False):
    kind: Literal["simple_maximum", "autoscaling"]
    maximum: int
    minimum: int
    initial: int


WorkerKwarg = int | float | bool | PollerBehaviorSpec


def _behavior(maximum: int, *, autoscaling: bool, workflow: bool) -> PollerBehaviorSpec:
    if not autoscaling:
        return {"kind": "simple_maximum", "maximum": maximum}
    minimum, initial = autoscaling_pollers(maximum, workflow=workflow)
    return {"kind": "autoscaling", "minimum": minimum, "maximum": maximum, "initial": initial}


def worker_kwargs(options: WorkerOptions) -> dict[str, WorkerKwarg]:
    """Worker keyword -> value; ``*_timeout`` values are seconds (the module makes timedeltas)."""
    return {
        "max_concurrent_activities": options.max_concurrent_activities,
        "max_concurrent_workflow_tasks": options.max_concurrent_workflow_tasks,
        "max_concurrent_local_activities": options.max_concurrent_local_activities,
        "workflow_task_poller_behavior": _behavior(
            options.workflow_task_pollers, autoscaling=options.poller_autoscaling, workflow=True
        ),
        "activity_task_poller_behavior": _behavior(
            options.activity_task_pollers, autoscaling=options.poller_autoscaling, workflow=False
        ),
        "max_cached_workflows": options.max_cached_workflows,
        "sticky_queue_schedule_to_start_timeout": float(options.sticky_schedule_to_start_timeout_sec),
        "disable_eager_activity_execution": options.disable_eager_activities,
    }


def _python_expr(name: str, value: WorkerKwarg) -> str:
    if isinstance(value, dict):
        if value["kind"] == "autoscaling":
            return (
                f"PollerBehaviorAutoscaling(minimum={value['minimum']}, maximum={value['maximum']}, "
                f"initial={value['initial']})"
            )
        return f"PollerBehaviorSimpleMaximum(maximum={value['maximum']})"
    if name.endswith("_timeout"):
        return f"timedelta(seconds={value!r})"
    return repr(value)


def render_python(options: WorkerOptions, *, title: str) -> str:
    kwargs = worker_kwargs(options)
    kinds = {v["kind"] for v in kwargs.values() if isinstance(v, dict)}
    behaviours = sorted(
        {"autoscaling": "PollerBehaviorAutoscaling", "simple_maximum": "PollerBehaviorSimpleMaximum"}[k]
        for k in kinds
    )
    lines = "\n".join(f"    {name}={_python_expr(name, value)}," for name, value in kwargs.items())
    return (
        '"""Temporal worker options compiled by temporal-dsql-config. Generated: do not edit.\n'
        "\n"
        f"{title}\n"
        "\n"
        "Usage:\n"
        "\n"
        "    from temporalio.worker import Worker\n"
        "    worker = Worker(client, task_queue=..., workflows=[...], activities=[...], **WORKER_KWARGS)\n"
        '"""\n'
        "\n"
        "from datetime import timedelta\n"
        "\n"
        f"from temporalio.worker import {', '.join(behaviours)}\n"
        "\n"
        "WORKER_KWARGS = dict(\n"
        f"{lines}\n"
        ")\n"
    )


@dataclass
class PythonSDKAdapter:
    language: str = "python"
    name: str = "python"
    filename: str = "python/worker_options.py"

    def render(self, profile: ConfigProfile) -> RenderedSnippet:
        options = profile_artifacts(profile).worker_options
        return RenderedSnippet.model_construct(
            language=self.language, filename=self.filename,
            content=render_python(options, title=profile_title(profile)),
        )
