"""Wiring: the Temporal client with the pydantic-ai plugin, the worker, the schedules, the loop.

``python -m copilot.workflows.worker`` runs the copilot worker from ``CopilotSettings``.
"""

from __future__ import annotations

import asyncio
import contextlib

from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from copilot.health import MachineState, band_for_preset
from copilot.settings import CopilotSettings, get_settings
from copilot.workflows._time import seconds
from copilot.workflows.activities import CopilotActivities
from copilot.workflows.assess import AssessHealthWorkflow, RetentionWorkflow, ScheduledAssessmentWorkflow
from copilot.workflows.inputs import ObserveConfig, ObserveInput, ObserveStatus, PruneInput
from copilot.workflows.observe import ObserveClusterWorkflow

__all__ = [
    "OBSERVE_WORKFLOW_ID",
    "RETENTION_SCHEDULE_ID",
    "SCHEDULED_ASSESSMENT_ID",
    "WORKFLOWS",
    "build_worker",
    "connect",
    "ensure_schedules",
    "initial_observe_input",
    "start_observe",
    "workflow_runner",
]

OBSERVE_WORKFLOW_ID = "copilot-observe-cluster"
SCHEDULED_ASSESSMENT_ID = "copilot-scheduled-assessment"
RETENTION_SCHEDULE_ID = "copilot-retention"
WORKFLOWS: list[type] = [ObserveClusterWorkflow, AssessHealthWorkflow, ScheduledAssessmentWorkflow, RetentionWorkflow]


async def connect(settings: CopilotSettings) -> Client:
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                plugins=[PydanticAIPlugin()])


def workflow_runner() -> SandboxedWorkflowRunner:
    # whenever and our own (pure, side-effect free) modules are passed through the sandbox so the
    # Instant/TimeDelta classes in workflow code are the same objects as in the models.
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "whenever", "copilot", "copilot_core", "behaviour_profiles"))


def build_worker(client: Client, activities: CopilotActivities, *, task_queue: str) -> Worker:
    return Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=activities.all(),
                  workflow_runner=workflow_runner())


def initial_observe_input(settings: CopilotSettings, *, max_cycles: int | None = None) -> ObserveInput:
    machine = MachineState()
    if settings.preset_name is not None:
        machine = MachineState(band=band_for_preset(settings.preset_name))
    return ObserveInput(config=ObserveConfig.from_settings(settings), machine=machine, max_cycles=max_cycles)


async def start_observe(client: Client, settings: CopilotSettings, *, workflow_id: str = OBSERVE_WORKFLOW_ID,
                        max_cycles: int | None = None) -> WorkflowHandle[ObserveClusterWorkflow, ObserveStatus]:
    """Start the observe loop, or attach to the running one (one loop per cluster)."""
    return await client.start_workflow(
        ObserveClusterWorkflow.run, initial_observe_input(settings, max_cycles=max_cycles), id=workflow_id,
        task_queue=settings.temporal_task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)


async def ensure_schedules(client: Client, settings: CopilotSettings, *,
                           observe_workflow_id: str = OBSERVE_WORKFLOW_ID, prefix: str = "") -> list[str]:
    """The scheduled assessment (default every 5 min) and the daily retention job; idempotent."""
    schedules = {
        f"{prefix}{SCHEDULED_ASSESSMENT_ID}": Schedule(
            action=ScheduleActionStartWorkflow(ScheduledAssessmentWorkflow.run, observe_workflow_id,
                                               id=f"{prefix}{SCHEDULED_ASSESSMENT_ID}-run",
                                               task_queue=settings.temporal_task_queue),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=seconds(settings.assess_schedule_seconds))]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP)),
        f"{prefix}{RETENTION_SCHEDULE_ID}": Schedule(
            action=ScheduleActionStartWorkflow(RetentionWorkflow.run, PruneInput(retention_days=settings.retention_days),
                                               id=f"{prefix}{RETENTION_SCHEDULE_ID}-run",
                                               task_queue=settings.temporal_task_queue),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=seconds(24 * 3600))]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP)),
    }
    for schedule_id, schedule in schedules.items():
        with contextlib.suppress(ScheduleAlreadyRunningError):
            await client.create_schedule(schedule_id, schedule)
    return list(schedules)


async def _main() -> None:  # pragma: no cover - process entry point, exercised by the demo
    import logging

    from behaviour_profiles.telemetry import PrometheusClient

    # INFO: health transitions (with their signals), assessments and runtime changes are narrative logs.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from copilot.runtime import build_activities

    settings = get_settings()
    client = await connect(settings)
    async with PrometheusClient(settings.amp_query_url, region=settings.aws_region, sigv4=settings.amp_sigv4,
                                timeout=settings.query_timeout_seconds) as prom:
        activities = await build_activities(settings, prom)
        async with build_worker(client, activities, task_queue=settings.temporal_task_queue):
            await start_observe(client, settings)
            await ensure_schedules(client, settings)
            await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_main())
