"""ObserveClusterWorkflow: observe every interval, decide by rules, trigger explanations.

Each cycle fetches all signals concurrently (one activity), evaluates the pure state machine in
the workflow (deterministic, so replay-safe), logs every transition with its signals, stores the
snapshot idempotently and starts AssessHealthWorkflow on a state change, a forced or scheduled
request, or an error log pattern. The loop continues as new after a bounded number of cycles (or
when Temporal suggests it), carrying its state, so its history never grows without bound.

Runtime control: signals ``pause``, ``resume`` and ``request_assessment``; update
``set_thresholds`` (validated: unknown names are rejected); query ``status``.
"""

from __future__ import annotations

import contextlib

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from whenever import Instant, TimeDelta

    from temporal_dsql_copilot.assessment.models import AssessmentTrigger
    from temporal_dsql_copilot.health import (
        Decision,
        HealthState,
        MachineConfig,
        ScaleBand,
        decide,
    )
    from temporal_dsql_copilot.narrative import DEEP_ANALYSIS_PATTERNS
    from temporal_dsql_copilot.signals import SignalSnapshot
    from temporal_dsql_copilot.store.store import StoredSnapshot
    from temporal_dsql_copilot.workflows._time import seconds, workflow_now
    from temporal_dsql_copilot.workflows.activities import CopilotActivities
    from temporal_dsql_copilot.workflows.assess import AssessHealthWorkflow
    from temporal_dsql_copilot.workflows.inputs import (
        AssessInput,
        FetchLogsInput,
        FetchSignalsInput,
        LogScan,
        ObserveInput,
        ObserveStatus,
        RequestAssessmentInput,
        SetThresholdsInput,
    )
    from temporal_dsql_copilot.workflows.own_metrics import record_cycle, record_log_patterns
    from temporal_dsql_core.instants import format_instant

__all__ = ["ObserveClusterWorkflow"]

_FETCH_RETRY = RetryPolicy(maximum_attempts=1)  # a failed cycle is retried by the next cycle (Req 1.5)
_STORE_RETRY = RetryPolicy(initial_interval=seconds(0.5), backoff_coefficient=2.0, maximum_interval=seconds(5),
                           maximum_attempts=4)


@workflow.defn(name="ObserveClusterWorkflow")
class ObserveClusterWorkflow:
    @workflow.init
    def __init__(self, request: ObserveInput) -> None:
        self._s = request.model_copy(deep=True)
        self._run_cycles = 0
        self._last_reason: str | None = None
        self._cycling = False

    # --- handlers -------------------------------------------------------------------------------

    @workflow.query
    def status(self) -> ObserveStatus:
        m = self._s.machine
        return ObserveStatus(
            state=m.state, band=m.band, consecutive_critical=m.consecutive_critical, cycle=self._s.cycle,
            sequence=self._s.sequence, paused=self._s.paused, window_size=len(self._s.window),
            last_reason=self._last_reason, last_assessment_at=self._s.last_assessment_at,
            threshold_overrides=dict(self._s.config.machine.threshold_overrides), run_cycles=self._run_cycles,
            cycling=self._cycling)

    @workflow.signal
    def pause(self) -> None:
        self._s.paused = True

    @workflow.signal
    def resume(self) -> None:
        self._s.paused = False

    @workflow.signal
    def request_assessment(self, request: RequestAssessmentInput) -> None:
        # A forced request wins over a scheduled one; a pending one is not queued twice (dedupe).
        if self._s.pending_trigger is None or request.trigger is AssessmentTrigger.FORCED:
            self._s.pending_trigger = request.trigger

    @workflow.update
    def set_thresholds(self, request: SetThresholdsInput) -> dict[str, float]:
        self._s.config.machine = self._merged(request)
        workflow.logger.info("health thresholds changed at runtime: %s", dict(self._s.config.machine.threshold_overrides))
        return dict(self._s.config.machine.threshold_overrides)

    @set_thresholds.validator
    def _validate_thresholds(self, request: SetThresholdsInput) -> None:
        machine = self._merged(request)
        for band in ScaleBand:
            machine.thresholds(band)  # raises UnknownThresholdError / ValidationError: update rejected

    def _merged(self, request: SetThresholdsInput) -> MachineConfig:
        current = {} if request.replace else dict(self._s.config.machine.threshold_overrides)
        return self._s.config.machine.model_copy(update={"threshold_overrides": {**current, **request.overrides}})

    # --- the loop -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, request: ObserveInput) -> ObserveStatus:
        while True:
            if self._s.max_cycles is not None and self._s.cycle >= self._s.max_cycles:
                await workflow.wait_condition(workflow.all_handlers_finished)
                return self.status()
            if self._s.paused:
                await workflow.wait_condition(lambda: not self._s.paused or self._s.pending_trigger is not None)
            self._cycling = True
            try:
                await self._cycle()
            finally:
                self._cycling = False
            if self._s.max_cycles is not None and self._s.cycle >= self._s.max_cycles:
                continue
            if self._run_cycles >= self._s.config.continue_as_new_after_cycles or \
                    workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.logger.info("continuing as new after %d cycles", self._run_cycles)
                workflow.continue_as_new(self._s)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._s.pending_trigger is not None,
                                              timeout=seconds(self._s.config.interval_seconds))

    async def _cycle(self) -> None:
        cfg = self._s.config
        live = workflow_now()
        now = live - TimeDelta(seconds=cfg.replay_offset_seconds)
        self._s.cycle += 1
        self._run_cycles += 1
        try:
            snapshot: SignalSnapshot = await workflow.execute_activity_method(
                CopilotActivities.fetch_signals, FetchSignalsInput(at=now.format_iso(), namespace=cfg.namespace),
                start_to_close_timeout=seconds(max(5.0, min(20.0, cfg.interval_seconds))), retry_policy=_FETCH_RETRY)
        except ActivityError as exc:
            workflow.logger.error("signal collection failed (cycle %d), retrying next cycle: %s", self._s.cycle, exc)
            record_cycle(workflow.metric_meter(), cfg.cluster_id, state=None)
            return
        decision = decide(self._s.machine, snapshot, cfg.machine)
        evaluation = decision.evaluation
        self._s.machine = evaluation.current
        record_cycle(workflow.metric_meter(), cfg.cluster_id, state=evaluation.state,
                     failed_queries=snapshot.failed_queries)
        self._last_reason = evaluation.reason
        self._s.window = [*self._s.window, snapshot][-cfg.window_size:]
        if evaluation.transition is not None:
            workflow.logger.info("health transition %s | signals %s", evaluation.transition.describe(),
                                 evaluation.transition.signals)
        scan = await self._scan_logs(now) if cfg.use_logs else None
        if scan is not None and scan.patterns:
            record_log_patterns(workflow.metric_meter(), cfg.cluster_id, scan.patterns)
            # Kept with the snapshot: /status serves the latest patterns (not only in memory).
            snapshot = snapshot.model_copy(update={"log_patterns": scan.patterns})
        await self._store(snapshot, decision)

        trigger = self._s.pending_trigger
        self._s.pending_trigger = None
        if evaluation.transition is not None:
            trigger = AssessmentTrigger.STATE_CHANGE if trigger is not AssessmentTrigger.FORCED else trigger
        if trigger is None and scan is not None and any(p.pattern in DEEP_ANALYSIS_PATTERNS for p in scan.patterns):
            trigger = AssessmentTrigger.LOG_PATTERN
        if trigger in (AssessmentTrigger.SCHEDULED, AssessmentTrigger.LOG_PATTERN) and self._recently_assessed(live):
            workflow.logger.info("%s assessment skipped: another finished within %.0fs", trigger.value,
                                 cfg.dedupe_window_seconds)
            trigger = None
        if trigger is not None:
            await self._assess(trigger, decision, snapshot)

    async def _store(self, snapshot: SignalSnapshot, decision: Decision) -> None:
        evaluation, services = decision.evaluation, decision.services
        stored = StoredSnapshot(cluster_id=self._s.config.cluster_id, workflow_id=workflow.info().workflow_id,
                                cycle=self._s.cycle, health_state=evaluation.state, band=evaluation.current.band.value,
                                snapshot=snapshot, transition=evaluation.transition, services=services)
        try:
            await workflow.execute_activity_method(CopilotActivities.store_snapshot, stored,
                                                   start_to_close_timeout=seconds(10), retry_policy=_STORE_RETRY)
        except ActivityError as exc:
            workflow.logger.error("snapshot not stored (cycle %d): %s", self._s.cycle, exc)

    async def _scan_logs(self, now: Instant) -> LogScan | None:
        """Requirement 2.1: the logs of the last interval, every cycle; None when the source failed."""
        try:
            scan: LogScan = await workflow.execute_activity_method(
                CopilotActivities.fetch_log_patterns,
                FetchLogsInput(end=now.format_iso(), lookback_seconds=max(1, int(self._s.config.interval_seconds))),
                start_to_close_timeout=seconds(10), retry_policy=_FETCH_RETRY)
        except ActivityError as exc:
            workflow.logger.warning("log scan failed, metric-only this cycle: %s", exc)
            return None
        if scan.error:
            workflow.logger.warning("log source unavailable, metric-only this cycle: %s", scan.error)
            return None
        return scan

    def _recently_assessed(self, now: Instant) -> bool:
        last = self._s.last_assessment_at
        window = TimeDelta(seconds=self._s.config.dedupe_window_seconds)
        return last is not None and now - Instant.parse_iso(last) < window

    async def _assess(self, trigger: AssessmentTrigger, decision: Decision, snapshot: SignalSnapshot) -> None:
        cfg = self._s.config
        self._s.sequence += 1
        observe_id = workflow.info().workflow_id
        evaluation, workers = decision.evaluation, decision.workers
        request = AssessInput(
            trigger=trigger, workflow_id=observe_id, sequence=self._s.sequence, cluster_id=cfg.cluster_id,
            namespace=cfg.namespace, evaluation=evaluation, workers=workers, snapshot=snapshot,
            window=self._s.window, model_id=cfg.model_id, use_logs=cfg.use_logs, use_knowledge=cfg.use_knowledge,
            log_lookback_seconds=cfg.log_lookback_seconds, knowledge_top_k=cfg.knowledge_top_k,
            timeout_seconds=cfg.assessment_timeout_seconds)
        try:
            await workflow.execute_child_workflow(
                AssessHealthWorkflow.run, request, id=f"{observe_id}-assess-{self._s.sequence}",
                execution_timeout=seconds(cfg.assessment_timeout_seconds + 30))
            self._s.last_assessment_at = format_instant(workflow_now())
        except ChildWorkflowError as exc:
            workflow.logger.error("assessment %d failed: %s", self._s.sequence, exc)
        if evaluation.state is HealthState.CRITICAL:
            workflow.logger.warning("cluster CRITICAL: %s", evaluation.reason)
