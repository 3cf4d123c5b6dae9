"""Replay a scenario through the production pipeline: state machine, worker check, rules' actions.

Each cycle goes through ``temporal_dsql_copilot.health.decide`` (what the observe loop runs) and the rule-based
explanation with its action guard (what an assessment falls back to without the LLM), so the
verdicts are the ones production would give for the same signals.
"""

from __future__ import annotations

from pydantic import BaseModel

from temporal_dsql_copilot.assessment.context import AssessmentContext
from temporal_dsql_copilot.assessment.finalize import guard_actions
from temporal_dsql_copilot.assessment.models import AssessmentTrigger, SuggestedAction
from temporal_dsql_copilot.assessment.rules import rule_based_explanation
from temporal_dsql_copilot.eval.scenario import ScenarioFile
from temporal_dsql_copilot.health import Decision, MachineConfig, MachineState, band_for_preset, decide
from temporal_dsql_copilot.signals import SignalSnapshot

__all__ = ["CycleAction", "CycleVerdict", "ReplayResult", "ReplayedCycle", "replay"]


class CycleAction(BaseModel):
    action_type: str
    target_service: str
    description: str

    @classmethod
    def of(cls, action: SuggestedAction) -> CycleAction:
        return cls(action_type=action.action_type.value, target_service=action.target_service,
                   description=action.description)


class CycleVerdict(BaseModel):
    """What ``copilot eval --scenario`` prints for one cycle."""

    cycle: int
    observed_at: str
    state: str
    band: str
    bottleneck: str
    reason: str
    actions: list[CycleAction]


class ReplayResult(BaseModel):
    cycles: list[CycleVerdict]


class ReplayedCycle:
    """One cycle with everything behind its verdict (the eval judges and explains from it)."""

    __slots__ = ("context", "decision", "snapshot", "verdict")

    def __init__(self, snapshot: SignalSnapshot, decision: Decision, context: AssessmentContext,
                 verdict: CycleVerdict) -> None:
        self.snapshot, self.decision, self.context, self.verdict = snapshot, decision, context, verdict


def replay(scenario: ScenarioFile, *, config: MachineConfig | None = None,
           snapshots: list[SignalSnapshot] | None = None) -> list[ReplayedCycle]:
    """Every cycle of the scenario (or of ``snapshots``, observed elsewhere), in order."""
    cfg = config or MachineConfig(interval_seconds=scenario.interval_seconds)
    state = MachineState(band=band_for_preset(scenario.preset))
    window: list[SignalSnapshot] = []
    out: list[ReplayedCycle] = []
    for i, snapshot in enumerate(snapshots if snapshots is not None else scenario.snapshots(), start=1):
        decision = decide(state, snapshot, cfg)
        state = decision.evaluation.current
        window = [*window, snapshot][-10:]
        ctx = AssessmentContext(trigger=AssessmentTrigger.SCHEDULED, evaluation=decision.evaluation,
                                workers=decision.workers, services=decision.services, snapshot=snapshot,
                                window=window)
        actions = guard_actions(rule_based_explanation(ctx).suggested_actions, ctx)
        verdict = CycleVerdict(cycle=i, observed_at=snapshot.observed_at, state=decision.evaluation.state.value,
                               band=decision.evaluation.current.band.preset_name,
                               bottleneck=decision.workers.bottleneck.value, reason=decision.evaluation.reason,
                               actions=[CycleAction.of(a) for a in actions])
        out.append(ReplayedCycle(snapshot, decision, ctx, verdict))
    return out
