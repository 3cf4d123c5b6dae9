"""The state store: assessments, issues and signal snapshots in Aurora DSQL (PostgreSQL locally).

Writes are idempotent (ids derived from workflow id and sequence; ``ON CONFLICT DO NOTHING``) and
run as whole transactions retried on OCC conflicts (``temporal_dsql_core.dsql.run_transaction``).

One incident, one issue (the dedupe rule): an issue is the same condition when cluster, service and
title match (``issue_key``). While it persists it stays one open row whose ``occurrences`` and
``last_seen_at`` each assessment that reports it moves on. Storing an assessment resolves the open
issues it no longer reports: those whose ``last_seen_at`` is older than the assessment. Every write
stays inside DSQL's per-transaction limits (3,000 modified rows, 5 minutes): the assessment row is
one transaction, its issues are upserted in transactions of at most ``ISSUE_BATCH_ROWS``, and
clearing is a set-based ``UPDATE ... WHERE id IN (SELECT ... LIMIT n)`` repeated until a batch
comes back short. Each step is idempotent (an issue row remembers the last assessment that counted
it; clearing only touches rows still open and older than the assessment), so a retry after a crash
between any two batches finishes the work without counting anything twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from whenever import Instant

from temporal_dsql_copilot.assessment.models import HealthAssessment, Issue
from temporal_dsql_copilot.exceptions import StoreUnavailableError
from temporal_dsql_copilot.health import HealthState, ServiceHealth, Transition
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.signals import SignalSnapshot
from temporal_dsql_copilot.store.db_roles import grants_for
from temporal_dsql_copilot.store.schema import TABLES, schema_statements
from temporal_dsql_core.db_roles import apply_roles
from temporal_dsql_core.dsql import Dialect, IamTokenProvider, apply_ddl, create_pool, run_transaction

if TYPE_CHECKING:
    import asyncpg

__all__ = ["CLEAR_BATCH_ROWS", "DSQL_MAX_ROWS_PER_TRANSACTION", "ISSUE_BATCH_ROWS", "PRUNE_BATCH_ROWS", "SNAPSHOT_NAMESPACE", "IssueRecord", "ResumePoint", "StateStore", "StoredSnapshot", "TimelineEntry", "issue_key", "snapshot_id", "store_password"]

_TRANSITION: TypeAdapter[Transition] = TypeAdapter(Transition)

DSQL_MAX_ROWS_PER_TRANSACTION = 3000
"""Aurora DSQL's quota on rows modified by one transaction."""
PRUNE_BATCH_ROWS = 1000
"""Rows the retention job deletes per transaction (well under the DSQL quota)."""
CLEAR_BATCH_ROWS = 1000
"""Open issues one clearing transaction resolves."""
ISSUE_BATCH_ROWS = 1000
"""Issues of one assessment upserted per transaction."""

SNAPSHOT_NAMESPACE = uuid.UUID("0d7f3c1e-2b9a-4c55-8e61-4a3f9b2c7d01")
ISSUE_NAMESPACE = uuid.UUID("5c2e8a17-3f4d-4b6e-9a1c-7e0d2b8f6a35")


def issue_key(cluster_id: str, service: str, title: str) -> uuid.UUID:
    """The dedupe rule: the same cluster, service and title are the same condition."""
    return uuid.uuid5(ISSUE_NAMESPACE, json.dumps([cluster_id, service, title], ensure_ascii=False))


def _affected(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


def snapshot_id(cluster_id: str, workflow_id: str, cycle: int) -> str:
    return str(uuid.uuid5(SNAPSHOT_NAMESPACE, f"{cluster_id}/{workflow_id}/{cycle}"))


def _issue_id(assessment_id: str, index: int) -> str:
    return str(uuid.uuid5(uuid.UUID(assessment_id), f"issue/{index}"))


def _to_py(instant_text: str) -> Any:
    return Instant.parse_iso(instant_text).to_stdlib()


def _iso(value: Any) -> str:
    return Instant.from_timestamp(value.timestamp(), unit="second").format_iso() if value is not None else ""


class StoredSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    cluster_id: str
    workflow_id: str
    cycle: int
    health_state: HealthState
    band: str
    snapshot: SignalSnapshot
    transition: Transition | None = None
    services: list[ServiceHealth] = Field(default_factory=list)
    """Per-service health from the same evaluation (what /status/services serves)."""


class ResumePoint(BaseModel):
    """Where an observe loop started afresh (same workflow id, new run) picks up: the last stored
    state and band of the cluster, and the cycle and sequence its workflow id already used (ids of
    snapshots and assessments derive from them, so starting again at 0 would collide)."""

    health_state: HealthState
    band: str
    cycle: int
    sequence: int
    last_assessment_at: str | None
    window: list[SignalSnapshot] = Field(default_factory=list)
    """The most recent stored snapshots (oldest first) still inside the sliding window's span, so a
    restarted loop explains its first assessment with the trend it had, not with one sample."""


class IssueRecord(BaseModel):
    id: str
    assessment_id: str
    """The assessment that first reported the condition."""
    severity: str
    service: str
    title: str
    created_at: str
    """First seen."""
    resolved_at: str | None
    occurrences: int = 1
    """Assessments that reported the condition while it was open."""
    last_seen_at: str
    issue: Issue
    """The latest report of the condition."""


class TimelineEntry(BaseModel):
    at: str
    health_state: HealthState
    from_state: HealthState | None
    reason: str | None


def store_password(settings: CopilotSettings) -> str | IamTokenProvider:
    """The stand-in's static password, else a DSQL IAM token: ``admin``'s (DbConnectAdmin) only for
    the user ``admin``; a dedicated role (copilot_store, copilot_status) presents a
    ``generate_db_connect_auth_token`` token, which ``dsql:DbConnect`` authorises."""
    if settings.dsql_password is not None:
        return settings.dsql_password.get_secret_value()
    return IamTokenProvider(hostname=settings.dsql_endpoint, region=settings.aws_region,
                            admin=settings.dsql_user == "admin")


@dataclass
class StateStore:
    pool: asyncpg.Pool
    cluster_id: str
    dialect: Dialect = Dialect.POSTGRES

    @classmethod
    async def connect(cls, settings: CopilotSettings, *, dialect: Dialect | None = None,
                      min_size: int = 1, max_size: int = 5) -> StateStore:
        password = store_password(settings)
        dialect = dialect or (Dialect.POSTGRES if isinstance(password, str) else Dialect.DSQL)
        try:
            pool = await create_pool(
                host=settings.dsql_endpoint, port=settings.dsql_port, user=settings.dsql_user,
                database=settings.dsql_database, password=password,
                ssl="require" if dialect is Dialect.DSQL else None, min_size=min_size, max_size=max_size,
            )
        except (OSError, TimeoutError) as exc:
            raise StoreUnavailableError(f"cannot reach the state store at {settings.dsql_endpoint}: {exc}") from exc
        return cls(pool=pool, cluster_id=settings.cluster_id, dialect=dialect)

    async def close(self) -> None:
        await self.pool.close()

    async def setup_schema(self, *, roles: Mapping[str, str | None] | None = None,
                           login_passwords: Mapping[str, str] | None = None) -> list[str]:
        """Create the tables and indexes (connected as ``admin``), then each dedicated role in
        ``roles`` (database role -> the IAM role ARN it maps to; None on the PostgreSQL stand-in,
        where ``login_passwords`` give it a password instead). Returns the statements run."""
        ran = schema_statements(self.dialect)
        await apply_ddl(self.pool, ran)
        await self._backfill_issue_columns()
        if roles:
            ran += await apply_roles(self.pool, self.dialect, roles, grants_for, login_passwords=login_passwords)
        return ran

    async def _backfill_issue_columns(self) -> None:
        """Give issue rows written before the dedupe columns their key, count and last-seen time,
        in batches of ``CLEAR_BATCH_ROWS`` (one transaction each; rerunnable)."""
        async def batch(conn: asyncpg.Connection) -> int:
            rows = await conn.fetch("SELECT id, cluster_id, service, title FROM copilot_issues"
                                    " WHERE last_seen_at IS NULL LIMIT $1", CLEAR_BATCH_ROWS)
            await conn.executemany(
                "UPDATE copilot_issues SET issue_key = $2, occurrences = 1, last_seen_at = created_at,"
                " last_assessment_id = assessment_id WHERE id = $1 AND last_seen_at IS NULL",
                [(r["id"], issue_key(r["cluster_id"], r["service"], r["title"])) for r in rows])
            return len(rows)

        while await run_transaction(self.pool, batch) == CLEAR_BATCH_ROWS:
            pass

    async def table_counts(self) -> dict[str, int]:
        async with self.pool.acquire() as conn:
            return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}

    # --- writes -------------------------------------------------------------------------------

    async def save_snapshot(self, stored: StoredSnapshot) -> bool:
        """Insert one cycle's snapshot; False when that (workflow, cycle) was already stored."""
        sid = snapshot_id(stored.cluster_id, stored.workflow_id, stored.cycle)
        transition = _TRANSITION.dump_json(stored.transition).decode() if stored.transition else None

        async def body(conn: asyncpg.Connection) -> bool:
            status = await conn.execute(
                "INSERT INTO copilot_signal_snapshots (id, cluster_id, workflow_id, cycle, observed_at, health_state,"
                " band, transition, document) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (id) DO NOTHING",
                uuid.UUID(sid), stored.cluster_id, stored.workflow_id, stored.cycle,
                _to_py(stored.snapshot.observed_at), stored.health_state.value, stored.band, transition,
                json.dumps({"snapshot": stored.snapshot.model_dump(mode="json"),
                            "services": [s.model_dump(mode="json") for s in stored.services]}))
            return bool(status.endswith(" 1"))

        return await run_transaction(self.pool, body)

    async def save_assessment(self, assessment: HealthAssessment, *,
                              batch_rows: int = CLEAR_BATCH_ROWS) -> bool:
        """Store the assessment, count its issues on their open rows (or open new ones), resolve the
        open issues it no longer reports. True when the assessment was new; a retry (False) still
        finishes the issue upserts and the clearing a crash may have cut short."""
        if not 1 <= batch_rows <= DSQL_MAX_ROWS_PER_TRANSACTION:
            raise ValueError(f"batch_rows={batch_rows} is outside 1..{DSQL_MAX_ROWS_PER_TRANSACTION} (DSQL's "
                             f"per-transaction row limit); use the default {CLEAR_BATCH_ROWS}.")
        at = _to_py(assessment.assessed_at)
        aid = uuid.UUID(assessment.id)

        async def insert(conn: asyncpg.Connection) -> bool:
            status = await conn.execute(
                "INSERT INTO copilot_assessments (id, cluster_id, workflow_id, sequence, assessed_at, trigger,"
                " health_state, band, bottleneck, summary, explained_by, document, created_at)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (id) DO NOTHING",
                aid, self.cluster_id, assessment.workflow_id, assessment.sequence, at,
                assessment.trigger.value, assessment.health_state.value, assessment.band.value,
                assessment.bottleneck.value, assessment.summary, assessment.explained_by,
                assessment.model_dump_json(), Instant.now().to_stdlib())
            return bool(status.endswith(" 1"))

        inserted = await run_transaction(self.pool, insert)
        # One report per condition: an assessment naming the same issue twice counts it once.
        reported: dict[uuid.UUID, tuple[int, Issue]] = {}
        for index, issue in enumerate(assessment.issues):
            reported.setdefault(issue_key(self.cluster_id, issue.service, issue.title), (index, issue))
        items = list(reported.items())
        for first in range(0, len(items), min(batch_rows, ISSUE_BATCH_ROWS)):
            chunk = items[first:first + min(batch_rows, ISSUE_BATCH_ROWS)]

            async def upsert(conn: asyncpg.Connection, chunk: list[tuple[uuid.UUID, tuple[int, Issue]]] = chunk) -> None:
                for key, (index, issue) in chunk:
                    # The newest open row of the condition; older duplicates (rows written before the
                    # dedupe rule) are left to the clearing below.
                    row = await conn.fetchrow(
                        "SELECT id, last_assessment_id, last_seen_at FROM copilot_issues"
                        " WHERE issue_key = $1 AND resolved_at IS NULL ORDER BY created_at DESC LIMIT 1", key)
                    if row is None:
                        await conn.execute(
                            "INSERT INTO copilot_issues (id, assessment_id, cluster_id, severity, service, title,"
                            " description, document, created_at, issue_key, occurrences, last_seen_at,"
                            " last_assessment_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,1,$9,$2)"
                            " ON CONFLICT (id) DO NOTHING",
                            uuid.UUID(_issue_id(assessment.id, index)), aid, self.cluster_id, issue.severity,
                            issue.service, issue.title, issue.description, issue.model_dump_json(), at, key)
                    elif row["last_assessment_id"] != aid and row["last_seen_at"] < at:
                        await conn.execute(
                            "UPDATE copilot_issues SET occurrences = occurrences + 1, last_seen_at = $2,"
                            " last_assessment_id = $3, severity = $4, description = $5, document = $6"
                            " WHERE id = $1", row["id"], at, aid, issue.severity, issue.description,
                            issue.model_dump_json())

            await run_transaction(self.pool, upsert)
        await self.clear_issues(Instant.parse_iso(assessment.assessed_at), batch_rows=batch_rows)
        return inserted

    async def clear_issues(self, instant: Instant, *, batch_rows: int = CLEAR_BATCH_ROWS) -> int:
        """Resolve, at ``instant``, every open issue of this cluster last seen before it: one
        set-based UPDATE of at most ``batch_rows`` rows per transaction, until a batch is short."""
        at = instant.to_stdlib()

        async def batch(conn: asyncpg.Connection) -> int:
            return _affected(await conn.execute(
                "UPDATE copilot_issues SET resolved_at = $2 WHERE id IN (SELECT id FROM copilot_issues"
                " WHERE cluster_id = $1 AND resolved_at IS NULL AND last_seen_at < $2 LIMIT $3)",
                self.cluster_id, at, batch_rows))

        total = 0
        while True:
            cleared = await run_transaction(self.pool, batch)
            total += cleared
            if cleared < batch_rows:
                return total

    async def prune(self, before: Instant, *, batch_rows: int = PRUNE_BATCH_ROWS) -> dict[str, int]:
        """Delete rows older than ``before`` (retention; the job keeps at least 7 days).

        DSQL modifies at most 3,000 rows per transaction (SQLSTATE 54000 beyond), and a week of 30 s
        snapshots alone is ~20,000 rows, so each table is emptied in batches of ``batch_rows``, each
        its own OCC-retried transaction, until a batch comes back short. A retried or interrupted
        run simply continues: every batch only removes rows that are past the cutoff.
        """
        if not 1 <= batch_rows <= DSQL_MAX_ROWS_PER_TRANSACTION:
            raise ValueError(f"batch_rows={batch_rows} is outside 1..{DSQL_MAX_ROWS_PER_TRANSACTION} (DSQL's "
                             f"per-transaction row limit); use the default {PRUNE_BATCH_ROWS}.")
        cutoff = before.to_stdlib()
        # An issue is kept while it is still being seen, however long ago it was first reported.
        columns = {"copilot_signal_snapshots": "observed_at", "copilot_issues": "last_seen_at",
                   "copilot_assessments": "assessed_at"}
        deleted: dict[str, int] = {}
        for table, column in columns.items():
            # table and column come from the constants above, never from input.
            sql = (f"DELETE FROM {table} WHERE id IN"
                   f" (SELECT id FROM {table} WHERE {column} < $1 LIMIT $2)")

            async def body(conn: asyncpg.Connection, sql: str = sql) -> int:
                return _affected(await conn.execute(sql, cutoff, batch_rows))

            total = 0
            while True:
                batch = await run_transaction(self.pool, body)
                total += batch
                if batch < batch_rows:
                    break
            deleted[table] = total
        return deleted

    # --- reads --------------------------------------------------------------------------------

    async def latest_assessment(self) -> HealthAssessment | None:
        async with self.pool.acquire() as conn:
            doc = await conn.fetchval(
                "SELECT document FROM copilot_assessments WHERE cluster_id = $1 ORDER BY assessed_at DESC,"
                " sequence DESC LIMIT 1", self.cluster_id)
        return HealthAssessment.model_validate_json(doc) if doc else None

    async def last_assessment_at(self) -> str | None:
        async with self.pool.acquire() as conn:
            value = await conn.fetchval(
                "SELECT max(assessed_at) FROM copilot_assessments WHERE cluster_id = $1", self.cluster_id)
        return _iso(value) if value is not None else None

    async def assessments_between(self, start: Instant, end: Instant, *, limit: int = 100) -> list[HealthAssessment]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT document FROM copilot_assessments WHERE cluster_id = $1 AND assessed_at >= $2"
                " AND assessed_at < $3 ORDER BY assessed_at DESC LIMIT $4",
                self.cluster_id, start.to_stdlib(), end.to_stdlib(), limit)
        return [HealthAssessment.model_validate_json(r["document"]) for r in rows]

    async def resume_point(self, workflow_id: str, *, window_size: int = 0,
                           window_since: Instant | None = None) -> ResumePoint | None:
        """None when nothing was ever stored for this cluster (a first start). With ``window_size``,
        the last that many snapshots observed at or after ``window_since`` come back as the window
        (older ones describe a cluster the loop no longer sees)."""
        async with self.pool.acquire() as conn:
            last = await conn.fetchrow(
                "SELECT health_state, band FROM copilot_signal_snapshots WHERE cluster_id = $1"
                " ORDER BY observed_at DESC, cycle DESC LIMIT 1", self.cluster_id)
            if last is None:
                return None
            cycle = await conn.fetchval(
                "SELECT max(cycle) FROM copilot_signal_snapshots WHERE cluster_id = $1 AND workflow_id = $2",
                self.cluster_id, workflow_id)
            sequence = await conn.fetchval(
                "SELECT max(sequence) FROM copilot_assessments WHERE cluster_id = $1 AND workflow_id = $2",
                self.cluster_id, workflow_id)
            recent = [] if window_size <= 0 else await conn.fetch(
                "SELECT document FROM copilot_signal_snapshots WHERE cluster_id = $1 AND observed_at >= $2"
                " ORDER BY observed_at DESC, cycle DESC LIMIT $3",
                self.cluster_id, (window_since or Instant.from_timestamp(0)).to_stdlib(), window_size)
        window = [SignalSnapshot.model_validate(json.loads(r["document"])["snapshot"]) for r in reversed(recent)]
        return ResumePoint(health_state=HealthState(last["health_state"]), band=last["band"], cycle=cycle or 0,
                           sequence=sequence or 0, last_assessment_at=await self.last_assessment_at(), window=window)

    async def latest_snapshot(self) -> StoredSnapshot | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT workflow_id, cycle, health_state, band, transition, document FROM copilot_signal_snapshots"
                " WHERE cluster_id = $1 ORDER BY observed_at DESC, cycle DESC LIMIT 1", self.cluster_id)
        if row is None:
            return None
        document = json.loads(row["document"])
        return StoredSnapshot(
            cluster_id=self.cluster_id, workflow_id=row["workflow_id"], cycle=row["cycle"],
            health_state=HealthState(row["health_state"]), band=row["band"],
            snapshot=SignalSnapshot.model_validate(document["snapshot"]),
            services=[ServiceHealth.model_validate(s) for s in document["services"]],
            transition=_TRANSITION.validate_json(row["transition"]) if row["transition"] else None)

    async def issues(self, *, severity: str | None = None, include_resolved: bool = False,
                     limit: int = 50) -> list[IssueRecord]:
        sql = ("SELECT id, assessment_id, severity, service, title, created_at, resolved_at, document,"
               " occurrences, last_seen_at FROM copilot_issues WHERE cluster_id = $1")
        args: list[Any] = [self.cluster_id]
        if not include_resolved:
            sql += " AND resolved_at IS NULL"
        if severity is not None:
            args.append(severity)
            sql += f" AND severity = ${len(args)}"
        args.append(limit)
        sql += f" ORDER BY created_at DESC LIMIT ${len(args)}"
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(sql, *args)
        return [IssueRecord(id=str(r["id"]), assessment_id=str(r["assessment_id"]), severity=r["severity"],
                            service=r["service"], title=r["title"], created_at=_iso(r["created_at"]),
                            resolved_at=_iso(r["resolved_at"]) if r["resolved_at"] else None,
                            occurrences=r["occurrences"] or 1,
                            last_seen_at=_iso(r["last_seen_at"] or r["created_at"]),
                            issue=Issue.model_validate_json(r["document"])) for r in rows]

    async def timeline(self, start: Instant, end: Instant) -> list[TimelineEntry]:
        """State changes in [start, end), preceded by the state in force at ``start``."""
        async with self.pool.acquire() as conn:
            before = await conn.fetchrow(
                "SELECT observed_at, health_state FROM copilot_signal_snapshots WHERE cluster_id = $1"
                " AND observed_at < $2 ORDER BY observed_at DESC LIMIT 1", self.cluster_id, start.to_stdlib())
            rows = await conn.fetch(
                "SELECT observed_at, health_state, transition FROM copilot_signal_snapshots WHERE cluster_id = $1"
                " AND observed_at >= $2 AND observed_at < $3 AND transition IS NOT NULL ORDER BY observed_at",
                self.cluster_id, start.to_stdlib(), end.to_stdlib())
        out: list[TimelineEntry] = []
        if before is not None:
            out.append(TimelineEntry(at=start.format_iso(), health_state=HealthState(before["health_state"]),
                                     from_state=None, reason="state in force at the start of the range"))
        for r in rows:
            t = json.loads(r["transition"])
            out.append(TimelineEntry(at=_iso(r["observed_at"]), health_state=HealthState(r["health_state"]),
                                     from_state=HealthState(t["from_state"]), reason=t.get("reason")))
        return out
