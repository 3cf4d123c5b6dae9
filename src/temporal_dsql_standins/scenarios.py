"""Temporal-shaped telemetry scenarios as OpenMetrics for promtool backfill.

A ``Scenario`` is a named set of signal levels that ramp linearly from the start to the end of its
window (``healthy-150wps`` is flat; ``overloaded-400wps`` degrades: OCC conflicts climb, the DSQL
reservoir drains, schedule-to-start latency rises). ``write_openmetrics`` renders it as the series
the metric catalog (``temporal_dsql_core.metric_catalog``) queries: Temporal server, DSQL plugin, Go SDK
worker and cAdvisor names with their real label sets. Output is deterministic for a seed.

Usage::

    scenario = get_scenario("overloaded-400wps")
    load_into_prometheus(server, [ScenarioWindow(scenario, start, end)])  # before server.start()

promtool gotchas handled here: timestamps are seconds, every series is emitted in ascending time,
the file ends with ``# EOF``; counters are cumulative ``_total`` series.
"""

from __future__ import annotations

import math
import random
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from whenever import Instant, TimeDelta

from temporal_dsql_core.errors import InputError

if TYPE_CHECKING:
    from temporal_dsql_standins.prometheus import PrometheusServer

__all__ = [
    "DEFAULT_CLUSTER",
    "SCENARIOS",
    "Ramp",
    "Scenario",
    "ScenarioPrometheus",
    "ScenarioWindow",
    "default_windows",
    "get_scenario",
    "load_into_prometheus",
    "start_prometheus_with_scenarios",
    "write_openmetrics",
]

SERVICES = ("history", "matching", "frontend", "worker")
DEFAULT_CLUSTER = "synthetic"
"""The ``cluster`` label of generated series unless the caller names the cluster."""


@dataclass(frozen=True)
class Ramp:
    """A level that moves linearly from ``start`` to ``end`` over the window, or over the part of it
    from ``begin`` to ``finish`` (fractions of the window): ``Ramp(4, 0, begin=0.5, finish=0.5)``
    is a step from 4 to 0 half-way through."""

    start: float
    end: float | None = None
    begin: float = 0.0
    finish: float = 1.0

    def at(self, fraction: float) -> float:
        end = self.start if self.end is None else self.end
        if fraction <= self.begin:
            return self.start
        if fraction >= self.finish:
            return end
        return self.start + (end - self.start) * (fraction - self.begin) / (self.finish - self.begin)


def _step(before: float, after: float, at: float) -> Ramp:
    return Ramp(before, after, begin=at, finish=at)


def _flat(value: float) -> Ramp:
    return Ramp(value)


def _scaled(ramp: Ramp, factor: float) -> Callable[[float], float]:
    return lambda fraction: ramp.at(fraction) * factor


@dataclass(frozen=True)
class Scenario:
    """Signal levels of one cluster behaviour. Latencies are medians in ms; rates per second."""

    name: str
    description: str
    workflow_starts_per_sec: Ramp
    completion_ratio: Ramp = field(default_factory=lambda: _flat(1.0))
    # A short workflow (start, one activity, close) is about three mutable-state transitions,
    # so 150 starts/s is 450 transitions/s: inside mid-scale's 50-500 band.
    state_transitions_per_workflow: Ramp = field(default_factory=lambda: _flat(3.0))
    workflow_s2s_median_ms: Ramp = field(default_factory=lambda: _flat(8.0))
    activity_s2s_median_ms: Ramp = field(default_factory=lambda: _flat(10.0))
    persistence_median_ms: Ramp = field(default_factory=lambda: _flat(6.0))
    dispatch_median_ms: Ramp = field(default_factory=lambda: _flat(3.0))
    latency_sigma: float = 0.6
    sync_match_pct: Ramp = field(default_factory=lambda: _flat(97.0))
    backlog_count: Ramp = field(default_factory=lambda: _flat(5.0))
    backlog_age_sec: Ramp = field(default_factory=lambda: _flat(0.1))
    pool_max_per_service: int = 50
    pool_in_use_fraction: Ramp = field(default_factory=lambda: _flat(0.4))
    reservoir_target: int = 50
    reservoir_fill_fraction: Ramp = field(default_factory=lambda: _flat(0.98))
    reservoir_empty_per_sec: Ramp = field(default_factory=lambda: _flat(0.0))
    reconnects_per_sec: Ramp = field(default_factory=lambda: _flat(0.3))
    refill_failures_per_sec: Ramp = field(default_factory=lambda: _flat(0.0))
    auth_failures_per_sec: Ramp = field(default_factory=lambda: _flat(0.0))
    occ_conflicts_per_sec: Ramp = field(default_factory=lambda: _flat(0.5))
    exhausted_retries_per_sec: Ramp = field(default_factory=lambda: _flat(0.0))
    cpu_pct: Ramp = field(default_factory=lambda: _flat(35.0))
    memory_pct: Ramp = field(default_factory=lambda: _flat(45.0))
    slot_utilization_pct: Ramp = field(default_factory=lambda: _flat(40.0))
    # Every signal the copilot's state machine reads has a level (the eval's generator cases).
    failure_ratio: Ramp = field(default_factory=lambda: _flat(0.0))
    """Workflows failing per workflow started (completion_ratio counts the successful ones)."""
    history_tasks_per_workflow: Ramp = field(default_factory=lambda: _flat(5.0))
    persistence_errors_per_sec: Ramp = field(default_factory=lambda: _flat(0.0))
    shard_churn_per_sec: Ramp = field(default_factory=lambda: _flat(0.0))
    frontend_median_ms: Ramp = field(default_factory=lambda: _flat(15.0))
    poll_timeout_ratio: Ramp = field(default_factory=lambda: _flat(0.2))
    """Share of matching's polls that time out empty."""
    pollers_per_worker: Ramp = field(default_factory=lambda: _flat(4.0))
    sticky_hit_ratio: Ramp = field(default_factory=lambda: _flat(0.95))
    sticky_cache_per_worker: Ramp = field(default_factory=lambda: _flat(50.0))
    long_poll_median_ms: Ramp = field(default_factory=lambda: _flat(2000.0))
    long_poll_failures_per_sec: Ramp = field(default_factory=lambda: _flat(0.0))
    workers: int = 4
    """Worker processes (``instance`` label of the SDK metrics)."""
    noise: float = 0.05
    """Relative jitter applied to every level at every scrape (deterministic per seed)."""

    def level(self, signal: str, fraction: float) -> float:
        """A signal's noiseless level at a point of the window (0 = start, 1 = end)."""
        ramp = getattr(self, signal)
        if not isinstance(ramp, Ramp):
            raise InputError(f"{signal!r} is not a scenario signal", field="signal",
                             allowed=_SIGNALS)
        return ramp.at(fraction)


_SIGNALS = [name for name, value in Scenario.__dataclass_fields__.items() if value.type in ("Ramp",)]

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="healthy-150wps",
            description="Steady 150 workflow starts/s: full reservoir, few OCC conflicts, low latency.",
            workflow_starts_per_sec=_flat(150.0),
        ),
        Scenario(
            name="healthy-40wps",
            description="Steady 40 workflow starts/s on a starter-sized cluster.",
            workflow_starts_per_sec=_flat(40.0), pool_max_per_service=20, reservoir_target=20,
            pool_in_use_fraction=_flat(0.25), cpu_pct=_flat(20.0), memory_pct=_flat(35.0),
            slot_utilization_pct=_flat(20.0), occ_conflicts_per_sec=_flat(0.1),
        ),
        Scenario(
            name="overloaded-400wps",
            description=("400 workflow starts/s overload: OCC conflicts climb, the DSQL reservoir "
                         "drains to empty, schedule-to-start and persistence latency rise, "
                         "backlogs grow and completions fall behind."),
            workflow_starts_per_sec=_flat(400.0),
            completion_ratio=Ramp(0.85, 0.55),
            workflow_s2s_median_ms=Ramp(25.0, 900.0),
            activity_s2s_median_ms=Ramp(30.0, 1200.0),
            persistence_median_ms=Ramp(12.0, 140.0),
            dispatch_median_ms=Ramp(8.0, 400.0),
            sync_match_pct=Ramp(88.0, 40.0),
            backlog_count=Ramp(50.0, 20000.0),
            backlog_age_sec=Ramp(2.0, 300.0),
            pool_in_use_fraction=Ramp(0.7, 1.0),
            reservoir_fill_fraction=Ramp(0.8, 0.02),
            reservoir_empty_per_sec=Ramp(0.0, 25.0),
            reconnects_per_sec=Ramp(0.5, 6.0),
            refill_failures_per_sec=Ramp(0.0, 8.0),
            auth_failures_per_sec=Ramp(0.0, 0.0),
            occ_conflicts_per_sec=Ramp(5.0, 60.0),
            exhausted_retries_per_sec=Ramp(0.0, 3.0),
            cpu_pct=Ramp(70.0, 97.0),
            memory_pct=Ramp(60.0, 88.0),
            slot_utilization_pct=Ramp(75.0, 100.0),
        ),
        Scenario(
            name="workers-gone",
            description=("150 workflow starts/s served normally until just past the middle of the window (51 %), when every "
                         "worker stops polling: pollers drop to 0, workflows stop completing, starts keep "
                         "arriving and the oldest waiting task ages with the clock."),
            workflow_starts_per_sec=_flat(150.0),
            completion_ratio=_step(1.0, 0.0, 0.51),
            # Only the start itself (and its first workflow task scheduled) is persisted afterwards.
            state_transitions_per_workflow=_step(3.0, 1.0, 0.51),
            history_tasks_per_workflow=_step(5.0, 1.0, 0.51),
            pollers_per_worker=_step(4.0, 0.0, 0.51),
            sync_match_pct=_step(97.0, 0.0, 0.51),
            backlog_age_sec=Ramp(0.1, 900.0, begin=0.51, finish=1.0),
            backlog_count=Ramp(5.0, 135000.0, begin=0.51, finish=1.0),
            slot_utilization_pct=_step(40.0, 0.0, 0.51),
            poll_timeout_ratio=_step(0.2, 0.0, 0.51),
        ),
        Scenario(
            name="quiet-night",
            description=("A quiet night: 2 workflow starts/s (about 6 state transitions/s), most polls "
                         "returning empty, nothing waiting."),
            workflow_starts_per_sec=_flat(2.0), poll_timeout_ratio=_flat(0.95), backlog_count=_flat(0.0),
            backlog_age_sec=_flat(0.0), slot_utilization_pct=_flat(2.0), occ_conflicts_per_sec=_flat(0.0),
            pool_in_use_fraction=_flat(0.05), cpu_pct=_flat(5.0),
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise InputError(f"unknown scenario {name!r}", field="scenario", allowed=sorted(SCENARIOS),
                         suggestion="Pick one of the registered scenarios.") from None


@dataclass(frozen=True)
class ScenarioWindow:
    scenario: Scenario
    start: Instant
    end: Instant
    seed: int = 0


# Bucket bounds (le) for each histogram, in the histogram's own unit.
_MS_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000)
_SEC_BUCKETS = tuple(b / 1000 for b in _MS_BUCKETS)


def _lognormal_cdf(x: float, median: float, sigma: float) -> float:
    if x <= 0:
        return 0.0
    return 0.5 * (1 + math.erf(math.log(x / median) / (sigma * math.sqrt(2))))


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return "{" + inner + "}"


def _fmt(value: float) -> str:
    return repr(round(value, 6)) if not value.is_integer() else str(int(value))


class _Writer:
    """Writes families; every series is emitted whole, ascending in time."""

    def __init__(self, out: IO[str], timestamps: Sequence[int], fractions: Sequence[float],
                 interval: float, rng: random.Random, noise: float, base_labels: dict[str, str]) -> None:
        self.out, self.ts, self.fr, self.interval = out, timestamps, fractions, interval
        self.rng, self.noise, self.base = rng, noise, base_labels

    def jitter(self) -> float:
        return 1.0 + self.rng.uniform(-self.noise, self.noise)

    def family(self, name: str, kind: str) -> None:
        self.out.write(f"# TYPE {name} {kind}\n")

    def gauge(self, name: str, labels: dict[str, str], level: Callable[[float], float]) -> None:
        lab = _labels({**self.base, **labels})
        for ts, f in zip(self.ts, self.fr, strict=True):
            self.out.write(f"{name}{lab} {_fmt(max(0.0, level(f) * self.jitter()))} {ts}\n")

    def counter(self, name: str, labels: dict[str, str], rate: Callable[[float], float]) -> None:
        lab, total = _labels({**self.base, **labels}), 0.0
        for ts, f in zip(self.ts, self.fr, strict=True):
            self.out.write(f"{name}_total{lab} {_fmt(total)} {ts}\n")
            total += max(0.0, rate(f) * self.jitter()) * self.interval

    def histogram(self, name: str, labels: dict[str, str], rate: Callable[[float], float],
                  median: Callable[[float], float], sigma: float, buckets: Sequence[float]) -> None:
        """Cumulative buckets from the expected lognormal counts of each scrape interval."""
        labels = {**self.base, **labels}
        n = len(self.ts)
        counts = [[0.0] * n for _ in buckets]
        totals, sums = [0.0] * n, [0.0] * n
        count = total_sum = 0.0
        acc = [0.0] * len(buckets)
        for i, f in enumerate(self.fr):
            totals[i], sums[i] = count, total_sum
            for b in range(len(buckets)):
                counts[b][i] = acc[b]
            observed = max(0.0, rate(f) * self.jitter()) * self.interval
            med = max(1e-9, median(f) * self.jitter())
            for b, le in enumerate(buckets):
                acc[b] += observed * _lognormal_cdf(le, med, sigma)
            count += observed
            total_sum += observed * med * math.exp(sigma * sigma / 2)
        for b, le in enumerate(buckets):
            lab = _labels({**labels, "le": _fmt(float(le))})
            for i, ts in enumerate(self.ts):
                self.out.write(f"{name}_bucket{lab} {_fmt(counts[b][i])} {ts}\n")
        lab_inf = _labels({**labels, "le": "+Inf"})
        for i, ts in enumerate(self.ts):
            self.out.write(f"{name}_bucket{lab_inf} {_fmt(totals[i])} {ts}\n")
        lab = _labels(labels)
        for i, ts in enumerate(self.ts):
            self.out.write(f"{name}_count{lab} {_fmt(totals[i])} {ts}\n")
        for i, ts in enumerate(self.ts):
            self.out.write(f"{name}_sum{lab} {_fmt(sums[i])} {ts}\n")


def write_openmetrics(scenario: Scenario, start: Instant, end: Instant, path: Path, *, seed: int = 0,
                      scrape_interval: TimeDelta | None = None, namespace: str = "default",
                      task_queue: str = "default-tq", out_mode: str = "w",
                      lead_in: TimeDelta | None = None, cluster: str = DEFAULT_CLUSTER) -> Path:
    """Render ``scenario`` over [start, end] at ``scrape_interval`` (default 30 s) into ``path``.

    Series begin ``lead_in`` (default 10 min) before ``start`` at the starting levels, so that
    ``rate(...[5m])`` is already fully defined at the window's first instant.

    ``out_mode="a"`` appends (without ``# EOF``); the caller ends the file. Returns ``path``.

    Every series carries ``cluster`` as the ``cluster`` label, the label the metrics collector adds
    to each scrape of a deployed cluster (the dashboards' cluster selector and the alert rules'
    grouping read it).
    """
    if end <= start:
        raise InputError("scenario window end must be after its start", field="end",
                         suggestion=f"Use an end later than {start.format_iso()}.")
    interval = (scrape_interval or TimeDelta(seconds=30)).total("seconds")
    first, last = math.ceil(start.timestamp()), math.floor(end.timestamp())
    lead = int((lead_in if lead_in is not None else TimeDelta(minutes=10)).total("seconds"))
    step = max(1, int(interval))
    timestamps = list(range(first - (lead // step) * step, last + 1, step))
    span = max(1, last - first)
    fractions = [max(0.0, (t - first) / span) for t in timestamps]
    rng = random.Random(f"{scenario.name}:{seed}")
    s = scenario
    with path.open(out_mode) as out:
        w = _Writer(out, timestamps, fractions, interval, rng, s.noise, {"cluster": cluster})
        ns, ns_tq_srv, ns_tq_sdk = ({"namespace": namespace},
                                    {"namespace": namespace, "taskqueue": task_queue},
                                    {"namespace": namespace, "task_queue": task_queue})

        def lvl(signal: str) -> Callable[[float], float]:
            ramp: Ramp = getattr(s, signal)
            return ramp.at

        starts = lvl("workflow_starts_per_sec")
        # Throughput
        w.family("service_requests", "counter")
        w.counter("service_requests", {"service_name": "frontend", "operation": "StartWorkflowExecution",
                                       **ns}, starts)
        # Calls the frontend answered with an error: transactions that exhausted the DSQL plugin's
        # retry budget surface to the caller as Unavailable (Temporal's error_type tag is the Go type).
        w.family("service_error_with_type", "counter")
        w.counter("service_error_with_type", {"service_name": "frontend", "operation": "StartWorkflowExecution",
                                              "error_type": "serviceerror.Unavailable", **ns},
                  lvl("exhausted_retries_per_sec"))
        w.family("workflow_success", "counter")
        w.counter("workflow_success", {"service_name": "history", **ns},
                  lambda f: starts(f) * s.completion_ratio.at(f))
        w.family("workflow_failed", "counter")
        w.counter("workflow_failed", {"service_name": "history", **ns}, lambda f: starts(f) * s.failure_ratio.at(f))
        w.family("task_requests", "counter")
        w.counter("task_requests", {"service_name": "history", **ns},
                  lambda f: starts(f) * s.history_tasks_per_workflow.at(f))
        w.family("service_latency_milliseconds", "histogram")
        w.histogram("service_latency_milliseconds", {"service_name": "frontend", "operation": "StartWorkflowExecution",
                                                     **ns},
                    rate=starts, median=lvl("frontend_median_ms"), sigma=s.latency_sigma, buckets=_MS_BUCKETS)
        w.family("state_transition_count_ratio", "histogram")
        w.histogram("state_transition_count_ratio", {"service_name": "history", **ns},
                    rate=lambda f: starts(f) * 3, median=lambda f: s.state_transitions_per_workflow.at(f) / 3
                    / math.exp(0.02), sigma=0.2, buckets=(1, 2, 5, 10, 20, 50))
        # SDK schedule-to-start (seconds) and worker slots
        for name, med in (("temporal_workflow_task_schedule_to_start_latency", "workflow_s2s_median_ms"),
                          ("temporal_activity_schedule_to_start_latency", "activity_s2s_median_ms")):
            w.family(name, "histogram")
            ramp: Ramp = getattr(s, med)
            w.histogram(name, ns_tq_sdk, rate=lambda f: starts(f) * 2,
                        median=_scaled(ramp, 1 / 1000), sigma=s.latency_sigma,
                        buckets=_SEC_BUCKETS)
        slots_total = 200.0
        instances = [f"worker-{i}:9090" for i in range(s.workers)]
        per_worker = slots_total / max(1, s.workers)
        w.family("temporal_worker_task_slots_used", "gauge")
        w.family("temporal_worker_task_slots_available", "gauge")
        for worker_type in ("WorkflowWorker", "ActivityWorker"):
            for instance in instances:
                labels = {**ns_tq_sdk, "worker_type": worker_type, "instance": instance}
                w.gauge("temporal_worker_task_slots_used", labels,
                        lambda f: per_worker * min(100.0, s.slot_utilization_pct.at(f)) / 100)
                w.gauge("temporal_worker_task_slots_available", labels,
                        lambda f: per_worker * (1 - min(100.0, s.slot_utilization_pct.at(f)) / 100))
        # SDK worker gauges and counters per worker process: pollers, sticky cache, long polls.
        w.family("temporal_num_pollers", "gauge")
        for instance in instances:
            w.gauge("temporal_num_pollers", {**ns_tq_sdk, "poller_type": "workflow_task", "instance": instance},
                    lvl("pollers_per_worker"))
        w.family("temporal_sticky_cache_size", "gauge")
        for instance in instances:
            w.gauge("temporal_sticky_cache_size", {**ns, "instance": instance}, lvl("sticky_cache_per_worker"))
        for family, hit in (("temporal_sticky_cache_hit", True), ("temporal_sticky_cache_miss", False)):

            def sticky_rate(f: float, hit: bool = hit) -> float:
                ratio = s.sticky_hit_ratio.at(f)
                return starts(f) * 2 * (ratio if hit else 1 - ratio)

            w.family(family, "counter")
            w.counter(family, ns, sticky_rate)
        w.family("temporal_long_request_latency", "histogram")
        w.histogram("temporal_long_request_latency", {**ns_tq_sdk, "operation": "PollWorkflowTaskQueue"},
                    rate=lambda f: max(0.1, s.pollers_per_worker.at(f) * s.workers / 5),
                    median=_scaled(s.long_poll_median_ms, 1 / 1000), sigma=s.latency_sigma, buckets=_SEC_BUCKETS)
        w.family("temporal_long_request_failure", "counter")
        w.counter("temporal_long_request_failure", {**ns_tq_sdk, "operation": "PollWorkflowTaskQueue"},
                  lvl("long_poll_failures_per_sec"))
        # Persistence latency (ms)
        w.family("persistence_latency_milliseconds", "histogram")
        w.histogram("persistence_latency_milliseconds", {"service_name": "history"},
                    rate=lambda f: starts(f) * 15, median=lvl("persistence_median_ms"),
                    sigma=s.latency_sigma, buckets=_MS_BUCKETS)
        # Matching
        dispatched = lambda f: starts(f) * 3  # noqa: E731 - workflow + activity tasks
        for name, synchronous in (("syncmatch_latency_milliseconds", True),
                                  ("asyncmatch_latency_milliseconds", False)):
            w.family(name, "histogram")

            def match_rate(f: float, sync: bool = synchronous) -> float:
                pct = s.sync_match_pct.at(f) / 100
                return dispatched(f) * (pct if sync else 1 - pct)

            w.histogram(name, {"service_name": "matching", **ns_tq_srv}, rate=match_rate,
                        median=lvl("dispatch_median_ms"), sigma=s.latency_sigma, buckets=(1, 10, 100, 1000))
        w.family("task_dispatch_latency_milliseconds", "histogram")
        w.histogram("task_dispatch_latency_milliseconds", {"service_name": "matching", **ns_tq_srv},
                    rate=dispatched, median=lvl("dispatch_median_ms"), sigma=s.latency_sigma,
                    buckets=_MS_BUCKETS)
        # Polls answered with a task (one per dispatched task) and polls that timed out empty.
        w.family("poll_success", "counter")
        w.counter("poll_success", {"service_name": "matching", **ns_tq_srv}, dispatched)
        w.family("poll_timeouts", "counter")
        w.counter("poll_timeouts", {"service_name": "matching", **ns_tq_srv},
                  lambda f: dispatched(f) * s.poll_timeout_ratio.at(f) / max(1e-3, 1 - s.poll_timeout_ratio.at(f))
                  if s.poll_timeout_ratio.at(f) < 1 else 1.0)
        w.family("approximate_backlog_count", "gauge")
        w.gauge("approximate_backlog_count", {"service_name": "matching", **ns_tq_srv}, lvl("backlog_count"))
        w.family("approximate_backlog_age_seconds", "gauge")
        w.gauge("approximate_backlog_age_seconds", {"service_name": "matching", **ns_tq_srv},
                lvl("backlog_age_sec"))
        # DSQL plugin, per service
        share: dict[str, float] = {"history": 0.55, "matching": 0.25, "frontend": 0.15, "worker": 0.05}
        pool_max = float(s.pool_max_per_service)

        def in_use(f: float) -> float:
            return pool_max * min(1.0, s.pool_in_use_fraction.at(f))

        def open_conns(f: float) -> float:
            return min(pool_max, in_use(f) + pool_max * 0.5)

        pool_levels: dict[str, Callable[[float], float]] = {
            "dsql_pool_max_open": lambda f: pool_max,
            "dsql_pool_open": open_conns,
            "dsql_pool_in_use": in_use,
            "dsql_pool_idle": lambda f: max(0.0, open_conns(f) - in_use(f)),
            "dsql_reservoir_size": lambda f: s.reservoir_target * s.reservoir_fill_fraction.at(f),
            "dsql_reservoir_target": lambda f: float(s.reservoir_target),
        }
        for family, level in pool_levels.items():
            w.family(family, "gauge")
            for svc in SERVICES:
                w.gauge(family, {"service_name": svc}, level)
        for family, signal in (("dsql_reservoir_empty", "reservoir_empty_per_sec"),
                               ("dsql_reservoir_refills", "reconnects_per_sec"),
                               ("dsql_tx_conflict", "occ_conflicts_per_sec"),
                               ("dsql_tx_exhausted", "exhausted_retries_per_sec")):
            w.family(family, "counter")
            for svc in SERVICES:
                w.counter(family, {"service_name": svc},
                          _scaled(getattr(s, signal), share[svc]))
        w.family("persistence_errors", "counter")
        w.counter("persistence_errors", {"service_name": "history"}, lvl("persistence_errors_per_sec"))
        w.family("sharditem_created_count", "counter")
        w.counter("sharditem_created_count", {"service_name": "history"}, lvl("shard_churn_per_sec"))
        w.family("dsql_tx_retry", "counter")
        for svc in SERVICES:
            w.counter("dsql_tx_retry", {"service_name": svc},
                      _scaled(s.occ_conflicts_per_sec, 1.3 * share[svc]))
        w.family("dsql_reservoir_refill_failures", "counter")
        for svc in SERVICES:
            w.counter("dsql_reservoir_refill_failures", {"service_name": svc, "reason": "rate_limit"},
                      _scaled(s.refill_failures_per_sec, share[svc]))
            w.counter("dsql_reservoir_refill_failures", {"service_name": svc, "reason": "token_provider"},
                      _scaled(s.auth_failures_per_sec, share[svc]))
        # Containers (cAdvisor via the collector)
        cpu_cores = {"history": 2.0, "matching": 1.0, "frontend": 1.0, "worker": 0.5}
        mem_bytes = {"history": 4096.0, "matching": 2048.0, "frontend": 2048.0, "worker": 1024.0}
        for family, kind in (("container_cpu_usage_seconds", "counter"), ("container_spec_cpu_quota", "gauge"),
                             ("container_spec_cpu_period", "gauge"),
                             ("container_memory_working_set_bytes", "gauge"),
                             ("container_spec_memory_limit_bytes", "gauge")):
            w.family(family, kind)
            for svc in SERVICES:
                labels = {"service_name": svc}
                if family == "container_cpu_usage_seconds":
                    w.counter(family, labels, _scaled(s.cpu_pct, cpu_cores[svc] / 100))
                elif family == "container_spec_cpu_quota":
                    w.gauge(family, labels, _scaled(_flat(cpu_cores[svc]), 100000))
                elif family == "container_spec_cpu_period":
                    w.gauge(family, labels, _scaled(_flat(100000.0), 1))
                elif family == "container_memory_working_set_bytes":
                    w.gauge(family, labels, _scaled(s.memory_pct, mem_bytes[svc] * 2**20 / 100))
                else:
                    w.gauge(family, labels, _scaled(_flat(mem_bytes[svc]), 2**20))
        if out_mode == "w":
            out.write("# EOF\n")
    return path


def load_into_prometheus(server: PrometheusServer, windows: Iterable[ScenarioWindow], *,
                         scrape_interval: TimeDelta | None = None, namespace: str = "default",
                         task_queue: str = "default-tq", cluster: str = DEFAULT_CLUSTER) -> list[Path]:
    """Backfill each window into ``server`` (call before ``server.start()``); windows should not
    overlap in time, since they share series."""
    workdir = Path(tempfile.mkdtemp(prefix="scenarios-", dir=server.workdir))
    files = []
    for index, window in enumerate(windows):
        path = workdir / f"{index:02d}-{window.scenario.name}.om"
        write_openmetrics(window.scenario, window.start, window.end, path, seed=window.seed,
                          scrape_interval=scrape_interval, namespace=namespace, task_queue=task_queue,
                          cluster=cluster)
        server.backfill(path)
        files.append(path)
        path.unlink()
    return files


@dataclass
class ScenarioPrometheus:
    """A started Prometheus holding named scenario windows (``windows[label]``)."""

    server: PrometheusServer
    windows: dict[str, ScenarioWindow]

    @property
    def query_url(self) -> str:
        return self.server.query_url

    def stop(self) -> None:
        self.server.remove()


def default_windows(now: Instant | None = None) -> dict[str, ScenarioWindow]:
    """Healthy 150 wps from now-5h to now-3h, then overload from now-2h until ``now``."""
    now = now or Instant.now()
    return {
        "healthy-150wps": ScenarioWindow(get_scenario("healthy-150wps"), now - TimeDelta(hours=5),
                                         now - TimeDelta(hours=3), seed=1),
        "overloaded-400wps": ScenarioWindow(get_scenario("overloaded-400wps"), now - TimeDelta(hours=2),
                                            now, seed=2),
    }


def start_prometheus_with_scenarios(windows: dict[str, ScenarioWindow] | None = None, *,
                                    workspace_id: str = "ws-local",
                                    scrape_interval: TimeDelta | None = None) -> ScenarioPrometheus:
    """Backfill the windows (default: ``default_windows()``) and start Prometheus on a free port."""
    from temporal_dsql_standins.prometheus import PrometheusServer

    windows = windows if windows is not None else default_windows()
    server = PrometheusServer(workspace_id=workspace_id)
    load_into_prometheus(server, windows.values(), scrape_interval=scrape_interval)
    server.start()
    return ScenarioPrometheus(server=server, windows=windows)
