"""Amazon Managed Prometheus (a new workspace, or an existing one by id) and the metrics
collector sidecar that scrapes Temporal's :9090 and remote-writes to it with SigV4.

The collector is the AWS Distro for OpenTelemetry image; its whole configuration travels in
the `AOT_CONFIG_CONTENT` variable, so no config file or parameter store entry is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml

__all__ = ["CLUSTER_LABEL", "MetricsWorkspace", "MetricsWorkspaceArgs", "collector_config", "collector_container"]


CLUSTER_LABEL = "cluster"
"""The label naming the cluster on every series the collector sends: the dashboards' Cluster
selector and the alert rules' grouping read it (temporal_dsql_core.alert_rules.CLUSTER_LABEL)."""


def collector_config(remote_write_url: str, region: str, service: str, scrape_port: int,
                     cluster: str | None = None) -> str:
    # A static label of the scrape target is added to every series scraped from it.
    labels = {"service": service, **({CLUSTER_LABEL: cluster} if cluster else {})}
    config = {
        "extensions": {"sigv4auth": {"region": region, "service": "aps"}},
        "receivers": {
            "prometheus": {
                "config": {
                    "global": {"scrape_interval": "15s", "scrape_timeout": "10s"},
                    "scrape_configs": [
                        {
                            "job_name": f"temporal-{service}",
                            "static_configs": [{"targets": [f"localhost:{scrape_port}"], "labels": labels}],
                        }
                    ],
                }
            }
        },
        "processors": {"batch": {}, "resourcedetection/ecs": {"detectors": ["env", "ecs"]}},
        "exporters": {
            "prometheusremotewrite": {"endpoint": remote_write_url, "auth": {"authenticator": "sigv4auth"}}
        },
        "service": {
            "extensions": ["sigv4auth"],
            "pipelines": {
                "metrics": {
                    "receivers": ["prometheus"],
                    "processors": ["resourcedetection/ecs", "batch"],
                    "exporters": ["prometheusremotewrite"],
                }
            },
        },
    }
    return yaml.safe_dump(config, sort_keys=True)


def collector_container(
    *, image: str, remote_write_url: str, region: str, service: str, scrape_port: int, log_group: str,
    cpu: int = 128, memory_mib: int = 256, cluster: str | None = None,
) -> dict[str, Any]:
    """The sidecar's container definition: non-essential, so a collector crash never stops Temporal."""
    return {
        "name": "metrics-collector",
        "image": image,
        "essential": False,
        "cpu": cpu,
        "memoryReservation": memory_mib,
        "environment": [{"name": "AOT_CONFIG_CONTENT", "value": collector_config(remote_write_url, region, service, scrape_port, cluster)}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": "collector"},
        },
    }


@dataclass(kw_only=True)
class MetricsWorkspaceArgs:
    existing_workspace_id: str | None = None
    """Use this AMP workspace instead of creating one."""
    alert_rules: str | None = None
    """A Prometheus rules file (``temporal_dsql_core.alert_rules.rules_yaml``) to deploy into the
    workspace, created or given, as a rule groups namespace."""
    tags: Mapping[str, str] = field(default_factory=dict)


class MetricsWorkspace(pulumi.ComponentResource):
    workspace_id: pulumi.Output[str]
    arn: pulumi.Output[str]
    prometheus_endpoint: pulumi.Output[str]
    remote_write_url: pulumi.Output[str]
    query_url: pulumi.Output[str]
    workspace: aws.amp.Workspace | None
    rules: aws.amp.RuleGroupNamespace | None

    def __init__(self, name: str, args: MetricsWorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:observability:MetricsWorkspace", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        account = aws.get_caller_identity_output(opts=invoke).account_id
        if args.existing_workspace_id:
            self.workspace = None
            self.workspace_id = pulumi.Output.from_input(args.existing_workspace_id)
            self.arn = pulumi.Output.concat("arn:aws:aps:", region, ":", account, ":workspace/", self.workspace_id)
            self.prometheus_endpoint = pulumi.Output.concat(
                "https://aps-workspaces.", region, ".amazonaws.com/workspaces/", self.workspace_id, "/"
            )
        else:
            self.workspace = aws.amp.Workspace(
                f"{name}-workspace", alias=name, tags=dict(args.tags), opts=pulumi.ResourceOptions(parent=self)
            )
            self.workspace_id = self.workspace.id
            self.arn = self.workspace.arn
            self.prometheus_endpoint = self.workspace.prometheus_endpoint
        base = self.prometheus_endpoint.apply(lambda url: url.rstrip("/"))
        self.remote_write_url = base.apply(lambda url: f"{url}/api/v1/remote_write")
        self.query_url = base
        self.rules = None
        if args.alert_rules is not None:
            self.rules = aws.amp.RuleGroupNamespace(
                f"{name}-rules", name=f"{name}-health", workspace_id=self.workspace_id, data=args.alert_rules,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {"workspace_id": self.workspace_id, "arn": self.arn, "query_url": self.query_url}
        )
