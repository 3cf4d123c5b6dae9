"""`copilot dev schema setup --aws`: each step against a real boundary, each failure reported.

- steps 1-2 run `docker`: a recording `docker` script on PATH (no engine here) stands in, so the
  argv and env the CLI really passes are checked (SCHEMA_COMMAND verbatim, one endpoint per step);
- steps 3-4 apply the stores' DDL for real to the PostgreSQL stand-in, one database per "cluster"
  (dialect and connection injected; production uses Dialect.DSQL and an IAM token);
- step 5 runs docker/runtime/visibility_setup.py against a local HTTP server that records requests.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from temporal_dsql_core.dsql import Dialect, StaticPassword, create_pool
from temporal_dsql_devstack.build import RUNTIME_IMAGE
from temporal_dsql_devstack.errors import DevStackError
from temporal_dsql_devstack.schema import (
    AwsSchemaSetup,
    AwsTargets,
    Step,
    StepFailed,
    read_env_file,
    run_steps,
    schema_command,
)
from temporal_dsql_standins import PostgresServer, free_port

pytestmark = pytest.mark.standins

MONITORED = "monitored.dsql.eu-west-1.on.aws"
COPILOT = "copilot.dsql.eu-west-1.on.aws"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIATESTTESTTEST", "AWS_SECRET_ACCESS_KEY": "c2VjcmV0+c2VjcmV0",
               "AWS_SESSION_TOKEN": "session/token=="}
TEMPLATE = {"index_patterns": ["temporal_visibility_v1*"], "mappings": {"properties": {"WorkflowId": {"type": "keyword"}}}}

# A `docker` CLI stand-in: records argv + the env a container would get, answers `info`,
# `image inspect` and the template `cat`; FAKE_DOCKER_FAIL_ENDPOINT makes that endpoint's `run` fail.
FAKE_DOCKER = r'''#!{python}
import json, os, sys
record = {{"argv": sys.argv[1:], "env": {{k: os.environ.get(k) for k in
          ("CLUSTER_ENDPOINT", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
           "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}}}}
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps(record) + "\n")
args = sys.argv[1:]
if args[:1] == ["info"]:
    print("27.3.1")
elif args[:2] == ["image", "inspect"]:
    if os.environ.get("FAKE_DOCKER_NO_IMAGE"):
        print("Error: No such image: " + args[-1], file=sys.stderr)
        sys.exit(1)
    print("sha256:abc")
elif args[:1] == ["run"] and "cat" in args:
    print(os.environ["FAKE_DOCKER_TEMPLATE"])
elif args[:1] == ["run"]:
    if os.environ.get("CLUSTER_ENDPOINT") == os.environ.get("FAKE_DOCKER_FAIL_ENDPOINT"):
        print("unable to connect to DB: AccessDeniedException: not authorized to perform dsql:DbConnectAdmin",
              file=sys.stderr)
        sys.exit(1)
    print("UpdateSchemaTask done")
'''


# --- stand-ins ---------------------------------------------------------------------------------


class Domain:
    """An OpenSearch endpoint stand-in: records every request, keeps the indices it was asked to create."""

    def __init__(self, *, status: int | None = None) -> None:
        self.requests: list[tuple[str, str, bool, bytes]] = []
        self.indices: set[str] = set()
        self.status = status
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                signed = (self.headers.get("Authorization") or "").startswith("AWS4-HMAC-SHA256 ")
                owner.requests.append((self.command, self.path, signed, body))
                name = self.path.lstrip("/")
                if owner.status is not None:
                    code = owner.status
                elif self.command == "HEAD":
                    code = 200 if name in owner.indices else 404
                else:
                    if not name.startswith("_template/"):
                        owner.indices.add(name)
                    code = 200
                payload = b"" if self.command == "HEAD" else b'{"acknowledged":true}'
                self.send_response(code)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_HEAD = do_PUT = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def domain() -> Iterator[Domain]:
    server = Domain()
    yield server
    server.close()


@pytest.fixture
def template_file(tmp_path: Path) -> Path:
    path = tmp_path / "index_template_v7.json"
    path.write_text(json.dumps(TEMPLATE))
    return path


@pytest.fixture
def clusters(postgres_server: PostgresServer) -> dict[str, str]:
    """Two fresh databases standing in for the two DSQL clusters: endpoint -> database."""
    names = {MONITORED: f"monitored_{uuid.uuid4().hex[:8]}", COPILOT: f"copilot_{uuid.uuid4().hex[:8]}"}

    async def create() -> None:
        connection = await asyncpg.connect(postgres_server.dsn)
        try:
            for database in names.values():
                await connection.execute(f"CREATE DATABASE {database}")
        finally:
            await connection.close()

    asyncio.run(create())
    return names


def connector(server: PostgresServer, databases: dict[str, str]) -> Any:
    async def connect(endpoint: str) -> asyncpg.Pool:
        return await create_pool(host=server.host, port=server.port, user=server.user,
                                 database=databases[endpoint], password=StaticPassword(server.password),
                                 min_size=1, max_size=2)

    return connect


def tables(server: PostgresServer, database: str) -> set[str]:
    async def query() -> set[str]:
        connection = await asyncpg.connect(host=server.host, port=server.port, user=server.user,
                                           password=server.password, database=database)
        try:
            rows = await connection.fetch("SELECT table_name FROM information_schema.tables "
                                          "WHERE table_schema = 'public'")
            return {row["table_name"] for row in rows}
        finally:
            await connection.close()

    return asyncio.run(query())


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH = one directory holding only the recording docker; returns its log file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(FAKE_DOCKER.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "docker.log"
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(log))
    monkeypatch.setenv("FAKE_DOCKER_TEMPLATE", json.dumps(TEMPLATE))
    return log


def docker_calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def targets(visibility_endpoint: str | None = None) -> AwsTargets:
    return AwsTargets(region="eu-west-1", monitored_endpoint=MONITORED, copilot_endpoint=COPILOT,
                      visibility_endpoint=visibility_endpoint)


def setup(postgres_server: PostgresServer, clusters: dict[str, str], **kwargs: Any) -> AwsSchemaSetup:
    return AwsSchemaSetup(kwargs.pop("targets", None) or targets(), dialect=Dialect.POSTGRES,
                          connect=connector(postgres_server, clusters), credentials=lambda: dict(CREDENTIALS),
                          **kwargs)


# --- the step runner ---------------------------------------------------------------------------


def test_a_failing_step_is_reported_and_the_next_one_runs() -> None:
    ran: list[str] = []

    def fails() -> str:
        ran.append("fails")
        raise StepFailed("cluster unreachable", "check the endpoint")

    def crashes() -> str:
        ran.append("crashes")
        raise KeyError("surprise")

    def works() -> str:
        ran.append("works")
        return "done"

    lines: list[str] = []
    results = run_steps([Step("a", "x", fails), Step("b", "y", crashes), Step("c", "z", works)], lines.append)
    assert ran == ["fails", "crashes", "works"]
    assert [r.status for r in results] == ["FAILED", "FAILED", "ok"]
    assert results[0].detail == "cluster unreachable" and results[0].fix == "check the endpoint"
    assert "KeyError" in results[1].detail and results[1].fix
    assert lines[0] == "schema: a on x: FAILED: cluster unreachable -> fix: check the endpoint"


def test_without_docker_steps_1_2_fail_with_the_hint_and_3_to_5_still_run(
        postgres_server: PostgresServer, clusters: dict[str, str], domain: Domain, template_file: Path,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    results = setup(postgres_server, clusters, targets=targets(domain.endpoint), template_file=template_file).run()

    assert [r.status for r in results] == ["FAILED", "FAILED", "ok", "ok", "ok"]
    for result in results[:2]:
        assert "docker CLI is not on PATH" in result.detail
        assert result.fix is not None and "Install Docker" in result.fix and "copilot dev build" in result.fix
    assert [r.target for r in results[:2]] == [f"monitored ({MONITORED})", f"copilot ({COPILOT})"]
    # step 5 ran for real: the template, then both indices (deployment's and copilot's), all signed
    assert [(m, p) for m, p, _, _ in domain.requests] == [
        ("PUT", "/_template/temporal_visibility_v1_template"),
        ("HEAD", "/temporal_visibility_v1_dev"), ("PUT", "/temporal_visibility_v1_dev"),
        ("HEAD", "/temporal_visibility_v1_dev_copilot"), ("PUT", "/temporal_visibility_v1_dev_copilot"),
    ]
    assert all(signed for _, _, signed, _ in domain.requests)
    assert json.loads(domain.requests[0][3]) == TEMPLATE
    assert "index temporal_visibility_v1_dev_copilot: created" in results[4].detail


# --- steps 1 and 2: the ECS set-up task's command in the runtime image -------------------------


def test_docker_runs_schema_command_verbatim_once_per_cluster(
        postgres_server: PostgresServer, clusters: dict[str, str], fake_docker: Path) -> None:
    from pulumi_temporal_dsql.setup import SCHEMA_COMMAND

    assert schema_command() == SCHEMA_COMMAND
    results = setup(postgres_server, clusters, image="temporal-dsql-runtime:abc").run()
    assert [r.status for r in results[:2]] == ["ok", "ok"]
    runs = [call for call in docker_calls(fake_docker) if call["argv"][0] == "run"]
    assert [run["env"]["CLUSTER_ENDPOINT"] for run in runs] == [MONITORED, COPILOT]
    for run in runs:
        argv = run["argv"]
        assert argv[:5] == ["run", "--rm", "--entrypoint", "/bin/sh", "-e"]
        assert argv[-3:] == ["temporal-dsql-runtime:abc", "-c", SCHEMA_COMMAND]
        passed = {argv[i + 1] for i, part in enumerate(argv) if part == "-e"}
        assert passed == {"CLUSTER_ENDPOINT", "AWS_REGION", "AWS_DEFAULT_REGION", *CREDENTIALS}
        assert run["env"] == {"CLUSTER_ENDPOINT": run["env"]["CLUSTER_ENDPOINT"], "AWS_REGION": "eu-west-1",
                              "AWS_DEFAULT_REGION": "eu-west-1", **CREDENTIALS}
        # secrets travel in the environment, never on the command line
        assert not any(value in " ".join(argv) for value in CREDENTIALS.values())
    inspected = [call["argv"] for call in docker_calls(fake_docker) if call["argv"][:2] == ["image", "inspect"]]
    assert inspected and all(argv[-1] == "temporal-dsql-runtime:abc" for argv in inspected)


def test_a_failing_schema_run_names_the_cause_and_the_other_cluster_still_runs(
        postgres_server: PostgresServer, clusters: dict[str, str], fake_docker: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_DOCKER_FAIL_ENDPOINT", MONITORED)
    results = setup(postgres_server, clusters).run()
    assert [r.status for r in results[:2]] == ["FAILED", "ok"]
    assert "temporal-sql-tool exited 1" in results[0].detail and "AccessDeniedException" in results[0].detail
    assert results[0].fix is not None and "dsql:DbConnectAdmin" in results[0].fix
    assert "DEV_DEVELOPER_POLICY_ARN" in results[0].fix


def test_a_missing_runtime_image_says_to_build_it(postgres_server: PostgresServer, clusters: dict[str, str],
                                                  fake_docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_DOCKER_NO_IMAGE", "1")
    results = setup(postgres_server, clusters).run()
    assert [r.status for r in results[:2]] == ["FAILED", "FAILED"]
    assert f"the image {RUNTIME_IMAGE} is not present locally" in results[0].detail
    assert results[0].fix is not None and "copilot dev build" in results[0].fix
    assert not any(call["argv"][0] == "run" for call in docker_calls(fake_docker))


# --- steps 3 and 4: each store's DDL on its own cluster -----------------------------------------


def test_store_schemas_land_on_their_own_clusters_and_reapply_cleanly(
        postgres_server: PostgresServer, clusters: dict[str, str], fake_docker: Path) -> None:
    from temporal_dsql_copilot.store.schema import _TABLE_DDL

    copilot_tables = {re.search(r"CREATE TABLE IF NOT EXISTS (\w+)", ddl).group(1)  # type: ignore[union-attr]
                      for ddl in _TABLE_DDL}
    for _ in range(2):  # idempotent: a second run changes nothing and still succeeds
        results = setup(postgres_server, clusters).run()
        assert [(r.step, r.status) for r in results[2:4]] == [("copilot application schema", "ok"),
                                                              ("profile store schema", "ok")]
        assert results[2].target == f"copilot ({COPILOT})" and results[3].target == f"monitored ({MONITORED})"
    on_copilot, on_monitored = tables(postgres_server, clusters[COPILOT]), tables(postgres_server, clusters[MONITORED])
    assert copilot_tables <= on_copilot and not copilot_tables & on_monitored
    assert "behaviour_profiles" in on_monitored and "behaviour_profiles" not in on_copilot


def test_an_unreachable_cluster_fails_its_step_only(postgres_server: PostgresServer, clusters: dict[str, str],
                                                    fake_docker: Path) -> None:
    async def refuse(endpoint: str) -> asyncpg.Pool:
        if endpoint == COPILOT:
            raise ConnectionRefusedError(111, "Connection refused")
        return await connector(postgres_server, clusters)(endpoint)

    results = AwsSchemaSetup(targets(), dialect=Dialect.POSTGRES, connect=refuse,
                             credentials=lambda: dict(CREDENTIALS)).run()
    assert [r.status for r in results[2:4]] == ["FAILED", "ok"]
    assert f"cannot reach {COPILOT}:5432" in results[2].detail
    assert results[2].fix is not None and "copilot dev infra apply" in results[2].fix


# --- step 5: visibility ------------------------------------------------------------------------


def test_visibility_without_an_endpoint_is_skipped_not_failed(postgres_server: PostgresServer,
                                                              clusters: dict[str, str], fake_docker: Path) -> None:
    result = setup(postgres_server, clusters).run()[4]
    assert result.status == "skipped" and not result.failed
    assert "no OpenSearch domain" in result.detail
    assert result.fix is not None and "--visibility-endpoint" in result.fix


def test_visibility_template_is_read_from_the_admin_tools_image(
        postgres_server: PostgresServer, clusters: dict[str, str], fake_docker: Path, domain: Domain) -> None:
    from pulumi_temporal_dsql.images import DEFAULT_ADMIN_TOOLS_IMAGE

    result = setup(postgres_server, clusters, targets=targets(domain.endpoint)).run()[4]
    assert result.status == "ok", result
    cat = [call["argv"] for call in docker_calls(fake_docker) if "cat" in call["argv"]]
    assert cat == [["run", "--rm", "--entrypoint", "cat", DEFAULT_ADMIN_TOOLS_IMAGE,
                    "/etc/temporal/schema/elasticsearch/visibility/index_template_v7.json"]]
    assert json.loads(domain.requests[0][3]) == TEMPLATE


def test_a_refused_visibility_request_names_the_permission(
        postgres_server: PostgresServer, clusters: dict[str, str], template_file: Path, fake_docker: Path) -> None:
    forbidden = Domain(status=403)
    try:
        result = setup(postgres_server, clusters, targets=targets(forbidden.endpoint),
                       template_file=template_file).run()[4]
    finally:
        forbidden.close()
    assert result.status == "FAILED"
    assert "HTTP 403" in result.detail
    assert result.fix is not None and "es:ESHttp" in result.fix


# --- the .env and the command ------------------------------------------------------------------


def test_targets_come_from_the_env_infra_apply_writes(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"# written by `copilot dev infra apply`\nAWS_REGION=eu-west-1\nTEMPORAL_SQL_HOST={MONITORED}\n"
                        f"CLUSTER_ENDPOINT={MONITORED}\nexport COPILOT_DSQL_ENDPOINT='{COPILOT}'\n")
    parsed = AwsTargets.from_env(read_env_file(env_file), visibility_endpoint="https://vpc-x.es.amazonaws.com")
    assert parsed == AwsTargets(region="eu-west-1", monitored_endpoint=MONITORED, copilot_endpoint=COPILOT,
                                visibility_endpoint="https://vpc-x.es.amazonaws.com")
    assert parsed.visibility_indices == ["temporal_visibility_v1_dev", "temporal_visibility_v1_dev_copilot"]
    with pytest.raises(DevStackError) as caught:
        AwsTargets.from_env({"AWS_REGION": "eu-west-1"})
    assert "monitored_endpoint (CLUSTER_ENDPOINT or TEMPORAL_SQL_HOST)" in str(caught.value)
    assert "copilot_endpoint (COPILOT_DSQL_ENDPOINT)" in str(caught.value)
    assert "copilot dev infra apply" in str(caught.value)
    with pytest.raises(DevStackError, match=r"no dev \.env"):
        read_env_file(tmp_path / "missing.env")


def test_cli_reports_every_step_in_a_table_and_exits_non_zero(
        domain: Domain, template_file: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env_file = tmp_path / ".env"
    # `.invalid` never resolves: steps 3-4 fail on the connection, with credentials that sign fine locally
    env_file.write_text("AWS_REGION=eu-west-1\nCLUSTER_ENDPOINT=monitored.invalid\n"
                        "COPILOT_DSQL_ENDPOINT=copilot.invalid\n")
    result = subprocess.run(
        [sys.executable, "-m", "temporal_dsql_devstack", "schema", "setup", "--aws", "--env-file", str(env_file),
         "--template-file", str(template_file), "--visibility-endpoint", domain.endpoint],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "PATH": str(empty), "COLUMNS": "300", **CREDENTIALS},
    )
    assert result.returncode == 4, result.stdout + result.stderr  # failed steps: the shared table's 4
    out = result.stdout
    assert "schema set-up" in out
    rows = [line for line in out.splitlines() if re.match(r"^\W*[1-5]\s", line)]
    assert [("FAILED" in row, " ok " in row) for row in rows] == [(True, False)] * 4 + [(False, True)]
    assert "Install Docker" in out and "cannot reach copilot.invalid:5432" in out
    assert len(domain.requests) == 5


def test_schema_modules_import_no_pulumi() -> None:
    code = ("import sys, temporal_dsql_devstack.schema, temporal_dsql_devstack.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('pulumi')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"
