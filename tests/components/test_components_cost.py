"""`temporal-dsql cost`: the monthly estimate of every preset, its sums, its quantities and its text.

Expected quantities are derived here from the plan itself (task definitions, desired counts) and
the issue's month of 730 hours, never read back from the estimate's own constants.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from components_helpers import PRESETS, cached_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pulumi_temporal_dsql.cli import app
from pulumi_temporal_dsql.preset import TemporalDsqlPresetArgs
from pulumi_temporal_dsql.preview.cost import CostEstimate, estimate_plan, render_text
from pulumi_temporal_dsql.preview.plan import Plan
from pulumi_temporal_dsql.preview.prices import UnpricedError, load_prices
from pulumi_temporal_dsql.preview.usage import UsageInputError, parse_usage

runner = CliRunner()
MONTH_HOURS = 730  # the issue: month = 730 h
VARIANTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    *((p, (("copilot", "false"),)) for p in PRESETS),
    *((p, (("copilot", "true"),)) for p in PRESETS),
    ("mid-scale", (("copilot", "false"), ("capacity", "ec2"))),
)


def _plan(preset: str, extra: tuple[tuple[str, str], ...]) -> Plan:
    return cached_plan(preset, **dict(extra))


def _fargate_expectation(plan: Plan) -> tuple[float, float]:
    """vCPU-hours and GB-hours a month, from the plan's task definitions and service counts.

    Services point at their task definition by ARN (`.../task-definition/<family>:1`), which is
    how ECS links them; only FARGATE-compatible task definitions are Fargate-billed.
    """
    tasks = {r.inputs["family"]: r.inputs for r in plan.by_type("aws:ecs/taskDefinition:TaskDefinition")}
    vcpu_hours = gb_hours = 0.0
    for service in plan.by_type("aws:ecs/service:Service"):
        family = str(service.inputs["taskDefinition"]).rsplit("/", 1)[1].rsplit(":", 1)[0]
        task = tasks[family]
        if "FARGATE" not in task["requiresCompatibilities"]:
            continue
        count = int(service.inputs["desiredCount"])
        vcpu_hours += int(task["cpu"]) / 1024 * count * MONTH_HOURS
        gb_hours += int(task["memory"]) / 1024 * count * MONTH_HOURS
    return vcpu_hours, gb_hours


def _quantity(result: CostEstimate, unit: str) -> float:
    return sum(c.monthly_quantity for r in result.resources for c in r.components
               if c.unit == unit and c.price_key.startswith("fargate."))


@pytest.mark.parametrize(("preset", "extra"), VARIANTS, ids=lambda v: v if isinstance(v, str) else ",".join("=".join(i) for i in v))
def test_cost_prices_every_preset_with_and_without_the_copilot_and_with_ec2_capacity(
    preset: str, extra: tuple[tuple[str, str], ...]
) -> None:
    plan = _plan(preset, extra)
    result = estimate_plan(plan)
    assert result.total_monthly > 0
    assert result.region == "us-east-1" and result.currency == "USD"
    services = {c.service for r in result.resources for c in r.components}
    assert {"Aurora DSQL", "OpenSearch", "Managed Prometheus", "CloudWatch Logs"} <= services
    copilot = dict(extra)["copilot"] == "true"
    assert any(r.role == "copilot" for r in result.resources) is copilot
    assert ("Bedrock" in services) is copilot
    if dict(extra).get("capacity") == "ec2":
        instances = [c for r in result.resources for c in r.components if c.price_key.startswith("ec2.hours.")]
        assert [c.monthly_quantity for c in instances] == [3 * MONTH_HOURS]  # m7g.xlarge x 3, the component default
        assert instances[0].price_key == f"ec2.hours.{TemporalDsqlPresetArgs(preset='mid-scale').ec2_instance_type}"
        assert not any(r.role in ("history", "matching", "frontend", "worker") and
                       any(c.price_key.startswith("fargate.") for c in r.components) for r in result.resources)


@pytest.mark.parametrize(("preset", "extra"), VARIANTS[:6])
def test_fargate_vcpu_and_gb_hours_match_the_plans_task_definitions_and_service_counts(
    preset: str, extra: tuple[tuple[str, str], ...]
) -> None:
    plan = _plan(preset, extra)
    vcpu_hours, gb_hours = _fargate_expectation(plan)
    result = estimate_plan(plan)
    assert vcpu_hours > 0 and gb_hours > 0
    assert _quantity(result, "vCPU-hours") == pytest.approx(vcpu_hours)
    assert _quantity(result, "GB-hours") == pytest.approx(gb_hours)
    # arm64 rates, since every task definition here is ARM64 (task_definitions.CPU_ARCHITECTURE)
    prices = load_prices().regions["us-east-1"]
    fargate = [c for r in result.resources for c in r.components if c.price_key.startswith("fargate.")]
    assert {c.price for c in fargate} == {prices["fargate.vcpu_hours.arm64"].price, prices["fargate.gb_hours.arm64"].price}


def test_starter_costs_less_than_mid_scale_which_costs_less_than_high_throughput() -> None:
    for copilot in ("false", "true"):
        totals = [estimate_plan(cached_plan(p, copilot=copilot)).total_monthly for p in PRESETS]
        assert totals[0] < totals[1] < totals[2], totals
        baselines = [estimate_plan(cached_plan(p, copilot=copilot)).baseline_monthly for p in PRESETS]
        assert baselines[0] < baselines[1] < baselines[2], baselines


_KEYS = ("monthly_dpus", "storage_gb", "monthly_samples", "monthly_ingested_gb", "monthly_data_processed_gb",
         "monthly_get_requests", "monthly_requests", "monthly_nlcu_hours")  # keys every variant prices


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variant=st.sampled_from(VARIANTS),
    usage=st.dictionaries(st.sampled_from(_KEYS), st.floats(min_value=0, max_value=1e12, allow_nan=False), max_size=5),
)
def test_property_totals_equal_the_sums_of_their_components(
    variant: tuple[str, tuple[tuple[str, str], ...]], usage: dict[str, float]
) -> None:
    # Property: every total is the sum of the components it covers (overall = baseline + usage =
    # sum by role = sum by service), and every component costs quantity x unit price.
    preset, extra = variant
    result = estimate_plan(_plan(preset, extra), usage_file=parse_usage({"resource_usage": {"*": usage}}))
    components = [c for r in result.resources for c in r.components]
    for c in components:
        assert c.monthly_cost == pytest.approx(c.monthly_quantity * c.price)
    total = math.fsum(c.monthly_cost for c in components)
    assert result.total_monthly == pytest.approx(total)
    assert result.baseline_monthly + result.usage_monthly == pytest.approx(total)
    assert math.fsum(result.by_role().values()) == pytest.approx(total)
    assert math.fsum(result.by_service().values()) == pytest.approx(total)
    document = json.loads(result.to_json())
    assert document["total_monthly"] == pytest.approx(math.fsum(
        c["monthly_cost"] for r in document["resources"] for c in r["components"]))
    assert document["one_off"]["per_run_total"] == pytest.approx(math.fsum(
        c["monthly_cost"] for r in document["one_off"]["resources"] for c in r["components"]))


def test_json_follows_the_documented_contract() -> None:
    document = json.loads(estimate_plan(cached_plan("mid-scale", copilot="false")).to_json())
    assert document["currency"] == "USD" and document["hours_per_month"] == MONTH_HOURS
    assert set(document["prices"]) == {"source", "as_of"}
    assert {"total_monthly", "baseline_monthly", "usage_monthly", "region", "resources"} <= set(document)
    for resource in document["resources"]:
        assert {"name", "type", "role", "components"} <= set(resource)
        for component in resource["components"]:
            assert {"name", "unit", "monthly_quantity", "price", "monthly_cost", "usage_based"} <= set(component)
    units = {c["unit"] for r in document["resources"] for c in r["components"] if c["price_key"].startswith("fargate.")}
    assert units == {"vCPU-hours", "GB-hours"}


def test_one_off_set_up_tasks_are_priced_per_run_and_kept_out_of_the_monthly_total() -> None:
    plan = cached_plan("starter", copilot="false")
    result = estimate_plan(plan)
    serviced = {str(s.inputs["name"]) for s in plan.by_type("aws:ecs/service:Service")}
    one_off_families = {r.inputs["family"] for r in plan.by_type("aws:ecs/taskDefinition:TaskDefinition")} - serviced
    assert {r.name for r in result.one_off} == {
        r.name for r in plan.by_type("aws:ecs/taskDefinition:TaskDefinition") if r.inputs["family"] in one_off_families}
    assert len(result.one_off) == 3 and all(r.monthly_cost > 0 for r in result.one_off)
    assert not {r.name for r in result.one_off} & {r.name for r in result.resources}
    text = render_text(result)
    assert "One-off (per run, not in the monthly total):" in text


@pytest.mark.parametrize("preset", PRESETS)
def test_text_table_fits_80_columns(preset: str) -> None:
    text = render_text(estimate_plan(cached_plan(preset, copilot="true")), explain=True)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "OVERALL MONTHLY TOTAL" in text and "By Temporal role:" in text and "By AWS service:" in text


def test_an_unpriced_region_is_an_error_listing_the_priced_ones() -> None:
    with pytest.raises(UnpricedError) as raised:
        estimate_plan(cached_plan("starter", copilot="false"), region="eu-central-1")
    assert raised.value.field == "region"
    assert raised.value.allowed == load_prices().priced_regions() == ["us-east-1"]
    result = runner.invoke(app, ["cost", "starter", "--region", "eu-central-1"])
    assert result.exit_code == 2
    assert "error: No prices for region 'eu-central-1'." in result.output
    assert "allowed: us-east-1" in result.output


def test_usage_defaults_come_from_the_presets_targets_and_explain_says_so() -> None:
    from dsql_config.presets import PRESETS as SPECS

    for preset in PRESETS:
        result = estimate_plan(cached_plan(preset, copilot="false"))
        target = SPECS[preset].slo["slo.target_state_transitions_per_sec"]
        dpus = next(n for n in result.usage if n.resource == "temporal-plan-dsql-cluster" and n.key == "monthly_dpus")
        assert dpus.source == "default"
        assert f"{target:g} state transitions/s (the {preset} target" in dpus.reason
        # Every usage-based component has its provenance.
        usage_resources = {r.name for r in result.resources if any(c.usage_based for c in r.components)}
        assert usage_resources <= {n.resource for n in result.usage}


def test_amp_samples_default_is_scraped_series_times_the_scrape_rate() -> None:
    """Scraped tasks are counted here from the plan: services whose task runs the metrics collector."""
    plan = cached_plan("high-throughput", copilot="true")
    tasks = {r.inputs["family"]: r for r in plan.by_type("aws:ecs/taskDefinition:TaskDefinition")}
    scraped = sum(int(s.inputs["desiredCount"]) for s in plan.by_type("aws:ecs/service:Service")
                  if any(c["name"] == "metrics-collector" for c in json.loads(tasks[s.inputs["name"]].inputs["containerDefinitions"])))
    result = estimate_plan(plan)
    note = next(n for n in result.usage if n.key == "monthly_samples")
    series = int(note.reason.split(" x ")[1].split(" ")[0])
    assert note.value == pytest.approx(scraped * series * MONTH_HOURS * 3600 / 15)  # scrape_interval 15s
    assert note.reason.startswith(f"{scraped} scraped tasks")


def test_a_usage_file_replaces_a_default_and_explain_shows_it(tmp_path: Path) -> None:
    usage = tmp_path / "usage.yml"
    usage.write_text("version: 0.1\nresource_usage:\n  temporal-plan-dsql-cluster:\n    monthly_dpus: 2000000\n")
    result = runner.invoke(app, ["cost", "starter", "--usage-file", str(usage), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output[result.output.index("{"):])
    cluster = next(r for r in document["resources"] if r["name"] == "temporal-plan-dsql-cluster")
    dpus = next(c for c in cluster["components"] if c["name"] == "DPUs")
    assert dpus["monthly_quantity"] == pytest.approx(2.0) and dpus["monthly_cost"] == pytest.approx(2.0 * dpus["price"])
    explained = runner.invoke(app, ["cost", "starter", "--usage-file", str(usage), "--explain"])
    assert "temporal-plan-dsql-cluster: monthly_dpus = 2,000,000 (usage file)" in explained.output


def test_a_usage_file_typo_is_an_error_naming_the_allowed_keys(tmp_path: Path) -> None:
    usage = tmp_path / "usage.yml"
    usage.write_text("resource_usage:\n  temporal-plan-dsql-cluster:\n    monthly_dpu: 5\n")
    result = runner.invoke(app, ["cost", "starter", "--usage-file", str(usage)])
    assert result.exit_code == 2
    assert "error: Unknown usage key 'monthly_dpu' for 'temporal-plan-dsql-cluster'." in result.output
    assert "allowed: monthly_dpus, storage_gb" in result.output
    with pytest.raises(UsageInputError):
        parse_usage({"resource_usage": {"x": {"monthly_dpus": -1}}})


def test_cost_per_million_actions_is_compared_with_temporal_cloud_and_marked_an_estimate() -> None:
    result = estimate_plan(cached_plan("mid-scale", copilot="false"))
    tc = result.temporal_cloud
    assert tc["estimate"] is True
    assert tc["self_hosted_per_million_actions"] == pytest.approx(result.total_monthly / (tc["monthly_actions"] / 1e6))
    assert tc["temporal_cloud_per_million_actions"] > 0 and tc["source"].startswith("https://") and tc["as_of"]
    assert "Against Temporal Cloud (ESTIMATE):" in render_text(result)


def test_the_stack_output_estimated_monthly_cost_equals_the_cost_commands_total() -> None:
    for preset, extra in (VARIANTS[0], VARIANTS[4], VARIANTS[6]):
        plan = _plan(preset, extra)
        assert plan.outputs["estimatedMonthlyCost"] == round(estimate_plan(plan).total_monthly, 2)


def test_diff_shows_the_monthly_cost_before_after_and_delta() -> None:
    result = runner.invoke(app, ["diff", "starter", "--to-copilot", "--format", "json"])
    assert result.exit_code == 1, result.output
    cost = json.loads(result.output[result.output.index("{"):])["cost"]
    before = estimate_plan(cached_plan("starter", copilot="false")).total_monthly
    after = estimate_plan(cached_plan("starter", copilot="true")).total_monthly
    assert cost == {"before_monthly": pytest.approx(before), "after_monthly": pytest.approx(after),
                    "delta_monthly": pytest.approx(after - before)}
    text = runner.invoke(app, ["diff", "starter", "--to-copilot"]).output
    assert f"${before:,.2f} -> ${after:,.2f} (+${after - before:,.2f})" in text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variant=st.sampled_from(VARIANTS[:6]),
    key=st.sampled_from(_KEYS),
    low=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    extra=st.floats(min_value=0, max_value=1e9, allow_nan=False),
)
def test_property_more_usage_never_costs_less(
    variant: tuple[str, tuple[tuple[str, str], ...]], key: str, low: float, extra: float
) -> None:
    # Property: the estimate is monotonic in usage: raising one usage quantity (everywhere it
    # applies) never lowers the monthly total, and leaves the baseline (fixed) total unchanged.
    preset, extras = variant
    plan = _plan(preset, extras)
    smaller = estimate_plan(plan, usage_file=parse_usage({"resource_usage": {"*": {key: low}}}))
    larger = estimate_plan(plan, usage_file=parse_usage({"resource_usage": {"*": {key: low + extra}}}))
    assert larger.total_monthly >= smaller.total_monthly - 1e-9 * max(1.0, smaller.total_monthly)
    assert larger.baseline_monthly == pytest.approx(smaller.baseline_monthly)


def test_an_unpriced_instance_type_names_the_priced_ones() -> None:
    from pulumi_temporal_dsql.preview.cost import CostInput, estimate, facts_from_profile_json

    plan = cached_plan("starter", copilot="false")
    facts = facts_from_profile_json("starter", str(plan.outputs["profile_json"]))
    resources = [CostInput("aws:ec2/launchTemplate:LaunchTemplate", "t-launch-template", {"instanceType": "c7g.large"}),
                 CostInput("aws:autoscaling/group:Group", "t-asg", {"desiredCapacity": 3})]
    with pytest.raises(UnpricedError) as raised:
        estimate(resources, facts=facts)
    assert raised.value.field == "ec2_instance_type"
    assert raised.value.allowed == sorted(k.removeprefix("ec2.hours.") for k in load_prices().regions["us-east-1"]
                                          if k.startswith("ec2.hours."))
