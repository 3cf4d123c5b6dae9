"""What an assessment is: the decided state, the explanation, and actions structured for automation.

These models cross every boundary (Temporal payloads, the LLM's structured output, the state
store, the status API), so this module imports neither temporalio nor pydantic_ai.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from temporal_dsql_copilot.health import (
    Bottleneck,
    HealthState,
    ScaleBand,
    ServiceHealth,
    Transition,
    WorkerAdvice,
)
from temporal_dsql_copilot.signals import LogPatternCount, SignalSnapshot

__all__ = [
    "ActionType",
    "AssessmentTrigger",
    "ConfigCorrelation",
    "ContributingFactor",
    "DriftFinding",
    "Explanation",
    "HealthAssessment",
    "Issue",
    "RiskLevel",
    "SuggestedAction",
]

ParamValue = str | int | float | bool


class ActionType(StrEnum):
    SCALE = "scale"
    RESTART = "restart"
    CONFIGURE = "configure"
    ALERT = "alert"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AssessmentTrigger(StrEnum):
    STATE_CHANGE = "state_change"
    SCHEDULED = "scheduled"
    FORCED = "forced"
    LOG_PATTERN = "log_pattern"


class SuggestedAction(BaseModel):
    """A remediation a future RemediationWorkflow could execute (Requirement 10.2)."""

    model_config = ConfigDict(frozen=True)

    action_type: ActionType
    target_service: str
    description: str
    parameters: dict[str, ParamValue] = Field(default_factory=dict)
    """e.g. {"direction": "up", "delta": 2} for scale, {"key": ..., "value": ...} for configure."""
    risk: RiskLevel = RiskLevel.MEDIUM
    confidence: float = Field(ge=0.0, le=1.0)

    @property
    def is_scale_down(self) -> bool:
        return self.action_type is ActionType.SCALE and str(self.parameters.get("direction", "")).lower() == "down"


class ContributingFactor(BaseModel):
    model_config = ConfigDict(frozen=True)

    rank: int = Field(ge=1)
    title: str
    detail: str
    signals: list[str] = Field(default_factory=list)


class Issue(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Literal["warning", "critical"]
    title: str
    description: str
    service: str
    likely_cause: str | None = None
    suggested_actions: list[SuggestedAction] = Field(default_factory=list)
    related_signals: list[str] = Field(default_factory=list)


class DriftFinding(BaseModel):
    """A metric that deviates from the active baseline profile beyond its threshold (Req 15.2)."""

    model_config = ConfigDict(frozen=True)

    metric_id: str
    current: float
    baseline: float
    relative_change: float | None
    """(current - baseline) / |baseline|; None when the baseline is 0 (unbounded change)."""
    threshold: float
    regressed: bool
    """True when the change is in the metric's worse direction."""


class ConfigCorrelation(BaseModel):
    """A configuration change that coincides with telemetry regressions (Req 15.3)."""

    model_config = ConfigDict(frozen=True)

    config_key: str
    old_value: ParamValue | None
    new_value: ParamValue | None
    regressed_metrics: list[str]

    def sentence(self) -> str:
        return (f"Config change {self.config_key}: {self.old_value!r} -> {self.new_value!r} coincides with "
                f"regressions in {', '.join(self.regressed_metrics)}.")


class Explanation(BaseModel):
    """The explainer's structured output. It explains a decided state; it never sets one."""

    summary: str = Field(description="Two to four sentences on what is happening and why, for an operator.")
    factors: list[ContributingFactor] = Field(default_factory=list,
                                              description="Contributing factors, most important first (rank 1).")
    issues: list[Issue] = Field(default_factory=list)
    suggested_actions: list[SuggestedAction] = Field(default_factory=list)


class HealthAssessment(BaseModel):
    """One stored assessment. ``id`` is derived from (workflow id, sequence): retries are idempotent."""

    id: str
    workflow_id: str
    sequence: int
    assessed_at: str
    trigger: AssessmentTrigger
    health_state: HealthState
    band: ScaleBand
    bottleneck: Bottleneck
    reason: str
    transition: Transition | None = None
    signals: SignalSnapshot
    services: list[ServiceHealth] = Field(default_factory=list)
    log_patterns: list[LogPatternCount] = Field(default_factory=list)
    worker_advice: list[WorkerAdvice] = Field(default_factory=list)
    summary: str
    factors: list[ContributingFactor] = Field(default_factory=list)
    issues: list[Issue] = Field(default_factory=list)
    suggested_actions: list[SuggestedAction] = Field(default_factory=list)
    drift: list[DriftFinding] = Field(default_factory=list)
    config_correlations: list[ConfigCorrelation] = Field(default_factory=list)
    explained_by: Literal["llm", "rules"]
    explanation_error: str | None = None
    """Why the LLM explanation was not used, when it was not (Requirement 4.8)."""
