"""Per-service health derived from the same evaluation as the overall state.

A service is as unhealthy as the worst gate that implicates it, but never worse than the overall
state: while Critical is still being debounced, a critical gate shows as Stressed everywhere, so
/status and /status/services can never disagree.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from temporal_dsql_copilot.health.state_machine import Evaluation, GateSeverity, HealthState
from temporal_dsql_copilot.health.worker import Bottleneck, WorkerAssessment

__all__ = ["SERVICES", "ServiceHealth", "service_health"]

SERVICES = ("frontend", "history", "matching", "persistence", "worker")


class ServiceHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    state: HealthState
    reasons: list[str]


def service_health(evaluation: Evaluation, workers: WorkerAssessment | None = None) -> list[ServiceHealth]:
    overall = evaluation.state
    out = []
    for service in SERVICES:
        gates = [g for g in evaluation.gates if g.service == service]
        state = HealthState.HAPPY
        if any(g.severity is GateSeverity.CRITICAL for g in gates):
            state = HealthState.CRITICAL
        elif gates:
            state = HealthState.STRESSED
        reasons = [g.describe() for g in gates]
        if service == "worker" and workers is not None and workers.bottleneck in (Bottleneck.WORKER_LIMITED,
                                                                                   Bottleneck.MIXED):
            state = HealthState.STRESSED
            reasons += workers.worker_pressure
        if state.severity > overall.severity:
            state = overall
        out.append(ServiceHealth(service=service, state=state, reasons=reasons))
    return out
