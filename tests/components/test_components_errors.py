"""Config errors fail the program with the compiler's messages; bad component args are typed errors."""

from __future__ import annotations

import pytest

from pulumi_temporal_dsql.errors import ComponentInputError, ConfigCompileError
from pulumi_temporal_dsql.preview.plan import plan
from temporal_dsql_config import ConfigCompiler
from temporal_dsql_config.errors import GuardRailError, UnknownPresetError
from temporal_dsql_core.errors import InputError


def test_unknown_preset_fails_the_program_with_the_compilers_message() -> None:
    with pytest.raises(UnknownPresetError) as compiler_error:
        ConfigCompiler().compile("mid-scal")
    with pytest.raises(ConfigCompileError) as program_error:
        plan("mid-scal")
    assert compiler_error.value.message in str(program_error.value)
    assert program_error.value.field == "preset"
    assert program_error.value.allowed == ["starter", "mid-scale", "high-throughput"]
    assert "Did you mean 'mid-scale'?" in str(program_error.value)
    assert isinstance(program_error.value, InputError)


def test_guard_rail_errors_fail_with_every_message() -> None:
    overrides = {"history.shards": 1000, "dsql.token_duration": "30m"}
    with pytest.raises(GuardRailError) as compiler_error:
        ConfigCompiler().compile("mid-scale", overrides=overrides)
    with pytest.raises(ConfigCompileError) as program_error:
        plan("mid-scale", overrides=overrides)
    failing = compiler_error.value.errors
    assert len(failing) >= 2
    for result in failing:
        assert result.message in str(program_error.value)
        assert result.rule_name in str(program_error.value)
    assert len(program_error.value.messages) == len(failing)


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_invalid_component_arguments_are_typed_errors() -> None:
    with pytest.raises(ComponentInputError) as error:
        plan("starter", extra_config={"capacity": "lambda"})
    assert error.value.field == "capacity" and error.value.allowed == ["fargate", "ec2"]
    with pytest.raises(ComponentInputError) as error:
        plan("starter", extra_config={"environment": "qa"})
    assert error.value.field == "environment"
    with pytest.raises(ComponentInputError) as error:
        plan("starter", extra_config={"profileApiAuth": "basic"})
    assert error.value.field == "profile_api_auth" and "token" in error.value.allowed  # type: ignore[operator]
    with pytest.raises(ComponentInputError) as error:
        plan("starter", extra_config={"vpcId": "vpc-123"})
    assert error.value.field == "private_subnet_ids"
    with pytest.raises(ComponentInputError) as error:
        plan("starter", extra_config={"overrides": "[1, 2]"})
    assert error.value.field == "overrides"


def test_preset_is_required() -> None:
    import pulumi

    from pulumi_temporal_dsql.errors import ComponentInputError
    from pulumi_temporal_dsql.preview.plan import run_under_mocks
    from pulumi_temporal_dsql.stack import build_stack

    # The one stack-config reader (stack_config.read_stack_config): a typed error naming the key.
    with pytest.raises(ComponentInputError) as missing:
        run_under_mocks(lambda: build_stack(pulumi.Config()), config={})
    assert missing.value.field == "preset" and "temporal-dsql:preset" in str(missing.value)


def test_named_classes_refuse_another_preset() -> None:
    from pulumi_temporal_dsql.preset import Starter, StarterArgs

    with pytest.raises(ComponentInputError) as error:
        Starter("x", StarterArgs(preset="mid-scale"))
    assert error.value.allowed == ["starter"]
