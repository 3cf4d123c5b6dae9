"""Preflight in the components (issue 18): one reader of the stack config (Pulumi's typed-config
rules), a diff that follows the provider's replacement semantics, plans without absolute paths,
the shard count pinned where it deploys, and the compiler's Fargate/EC2 rules in the stack."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi
import pytest
from components_helpers import cached_plan
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pulumi_temporal_dsql.cli import app
from pulumi_temporal_dsql.preview.diff import StackInputs, resource_changes, stack_diff
from pulumi_temporal_dsql.preview.plan import Plan, PlannedResource, plan, portable_path
from pulumi_temporal_dsql.stack_config import pulumi_bool, read_stack_config
from temporal_dsql_core.errors import InputError

runner = CliRunner()
TASK = "aws:ecs/taskDefinition:TaskDefinition"
PIN = "aws:ssm/parameter:Parameter"


def _pulumi_get_bool(value: str) -> bool | str:
    """What Pulumi's own Config.get_bool makes of a value (the real SDK, its runtime config)."""
    pulumi.runtime.set_all_config({"temporal-dsql:flag": value})
    try:
        return bool(pulumi.Config("temporal-dsql").get_bool("flag"))
    except pulumi.ConfigTypeError:
        return "error"
    finally:
        pulumi.runtime.set_all_config({})


# Property: one reader of the stack config - its booleans are Pulumi's Config.get_bool, value for value.
@settings(max_examples=150, deadline=None)
@given(value=st.one_of(st.sampled_from(["true", "True", "TRUE", "false", "False", "yes", "no", "1", "0", "on", ""]),
                       st.text(max_size=6)))
def test_property_one_reader_booleans_are_pulumis_get_bool(value: str) -> None:
    try:
        ours: bool | str = bool(pulumi_bool("flag", value))
    except InputError as error:
        assert error.field == "flag" and "temporal-dsql:flag" in str(error)
        ours = "error"
    assert ours == _pulumi_get_bool(value)


def test_issue_example_copilot_yes_is_an_error_for_diff_plan_and_the_stack_program(tmp_path: Path) -> None:
    config = tmp_path / "Pulumi.prod.yaml"
    config.write_text('config:\n  temporal-dsql:preset: starter\n  temporal-dsql:copilot: "yes"\n')
    diff = runner.invoke(app, ["diff", "--stack-config", str(config), "--to-no-copilot"])
    assert diff.exit_code == 2 and "temporal-dsql:copilot" in diff.output and "true" in diff.output
    planned = runner.invoke(app, ["plan", "--stack-config", str(config)])
    assert planned.exit_code == 2 and "temporal-dsql:copilot" in planned.output
    with pytest.raises(InputError) as info:  # the stack program itself, through the same reader
        plan("starter", extra_config={"copilot": "yes"})
    assert info.value.field == "copilot" and "temporal-dsql:copilot" in str(info.value)
    # A YAML boolean is what Pulumi stores as "true": read as on by all three.
    assert read_stack_config({"preset": "starter", "copilot": "true"}.get).copilot is True


def test_stack_config_files_must_be_utf8(tmp_path: Path) -> None:
    config = tmp_path / "Pulumi.prod.yaml"
    config.write_bytes(b"\xef\xbb\xbfconfig:\n  temporal-dsql:preset: starter\n")
    res = runner.invoke(app, ["diff", "--stack-config", str(config), "--to-preset", "mid-scale"])
    assert res.exit_code == 2 and "byte-order mark" in res.output
    config.write_bytes(b"config:\n  temporal-dsql:preset: caf\xe9\n")
    res = runner.invoke(app, ["plan", "--stack-config", str(config)])
    assert res.exit_code == 2 and "not UTF-8" in res.output


def _task(urn: str, **inputs: object) -> PlannedResource:
    return PlannedResource(type=TASK, name="t", urn=urn, parent=None, inputs=dict(inputs))


def test_diff_follows_the_providers_replacement_semantics() -> None:
    urn = "urn:pulumi:plan::temporal-dsql::aws:ecs/taskDefinition:TaskDefinition::t"
    old = Plan("starter", "plan", [_task(urn, cpu="512", tags={"team": "a"})], {})
    tags_only = Plan("starter", "plan", [_task(urn, cpu="512", tags={"team": "b"})], {})
    (change,) = resource_changes(old, tags_only)
    assert change.action == "update" and change.replaced_by == []
    assert (change.values[0].name, change.values[0].old, change.values[0].new) == ("tags", '{"team":"a"}', '{"team":"b"}')
    resized = Plan("starter", "plan", [_task(urn, cpu="1024", tags={"team": "b"})], {})
    (change,) = resource_changes(old, resized)
    assert change.action == "replace" and change.replaced_by == ["cpu"]
    assert {v.name: (v.old, v.new) for v in change.values}["cpu"] == ('"512"', '"1024"')


@pytest.fixture(scope="module")
def mid_to_high_pinned() -> object:
    return stack_diff(StackInputs("mid-scale"), StackInputs("high-throughput"))


def test_diff_text_names_properties_and_values_and_fits_the_terminal(mid_to_high_pinned: object) -> None:
    for width in (80, 60):
        text = mid_to_high_pinned.to_text(width=width)  # type: ignore[attr-defined]
        assert max(len(line) for line in text.splitlines()) <= width
    text = mid_to_high_pinned.to_text(width=100)  # type: ignore[attr-defined]
    assert re.search(r"replaced because .*cpu.* changed", text)
    assert re.search(r"! cpu: \"\d+\" -> \"\d+\"", text)
    # The shard pin: a protected replacement `pulumi up` refuses, and exit code 3 (refused).
    assert "REFUSED replacing the protected aws:ssm/parameter:Parameter" in text
    assert mid_to_high_pinned.exit_code == 3  # type: ignore[attr-defined]


def test_shard_count_is_pinned_by_a_protected_parameter_replaced_on_change() -> None:
    planned = cached_plan("mid-scale")
    (pin,) = [r for r in planned.resources if r.type == PIN and r.name.endswith("history-shards")]
    assert pin.protect and pin.replace_on_changes == ("value",)
    assert pin.inputs["value"] == str(planned.outputs["history_shards"])
    assert '"protect": true' in planned.to_json()


def test_plan_json_has_no_absolute_paths() -> None:
    text = cached_plan("starter").to_json()
    assert str(Path.cwd()) not in text
    assert not re.search(r'"/(?:work|home|root|tmp|Users)/', text)
    # Relative to the program's directory (the working directory Pulumi runs it in).
    assert portable_path(str(Path.cwd() / "build" / "x.zip")) == "build/x.zip"
    assert portable_path("/elsewhere/x.zip") == "<outside the project>/x.zip"


def test_cli_override_errors() -> None:
    dropped = runner.invoke(app, ["diff", "starter", "--drop-override", "history.replicas"])
    assert dropped.exit_code == 2 and "--drop-override" in dropped.output
    twice = runner.invoke(app, ["diff", "starter", "--to-override", "history.replicas=2",
                                "--to-override", "history.replicas=3"])
    assert twice.exit_code == 2 and "twice" in twice.output


def test_ec2_capacity_must_fit_the_instance_type() -> None:
    with pytest.raises(InputError) as info:
        plan("high-throughput", extra_config={"capacity": "ec2", "ec2InstanceType": "m7g.medium"})
    assert "ec2_task_fits_instance" in str(info.value)
    with pytest.raises(InputError):
        plan("starter", extra_config={"vpcCidr": "10.0.0.0/8"})


def test_names_the_stack_derives_follow_aws_rules() -> None:
    """The stack name becomes bucket, role and log group names: S3 refuses upper case, IAM more than
    64 characters (botocore's iam roleNameType), so both fail at plan time, naming the field."""
    with pytest.raises(InputError) as upper:
        plan("starter", stack="Prod")
    assert "S3 bucket name" in str(upper.value) and upper.value.field == "name"
    with pytest.raises(InputError) as long:
        plan("starter", stack="a" * 40)
    assert "IAM role name" in str(long.value)


def test_the_stack_region_is_one_botocore_knows() -> None:
    with pytest.raises(InputError) as info:
        plan("starter", extra_config={"aws:region": "us-east-7"})
    assert info.value.field == "aws:region"
