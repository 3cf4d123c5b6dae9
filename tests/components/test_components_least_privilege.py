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
