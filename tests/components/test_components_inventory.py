"""Resource inventory per preset: stable names (URN snapshots), parentage, outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from components_helpers import PRESETS

from pulumi_temporal_dsql.preview.plan import Plan
from pulumi_temporal_dsql.stack import OUTPUT_NAMES

SNAPSHOTS = Path(__file__).parent / "snapshots"
# One type token for every preset class: changing class never changes the children's URNs.
PRESET_TYPE = "temporal-dsql:index:TemporalDsqlPreset"


@pytest.mark.parametrize("preset", PRESETS)
def test_urns_match_the_committed_snapshot(plans: dict[str, Plan], preset: str) -> None:
    snapshot = SNAPSHOTS / f"{preset}.urns.txt"
    current = "\n".join(plans[preset].urns()) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(current)
    assert snapshot.read_text() == current, (
        f"URNs of {preset} changed: renamed or re-parented resources are REPLACED on existing stacks. "
        "Add aliases, or regenerate with UPDATE_SNAPSHOTS=1 if the change is intended."
    )


@pytest.mark.parametrize("preset", PRESETS)
def test_every_child_is_parented_to_its_component(plans: dict[str, Plan], preset: str) -> None:
    resources = plans[preset].resources
    by_urn = {r.urn: r for r in resources}
    top = [r for r in resources if r.parent not in by_urn]
    assert [(r.type, r.name) for r in top] == [(PRESET_TYPE, "temporal-plan")]
    root = top[0].urn
    for resource in resources:
        chain, current = [], resource
        while current.urn != root:
            assert current.parent in by_urn, f"{current.urn} has no recorded parent"
            current = by_urn[current.parent]
            chain.append(current.type)
        # Children sit under a component of ours (or under the resource they belong to).
        if resource.urn != root:
            parent = by_urn[resource.parent]  # type: ignore[index]
            assert parent.type.startswith("temporal-dsql:") or parent.type.startswith("aws:"), resource.urn
        # Child names carry the component's name, so two presets in one stack cannot collide.
        assert resource.name.startswith("temporal-plan"), resource.name


def test_names_are_stable_across_runs(plans: dict[str, Plan], plan_for) -> None:  # type: ignore[no-untyped-def]
    from pulumi_temporal_dsql.preview.plan import plan

    again = plan("mid-scale")
    assert again.urns() == plans["mid-scale"].urns()
    assert plan_for("mid-scale").urns() == plans["mid-scale"].urns()


@pytest.mark.parametrize("preset", PRESETS)
def test_stack_outputs(plans: dict[str, Plan], preset: str) -> None:
    outputs = plans[preset].outputs
    assert set(outputs) == set(OUTPUT_NAMES)
    assert outputs["preset"] == preset
    assert outputs["namespace"] == "default"
    assert outputs["frontend_address"].endswith(".elb.us-east-1.amazonaws.com:7233")
    identifier = outputs["dsql_cluster_arn"].rsplit("/", 1)[1]
    assert outputs["dsql_endpoint"] == f"{identifier}.dsql.us-east-1.on.aws"
    assert outputs["profile_api_url"].startswith("https://")
    assert outputs["amp_query_url"].startswith("https://aps-workspaces.us-east-1.amazonaws.com/workspaces/")
    assert isinstance(outputs["history_shards"], int | float) and outputs["history_shards"] > 0
    import json

    profile = json.loads(outputs["profile_json"])
    assert profile["preset_name"] == preset


def test_inventory_has_every_part(plans: dict[str, Plan]) -> None:
    types = {r.type for r in plans["mid-scale"].resources}
    for required in (
        "aws:ecs/cluster:Cluster",
        "aws:servicediscovery/httpNamespace:HttpNamespace",
        "aws:dsql/cluster:Cluster",
        "aws:opensearch/domain:Domain",
        "aws:amp/workspace:Workspace",
        "aws:s3/bucket:Bucket",
        "aws:lambda/function:Function",
        "aws:lambda/functionUrl:FunctionUrl",
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:lambda/invocation:Invocation",
        "aws:ec2/vpc:Vpc",
    ):
        assert required in types, required
    services = {r.inputs["name"] for r in plans["mid-scale"].by_type("aws:ecs/service:Service")}
    assert services == {f"temporal-plan-{role}" for role in ("history", "matching", "frontend", "worker", "ui")}


def test_knowledge_base_ids_are_stack_outputs_for_kb_sync(plans: dict[str, Plan], plan_for) -> None:  # type: ignore[no-untyped-def]
    """`copilot kb sync --bucket B --kb-id K --ds-id D` needs the copilot's knowledge base ids: they
    are stack outputs (None without the copilot) and the same values the worker is given."""
    import json

    from components_helpers import container_env, containers, one

    assert {plans["starter"].outputs[k] for k in ("kb_id", "kb_data_source_id", "kb_bucket")} == {None}
    plan_ = plan_for("mid-scale", copilot="true")
    outputs = plan_.outputs
    worker = container_env(containers(one(plan_, "aws:ecs/taskDefinition:TaskDefinition",
                                          "temporal-plan-copilot-worker-task"))[0])
    assert outputs["kb_id"] and outputs["kb_id"] == worker["COPILOT_KB_ID"]
    assert outputs["kb_data_source_id"] and outputs["kb_data_source_id"] == worker["COPILOT_KB_DATA_SOURCE_ID"]
    assert outputs["kb_bucket"] and outputs["kb_bucket"] == worker["COPILOT_KB_BUCKET"]
    one(plan_, "aws:s3/bucket:Bucket", "temporal-plan-copilot-kb-source")  # the knowledge base's own bucket
    # The copilot's own DSQL cluster: an output, the one its worker stores state in, not the monitored one.
    assert {plans["starter"].outputs[k] for k in ("copilot_dsql_endpoint", "copilot_dsql_cluster_arn")} == {None}
    assert outputs["copilot_dsql_endpoint"] == worker["COPILOT_DSQL_ENDPOINT"] != outputs["dsql_endpoint"]
    assert outputs["copilot_dsql_cluster_arn"] and outputs["copilot_dsql_cluster_arn"] != outputs["dsql_cluster_arn"]
    json.dumps(outputs)  # plain values, as `pulumi stack output --json` prints them
