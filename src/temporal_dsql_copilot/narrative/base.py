"""Log sources for narrative signals: one small protocol, CloudWatch Logs and Loki behind it."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict
from whenever import Instant

__all__ = ["LogRecord", "LogSource"]


class LogRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    timestamp: str
    """ISO 8601 instant (UTC)."""
    service: str
    message: str
    level: str | None = None


@runtime_checkable
class LogSource(Protocol):
    """Anything that returns the log records of the monitored cluster in [start, end)."""

    async def fetch(self, start: Instant, end: Instant, *, limit: int = 1000) -> list[LogRecord]: ...
