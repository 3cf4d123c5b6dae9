"""Prometheus HTTP API client (AMP with SigV4, or a plain Prometheus) and profile telemetry.

``PrometheusClient`` is the reusable part: instant and range queries, concurrent under a bound and
batched (several range queries sent as one, each tagged with a label, see ``query_many``),
SigV4-signed with botocore for Amazon Managed Prometheus (service ``aps``); against a local
Prometheus only the base URL differs. Failures raise ``TelemetryUnavailable`` with the upstream
details; an empty result is data ("no series"), never an error and never a zero.

``collect_telemetry`` runs every catalog query over a window and reduces each to a
``MetricAggregate`` (min, max, mean, p50, p95, p99 over all finite samples). A metric without
samples stays None and is listed in ``TelemetrySummary.missing`` with the reason.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlencode

from whenever import Instant, TimeDelta

from temporal_dsql_core.metric_catalog import MetricQuery, iter_queries
from temporal_dsql_core.models import MetricAggregate
from temporal_dsql_profiles.errors import TelemetryUnavailable
from temporal_dsql_profiles.models import MissingMetric, TelemetrySummary

if TYPE_CHECKING:
    import httpx

__all__ = [
    "PrometheusClient",
    "Sample",
    "Series",
    "aggregate",
    "choose_step",
    "collect_telemetry",
]

BATCH_LABEL = "temporal_dsql_query"
"""The label ``query_many`` tags each query's series with when it sends several as one query."""
MAX_POINTS = 11_000  # Prometheus refuses range queries with more points per series
TARGET_POINTS = 720
"""Points per series a profile aims for: 1-minute resolution up to 12 h, 2 minutes for 24 h. Enough for
stable p99s; more only multiplies the work of every rate() evaluation."""


class Sample(NamedTuple):
    """One point of a series. A named tuple, not a frozen dataclass: a 24 h profile builds ~25,000
    of them and a tuple is built without the per-field ``object.__setattr__`` calls."""

    timestamp: float
    value: float


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    samples: list[Sample]


class _SigV4:
    """Signs requests for AMP with the ambient AWS credentials (botocore imported lazily)."""

    def __init__(self, region: str, service: str = "aps") -> None:
        import botocore.session

        self.region, self.service = region, service
        credentials = botocore.session.Session().get_credentials()
        if credentials is None:
            raise TelemetryUnavailable("No AWS credentials to sign AMP queries with (SigV4).",
                                       suggestion="Give the function a role with aps:QueryMetrics.")
        self._credentials = credentials

    def headers(self, method: str, url: str, body: str, headers: dict[str, str]) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(self._credentials.get_frozen_credentials(), self.service, self.region).add_auth(request)
        return dict(request.headers.items())


class PrometheusClient:
    """Queries ``<base_url>/api/v1/query[_range]``; ``base_url`` is the AMP workspace URL
    (``https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>``) or a Prometheus root."""

    def __init__(self, base_url: str, *, region: str = "us-east-1", sigv4: bool = True,
                 timeout: float = 10.0, concurrency: int = 8, batch: int = 6,
                 compress: bool | None = None, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # Compressed answers only over a network: on loopback gzip is pure CPU on both ends, and it
        # is most of the per-request cost (a 24 h profile: ~800 kB of JSON; measured on the 2-core
        # stand-in box, a 400 kB answer took 46-63 ms gzipped against 17-29 ms plain).
        self.compress = not _is_loopback(self.base_url) if compress is None else compress
        self.region = region
        self.sigv4 = sigv4
        self._signer: _SigV4 | None = None  # built on first use: keeps botocore out of cold imports
        self._client_value = client
        self._timeout = timeout
        self._owns_client = client is None
        self._semaphore = asyncio.Semaphore(concurrency)
        self.concurrency = concurrency
        self.batch = max(1, batch)

    async def __aenter__(self) -> PrometheusClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def _client(self) -> httpx.AsyncClient:
        # Created on first use: keeps httpx out of the Lambda's cold import.
        if self._client_value is None:
            import httpx

            self._client_value = httpx.AsyncClient(timeout=self._timeout)
        return self._client_value

    async def aclose(self) -> None:
        if self._owns_client and self._client_value is not None:
            await self._client_value.aclose()
            self._client_value = None

    async def _post(self, path: str, params: dict[str, str]) -> Any:
        url = f"{self.base_url}{path}"
        body = urlencode(params)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if not self.compress:
            headers["Accept-Encoding"] = "identity"
        if self.sigv4:
            if self._signer is None:
                self._signer = _SigV4(self.region)
            headers = self._signer.headers("POST", url, body, headers)
        import httpx

        async with self._semaphore:
            try:
                response = await self._client.post(url, content=body.encode(), headers=headers)
            except httpx.HTTPError as exc:
                raise TelemetryUnavailable(
                    f"Prometheus at {self.base_url} is unreachable: {type(exc).__name__}: {exc}",
                    upstream=self.base_url, query=params.get("query"), retry_after_seconds=30,
                ) from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code != 200 or not isinstance(payload, dict) or payload.get("status") != "success":
            error = payload.get("error") if isinstance(payload, dict) else response.text[:500]
            raise TelemetryUnavailable(
                f"Prometheus answered {response.status_code}: {error}",
                upstream=self.base_url, upstream_status=response.status_code, query=params.get("query"),
                # Overloaded or failing upstream: worth retrying; a rejected query (4xx) is not.
                retry_after_seconds=30 if response.status_code >= 500 or response.status_code == 429 else None,
            )
        return payload["data"]

    async def query(self, promql: str, at: Instant | None = None) -> list[tuple[dict[str, str], Sample]]:
        """Instant query: one sample per returned series."""
        params = {"query": promql}
        if at is not None:
            params["time"] = _ts(at)
        data = await self._post("/api/v1/query", params)
        if data.get("resultType") == "scalar":
            ts, value = data["result"]
            return [({}, Sample(float(ts), _float(value)))]
        return [(item.get("metric", {}), Sample(float(item["value"][0]), _float(item["value"][1])))
                for item in data.get("result", [])]

    async def query_range(self, promql: str, start: Instant, end: Instant, step: TimeDelta) -> list[Series]:
        return _decode(await self._range(promql, start, end, step))

    async def _range(self, promql: str, start: Instant, end: Instant, step: TimeDelta) -> list[_Raw]:
        data = await self._post("/api/v1/query_range", {
            "query": promql, "start": _ts(start), "end": _ts(end),
            "step": f"{step.total('seconds'):g}",
        })
        return [_Raw(item.get("metric", {}), item.get("values", [])) for item in data.get("result", [])]

    async def query_many(self, queries: Sequence[str], start: Instant, end: Instant,
                         step: TimeDelta) -> list[list[Series]]:
        return [_decode(raw) for raw in await self._range_many(queries, start, end, step)]

    async def _range_many(self, queries: Sequence[str], start: Instant, end: Instant,
                          step: TimeDelta) -> list[list[_Raw]]:
        """Range queries, results in input order: sent ``batch`` to a request and the requests
        run concurrently (bounded by ``concurrency``). The first failure cancels the requests
        still waiting and is raised.

        A batch is one PromQL query, ``label_replace(q0, L, "0", "", "") or label_replace(q1, L,
        "1", "", "") ...`` with ``L`` = ``BATCH_LABEL``: the tag keeps the queries' series apart
        (``or`` only drops right-hand series whose label set equals a left-hand one, and the tags
        differ) and is removed from the results. Per request the client signs (SigV4), sends and
        decodes once and Prometheus parses and plans once, which is most of the cost of a small
        query; queries are dealt round-robin so the expensive ones (histogram quantiles, next to
        each other in the catalog) spread over the requests.

        Measured on the local stand-in (24 h, 2 shared cores) and not adopted, as they cost as much
        CPU as they save: one ``sum by (le) (rate(..._bucket))`` per histogram with p95 and p99
        computed here (Prometheus -10 ms per pair, client +7 ms to decode 15x the points); a
        balanced ``or`` tree instead of the chain (no difference at 6 per request); ``sum by
        (service_name)`` for the per-service metrics (same values, no less evaluation). Instant
        ``*_over_time`` subqueries are not equivalent: their steps align to multiples of the step,
        not to the window start, and each of the six aggregates would evaluate the query again.
        """
        if not queries:
            return []
        requests = min(len(queries), math.ceil(len(queries) / self.batch))
        groups = [list(range(first, len(queries), requests)) for first in range(requests)]
        tasks = [asyncio.ensure_future(self._query_batch([queries[i] for i in group], start, end, step))
                 for group in groups]
        try:
            answers = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        results: list[list[_Raw]] = [[] for _ in queries]
        for group, answer in zip(groups, answers, strict=True):
            for index, series in zip(group, answer, strict=True):
                results[index] = series
        return results

    async def _query_batch(self, queries: list[str], start: Instant, end: Instant,
                           step: TimeDelta) -> list[list[_Raw]]:
        if len(queries) == 1:
            return [await self._range(queries[0], start, end, step)]
        promql = " or ".join(f'label_replace({q}, "{BATCH_LABEL}", "{n}", "", "")' for n, q in enumerate(queries))
        try:
            merged = await self._range(promql, start, end, step)
        except TelemetryUnavailable as exc:
            if exc.extensions.get("upstream_status") not in (400, 422):
                raise
            # Prometheus refused the batch (bad_data/execution): one query is at fault, and run
            # alone its error names it instead of the whole batch.
            return list(await asyncio.gather(*(self._range(q, start, end, step) for q in queries)))
        out: list[list[_Raw]] = [[] for _ in queries]
        for series in merged:
            labels = dict(series.labels)
            out[int(labels.pop(BATCH_LABEL))].append(_Raw(labels, series.values))
        return out


class _Raw(NamedTuple):
    """A range-query series as Prometheus sent it: ``values`` are ``[timestamp, "value"]`` pairs.
    The profile only needs the values, so it reads them from here without building ~25,000
    ``Sample``s per 24 h profile (that was ~60 % of the client's CPU time per profile)."""

    labels: dict[str, str]
    values: list[list[Any]]


def _decode(raw: list[_Raw]) -> list[Series]:
    # float() parses Prometheus' "NaN"/"+Inf" strings too; inlined, as this runs per point.
    return [Series(labels=r.labels, samples=[Sample(float(ts), float(v)) for ts, v in r.values]) for r in raw]


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _ts(instant: Instant) -> str:
    return f"{instant.timestamp(unit='nanosecond') / 1e9:.3f}"


def _float(value: Any) -> float:
    return float(value)  # Prometheus encodes NaN/+Inf as strings; float() parses them


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def aggregate(values: Iterable[float]) -> MetricAggregate | None:
    """min/max/mean/p50/p95/p99 over the finite values; None when there are none."""
    ordered = sorted(v for v in values if math.isfinite(v))
    if not ordered:
        return None
    mean = math.fsum(ordered) / len(ordered)
    mean = min(max(mean, ordered[0]), ordered[-1])  # guard against float rounding outside [min, max]
    return MetricAggregate(min=ordered[0], max=ordered[-1], mean=mean,
                           p50=_percentile(ordered, 0.5), p95=_percentile(ordered, 0.95),
                           p99=_percentile(ordered, 0.99))


def choose_step(start: Instant, end: Instant, minimum: TimeDelta, *,
                target_points: int = TARGET_POINTS) -> TimeDelta:
    """The configured step, coarsened so a series has at most ``target_points`` points (and never
    more than Prometheus' limit)."""
    seconds = (end - start).total("seconds")
    needed = math.ceil(seconds / min(target_points, MAX_POINTS - 1))
    return TimeDelta(seconds=max(int(minimum.total("seconds")), needed, 1))


def _missing_reason(series: Sequence[object]) -> str:
    if not series:
        return "no series matched in the window (not exported, not scraped, or filtered out)"
    return "series matched but every sample was NaN or infinite (e.g. a quantile over zero traffic)"


async def collect_telemetry(client: PrometheusClient, start: Instant, end: Instant, *,
                            namespace: str | None = None, task_queue: str | None = None,
                            step: TimeDelta | None = None) -> TelemetrySummary:
    """Run every catalog query over [start, end] and reduce each to an aggregate."""
    step = choose_step(start, end, step or TimeDelta(seconds=60))
    queries: list[MetricQuery] = list(iter_queries(namespace=namespace, task_queue=task_queue))
    results = await client._range_many([q.promql for q in queries], start, end, step)
    summary = TelemetrySummary(step_seconds=int(step.total("seconds")))
    for query, series in zip(queries, results, strict=True):
        agg = aggregate(float(v) for one in series for _, v in one.values)
        summary.set(query.key, agg)
        if agg is None:
            summary.missing.append(MissingMetric(metric=query.key, reason=_missing_reason(series)))
    return summary
