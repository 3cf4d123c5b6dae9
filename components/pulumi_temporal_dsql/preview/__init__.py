"""Previews of a deployment before it exists: the offline plan, the change diff and the cost.

The modules beside this package declare resources; the ones in it only look at what a program
would declare (under Pulumi's mocks) and price it. Nothing here touches the network except
`prices refresh`, which asks the AWS Price List API on purpose.
"""

__all__: list[str] = []
