"""Errors the copilot raises on purpose.

Input errors subclass ``temporal_dsql_core.errors.InputError`` (field, allowed values, suggestion) so the
status API renders them as RFC 7807 problem details and the CLI prints how to fix the input.
Runtime failures subclass :class:`CopilotError`.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporal_dsql_core.errors import InputError, TemporalDsqlError

__all__ = [
    "CopilotError",
    "CopilotInputError",
    "LogSourceError",
    "MetricsQueryError",
    "StoreUnavailableError",
    "UnknownPresetError",
    "UnknownThresholdError",
]


class CopilotError(TemporalDsqlError):
    """A runtime failure inside the copilot (a data source or the store)."""


class CopilotInputError(InputError):
    """Bad input to the copilot."""


class UnknownThresholdError(CopilotInputError):
    def __init__(self, name: str, *, allowed: Sequence[str]) -> None:
        super().__init__(
            f"Unknown health threshold {name!r}.", field="thresholds", allowed=allowed,
            suggestion="Threshold names are the fields of temporal_dsql_copilot.health.BandThresholds.",
        )


class UnknownPresetError(CopilotInputError):
    def __init__(self, name: str, *, allowed: Sequence[str]) -> None:
        super().__init__(
            f"Unknown scale preset {name!r}.", field="preset_name", allowed=allowed,
            suggestion="Use the preset the cluster was compiled with (`temporal-dsql-config list-presets`).",
        )


class MetricsQueryError(CopilotError):
    """AMP/Prometheus could not answer a query."""


class LogSourceError(CopilotError):
    """The log source (CloudWatch Logs or Loki) could not answer a query."""


class StoreUnavailableError(CopilotError):
    """The state store could not be reached or kept failing after retries."""
