"""Narrative signals: patterns, CloudWatch Logs on moto_server, Loki over HTTP, time correlation."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from copilot_test_loki import RecordedLoki  # type: ignore[import-not-found]
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.exceptions import LogSourceError
from temporal_dsql_copilot.narrative import (
    CloudWatchLogSource,
    LogRecord,
    LokiLogSource,
    correlate,
    detect_patterns,
)
from temporal_dsql_standins import MotoServer, free_port

DATA = Path(__file__).parent / "data"
T0 = Instant.parse_iso("2026-11-22T13:00:00Z")


def test_patterns_of_requirement_2_2() -> None:
    lines = {
        "ERROR: could not serialize access (SQLSTATE 40001)": "occ_serialization_failure",
        "dial tcp 10.0.0.1:5432: connect: connection refused": "dsql_connection_refused",
        "context deadline exceeded while acquiring connection": "dsql_connection_timeout",
        "rate limit exceeded for cluster": "dsql_rate_limited",
        "ringpop: member joined 10.0.0.2": "member_joined",
        "ringpop: member left 10.0.0.3": "member_left",
        "shard acquired shard-id=4": "shard_acquired",
        "shard released shard-id=4": "shard_released",
        'level=error msg="boom"': "service_error",
    }
    records = [LogRecord(timestamp=T0.format_iso(), service="history", message=m) for m in lines]
    found = {p.pattern for p in detect_patterns(records)}
    assert set(lines.values()) <= found
    quiet = detect_patterns([LogRecord(timestamp=T0.format_iso(), service="history", message="level=info ok")])
    assert quiet == []


def test_correlation_by_time_proximity() -> None:
    records = [
        LogRecord(timestamp=(T0 + TimeDelta(seconds=20)).format_iso(), service="history", message="SQLSTATE 40001"),
        LogRecord(timestamp=(T0 + TimeDelta(minutes=30)).format_iso(), service="history", message="SQLSTATE 40001"),
    ]
    pairs = correlate([(T0.format_iso(), "backlog age spike")], records, window=TimeDelta(minutes=2))
    assert [(c.pattern, c.count, c.distance_seconds) for c in pairs] == [("occ_serialization_failure", 1, 20.0)]


async def test_cloudwatch_logs_on_moto(moto_server: MotoServer) -> None:
    logs = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="us-east-1")
    group = f"/ecs/temporal-{free_port()}"
    logs.create_log_group(logGroupName=group)
    stream = "temporal/history/abc123"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = Instant.now()
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": int((now - TimeDelta(seconds=30)).timestamp(unit="millisecond")),
         "message": "level=error msg=\"persist\" error=\"SQLSTATE 40001\""},
        {"timestamp": int((now - TimeDelta(seconds=20)).timestamp(unit="millisecond")),
         "message": "level=info msg=\"member joined\""},
    ])
    source = CloudWatchLogSource((group,), endpoint_url=moto_server.endpoint_url)
    records = await source.fetch(now - TimeDelta(minutes=5), now + TimeDelta(seconds=1))
    assert [r.service for r in records] == ["history", "history"]
    patterns = {p.pattern for p in detect_patterns(records)}
    assert {"occ_serialization_failure", "service_error", "member_joined"} <= patterns
    with pytest.raises(LogSourceError, match="/no/such/group"):
        await CloudWatchLogSource(("/no/such/group",), endpoint_url=moto_server.endpoint_url).fetch(
            now - TimeDelta(minutes=5), now)


async def test_cloudwatch_reads_every_log_group_merged_by_time(moto_server: MotoServer) -> None:
    """One group per service (as ECS often has): every group is read, the records merged by time and bounded."""
    logs = boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="us-east-1")
    suffix = free_port()
    now = Instant.now()
    groups = {"history": f"/ecs/history-{suffix}", "matching": f"/ecs/matching-{suffix}"}
    # history logs at -50 s and -30 s, matching at -40 s and -20 s: the merge interleaves them.
    offsets = {"history": (50, 30), "matching": (40, 20)}
    for service, group in groups.items():
        logs.create_log_group(logGroupName=group)
        stream = f"temporal/{service}/task-1"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": int((now - TimeDelta(seconds=s)).timestamp(unit="millisecond")),
             "message": f"{service} at -{s}s SQLSTATE 40001"} for s in offsets[service]])
    source = CloudWatchLogSource(tuple(groups.values()), endpoint_url=moto_server.endpoint_url)
    window = (now - TimeDelta(minutes=5), now + TimeDelta(seconds=1))
    records = await source.fetch(*window)
    assert [r.message.split(" SQL")[0] for r in records] == [
        "history at -50s", "matching at -40s", "history at -30s", "matching at -20s"]
    assert [r.service for r in records] == ["history", "matching", "history", "matching"]
    # Bounded: the earliest `limit` records across all groups.
    assert [r.message.split(" SQL")[0] for r in await source.fetch(*window, limit=3)] == [
        "history at -50s", "matching at -40s", "history at -30s"]
    # One missing group is named in the error rather than silently dropped.
    with pytest.raises(LogSourceError, match="/no/such/group"):
        await CloudWatchLogSource((*groups.values(), "/no/such/group"),
                                  endpoint_url=moto_server.endpoint_url).fetch(*window)


def test_cloudwatch_source_needs_a_group() -> None:
    with pytest.raises(ValueError, match="COPILOT_CLOUDWATCH_LOG_GROUPS"):
        CloudWatchLogSource(())


async def test_loki_source_over_http(recorded_loki_url: str) -> None:
    loki_url = recorded_loki_url
    records = await LokiLogSource(loki_url).fetch(T0 - TimeDelta(minutes=1), T0 + TimeDelta(minutes=1))
    assert [r.timestamp for r in records] == sorted(r.timestamp for r in records)
    assert {r.service for r in records} == {"history", "matching"}
    patterns = {(p.pattern, p.service): p.count for p in detect_patterns(records)}
    assert patterns[("occ_serialization_failure", "history")] == 1
    assert patterns[("dsql_connection_timeout", "history")] == 1
    assert patterns[("shard_released", "history")] == 1
    assert patterns[("member_joined", "matching")] == 1
    assert patterns[("reservoir_discard", "matching")] == 1
    RecordedLoki.fail = True
    with pytest.raises(LogSourceError):
        await LokiLogSource(loki_url).fetch(T0, T0 + TimeDelta(minutes=1))


def test_recorded_response_is_valid_json() -> None:
    assert json.loads((DATA / "loki_query_range.json").read_text())["status"] == "success"


def test_correlated_patterns_reach_the_explanation() -> None:
    from temporal_dsql_copilot.assessment import (
        AssessmentContext,
        AssessmentTrigger,
        build_prompt,
        rule_based_explanation,
    )
    from temporal_dsql_copilot.health import (
        MachineState,
        ScaleBand,
        assess_workers,
        evaluate,
        service_health,
        thresholds_for,
    )
    from temporal_dsql_copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot

    snap = SignalSnapshot(observed_at=T0.format_iso(),
                          primary=PrimarySignals(state_transitions_per_sec=120, backlog_age_sec=2),
                          amplifiers=AmplifierSignals(persistence_latency_p99_ms=900))
    ev = evaluate(MachineState(band=ScaleBand.MID), snap)
    assert ev.transition is not None
    records = [LogRecord(timestamp=(T0 - TimeDelta(seconds=15)).format_iso(), service="history",
                         message="ERROR: change conflicts with another transaction (SQLSTATE 40001)")]
    correlations = correlate([(ev.transition.at, ev.transition.describe())], records)
    workers = assess_workers(ev.state, snap, thresholds_for(ev.current.band))
    ctx = AssessmentContext(trigger=AssessmentTrigger.STATE_CHANGE, evaluation=ev, workers=workers,
                            services=service_health(ev, workers), snapshot=snap, log_correlations=correlations)
    assert "1x occ_serialization_failure on history within 15s" in build_prompt(ctx)
    titles = [f.title for f in rule_based_explanation(ctx).factors]
    assert titles[:2] == ["DSQL persistence slow", "log pattern near the anomaly: occ_serialization_failure"]
