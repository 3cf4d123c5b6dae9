"""The models the compiler builds without a validation pass (`construct_trusted`) are the models
validation builds from the same data: equal, with the same fields set, the same JSON."""

from __future__ import annotations

import itertools

import pytest

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_config.models import CompilationTrace
from temporal_dsql_core.profile import ConfigProfile

PRESETS = ("starter", "mid-scale", "high-throughput")
MODIFIERS = (None, "simple-crud", "orchestrator", "batch-processor", "long-running")


@pytest.mark.parametrize(("preset", "modifier"), list(itertools.product(PRESETS, MODIFIERS)))
def test_trusted_profile_and_trace_equal_their_validated_twins(preset: str, modifier: str | None) -> None:
    compiler = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    result = compiler.compile(preset, modifier, {"sdk.activity_task_pollers": 7})
    profile = result.profile
    twin = ConfigProfile.model_validate(profile.model_dump())
    assert profile == twin
    assert profile.model_dump_json() == twin.model_dump_json()
    for mine, theirs in zip(profile.all_params(), twin.all_params(), strict=True):
        assert mine.model_fields_set == theirs.model_fields_set
        assert type(mine.value) is type(theirs.value)
    assert profile.expected_bounds == twin.expected_bounds
    assert all(type(b.lower) is float and type(b.upper) is float for b in profile.expected_bounds)
    trace_twin = [CompilationTrace.model_validate(t.model_dump()) for t in result.trace]
    assert result.trace == trace_twin
    assert [t.model_fields_set for t in result.trace] == [t.model_fields_set for t in trace_twin]


def test_a_value_of_another_type_takes_the_validating_path() -> None:
    class Replicas(int):
        """An int subclass: validation turns it into a plain int, construct_trusted would not."""

    compiler = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    res = compiler.resolve("starter")
    key = next(k for k, v in res.values.items() if type(v) is int)
    res.values[key] = Replicas(res.values[key])
    param = compiler.profile_from(res).get_param(key)
    assert param is not None and type(param.value) is int
