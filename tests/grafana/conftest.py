"""Prometheus loaded with the synthetic cluster exactly as `copilot dev up` loads it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from whenever import Instant

from copilot.dev.stack import TelemetryPlan, load_synthetic_cluster
from standins.prometheus import PrometheusServer


@dataclass(frozen=True)
class LoadedPrometheus:
    server: PrometheusServer
    plan: TelemetryPlan


@pytest.fixture(scope="session")
def dashboard_prometheus() -> Iterator[LoadedPrometheus]:
    plan = TelemetryPlan.around(Instant.now())
    server = PrometheusServer()
    load_synthetic_cluster(server, plan)
    server.start()
    try:
        yield LoadedPrometheus(server, plan)
    finally:
        server.remove()
