"""The closed sets a preset's Args choose from, as `Literal` types a consumer's type checker checks.

`MidScaleArgs(capacity="fargat")` is a type error here, and a `ComponentInputError` naming the
allowed values at run time. tests/packaging keeps each Literal equal to the compiler's or the
component's own list, and the component provider exposes the same sets as schema enums.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "CAPACITY_CHOICES",
    "ENVIRONMENT_CHOICES",
    "MODIFIER_CHOICES",
    "PRESET_CHOICES",
    "PROFILE_API_AUTH_CHOICES",
    "CapacityMode",
    "Environment",
    "ModifierName",
    "PresetName",
    "ProfileApiAuth",
]

PresetName = Literal["starter", "mid-scale", "high-throughput"]
"""A scale preset of the config compiler (`temporal_dsql_config.presets`)."""
ModifierName = Literal["simple-crud", "orchestrator", "batch-processor", "long-running"]
"""A workload modifier of the config compiler (`temporal_dsql_config.modifiers`)."""
CapacityMode = Literal["fargate", "ec2"]
"""Where the tasks run: Fargate, or an Auto Scaling group of Graviton EC2 instances."""
Environment = Literal["dev", "staging", "prod"]
"""dev turns deletion protection off and lets buckets be destroyed."""
ProfileApiAuth = Literal["AWS_IAM", "token"]
"""The profile API's Function URL auth: SigV4 (AWS_IAM) or a bearer token in Secrets Manager."""

PRESET_CHOICES: tuple[str, ...] = get_args(PresetName)
MODIFIER_CHOICES: tuple[str, ...] = get_args(ModifierName)
CAPACITY_CHOICES: tuple[str, ...] = get_args(CapacityMode)
ENVIRONMENT_CHOICES: tuple[str, ...] = get_args(Environment)
PROFILE_API_AUTH_CHOICES: tuple[str, ...] = get_args(ProfileApiAuth)
