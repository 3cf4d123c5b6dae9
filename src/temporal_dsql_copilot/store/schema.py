"""The copilot's state-store schema, DSQL-compatible: UUID keys, JSON as TEXT, no foreign keys,
one DDL statement per transaction, ``CREATE INDEX ASYNC`` on DSQL.

``copilot_issues`` holds one row per incident: ``issue_key`` (uuid5 of cluster, service and
title: the dedupe rule) names the condition, ``occurrences`` counts the assessments that reported
it and ``last_seen_at`` is the latest of them. Columns added after the first release are nullable
without defaults (what DSQL's ADD COLUMN allows) and are filled for older rows by the store."""

from __future__ import annotations

from temporal_dsql_core.dsql import Dialect, create_index_sql

__all__ = ["TABLES", "schema_statements"]

TABLES = ("copilot_assessments", "copilot_issues", "copilot_signal_snapshots")

_TABLE_DDL = (
    """CREATE TABLE IF NOT EXISTS copilot_assessments (
        id UUID PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        assessed_at TIMESTAMPTZ NOT NULL,
        trigger TEXT NOT NULL,
        health_state TEXT NOT NULL,
        band TEXT NOT NULL,
        bottleneck TEXT NOT NULL,
        summary TEXT NOT NULL,
        explained_by TEXT NOT NULL,
        document TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS copilot_issues (
        id UUID PRIMARY KEY,
        assessment_id UUID NOT NULL,
        cluster_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        service TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        document TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        resolved_at TIMESTAMPTZ,
        issue_key UUID,
        occurrences INTEGER,
        last_seen_at TIMESTAMPTZ,
        last_assessment_id UUID
    )""",
    """CREATE TABLE IF NOT EXISTS copilot_signal_snapshots (
        id UUID PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        cycle INTEGER NOT NULL,
        observed_at TIMESTAMPTZ NOT NULL,
        health_state TEXT NOT NULL,
        band TEXT NOT NULL,
        transition TEXT,
        document TEXT NOT NULL
    )""",
)

_COLUMN_DDL = (
    # Tables created before one incident became one row (nullable, no default: DSQL's ADD COLUMN).
    "ALTER TABLE copilot_issues ADD COLUMN IF NOT EXISTS issue_key UUID",
    "ALTER TABLE copilot_issues ADD COLUMN IF NOT EXISTS occurrences INTEGER",
    "ALTER TABLE copilot_issues ADD COLUMN IF NOT EXISTS last_seen_at TIMESTAMPTZ",
    "ALTER TABLE copilot_issues ADD COLUMN IF NOT EXISTS last_assessment_id UUID",
)

_INDEXES = (
    ("copilot_assessments_cluster_time", "copilot_assessments", ("cluster_id", "assessed_at")),
    ("copilot_issues_cluster_open", "copilot_issues", ("cluster_id", "resolved_at", "severity")),
    ("copilot_issues_created", "copilot_issues", ("created_at",)),
    # The open row of one condition (the dedupe lookup). Clearing reads the cluster's open rows
    # through copilot_issues_cluster_open: they are the rows it resolves, so no index of its own
    # (each index is one more entry to rewrite for every cleared row).
    ("copilot_issues_key_open", "copilot_issues", ("issue_key", "resolved_at")),
    ("copilot_snapshots_cluster_time", "copilot_signal_snapshots", ("cluster_id", "observed_at")),
)


def schema_statements(dialect: Dialect) -> list[str]:
    return [*_TABLE_DDL, *_COLUMN_DDL, *(create_index_sql(dialect, n, t, c) for n, t, c in _INDEXES)]
