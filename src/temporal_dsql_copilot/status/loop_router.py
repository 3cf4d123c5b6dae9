"""Closing-the-loop endpoints: drift against the baseline, preset conformance, recommend config.

They read behaviour profiles through the profile service already on ``app.state`` and the
compiler, so every recommendation compiles. Bad input (unknown preset or profile) is answered
as RFC 7807 problem details by the app's handlers.

An unreachable store is a 503 problem (the design's error table: "DSQL connection failure -> 503"),
never a 500: the profile store raises ``StateStoreUnavailable`` itself, and reads of the copilot's
own state store go through :func:`temporal_dsql_copilot.status.router.read_state_store`, which turns connection failures into
:class:`CopilotStateStoreUnavailable`. These answers are computed on request, unlike /status*, so
there is no stored document to fall back to and a degraded 200 would be a made-up report.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from temporal_dsql_copilot.loop.baseline import DriftInput, DriftReport, ProfileBaselineDrift
from temporal_dsql_copilot.loop.conformance import ConformanceReport, assess_conformance
from temporal_dsql_copilot.loop.recommend import ConfigRecommendation, recommend_config
from temporal_dsql_copilot.status.router import CopilotStateStoreUnavailable, read_state_store
from temporal_dsql_copilot.store import StateStore, StoredSnapshot
from temporal_dsql_profiles.limits import NAMESPACE_MAX_BYTES, PresetNameText, ProfileIdText
from temporal_dsql_profiles.service import ProfileService

__all__ = ["ConformanceRequest", "CopilotStateStoreUnavailable", "RecommendRequest", "router"]


router = APIRouter(prefix="/copilot", tags=["copilot"])


class ConformanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo'd field is a 422, not silently ignored

    profile_id: ProfileIdText
    preset_name: PresetNameText
    modifier: PresetNameText | None = None


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: ProfileIdText
    preset_name: PresetNameText | None = None
    """Defaults to the preset recorded in the profile's config snapshot."""
    modifier: PresetNameText | None = None


def _profiles(request: Request) -> ProfileService:
    service: ProfileService = request.app.state.profile_service
    return service


@router.post("/conformance", response_model=ConformanceReport)
async def conformance(request: Request, body: ConformanceRequest) -> ConformanceReport:
    """Does this profile match preset X? Per-metric pass/fail against the preset's expected bounds."""
    # Imported per request: keeps the compiler out of the Lambda's cold import.
    from temporal_dsql_config import ConfigCompiler

    compiled = ConfigCompiler().compile(body.preset_name, modifier=body.modifier, sdk="none", platform="none")
    profile = await _profiles(request).store.get(body.profile_id)
    return assess_conformance(body.preset_name, profile.telemetry, compiled.profile.expected_bounds)


@router.post("/recommend-config", response_model=ConfigRecommendation)
async def recommend(request: Request, body: RecommendRequest) -> ConfigRecommendation:
    profile = await _profiles(request).store.get(body.profile_id)
    return recommend_config(profile, preset_name=body.preset_name, modifier=body.modifier)


@router.get("/drift", response_model=DriftReport)
async def drift(request: Request,
                namespace: Annotated[str | None, Query(max_length=NAMESPACE_MAX_BYTES)] = None) -> DriftReport:
    """The latest observed snapshot against the active baseline of its cluster and namespace."""

    async def read(store: StateStore) -> tuple[str, StoredSnapshot | None]:
        return store.cluster_id, await store.latest_snapshot()

    cluster_id, latest = await read_state_store(request, read)
    if latest is None:
        return DriftReport()
    checker = ProfileBaselineDrift(store=_profiles(request).store)
    return await checker(DriftInput(cluster_id=cluster_id, namespace=namespace, snapshot=latest.snapshot))
