"""Local stand-ins for the AWS services temporal-dsql runs against.

Each stand-in is a real server started on 127.0.0.1 on a free port and stopped by its PID:
PostgreSQL for Aurora DSQL, moto for S3/DynamoDB, Prometheus for Amazon Managed Prometheus and the
Temporal dev server for Temporal. Tests, `copilot dev up` and `make demo` all use these, so there
is one way to start each one.
"""

from temporal_dsql_standins._process import ManagedProcess, StandinError, free_port, wait_for_port
from temporal_dsql_standins.moto import MotoServer
from temporal_dsql_standins.postgres import PostgresServer
from temporal_dsql_standins.price_list import PriceListServer
from temporal_dsql_standins.prometheus import PrometheusServer
from temporal_dsql_standins.scenarios import (
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
from temporal_dsql_standins.temporal import TemporalDevServer, temporal_binary, temporal_test_server_binary

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
