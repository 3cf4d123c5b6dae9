"""CloudWatch Logs as a log source (FilterLogEvents over one log group).

The service name is the log stream's prefix (ECS writes ``<prefix>/<container>/<task-id>``; the
container is the Temporal service). boto3 is synchronous, so calls run in a worker thread to keep
the activity's event loop free.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from whenever import Instant

from copilot.exceptions import LogSourceError
from copilot.narrative.base import LogRecord

__all__ = ["CloudWatchLogSource"]

_SERVICES = ("history", "matching", "frontend", "worker")


def _service_of(stream: str) -> str:
    for part in stream.split("/"):
        for service in _SERVICES:
            if service in part:
                return service
    return stream.split("/")[0] or "unknown"


@dataclass
class CloudWatchLogSource:
    log_group: str
    region: str = "us-east-1"
    endpoint_url: str | None = None
    filter_pattern: str = ""
    _client: Any = field(default=None, init=False, repr=False)

    def _logs(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("logs", region_name=self.region, endpoint_url=self.endpoint_url)
        return self._client

    def _fetch_sync(self, start: Instant, end: Instant, limit: int) -> list[LogRecord]:
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {
            "logGroupName": self.log_group,
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
            raise LogSourceError(f"CloudWatch Logs query on {self.log_group} failed: {exc}") from exc
        return records[:limit]

    async def fetch(self, start: Instant, end: Instant, *, limit: int = 1000) -> list[LogRecord]:
        return await asyncio.to_thread(self._fetch_sync, start, end, limit)
