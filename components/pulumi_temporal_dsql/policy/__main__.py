"""The temporal-dsql policy pack: `pulumi preview --policy-pack components/pulumi_temporal_dsql/policy`."""

from pulumi_policy import PolicyPack

from pulumi_temporal_dsql.policies import POLICIES

PolicyPack(name="temporal-dsql", policies=POLICIES)
