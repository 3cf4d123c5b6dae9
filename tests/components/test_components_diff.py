"""`temporal-dsql diff` and `stack_diff` (issue 13): knobs that move, resources created, replaced,
updated or deleted (from two real offline plans), and the history-shard refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from components_helpers import cached_plan
from typer.testing import CliRunner

from pulumi_temporal_dsql.cli import app
from pulumi_temporal_dsql.diff import (
    FORCE_NEW,
    IMMUTABLE_TYPES,
    StackDiff,
    StackInputs,
    knob_changes,
    resource_changes,
    stack_diff,
    stack_inputs_from_config,
)
from pulumi_temporal_dsql.plan import Plan, PlannedResource

runner = CliRunner()
TASK = "aws:ecs/taskDefinition:TaskDefinition"


@pytest.fixture(scope="module")
def mid_to_high() -> StackDiff:
    return stack_diff(StackInputs("mid-scale"), StackInputs("high-throughput"))


def test_mid_scale_to_high_throughput_refuses_the_shard_change_and_names_the_way_out(mid_to_high: StackDiff) -> None:
    assert mid_to_high.exit_code == 3  # refused, which is not bad input (2): README's exit-code table
    (refusal,) = mid_to_high.refusals
    assert (refusal.field, refusal.old, refusal.new) == ("history.shards", 1024, 4096)
    assert "existing cluster" in refusal.reason
    assert "new cluster" in refusal.way_out and "--to-override history.shards=1024" in refusal.way_out
    text = mid_to_high.to_text()
    assert "REFUSED history.shards: 1024 -> 4096" in text and "way out:" in text


def test_mid_scale_to_high_throughput_names_the_knobs_and_resources_that_change(mid_to_high: StackDiff) -> None:
    knobs = {k.key: k for k in mid_to_high.knobs}
    assert (knobs["history.replicas"].old, knobs["history.replicas"].new) == (3, 10)
    assert "history_replicas_from_rate" in knobs["history.replicas"].why
    assert "dsql.pool_size" in knobs
    by_action: dict[str, set[str]] = {}
    for change in mid_to_high.resources:
        by_action.setdefault(change.action, set()).add(change.type)
    # Task definitions are immutable revisions: replaced. The cluster and services: in place.
    assert TASK in by_action["replace"]
    assert "aws:ecs/service:Service" in by_action["update"]
    assert "aws:dsql/cluster:Cluster" in by_action["update"]
    assert "aws:dsql/cluster:Cluster" not in by_action["replace"]
    # high-throughput turns on the distributed rate limiter and connection leases: two tables.
    assert by_action["create"] == {"aws:dynamodb/table:Table"}
    history = next(c for c in mid_to_high.resources if c.name.endswith("history-service"))
    assert "desiredCount" in history.changed_inputs
    document = json.loads(mid_to_high.to_json())
    assert document["exit_code"] == 3 and document["counts"]["create"] == 2
    assert document["refused"][0]["field"] == "history.shards"


def test_knobs_name_the_tables_the_deployment_creates(mid_to_high: StackDiff) -> None:
    """The knob list shows the values the stack deploys: the tables are `temporal-<stack>-...`,
    the names the created DynamoDB tables (and the env the tasks get) carry, not the preset's."""
    knobs = {k.key: k for k in mid_to_high.knobs}
    created = {c.urn: c for c in mid_to_high.resources if c.action == "create"}
    assert len(created) == 2
    assert knobs["dsql.distributed_rate_limiter_table"].new == "temporal-plan-rate-limiter"
    assert knobs["dsql.conn_lease_table"].new == "temporal-plan-conn-lease"
    on_prod, _, _ = knob_changes(StackInputs("mid-scale"), StackInputs("high-throughput"), stack="prod")
    assert {k.key: k.new for k in on_prod}["dsql.distributed_rate_limiter_table"] == "temporal-prod-rate-limiter"
    # A table the stack config names keeps its name.
    named, _, _ = knob_changes(StackInputs("mid-scale"), StackInputs(
        "high-throughput", overrides={"dsql.distributed_rate_limiter_table": "shared-limiter"}))
    assert {k.key: k.new for k in named}["dsql.distributed_rate_limiter_table"] == "shared-limiter"


def test_the_readme_shows_what_mid_scale_to_high_throughput_prints(mid_to_high: StackDiff) -> None:
    """The README's excerpt of `temporal-dsql diff mid-scale --to-preset high-throughput`:
    every line it shows is a line (or, ending in `...`, the start of one) of the real output, in order."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    excerpt = readme.split("What the second command prints", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    printed = mid_to_high.to_text(width=80).splitlines()
    at = 0
    for line in excerpt.splitlines():
        if line.strip() == "...":
            continue
        prefix = line.removesuffix(" ...")
        found = next((i for i in range(at, len(printed))
                      if (printed[i].startswith(prefix) if line.endswith(" ...") else printed[i] == line)), None)
        assert found is not None, f"README line not in the output (after line {at}): {line!r}"
        at = found + 1


def test_same_inputs_are_no_change() -> None:
    same = stack_diff(StackInputs("starter", "simple-crud"), StackInputs("starter", "simple-crud"))
    assert same.exit_code == 0 and not same.knobs and not same.resources and not same.refusals
    assert "no change" in same.to_text()


def test_going_down_with_the_shards_kept_deletes_the_tables_and_is_allowed() -> None:
    down = stack_diff(StackInputs("high-throughput"), StackInputs("mid-scale", overrides={"history.shards": 4096}))
    assert down.exit_code == 1 and not down.refusals
    deleted = {c.type for c in down.resources if c.action == "delete"}
    assert deleted == {"aws:dynamodb/table:Table"}


def _resource(logical: str, typ: str, **inputs: object) -> PlannedResource:
    return PlannedResource(typ, logical, f"urn:pulumi:plan::temporal-dsql::{typ}::{logical}", None, dict(inputs))


def test_a_force_new_input_replaces_and_any_other_updates_in_place() -> None:
    table = "aws:dynamodb/table:Table"
    before = Plan("p", "plan", [_resource("t", table, name="a", billingMode="PAY_PER_REQUEST"),
                                _resource("u", table, name="u", billingMode="PAY_PER_REQUEST")], {})
    after = Plan("p", "plan", [_resource("t", table, name="b", billingMode="PAY_PER_REQUEST"),
                               _resource("u", table, name="u", billingMode="PROVISIONED")], {})
    changes = {c.name: c for c in resource_changes(before, after)}
    assert changes["t"].action == "replace" and changes["t"].replaced_by == ["name"]
    assert changes["u"].action == "update" and changes["u"].changed_inputs == ["billingMode"]


def test_every_aws_type_the_stack_creates_has_a_replacement_rule(plans: dict[str, Plan]) -> None:
    """A type missing from FORCE_NEW would be reported as updated in place whatever changed."""
    created = {r.type for p in (*plans.values(), cached_plan("mid-scale", copilot="true")) for r in p.resources}
    undecided = sorted(t for t in created if t.startswith("aws:") and t not in FORCE_NEW and t not in IMMUTABLE_TYPES)
    assert undecided == []


def test_cli_diff_exit_codes_and_json() -> None:
    refused = runner.invoke(app, ["diff", "mid-scale", "--to-preset", "high-throughput", "--format", "json"])
    assert refused.exit_code == 3, refused.output
    assert json.loads(refused.stdout)["refused"][0]["new"] == 4096
    changed = runner.invoke(app, ["diff", "mid-scale", "--to-override", "history.replicas=4"])
    assert changed.exit_code == 1, changed.output
    assert "~ history.replicas: 3 -> 4" in changed.stdout and "temporal-plan-history-service" in changed.stdout
    bad = runner.invoke(app, ["diff", "mid-scale", "--to-override", "history.replicaz=4",
                              "--to-override", "history.replicas=0"])
    assert bad.exit_code == 2 and "history.replicaz" in bad.output and "below the minimum" in bad.output


def test_cli_diff_reads_the_current_stack_from_its_config(tmp_path: Path) -> None:
    config = tmp_path / "Pulumi.prod.yaml"
    config.write_text(
        "config:\n  aws:region: us-east-1\n  temporal-dsql:preset: mid-scale\n"
        "  temporal-dsql:environment: prod\n  temporal-dsql:overrides:\n    history.replicas: 4\n"
    )
    inputs = stack_inputs_from_config(config.read_text())
    assert (inputs.preset, dict(inputs.overrides)) == ("mid-scale", {"history.replicas": 4})
    assert inputs.extra_config["temporal-dsql:environment"] == "prod"
    unchanged = runner.invoke(app, ["diff", "--stack-config", str(config)])
    assert unchanged.exit_code == 0, unchanged.output
    dropped = runner.invoke(app, ["diff", "--stack-config", str(config), "--drop-override", "history.replicas",
                                  "--format", "json"])
    assert dropped.exit_code == 1, dropped.output
    document = json.loads(dropped.stdout)
    knobs = {k["key"]: k for k in document["knobs"]}
    assert (knobs["history.replicas"]["old"], knobs["history.replicas"]["new"]) == (4, 3)
    # Pulumi.prod.yaml configures the stack `prod`: its resources (and tables) are named for it.
    assert "temporal-prod-history-service" in {r["name"] for r in document["resources"]}
    missing = runner.invoke(app, ["diff", "--stack-config", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "No file at" in missing.output
