"""Turn an explanation into a stored assessment, enforcing what the rules decided.

Whatever produced the explanation (LLM or rules), the state, signals and drift come from the
rules, worker scale-down is removed when slots are exhausted, and correlated config changes are
always named in the summary (Property 20).
"""

from __future__ import annotations

import uuid

from temporal_dsql_copilot.assessment.context import AssessmentContext
from temporal_dsql_copilot.assessment.models import Explanation, HealthAssessment, Issue, SuggestedAction
from temporal_dsql_copilot.assessment.redaction import redact

__all__ = ["ASSESSMENT_NAMESPACE", "assessment_id", "finalize_assessment", "guard_actions"]

ASSESSMENT_NAMESPACE = uuid.UUID("5f1b7a52-6c1e-4d8e-9a57-0c0b5e0d2f10")


def assessment_id(workflow_id: str, sequence: int) -> str:
    """Deterministic id: a retried write of the same assessment hits the same row."""
    return str(uuid.uuid5(ASSESSMENT_NAMESPACE, f"{workflow_id}/{sequence}"))


def guard_actions(actions: list[SuggestedAction], ctx: AssessmentContext) -> list[SuggestedAction]:
    """Drop actions the rules forbid and duplicates; keep the order."""
    kept: list[SuggestedAction] = []
    seen: set[tuple[str, str, str]] = set()
    for action in actions:
        if action.is_scale_down and action.target_service == "worker" and not ctx.workers.scale_down_allowed:
            continue  # Requirement 14.5: never scale workers down at zero free slots.
        key = (action.action_type.value, action.target_service, action.description)
        if key not in seen:
            seen.add(key)
            kept.append(action)
    return kept


def _guard_issue(issue: Issue, ctx: AssessmentContext) -> Issue:
    return issue.model_copy(update={"suggested_actions": guard_actions(issue.suggested_actions, ctx)})


def finalize_assessment(ctx: AssessmentContext, explanation: Explanation, *, workflow_id: str, sequence: int,
                        assessed_at: str, explained_by: str, explanation_error: str | None = None) -> HealthAssessment:
    summary = explanation.summary.strip()
    for correlation in ctx.correlations:
        if correlation.config_key not in summary:
            summary += " " + correlation.sentence()
    factors = sorted(explanation.factors, key=lambda f: f.rank)
    factors = [f.model_copy(update={"rank": i}) for i, f in enumerate(factors, start=1)]
    return HealthAssessment(
        id=assessment_id(workflow_id, sequence), workflow_id=workflow_id, sequence=sequence,
        assessed_at=assessed_at, trigger=ctx.trigger, health_state=ctx.evaluation.state,
        band=ctx.evaluation.current.band, bottleneck=ctx.workers.bottleneck, reason=ctx.evaluation.reason,
        transition=ctx.evaluation.transition, signals=ctx.snapshot, services=ctx.services,
        # Stored and served by the status API: patterns are log text, redacted as in the prompt.
        log_patterns=[p.model_copy(update={"pattern": redact(p.pattern), "service": redact(p.service)})
                      for p in ctx.log_patterns],
        worker_advice=ctx.workers.advice, summary=summary, factors=factors,
        issues=[_guard_issue(i, ctx) for i in explanation.issues],
        suggested_actions=guard_actions(explanation.suggested_actions, ctx),
        drift=ctx.drift, config_correlations=ctx.correlations,
        explained_by="llm" if explained_by == "llm" else "rules", explanation_error=explanation_error,
    )
