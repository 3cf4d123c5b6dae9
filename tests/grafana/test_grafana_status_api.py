"""Every copilot-API read of the copilot dashboard resolves against the real status API, fed by the
real worker assessing the synthetic overloaded cluster (logs included): no panel reads a field or
an endpoint nothing produces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
from whenever import Instant, TimeDelta

from copilot.grafana.copilot_dashboard import STATUS_API_READS, StatusRead, resolve_selector
from copilot.grafana.profile_action import interpolate

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


def test_hero_shows_the_overload(assessed_api: str) -> None:
    (hero,) = _rows(assessed_api, STATUS_API_READS[0])
    assert hero["health_state"] in ("stressed", "critical")
    assert hero["summary"]
