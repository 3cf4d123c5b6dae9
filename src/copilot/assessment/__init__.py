"""Assessments: the explainer's input, the rule-based explanation and the stored assessment.

Free of temporalio and pydantic_ai: the status API imports these models. The LLM agent lives in
``copilot.assessment.agent`` and is imported only by the worker.
"""

from copilot.assessment.context import SYSTEM_PROMPT, AssessmentContext, build_prompt, knowledge_query
from copilot.assessment.finalize import assessment_id, finalize_assessment, guard_actions
from copilot.assessment.models import (
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
from copilot.assessment.redaction import redact
from copilot.assessment.rules import rule_based_explanation

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
