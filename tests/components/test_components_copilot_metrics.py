"""The copilot worker's own metrics leave the task: its /metrics port, a collector sidecar that
scrapes it and remote-writes to the monitored workspace, and RemoteWrite on that workspace only."""

from __future__ import annotations

import json
from collections.abc import Callable

import yaml
from components_helpers import container_env, containers, one

from pulumi_temporal_dsql.copilot import COPILOT_METRICS_PORT
from pulumi_temporal_dsql.preview.plan import Plan
from temporal_dsql_copilot.settings import CopilotSettings

TASK = "aws:ecs/taskDefinition:TaskDefinition"
ROLE = "aws:iam/role:Role"


def test_copilot_worker_exports_its_metrics_to_the_workspace(plan_for: Callable[..., Plan]) -> None:
    plan_ = plan_for("mid-scale", copilot="true")
    by_name = {c["name"]: c for c in containers(one(plan_, TASK, "temporal-plan-copilot-worker-task"))}
    assert set(by_name) == {"copilot-worker", "metrics-collector"}
    worker = by_name["copilot-worker"]
    env = container_env(worker)
    # The worker listens where its settings say, on the port the collector scrapes.
    bind = CopilotSettings.model_validate({"metrics_bind_address": env["COPILOT_METRICS_BIND_ADDRESS"]})
    assert bind.metrics_bind_address is not None and bind.metrics_bind_address.endswith(f":{COPILOT_METRICS_PORT}")
    assert [m["containerPort"] for m in worker["portMappings"]] == [COPILOT_METRICS_PORT]
    collector = by_name["metrics-collector"]
    assert collector["essential"] is False  # a collector crash never stops the copilot
    config = yaml.safe_load(container_env(collector)["AOT_CONFIG_CONTENT"])
    scrape = json.dumps(config["receivers"])
    assert f"localhost:{COPILOT_METRICS_PORT}" in scrape or f"127.0.0.1:{COPILOT_METRICS_PORT}" in scrape
    workspace_arn = one(plan_, "aws:amp/workspace:Workspace", "temporal-plan-metrics-workspace")
    remote_write = config["exporters"]["prometheusremotewrite"]["endpoint"]
    assert remote_write.endswith("api/v1/remote_write")
    policy = json.loads(one(plan_, ROLE, "temporal-plan-copilot-worker-task").inputs["inlinePolicies"][0]["policy"])
    export = next(s for s in policy["Statement"] if s["Sid"] == "ExportOwnMetrics")
    assert export["Action"] == ["aps:RemoteWrite"] and len(export["Resource"]) == 1
    assert export["Resource"][0].startswith("arn:aws:aps:") and workspace_arn is not None
    # The containers fit the worker task (the sizes test covers every task; this one is new).
    task = one(plan_, TASK, "temporal-plan-copilot-worker-task").inputs
    assert sum(int(c.get("cpu", 0)) for c in by_name.values()) <= int(task["cpu"])
