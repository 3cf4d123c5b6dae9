"""One observation of every signal, queried concurrently from AMP (or a local Prometheus).

Uses the behaviour-profiles Prometheus client (SigV4 for AMP, bounded concurrency). A query that
fails is recorded in ``failed_queries`` and its signal stays None; an empty result is None too,
except for event counters where no series means no events.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Protocol

from whenever import Instant

from temporal_dsql_copilot.signals import (
    SIGNAL_TAXONOMY,
    SignalSnapshot,
    SignalSpec,
    snapshot_from_metric_values,
)
from temporal_dsql_core.instants import format_instant
from temporal_dsql_core.metric_catalog import (
    SCOPE_PLACEHOLDER,
    catalog_metric,
    render_namespace_scope,
    render_scope,
)
from temporal_dsql_profiles.errors import TelemetryUnavailable

__all__ = ["InstantQueryClient", "collect_signals", "signal_promql"]


class InstantQueryClient(Protocol):
    """What the copilot needs of a Prometheus client (``temporal_dsql_profiles.telemetry.PrometheusClient``)."""

    async def query(self, promql: str, at: Instant | None = None) -> Sequence[tuple[dict[str, str], object]]: ...


def signal_promql(spec: SignalSpec, namespace: str | None = None) -> str:
    """The PromQL of a signal, scoped to the namespace: the catalog's or the copilot's own.

    Both are scoped the same way, so a ratio of two signals (completions over terminal workflows)
    never divides one namespace's counts by the whole cluster's.
    """
    if spec.promql is not None:
        return spec.promql.replace(SCOPE_PLACEHOLDER, render_namespace_scope(namespace if spec.namespace_scoped
                                                                              else None))
    metric = catalog_metric(spec.metric_id)
    return metric.promql.replace(SCOPE_PLACEHOLDER, render_scope(metric, namespace, None))


async def _one(client: InstantQueryClient, spec: SignalSpec, promql: str, at: Instant) -> float | None:
    result = await client.query(promql, at)
    values = [float(getattr(sample, "value")) for _labels, sample in result]  # noqa: B009
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0 if spec.absent_means_zero and not values else None
    return sum(finite)


async def collect_signals(client: InstantQueryClient, at: Instant, *, namespace: str | None = None) -> SignalSnapshot:
    """Query every signal concurrently at ``at``; failures are recorded, never turned into zeros."""
    specs = list(SIGNAL_TAXONOMY)
    results = await asyncio.gather(*(_one(client, s, signal_promql(s, namespace), at) for s in specs),
                                   return_exceptions=True)
    values: dict[str, float | None] = {}
    failed: list[str] = []
    for spec, result in zip(specs, results, strict=True):
        if isinstance(result, TelemetryUnavailable):
            failed.append(spec.metric_id)
        elif isinstance(result, BaseException):
            raise result
        else:
            values[spec.metric_id] = result
    return snapshot_from_metric_values(format_instant(at), values, failed_queries=failed)
