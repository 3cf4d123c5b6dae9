"""Wiring: the Temporal client with the pydantic-ai plugin, the worker, the schedules, the loop.

``python -m temporal_dsql_copilot.workflows.worker`` runs the copilot worker from ``CopilotSettings``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

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
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.assessment.agent import register_runbook_retriever
from temporal_dsql_copilot.health import HealthState, MachineState, ScaleBand, band_for_profile
from temporal_dsql_copilot.settings import CopilotSettings, get_settings
from temporal_dsql_copilot.workflows._time import seconds
from temporal_dsql_copilot.workflows.activities import CopilotActivities
from temporal_dsql_copilot.workflows.assess import (
    AssessHealthWorkflow,
    RetentionWorkflow,
    ScheduledAssessmentWorkflow,
)
from temporal_dsql_copilot.workflows.inputs import ObserveConfig, ObserveInput, ObserveStatus, PruneInput
from temporal_dsql_copilot.workflows.observe import ObserveClusterWorkflow

if TYPE_CHECKING:
    from temporal_dsql_copilot.store import ResumePoint, StateStore
    from temporal_dsql_core import ConfigProfile

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
    "worker_runtime",
    "workflow_runner",
]

OBSERVE_WORKFLOW_ID = "copilot-observe-cluster"
SCHEDULED_ASSESSMENT_ID = "copilot-scheduled-assessment"
RETENTION_SCHEDULE_ID = "copilot-retention"
WORKFLOWS: list[type] = [ObserveClusterWorkflow, AssessHealthWorkflow, ScheduledAssessmentWorkflow, RetentionWorkflow]

_log = logging.getLogger(__name__)


def worker_runtime(settings: CopilotSettings) -> Runtime | None:
    """A Runtime exporting the worker's metrics on ``settings.metrics_bind_address`` (Prometheus text
    at ``/metrics``), or None (the SDK's default Runtime, no endpoint) when it is unset.

    The endpoint is bound when the Runtime is made, so a taken port fails here, at start-up."""
    if settings.metrics_bind_address is None:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=settings.metrics_bind_address)))


async def connect(settings: CopilotSettings, *, runtime: Runtime | None = None) -> Client:
    """The copilot's client; its workers record metrics through ``runtime`` (default: from settings)."""
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                plugins=[PydanticAIPlugin()], runtime=runtime or worker_runtime(settings))


def workflow_runner() -> SandboxedWorkflowRunner:
    # whenever and our own (pure, side-effect free) modules are passed through the sandbox so the
    # Instant/TimeDelta classes in workflow code are the same objects as in the models.
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "whenever", "temporal_dsql_copilot", "temporal_dsql_core", "temporal_dsql_profiles"))


def build_worker(client: Client, activities: CopilotActivities, *, task_queue: str) -> Worker:
    # The explainer's search_runbooks tool runs as an activity of this worker; its retriever is the
    # activities' own (one copilot worker per process).
    register_runbook_retriever(activities.retriever)
    return Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=activities.all(),
                  workflow_runner=workflow_runner())


def _compiled_profile(settings: CopilotSettings) -> ConfigProfile | None:
    if settings.preset_name is None:
        return None
    from temporal_dsql_config import ConfigCompiler

    return ConfigCompiler().compile(settings.preset_name, sdk="none", platform="none").profile


def initial_observe_input(settings: CopilotSettings, *, max_cycles: int | None = None,
                          deployed: ConfigProfile | None = None, resume: ResumePoint | None = None) -> ObserveInput:
    """The loop's first input. ``resume`` (the last stored state) wins over the seed: a loop started
    afresh must not forget a Critical cluster, nor reuse the cycle and sequence numbers its ids
    derive from. Otherwise the band comes from the compiled profile (the deployed one, else
    ``preset_name`` compiled here) and the state starts Happy."""
    config = ObserveConfig.from_settings(settings)
    if resume is not None:
        # Critical was reached after the debounce; without restoring that count a still-impaired
        # cluster would read as "not yet debounced" and drop to Stressed.
        debounced = config.machine.critical_debounce if resume.health_state is HealthState.CRITICAL else 0
        machine = MachineState(state=resume.health_state, band=ScaleBand(resume.band), consecutive_critical=debounced)
        return ObserveInput(config=config, machine=machine, cycle=resume.cycle, sequence=resume.sequence,
                            last_assessment_at=resume.last_assessment_at, window=resume.window[-config.window_size:],
                            max_cycles=None if max_cycles is None else resume.cycle + max_cycles)
    profile = deployed or _compiled_profile(settings)
    machine = MachineState(band=band_for_profile(profile)) if profile is not None else MachineState()
    return ObserveInput(config=config, machine=machine, max_cycles=max_cycles)


async def start_observe(client: Client, settings: CopilotSettings, *, workflow_id: str = OBSERVE_WORKFLOW_ID,
                        max_cycles: int | None = None, store: StateStore | None = None,
                        deployed: ConfigProfile | None = None) -> WorkflowHandle[ObserveClusterWorkflow, ObserveStatus]:
    """Start the observe loop, or attach to the running one (one loop per cluster). A fresh start
    resumes from the last state ``store`` holds for the cluster."""
    resume = None
    if store is not None:
        config = ObserveConfig.from_settings(settings)
        span = TimeDelta(seconds=config.window_size * config.interval_seconds)
        resume = await store.resume_point(workflow_id, window_size=config.window_size,
                                          window_since=Instant.now() - span)
    if resume is not None and resume.health_state is not HealthState.HAPPY:
        _log.info("observe loop resumes in %s (band %s) from the stored state", resume.health_state.value, resume.band)
    request = initial_observe_input(settings, max_cycles=max_cycles, deployed=deployed, resume=resume)
    return await client.start_workflow(
        ObserveClusterWorkflow.run, request, id=workflow_id,
        task_queue=settings.temporal_task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)


async def _deployed_profile() -> ConfigProfile | None:
    """The ConfigProfile the deployment stored under ``config/`` in the profile bucket, if any."""
    from temporal_dsql_copilot.runtime import profile_store_from_env

    profiles = profile_store_from_env()
    if profiles is None:
        return None
    try:
        deployed = await profiles.read_deployed_config()
    except Exception as exc:  # the band then comes from COPILOT_PRESET_NAME
        _log.warning("deployed config not readable, seeding the band from settings: %s", exc)
        return None
    finally:
        await profiles.close()
    return deployed.profile if deployed is not None else None


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

    from temporal_dsql_profiles.telemetry import PrometheusClient

    # INFO: health transitions (with their signals), assessments and runtime changes are narrative logs.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from temporal_dsql_copilot.runtime import build_activities

    settings = get_settings()
    if settings.bedrock_enabled:
        from temporal_dsql_copilot.assessment.agent import register_bedrock_model

        register_bedrock_model(settings.bedrock_model_id, region=settings.aws_region)
    client = await connect(settings)
    async with PrometheusClient(settings.amp_query_url, region=settings.aws_region, sigv4=settings.amp_sigv4,
                                timeout=settings.query_timeout_seconds) as prom:
        activities = await build_activities(settings, prom)
        async with build_worker(client, activities, task_queue=settings.temporal_task_queue):
            await start_observe(client, settings, store=activities.store, deployed=await _deployed_profile())
            await ensure_schedules(client, settings)
            await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_main())
