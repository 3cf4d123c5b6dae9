"""IAM policy documents with exactly the actions each task needs, on exact ARNs.

Documents are built from resolved ARNs inside `Output.all(...).apply`, so a missing ARN is a
bug that shows up as an error here rather than a silent `"*"`. The only wildcard resources
allowed are the ones AWS defines no resource ARN for (listed in `ACTIONS_WITHOUT_RESOURCES`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "ACTIONS_WITHOUT_RESOURCES",
    "assume_role_policy",
    "dsql_admin_allowed",
    "lint_iam",
    "policy_document",
    "statement",
    "wildcard_resources",
]

# Actions that take no resource ARN: AWS requires "*" for them.
ACTIONS_WITHOUT_RESOURCES = frozenset(
    {
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        "ecr:GetAuthorizationToken",
    }
)

DYNAMODB_ITEM_ACTIONS = (
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:TransactWriteItems",
)
DSQL_CONNECT_ACTIONS = ("dsql:DbConnect", "dsql:DbConnectAdmin")
ES_HTTP_ACTIONS = ("es:ESHttpDelete", "es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut")


def statement(
    actions: Sequence[str], resources: Sequence[str], sid: str | None = None,
    *, condition: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    if not resources or any(not r for r in resources):
        raise ValueError(f"statement for {list(actions)} has an empty resource: {list(resources)}")
    doc: dict[str, Any] = {"Effect": "Allow", "Action": sorted(set(actions)), "Resource": sorted(set(resources))}
    if sid:
        doc["Sid"] = sid
    if condition:
        doc["Condition"] = {op: dict(values) for op, values in condition.items()}
    return doc


def policy_document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def assume_role_policy(service: str, *, source_account: str | None = None) -> str:
    principal: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account:
        principal["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [principal]}, sort_keys=True)


def wildcard_resources(document: str | Mapping[str, Any]) -> list[tuple[list[str], str]]:
    """(actions, resource) pairs whose resource is a wildcard although the actions have ARNs."""
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for stmt in statements:
        if stmt.get("Effect", "Allow") != "Allow":
            continue
        actions = stmt.get("Action", [])
        actions = [actions] if isinstance(actions, str) else list(actions)
        resources = stmt.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else list(resources)
        for resource in resources:
            is_wild = resource == "*" or (resource.endswith(":*") and resource.count(":") <= 2)
            has_arn = any(a not in ACTIONS_WITHOUT_RESOURCES for a in actions)
            if ((is_wild or "*" in actions) and has_arn) or any(a == "*" or a.endswith(":*") for a in actions):
                found.append((actions, resource))
    return found


def dsql_admin_allowed(stack: str) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """(roles, (role, statement id) pairs) of stack ``stack`` that may hold ``dsql:DbConnectAdmin``.

    Roles: the set-up function (it creates the profile store's and the copilot state store's tables
    and dedicated database roles), the Temporal services' task role and the copilot's Temporal server
    (the DSQL plugin always logs in as ``admin``, shared/reference/dsql_plugin_facts.md). Statements:
    none; the copilot worker and the profile API connect as dedicated roles with ``dsql:DbConnect``."""
    roles = frozenset({f"{stack}-profile-store-setup-role", f"{stack}-task", f"{stack}-copilot-server-task"})
    statements: frozenset[tuple[str, str]] = frozenset()
    return roles, statements


def lint_iam(documents: Sequence[tuple[str, str | Mapping[str, Any]]], stack: str) -> list[str]:
    """Every (role name, policy document) of a plan: a wildcard resource where an ARN exists, and
    ``dsql:DbConnectAdmin`` outside :func:`dsql_admin_allowed`, each a line of the answer."""
    admin_roles, admin_statements = dsql_admin_allowed(stack)
    problems: list[str] = []
    for role, document in documents:
        doc = json.loads(document) if isinstance(document, str) else document
        problems += [f"{role}: wildcard {resource} for {actions}" for actions, resource in wildcard_resources(doc)]
        statements = doc.get("Statement", [])
        for stmt in [statements] if isinstance(statements, dict) else statements:
            actions = stmt.get("Action", [])
            actions = [actions] if isinstance(actions, str) else list(actions)
            admin = any(a in ("dsql:DbConnectAdmin", "dsql:*", "*") for a in actions)
            if admin and role not in admin_roles and (role, stmt.get("Sid")) not in admin_statements:
                problems.append(f"{role}: dsql:DbConnectAdmin ({stmt.get('Sid')})")
    return problems
