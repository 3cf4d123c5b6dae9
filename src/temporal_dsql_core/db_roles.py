"""Dedicated database roles, mapped to IAM the way Aurora DSQL documents it (least privilege).

Each store's schema set-up (run as ``admin``, the only ``dsql:DbConnectAdmin`` holder) creates the
roles its readers and writers connect as with ``dsql:DbConnect``, grants each only its tables, and
maps each to its IAM role::

    CREATE ROLE copilot_store WITH LOGIN;
    AWS IAM GRANT copilot_store TO 'arn:aws:iam::123456789012:role/copilot-worker-task';
    GRANT SELECT, INSERT, UPDATE, DELETE ON copilot_assessments TO copilot_store;

On the PostgreSQL stand-in ``AWS IAM GRANT`` does not exist; the role gets a password instead
(``login_password``), so tests connect as the role and prove its grants are enough. The profile
store (``temporal_dsql_profiles.db_roles``) and the copilot's state store
(``temporal_dsql_copilot.store.db_roles``) each say which tables and privileges their roles get.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from temporal_dsql_core.dsql import Dialect, apply_ddl

if TYPE_CHECKING:
    import asyncpg

__all__ = ["TableGrant", "apply_roles", "check_role", "role_statements"]

TableGrant = tuple[str, str]
"""(privileges, table), e.g. ("SELECT, INSERT", "copilot_issues")."""

# Over deployment inputs (role names are our constants, ARNs come from the plan), never client text.
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_IAM_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")
_PRIVILEGES = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})


def check_role(role: str, iam_arn: str | None) -> None:
    """Names go into SQL text (DDL takes no parameters): only plain identifiers and IAM role ARNs."""
    if not _ROLE_NAME.fullmatch(role):
        raise ValueError(f"database role {role!r} is not a plain lower-case identifier")
    if iam_arn is not None and not _IAM_ROLE_ARN.fullmatch(iam_arn):
        raise ValueError(f"{iam_arn!r} is not an IAM role ARN")


def _grant(privileges: str, table: str, role: str) -> str:
    if not {p.strip() for p in privileges.split(",")} <= _PRIVILEGES or not _ROLE_NAME.fullmatch(table):
        raise ValueError(f"grant {privileges!r} on {table!r} is not a plain DML grant on a table")
    return f"GRANT {privileges} ON {table} TO {role}"


def role_statements(dialect: Dialect, role: str, iam_arn: str | None, grants: Sequence[TableGrant], *,
                    exists: bool, mapped: bool = False, login_password: str | None = None) -> list[str]:
    """The statements giving ``role`` login, its IAM mapping (DSQL) and ``grants``."""
    check_role(role, iam_arn)
    statements: list[str] = []
    if not exists:
        statements.append(f"CREATE ROLE {role} WITH LOGIN")
    if dialect is Dialect.DSQL and not mapped:
        if iam_arn is None:
            raise ValueError(f"database role {role} needs the IAM role ARN it maps to on DSQL")
        statements.append(f"AWS IAM GRANT {role} TO '{iam_arn}'")
    elif login_password is not None:
        statements.append(f"ALTER ROLE {role} WITH LOGIN PASSWORD '{login_password.replace(chr(39), chr(39) * 2)}'")
    statements += [_grant(privileges, table, role) for privileges, table in grants]
    return statements


async def apply_roles(pool: asyncpg.Pool, dialect: Dialect, roles: Mapping[str, str | None],
                      grants_for: Callable[[str], Sequence[TableGrant]], *,
                      login_passwords: Mapping[str, str] | None = None) -> list[str]:
    """Create each role (idempotent: an existing role is re-granted) with its IAM mapping and grants,
    after the caller created the tables. Returns the statements run (for the set-up's log)."""
    ran: list[str] = []
    for role, iam_arn in roles.items():
        check_role(role, iam_arn)
        grants = grants_for(role)
        async with pool.acquire() as conn:
            exists = bool(await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role))
            mapped = exists and dialect is Dialect.DSQL and bool(await conn.fetchval(
                # DSQL's view of AWS IAM GRANTs: a re-run of the set-up does not grant twice.
                "SELECT 1 FROM sys.iam_pg_role_mappings WHERE pg_role_name = $1 AND arn = $2", role, iam_arn))
        statements = role_statements(dialect, role, iam_arn, grants, exists=exists, mapped=mapped,
                                     login_password=(login_passwords or {}).get(role))
        await apply_ddl(pool, statements)  # one statement per transaction, as DSQL requires
        ran += statements
    return ran
