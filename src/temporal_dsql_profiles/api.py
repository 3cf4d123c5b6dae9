"""FastAPI router for ``/profiles``. Its dependency (the ProfileService) comes from
``app.state.profile_service`` through ``Depends``; nothing is configured through module globals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status

from temporal_dsql_core.instants import parse_instant
from temporal_dsql_profiles.errors import InvalidProfileRequest, ProfileNotFound, StateStoreUnavailable
from temporal_dsql_profiles.idempotency import IDEMPOTENCY_KEY_MAX_CHARS
from temporal_dsql_profiles.limits import (
    CLUSTER_ID_MAX_BYTES,
    CURSOR_MAX_CHARS,
    LABEL_MAX_BYTES,
    NAMESPACE_MAX_BYTES,
    PROFILE_ID_MAX_CHARS,
)
from temporal_dsql_profiles.models import (
    BehaviourProfile,
    CompareRequest,
    CreateProfileRequest,
    ProfileComparison,
    ProfileMetadata,
    ProfilePage,
)
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.storage import MAX_PAGE, ListFilters

__all__ = ["LIST_FILTERS", "get_profile_service", "router"]

router = APIRouter(prefix="/profiles", tags=["profiles"])

LIST_FILTERS = ("cluster", "label", "namespace", "start", "end", "limit", "cursor")


def get_profile_service(request: Request) -> ProfileService:
    service = getattr(request.app.state, "profile_service", None)
    if service is None:
        raise StateStoreUnavailable("The profile service is not configured on this app.")
    return service  # type: ignore[no-any-return]


Service = Annotated[ProfileService, Depends(get_profile_service)]


@router.post("/", status_code=status.HTTP_201_CREATED, response_model=ProfileMetadata)
async def create_profile(
    body: CreateProfileRequest, service: Service,
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", min_length=1, max_length=IDEMPOTENCY_KEY_MAX_CHARS, pattern=r"^[\x21-\x7e]+$",
        description="Retries with the same key (kept 24 h) return the same profile; a different body under "
                    "the same key is a 422.")] = None,
) -> ProfileMetadata:
    """Snapshot [start, end] (at most 24 h, not in the future) into a labelled profile."""
    return await service.create(body, idempotency_key=idempotency_key)


def _instant_filter(name: str, value: str | None) -> object:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise InvalidProfileRequest(f"{name}: {exc}", field=name, allowed=["ISO 8601", "epoch milliseconds"],
                                    suggestion="e.g. 2026-11-22T13:00:00Z or 1795352400000") from exc


@router.get("/", response_model=ProfilePage)
async def list_profiles(
    request: Request, service: Service,
    cluster: Annotated[str | None, Query(max_length=CLUSTER_ID_MAX_BYTES)] = None,
    label: Annotated[str | None, Query(max_length=LABEL_MAX_BYTES)] = None,
    namespace: Annotated[str | None, Query(max_length=NAMESPACE_MAX_BYTES)] = None,
    start: Annotated[str | None, Query(max_length=40, description="window ends at/after (ISO 8601 or epoch ms)")] = None,
    end: Annotated[str | None, Query(max_length=40, description="window starts at/before (ISO 8601 or epoch ms)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX_CHARS)] = None,
) -> ProfilePage:
    """Metadata only (no telemetry), newest first, keyset-paginated through ``next_cursor``."""
    if not request.scope["path"].endswith("/profiles/"):
        # Starlette's route pattern ends in `$`, which also matches before a trailing newline, so
        # GET /profiles/%0A (an id of "\n") landed here and answered a list for a get.
        raise ProfileNotFound(request.scope["path"].rsplit("/", 1)[-1])
    unknown = sorted(set(request.query_params) - set(LIST_FILTERS))
    if unknown:
        raise InvalidProfileRequest(f"unknown filter parameter(s): {', '.join(unknown)}", field=unknown[0],
                                    allowed=LIST_FILTERS, suggestion="Filter by cluster, label, namespace or time range.")
    for name, value in (("cluster", cluster), ("label", label), ("namespace", namespace), ("cursor", cursor)):
        if value is not None and "\x00" in value:  # the index cannot compare NUL: a 400, not a 500
            raise InvalidProfileRequest(f"{name} must not contain a NUL character", field=name,
                                        suggestion="Remove the %00 from the query string.")
    filters = ListFilters(cluster=cluster, label=label, namespace=namespace,
                          start=_instant_filter("start", start),  # type: ignore[arg-type]
                          end=_instant_filter("end", end))  # type: ignore[arg-type]
    return await service.store.list(filters, limit=limit, cursor=cursor)


@router.post("/compare", response_model=ProfileComparison)
async def compare_profiles(body: CompareRequest, service: Service) -> ProfileComparison:
    """Config, telemetry and version diffs from A (reference) to B, largest regressions first."""
    return await service.compare(body)


@router.get("/{profile_id}", response_model=BehaviourProfile)
async def get_profile(profile_id: Annotated[str, Path(max_length=PROFILE_ID_MAX_CHARS)], service: Service) -> BehaviourProfile:
    return await service.store.get(profile_id)


@router.post("/{profile_id}/baseline", response_model=ProfileMetadata)
async def set_baseline(profile_id: Annotated[str, Path(max_length=PROFILE_ID_MAX_CHARS)], service: Service) -> ProfileMetadata:
    """Make this profile the one baseline of its cluster and namespace (atomic switch)."""
    return await service.store.set_baseline(profile_id)


@router.delete("/{profile_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_profile(profile_id: Annotated[str, Path(max_length=PROFILE_ID_MAX_CHARS)], service: Service) -> Response:
    await service.store.delete(profile_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
