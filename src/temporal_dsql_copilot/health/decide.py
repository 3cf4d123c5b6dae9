"""One cycle's deterministic decision: state machine, then worker health, then per-service health.

The observe loop and ``copilot eval --scenario`` both call ``decide``, so a replayed scenario goes
through exactly the production pipeline (signals -> state machine -> worker check; the rules'
actions follow in ``temporal_dsql_copilot.assessment.rules``).
"""

from __future__ import annotations

from dataclasses import dataclass

from temporal_dsql_copilot.health.services import ServiceHealth, service_health
from temporal_dsql_copilot.health.state_machine import Evaluation, MachineConfig, MachineState, evaluate
from temporal_dsql_copilot.health.worker import WorkerAssessment, assess_workers
from temporal_dsql_copilot.signals import SignalSnapshot

__all__ = ["Decision", "decide"]


@dataclass(frozen=True, slots=True)
class Decision:
    evaluation: Evaluation
    workers: WorkerAssessment
    services: list[ServiceHealth]


def decide(previous: MachineState, snapshot: SignalSnapshot, config: MachineConfig) -> Decision:
    evaluation = evaluate(previous, snapshot, config)
    # Requirement 14.3: worker health after server health, told which rules fired (a Critical
    # caused by absent workers is worker-limited, not server-limited).
    workers = assess_workers(evaluation.state, snapshot, config.thresholds(evaluation.current.band), evaluation.gates)
    return Decision(evaluation, workers, service_health(evaluation, workers))
