"""The rule-based explanation: used when Bedrock is unavailable or disabled (Requirement 4.8).

Factors are the gates that fired, ranked by severity and by how far past their threshold the
signal is; actions come from a fixed table per gate plus the worker rules.
"""

from __future__ import annotations

from copilot.assessment.context import AssessmentContext
from copilot.assessment.models import (
    ActionType,
    ContributingFactor,
    Explanation,
    Issue,
    RiskLevel,
    SuggestedAction,
)
from copilot.health import GateResult, GateSeverity, HealthState, WorkerRule

__all__ = ["GATE_ACTIONS", "rule_based_explanation"]

# gate -> (action type, target service, description, parameters, risk). A "key" names a registry
# parameter (dsql_config), so recommend-config and explain can act on it; a test holds them to that.
GATE_ACTIONS: dict[str, tuple[ActionType, str, str, dict[str, str | int | float | bool], RiskLevel]] = {
    "no_progress_with_backlog": (ActionType.ALERT, "history", "Page on-call: workflows are not progressing "
                                 "while work is waiting.", {}, RiskLevel.LOW),
    "history_processing_stalled": (ActionType.RESTART, "history", "Restart stalled history tasks one at a "
                                   "time after checking shard ownership.", {"strategy": "rolling"}, RiskLevel.HIGH),
    "backlog_age_exceeded": (ActionType.SCALE, "history", "Scale out history to drain the backlog.",
                             {"direction": "up", "delta": 2}, RiskLevel.MEDIUM),
    "completions_collapsed": (ActionType.ALERT, "worker", "Investigate failing workflows: most terminal "
                              "workflows fail.", {}, RiskLevel.LOW),
    "backlog_growing": (ActionType.SCALE, "history", "Scale out history before the backlog turns critical.",
                        {"direction": "up", "delta": 1}, RiskLevel.MEDIUM),
    "persistence_slow": (ActionType.CONFIGURE, "persistence", "Raise the DSQL connection pool and reservoir "
                         "target so calls stop queueing for connections.",
                         {"key": "dsql.pool_size", "direction": "up"}, RiskLevel.MEDIUM),
    "occ_contention": (ActionType.CONFIGURE, "history", "Reduce write contention: spread hot workflows or lower "
                       "the history persistence rate so conflicting retries stop compounding.",
                       {"key": "history.persistenceMaxQPS", "direction": "down"}, RiskLevel.MEDIUM),
    "persistence_errors": (ActionType.ALERT, "persistence", "Check DSQL connectivity, auth token refresh and "
                           "rate limits.", {}, RiskLevel.LOW),
    "pool_saturated": (ActionType.CONFIGURE, "persistence", "Raise the DSQL pool size (max open connections).",
                       {"key": "dsql.pool_size", "direction": "up"}, RiskLevel.MEDIUM),
    "shard_churn": (ActionType.ALERT, "history", "Investigate membership changes: shards are moving between "
                    "hosts.", {}, RiskLevel.LOW),
    "frontend_slow": (ActionType.SCALE, "frontend", "Scale out frontend.", {"direction": "up", "delta": 1},
                      RiskLevel.LOW),
    "poll_timeouts": (ActionType.CONFIGURE, "worker", "Reduce idle pollers: most polls time out empty.",
                      {"key": "MaxConcurrentWorkflowTaskPollers", "direction": "down"}, RiskLevel.LOW),
}

_WORKER_ACTIONS: dict[WorkerRule, SuggestedAction] = {
    WorkerRule.SCALE_UP_WORKERS: SuggestedAction(
        action_type=ActionType.SCALE, target_service="worker", description="Add workers or executor slots.",
        parameters={"direction": "up", "delta": 2}, risk=RiskLevel.LOW, confidence=0.7),
    WorkerRule.RESTART_TO_REDISTRIBUTE: SuggestedAction(
        action_type=ActionType.RESTART, target_service="worker",
        description="Restart 25% of workers to redistribute sticky workflows.",
        parameters={"percent": 25}, risk=RiskLevel.MEDIUM, confidence=0.5),
    WorkerRule.POLLER_EXECUTOR_MISMATCH: SuggestedAction(
        action_type=ActionType.CONFIGURE, target_service="worker",
        description="Align workflow-task pollers with executor slots.",
        parameters={"key": "MaxConcurrentWorkflowTaskPollers"}, risk=RiskLevel.LOW, confidence=0.5),
}


def _overshoot(g: GateResult) -> float:
    if g.gate in ("no_progress_with_backlog", "history_processing_stalled", "completions_collapsed"):
        return 10.0 if g.value <= 0 else g.limit / g.value
    return g.value / g.limit if g.limit > 0 else 10.0


def _ranked(gates: list[GateResult]) -> list[GateResult]:
    return sorted(gates, key=lambda g: (g.severity is not GateSeverity.CRITICAL, -_overshoot(g), g.gate))


def _confidence(g: GateResult) -> float:
    return round(min(0.95, 0.4 + 0.15 * min(_overshoot(g), 3.0)), 2)


def rule_based_explanation(ctx: AssessmentContext) -> Explanation:
    ev = ctx.evaluation
    gates = _ranked(ev.gates)
    factors = [ContributingFactor(rank=i, title=g.gate.replace("_", " "), detail=g.describe(), signals=[g.signal])
               for i, g in enumerate(gates, start=1)]
    rank = len(factors)
    seen: set[tuple[str, str]] = set()
    for c in ctx.log_correlations:
        if (c.pattern, c.service) in seen or len(seen) >= 3:
            continue
        seen.add((c.pattern, c.service))
        rank += 1
        factors.append(ContributingFactor(
            rank=rank, title=f"log pattern near the anomaly: {c.pattern}",
            detail=f"{c.count}x on {c.service} within {c.distance_seconds:.0f}s of {c.anomaly}"))
    for pattern in sorted(ctx.log_patterns, key=lambda p: -p.count)[:3]:
        if (pattern.pattern, pattern.service) in seen:
            continue
        rank += 1
        factors.append(ContributingFactor(rank=rank, title=f"log pattern: {pattern.pattern}",
                                          detail=f"{pattern.count} occurrences on {pattern.service}"))
    actions: list[SuggestedAction] = []
    issues: list[Issue] = []
    for g in gates:
        kind, service, text, params, risk = GATE_ACTIONS[g.gate]
        action = SuggestedAction(action_type=kind, target_service=service, description=text, parameters=params,
                                 risk=risk, confidence=_confidence(g))
        actions.append(action)
        critical = g.severity is GateSeverity.CRITICAL and ev.state is HealthState.CRITICAL
        issues.append(Issue(severity="critical" if critical else "warning", title=g.gate.replace("_", " "),
                            description=g.describe(), service=g.service, suggested_actions=[action],
                            related_signals=[g.signal]))
    actions += [_WORKER_ACTIONS[a.rule] for a in ctx.workers.advice if a.rule in _WORKER_ACTIONS]

    if ev.state is HealthState.HAPPY:
        summary = f"The cluster is making healthy forward progress ({ev.reason})."
    else:
        top = gates[0].describe() if gates else ev.reason
        summary = f"The cluster is {ev.state.value}: {ev.reason}. Most significant: {top}."
    if ctx.workers.evaluated and ctx.workers.bottleneck.value != "healthy":
        summary += f" Bottleneck: {ctx.workers.bottleneck.value.replace('_', ' ')}."
    if ctx.drift:
        regressed = [d.metric_id for d in ctx.drift if d.regressed]
        if regressed:
            summary += f" Drift from baseline in {', '.join(regressed)}."
    return Explanation(summary=summary, factors=factors, issues=issues, suggested_actions=actions)
