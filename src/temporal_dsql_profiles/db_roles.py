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

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

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

_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_IAM_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")


def _check(role: str, iam_arn: str | None) -> None:
    if not _ROLE_NAME.fullmatch(role):
        raise ValueError(f"database role {role!r} is not a plain lower-case identifier")
    if iam_arn is not None and not _IAM_ROLE_ARN.fullmatch(iam_arn):
        raise ValueError(f"{iam_arn!r} is not an IAM role ARN")


def grant_statements(dialect: Dialect, role: str, iam_arn: str | None, *, exists: bool,
                     mapped: bool = False, login_password: str | None = None) -> list[str]:
    """The statements giving ``role`` login, its IAM mapping (DSQL) and DML on the profile tables."""
    _check(role, iam_arn)
    statements: list[str] = []
    if not exists:
        statements.append(f"CREATE ROLE {role} WITH LOGIN")
    if dialect is Dialect.DSQL and not mapped:
        if iam_arn is None:
            raise ValueError(f"database role {role} needs the IAM role ARN it maps to on DSQL")
        statements.append(f"AWS IAM GRANT {role} TO '{iam_arn}'")
    elif login_password is not None:
        statements.append(f"ALTER ROLE {role} WITH LOGIN PASSWORD '{login_password.replace(chr(39), chr(39) * 2)}'")
    statements += [f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}" for table in PROFILE_TABLES]
    return statements


async def setup_profile_store(pool: asyncpg.Pool, dialect: Dialect, roles: Mapping[str, str | None], *,
                              login_passwords: Mapping[str, str] | None = None) -> list[str]:
    """Create the profile tables, then each role (idempotent: an existing role is re-granted) with
    its IAM mapping and grants. Returns the statements run (for the set-up's log)."""
    from temporal_dsql_profiles.storage import schema_statements

    ran = list(schema_statements(dialect))
    await apply_ddl(pool, ran)
    for role, iam_arn in roles.items():
        _check(role, iam_arn)
        async with pool.acquire() as conn:
            exists = bool(await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role))
            mapped = exists and dialect is Dialect.DSQL and bool(await conn.fetchval(
                # DSQL's view of AWS IAM GRANTs: a re-run of the set-up does not grant twice.
                "SELECT 1 FROM sys.iam_pg_role_mappings WHERE pg_role_name = $1 AND arn = $2", role, iam_arn))
        statements = grant_statements(dialect, role, iam_arn, exists=exists, mapped=mapped,
                                      login_password=(login_passwords or {}).get(role))
        await apply_ddl(pool, statements)  # one statement per transaction, as DSQL requires
        ran += statements
    return ran
