"""Loki as a log source, over its HTTP API (``/loki/api/v1/query_range``)."""

from __future__ import annotations

from dataclasses import dataclass

from whenever import Instant

from temporal_dsql_copilot.exceptions import LogSourceError
from temporal_dsql_copilot.narrative.base import LogRecord

__all__ = ["DEFAULT_LOKI_QUERY", "LokiLogSource"]

DEFAULT_LOKI_QUERY = '{job=~"temporal.*"} |~ "(?i)(error|warn|fatal|panic|member|shard|reservoir|40001)"'


@dataclass
class LokiLogSource:
    base_url: str
    query: str = DEFAULT_LOKI_QUERY
    timeout: float = 10.0
    service_labels: tuple[str, ...] = ("service_name", "service", "container", "job")

    def _service(self, labels: dict[str, str]) -> str:
        for key in self.service_labels:
            if labels.get(key):
                return labels[key].removeprefix("temporal-")
        return "unknown"

    async def fetch(self, start: Instant, end: Instant, *, limit: int = 1000) -> list[LogRecord]:
        params = {
            "query": self.query, "limit": str(limit), "direction": "forward",
            "start": str(start.timestamp(unit="nanosecond")), "end": str(end.timestamp(unit="nanosecond")),
        }
        url = self.base_url.rstrip("/") + "/loki/api/v1/query_range"
        # Imported here: httpx (and the rich/click it pulls in) stays out of the Lambda's cold
        # import, which reaches this module through the status API's models.
        import httpx

        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(url, params=params)
                response.raise_for_status()
                body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise LogSourceError(f"Loki query at {url} failed: {exc}") from exc
        if body.get("status") != "success":
            raise LogSourceError(f"Loki answered status {body.get('status')!r}")
        records: list[LogRecord] = []
        for stream in body.get("data", {}).get("result", []):
            labels = stream.get("stream", {})
            service = self._service(labels)
            for ts_ns, line in stream.get("values", []):
                ts = Instant.from_timestamp(int(ts_ns), unit="nanosecond")
                records.append(LogRecord(timestamp=ts.format_iso(), service=service, message=line,
                                         level=labels.get("level") or labels.get("detected_level")))
        records.sort(key=lambda r: r.timestamp)
        return records[:limit]
