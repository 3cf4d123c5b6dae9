"""Python SDK adapter: the kwargs bind to temporalio.worker.Worker and the module builds them."""

from __future__ import annotations

import inspect

import pytest
from adapter_combos import COMBOS, PY_FILE, load_worker_kwargs, snippet
from temporalio.worker import PollerBehaviorAutoscaling, PollerBehaviorSimpleMaximum, Worker
from whenever import TimeDelta

from temporal_dsql_config.adapters.python_sdk import PythonSDKAdapter, worker_kwargs


def as_objects(kwargs: dict[str, object]) -> dict[str, object]:
    """The JSON-able form turned into what Worker takes (what the rendered module does)."""
    out: dict[str, object] = {}
    for name, value in kwargs.items():
        if isinstance(value, dict):
            spec = dict(value)
            kind = spec.pop("kind")
            out[name] = PollerBehaviorAutoscaling(**spec) if kind == "autoscaling" else PollerBehaviorSimpleMaximum(**spec)
        elif name.endswith("_timeout"):
            assert isinstance(value, float)
            out[name] = TimeDelta(seconds=value).to_stdlib()
        else:
            out[name] = value
    return out


def test_kwargs_bind_to_the_worker_signature(compiled) -> None:
    signature = inspect.signature(Worker)
    for combo in COMBOS:
        kwargs = worker_kwargs(compiled[combo].worker_options)
        bound = signature.bind(object(), task_queue="q", **as_objects(kwargs))
        assert set(kwargs) <= set(bound.arguments)
        for name, value in as_objects(kwargs).items():
            annotation = signature.parameters[name].annotation
            assert type(value).__name__ in str(annotation) or (
                "PollerBehavior" in str(annotation) and "PollerBehavior" in type(value).__name__
            ), (name, annotation, value)


def test_a_renamed_argument_fails_binding(compiled) -> None:
    kwargs = as_objects(worker_kwargs(compiled[COMBOS[0]].worker_options))
    kwargs["max_concurrent_activity"] = kwargs.pop("max_concurrent_activities")
    with pytest.raises(TypeError):
        inspect.signature(Worker).bind(object(), task_queue="q", **kwargs)


def test_rendered_module_builds_the_same_kwargs(compiled) -> None:
    for combo in COMBOS:
        result = compiled[combo]
        from_module = load_worker_kwargs(snippet(result, PY_FILE))
        assert from_module == as_objects(worker_kwargs(result.worker_options))
        options = result.worker_options
        assert from_module["max_concurrent_activities"] == options.max_concurrent_activities
        assert from_module["max_concurrent_workflow_tasks"] == options.max_concurrent_workflow_tasks
        assert from_module["max_concurrent_local_activities"] == options.max_concurrent_local_activities
        assert from_module["max_cached_workflows"] == options.max_cached_workflows
        assert from_module["disable_eager_activity_execution"] == options.disable_eager_activities
        assert from_module["sticky_queue_schedule_to_start_timeout"] == TimeDelta(
            seconds=options.sticky_schedule_to_start_timeout_sec).to_stdlib()
        behaviour = from_module["workflow_task_poller_behavior"]
        if options.poller_autoscaling:
            assert isinstance(behaviour, PollerBehaviorAutoscaling)
            assert behaviour.maximum == options.workflow_task_pollers
        else:
            assert behaviour == PollerBehaviorSimpleMaximum(maximum=options.workflow_task_pollers)


def test_adapter_renders_through_the_protocol(compiled) -> None:
    result = compiled[COMBOS[-1]]
    rendered = PythonSDKAdapter().render(result.profile)
    assert rendered.filename == PY_FILE and rendered.language == "python"
    assert rendered.content == snippet(result, PY_FILE)
