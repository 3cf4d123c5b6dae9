"""Issue 19, least privilege in the plan: every IAM document of every plan (with and without the
copilot, both auth modes) is linted; the profile store's set-up creates the dedicated roles; the
profile API schedules its own stale-pending sweep."""

from __future__ import annotations

import json
from typing import Any

import pytest
from components_helpers import PRESETS, cached_plan, one

from pulumi_temporal_dsql import profile_api
from pulumi_temporal_dsql.iam import lint_iam
from pulumi_temporal_dsql.preview.mocks import ACCOUNT_ID
from pulumi_temporal_dsql.preview.plan import Plan
from temporal_dsql_core.dsql import Dialect
from temporal_dsql_profiles import db_roles

ROLE = "aws:iam/role:Role"

def _plans() -> list[tuple[str, Plan]]:
    out = [(preset, cached_plan(preset)) for preset in PRESETS]
    out.append(("mid-scale+copilot", cached_plan("mid-scale", copilot="true")))
    out.append(("starter+token", cached_plan("starter", profileApiAuth="token")))
    return out


def _documents(plan_: Plan) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for role in plan_.by_type(ROLE):
        for inline in role.inputs.get("inlinePolicies") or []:
            docs.append((role.name, json.loads(inline["policy"])))
    return docs


def iam_lint(plan_: Plan) -> list[str]:
    return lint_iam([(role, json.dumps(doc)) for role, doc in _documents(plan_)], "temporal-plan")


@pytest.mark.parametrize("name", ["starter", "mid-scale", "high-throughput", "mid-scale+copilot", "starter+token"])
def test_iam_lint_every_document_of_the_plan(name: str) -> None:
    plan_ = dict(_plans())[name]
    assert len(_documents(plan_)) >= 4
    assert iam_lint(plan_) == []


def test_iam_lint_is_real() -> None:
    """The lint fails on a DbConnectAdmin grant outside the set-up (what the Lambda had before)."""
    plan_ = cached_plan("starter")
    role = one(plan_, ROLE, "temporal-plan-profile-api-role")
    doc = json.loads(role.inputs["inlinePolicies"][0]["policy"])
    doc["Statement"].append({"Sid": "Old", "Effect": "Allow", "Action": ["dsql:DbConnectAdmin"],
                             "Resource": ["arn:aws:dsql:us-east-1:123456789012:cluster/x"]})
    doc["Statement"].append({"Sid": "Wide", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"})
    role.inputs["inlinePolicies"][0] = {**role.inputs["inlinePolicies"][0], "policy": json.dumps(doc)}
    try:
        problems = iam_lint(plan_)
    finally:
        doc["Statement"] = doc["Statement"][:-2]
        role.inputs["inlinePolicies"][0] = {**role.inputs["inlinePolicies"][0], "policy": json.dumps(doc)}
    assert any("DbConnectAdmin (Old)" in p for p in problems) and any("wildcard *" in p for p in problems)


def test_the_component_constants_are_the_store_s() -> None:
    assert profile_api.PROFILE_API_DB_ROLE == db_roles.PROFILE_API_DB_ROLE
    assert (profile_api.SETUP_EVENT, profile_api.SWEEP_EVENT) == (db_roles.SETUP_EVENT, db_roles.SWEEP_EVENT)


def test_the_setup_maps_the_dedicated_roles_to_their_iam_roles() -> None:
    plan_ = cached_plan("mid-scale", copilot="true")
    invocation = one(plan_, "aws:lambda/invocation:Invocation", "temporal-plan-profile-store-setup-run")
    payload = json.loads(invocation.inputs["input"])
    assert payload["temporal_dsql"] == db_roles.SETUP_EVENT
    arns = {r.name: f"arn:aws:iam::{ACCOUNT_ID}:role/{r.name}" for r in plan_.by_type(ROLE)}  # IAM ARNs are global
    assert set(payload["roles"]) == {db_roles.PROFILE_API_DB_ROLE, db_roles.COPILOT_PROFILES_DB_ROLE}
    assert payload["roles"][db_roles.PROFILE_API_DB_ROLE] == arns["temporal-plan-profile-api-role"]
    assert payload["roles"][db_roles.COPILOT_PROFILES_DB_ROLE] == arns["temporal-plan-copilot-worker-task"]
    for role, arn in payload["roles"].items():  # what the set-up job accepts
        assert db_roles.grant_statements(Dialect.DSQL, role, arn, exists=False)[1] == \
            f"AWS IAM GRANT {role} TO '{arn}'"
    setup = one(plan_, "aws:lambda/function:Function", "temporal-plan-profile-store-setup-function")
    env = setup.inputs["environment"]["variables"]
    assert env["PROFILES_DB_USER"] == "admin"


def test_the_profile_api_schedules_its_own_sweep() -> None:
    plan_ = cached_plan("starter")  # no copilot: the schedule is the only thing that sweeps
    schedule = one(plan_, "aws:scheduler/schedule:Schedule", "temporal-plan-profile-api-sweep")
    function = one(plan_, "aws:lambda/function:Function", "temporal-plan-profile-api-function")
    target = schedule.inputs["target"]
    assert json.loads(target["input"]) == {"temporal_dsql": db_roles.SWEEP_EVENT}
    assert target["arn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{function.inputs['name']}"
    assert schedule.inputs["scheduleExpression"].startswith("rate(")
    scheduler = one(plan_, ROLE, "temporal-plan-profile-api-sweep-scheduler")
    assert json.loads(scheduler.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "scheduler.amazonaws.com"}
    doc = json.loads(scheduler.inputs["inlinePolicies"][0]["policy"])
    assert [s["Action"] for s in doc["Statement"]] == [["lambda:InvokeFunction"]]


def test_the_copilot_store_constants_are_the_store_s() -> None:
    from temporal_dsql_copilot.store import db_roles as copilot_roles

    assert (profile_api.COPILOT_SETUP_EVENT, profile_api.COPILOT_STORE_DB_ROLE, profile_api.COPILOT_STATUS_DB_ROLE) == (
        copilot_roles.SETUP_EVENT, copilot_roles.COPILOT_STORE_DB_ROLE, copilot_roles.COPILOT_STATUS_DB_ROLE)


def test_the_setup_maps_the_copilot_store_roles_and_only_the_setup_is_admin_on_its_cluster() -> None:
    """Issue 19: the copilot worker and /status connect to the copilot's cluster as dedicated roles
    the set-up created and mapped (AWS IAM GRANT); DbConnectAdmin there is the set-up's and the
    copilot's Temporal server's (the DSQL plugin logs in as admin) only."""
    from temporal_dsql_copilot.store import db_roles as copilot_roles
    from temporal_dsql_core.db_roles import role_statements

    plan_ = cached_plan("mid-scale", copilot="true")
    invocation = one(plan_, "aws:lambda/invocation:Invocation", "temporal-plan-profile-store-setup-copilot-run")
    arns = {r.name: f"arn:aws:iam::{ACCOUNT_ID}:role/{r.name}" for r in plan_.by_type(ROLE)}
    assert json.loads(invocation.inputs["input"]) == {
        "temporal_dsql": copilot_roles.SETUP_EVENT,
        "roles": {copilot_roles.COPILOT_STORE_DB_ROLE: arns["temporal-plan-copilot-worker-task"],
                  copilot_roles.COPILOT_STATUS_DB_ROLE: arns["temporal-plan-profile-api-role"]}}
    for role, arn in json.loads(invocation.inputs["input"])["roles"].items():
        statements = role_statements(Dialect.DSQL, role, arn, copilot_roles.grants_for(role), exists=False)
        assert statements[:2] == [f"CREATE ROLE {role} WITH LOGIN", f"AWS IAM GRANT {role} TO '{arn}'"]
    setup = one(plan_, "aws:lambda/function:Function", "temporal-plan-profile-store-setup-function")
    env = setup.inputs["environment"]["variables"]
    assert (env["COPILOT_DSQL_USER"], env["COPILOT_DSQL_ENDPOINT"]) == ("admin", plan_.outputs["copilot_dsql_endpoint"])
    copilot_arn = plan_.outputs["copilot_dsql_cluster_arn"]
    admins = {role for role, doc in _documents(plan_) for s in doc["Statement"]
              if "dsql:DbConnectAdmin" in s["Action"] and copilot_arn in s["Resource"]}
    assert admins == {"temporal-plan-profile-store-setup-role", "temporal-plan-copilot-server-task"}
    connects = {role for role, doc in _documents(plan_) for s in doc["Statement"]
                if s["Action"] == ["dsql:DbConnect"] and copilot_arn in s["Resource"]}
    assert connects == {"temporal-plan-copilot-worker-task", "temporal-plan-profile-api-role"}


def test_iam_lint_fails_on_admin_for_the_copilot_worker() -> None:
    """What the worker's StateStore statement was before (DbConnect and DbConnectAdmin) is a finding."""
    plan_ = cached_plan("mid-scale", copilot="true")
    role = one(plan_, ROLE, "temporal-plan-copilot-worker-task")
    original = role.inputs["inlinePolicies"][0]
    doc = json.loads(original["policy"])
    for stmt in doc["Statement"]:
        if stmt["Sid"] == "StateStore":
            stmt["Action"] = ["dsql:DbConnect", "dsql:DbConnectAdmin"]
    role.inputs["inlinePolicies"][0] = {**original, "policy": json.dumps(doc)}
    try:
        problems = iam_lint(plan_)
    finally:
        role.inputs["inlinePolicies"][0] = original
    assert problems == ["temporal-plan-copilot-worker-task: dsql:DbConnectAdmin (StateStore)"]
