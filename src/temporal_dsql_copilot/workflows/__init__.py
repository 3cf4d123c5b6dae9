"""The copilot's Temporal workflows and activities (imports temporalio and pydantic_ai)."""

from temporal_dsql_copilot.workflows.activities import CopilotActivities
from temporal_dsql_copilot.workflows.assess import (
    AssessHealthWorkflow,
    RetentionWorkflow,
    ScheduledAssessmentWorkflow,
)
from temporal_dsql_copilot.workflows.inputs import (
    AssessInput,
    ObserveConfig,
    ObserveInput,
    ObserveStatus,
    SetThresholdsInput,
)
from temporal_dsql_copilot.workflows.observe import ObserveClusterWorkflow

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
