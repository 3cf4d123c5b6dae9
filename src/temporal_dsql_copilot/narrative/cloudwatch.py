"""CloudWatch Logs as a log source (FilterLogEvents over one or more log groups).

The service name is the log stream's prefix (ECS writes ``<prefix>/<container>/<task-id>``; the
container is the Temporal service). boto3 is synchronous, so calls run in a worker thread to keep
the activity's event loop free.

A deployment often gives each service its own log group. FilterLogEvents reads one group per call,
so every group is read on its own (each bounded by ``limit``) and the results are merged by time;
the merged list keeps the earliest ``limit`` records, as a single group would.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any

from whenever import Instant

from temporal_dsql_copilot.exceptions import LogSourceError
from temporal_dsql_copilot.narrative.base import LogRecord

__all__ = ["CloudWatchLogSource"]

_SERVICES = ("history", "matching", "frontend", "worker")


def _instant_of(record: LogRecord) -> Instant:
    # Not the ISO string: "…:00Z" sorts after "…:00.5Z" as text.
    return Instant.parse_iso(record.timestamp)


def _service_of(stream: str) -> str:
    for part in stream.split("/"):
        for service in _SERVICES:
            if service in part:
                return service
    return stream.split("/")[0] or "unknown"


@dataclass
class CloudWatchLogSource:
    log_groups: tuple[str, ...]
    """Every log group to read (one FilterLogEvents call sequence per group)."""
    region: str = "us-east-1"
    endpoint_url: str | None = None
    filter_pattern: str = ""
    _client: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.log_groups, str):  # a bare name would be read as one group per character
            raise TypeError(f"log_groups must be a tuple of group names, e.g. ({self.log_groups!r},)")
        self.log_groups = tuple(dict.fromkeys(g for g in self.log_groups if g))
        if not self.log_groups:
            raise ValueError("CloudWatchLogSource needs at least one log group (log_groups); set "
                             "COPILOT_CLOUDWATCH_LOG_GROUPS to a JSON array of group names.")

    def _logs(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("logs", region_name=self.region, endpoint_url=self.endpoint_url)
        return self._client

    def _fetch_group(self, log_group: str, start: Instant, end: Instant, limit: int) -> list[LogRecord]:
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {
            "logGroupName": log_group,
            "startTime": int(start.timestamp(unit="millisecond")),
            "endTime": int(end.timestamp(unit="millisecond")) - 1,
        }
        if self.filter_pattern:
            kwargs["filterPattern"] = self.filter_pattern
        records: list[LogRecord] = []
        try:
            while len(records) < limit:
                page = self._logs().filter_log_events(**kwargs, limit=min(10_000, limit - len(records)))
                for event in page.get("events", []):
                    ts = Instant.from_timestamp(int(event["timestamp"]), unit="millisecond")
                    records.append(LogRecord(timestamp=ts.format_iso(), service=_service_of(event["logStreamName"]),
                                             message=event["message"]))
                token = page.get("nextToken")
                if not token or not page.get("events"):
                    break
                kwargs["nextToken"] = token
        except (BotoCoreError, ClientError) as exc:
            raise LogSourceError(
                f"CloudWatch Logs query on log group {log_group!r} failed: {exc}. Check that the group exists in "
                f"{self.region} and that COPILOT_CLOUDWATCH_LOG_GROUP(S) names it.") from exc
        records.sort(key=_instant_of)
        return records[:limit]

    async def fetch(self, start: Instant, end: Instant, *, limit: int = 1000) -> list[LogRecord]:
        self._logs()  # one client, made before the threads share it (boto3 clients are thread-safe)
        per_group = await asyncio.gather(
            *(asyncio.to_thread(self._fetch_group, group, start, end, limit) for group in self.log_groups))
        return list(itertools.islice(heapq.merge(*per_group, key=_instant_of), limit))
