"""Scale bands and the thresholds the health rules apply in each band.

Bands follow the config compiler's scale presets (starter, mid-scale, high-throughput): their
lower bounds are the presets' throughput ranges (a test keeps the two equal), and the initial band
is where the compiled profile's SLO target rate (``slo.target_state_transitions_per_sec``, after
any override) falls, so an overridden SLO moves the band as the compiler would. Afterwards
observed throughput moves the band, with hysteresis so a cluster hovering at a boundary does not
flap between threshold sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from temporal_dsql_copilot.exceptions import UnknownPresetError, UnknownThresholdError
from temporal_dsql_core import ConfigProfile

__all__ = [
    "BAND_LOWER_BOUNDS",
    "PRESET_BANDS",
    "SLO_TARGET_KEY",
    "THRESHOLD_PROFILES",
    "BandThresholds",
    "ScaleBand",
    "band_for_preset",
    "band_for_profile",
    "band_for_rate",
    "next_band",
    "thresholds_for",
]


class ScaleBand(StrEnum):
    STARTER = "starter"
    MID = "mid"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _BAND_RANK[self]

    @property
    def preset_name(self) -> str:
        """The band as the deployment names it: the scale preset whose throughput range it is."""
        return _BAND_PRESET[self]


_BAND_ORDER = [ScaleBand.STARTER, ScaleBand.MID, ScaleBand.HIGH]
_BAND_RANK = {band: i for i, band in enumerate(_BAND_ORDER)}

# State transitions per second at which each band starts (the presets' throughput ranges).
BAND_LOWER_BOUNDS: Mapping[ScaleBand, float] = {
    ScaleBand.STARTER: 0.0,
    ScaleBand.MID: 50.0,
    ScaleBand.HIGH: 500.0,
}

PRESET_BANDS: Mapping[str, ScaleBand] = {
    "starter": ScaleBand.STARTER,
    "mid-scale": ScaleBand.MID,
    "high-throughput": ScaleBand.HIGH,
}
_BAND_PRESET = {band: preset for preset, band in PRESET_BANDS.items()}


class BandThresholds(BaseModel):
    """Thresholds for one band. Field names are what runtime threshold changes address."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Critical: forward progress impaired (Requirements 4.1, 12.1). Progress is judged against
    # demand and recent throughput; the absolute figures below are only where judging stops.
    critical_state_transitions_min_per_sec: float = Field(ge=0)
    """Recent throughput below this is too little to judge a relative drop against (noise)."""
    critical_completion_ratio_min: float = Field(ge=0, le=1)
    critical_completion_demand_floor_per_sec: float = Field(ge=0)
    critical_backlog_age_max_sec: float = Field(gt=0)
    # Stressed: progress continues under pressure.
    stressed_backlog_age_sec: float = Field(gt=0)
    stressed_persistence_latency_p99_ms: float = Field(gt=0)
    stressed_frontend_latency_p99_ms: float = Field(gt=0)
    stressed_shard_churn_per_sec: float = Field(ge=0)
    stressed_occ_conflicts_per_sec: float = Field(ge=0)
    stressed_persistence_errors_per_sec: float = Field(ge=0)
    stressed_pool_utilization: float = Field(gt=0, le=1)
    stressed_poll_timeout_ratio: float = Field(gt=0, le=1)
    # Healthy: what Happy needs.
    healthy_backlog_age_sec: float = Field(gt=0)
    healthy_completion_ratio: float = Field(ge=0, le=1)
    # Demand and progress (the same in every band): what "arriving", "waiting", "stopped" and
    # "impaired" mean. Idle is no arriving and no waiting work; a stop is work arriving or waiting
    # while nothing moves (Requirement 4.1: "impaired or stopped").
    waiting_backlog_age_sec: float = Field(default=5.0, gt=0)
    """Work is waiting when the oldest task in a backlog has waited longer than this."""
    arriving_starts_per_sec: float = Field(default=0.01, ge=0)
    """Work is arriving when workflow starts exceed this rate."""
    stopped_progress_per_sec: float = Field(default=0.01, ge=0)
    """Progress (state transitions, history tasks, completions) at or below this has stopped."""
    impaired_progress_fraction: float = Field(default=0.5, gt=0, lt=1)
    """Progress below this share of what recent throughput and current demand call for is impaired."""
    unserved_backlog_growth_fraction: float = Field(default=0.5, gt=0, le=1)
    """The oldest task ageing by this share of the interval (or more) per cycle is not being served."""
    # Worker side (Requirement 14.4): the same in every band.
    worker_schedule_to_start_p99_ms: float = Field(default=50.0, gt=0)
    worker_activity_schedule_to_start_p99_ms: float = Field(default=500.0, gt=0)
    """Activity tasks wait longer than workflow tasks by nature (longer executions hold slots), so the
    bound is an order above 14.4's 50 ms; above it, activity workers cannot keep up."""
    worker_sticky_hit_ratio_min: float = Field(default=0.5, ge=0, le=1)
    worker_long_poll_failures_per_sec: float = Field(default=0.1, ge=0)
    """Failing long polls above this rate are called out (Requirement 14.6): a connectivity or
    frontend rate-limit problem that more workers would make worse, not better."""

    def with_overrides(self, overrides: Mapping[str, float]) -> BandThresholds:
        unknown = sorted(set(overrides) - set(type(self).model_fields))
        if unknown:
            raise UnknownThresholdError(unknown[0], allowed=sorted(type(self).model_fields))
        return type(self).model_validate({**self.model_dump(), **overrides})


THRESHOLD_PROFILES: Mapping[ScaleBand, BandThresholds] = {
    ScaleBand.STARTER: BandThresholds(
        critical_state_transitions_min_per_sec=0.5,
        critical_completion_ratio_min=0.3, critical_completion_demand_floor_per_sec=0.5,
        critical_backlog_age_max_sec=600, stressed_backlog_age_sec=120,
        stressed_persistence_latency_p99_ms=500, stressed_frontend_latency_p99_ms=5000,
        stressed_shard_churn_per_sec=5, stressed_occ_conflicts_per_sec=5,
        stressed_persistence_errors_per_sec=1, stressed_pool_utilization=0.9,
        stressed_poll_timeout_ratio=0.5, healthy_backlog_age_sec=60, healthy_completion_ratio=0.85,
    ),
    ScaleBand.MID: BandThresholds(
        critical_state_transitions_min_per_sec=3.0,
        critical_completion_ratio_min=0.3, critical_completion_demand_floor_per_sec=3.0,
        critical_backlog_age_max_sec=300, stressed_backlog_age_sec=60,
        stressed_persistence_latency_p99_ms=200, stressed_frontend_latency_p99_ms=2000,
        stressed_shard_churn_per_sec=5, stressed_occ_conflicts_per_sec=20,
        stressed_persistence_errors_per_sec=5, stressed_pool_utilization=0.9,
        stressed_poll_timeout_ratio=0.3, healthy_backlog_age_sec=30, healthy_completion_ratio=0.85,
    ),
    ScaleBand.HIGH: BandThresholds(
        critical_state_transitions_min_per_sec=5.0,
        critical_completion_ratio_min=0.3, critical_completion_demand_floor_per_sec=5.0,
        critical_backlog_age_max_sec=300, stressed_backlog_age_sec=30,
        stressed_persistence_latency_p99_ms=100, stressed_frontend_latency_p99_ms=1000,
        stressed_shard_churn_per_sec=5, stressed_occ_conflicts_per_sec=50,
        stressed_persistence_errors_per_sec=10, stressed_pool_utilization=0.9,
        stressed_poll_timeout_ratio=0.1, healthy_backlog_age_sec=15, healthy_completion_ratio=0.85,
    ),
}


def thresholds_for(band: ScaleBand, overrides: Mapping[str, float] | None = None) -> BandThresholds:
    base = THRESHOLD_PROFILES[band]
    return base.with_overrides(overrides) if overrides else base


def band_for_preset(preset_name: str) -> ScaleBand:
    try:
        return PRESET_BANDS[preset_name]
    except KeyError:
        raise UnknownPresetError(preset_name, allowed=sorted(PRESET_BANDS)) from None


SLO_TARGET_KEY = "slo.target_state_transitions_per_sec"


def band_for_rate(state_transitions_per_sec: float) -> ScaleBand:
    """The band whose throughput range holds this rate (no hysteresis: a starting point)."""
    for band in reversed(_BAND_ORDER):
        if state_transitions_per_sec >= BAND_LOWER_BOUNDS[band]:
            return band
    return _BAND_ORDER[0]


def band_for_profile(profile: ConfigProfile) -> ScaleBand:
    """The band of a compiled profile: where its SLO target rate falls; the preset's band only
    when the profile carries no such SLO."""
    target = profile.get_param(SLO_TARGET_KEY)
    if target is not None and isinstance(target.value, int | float) and not isinstance(target.value, bool):
        return band_for_rate(float(target.value))
    return band_for_preset(profile.preset_name)


def next_band(current: ScaleBand, state_transitions_per_sec: float | None, hysteresis: float) -> ScaleBand:
    """Move the band with observed throughput: up past bound*(1+h), down below bound*(1-h)."""
    st = state_transitions_per_sec
    if st is None:
        return current
    rank = _BAND_RANK[current]
    up, down = 1 + hysteresis, 1 - hysteresis
    # Hot path (every cycle, every benchmark): plain loops over three bands, highest first.
    for band in reversed(_BAND_ORDER[rank + 1:]):
        if st >= BAND_LOWER_BOUNDS[band] * up:
            return band
    if rank == 0 or st >= BAND_LOWER_BOUNDS[current] * down:
        return current
    for band in reversed(_BAND_ORDER[:rank]):
        if st >= BAND_LOWER_BOUNDS[band] * down:
            return band
    return _BAND_ORDER[0]
