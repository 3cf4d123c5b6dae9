"""Deterministic workflow time as ISO 8601 instants and Temporal timeouts without ``datetime``."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from whenever import Instant, TimeDelta

__all__ = ["seconds", "workflow_now"]


def workflow_now() -> Instant:
    return Instant.from_timestamp(workflow.now().timestamp(), unit="second")


def seconds(value: float) -> Any:
    """A Temporal timeout (stdlib timedelta) built through whenever."""
    return TimeDelta(seconds=value).to_stdlib()
