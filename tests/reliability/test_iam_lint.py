"""The IAM lint as a row of ``make reliability``: every IAM document of every plan (each preset,
with the copilot, token auth) has no wildcard resource where the plan knows an ARN and no
``dsql:DbConnectAdmin`` outside the set-up and the Temporal servers (issue 19)."""

from __future__ import annotations

import json

from reliability_results import ReliabilityRow  # type: ignore[import-not-found]

from pulumi_temporal_dsql.iam import lint_iam
from pulumi_temporal_dsql.preview.plan import plan

PLANS = [("starter", {}), ("mid-scale", {}), ("high-throughput", {}), ("mid-scale", {"copilot": "true"}),
         ("starter", {"profileApiAuth": "token"})]


def test_iam_lint_over_every_plan(reliability: ReliabilityRow) -> None:
    documents = problems = 0
    found: list[str] = []
    for preset, extra in PLANS:
        planned = plan(preset, extra_config=extra)
        docs = [(role.name, inline["policy"]) for role in planned.by_type("aws:iam/role:Role")
                for inline in role.inputs.get("inlinePolicies") or []]
        documents += len(docs)
        statements = sum(len(json.loads(d)["Statement"]) for _, d in docs)
        found += lint_iam(docs, "temporal-plan")
        problems = len(found)
        reliability.notes[f"{preset}{'+' + ','.join(extra) if extra else ''}"] = f"{len(docs)} documents, {statements} statements"
    reliability.load = f"{len(PLANS)} plans, {documents} IAM documents"
    reliability.server_errors = 0
    reliability.notes["findings"] = problems
    assert found == []
