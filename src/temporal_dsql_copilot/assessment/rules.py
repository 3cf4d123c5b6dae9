"""The rule-based explanation: used when Bedrock is unavailable or disabled (Requirement 4.8).

Factors are the gates that fired, ranked by severity and by how far past their threshold the
signal is; actions come from a fixed table per gate plus the worker rules.
"""

from __future__ import annotations

from temporal_dsql_copilot.assessment.context import AssessmentContext
from temporal_dsql_copilot.assessment.models import (
    ActionType,
    ContributingFactor,
    Explanation,
    Issue,
    RiskLevel,
    SuggestedAction,
)
from temporal_dsql_copilot.health import Bottleneck, GateResult, GateSeverity, HealthState, WorkerRule

__all__ = ["GATE_ACTIONS", "rule_based_explanation"]

# gate -> (action type, target service, description, parameters, risk). A "key" names a registry
# parameter (dsql_config), so recommend-config and explain can act on it; a test holds them to that.
GATE_ACTIONS: dict[str, tuple[ActionType, str, str, dict[str, str | int | float | bool], RiskLevel]] = {
    "workers_absent": (ActionType.SCALE, "worker", "Restore the workers: no worker polls the task queue "
                       "(check recent deploys, crashes, credentials and the task queue name).",
                       {"direction": "up"}, RiskLevel.LOW),
    "progress_stopped": (ActionType.ALERT, "history", "Page on-call: workflows are not progressing while work "
                         "arrives or waits.", {}, RiskLevel.LOW),
    "progress_below_demand": (ActionType.ALERT, "history", "Page on-call: progress fell far below what the "
                              "present demand needs.", {}, RiskLevel.LOW),
    "backlog_unserved": (ActionType.ALERT, "matching", "Check the task queue's workers and partitions: its "
                         "oldest task is not being served.", {}, RiskLevel.LOW),
    "backlog_age_exceeded": (ActionType.SCALE, "history", "Scale out history to drain the backlog.",
                             {"direction": "up", "delta": 2}, RiskLevel.MEDIUM),
    "completions_collapsed": (ActionType.ALERT, "worker", "Investigate failing workflows: most finished "
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
    "workers_saturated": (ActionType.SCALE, "worker", "Add workers or executor slots.",
                          {"direction": "up", "delta": 2}, RiskLevel.LOW),
    "poll_timeouts": (ActionType.ALERT, "matching", "Polls come back empty while tasks wait: check the task "
                      "queue's partition count and that workers poll the queue the work is sent to.",
                      {}, RiskLevel.LOW),
}

# Actions must fit the diagnosis (issue 23): which gates' actions a diagnosis rules out.
_CAPACITY_GATES = frozenset({"backlog_age_exceeded", "backlog_growing", "frontend_slow", "persistence_slow",
                             "pool_saturated", "occ_contention", "poll_timeouts"})
"""Actions that tune or add server capacity: no help while no worker takes work (R14.2)."""
_POOL_GATES = frozenset({"persistence_slow", "pool_saturated"})
"""A bigger pool does not help when DSQL calls fail (an outage): connectivity comes first."""
_STOPPED_GATES = frozenset({"progress_stopped", "progress_below_demand", "backlog_unserved", "workers_absent"})


def _fits(gate: GateResult, fired: set[str], ctx: AssessmentContext) -> bool:
    """Does this gate's action fit what the rules diagnosed?"""
    worker_caused = ctx.evaluation.worker_caused or ctx.workers.bottleneck is Bottleneck.WORKER_LIMITED
    if worker_caused and gate.gate in _CAPACITY_GATES:
        return False  # the workers are the bottleneck: server capacity changes nothing (R14.2)
    if "persistence_errors" in fired and gate.gate in _POOL_GATES:
        return False  # DSQL is failing calls: restore connectivity before resizing the pool (R1.4)
    if fired & _STOPPED_GATES and gate.gate in ("frontend_slow", "poll_timeouts"):
        return False  # progress stopped: frontend latency and empty polls are symptoms, not the cause (R12.1)
    if fired & _STOPPED_GATES - {"progress_below_demand"} and gate.gate in ("backlog_growing", "backlog_age_exceeded"):
        return False  # nothing moves: more history hosts do not drain a backlog nobody serves (R12.1)
    return not (gate.gate == "progress_stopped" and "workers_absent" in fired)  # one page, naming the workers


_WORKER_ACTIONS: dict[WorkerRule, SuggestedAction] = {
    WorkerRule.RESTORE_WORKERS: SuggestedAction(
        action_type=ActionType.SCALE, target_service="worker",
        description="Restore the workers: no worker polls the task queue.",
        parameters={"direction": "up"}, risk=RiskLevel.LOW, confidence=0.8),
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
    if g.gate in ("progress_stopped", "progress_below_demand", "completions_collapsed", "workers_absent"):
        return 10.0 if g.value <= 0 else g.limit / g.value
    if g.gate in ("backlog_unserved",):
        return 3.0
    return g.value / g.limit if g.limit > 0 else 10.0


def _ranked(gates: list[GateResult]) -> list[GateResult]:
    return sorted(gates, key=lambda g: (g.severity is not GateSeverity.CRITICAL, -_overshoot(g), g.gate))


def _confidence(g: GateResult) -> float:
    return round(min(0.95, 0.4 + 0.15 * min(_overshoot(g), 3.0)), 2)


def _plain(gate: str) -> str:
    return _TITLES.get(gate, gate.replace("_", " "))


_TITLES = {
    "workers_absent": "workers gone", "progress_stopped": "progress stopped",
    "progress_below_demand": "progress below demand", "backlog_unserved": "task queue not served",
    "backlog_age_exceeded": "backlog too old", "completions_collapsed": "most workflows fail",
    "backlog_growing": "backlog growing", "persistence_slow": "DSQL persistence slow",
    "occ_contention": "write contention (OCC conflicts)", "persistence_errors": "DSQL calls failing",
    "pool_saturated": "DSQL pool saturated", "shard_churn": "shards moving between hosts",
    "frontend_slow": "frontend slow", "poll_timeouts": "polls empty while tasks wait",
    "workers_saturated": "workers cannot keep up",
}
assert set(_TITLES) == set(GATE_ACTIONS)

_BOTTLENECK_WORDS = {"server_limited": "the server (it cannot keep up)",
                     "worker_limited": "the workers (they cannot keep up or are gone)",
                     "mixed": "both the server and the workers"}


def rule_based_explanation(ctx: AssessmentContext) -> Explanation:
    ev = ctx.evaluation
    gates = _ranked(ev.gates)
    factors = [ContributingFactor(rank=i, title=_plain(g.gate), detail=g.describe(), signals=[g.signal])
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
            detail=f"{c.count} times on {c.service} within {c.distance_seconds:.0f} s of {c.anomaly}"))
    for pattern in sorted(ctx.log_patterns, key=lambda p: -p.count)[:3]:
        if (pattern.pattern, pattern.service) in seen:
            continue
        rank += 1
        factors.append(ContributingFactor(rank=rank, title=f"log pattern: {pattern.pattern}",
                                          detail=f"{pattern.count} occurrences on {pattern.service}"))
    fired = {g.gate for g in gates}
    actions: list[SuggestedAction] = []
    issues: list[Issue] = []
    for g in gates:
        kind, service, text, params, risk = GATE_ACTIONS[g.gate]
        action = SuggestedAction(action_type=kind, target_service=service, description=text, parameters=params,
                                 risk=risk, confidence=_confidence(g))
        fits = _fits(g, fired, ctx)
        if fits:
            actions.append(action)
        critical = g.severity is GateSeverity.CRITICAL and ev.state is HealthState.CRITICAL
        issues.append(Issue(severity="critical" if critical else "warning", title=_plain(g.gate),
                            description=g.describe(), service=g.service, suggested_actions=[action] if fits else [],
                            related_signals=[g.signal]))
    actions += [_WORKER_ACTIONS[a.rule] for a in ctx.workers.advice if a.rule in _WORKER_ACTIONS
                and not (a.rule is WorkerRule.RESTORE_WORKERS and "workers_absent" in fired)]

    # The reason already says what the rules saw; the summary adds only what it does not say.
    summary = f"{ev.state.value.capitalize()}. {ev.reason}"
    if ctx.workers.evaluated and ctx.workers.bottleneck.value in _BOTTLENECK_WORDS:
        summary += f" The bottleneck is {_BOTTLENECK_WORDS[ctx.workers.bottleneck.value]}."
    elif not ctx.workers.evaluated:
        summary += f" The bottleneck is {_BOTTLENECK_WORDS['server_limited']}."
    if ctx.drift:
        regressed = [d.metric_id for d in ctx.drift if d.regressed]
        if regressed:
            summary += f" Drift from the baseline in {', '.join(regressed)}."
    return Explanation(summary=summary, factors=factors, issues=issues, suggested_actions=actions)
