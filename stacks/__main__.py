"""The temporal-dsql stack program: one scale preset in, a deployed cluster out.

    pulumi up -c preset=mid-scale

Config (namespace `temporal-dsql`): preset (required), modifier, overrides (JSON object of
parameter -> value), environment (dev/staging/prod), capacity (fargate/ec2), copilot (bool),
profileApi (bool), profileApiAuth (AWS_IAM/token), grafanaOrigin, vpcId + privateSubnetIds +
vpcCidr (an existing VPC), opensearchEndpoint + opensearchDomainArn, ampWorkspaceId,
serverImage, uiImage, adminToolsImage, collectorImage, copilotWorkerImage, buildLambda (bool,
default true: build the profile API bundle with uv before deploying).
Config is read here, at the edge; the component never touches pulumi.Config.
"""

from __future__ import annotations

import pulumi

from pulumi_temporal_dsql.stack import build_stack

build_stack(pulumi.Config())
