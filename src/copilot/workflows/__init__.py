"""The copilot's Temporal workflows and activities (imports temporalio and pydantic_ai)."""

from copilot.workflows.activities import CopilotActivities
from copilot.workflows.assess import AssessHealthWorkflow, RetentionWorkflow, ScheduledAssessmentWorkflow
from copilot.workflows.inputs import (
    AssessInput,
    ObserveConfig,
    ObserveInput,
    ObserveStatus,
    SetThresholdsInput,
)
from copilot.workflows.observe import ObserveClusterWorkflow

__all__ = [
    "AssessHealthWorkflow",
    "AssessInput",
    "CopilotActivities",
    "ObserveClusterWorkflow",
    "ObserveConfig",
    "ObserveInput",
    "ObserveStatus",
    "RetentionWorkflow",
    "ScheduledAssessmentWorkflow",
    "SetThresholdsInput",
]
