"""Slot-block telemetry for the synthetic cluster, next to the scenario generator's series.

``temporal_dsql_standins.scenarios`` emits the pool, reservoir and transaction families; the DSQL plugin's
distributed connection-lease mode (``DSQL_DISTRIBUTED_CONN_LEASE_ENABLED``) also exports
``dsql_slot_blocks_owned`` and ``dsql_slot_blocks_slots_used`` per service. They are derived here
from the same scenario levels (blocks owned = ceil(reservoir target / block size), as the plugin
acquires at start-up; slots used = connections open), on the same timestamps, so the DSQL
Persistence dashboard's slot-block panels show what such a cluster would export.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from whenever import Instant, TimeDelta

from temporal_dsql_standins.scenarios import DEFAULT_CLUSTER, Scenario

__all__ = ["SLOT_BLOCK_SIZE", "write_slot_block_series"]

SLOT_BLOCK_SIZE = 100  # DSQL_SLOT_BLOCK_SIZE default
_SERVICES = ("history", "matching", "frontend", "worker")


def write_slot_block_series(scenario: Scenario, start: Instant, end: Instant, path: Path, *,
                            scrape_interval: TimeDelta = TimeDelta(seconds=30),
                            lead_in: TimeDelta = TimeDelta(minutes=10), cluster: str = DEFAULT_CLUSTER) -> Path:
    step = max(1, int(scrape_interval.total("seconds")))
    first, last = math.ceil(start.timestamp()), math.floor(end.timestamp())
    lead = int(lead_in.total("seconds"))
    timestamps = list(range(first - (lead // step) * step, last + 1, step))
    span = max(1, last - first)
    owned = math.ceil(scenario.reservoir_target / SLOT_BLOCK_SIZE)
    pool_max = float(scenario.pool_max_per_service)
    lines = ["# TYPE dsql_slot_blocks_owned gauge"]
    for service in _SERVICES:
        lines.extend(f'dsql_slot_blocks_owned{{cluster="{cluster}",service_name="{service}"}} {owned} {t}' for t in timestamps)
    lines.append("# TYPE dsql_slot_blocks_slots_used gauge")
    for service in _SERVICES:
        for t in timestamps:
            fraction = max(0.0, (t - first) / span)
            in_use = pool_max * min(1.0, scenario.level("pool_in_use_fraction", fraction))
            ready = scenario.reservoir_target * scenario.level("reservoir_fill_fraction", fraction)
            used = min(owned * SLOT_BLOCK_SIZE, round(in_use + ready))
            lines.append(f'dsql_slot_blocks_slots_used{{cluster="{cluster}",service_name="{service}"}} {used} {t}')
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")
    return path


LOG_GROUP = "/ecs/temporal-dsql-local"
_LOG_TICK_SECONDS = 10


def log_events(scenario: Scenario, start: Instant, end: Instant) -> dict[str, list[tuple[int, str]]]:
    """The synthetic cluster's error and warning log lines per service: (epoch ms, message).

    Volumes follow the scenario's levels at each 10 s tick: a share of the OCC conflicts is logged
    by the service that hit it (SQLSTATE 40001), reservoir-empty events log a discard/wait line and
    refill failures a rate-limit line, the way the Temporal server and the DSQL plugin log them.
    """
    first, last = math.ceil(start.timestamp()), math.floor(end.timestamp())
    span = max(1, last - first)
    share = {"history": 0.55, "matching": 0.25, "frontend": 0.15, "worker": 0.05}
    events: dict[str, list[tuple[int, str]]] = {service: [] for service in _SERVICES}
    carry: dict[tuple[str, str], float] = {}
    for t in range(first, last + 1, _LOG_TICK_SECONDS):
        fraction = (t - first) / span
        rates = {
            "occ": scenario.level("occ_conflicts_per_sec", fraction) * 0.02,
            "empty": scenario.level("reservoir_empty_per_sec", fraction) * 0.02,
            "refill": scenario.level("refill_failures_per_sec", fraction) * 0.05,
        }
        for service in _SERVICES:
            for kind, rate in rates.items():
                key = (service, kind)
                carry[key] = carry.get(key, 0.0) + rate * share[service] * _LOG_TICK_SECONDS
                while carry[key] >= 1.0:
                    carry[key] -= 1.0
                    events[service].append((t * 1000 + len(events[service]) % 1000, _message(kind, service)))
    return events


_MESSAGES = {
    "occ": ("error", "Operation failed with internal error.",
            {"error": "ERROR: change conflicts with another transaction, please retry: (OC000) (SQLSTATE 40001)"}),
    "empty": ("warn", "dsql reservoir discard: expired connection dropped while the reservoir was empty",
              {"component": "dsql-reservoir"}),
    "refill": ("warn", "dsql connection rate limit reached, refill delayed", {"component": "dsql-reservoir"}),
}


def _message(kind: str, service: str) -> str:
    level, msg, extra = _MESSAGES[kind]
    return json.dumps({"level": level, "msg": msg, "service": service, **extra})
