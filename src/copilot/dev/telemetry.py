"""Slot-block telemetry for the synthetic cluster, next to the scenario generator's series.

``standins.scenarios`` emits the pool, reservoir and transaction families; the DSQL plugin's
distributed connection-lease mode (``DSQL_DISTRIBUTED_CONN_LEASE_ENABLED``) also exports
``dsql_slot_blocks_owned`` and ``dsql_slot_blocks_slots_used`` per service. They are derived here
from the same scenario levels (blocks owned = ceil(reservoir target / block size), as the plugin
acquires at start-up; slots used = connections open), on the same timestamps, so the DSQL
Persistence dashboard's slot-block panels show what such a cluster would export.
"""

from __future__ import annotations

import math
from pathlib import Path

from whenever import Instant, TimeDelta

from standins.scenarios import Scenario

__all__ = ["SLOT_BLOCK_SIZE", "write_slot_block_series"]

SLOT_BLOCK_SIZE = 100  # DSQL_SLOT_BLOCK_SIZE default
_SERVICES = ("history", "matching", "frontend", "worker")


def write_slot_block_series(scenario: Scenario, start: Instant, end: Instant, path: Path, *,
                            scrape_interval: TimeDelta = TimeDelta(seconds=30),
                            lead_in: TimeDelta = TimeDelta(minutes=10)) -> Path:
    step = max(1, int(scrape_interval.total("seconds")))
    first, last = math.ceil(start.timestamp()), math.floor(end.timestamp())
    lead = int(lead_in.total("seconds"))
    timestamps = list(range(first - (lead // step) * step, last + 1, step))
    span = max(1, last - first)
    owned = math.ceil(scenario.reservoir_target / SLOT_BLOCK_SIZE)
    pool_max = float(scenario.pool_max_per_service)
    lines = ["# TYPE dsql_slot_blocks_owned gauge"]
    for service in _SERVICES:
        lines.extend(f'dsql_slot_blocks_owned{{service_name="{service}"}} {owned} {t}' for t in timestamps)
    lines.append("# TYPE dsql_slot_blocks_slots_used gauge")
    for service in _SERVICES:
        for t in timestamps:
            fraction = max(0.0, (t - first) / span)
            in_use = pool_max * min(1.0, scenario.level("pool_in_use_fraction", fraction))
            ready = scenario.reservoir_target * scenario.level("reservoir_fill_fraction", fraction)
            used = min(owned * SLOT_BLOCK_SIZE, round(in_use + ready))
            lines.append(f'dsql_slot_blocks_slots_used{{service_name="{service}"}} {used} {t}')
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")
    return path
