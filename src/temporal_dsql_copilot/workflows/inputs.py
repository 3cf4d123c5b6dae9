"""One pydantic input per workflow and activity (fields can be added without breaking histories)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from temporal_dsql_copilot.assessment.models import AssessmentTrigger
from temporal_dsql_copilot.health import (
    Evaluation,
    HealthState,
    MachineConfig,
    MachineState,
    ScaleBand,
    WorkerAssessment,
)
from temporal_dsql_copilot.loop.baseline import DriftInput, DriftReport
from temporal_dsql_copilot.narrative.patterns import Correlation
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.signals import LogPatternCount, SignalSnapshot

__all__ = [
    "AssessInput",
    "DriftInput",
    "DriftReport",
    "FetchLogsInput",
    "FetchSignalsInput",
    "LogScan",
    "ObserveConfig",
    "ObserveInput",
    "ObserveStatus",
    "PruneInput",
    "RecentAssessmentInput",
    "RequestAssessmentInput",
    "RetrieveKnowledgeInput",
    "SetThresholdsInput",
]


class ObserveConfig(BaseModel):
    """The runtime configuration of the observe loop; thresholds can change by update."""

    cluster_id: str
    namespace: str | None = None
    interval_seconds: float = 30.0
    window_size: int = 10
    continue_as_new_after_cycles: int = 200
    dedupe_window_seconds: float = 240.0
    assessment_timeout_seconds: float = 30.0
    model_id: str | None = None
    """Bedrock model id (or a registered test model name); None: rule-based explanations only."""
    use_logs: bool = False
    use_knowledge: bool = False
    log_lookback_seconds: int = 300
    knowledge_top_k: int = 5
    machine: MachineConfig = Field(default_factory=MachineConfig)
    replay_offset_seconds: float = Field(default=0.0, ge=0.0)
    """Observe the cluster as it was this long ago (replaying a past incident; 0 = live)."""

    @classmethod
    def from_settings(cls, settings: CopilotSettings) -> ObserveConfig:
        return cls(
            cluster_id=settings.cluster_id, namespace=settings.monitored_namespace,
            interval_seconds=settings.observe_interval_seconds, window_size=settings.signal_window_size,
            continue_as_new_after_cycles=settings.continue_as_new_after_cycles,
            dedupe_window_seconds=settings.dedupe_window_seconds,
            assessment_timeout_seconds=settings.assessment_timeout_seconds,
            model_id=settings.bedrock_model_id if settings.bedrock_enabled else None,
            use_logs=settings.log_source != "none", use_knowledge=True,
            log_lookback_seconds=settings.log_lookback_seconds, knowledge_top_k=settings.kb_top_k,
            machine=MachineConfig(critical_debounce=settings.critical_debounce_evaluations,
                                  recovery_factor=settings.recovery_factor,
                                  band_hysteresis=settings.scale_band_hysteresis,
                                  interval_seconds=settings.observe_interval_seconds),
        )


class ObserveInput(BaseModel):
    """Everything ObserveClusterWorkflow carries across continue-as-new."""

    config: ObserveConfig
    machine: MachineState = Field(default_factory=MachineState)
    window: list[SignalSnapshot] = Field(default_factory=list)
    cycle: int = 0
    sequence: int = 0
    paused: bool = False
    last_assessment_at: str | None = None
    pending_trigger: AssessmentTrigger | None = None
    max_cycles: int | None = None
    """Stop after this many cycles in total (tests and one-shot runs); None runs forever."""


class ObserveStatus(BaseModel):
    state: HealthState
    band: ScaleBand
    consecutive_critical: int
    cycle: int
    sequence: int
    paused: bool
    window_size: int
    last_reason: str | None
    last_assessment_at: str | None
    threshold_overrides: dict[str, float]
    run_cycles: int
    """Cycles in the current run (reset by continue-as-new)."""
    cycling: bool = False
    """A cycle is in flight (a pause takes effect when it ends)."""


class SetThresholdsInput(BaseModel):
    overrides: dict[str, float]
    replace: bool = False
    """True replaces all overrides; False merges into the current ones."""


class RequestAssessmentInput(BaseModel):
    trigger: AssessmentTrigger = AssessmentTrigger.FORCED


class FetchSignalsInput(BaseModel):
    at: str
    namespace: str | None = None


class FetchLogsInput(BaseModel):
    end: str
    lookback_seconds: int = 60
    anomalies: list[tuple[str, str]] = Field(default_factory=list)
    """(ISO instant, description) of metric anomalies to correlate log patterns with (Req 2.5)."""


class LogScan(BaseModel):
    patterns: list[LogPatternCount] = Field(default_factory=list)
    samples: list[str] = Field(default_factory=list)
    correlations: list[Correlation] = Field(default_factory=list)
    error: str | None = None
    """Set when the log source failed; analysis continues metric-only (Requirement 2.6)."""


class RetrieveKnowledgeInput(BaseModel):
    query: str
    top_k: int = 5


class RecentAssessmentInput(BaseModel):
    since: str


class PruneInput(BaseModel):
    retention_days: int = 7


class AssessInput(BaseModel):
    trigger: AssessmentTrigger
    workflow_id: str
    """The observe workflow's id: with ``sequence`` it derives the assessment id."""
    sequence: int
    cluster_id: str
    namespace: str | None = None
    evaluation: Evaluation
    workers: WorkerAssessment
    snapshot: SignalSnapshot
    window: list[SignalSnapshot] = Field(default_factory=list)
    model_id: str | None = None
    use_logs: bool = False
    use_knowledge: bool = False
    log_lookback_seconds: int = 300
    knowledge_top_k: int = 5
    timeout_seconds: float = 30.0
