"""A consumer of a temporal-dsql stack: workers elsewhere read the cluster's address from it.

    cd stacks/examples/consumer && pulumi up -c temporalStack=<org>/temporal-dsql/dev

It reads the outputs through a StackReference, typed by `TemporalDsqlOutputs` (the contract
`pulumi_temporal_dsql.outputs.StackOutputs`: `require_output` for every always-present output,
so a producing stack that lacks one fails loudly), and stores the worker connection settings
in SSM, where the application's workers read them; the workers' security group is allowed into
the cluster's.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql.outputs import TemporalDsqlOutputs

config = pulumi.Config()
temporal = TemporalDsqlOutputs(pulumi.StackReference(config.require("temporalStack")))

frontend = temporal.frontend_address
namespace = temporal.namespace
shards = temporal.history_shards

# The application's workers run in the cluster's VPC and subnets, in a group the cluster's admits.
workers = aws.ec2.SecurityGroup(
    "temporal-workers",
    vpc_id=temporal.vpc_id,
    description="Temporal workers of this application",
    egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"])],
)
aws.vpc.SecurityGroupIngressRule(
    "temporal-workers-to-frontend",
    security_group_id=temporal.security_group_id,
    referenced_security_group_id=workers.id,
    ip_protocol="tcp",
    from_port=7233,
    to_port=7233,
    description="Workers reach the Temporal frontend",
)

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
pulumi.export("worker_subnet_ids", temporal.private_subnet_ids)
pulumi.export("worker_security_group_id", workers.id)
