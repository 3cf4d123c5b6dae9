"""The state store on the PostgreSQL stand-in: idempotent writes, issue resolution, timeline, retention."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.assessment import (
    AssessmentContext,
    AssessmentTrigger,
    finalize_assessment,
    rule_based_explanation,
)
from temporal_dsql_copilot.assessment.models import HealthAssessment
from temporal_dsql_copilot.health import (
    Evaluation,
    HealthState,
    MachineState,
    ScaleBand,
    assess_workers,
    evaluate,
    service_health,
    thresholds_for,
)
from temporal_dsql_copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot
from temporal_dsql_copilot.store import ResumePoint, StateStore, StoredSnapshot
from temporal_dsql_copilot.store.store import DSQL_MAX_ROWS_PER_TRANSACTION, PRUNE_BATCH_ROWS

T0 = Instant.parse_iso("2026-11-20T10:00:00Z")


def _snap(at: Instant, st: float, backlog: float, p99: float = 20.0) -> SignalSnapshot:
    return SignalSnapshot(observed_at=at.format_iso(),
                          primary=PrimarySignals(state_transitions_per_sec=st, history_tasks_per_sec=st,
                                                 backlog_age_sec=backlog, workflow_completions_per_sec=10,
                                                 workflow_failures_per_sec=0),
                          amplifiers=AmplifierSignals(persistence_latency_p99_ms=p99))


def _assessment(state: MachineState, snap: SignalSnapshot, seq: int,
                wf: str = "wf-observe") -> tuple[Evaluation, HealthAssessment]:
    ev = evaluate(state, snap)
    workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
    ctx = AssessmentContext(trigger=AssessmentTrigger.STATE_CHANGE, evaluation=ev, workers=workers,
                            services=service_health(ev, workers), snapshot=snap)
    return ev, finalize_assessment(ctx, rule_based_explanation(ctx), workflow_id=wf, sequence=seq,
                                   assessed_at=snap.observed_at, explained_by="rules")


async def test_assessment_writes_are_idempotent_and_resolve_issues(cluster_store: StateStore) -> None:
    start = MachineState(band=ScaleBand.MID)
    ev1, stressed = _assessment(start, _snap(T0, 100, 2, p99=900.0), 1)
    assert stressed.health_state is HealthState.STRESSED and stressed.issues
    # The same assessment written twice concurrently (a retried activity): one row.
    results = await asyncio.gather(*[cluster_store.save_assessment(stressed) for _ in range(4)])
    assert sorted(results) == [False, False, False, True]
    assert len(await cluster_store.issues()) == len(stressed.issues)

    _, happy = _assessment(ev1.current, _snap(T0 + TimeDelta(minutes=5), 100, 2), 2)
    assert happy.issues == []
    assert await cluster_store.save_assessment(happy)
    assert await cluster_store.issues() == []
    resolved = await cluster_store.issues(include_resolved=True)
    assert resolved and all(r.resolved_at == happy.assessed_at for r in resolved)

    latest = await cluster_store.latest_assessment()
    assert latest is not None and latest.id == happy.id
    assert await cluster_store.last_assessment_at() == happy.assessed_at
    window = await cluster_store.assessments_between(T0, T0 + TimeDelta(hours=1))
    assert [a.sequence for a in window] == [2, 1]


async def test_timeline_lists_state_changes(cluster_store: StateStore) -> None:
    state = MachineState(band=ScaleBand.MID)
    series = [(100, 2), (100, 90), (100, 90), (100, 2), (100, 2)]
    for cycle, (st, backlog) in enumerate(series):
        snap = _snap(T0 + TimeDelta(seconds=30 * cycle), st, backlog)
        ev = evaluate(state, snap)
        stored = StoredSnapshot(cluster_id=cluster_store.cluster_id, workflow_id="wf", cycle=cycle,
                                health_state=ev.state, band=ev.current.band.value, snapshot=snap,
                                transition=ev.transition)
        assert await cluster_store.save_snapshot(stored)
        assert not await cluster_store.save_snapshot(stored)  # idempotent
        state = ev.current
    timeline = await cluster_store.timeline(T0, T0 + TimeDelta(hours=1))
    assert [(e.from_state, e.health_state) for e in timeline] == [
        (HealthState.HAPPY, HealthState.STRESSED), (HealthState.STRESSED, HealthState.HAPPY)]
    later = await cluster_store.timeline(T0 + TimeDelta(seconds=45), T0 + TimeDelta(hours=1))
    assert later[0].from_state is None and later[0].health_state is HealthState.STRESSED
    latest = await cluster_store.latest_snapshot()
    assert latest is not None and latest.cycle == 4


async def test_prune_enforces_retention(cluster_store: StateStore) -> None:
    old = T0 - TimeDelta(hours=24 * 10)
    _, a_old = _assessment(MachineState(), _snap(old, 100, 2), 1, wf="wf-prune")
    _, a_new = _assessment(MachineState(), _snap(T0, 100, 2), 2, wf="wf-prune")
    for a in (a_old, a_new):
        await cluster_store.save_assessment(a)
    deleted = await cluster_store.prune(T0 - TimeDelta(hours=24 * 7))
    assert deleted["copilot_assessments"] >= 1
    remaining = await cluster_store.assessments_between(old - TimeDelta(hours=1), T0 + TimeDelta(hours=1))
    assert [a.id for a in remaining] == [a_new.id]


_ROW_LIMIT_TRIGGER = """
CREATE OR REPLACE FUNCTION copilot_test_row_limit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM old_rows) > {limit} THEN
        RAISE EXCEPTION 'transaction row limit exceeded' USING ERRCODE = '54000';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER copilot_test_row_limit AFTER DELETE ON copilot_signal_snapshots
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION copilot_test_row_limit();
"""


async def test_prune_deletes_in_batches_under_the_row_limit(cluster_store: StateStore) -> None:
    """DSQL refuses a transaction that modifies more than 3,000 rows; the stand-in gets the same limit
    (scaled down to the batch size, by a trigger) and the prune still removes every old row."""
    assert PRUNE_BATCH_ROWS <= DSQL_MAX_ROWS_PER_TRANSACTION
    batch, old = 10, T0 - TimeDelta(hours=24 * 10)
    for cycle in range(batch * 3 + 5):  # three full batches and a short one
        assert await cluster_store.save_snapshot(StoredSnapshot(
            cluster_id=cluster_store.cluster_id, workflow_id="wf-batches", cycle=cycle,
            health_state=HealthState.HAPPY, band="mid", snapshot=_snap(old + TimeDelta(seconds=cycle), 100, 2)))
    kept = StoredSnapshot(cluster_id=cluster_store.cluster_id, workflow_id="wf-batches", cycle=999,
                          health_state=HealthState.HAPPY, band="mid", snapshot=_snap(T0, 100, 2))
    assert await cluster_store.save_snapshot(kept)
    async with cluster_store.pool.acquire() as conn:
        await conn.execute(_ROW_LIMIT_TRIGGER.format(limit=batch))
    try:
        with pytest.raises(asyncpg.exceptions.ProgramLimitExceededError):  # one DELETE of everything fails
            async with cluster_store.pool.acquire() as conn:
                await conn.execute("DELETE FROM copilot_signal_snapshots WHERE observed_at < $1",
                                   (T0 - TimeDelta(hours=24 * 7)).to_stdlib())
        deleted = await cluster_store.prune(T0 - TimeDelta(hours=24 * 7), batch_rows=batch)
    finally:
        async with cluster_store.pool.acquire() as conn:
            await conn.execute("DROP TRIGGER IF EXISTS copilot_test_row_limit ON copilot_signal_snapshots;"
                               " DROP FUNCTION IF EXISTS copilot_test_row_limit()")
    assert deleted["copilot_signal_snapshots"] >= batch * 3 + 5
    async with cluster_store.pool.acquire() as conn:
        cycles = await conn.fetch("SELECT cycle FROM copilot_signal_snapshots WHERE cluster_id = $1",
                                  cluster_store.cluster_id)
    assert [r["cycle"] for r in cycles] == [999]
    with pytest.raises(ValueError, match="batch_rows"):
        await cluster_store.prune(T0, batch_rows=DSQL_MAX_ROWS_PER_TRANSACTION + 1)


async def test_resume_point_is_the_last_state_and_the_numbers_already_used(cluster_store: StateStore) -> None:
    """A fresh observe run picks up the stored state, cycle and sequence (ids derive from them)."""
    assert await cluster_store.resume_point("wf-resume") is None  # first start: nothing stored
    for cycle, state in ((4, HealthState.STRESSED), (5, HealthState.CRITICAL)):
        stored = StoredSnapshot(cluster_id=cluster_store.cluster_id, workflow_id="wf-resume", cycle=cycle,
                                health_state=state, band="mid", snapshot=_snap(T0 + TimeDelta(seconds=cycle), 1, 400))
        assert await cluster_store.save_snapshot(stored)
    _, assessment = _assessment(MachineState(band=ScaleBand.MID), _snap(T0, 100, 2, p99=900.0), 3, wf="wf-resume")
    assert await cluster_store.save_assessment(assessment)
    point = await cluster_store.resume_point("wf-resume")
    assert point == ResumePoint(health_state=HealthState.CRITICAL, band="mid", cycle=5, sequence=3,
                                last_assessment_at=await cluster_store.last_assessment_at())
    # Another workflow id of the same cluster resumes the state but has used no numbers yet.
    other = await cluster_store.resume_point("wf-other")
    assert other is not None and other.health_state is HealthState.CRITICAL and (other.cycle, other.sequence) == (0, 0)


async def test_resume_point_brings_back_the_recent_window_oldest_first(cluster_store: StateStore) -> None:
    """The sliding window survives a restart: the last N snapshots inside its span, in order."""
    base = T0 + TimeDelta(hours=1)
    for cycle in range(1, 7):  # one snapshot a minute
        stored = StoredSnapshot(cluster_id=cluster_store.cluster_id, workflow_id="wf-window", cycle=cycle,
                                health_state=HealthState.STRESSED, band="mid",
                                snapshot=_snap(base + TimeDelta(minutes=cycle), cycle, 400))
        assert await cluster_store.save_snapshot(stored)
    point = await cluster_store.resume_point("wf-window", window_size=4, window_since=base)
    assert point is not None
    assert [s.observed_at for s in point.window] == [(base + TimeDelta(minutes=c)).format_iso() for c in (3, 4, 5, 6)]
    # Snapshots older than the span are a cluster the loop no longer sees: left out.
    recent = await cluster_store.resume_point("wf-window", window_size=4, window_since=base + TimeDelta(minutes=5))
    assert recent is not None and [s.observed_at for s in recent.window] == [
        (base + TimeDelta(minutes=c)).format_iso() for c in (5, 6)]
    assert (await cluster_store.resume_point("wf-window")).window == []  # type: ignore[union-attr]
