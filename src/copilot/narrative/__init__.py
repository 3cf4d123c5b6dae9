"""Narrative signals: log patterns from CloudWatch Logs or Loki, correlated with metric anomalies."""

from copilot.narrative.base import LogRecord, LogSource
from copilot.narrative.cloudwatch import CloudWatchLogSource
from copilot.narrative.loki import DEFAULT_LOKI_QUERY, LokiLogSource
from copilot.narrative.patterns import (
    DEEP_ANALYSIS_PATTERNS,
    NARRATIVE_PATTERNS,
    Correlation,
    NarrativePattern,
    correlate,
    detect_patterns,
    match_patterns,
)

__all__ = [
    "DEEP_ANALYSIS_PATTERNS",
    "DEFAULT_LOKI_QUERY",
    "NARRATIVE_PATTERNS",
    "CloudWatchLogSource",
    "Correlation",
    "LogRecord",
    "LogSource",
    "LokiLogSource",
    "NarrativePattern",
    "correlate",
    "detect_patterns",
    "match_patterns",
]
