"""The copilot's state store (Aurora DSQL; PostgreSQL stand-in locally)."""

from copilot.store.schema import TABLES, schema_statements
from copilot.store.store import (
           IssueRecord,
           ResumePoint,
           StateStore,
           StoredSnapshot,
           TimelineEntry,
           snapshot_id,
)

__all__ = ["TABLES", "IssueRecord", "ResumePoint", "StateStore", "StoredSnapshot", "TimelineEntry",
           "schema_statements", "snapshot_id"]
