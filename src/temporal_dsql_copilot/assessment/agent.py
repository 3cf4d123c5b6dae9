"""The explainer agent: pydantic-ai, made durable by pydantic-ai's Temporal integration.

The agent is defined once at import time (PydanticAIWorkflow registers it with the worker); the
model is chosen per run by name, so the Bedrock model id comes from configuration
(``CopilotSettings.bedrock_model_id``) and crosses the activity boundary as a string. Names in
:data:`_REGISTERED_MODELS` resolve to in-process models (pydantic-ai TestModel/FunctionModel in
tests and the offline eval); anything else is inferred by pydantic-ai (``bedrock:<id>``).

The agent has two tools, run as Temporal activities by the integration (their inputs and the
run's :class:`ExplainerDeps` cross the activity boundary, so the deps are plain pydantic data):

- ``signal_history(name)``: one signal over the sliding window the assessment was given, so the
  model can read a trend instead of guessing from one sample;
- ``search_runbooks(query)``: the knowledge base (Bedrock KB or the local corpus) for a question
  of the model's own, beyond the top-5 passages already in the prompt.

Every text a tool returns is redacted like the prompt (Requirement 4.9: secrets never reach the
model). The retriever is a live client, not data, so it is not carried in the deps: the worker
registers it once per process (:func:`register_runbook_retriever`, called by ``build_worker``).

Only the Temporal worker imports this module: the status API's import closure stays free of
pydantic_ai and temporalio.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.capabilities import ResolveModelId
from pydantic_ai.durable_exec.temporal import TemporalDurability
from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig
from whenever import TimeDelta

from temporal_dsql_copilot.assessment.context import SYSTEM_PROMPT
from temporal_dsql_copilot.assessment.models import Explanation
from temporal_dsql_copilot.assessment.redaction import redact
from temporal_dsql_copilot.knowledge.base import KnowledgeRetriever
from temporal_dsql_copilot.signals import SIGNAL_TAXONOMY, SignalSnapshot

__all__ = [
    "EXPLAINER_NAME",
    "ExplainerDeps",
    "RunbookHit",
    "SignalHistory",
    "SignalPoint",
    "explainer_agent",
    "model_name",
    "register_bedrock_model",
    "register_model",
    "register_runbook_retriever",
    "unregister_model",
]

EXPLAINER_NAME = "copilot_explainer"

_REGISTERED_MODELS: dict[str, Model] = {}


def register_model(name: str, model: Model) -> None:
    """Make ``name`` resolve to ``model`` in this process (offline tests and eval)."""
    _REGISTERED_MODELS[name] = model


def unregister_model(name: str) -> None:
    _REGISTERED_MODELS.pop(name, None)


def register_bedrock_model(model_id: str, *, region: str) -> None:
    """Build the Bedrock model in the worker process, outside the workflow sandbox, and register it
    under its id. Inferring it from ``bedrock:<id>`` inside the workflow makes boto3 read its data
    files there, which the sandbox forbids (RestrictedWorkflowAccessError): every explanation then
    silently fell back to the rules. The model's requests still run as activities."""
    from pydantic_ai.models.bedrock import BedrockConverseModel
    from pydantic_ai.providers.bedrock import BedrockProvider

    register_model(model_id, BedrockConverseModel(model_id, provider=BedrockProvider(region_name=region)))


def model_name(model_id: str) -> str:
    """A Bedrock model id as a pydantic-ai model name; names with a provider prefix pass through."""
    return model_id if ":" in model_id.split(".", 1)[0] or model_id in _REGISTERED_MODELS else f"bedrock:{model_id}"


class ExplainerDeps(BaseModel):
    """What the explainer's tools may read: serializable data only (it crosses activity boundaries)."""

    window: list[SignalSnapshot] = Field(default_factory=list)
    """The observe loop's sliding window, oldest first (the current snapshot last)."""
    knowledge_top_k: int = Field(default=5, ge=1, le=5)


class SignalPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    observed_at: str
    value: float | None
    """None: not observed in that cycle (the query failed or had no series), never a zero."""


class SignalHistory(BaseModel):
    name: str
    unit: str
    description: str
    points: list[SignalPoint]


class RunbookHit(BaseModel):
    source: str
    title: str | None = None
    text: str


_SIGNALS = {spec.field: spec for spec in SIGNAL_TAXONOMY}
_SIGNALS_BY_METRIC = {spec.metric_id: spec for spec in SIGNAL_TAXONOMY}
_RUNBOOK_RETRIEVER: list[KnowledgeRetriever] = []


def register_runbook_retriever(retriever: KnowledgeRetriever | None) -> None:
    """The retriever ``search_runbooks`` uses in this worker process (None: the tool finds nothing)."""
    _RUNBOOK_RETRIEVER.clear()
    if retriever is not None:
        _RUNBOOK_RETRIEVER.append(retriever)


def _unconfigured(_messages: list[ModelMessage], _info: AgentInfo) -> ModelResponse:
    raise UserError("The explainer has no model: pass model=model_name(settings.bedrock_model_id) to run().")


async def _resolve_registered(_ctx: Any, model_id: str) -> Model | None:
    return _REGISTERED_MODELS.get(model_id)


async def signal_history(ctx: RunContext[ExplainerDeps], name: str) -> SignalHistory:
    """The values of one signal over the observed window, oldest first.

    Args:
        name: a signal name as in the prompt (e.g. ``state_transitions_per_sec``,
            ``persistence_latency_p99_ms``, ``backlog_age_sec``) or its metric-catalog id.
    """
    spec = _SIGNALS.get(name) or _SIGNALS_BY_METRIC.get(name)
    if spec is None:
        raise ModelRetry(f"Unknown signal {name!r}. Use one of: {', '.join(sorted(_SIGNALS))}.")
    points: list[SignalPoint] = []
    for snapshot in ctx.deps.window:
        flat = {**snapshot.primary.observed(), **snapshot.amplifiers.observed(), **snapshot.worker.observed()}
        points.append(SignalPoint(observed_at=snapshot.observed_at, value=flat.get(spec.field)))
    return SignalHistory(name=spec.field, unit=spec.unit, description=spec.description, points=points)


async def search_runbooks(ctx: RunContext[ExplainerDeps], query: str) -> list[RunbookHit]:
    """Search the runbooks and deployment docs (knowledge base) for remediation guidance.

    Args:
        query: what to look for, e.g. "DSQL OCC conflicts history shards" or "sticky cache thrash".
    """
    if not _RUNBOOK_RETRIEVER:
        return []
    chunks = await _RUNBOOK_RETRIEVER[0].retrieve(redact(query), top_k=ctx.deps.knowledge_top_k)
    return [RunbookHit(source=redact(c.source), title=redact(c.title) if c.title else None, text=redact(c.text)[:1500])
            for c in chunks]


explainer_agent: Agent[ExplainerDeps, Explanation] = Agent(
    # Temporal needs a model at definition time; the real one is always chosen per run.
    FunctionModel(_unconfigured, model_name="copilot-unconfigured"),
    name=EXPLAINER_NAME,
    deps_type=ExplainerDeps,
    output_type=Explanation,
    tools=[signal_history, search_runbooks],
    instructions=SYSTEM_PROMPT,
    retries=1,
    capabilities=[
        ResolveModelId(_resolve_registered),
        TemporalDurability(
            # The whole assessment must finish within 30 s (Requirement 4.7): one model call gets
            # 20 s and one retry is allowed only while the workflow's own deadline has room.
            activity_config=ActivityConfig(
                start_to_close_timeout=TimeDelta(seconds=20).to_stdlib(),
                retry_policy=RetryPolicy(maximum_attempts=2),
            ),
        ),
    ],
)

