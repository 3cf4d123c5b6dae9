"""Shared types for temporal-dsql: parameter classification, resolved profiles, telemetry shapes.

Every other package imports from here; this package imports none of them.
"""

from copilot_core.errors import InputError, TemporalDsqlError
from copilot_core.models import MetricAggregate, ServiceMetrics, TelemetryBound
from copilot_core.profile import ConfigProfile
from copilot_core.types import (
    OutputTarget,
    ParameterClassification,
    ParameterConstraints,
    ParameterEntry,
    ParameterOverrides,
    ParameterSource,
    ParameterUnit,
    ParameterValue,
    ParameterValueType,
    ResolvedParameter,
    ServiceName,
)
from copilot_core.versions import VersionType

__all__ = [
    "ConfigProfile",
    "InputError",
    "MetricAggregate",
    "OutputTarget",
    "ParameterClassification",
    "ParameterConstraints",
    "ParameterEntry",
    "ParameterOverrides",
    "ParameterSource",
    "ParameterUnit",
    "ParameterValue",
    "ParameterValueType",
    "ResolvedParameter",
    "ServiceMetrics",
    "ServiceName",
    "TelemetryBound",
    "TemporalDsqlError",
    "VersionType",
]
