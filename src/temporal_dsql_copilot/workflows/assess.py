"""AssessHealthWorkflow (rules decided, the agent explains), the scheduled trigger and retention.

The state arrives already decided by ObserveClusterWorkflow. The workflow gathers context (logs,
knowledge, baseline drift), asks the durable pydantic-ai explainer within the 30 s budget, falls
back to the rule-based explanation when the model fails or is disabled, and stores the result
idempotently.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow

    from temporal_dsql_copilot.assessment import (
        AssessmentContext,
        AssessmentTrigger,
        Explanation,
        HealthAssessment,
        build_prompt,
        finalize_assessment,
        knowledge_query,
        rule_based_explanation,
    )
    from temporal_dsql_copilot.assessment.agent import ExplainerDeps, explainer_agent, model_name
    from temporal_dsql_copilot.health import service_health
    from temporal_dsql_copilot.knowledge.base import KnowledgeChunk
    from temporal_dsql_copilot.workflows._time import seconds, workflow_now
    from temporal_dsql_copilot.workflows.activities import CopilotActivities
    from temporal_dsql_copilot.workflows.inputs import (
        AssessInput,
        DriftInput,
        DriftReport,
        FetchLogsInput,
        LogScan,
        PruneInput,
        RequestAssessmentInput,
        RetrieveKnowledgeInput,
    )
    from temporal_dsql_copilot.workflows.own_metrics import record_assessment
    from temporal_dsql_core.instants import format_instant

__all__ = ["AssessHealthWorkflow", "RetentionWorkflow", "ScheduledAssessmentWorkflow"]

_QUICK = RetryPolicy(maximum_attempts=2, initial_interval=seconds(0.5))
_STORE_RETRY = RetryPolicy(initial_interval=seconds(0.5), backoff_coefficient=2.0, maximum_interval=seconds(10),
                           maximum_attempts=6)


def _anomalies(request: AssessInput) -> list[tuple[str, str]]:
    """The metric anomalies of this assessment: the transition and every rule that fired."""
    at = request.snapshot.observed_at
    out = [(at, f"{g.gate}: {g.describe()}") for g in request.evaluation.gates]
    if request.evaluation.transition is not None:
        out.insert(0, (request.evaluation.transition.at, request.evaluation.transition.describe()))
    return out


def _describe(exc: BaseException) -> str:
    """The error and its causes (an ActivityError's message alone says nothing about the model)."""
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(parts) < 4:
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__
    return " <- ".join(parts)


@workflow.defn(name="AssessHealthWorkflow")
class AssessHealthWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [explainer_agent]

    @workflow.run
    async def run(self, request: AssessInput) -> HealthAssessment:
        started = workflow_now()
        budget = request.timeout_seconds
        logs, drift = await asyncio.gather(self._logs(request), self._drift(request))
        ev = request.evaluation
        ctx = AssessmentContext(
            trigger=request.trigger, evaluation=ev, workers=request.workers,
            services=service_health(ev, request.workers), snapshot=request.snapshot, window=request.window,
            log_patterns=logs.patterns, log_samples=logs.samples, log_correlations=logs.correlations,
            drift=drift.drift, correlations=drift.correlations,
        )
        if request.use_knowledge:
            knowledge = await self._knowledge(knowledge_query(ctx), request.knowledge_top_k)
            ctx = ctx.model_copy(update={"knowledge": knowledge})

        explanation: Explanation | None = None
        error: str | None = None
        if request.model_id is not None:
            # Keep 3 s for finalising and storing inside the 30 s budget (Requirement 4.7).
            remaining = budget - (workflow_now() - started).total("seconds") - 3.0
            try:
                if remaining <= 0:
                    raise TimeoutError("no time left for the explainer")
                result = await asyncio.wait_for(
                    explainer_agent.run(build_prompt(ctx), model=model_name(request.model_id),
                                        deps=ExplainerDeps(window=ctx.window or [ctx.snapshot],
                                                           knowledge_top_k=max(1, min(request.knowledge_top_k, 5)))),
                    timeout=remaining)
                explanation = result.output
            except Exception as exc:  # any model failure degrades to the rule-based assessment (Req 4.8)
                error = _describe(exc)
                workflow.logger.warning("explainer unavailable, using rule-based assessment: %s", error)
        by = "llm" if explanation is not None else "rules"
        assessment = finalize_assessment(
            ctx, explanation or rule_based_explanation(ctx), workflow_id=request.workflow_id,
            sequence=request.sequence, assessed_at=format_instant(workflow_now()), explained_by=by,
            explanation_error=error,
        )
        await workflow.execute_activity_method(
            CopilotActivities.store_assessment, assessment, start_to_close_timeout=seconds(10),
            retry_policy=_STORE_RETRY)
        workflow.logger.info("assessment %s stored: %s (%s, explained by %s)", assessment.id,
                             assessment.health_state.value, request.trigger.value, by)
        record_assessment(workflow.metric_meter(), request.cluster_id, trigger=request.trigger.value,
                          explained_by=by, health_state=assessment.health_state)
        return assessment

    async def _logs(self, request: AssessInput) -> LogScan:
        if not request.use_logs:
            return LogScan()
        try:
            return await workflow.execute_activity_method(
                CopilotActivities.fetch_log_patterns,
                FetchLogsInput(end=request.snapshot.observed_at, lookback_seconds=request.log_lookback_seconds,
                               anomalies=_anomalies(request)),
                start_to_close_timeout=seconds(8), retry_policy=_QUICK)
        except ActivityError as exc:
            return LogScan(error=str(exc))

    async def _drift(self, request: AssessInput) -> DriftReport:
        try:
            return await workflow.execute_activity_method(
                CopilotActivities.compare_with_baseline,
                DriftInput(cluster_id=request.cluster_id, namespace=request.namespace, snapshot=request.snapshot),
                start_to_close_timeout=seconds(8), retry_policy=_QUICK)
        except ActivityError as exc:
            workflow.logger.warning("baseline comparison failed: %s", exc)
            return DriftReport()

    async def _knowledge(self, query: str, top_k: int) -> list[KnowledgeChunk]:
        try:
            return await workflow.execute_activity_method(
                CopilotActivities.retrieve_knowledge, RetrieveKnowledgeInput(query=query, top_k=min(top_k, 5)),
                start_to_close_timeout=seconds(8), retry_policy=_QUICK)
        except ActivityError as exc:
            workflow.logger.warning("knowledge retrieval failed: %s", exc)
            return []


@workflow.defn(name="ScheduledAssessmentWorkflow")
class ScheduledAssessmentWorkflow:
    """Started by the Temporal Schedule: asks the observe loop for an assessment.

    The observe loop owns the state machine, so a scheduled assessment reports the same state
    (with the same debounce and band) as a signal-triggered one, and the loop deduplicates.
    """

    @workflow.run
    async def run(self, observe_workflow_id: str) -> None:
        handle = workflow.get_external_workflow_handle(observe_workflow_id)
        await handle.signal("request_assessment", RequestAssessmentInput(trigger=AssessmentTrigger.SCHEDULED))


@workflow.defn(name="RetentionWorkflow")
class RetentionWorkflow:
    """Started daily by a Temporal Schedule: prunes the state store to the retention period."""

    @workflow.run
    async def run(self, request: PruneInput) -> dict[str, int]:
        return await workflow.execute_activity_method(
            CopilotActivities.prune_state_store, request, start_to_close_timeout=seconds(120),
            retry_policy=_STORE_RETRY)
