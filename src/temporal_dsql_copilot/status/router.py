"""The status API router: /status, /status/services, /status/issues, /status/summary,
/status/timeline and POST /actions (501).

Everything it returns was computed by the copilot and stored; this router only reads. When the
state store is unreachable it answers 200 with ``degraded: true`` and state ``unknown`` rather
than failing, so Grafana shows "copilot degraded" instead of an error panel. Its import closure
has no temporalio or pydantic_ai: it is served by the Lambda.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.exceptions import CopilotInputError, StoreUnavailableError
from temporal_dsql_copilot.health import ScaleBand
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_copilot.status.models import (
    IssuesResponse,
    RecommendedAction,
    ServicesResponse,
    StatusResponse,
    SummaryResponse,
    TimelineResponse,
)
from temporal_dsql_copilot.store import StateStore
from temporal_dsql_core.instants import InstantType, format_instant
from temporal_dsql_profiles.errors import StateStoreUnavailable
from temporal_dsql_profiles.problems import Problem

__all__ = ["CopilotStateStoreUnavailable", "StateStoreProvider", "read_state_store", "router"]

T = TypeVar("T")

_STORE_READ_TIMEOUT_SECONDS = 5.0

router = APIRouter(tags=["status"])

_STORE_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError, asyncio.TimeoutError)


@dataclass
class StateStoreProvider:
    """Opens the state store on first use (Lambda: on the first request, not at import), and
    caches rendered responses for ``settings.api_cache_seconds`` with single flight: concurrent
    requests for the same document share one store read."""

    settings: CopilotSettings
    store: StateStore | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _cache: dict[str, tuple[float, bytes]] = field(default_factory=dict)
    _inflight: dict[str, asyncio.Future[bytes | None]] = field(default_factory=dict)

    async def get(self) -> StateStore:
        if self.store is None:
            async with self._lock:
                if self.store is None:
                    self.store = await StateStore.connect(self.settings, min_size=0, max_size=5)
        return self.store


    async def cached(self, key: str, render: Callable[[], Awaitable[tuple[bytes, bool]]]) -> bytes:
        """``render`` returns (body, cacheable); degraded answers are never cached."""
        ttl = self.settings.api_cache_seconds
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return hit[1]
        pending = self._inflight.get(key)
        if pending is not None:
            shared = await asyncio.shield(pending)
            if shared is not None:
                return shared
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            body, cacheable = await render()
            if cacheable and ttl > 0:
                self._cache[key] = (time.monotonic(), body)
            future.set_result(body)
            return body
        except BaseException:
            future.set_result(None)
            raise
        finally:
            self._inflight.pop(key, None)


def _provider(request: Request) -> StateStoreProvider:
    provider: StateStoreProvider = request.app.state.status_store
    return provider


class CopilotStateStoreUnavailable(StateStoreUnavailable):
    """503: the copilot's state store (COPILOT_DSQL_*) could not be read."""

    title = "Copilot state store unavailable"
    store = "copilot_state_store"


async def read_state_store(request: Request, read: Callable[[StateStore], Awaitable[T]]) -> T:
    """``read`` on the copilot's state store, each step bounded; connection failures and timeouts
    raise :class:`CopilotStateStoreUnavailable` (a 503 problem where nothing can be degraded)."""
    import asyncpg  # the store's driver, already loaded by the provider; not at Lambda import

    try:
        store = await asyncio.wait_for(_provider(request).get(), timeout=_STORE_READ_TIMEOUT_SECONDS)
        return await asyncio.wait_for(read(store), timeout=_STORE_READ_TIMEOUT_SECONDS)
    except (StoreUnavailableError, OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
            asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError) as exc:
        raise CopilotStateStoreUnavailable(
            f"The copilot state store is unreachable: {type(exc).__name__}: {exc}",
            retry_after_seconds=5,
            suggestion="Check COPILOT_DSQL_ENDPOINT/COPILOT_DSQL_PORT and that the store accepts connections; "
                       "GET /status answers a degraded document meanwhile.") from exc


async def _read(request: Request, read: Callable[[StateStore], Awaitable[T]]) -> T | str:
    """The read's result, or the reason the store is unavailable (/status* degrade instead of failing)."""
    try:
        return await read_state_store(request, read)
    except Exception as exc:  # asyncpg raises many unrelated types; any failure degrades the answer
        cause = exc.__cause__ if isinstance(exc, CopilotStateStoreUnavailable) and exc.__cause__ else exc
        return f"state store unavailable: {type(cause).__name__}: {cause}"


def _json(model: BaseModel) -> Response:
    return Response(content=model.model_dump_json(), media_type="application/json")


async def _cached(request: Request, key: str, compute: Callable[[], Awaitable[BaseModel]]) -> Response:
    async def render() -> tuple[bytes, bool]:
        model = await compute()
        return model.model_dump_json().encode(), not getattr(model, "degraded", False)

    return Response(content=await _provider(request).cached(key, render), media_type="application/json")


@router.get("/status", response_model=StatusResponse)
async def get_status(request: Request) -> Response:
    return await _cached(request, "status", lambda: _status(request))


async def _status(request: Request) -> StatusResponse:
    async def read(store: StateStore) -> StatusResponse:
        snapshot, assessment = await asyncio.gather(store.latest_snapshot(), store.latest_assessment())
        issues = await store.issues(limit=100)
        if snapshot is None and assessment is None:
            return StatusResponse(health_state="unknown", detail="nothing observed yet")
        out = StatusResponse(health_state="unknown", issue_count=len(issues))
        if assessment is not None:
            actions = sorted(assessment.suggested_actions, key=lambda a: -a.confidence)[:5]
            out = out.model_copy(update={
                "health_state": assessment.health_state.value, "band": assessment.band.preset_name,
                "bottleneck": assessment.bottleneck.value, "assessed_at": assessment.assessed_at,
                "reason": assessment.reason, "summary": assessment.summary, "drift": assessment.drift,
                "log_patterns": assessment.log_patterns, "observed_at": assessment.signals.observed_at,
                "primary_signals": assessment.signals.primary.observed(),
                "amplifiers": assessment.signals.amplifiers.observed(),
                "worker_signals": assessment.signals.worker.observed(),
                "recommended_actions": [RecommendedAction(action=f"{a.action_type.value} {a.target_service}",
                                                          confidence=a.confidence, detail=a) for a in actions],
                "confidence": max((a.confidence for a in actions), default=None),
            })
        if snapshot is not None and (out.observed_at is None or snapshot.snapshot.observed_at >= out.observed_at):
            # The observe loop's latest decision is fresher than the last assessment.
            s = snapshot.snapshot
            update: dict[str, object] = {
                "health_state": snapshot.health_state.value, "band": ScaleBand(snapshot.band).preset_name, "observed_at": s.observed_at,
                "primary_signals": s.primary.observed(), "amplifiers": s.amplifiers.observed(),
                "worker_signals": s.worker.observed()}
            if s.log_patterns:
                update["log_patterns"] = s.log_patterns
            out = out.model_copy(update=update)
        return out

    result = await _read(request, read)
    return StatusResponse(health_state="unknown", degraded=True, detail=result) if isinstance(result, str) else result


@router.get("/status/services", response_model=ServicesResponse)
async def get_services(request: Request) -> Response:
    return await _cached(request, "services", lambda: _services(request))


async def _services(request: Request) -> ServicesResponse:
    async def read(store: StateStore) -> ServicesResponse:
        snapshot = await store.latest_snapshot()
        if snapshot is None:
            return ServicesResponse(health_state="unknown", detail="nothing observed yet")
        return ServicesResponse(health_state=snapshot.health_state.value, observed_at=snapshot.snapshot.observed_at,
                                services=snapshot.services)

    result = await _read(request, read)
    return ServicesResponse(health_state="unknown", degraded=True, detail=result) if isinstance(result, str) else result


@router.get("/status/issues", response_model=IssuesResponse)
async def get_issues(request: Request,
                     severity: Annotated[Literal["warning", "critical"] | None, Query()] = None,
                     include_resolved: bool = False,
                     limit: Annotated[int, Query(ge=1, le=100)] = 50) -> IssuesResponse:
    async def read(store: StateStore) -> IssuesResponse:
        return IssuesResponse(issues=await store.issues(severity=severity, include_resolved=include_resolved,
                                                        limit=limit))

    result = await _read(request, read)
    return IssuesResponse(degraded=True, detail=result) if isinstance(result, str) else result


@router.get("/status/summary", response_model=SummaryResponse)
async def get_summary(request: Request) -> Response:
    return await _cached(request, "summary", lambda: _summary(request))


async def _summary(request: Request) -> SummaryResponse:
    async def read(store: StateStore) -> SummaryResponse:
        a = await store.latest_assessment()
        if a is None:
            return SummaryResponse(health_state="unknown", summary="No assessment yet.")
        return SummaryResponse(health_state=a.health_state.value, summary=a.summary, assessed_at=a.assessed_at,
                               explained_by=a.explained_by, factors=[f"{f.title}: {f.detail}" for f in a.factors])

    result = await _read(request, read)
    if isinstance(result, str):
        return SummaryResponse(health_state="unknown", degraded=True, detail=result,
                               summary="The copilot's state store is unavailable.")
    return result


@router.get("/status/timeline", response_model=TimelineResponse)
async def get_timeline(request: Request, start: InstantType | None = None,
                       end: InstantType | None = None) -> TimelineResponse:
    """State changes in [start, end); ``start``/``end`` take ISO 8601 or epoch ms (Grafana's ``${__from}``)."""
    end_at: Instant = end or Instant.now()
    try:
        start_at: Instant = start or end_at - TimeDelta(hours=24)
    except (ValueError, OverflowError):  # an end in year 1 has no day before it (was a 500)
        raise CopilotInputError(f"end ({end_at.format_iso()}) is too early to look back 24 hours from.",
                                field="end", suggestion="Pass start as well, or an end after 0001-01-02.") from None
    if start_at >= end_at:
        raise CopilotInputError("start must be before end.", field="start",
                                suggestion="Pass start < end, e.g. start=${__from}&end=${__to}.")
    if end_at - start_at > TimeDelta(hours=24 * 31):
        raise CopilotInputError("The range from start to end is longer than 31 days.", field="start",
                                suggestion="Query at most 31 days; assessments are retained for 7.")

    async def read(store: StateStore) -> TimelineResponse:
        return TimelineResponse(start=format_instant(start_at), end=format_instant(end_at),
                                entries=await store.timeline(start_at, end_at))

    result = await _read(request, read)
    if isinstance(result, str):
        return TimelineResponse(start=format_instant(start_at), end=format_instant(end_at), degraded=True, detail=result)
    return result


@router.post("/actions", status_code=501, response_model=None,
             responses={501: {"description": "Not implemented (RFC 7807 problem).",
                              "content": {"application/problem+json": {"schema": Problem.model_json_schema()}}}})
async def post_action(request: Request) -> JSONResponse:
    """Executing remediations is future work (Requirement 10.3): 501 problem details."""
    return JSONResponse(status_code=501, media_type="application/problem+json", content={
        "type": "about:blank", "title": "Not Implemented", "status": 501,
        "detail": "Automated remediation is not implemented yet; suggested actions are advisory.",
        "instance": str(request.url.path),
    })
