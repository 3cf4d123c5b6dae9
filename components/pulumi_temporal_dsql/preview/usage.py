"""Usage: the monthly quantities list prices cannot know, each with where it came from.

A usage-priced component (DSQL DPUs, AMP samples, NAT GB...) takes its quantity from the usage
file when it names one, else from a default derived from the preset's own targets (the compiled
profile: target state transitions and completions per second, replicas, pools, connection
lifetimes) and the metric catalog, through the documented factors below. `--explain` prints each
quantity with its reason, so an estimate is never a bare number.

The usage file follows Infracost's: a `resource_usage` mapping from a resource's logical name
(shell-style wildcards allowed, `"*-logs"`) to usage keys and numbers:

    version: 0.1
    resource_usage:
      temporal-prod-dsql-cluster:
        monthly_dpus: 150000000
      "*-logs":
        monthly_ingested_gb: 2
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_temporal_dsql.errors import ComponentInputError

__all__ = [
    "ACTIONS_PER_STATE_TRANSITION",
    "DPU_PER_STATE_TRANSITION",
    "SECONDS_PER_MONTH",
    "SERIES_PER_SCRAPED_TASK",
    "UsageFile",
    "UsageInputError",
    "UsageValue",
    "WorkloadFacts",
    "load_usage_file",
    "parse_usage",
]

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GIB = 1024**3

# --- documented factors (each is an estimate; the usage file overrides every quantity) ---------
DPU_PER_STATE_TRANSITION = 0.5
"""DPUs one Temporal state transition costs: an estimate, not a measurement. AWS's DSQL guide shows
a single-statement read at ~0.06 DPU (EXPLAIN ANALYZE VERBOSE example: Compute 0.016 + Read 0.043
DPU, docs.aws.amazon.com/aurora-dsql/latest/userguide/understanding-dpus-explain-analyze.html);
a transition commits one transaction of a few reads and ~4 row writes (mutable state, history
node, tasks, timers), so ~0.5 DPU. Measure yours with the cluster's TotalDPU CloudWatch metric."""
BYTES_PER_STATE_TRANSITION = 2048
"""Stored bytes one transition adds (history events + mutable state): an estimate."""
WIRE_BYTES_PER_STATE_TRANSITION = 4096
"""Bytes a transition moves between history and DSQL (both ways, through the NAT gateway: the
DSQL endpoint is public unless a DSQL VPC endpoint is added): an estimate."""
SERIES_PER_SCRAPED_TASK = 2000
"""Prometheus series one Temporal task exports (its /metrics, all scraped): an estimate. The
metric catalog's curated queries read a few dozen metric names; the server exports many more,
each with per-operation labels and histogram buckets."""
SCRAPE_INTERVAL_SECONDS = 15  # the collector's scrape_interval (observability.collector_config)
BYTES_PER_STORED_SAMPLE = 2  # AMP: "samples (typically 1 or 2 bytes)" (aws.amazon.com/prometheus/pricing)
AMP_RETENTION_MONTHS = 5  # AMP keeps samples 150 days: storage at steady state holds ~5 months
REMOTE_WRITE_BYTES_PER_SAMPLE = 2  # snappy-compressed remote-write payload per sample: an estimate
QUERY_EVALUATION_SECONDS = 60  # the copilot's (and a dashboard's) evaluation interval
SERIES_PER_QUERY = 50
POINTS_PER_QUERY_SERIES = 20  # a 5 m rate window at a 15 s scrape
LOG_GB_PER_TASK = 0.5  # info-level logs of one task per month (~17 MB/day): an estimate
CONFIG_POLL_SECONDS = 30  # service.REFRESH_INTERVAL_SECONDS: each Temporal task's refresher GETs the object
PROFILE_UPLOADS_PER_MONTH = 730  # one behaviour profile per hour: an estimate
PROFILE_STORAGE_GB = 1.0
API_REQUESTS_PER_MONTH = 43_800  # one profile-API request a minute (a dashboard panel): an estimate
API_AVG_DURATION_MS = 200
NLCU_PER_HOUR = 1.0  # long-lived gRPC connections: one NLCU covers 100k active flows, 1 GB/h
EXPLANATIONS_PER_MONTH = 730  # one copilot explanation an hour: an estimate
INPUT_TOKENS_PER_EXPLANATION = 8000
OUTPUT_TOKENS_PER_EXPLANATION = 1000
COPILOT_STATE_TRANSITIONS_PER_SEC = 1.0  # the copilot's own Temporal runs a handful of workflows
SETUP_RUN_MINUTES = 5.0  # a set-up task's run (the runner Lambda waits for it): an estimate
ACTIONS_PER_STATE_TRANSITION = 0.5
"""Temporal Cloud bills actions (workflow starts, activity starts, signals, timers...), not state
transitions; a workflow start or an activity takes ~2 transitions (scheduled/started + completed):
an estimate used only for the per-million-actions comparison."""


class UsageInputError(ComponentInputError):
    """The usage file is unreadable or names an unknown usage key."""


@dataclass(frozen=True)
class UsageValue:
    """One usage quantity and where it came from."""

    value: float
    source: str
    """"usage file" or "default"."""
    reason: str


@dataclass(frozen=True)
class UsageFile:
    resource_usage: dict[str, dict[str, float]]
    path: str | None = None
    used: set[tuple[str, str]] = field(default_factory=set, compare=False)
    """(pattern, key) pairs some lookup answered: the rest are typos or resources the plan lacks."""

    def lookup(self, resource_name: str, key: str) -> float | None:
        """Exact names win over wildcards; among wildcards, the longest pattern wins."""
        exact = self.resource_usage.get(resource_name, {})
        if key in exact:
            self.used.add((resource_name, key))
            return exact[key]
        matches = [(len(p), p) for p in self.resource_usage
                   if p != resource_name and fnmatch.fnmatchcase(resource_name, p) and key in self.resource_usage[p]]
        if not matches:
            return None
        pattern = max(matches)[1]
        self.used.add((pattern, key))
        return self.resource_usage[pattern][key]

    def check_all_used(self, known: Mapping[str, set[str]]) -> None:
        """Fail on an entry no resource asked for, naming the keys the resources do take.

        `known` maps each priced resource to its usage keys (from the estimate's notes)."""
        for pattern, values in self.resource_usage.items():
            for key in values:
                if (pattern, key) in self.used:
                    continue
                names = [n for n in known if n == pattern or fnmatch.fnmatchcase(n, pattern)]
                if not names:
                    raise UsageInputError(
                        f"The usage file names {pattern!r}, which matches no priced resource of this plan.",
                        field=f"resource_usage.{pattern}", allowed=sorted(known),
                        suggestion="Use a resource name from `temporal-dsql cost --explain` (wildcards allowed).")
                allowed = sorted(set().union(*(known[n] for n in names)))
                raise UsageInputError(f"Unknown usage key {key!r} for {pattern!r}.", field=f"resource_usage.{pattern}.{key}",
                                      allowed=allowed, suggestion="See `temporal-dsql cost --explain` for each resource's keys.")


EMPTY_USAGE = UsageFile({})


def parse_usage(document: Any, *, path: str | None = None, known_keys: frozenset[str] | None = None) -> UsageFile:
    """Validate a usage document: numbers only, known keys only (a typo must not be silently ignored)."""
    if document is None:
        return UsageFile({}, path)
    if not isinstance(document, dict) or not isinstance(document.get("resource_usage", {}), dict):
        raise UsageInputError("The usage file must be a mapping with a `resource_usage` mapping.",
                              field="usage_file", suggestion="See the README's Cost section for the format.")
    usage: dict[str, dict[str, float]] = {}
    for name, values in (document.get("resource_usage") or {}).items():
        if not isinstance(values, dict):
            raise UsageInputError(f"resource_usage.{name} must map usage keys to numbers.", field=f"resource_usage.{name}")
        for key, value in values.items():
            if known_keys is not None and key not in known_keys:
                raise UsageInputError(f"Unknown usage key {key!r} under {name}.", field=f"resource_usage.{name}.{key}",
                                      allowed=sorted(known_keys),
                                      suggestion="Run `temporal-dsql cost --explain` to see each resource's keys.")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise UsageInputError(f"resource_usage.{name}.{key} must be a number >= 0, not {value!r}.",
                                      field=f"resource_usage.{name}.{key}")
            usage.setdefault(str(name), {})[str(key)] = float(value)
    return UsageFile(usage, path)


def load_usage_file(path: Path, *, known_keys: frozenset[str] | None = None) -> UsageFile:
    import yaml

    if not path.is_file():
        raise UsageInputError(f"No usage file at {path}.", field="usage_file",
                              suggestion="Pass a YAML or JSON file with a `resource_usage` mapping.")
    text = path.read_text()
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise UsageInputError(f"The usage file {path} does not parse: {error}.", field="usage_file") from None
    return parse_usage(document, path=str(path), known_keys=known_keys)


@dataclass(frozen=True)
class WorkloadFacts:
    """What the defaults are derived from: the compiled profile's targets and sizes."""

    preset: str
    state_transitions_per_sec: float
    completions_per_sec: float
    replicas: Mapping[str, int]
    """Temporal role -> tasks (history, matching, frontend, worker)."""
    connections_per_process: Mapping[str, int]
    connection_lifetime_seconds: float
    retention_hours: float = 72.0
    log_retention_days: int = 30

    @classmethod
    def from_profile_values(cls, preset: str, values: Mapping[str, Any], *, log_retention_days: int = 30,
                            retention_hours: float = 72.0) -> WorkloadFacts:
        from temporal_dsql_config.presets import per_process_held_connections

        roles = ("history", "matching", "frontend", "worker")
        # Every pool of a process holds what the compiler sized it for (reservoir targets included).
        connections = {r: per_process_held_connections(values, r) * int(values["dsql.pools_per_process"]) for r in roles}
        return cls(
            preset=preset,
            state_transitions_per_sec=float(values["slo.target_state_transitions_per_sec"]),
            completions_per_sec=float(values["slo.target_workflow_completion_rate"]),
            replicas={r: int(values[f"{r}.replicas"]) for r in roles},
            connections_per_process=connections,
            connection_lifetime_seconds=_duration_seconds(str(values.get("dsql.max_conn_lifetime", "55m"))),
            retention_hours=retention_hours,
            log_retention_days=log_retention_days,
        )

    @property
    def temporal_tasks(self) -> int:
        return sum(self.replicas.values())


def _duration_seconds(text: str) -> float:
    from temporal_dsql_config.values import parse_go_duration

    return float(parse_go_duration(text))
