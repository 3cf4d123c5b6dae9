"""Closing the loop between behaviour profiles and presets: drift, conformance, recommend config."""

from temporal_dsql_copilot.loop.baseline import DriftInput, DriftReport, ProfileBaselineDrift
from temporal_dsql_copilot.loop.conformance import ConformanceReport, MetricConformance, assess_conformance
from temporal_dsql_copilot.loop.drift import correlate_config_changes, detect_drift, drift_threshold

__all__ = [
    "ConformanceReport",
    "DriftInput",
    "DriftReport",
    "MetricConformance",
    "ProfileBaselineDrift",
    "assess_conformance",
    "correlate_config_changes",
    "detect_drift",
    "drift_threshold",
]
