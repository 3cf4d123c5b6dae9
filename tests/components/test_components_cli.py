"""`temporal-dsql plan` and `build-lambda` through the Typer app."""

from __future__ import annotations

import json
import logging

import pytest
from typer.testing import CliRunner

from pulumi_temporal_dsql.cli import app

runner = CliRunner()


def test_plan_json_lists_every_resource_with_type_name_parent_inputs() -> None:
    result = runner.invoke(app, ["plan", "starter", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["preset"] == "starter"
    resources = document["resources"]
    assert len(resources) > 50
    for resource in resources:
        assert set(resource) >= {"type", "name", "parent", "inputs"}
    assert any(r["type"] == "aws:ecs/taskDefinition:TaskDefinition" for r in resources)
    assert document["outputs"]["preset"] == "starter"


def test_plan_tree_prints_the_hierarchy_and_outputs() -> None:
    result = runner.invoke(app, ["plan", "mid-scale", "--override", "history.replicas=4"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("stack temporal-dsql/plan  preset=mid-scale")
    history = next(line for line in lines if "temporal-plan-history-service" in line)
    assert history.endswith("desiredCount=4") and history.startswith("      + aws:ecs/service:Service")
    assert "outputs:" in lines
    assert any(line.strip().startswith("frontend_address:") for line in lines)


def test_plan_reports_config_errors_with_exit_code_2() -> None:
    result = runner.invoke(app, ["plan", "mid-scal"])
    assert result.exit_code == 2
    assert "Did you mean 'mid-scale'?" in result.output


def test_plan_warns_when_the_unpublished_project_images_are_left_at_their_defaults(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server and copilot images are built from docker/ by the user: keeping the bare default
    names is flagged (with the Dockerfile and the config key), a pushed image is not."""
    from pulumi_temporal_dsql.plan import plan

    with caplog.at_level(logging.WARNING):
        plan("starter", extra_config={"copilot": "true"})
    warned = [r.getMessage() for r in caplog.records if "unpublished default" in r.getMessage()]
    assert any("docker/runtime/Dockerfile" in m and "`serverImage`" in m for m in warned), warned
    assert any("docker/copilot/Dockerfile" in m and "`copilotWorkerImage`" in m for m in warned), warned
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        plan("starter", extra_config={"serverImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/temporal-dsql-runtime:1"})
    assert not [r for r in caplog.records if "unpublished default" in r.getMessage()]
