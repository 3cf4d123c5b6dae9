"""The copilot's state store (Aurora DSQL; PostgreSQL stand-in locally)."""

from temporal_dsql_copilot.store.schema import TABLES, schema_statements
from temporal_dsql_copilot.store.store import (
           IssueRecord,
           ResumePoint,
           StateStore,
           StoredSnapshot,
           TimelineEntry,
           snapshot_id,
)

__all__ = ["TABLES", "IssueRecord", "ResumePoint", "StateStore", "StoredSnapshot", "TimelineEntry",
           "schema_statements", "snapshot_id"]
