"""Shared types for temporal-dsql: parameter classification, resolved profiles, telemetry shapes.

Every other package imports from here; this package imports none of them.

The names below are imported on first use (PEP 562): importing ``temporal_dsql_core.errors`` (what
every error handler needs, the Lambda's cold path among them) does not build the other modules'
pydantic models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from temporal_dsql_core.errors import InputError, TemporalDsqlError
    from temporal_dsql_core.models import MetricAggregate, ServiceMetrics, TelemetryBound
    from temporal_dsql_core.profile import ConfigProfile
    from temporal_dsql_core.types import (
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
    from temporal_dsql_core.versions import VersionType

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

_MODULE_OF = {
    "InputError": "errors", "TemporalDsqlError": "errors",
    "MetricAggregate": "models", "ServiceMetrics": "models", "TelemetryBound": "models",
    "ConfigProfile": "profile", "VersionType": "versions",
    **{name: "types" for name in (
        "OutputTarget", "ParameterClassification", "ParameterConstraints", "ParameterEntry", "ParameterOverrides",
        "ParameterSource", "ParameterUnit", "ParameterValue", "ParameterValueType", "ResolvedParameter",
        "ServiceName")},
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
