"""Every copilot-API read of the copilot dashboard resolves against the real status API, fed by the
real worker assessing the synthetic overloaded cluster (logs included): no panel reads a field or
an endpoint nothing produces.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from whenever import Instant, TimeDelta

from temporal_dsql_dashboards.copilot_dashboard import (
    CURRENT_STATE,
    STATUS_API_READS,
    StatusRead,
    resolve_selector,
)
from temporal_dsql_dashboards.profile_action import interpolate

if TYPE_CHECKING:
    from conftest import AssessedStack

pytestmark = pytest.mark.standins


@pytest.fixture(scope="module")
def assessed_api(assessed_stack: AssessedStack) -> str:
    return assessed_stack.api_url


def _rows(api: str, read: StatusRead) -> list[Any]:
    now = Instant.now()
    path = interpolate(read.path, {"__from": str((now - TimeDelta(hours=3)).timestamp(unit="millisecond")),
                                   "__to": str(now.timestamp(unit="millisecond"))})
    response = httpx.get(f"{api}{path}", timeout=10)
    assert response.status_code == 200, (read.panel, response.text)
    document = response.json()
    assert document.get("degraded") is not True, (read.panel, document)
    selected = resolve_selector(document, read.root_selector) if read.root_selector else document
    return selected if isinstance(selected, list) else [selected]


@pytest.mark.parametrize("read", STATUS_API_READS, ids=lambda r: r.panel)
def test_panel_reads_resolve_to_data(assessed_api: str, read: StatusRead) -> None:
    rows = _rows(assessed_api, read)
    assert rows, f"{read.panel}: {read.path} -> {read.root_selector!r} is empty for an overloaded cluster"
    for row in rows:
        for selector in read.fields:
            resolve_selector(row, selector)


def _visible(read: StatusRead, row: dict[str, Any], variables: dict[str, str]) -> bool:
    """Infinity's per-row filter expression, after Grafana interpolated the variables: the row's
    fields are the identifiers (only `==`, `||` and string literals are used)."""
    expression = interpolate(read.status_filter, variables).replace("||", " or ")
    return bool(eval(expression, {"__builtins__": {}}, dict(row)))  # our own expression, no builtins


@pytest.mark.parametrize("read", [r for r in STATUS_API_READS if r.status_filter], ids=lambda r: r.panel)
def test_the_status_filter_on_real_rows(assessed_api: str, read: StatusRead) -> None:
    """Each panel's rows under every Status choice, with the copilot_state variable's real value:
    "All" and the current state keep the overloaded cluster's rows, another state hides them."""
    (current,) = (row["health_state"] for row in _rows(assessed_api, CURRENT_STATE))
    assert current in ("stressed", "critical")
    rows = _rows(assessed_api, read)
    assert rows
    for status in ("", "happy", "stressed", "critical"):
        shown = [row for row in rows if _visible(read, row, {"status": status, "copilot_state": current})]
        own = re.search(r'\|\| (\w+) == "\$\{status\}"', read.status_filter)  # the row's own state field
        own_state = own.group(1) if own else None
        if status == "":
            assert shown == rows, read.panel
        elif own_state is not None:
            assert shown == [row for row in rows if row[own_state] == status], (read.panel, status)
        else:
            assert shown == (rows if status == current else []), (read.panel, status)
    # The overloaded cluster's rows show under its state (services each have their own state).
    assert any(_visible(read, row, {"status": current, "copilot_state": current}) for row in rows), read.panel


def test_hero_shows_the_overload(assessed_api: str) -> None:
    (hero,) = _rows(assessed_api, STATUS_API_READS[0])
    assert hero["health_state"] in ("stressed", "critical")
    assert hero["summary"]
