"""Telemetry shapes shared by the compiler (expected bounds), profiles and the copilot."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TelemetryBound(BaseModel):
    """Inclusive range a preset expects a catalog metric's aggregate to stay within."""

    model_config = ConfigDict(frozen=True)

    metric: str
    lower: float
    upper: float


class MetricAggregate(BaseModel):
    min: float
    max: float
    mean: float
    p50: float
    p95: float
    p99: float


class ServiceMetrics(BaseModel):
    history: MetricAggregate
    matching: MetricAggregate
    frontend: MetricAggregate
    worker: MetricAggregate
