"""A temporal-dsql stack: one scale preset in, Temporal on ECS with Aurora DSQL persistence out.

    pulumi config set temporal-dsql:preset mid-scale
    pulumi up

Every setting is stack config in the `temporal-dsql` namespace (README, "Stack config keys"), so
this program stays three lines whatever the project is called; the outputs are the consumer
contract (README, "Outputs").
"""

import pulumi

from pulumi_temporal_dsql.stack import build_stack

build_stack(pulumi.Config("temporal-dsql"))
