"""A consumer of a temporal-dsql stack: workers elsewhere read the cluster's address from it.

    cd stacks/examples/consumer && pulumi up -c temporalStack=<org>/temporal-dsql/dev

It reads the outputs through a StackReference (`require_output` fails loudly when the
producing stack lacks one) and stores the worker connection settings in SSM, where the
application's workers read them.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
temporal = pulumi.StackReference(config.require("temporalStack"))

frontend = temporal.require_output("frontend_address")
namespace = temporal.require_output("namespace")
shards = temporal.require_output("history_shards")

connection = aws.ssm.Parameter(
    "temporal-connection",
    type="String",
    description="Where this application's Temporal workers connect (from the temporal-dsql stack).",
    value=pulumi.Output.all(frontend, namespace).apply(
        lambda v: json.dumps({"address": v[0], "namespace": v[1]}, sort_keys=True)
    ),
)

pulumi.export("temporal_address", frontend)
pulumi.export("temporal_namespace", namespace)
pulumi.export("history_shards", shards)
pulumi.export("connection_parameter", connection.name)
