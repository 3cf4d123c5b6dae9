"""The log patterns of Requirement 2.2 and their correlation with metric anomalies by time.

Log lines come from outside (any service, any length), so the patterns run on RE2
(``temporal_dsql_core.linear_regex``, linear in the line): ``member.*removed`` over a line of many
"member" words backtracked quadratically with Python's ``re`` (issue 19)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.narrative.base import LogRecord
from temporal_dsql_copilot.signals import LogPatternCount
from temporal_dsql_core.instants import second_precision
from temporal_dsql_core.linear_regex import LinearPattern, compile_linear

__all__ = [
    "DEEP_ANALYSIS_PATTERNS",
    "NARRATIVE_PATTERNS",
    "Correlation",
    "NarrativePattern",
    "correlate",
    "detect_patterns",
    "match_patterns",
]


@dataclass(frozen=True)
class NarrativePattern:
    name: str
    regex: LinearPattern
    description: str


def _p(name: str, regex: str, description: str) -> NarrativePattern:
    return NarrativePattern(name, compile_linear(regex, ignore_case=True), description)


NARRATIVE_PATTERNS: tuple[NarrativePattern, ...] = (
    _p("occ_serialization_failure", r"SQLSTATE\s*40001|serialization failure|\bOC00[01]\b|change conflicts with another",
       "OCC serialization failure (SQLSTATE 40001)"),
    _p("dsql_connection_refused", r"connection refused", "DSQL connection refused"),
    _p("dsql_connection_timeout", r"(?:dial|connect|connection|i/o)[^\n]{0,40}time(?:d)?\s?out|context deadline exceeded",
       "DSQL connection timeout"),
    _p("dsql_rate_limited", r"rate limit|too many connections|throttl", "DSQL rate limit"),
    _p("reservoir_discard", r"reservoir discard", "DSQL reservoir discarded a connection"),
    _p("member_joined", r"member joined|membership changed.*joined|\bjoined\b.*ringpop", "Ringpop member joined"),
    _p("member_left", r"member left|\bleft\b.*ringpop|member.*removed", "Ringpop member left"),
    _p("shard_acquired", r"shard (?:acquired|ownership acquired)|acquired shard", "Shard acquired"),
    _p("shard_released", r"shard (?:released|closed|ownership lost)|shardownershiplost|released shard",
       "Shard released or lost"),
    _p("service_error", r'level"?\s*[=:]\s*"?error\b', "Temporal service error log (level=error)"),
)

# Patterns that trigger a deep analysis (Requirement 2.3): errors, not routine membership noise.
DEEP_ANALYSIS_PATTERNS = frozenset({
    "occ_serialization_failure", "dsql_connection_refused", "dsql_connection_timeout", "dsql_rate_limited",
    "shard_released", "service_error",
})


def match_patterns(record: LogRecord) -> list[str]:
    names = [p.name for p in NARRATIVE_PATTERNS if p.regex.search(record.message)]
    if record.level is not None and record.level.lower() == "error" and "service_error" not in names:
        names.append("service_error")
    return names


def detect_patterns(records: Iterable[LogRecord]) -> list[LogPatternCount]:
    """Count each pattern per service; most frequent first, ties by name (deterministic)."""
    counts: dict[tuple[str, str], list[str]] = {}
    for record in records:
        for name in match_patterns(record):
            counts.setdefault((name, record.service), []).append(record.timestamp)
    out = [
        LogPatternCount(pattern=name, service=service, count=len(stamps), first_seen=second_precision(min(stamps)),
                        last_seen=second_precision(max(stamps)))
        for (name, service), stamps in counts.items()
    ]
    return sorted(out, key=lambda p: (-p.count, p.pattern, p.service))


class Correlation(BaseModel):
    """A log pattern that occurred close to a metric anomaly."""

    model_config = ConfigDict(frozen=True)

    anomaly_at: str
    anomaly: str
    pattern: str
    service: str
    count: int
    distance_seconds: float


def correlate(anomalies: Sequence[tuple[str, str]], records: Iterable[LogRecord], *,
              window: TimeDelta | None = None) -> list[Correlation]:
    """Pair each anomaly (ISO instant, description) with patterns seen within ``window`` of it."""
    win = window or TimeDelta(seconds=120)
    matched = [(Instant.parse_iso(r.timestamp), r, name) for r in records for name in match_patterns(r)]
    out: list[Correlation] = []
    for at_text, description in anomalies:
        at = Instant.parse_iso(at_text)
        near: dict[tuple[str, str], list[float]] = {}
        for ts, record, name in matched:
            distance = abs((ts - at).total("seconds"))
            if distance <= win.total("seconds"):
                near.setdefault((name, record.service), []).append(distance)
        for (name, service), distances in near.items():
            out.append(Correlation(anomaly_at=at_text, anomaly=description, pattern=name, service=service,
                                   count=len(distances), distance_seconds=min(distances)))
    return sorted(out, key=lambda c: (c.anomaly_at, c.distance_seconds, -c.count, c.pattern))
