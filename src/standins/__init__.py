"""Local stand-ins for the AWS services temporal-dsql runs against.

Each stand-in is a real server started on 127.0.0.1 on a free port and stopped by its PID:
PostgreSQL for Aurora DSQL, moto for S3/DynamoDB, Prometheus for Amazon Managed Prometheus and the
Temporal dev server for Temporal. Tests, `copilot dev up` and `make demo` all use these, so there
is one way to start each one.
"""

from standins._process import ManagedProcess, StandinError, free_port, wait_for_port
from standins.temporal import TemporalDevServer, temporal_binary, temporal_test_server_binary

__all__ = [
    "ManagedProcess",
    "StandinError",
    "TemporalDevServer",
    "free_port",
    "temporal_binary",
    "temporal_test_server_binary",
    "wait_for_port",
]
