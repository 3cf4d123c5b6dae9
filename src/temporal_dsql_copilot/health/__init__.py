"""Deterministic health rules: the state machine, scale bands, worker health, per-service health.

Pure code with no I/O, no clock and no LLM: rules decide, AI explains.
"""

from temporal_dsql_copilot.health.decide import Decision, decide
from temporal_dsql_copilot.health.services import SERVICES, ServiceHealth, service_health
from temporal_dsql_copilot.health.state_machine import (
    CRITICAL_GATE_CLAUSES,
    STRESSED_GATE_CLAUSES,
    Evaluation,
    GateResult,
    GateSeverity,
    HealthState,
    MachineConfig,
    MachineState,
    Progress,
    Transition,
    evaluate,
)
from temporal_dsql_copilot.health.thresholds import (
    THRESHOLD_PROFILES,
    BandThresholds,
    ScaleBand,
    band_for_preset,
    band_for_profile,
    next_band,
    thresholds_for,
)
from temporal_dsql_copilot.health.worker import (
    WORKER_RULE_CLAUSES,
    Bottleneck,
    WorkerAdvice,
    WorkerAssessment,
    WorkerRule,
    assess_workers,
)

__all__ = [
    "CRITICAL_GATE_CLAUSES",
    "SERVICES",
    "STRESSED_GATE_CLAUSES",
    "THRESHOLD_PROFILES",
    "WORKER_RULE_CLAUSES",
    "BandThresholds",
    "Bottleneck",
    "Decision",
    "Evaluation",
    "GateResult",
    "GateSeverity",
    "HealthState",
    "MachineConfig",
    "MachineState",
    "Progress",
    "ScaleBand",
    "ServiceHealth",
    "Transition",
    "WorkerAdvice",
    "WorkerAssessment",
    "WorkerRule",
    "assess_workers",
    "band_for_preset",
    "band_for_profile",
    "decide",
    "evaluate",
    "next_band",
    "service_health",
    "thresholds_for",
]
