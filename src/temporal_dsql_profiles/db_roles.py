"""Dedicated database roles for the profile store, created by the schema set-up (least privilege).

The profile API Lambda and the copilot connect to the profile index as their own roles with
``dsql:DbConnect`` (not ``admin`` with ``dsql:DbConnectAdmin``), each granted only the profile
tables. The set-up (``setup_profile_store``, run once per deployment as ``admin`` by the set-up
function, the only holder of ``DbConnectAdmin`` on the cluster) creates the tables, the roles, the
grants, and maps each role to its IAM role the way Aurora DSQL documents it::

    CREATE ROLE profile_api WITH LOGIN;
    AWS IAM GRANT profile_api TO 'arn:aws:iam::123456789012:role/profile-api';
    GRANT SELECT, INSERT, UPDATE, DELETE ON behaviour_profiles TO profile_api;

On the PostgreSQL stand-in ``AWS IAM GRANT`` does not exist; the role gets a password instead
(``login_password``), so the tests connect as the role and prove its grants are enough.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from temporal_dsql_core.db_roles import TableGrant, apply_roles, role_statements
from temporal_dsql_core.dsql import Dialect, apply_ddl

if TYPE_CHECKING:
    import asyncpg

__all__ = ["COPILOT_PROFILES_DB_ROLE", "PROFILE_API_DB_ROLE", "PROFILE_TABLES", "SETUP_EVENT", "SWEEP_EVENT",
           "grant_statements", "setup_profile_store"]

PROFILE_API_DB_ROLE = "profile_api"
COPILOT_PROFILES_DB_ROLE = "copilot_profiles"
PROFILE_TABLES = ("behaviour_profiles", "profile_baselines", "profile_list_keys", "profile_schema_marks",
                  "profile_idempotency_keys")
SETUP_EVENT = "setup-profile-store"
SWEEP_EVENT = "sweep-stale-pending"
"""Values of the ``temporal_dsql`` key of a non-HTTP Lambda event (the set-up invocation and the
EventBridge Scheduler's sweep)."""


def _grants(role: str) -> list[TableGrant]:
    return [("SELECT, INSERT, UPDATE, DELETE", table) for table in PROFILE_TABLES]


def grant_statements(dialect: Dialect, role: str, iam_arn: str | None, *, exists: bool,
                     mapped: bool = False, login_password: str | None = None) -> list[str]:
    """The statements giving ``role`` login, its IAM mapping (DSQL) and DML on the profile tables."""
    return role_statements(dialect, role, iam_arn, _grants(role), exists=exists, mapped=mapped,
                           login_password=login_password)


async def setup_profile_store(pool: asyncpg.Pool, dialect: Dialect, roles: Mapping[str, str | None], *,
                              login_passwords: Mapping[str, str] | None = None) -> list[str]:
    """Create the profile tables, then each role (idempotent: an existing role is re-granted) with
    its IAM mapping and grants. Returns the statements run (for the set-up's log)."""
    from temporal_dsql_profiles.storage import schema_statements

    ran = list(schema_statements(dialect))
    await apply_ddl(pool, ran)
    return ran + await apply_roles(pool, dialect, roles, _grants, login_passwords=login_passwords)
