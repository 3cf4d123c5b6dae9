"""Local stand-ins for the AWS services temporal-dsql runs against.

Each stand-in is a real server started on 127.0.0.1 on a free port and stopped by its PID:
PostgreSQL for Aurora DSQL, moto for S3/DynamoDB, Prometheus for Amazon Managed Prometheus and the
Temporal dev server for Temporal. Tests, `copilot dev up` and `make demo` all use these, so there
is one way to start each one.
"""

from standins._process import ManagedProcess, StandinError, free_port, wait_for_port
from standins.moto import MotoServer
from standins.postgres import PostgresServer
from standins.price_list import PriceListServer
from standins.prometheus import PrometheusServer
from standins.scenarios import (
    SCENARIOS,
    Scenario,
    ScenarioPrometheus,
    ScenarioWindow,
    default_windows,
    get_scenario,
    load_into_prometheus,
    start_prometheus_with_scenarios,
    write_openmetrics,
)
from standins.temporal import TemporalDevServer, temporal_binary, temporal_test_server_binary

__all__ = [
    "SCENARIOS",
    "ManagedProcess",
    "MotoServer",
    "PostgresServer",
    "PriceListServer",
    "PrometheusServer",
    "Scenario",
    "ScenarioPrometheus",
    "ScenarioWindow",
    "StandinError",
    "TemporalDevServer",
    "default_windows",
    "free_port",
    "get_scenario",
    "load_into_prometheus",
    "start_prometheus_with_scenarios",
    "temporal_binary",
    "temporal_test_server_binary",
    "wait_for_port",
    "write_openmetrics",
]
