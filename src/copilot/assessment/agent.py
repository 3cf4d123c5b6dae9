"""The explainer agent: pydantic-ai, made durable by pydantic-ai's Temporal integration.

The agent is defined once at import time (PydanticAIWorkflow registers it with the worker); the
model is chosen per run by name, so the Bedrock model id comes from configuration
(``CopilotSettings.bedrock_model_id``) and crosses the activity boundary as a string. Names in
:data:`_REGISTERED_MODELS` resolve to in-process models (pydantic-ai TestModel/FunctionModel in
tests and the offline eval); anything else is inferred by pydantic-ai (``bedrock:<id>``).

Only the Temporal worker imports this module: the status API's import closure stays free of
pydantic_ai and temporalio.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai import Agent
from pydantic_ai.capabilities import ResolveModelId
from pydantic_ai.durable_exec.temporal import TemporalDurability
from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig
from whenever import TimeDelta

from copilot.assessment.context import SYSTEM_PROMPT
from copilot.assessment.models import Explanation

__all__ = ["EXPLAINER_NAME", "explainer_agent", "model_name", "register_model", "unregister_model"]

EXPLAINER_NAME = "copilot_explainer"

_REGISTERED_MODELS: dict[str, Model] = {}


def register_model(name: str, model: Model) -> None:
    """Make ``name`` resolve to ``model`` in this process (offline tests and eval)."""
    _REGISTERED_MODELS[name] = model


def unregister_model(name: str) -> None:
    _REGISTERED_MODELS.pop(name, None)


def model_name(model_id: str) -> str:
    """A Bedrock model id as a pydantic-ai model name; names with a provider prefix pass through."""
    return model_id if ":" in model_id.split(".", 1)[0] or model_id in _REGISTERED_MODELS else f"bedrock:{model_id}"


def _unconfigured(_messages: list[ModelMessage], _info: AgentInfo) -> ModelResponse:
    raise UserError("The explainer has no model: pass model=model_name(settings.bedrock_model_id) to run().")


async def _resolve_registered(_ctx: Any, model_id: str) -> Model | None:
    return _REGISTERED_MODELS.get(model_id)


explainer_agent: Agent[None, Explanation] = Agent(
    # Temporal needs a model at definition time; the real one is always chosen per run.
    FunctionModel(_unconfigured, model_name="copilot-unconfigured"),
    name=EXPLAINER_NAME,
    output_type=Explanation,
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
