"""One incident, one issue; clearing within DSQL's limits and across a crash between batches.

The PostgreSQL stand-in refuses what DSQL refuses (a transaction writing more than 3,000 rows), so
every write here runs under the real limit, not a scaled-down one.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.assessment import (
    AssessmentContext,
    AssessmentTrigger,
    finalize_assessment,
    rule_based_explanation,
)
from temporal_dsql_copilot.assessment.models import HealthAssessment, Issue
from temporal_dsql_copilot.health import (
    MachineState,
    ScaleBand,
    assess_workers,
    evaluate,
    service_health,
    thresholds_for,
)
from temporal_dsql_copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot
from temporal_dsql_copilot.store import StateStore

pytestmark = pytest.mark.standins

T0 = Instant.parse_iso("2026-11-20T10:00:00Z")
DSQL_MAX_ROWS_PER_TRANSACTION = 3000  # Aurora DSQL quotas: rows modified in one transaction


def _template() -> HealthAssessment:
    snap = SignalSnapshot(observed_at=T0.format_iso(),
                          primary=PrimarySignals(state_transitions_per_sec=100, history_tasks_per_sec=100,
                                                 backlog_age_sec=2, workflow_completions_per_sec=10,
                                                 workflow_failures_per_sec=0),
                          amplifiers=AmplifierSignals(persistence_latency_p99_ms=900.0))
    ev = evaluate(MachineState(band=ScaleBand.MID), snap)
    workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
    ctx = AssessmentContext(trigger=AssessmentTrigger.SCHEDULED, evaluation=ev, workers=workers,
                            services=service_health(ev, workers), snapshot=snap)
    return finalize_assessment(ctx, rule_based_explanation(ctx), workflow_id="wf-issues", sequence=0,
                               assessed_at=snap.observed_at, explained_by="rules")


TEMPLATE = _template()


def _assessment(sequence: int, at: Instant, conditions: list[tuple[str, str]]) -> HealthAssessment:
    issues = [Issue(severity="warning", service=service, title=title, description=f"{title} on {service}")
              for service, title in conditions]
    return TEMPLATE.model_copy(update={"id": str(uuid.uuid4()), "sequence": sequence, "assessed_at": at.format_iso(),
                                       "issues": issues})


async def _open_rows(store: StateStore) -> list[Any]:
    async with store.pool.acquire() as conn:
        return list(await conn.fetch(
            "SELECT service, title, occurrences, last_seen_at, created_at FROM copilot_issues"
            " WHERE cluster_id = $1 AND resolved_at IS NULL", store.cluster_id))


CONDITIONS = [("history", "persistence latency"), ("matching", "backlog"), ("frontend", "poll timeouts")]


# Property: one incident, one issue. Whatever sequence of assessments reports whatever conditions,
# each condition has at most one open row; it is open exactly when the latest assessment reports it;
# its count is the run of consecutive assessments reporting it and its last-seen time the latest one.
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports=st.lists(st.lists(st.sampled_from(CONDITIONS), max_size=4), min_size=1, max_size=8))
async def test_property_one_incident_one_issue_with_count_and_last_seen(
        session_store: StateStore, reports: list[list[tuple[str, str]]]) -> None:
    store = StateStore(pool=session_store.pool, cluster_id=f"dedupe-{uuid.uuid4().hex[:8]}")
    for sequence, conditions in enumerate(reports):
        assert await store.save_assessment(_assessment(sequence, T0 + TimeDelta(minutes=5 * sequence), conditions))
    rows = await _open_rows(store)
    assert len(rows) == len({(r["service"], r["title"]) for r in rows})  # never two open rows of one condition
    expected: dict[tuple[str, str], tuple[int, Instant]] = {}
    for condition in set(reports[-1]):
        run = 0
        for conditions in reversed(reports):
            if condition not in conditions:
                break
            run += 1
        expected[condition] = (run, T0 + TimeDelta(minutes=5 * (len(reports) - 1)))
    assert {(r["service"], r["title"]): (r["occurrences"], Instant.from_timestamp(r["last_seen_at"].timestamp()))
            for r in rows} == expected
    listed = await store.issues()
    assert {(i.service, i.title): i.occurrences for i in listed} == {k: v[0] for k, v in expected.items()}


async def test_a_retried_assessment_counts_its_issues_once(cluster_store: StateStore) -> None:
    first = _assessment(1, T0, CONDITIONS[:1])
    second = _assessment(2, T0 + TimeDelta(minutes=5), CONDITIONS[:1])
    assert await cluster_store.save_assessment(first)
    assert await cluster_store.save_assessment(second)
    assert not await cluster_store.save_assessment(second)  # an activity retry
    [row] = await cluster_store.issues()
    assert (row.occurrences, row.last_seen_at, row.created_at) == (2, second.assessed_at, first.assessed_at)


class _CrashingPool:
    """The store's pool until ``transactions`` acquisitions have been served, then a lost
    connection: a process that dies between two of the store's transactions."""

    def __init__(self, pool: asyncpg.Pool, transactions: int) -> None:
        self._pool, self._left = pool, transactions

    def acquire(self) -> Any:
        if self._left <= 0:
            raise ConnectionResetError("the process died here")
        self._left -= 1
        return self._pool.acquire()


@pytest.fixture
async def long_incident(session_store: StateStore) -> AsyncIterator[tuple[StateStore, HealthAssessment]]:
    """3,100 open issues of one cluster (more than one DSQL transaction may modify), then an
    assessment that reports none of them."""
    store = StateStore(pool=session_store.pool, cluster_id=f"incident-{uuid.uuid4().hex[:8]}")
    conditions = [("history", f"shard {n} slow") for n in range(DSQL_MAX_ROWS_PER_TRANSACTION + 100)]
    assert await store.save_assessment(_assessment(1, T0, conditions))  # upserted in bounded batches
    assert len(await _open_rows(store)) == len(conditions)
    yield store, _assessment(2, T0 + TimeDelta(minutes=5), [])
    async with store.pool.acquire() as conn:
        for _ in range(4):  # the cleanup stays under the limit too
            await conn.execute("DELETE FROM copilot_issues WHERE id IN (SELECT id FROM copilot_issues"
                               " WHERE cluster_id = $1 LIMIT 1000)", store.cluster_id)


async def test_clearing_a_long_incident_stays_under_the_row_limit_and_survives_a_crash_between_batches(
        long_incident: tuple[StateStore, HealthAssessment]) -> None:
    store, cleared = long_incident
    # One UPDATE of every open issue is what DSQL (and so the stand-in) refuses.
    with pytest.raises(asyncpg.exceptions.ProgramLimitExceededError):
        async with store.pool.acquire() as conn:
            await conn.execute("UPDATE copilot_issues SET resolved_at = now() WHERE cluster_id = $1"
                               " AND resolved_at IS NULL", store.cluster_id)
    # Insert the assessment (1 transaction), then two clearing batches, then the process dies.
    crashing = StateStore(pool=_CrashingPool(store.pool, 3), cluster_id=store.cluster_id)  # type: ignore[arg-type]
    with pytest.raises(ConnectionResetError):
        await crashing.save_assessment(cleared)
    left = len(await _open_rows(store))
    assert 0 < left < DSQL_MAX_ROWS_PER_TRANSACTION + 100  # some batches committed, not all
    # The retried activity finds the assessment stored and finishes the clearing.
    assert not await store.save_assessment(cleared)
    assert await _open_rows(store) == []
    async with store.pool.acquire() as conn:
        resolved = await conn.fetch("SELECT DISTINCT resolved_at FROM copilot_issues WHERE cluster_id = $1",
                                    store.cluster_id)
    assert [Instant.from_timestamp(r["resolved_at"].timestamp()) for r in resolved] == [
        Instant.parse_iso(cleared.assessed_at)]


async def test_issue_rows_from_before_the_dedupe_rule_get_their_count_and_are_cleared(
        session_store: StateStore) -> None:
    """Duplicate open rows written one per cycle by the old store: the schema set-up gives them a
    key, a count and a last-seen time, and the next assessment keeps one and resolves the rest."""
    store = StateStore(pool=session_store.pool, cluster_id=f"legacy-{uuid.uuid4().hex[:8]}")
    service, title = CONDITIONS[0]
    issue = Issue(severity="warning", service=service, title=title, description="old")
    async with store.pool.acquire() as conn:
        for cycle in range(3):
            await conn.execute(
                "INSERT INTO copilot_issues (id, assessment_id, cluster_id, severity, service, title, description,"
                " document, created_at) VALUES ($1,$2,$3,'warning',$4,$5,'old',$6,$7)", uuid.uuid4(), uuid.uuid4(),
                store.cluster_id, service, title, issue.model_dump_json(),
                (T0 + TimeDelta(minutes=cycle)).to_stdlib())
    await store.setup_schema()
    assert sorted(r["occurrences"] for r in await _open_rows(store)) == [1, 1, 1]
    assert await store.save_assessment(_assessment(9, T0 + TimeDelta(minutes=10), [(service, title)]))
    [row] = await _open_rows(store)
    assert row["occurrences"] == 2 and row["created_at"] == (T0 + TimeDelta(minutes=2)).to_stdlib()
