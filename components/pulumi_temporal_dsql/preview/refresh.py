"""`temporal-dsql prices refresh`: rewrite pinned entries from the AWS Price List API.

For each refreshable entry it asks GetProducts for the service in the region (server-side filter
`regionCode`, plus the entry's own attribute filters) and picks the product whose `usagetype` is
the entry's usage type, with or without the region prefix (`USE1-Fargate-GB-Hours`; us-east-1
drops the prefix for some services). The price is the first non-zero tier's USD price per
Price-List unit, times the entry's `per`. An entry no product matches keeps its pinned value and
is reported; the file is replaced atomically, never half written.

The Price List API answers in us-east-1 (and a few other regions) whatever region is priced.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_temporal_dsql.preview.prices import Price, PriceTable

__all__ = ["REFRESHABLE", "RefreshResult", "Refreshable", "refresh_prices", "write_prices"]

PRICE_LIST_REGION = "us-east-1"


@dataclass(frozen=True)
class Refreshable:
    """How one pinned entry is found in the Price List."""

    key: str
    service_code: str
    usage_type: str
    unit: str
    per: int = 1
    filters: Mapping[str, str] = field(default_factory=dict)


def _ec2(size: str) -> Refreshable:
    return Refreshable(f"ec2.hours.m7g.{size}", "AmazonEC2", f"BoxUsage:m7g.{size}", "hours",
                       filters={"instanceType": f"m7g.{size}", "operatingSystem": "Linux", "tenancy": "Shared",
                                "preInstalledSw": "NA", "capacitystatus": "Used"})


REFRESHABLE: tuple[Refreshable, ...] = (
    Refreshable("fargate.vcpu_hours.x86_64", "AmazonECS", "Fargate-vCPU-Hours:perCPU", "vCPU-hours"),
    Refreshable("fargate.gb_hours.x86_64", "AmazonECS", "Fargate-GB-Hours", "GB-hours"),
    Refreshable("fargate.vcpu_hours.arm64", "AmazonECS", "Fargate-ARM-vCPU-Hours:perCPU", "vCPU-hours"),
    Refreshable("fargate.gb_hours.arm64", "AmazonECS", "Fargate-ARM-GB-Hours", "GB-hours"),
    *(_ec2(size) for size in ("large", "xlarge", "2xlarge", "4xlarge")),
    Refreshable("nat.hours", "AmazonEC2", "NatGateway-Hours", "hours"),
    Refreshable("nat.gb", "AmazonEC2", "NatGateway-Bytes", "GB"),
    Refreshable("lambda.requests", "AWSLambda", "Request", "1M requests", 1_000_000),
    Refreshable("lambda.gb_seconds.x86_64", "AWSLambda", "Lambda-GB-Second", "GB-seconds"),
    Refreshable("lambda.gb_seconds.arm64", "AWSLambda", "Lambda-GB-Second-ARM", "GB-seconds"),
    # The issue names DSQL's usage types (DPU and storage) in service code AuroraDSQL; no recorded
    # response was at hand to confirm their exact spelling, so an unmatched refresh says so.
    Refreshable("dsql.dpus", "AuroraDSQL", "DPU", "1M DPUs", 1_000_000),
    Refreshable("dsql.storage", "AuroraDSQL", "TimedStorage-ByteHrs", "GB-months"),
)


@dataclass
class RefreshResult:
    table: PriceTable
    updated: dict[str, tuple[float, float]] = field(default_factory=dict)
    """key -> (old price, new price)."""
    unmatched: list[str] = field(default_factory=list)


def _products(client: Any, service_code: str, filters: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {
        "ServiceCode": service_code, "FormatVersion": "aws_v1", "MaxResults": 100,
        "Filters": [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
    }
    while True:
        try:
            page = client.get_products(**request)
        except client.exceptions.NotFoundException:
            return  # no products for this service code: the entries keep their pinned values
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item
        token = page.get("NextToken")
        if not token:
            return
        request["NextToken"] = token


def _usage_type_matches(product: Mapping[str, Any], usage_type: str) -> bool:
    actual = str(product.get("product", {}).get("attributes", {}).get("usagetype", ""))
    return actual == usage_type or (actual.endswith(f"-{usage_type}") and actual.split("-", 1)[1] == usage_type)


def _first_paid_price(product: Mapping[str, Any]) -> tuple[float, str] | None:
    """The lowest tier's USD price that is not a free allowance, and the product's publication date."""
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        dimensions = sorted(term.get("priceDimensions", {}).values(), key=lambda d: float(d.get("beginRange", 0) or 0))
        for dimension in dimensions:
            usd = float(dimension.get("pricePerUnit", {}).get("USD", "0"))
            if usd > 0:
                return usd, str(product.get("publicationDate", term.get("effectiveDate", "")))[:10]
    return None


def refresh_prices(table: PriceTable, client: Any, regions: Iterable[str],
                   entries: Iterable[Refreshable] = REFRESHABLE) -> RefreshResult:
    """A new table with every matched entry replaced; the rest keep their pinned values."""
    regions_out = {r: dict(v) for r, v in table.regions.items()}
    result = RefreshResult(table)
    cache: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[dict[str, Any]]] = {}
    for region in regions:
        current = regions_out.setdefault(region, {})
        for entry in entries:
            filters = {"regionCode": region, **entry.filters}
            cache_key = (entry.service_code, region, tuple(sorted(filters.items())))
            if cache_key not in cache:
                cache[cache_key] = list(_products(client, entry.service_code, filters))
            matches = [p for p in cache[cache_key] if _usage_type_matches(p, entry.usage_type)]
            priced = next((found for found in map(_first_paid_price, matches) if found is not None), None)
            if priced is None:
                result.unmatched.append(f"{region}:{entry.key}")
                continue
            unit_price, published = priced
            new = Price(price=round(unit_price * entry.per, 10), unit=entry.unit, per=entry.per,
                        source=f"AWS Price List API GetProducts ({entry.service_code}, usagetype {entry.usage_type}, "
                               f"{region})", as_of=published or table.as_of,
                        note=current[entry.key].note if entry.key in current else None)
            old = current[entry.key].price if entry.key in current else 0.0
            current[entry.key] = new
            result.updated[f"{region}:{entry.key}"] = (old, new.price)
    result.table = table.model_copy(update={"regions": regions_out})
    return result


def write_prices(table: PriceTable, path: Path) -> None:
    """Replace `path` atomically: a crash leaves the old table, never half of a new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(table.to_json())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pricing_client(endpoint_url: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    # Few retries and short timeouts: an unreachable API fails the command in seconds, not minutes.
    config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)
    return boto3.client("pricing", region_name=PRICE_LIST_REGION, endpoint_url=endpoint_url, config=config)
