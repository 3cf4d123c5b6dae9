"""The example consumer stack reads the temporal-dsql stack's outputs through a StackReference."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest

from pulumi_temporal_dsql.preview.mocks import RecordingMocks
from pulumi_temporal_dsql.preview.plan import Plan, run_under_mocks

CONSUMER = Path(__file__).parents[2] / "stacks" / "examples" / "consumer" / "__main__.py"


class ProducerOutputs(RecordingMocks):
    """Answers the StackReference with the outputs the producer's offline plan exported."""

    def __init__(self, stack_name: str, outputs: dict[str, Any]) -> None:
        super().__init__()
        self.stack_name = stack_name
        self.outputs = outputs
        self.asked: list[str] = []

    def stack_reference_outputs(self, stack_name: str) -> dict[str, Any]:
        self.asked.append(stack_name)
        return self.outputs if stack_name == self.stack_name else {}


def test_consumer_reads_producer_outputs(plans: dict[str, Plan]) -> None:
    producer = plans["mid-scale"].outputs
    mocks = ProducerOutputs("acme/temporal-dsql/plan", producer)
    recorded, exported = run_under_mocks(
        lambda: runpy.run_path(str(CONSUMER), run_name="__main__"),
        config={"temporal-dsql-consumer:temporalStack": "acme/temporal-dsql/plan", "aws:region": "us-east-1"},
        project="temporal-dsql-consumer",
        stack="dev",
        mocks=mocks,
    )
    assert mocks.asked == ["acme/temporal-dsql/plan"]
    assert exported["temporal_address"] == producer["frontend_address"]
    assert exported["temporal_namespace"] == producer["namespace"]
    assert exported["history_shards"] == producer["history_shards"]
    assert exported["worker_subnet_ids"] == producer["private_subnet_ids"]
    group = next(r for r in recorded if r.typ == "aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["vpcId"] == producer["vpc_id"]
    rule = next(r for r in recorded if r.typ == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["securityGroupId"] == producer["security_group_id"]
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (7233, 7233)
    parameter = next(r for r in recorded if r.typ == "aws:ssm/parameter:Parameter")
    assert json.loads(parameter.inputs["value"]) == {"address": producer["frontend_address"], "namespace": "default"}


def test_consumer_fails_when_an_output_is_missing(plans: dict[str, Plan]) -> None:
    partial = {k: v for k, v in plans["mid-scale"].outputs.items() if k != "frontend_address"}
    mocks = ProducerOutputs("acme/temporal-dsql/plan", partial)
    with pytest.raises(Exception, match="frontend_address"):
        run_under_mocks(
            lambda: runpy.run_path(str(CONSUMER), run_name="__main__"),
            config={"temporal-dsql-consumer:temporalStack": "acme/temporal-dsql/plan"},
            project="temporal-dsql-consumer",
            stack="dev",
            mocks=mocks,
        )
