"""The pinned price table (prices.json beside this module): list prices with their provenance.

Every entry carries its price, its unit (with `per`, how many base units one priced unit holds:
`1M DPUs` has per = 1,000,000), the page or API it came from and the date it was read. Prices
are by region (and, where AWS prices them apart, by architecture in the key: `.x86_64`/`.arm64`).
`temporal-dsql prices refresh` rewrites the AWS entries from the Price List API; entries no
refresh touches keep their pinned source. Loading never touches the network.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pulumi_temporal_dsql.errors import ComponentInputError

__all__ = [
    "PRICES_FILE",
    "Price",
    "PriceTable",
    "UnpricedError",
    "load_prices",
]

PRICES_FILE = Path(__file__).with_name("prices.json")


class UnpricedError(ComponentInputError):
    """A region, instance type or model the pinned table has no price for."""


class Price(BaseModel):
    model_config = ConfigDict(frozen=True)

    price: float = Field(ge=0)
    unit: str
    per: int = Field(default=1, gt=0)
    """Base units in one priced unit: the DPU price is per 1,000,000 DPUs."""
    source: str
    as_of: str
    note: str | None = None


class PriceTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: int = Field(alias="schema")
    currency: str
    source: str
    as_of: str
    regions: dict[str, dict[str, Price]]
    global_prices: dict[str, Price] = Field(alias="global", default_factory=dict)

    def priced_regions(self) -> list[str]:
        return sorted(self.regions)

    def region(self, region: str) -> dict[str, Price]:
        """The region's entries, or an error naming every priced region."""
        if region not in self.regions:
            raise UnpricedError(
                f"No prices for region {region!r}.", field="region", allowed=self.priced_regions(),
                suggestion=f"Use a priced region, or add one with `temporal-dsql prices refresh --region {region}` "
                           "(needs AWS credentials and the Price List API).",
            )
        return self.regions[region]

    def get(self, region: str, key: str, *, field: str) -> Price:
        """One entry; an unpriced key is an error listing what the region has of that kind."""
        entries = self.region(region)
        if key in entries:
            return entries[key]
        if key in self.global_prices:
            return self.global_prices[key]
        family = key.rsplit(".", 1)[0] if key.count(".") >= 2 else key
        kind = ".".join(key.split(".")[:2])
        allowed = sorted(k.removeprefix(kind + ".") for k in entries if k.startswith(kind + "."))
        raise UnpricedError(
            f"No {kind} price for {key.removeprefix(kind + '.')!r} in {region}.", field=field,
            allowed=list(allowed or [family]),
            suggestion="Pick a priced value, or add it to the table with `temporal-dsql prices refresh`.",
        )

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True, exclude_none=True), indent=1, sort_keys=True) + "\n"


def parse_prices(document: dict[str, Any]) -> PriceTable:
    return PriceTable.model_validate(document)


@cache
def _load(path: str, mtime_ns: int) -> PriceTable:
    return parse_prices(json.loads(Path(path).read_text()))


def load_prices(path: Path | None = None) -> PriceTable:
    """The pinned table (cached per file version: pricing a plan must add milliseconds, not a parse)."""
    target = path or PRICES_FILE
    return _load(str(target), target.stat().st_mtime_ns)
