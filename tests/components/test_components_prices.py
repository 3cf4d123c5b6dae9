"""The pinned price table (coverage and provenance) and `temporal-dsql prices refresh` against
RECORDED Price List responses, replayed on 127.0.0.1 by `standins.price_list` (moto has no
`pricing` backend) to a real boto3 client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner
from whenever import Date

from pulumi_temporal_dsql.cli import app
from pulumi_temporal_dsql.preset import TemporalDsqlPresetArgs
from pulumi_temporal_dsql.preview.prices import PRICES_FILE, load_prices, parse_prices
from pulumi_temporal_dsql.preview.refresh import REFRESHABLE, refresh_prices
from standins import PriceListServer, free_port

RECORDINGS = Path(__file__).resolve().parents[1] / "data" / "price_list"
runner = CliRunner()

# What the issue says the table covers at least (region us-east-1), by price key.
REQUIRED = (
    "fargate.vcpu_hours.x86_64", "fargate.gb_hours.x86_64", "fargate.vcpu_hours.arm64", "fargate.gb_hours.arm64",
    "dsql.dpus", "dsql.storage", "dynamodb.write_requests", "dynamodb.read_requests",
    "s3.storage", "s3.put_requests", "s3.get_requests",
    "lambda.requests", "lambda.gb_seconds.arm64", "lambda.gb_seconds.x86_64",
    "amp.samples", "amp.query_samples", "amp.storage", "logs.ingestion", "logs.storage",
    "nat.hours", "nat.gb", "alb.hours", "alb.lcu_hours", "vpce.interface_hours", "vpce.gb",
    "opensearch.gp3_storage",
)


def _recorded(usage_suffix: str) -> float:
    """The USD price of the recorded product whose usage type ends with `usage_suffix`."""
    document = json.loads((RECORDINGS / "AmazonECS.json").read_text())
    for item in map(json.loads, document["PriceList"]):
        if item["product"]["attributes"]["usagetype"] == f"USE1-{usage_suffix}":
            (term,) = item["terms"]["OnDemand"].values()
            (dimension,) = term["priceDimensions"].values()
            return float(dimension["pricePerUnit"]["USD"])
    raise AssertionError(usage_suffix)


def test_the_pinned_table_covers_what_the_issue_lists_each_entry_with_source_and_date() -> None:
    table = load_prices()
    entries = table.regions["us-east-1"]
    assert set(REQUIRED) <= set(entries)
    assert f"ec2.hours.{TemporalDsqlPresetArgs(preset='mid-scale').ec2_instance_type}" in entries  # the ec2 capacity default
    model = TemporalDsqlPresetArgs(preset='mid-scale').bedrock_model_id
    assert {f"bedrock.input_tokens.{model}", f"bedrock.output_tokens.{model}"} <= set(entries)
    assert any(k.startswith("opensearch.hours.") for k in entries)
    assert "free tier" in (entries["dsql.dpus"].note or "")
    for key, price in [*entries.items(), *table.global_prices.items()]:
        assert price.source and price.unit, key
        Date.parse_iso(price.as_of)  # a real date, not free text
    assert "temporal_cloud.actions" in table.global_prices


def test_the_recorded_fargate_prices_are_the_pinned_ones() -> None:
    entries = load_prices().regions["us-east-1"]
    assert entries["fargate.vcpu_hours.x86_64"].price == _recorded("Fargate-vCPU-Hours:perCPU")
    assert entries["fargate.gb_hours.arm64"].price == _recorded("Fargate-ARM-GB-Hours")


@pytest.fixture(scope="module")
def price_list() -> Iterator[PriceListServer]:
    with PriceListServer(RECORDINGS) as server:
        yield server


@pytest.mark.standins
def test_refresh_replaces_entries_from_recorded_price_list_responses(price_list: PriceListServer) -> None:
    document = json.loads(PRICES_FILE.read_text())
    for key in ("fargate.vcpu_hours.arm64", "fargate.gb_hours.x86_64"):
        document["regions"]["us-east-1"][key]["price"] = 9.99  # stale on purpose
    stale = parse_prices(document)
    client = boto3.client("pricing", region_name="us-east-1", endpoint_url=price_list.endpoint_url)
    result = refresh_prices(stale, client, ["us-east-1"])
    refreshed = result.table.regions["us-east-1"]
    assert refreshed["fargate.vcpu_hours.arm64"].price == _recorded("Fargate-ARM-vCPU-Hours:perCPU")
    assert refreshed["fargate.gb_hours.x86_64"].price == _recorded("Fargate-GB-Hours")
    assert result.updated["us-east-1:fargate.vcpu_hours.arm64"] == (9.99, _recorded("Fargate-ARM-vCPU-Hours:perCPU"))
    assert refreshed["fargate.vcpu_hours.arm64"].as_of == "2022-11-21"  # the response's publicationDate
    assert "AmazonECS" in refreshed["fargate.vcpu_hours.arm64"].source
    # Windows and ephemeral-storage products in the same response are not mistaken for these.
    assert refreshed["fargate.gb_hours.x86_64"].price != _recorded("Fargate-Windows-GB-Hours")
    # Services with no recording answer nothing: their entries keep the pinned values and are reported.
    assert "us-east-1:nat.hours" in result.unmatched
    assert refreshed["nat.hours"] == stale.regions["us-east-1"]["nat.hours"]
    assert len(result.updated) + len(result.unmatched) == len(REFRESHABLE)


@pytest.mark.standins
def test_prices_refresh_cli_writes_the_table_it_reports(price_list: PriceListServer, tmp_path: Path) -> None:
    out = tmp_path / "prices.json"
    result = runner.invoke(app, ["prices", "refresh", "--endpoint-url", price_list.endpoint_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = parse_prices(json.loads(out.read_text()))
    assert written.regions["us-east-1"]["fargate.gb_hours.arm64"].price == _recorded("Fargate-ARM-GB-Hours")
    assert "updated us-east-1:fargate.gb_hours.arm64" in result.output
    assert "kept    us-east-1:dsql.dpus" in result.output
    report = runner.invoke(app, ["prices", "refresh", "--endpoint-url", price_list.endpoint_url, "--out", str(out), "--json"])
    assert report.exit_code == 0, report.output
    document = json.loads(report.stdout)
    assert document["wrote"] == str(out) and "us-east-1:dsql.dpus" in document["kept"]
    assert document["updated"]["us-east-1:fargate.gb_hours.arm64"]["new"] == _recorded("Fargate-ARM-GB-Hours")


def test_prices_refresh_against_an_unreachable_api_exits_4_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "prices.json"
    result = runner.invoke(app, ["prices", "refresh", "--endpoint-url", f"http://127.0.0.1:{free_port()}",
                                 "--out", str(out)])
    assert result.exit_code == 4
    assert "error: the Price List API failed" in result.output
    assert not out.exists()
