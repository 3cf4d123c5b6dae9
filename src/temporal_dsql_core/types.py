"""Parameter classification and the registry's entry types (design: copilot_core/types.py)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Bool before int on purpose: pydantic's smart union keeps `True` a bool and `1` an int.
ParameterValue = bool | int | float | str

ParameterSource = Literal["preset", "modifier", "override", "derived", "default"]


class ParameterClassification(StrEnum):
    SLO = "slo"
    TOPOLOGY = "topology"
    SAFETY = "safety"
    TUNING = "tuning"


class ParameterValueType(StrEnum):
    INT = "int"
    FLOAT = "float"
    STR = "str"
    DURATION = "duration"
    BOOL = "bool"


class ParameterUnit(StrEnum):
    PER_SEC = "per_sec"
    MILLISECONDS = "ms"
    SECONDS = "s"
    MINUTES = "m"
    CONNECTIONS = "connections"
    COUNT = "count"
    PERCENT = "percent"
    BYTES = "bytes"


class OutputTarget(StrEnum):
    DYNAMIC_CONFIG = "dynamic_config"
    ENV_VARS = "env_vars"
    WORKER_OPTIONS = "worker_options"
    DSQL_PLUGIN = "dsql_plugin"


class ServiceName(StrEnum):
    """The Temporal server roles a deployment runs, one ECS service / process each."""

    HISTORY = "history"
    MATCHING = "matching"
    FRONTEND = "frontend"
    WORKER = "worker"


class ParameterConstraints(BaseModel):
    model_config = ConfigDict(frozen=True)

    min_value: float | None = None
    max_value: float | None = None
    allowed_values: list[ParameterValue] | None = None


class ParameterEntry(BaseModel):
    """One knob: what it is, why it has its value and where it is emitted."""

    model_config = ConfigDict(frozen=True)

    key: str
    classification: ParameterClassification
    description: str
    rationale: str
    default_value: ParameterValue
    value_type: ParameterValueType
    unit: ParameterUnit | None = None
    constraints: ParameterConstraints | None = None
    output_targets: list[OutputTarget]
    # The real external names: the env var the plugin or entrypoint reads, the Temporal
    # dynamic-config key, or the SDK worker option. Empty for pure compiler inputs (SLOs).
    env_vars: list[str] = Field(default_factory=list)
    dynamic_config_key: str | None = None
    worker_option: str | None = None
    services: list[ServiceName] | None = None  # None: every service


class ResolvedParameter(BaseModel):
    key: str
    value: ParameterValue
    classification: ParameterClassification
    source: ParameterSource


class ParameterOverrides(BaseModel):
    values: dict[str, ParameterValue] = Field(default_factory=dict)
