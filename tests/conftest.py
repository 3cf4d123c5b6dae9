"""Session-scoped stand-in servers shared by every test area.

Each fixture starts a real server on a free 127.0.0.1 port and stops it by PID at session end:

- ``postgres_server``: PostgreSQL (the Aurora DSQL stand-in), user ``admin``, db ``postgres``;
- ``moto_server``: moto_server for S3/DynamoDB (``.endpoint_url``; ``.reset()`` wipes state);
- ``prometheus_with_scenarios``: Prometheus under ``/workspaces/ws-local`` (the AMP URL shape)
  backfilled with ``temporal_dsql_standins.scenarios.default_windows()``: ``healthy-150wps`` from now-5h to
  now-3h and ``overloaded-400wps`` from now-2h to the session start (``.windows[name]``).

Tests that stop a server on purpose (fault tests) start their own instance instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from temporal_dsql_standins import (
    MotoServer,
    PostgresServer,
    ScenarioPrometheus,
    start_prometheus_with_scenarios,
)

# moto, the SigV4 signer and the DSQL token generator need credentials; never real ones.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prometheus_with_scenarios() -> Iterator[ScenarioPrometheus]:
    loaded = start_prometheus_with_scenarios()
    try:
        yield loaded
    finally:
        loaded.stop()
