"""The explainer's input (the state is already decided) and the deterministic prompt built from it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from temporal_dsql_copilot.assessment.models import AssessmentTrigger, ConfigCorrelation, DriftFinding
from temporal_dsql_copilot.assessment.redaction import redact
from temporal_dsql_copilot.health import Evaluation, ServiceHealth, WorkerAssessment
from temporal_dsql_copilot.knowledge.base import KnowledgeChunk
from temporal_dsql_copilot.narrative.patterns import Correlation
from temporal_dsql_copilot.signals import LogPatternCount, SignalSnapshot

__all__ = ["SYSTEM_PROMPT", "AssessmentContext", "build_prompt", "knowledge_query"]

SYSTEM_PROMPT = """\
You are the SRE copilot for a Temporal cluster persisted on Aurora DSQL.
Deterministic rules have ALREADY decided the health state from forward progress. You must not
change, question or re-derive the state and you must not apply thresholds of your own. Your job is
to explain the decided state for an operator: what is happening, the contributing factors ranked
by importance, and remediation actions with a confidence between 0 and 1. Actions are structured
for automation: action_type (scale, restart, configure, alert), target_service, parameters, risk.
Never recommend scaling workers down when the context says scale-down is not allowed.
When configuration changes are correlated with regressions, say so in the summary.
Write for an operator: plain sentences with units (ms, s, /s, %), never the signal field names used
below (say "the oldest waiting task is 90 s old", not backlog_age_sec=90), and say each thing once.
Tools: signal_history(name) gives one signal over the observed window (read trends there rather
than from one sample); search_runbooks(query) searches the runbooks and deployment docs beyond the
context below. Cite the runbook source when an action comes from one.
"""


class AssessmentContext(BaseModel):
    trigger: AssessmentTrigger
    evaluation: Evaluation
    workers: WorkerAssessment
    services: list[ServiceHealth]
    snapshot: SignalSnapshot
    window: list[SignalSnapshot] = Field(default_factory=list)
    log_patterns: list[LogPatternCount] = Field(default_factory=list)
    log_samples: list[str] = Field(default_factory=list)
    log_correlations: list[Correlation] = Field(default_factory=list)
    """Log patterns seen close in time to the metric anomalies (Requirement 2.5)."""
    knowledge: list[KnowledgeChunk] = Field(default_factory=list)
    drift: list[DriftFinding] = Field(default_factory=list)
    correlations: list[ConfigCorrelation] = Field(default_factory=list)


def knowledge_query(ctx: AssessmentContext) -> str:
    """What to ask the knowledge base: the state, the gates that fired, bottleneck and log patterns."""
    parts = [f"Temporal DSQL cluster {ctx.evaluation.state.value}", f"bottleneck {ctx.workers.bottleneck.value}"]
    parts += [g.gate.replace("_", " ") for g in ctx.evaluation.gates]
    parts += [p.pattern for p in ctx.log_patterns[:5]]
    return redact(", ".join(parts))


def _fmt(values: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in sorted(values.items())) or "(none observed)"


def build_prompt(ctx: AssessmentContext) -> str:
    """The user prompt: every free-text part is redacted; the same context gives the same prompt."""
    ev, s = ctx.evaluation, ctx.snapshot
    lines = [
        f"Trigger: {ctx.trigger.value}",
        f"Decided health state: {ev.state.value.upper()} (scale band {ev.current.band.preset_name})",
        f"Rule verdict: {ev.reason}",
    ]
    if ev.transition is not None:
        lines.append(f"Transition: {ev.transition.describe()}")
    lines += [
        f"Primary signals: {_fmt(s.primary.observed())}",
        f"Amplifier signals: {_fmt(s.amplifiers.observed())}",
        f"Worker signals: {_fmt(s.worker.observed())}",
        "Rules that fired: " + ("; ".join(f"[{g.severity.value}] {g.gate} ({g.service}): {g.describe()}"
                                           for g in ev.gates) or "none"),
        f"Bottleneck: {ctx.workers.bottleneck.value}; worker scale-down allowed: {ctx.workers.scale_down_allowed}",
    ]
    lines += [f"Worker rule {a.rule.value}: {a.message}" for a in ctx.workers.advice]
    lines += [f"Service {sv.service}: {sv.state.value}" for sv in ctx.services]
    if ctx.window:
        trend = [w.primary.state_transitions_per_sec for w in ctx.window]
        lines.append("State transitions/s trend (oldest first): "
                     + ", ".join("n/a" if v is None else f"{v:.4g}" for v in trend))
    if ctx.log_patterns:
        lines.append("Log patterns (last window):")
        lines += [f"- {p.count}x '{redact(p.pattern)}' on {redact(p.service)}" for p in ctx.log_patterns]
    if ctx.log_correlations:
        lines.append("Log patterns near the metric anomalies:")
        lines += [f"- {c.count}x {redact(c.pattern)} on {redact(c.service)} within {c.distance_seconds:.0f}s of "
                  f"'{redact(c.anomaly)}'" for c in ctx.log_correlations[:10]]
    if ctx.log_samples:
        lines.append("Sample log lines:")
        lines += [f"- {redact(line)[:300]}" for line in ctx.log_samples[:10]]
    if ctx.drift:
        lines.append("Drift against the baseline profile:")
        lines += [f"- {d.metric_id}: {d.current:.4g} vs baseline {d.baseline:.4g} "
                  f"({'from zero' if d.relative_change is None else format(d.relative_change, '+.0%')}, "
                  f"{'regressed' if d.regressed else 'improved'})" for d in ctx.drift]
    if ctx.correlations:
        lines.append("Configuration changes correlated with regressions:")
        lines += [f"- {redact(c.sentence())}" for c in ctx.correlations]
    if ctx.knowledge:
        lines.append("Knowledge base context:")
        lines += [f"[{redact(k.source)}] {redact(k.text)[:1500]}" for k in ctx.knowledge]
    return "\n".join(lines)
