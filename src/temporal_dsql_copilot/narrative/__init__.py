"""Narrative signals: log patterns from CloudWatch Logs or Loki, correlated with metric anomalies."""

from temporal_dsql_copilot.narrative.base import LogRecord, LogSource
from temporal_dsql_copilot.narrative.cloudwatch import CloudWatchLogSource
from temporal_dsql_copilot.narrative.loki import DEFAULT_LOKI_QUERY, LokiLogSource
from temporal_dsql_copilot.narrative.patterns import (
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
