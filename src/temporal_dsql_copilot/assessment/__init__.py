"""Assessments: the explainer's input, the rule-based explanation and the stored assessment.

Free of temporalio and pydantic_ai: the status API imports these models. The LLM agent lives in
``temporal_dsql_copilot.assessment.agent`` and is imported only by the worker.

The submodules are imported on first attribute access (PEP 562): the Lambda's status API needs
only ``temporal_dsql_copilot.assessment.models``, and importing the package must not pull in the prompt
builder, the narrative patterns and the knowledge base with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from temporal_dsql_copilot.assessment.context import (
        SYSTEM_PROMPT,
        AssessmentContext,
        build_prompt,
        knowledge_query,
    )
    from temporal_dsql_copilot.assessment.finalize import assessment_id, finalize_assessment, guard_actions
    from temporal_dsql_copilot.assessment.models import (
        ActionType,
        AssessmentTrigger,
        ConfigCorrelation,
        ContributingFactor,
        DriftFinding,
        Explanation,
        HealthAssessment,
        Issue,
        RiskLevel,
        SuggestedAction,
    )
    from temporal_dsql_copilot.assessment.redaction import redact
    from temporal_dsql_copilot.assessment.rules import rule_based_explanation

__all__ = [
    "SYSTEM_PROMPT",
    "ActionType",
    "AssessmentContext",
    "AssessmentTrigger",
    "ConfigCorrelation",
    "ContributingFactor",
    "DriftFinding",
    "Explanation",
    "HealthAssessment",
    "Issue",
    "RiskLevel",
    "SuggestedAction",
    "assessment_id",
    "build_prompt",
    "finalize_assessment",
    "guard_actions",
    "knowledge_query",
    "redact",
    "rule_based_explanation",
]

_SUBMODULE = {
    "SYSTEM_PROMPT": "context", "AssessmentContext": "context", "build_prompt": "context",
    "knowledge_query": "context", "assessment_id": "finalize", "finalize_assessment": "finalize",
    "guard_actions": "finalize", "redact": "redaction", "rule_based_explanation": "rules",
}


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"temporal_dsql_copilot.assessment.{_SUBMODULE.get(name, 'models')}")
    value = getattr(module, name)
    globals()[name] = value
    return value
