"""The health alert rules reach AMP: the stack deploys the rules file of its compiled configuration as
a rule groups namespace in its workspace (created or given), and the collector labels every series
with the cluster the rules group by."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from components_helpers import PRESETS, container_env, containers, one

from pulumi_temporal_dsql.preview.mocks import RecordingMocks
from pulumi_temporal_dsql.preview.plan import Plan, plan

ROOT = Path(__file__).resolve().parents[2]
RULES = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"
WORKSPACE = "aws:amp/workspace:Workspace"


class IdRecordingMocks(RecordingMocks):
    """The plan's mocks, remembering the id the engine hands each resource."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[tuple[str, str], str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        self.ids[(args.typ, args.name)] = resource_id
        return resource_id, state


@pytest.mark.parametrize("preset", PRESETS)
def test_the_stack_deploys_the_presets_rules_file_into_the_workspace_it_creates(preset: str) -> None:
    mocks = IdRecordingMocks()
    plan_ = plan(preset, mocks=mocks)
    namespace = one(plan_, RULES, "temporal-plan-metrics-rules").inputs
    assert namespace["data"] == (ROOT / "grafana" / "alerts" / f"temporal-dsql-rules-{preset}.yaml").read_text()
    assert namespace["workspaceId"] == mocks.ids[(WORKSPACE, "temporal-plan-metrics-workspace")]
    assert namespace["name"] == "temporal-plan-metrics-health"
    assert yaml.safe_load(namespace["data"])["groups"][0]["rules"]


def test_a_given_workspace_gets_the_rules_too(plan_for: Callable[..., Plan]) -> None:
    plan_ = plan_for("mid-scale", ampWorkspaceId="ws-0123456789abcdef")
    assert not [r for r in plan_.resources if r.type == WORKSPACE]
    namespace = one(plan_, RULES, "temporal-plan-metrics-rules").inputs
    assert namespace["workspaceId"] == "ws-0123456789abcdef"
    assert namespace["data"] == (ROOT / "grafana" / "alerts" / "temporal-dsql-rules-mid-scale.yaml").read_text()


def test_the_collector_labels_every_series_with_the_ecs_cluster(plans: dict[str, Plan]) -> None:
    plan_ = plans["mid-scale"]
    (cluster,) = [r for r in plan_.resources if r.type == "aws:ecs/cluster:Cluster" and r.name == "temporal-plan-cluster"]
    tasks = [r for r in plan_.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"
             and any(c["name"] == "metrics-collector" for c in containers(r))]
    assert tasks
    for task in tasks:
        (collector,) = [c for c in containers(task) if c["name"] == "metrics-collector"]
        config = yaml.safe_load(container_env(collector)["AOT_CONFIG_CONTENT"])
        scrape = config["receivers"]["prometheus"]["config"]["scrape_configs"]
        if task.name.startswith("temporal-plan-copilot"):
            continue  # the copilot's own metrics are not the monitored cluster's
        assert [s["static_configs"][0]["labels"]["cluster"] for s in scrape] == [cluster.inputs["name"]], task.name
