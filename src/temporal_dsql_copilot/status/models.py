"""Response documents of the status API ("Grafana consumes, not computes")."""

from __future__ import annotations

from pydantic import BaseModel, Field

from temporal_dsql_copilot.assessment.models import DriftFinding, SuggestedAction
from temporal_dsql_copilot.health import ServiceHealth
from temporal_dsql_copilot.signals import LogPatternCount
from temporal_dsql_copilot.store import IssueRecord, TimelineEntry

__all__ = [
    "IssuesResponse",
    "RecommendedAction",
    "ServicesResponse",
    "StatusResponse",
    "SummaryResponse",
    "TimelineResponse",
]


class RecommendedAction(BaseModel):
    action: str
    confidence: float
    detail: SuggestedAction


class StatusResponse(BaseModel):
    health_state: str
    """happy | stressed | critical, or unknown when degraded / nothing observed yet."""
    degraded: bool = False
    detail: str | None = None
    band: str | None = None
    bottleneck: str | None = None
    observed_at: str | None = None
    assessed_at: str | None = None
    reason: str | None = None
    primary_signals: dict[str, float] = Field(default_factory=dict)
    amplifiers: dict[str, float] = Field(default_factory=dict)
    worker_signals: dict[str, float] = Field(default_factory=dict)
    log_patterns: list[LogPatternCount] = Field(default_factory=list)
    recommended_actions: list[RecommendedAction] = Field(default_factory=list)
    drift: list[DriftFinding] = Field(default_factory=list)
    issue_count: int = 0
    confidence: float | None = None
    summary: str | None = None


class ServicesResponse(BaseModel):
    health_state: str
    degraded: bool = False
    detail: str | None = None
    observed_at: str | None = None
    services: list[ServiceHealth] = Field(default_factory=list)


class IssuesResponse(BaseModel):
    degraded: bool = False
    detail: str | None = None
    issues: list[IssueRecord] = Field(default_factory=list)


class SummaryResponse(BaseModel):
    health_state: str
    degraded: bool = False
    detail: str | None = None
    summary: str
    assessed_at: str | None = None
    explained_by: str | None = None
    factors: list[str] = Field(default_factory=list)


class TimelineResponse(BaseModel):
    start: str
    end: str
    degraded: bool = False
    detail: str | None = None
    entries: list[TimelineEntry] = Field(default_factory=list)
