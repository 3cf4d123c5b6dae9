"""docker/runtime/visibility_setup.py: the visibility index template and indices, SigV4-signed.

The signer is checked against botocore's SigV4 for fixed requests; the flow runs for real against a
local HTTP server standing in for the OpenSearch domain and the ECS credentials endpoint, which
records every request (and checks each signature with botocore).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from temporal_dsql_standins import free_port

CREDS = {"AccessKeyId": "ASIATESTTESTTEST", "SecretAccessKey": "c2VjcmV0/c2VjcmV0+c2VjcmV0", "Token": "tok/en+=="}
TEMPLATE = {"index_patterns": ["temporal_visibility_v1*"], "order": 0,
            "mappings": {"dynamic": "false", "properties": {"WorkflowId": {"type": "keyword"}}}}


@pytest.fixture(scope="module")
def setup_program(visibility_setup: ModuleType) -> ModuleType:
    return visibility_setup


def botocore_authorization(method: str, url: str, headers: dict[str, str], body: bytes, amz_date: str,
                           token: str | None, region: str = "eu-west-1") -> str:
    """botocore's SigV4 (service es) of the same request at the same instant."""
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    auth = SigV4Auth(BotoCredentials(CREDS["AccessKeyId"], CREDS["SecretAccessKey"], token), "es", region)
    request.context["timestamp"] = amz_date
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    request.context["timestamp"] = amz_date
    return f"AWS4-HMAC-SHA256 Credential={CREDS['AccessKeyId']}/{auth.credential_scope(request)}, " \
           f"SignedHeaders={auth.signed_headers(auth.headers_to_sign(request))}, Signature={signature}"


@pytest.mark.parametrize(("method", "url", "body", "token"), [
    ("PUT", "https://vpc-t-abc.eu-west-1.es.amazonaws.com/_template/temporal_visibility_v1_template",
     json.dumps(TEMPLATE).encode(), CREDS["Token"]),
    ("HEAD", "https://vpc-t-abc.eu-west-1.es.amazonaws.com/temporal_visibility_v1_prod", b"", CREDS["Token"]),
    ("PUT", "http://127.0.0.1:9200/temporal_visibility_v1_prod_copilot?wait_for_active_shards=1", b"", None),
])
def test_signature_equals_botocores(setup_program: ModuleType, method: str, url: str, body: bytes,
                                    token: str | None) -> None:
    headers = {"Content-Type": "application/json"} if body else {}
    amz_date = "20261122T170000Z"
    credentials = setup_program.Credentials(CREDS["AccessKeyId"], CREDS["SecretAccessKey"], token)
    signed = setup_program.sign(method, url, headers, body, credentials=credentials, region="eu-west-1",
                                amz_date=amz_date)
    assert signed["Authorization"] == botocore_authorization(method, url, headers, body, amz_date, token)
    assert signed["X-Amz-Date"] == amz_date
    assert signed.get("X-Amz-Security-Token") == token


class Domain:
    """OpenSearch + ECS credentials endpoint stand-in: records requests, verifies signatures."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.indices: set[str] = {"temporal_visibility_v1_existing"}
        self.template_status = 200
        self.port = free_port()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path == "/v2/credentials/abc":
                    self._answer(200, json.dumps(CREDS).encode())
                    return
                url = f"http://127.0.0.1:{owner.port}{self.path}"
                signed_names = self.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
                headers = {n: self.headers[n] for n in signed_names if n != "host"}
                region = self.headers["Authorization"].split("Credential=")[1].split("/")[2]
                expected = botocore_authorization(self.command, url, headers, body, self.headers["X-Amz-Date"],
                                                  self.headers.get("X-Amz-Security-Token"), region)
                owner.requests.append({"method": self.command, "path": self.path, "body": body,
                                       "signature_ok": expected == self.headers["Authorization"],
                                       "token": self.headers.get("X-Amz-Security-Token")})
                name = self.path.lstrip("/")
                if self.path.startswith("/_template/"):
                    self._answer(owner.template_status, b'{"acknowledged":true}' if owner.template_status == 200
                                 else b'{"message":"no permissions for [indices:admin/template/put]"}')
                elif self.command == "HEAD":
                    self._answer(200 if name in owner.indices else 404)
                elif self.command == "PUT":
                    owner.indices.add(name)
                    self._answer(200, b'{"acknowledged":true}')
                else:
                    self._answer(405)

            do_GET = do_PUT = do_HEAD = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def domain() -> Iterator[Domain]:
    server = Domain()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _env(domain: Domain, template: Path) -> dict[str, str]:
    return {
        "VISIBILITY_ENDPOINT": f"http://127.0.0.1:{domain.port}",
        "VISIBILITY_INDICES": "temporal_visibility_v1_prod,temporal_visibility_v1_existing",
        "AWS_REGION": "eu-west-1",
        "VISIBILITY_TEMPLATE_FILE": str(template),
        # The ECS agent's variables: credentials come from the task role's endpoint.
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
        "ECS_CREDENTIALS_HOST": f"http://127.0.0.1:{domain.port}",
        "VISIBILITY_ATTEMPTS": "2", "VISIBILITY_BACKOFF": "0",
    }


def test_template_then_missing_indices_signed_with_the_task_role(setup_program: ModuleType, domain: Domain,
                                                                  tmp_path: Path) -> None:
    template = tmp_path / "index_template_v7.json"
    template.write_text(json.dumps(TEMPLATE))
    out = io.StringIO()
    setup_program.run(_env(domain, template), out=out)
    assert [(r["method"], r["path"]) for r in domain.requests] == [
        ("PUT", "/_template/temporal_visibility_v1_template"),
        ("HEAD", "/temporal_visibility_v1_prod"),
        ("PUT", "/temporal_visibility_v1_prod"),
        ("HEAD", "/temporal_visibility_v1_existing"),  # exists: not created again
    ]
    assert json.loads(domain.requests[0]["body"]) == TEMPLATE
    assert all(r["signature_ok"] and r["token"] == CREDS["Token"] for r in domain.requests)
    assert "temporal_visibility_v1_prod: created" in out.getvalue()
    # Idempotent: a second run changes nothing but the template (PUT replaces it).
    domain.requests.clear()
    setup_program.run(_env(domain, template), out=io.StringIO())
    assert [r["method"] for r in domain.requests] == ["PUT", "HEAD", "HEAD"]


def test_a_refused_template_fails_with_the_status_and_a_hint(setup_program: ModuleType, domain: Domain,
                                                             tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps(TEMPLATE))
    domain.template_status = 403
    with pytest.raises(setup_program.SetupError, match=r"PUT index template .*HTTP 403.*es:ESHttp"):
        setup_program.run(_env(domain, template), out=io.StringIO())
    assert len(domain.requests) == 1  # no index is created without the template


def test_missing_settings_and_credentials_are_named(setup_program: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(setup_program.SetupError, match="VISIBILITY_ENDPOINT, VISIBILITY_INDICES"):
        setup_program.run({"AWS_REGION": "eu-west-1"})
    with pytest.raises(setup_program.SetupError, match="AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        setup_program.credentials_from_env({}, lambda url, headers: b"")
    template = tmp_path / "absent.json"
    with pytest.raises(setup_program.SetupError, match="cannot read the index template"):
        setup_program.run({"VISIBILITY_ENDPOINT": "http://127.0.0.1:1", "VISIBILITY_INDICES": "i",
                           "AWS_REGION": "eu-west-1", "VISIBILITY_TEMPLATE_FILE": str(template)})


@pytest.mark.parametrize("copilot", ["false", "true"])
def test_the_planned_setup_task_runs_the_program_as_deployed(domain: Domain, tmp_path: Path, copilot: str) -> None:
    """The component's visibility set-up task (admin-tools image) carries this program and runs it
    with its own command and env: here against the stand-in domain, with the template file mapped."""
    import os
    import subprocess
    import sys

    from pulumi_temporal_dsql.preview.plan import plan

    plan_ = plan("starter", extra_config={"copilot": copilot})
    (task,) = [t for t in plan_.by_type("aws:ecs/taskDefinition:TaskDefinition")
               if t.name == "temporal-plan-visibility-setup-task"]
    (container,) = json.loads(task.inputs["containerDefinitions"])
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert container["image"].startswith("temporalio/admin-tools:")
    program = Path(__file__).resolve().parents[2] / "docker" / "runtime" / "visibility_setup.py"
    assert env["VISIBILITY_SETUP_PROGRAM"] == program.read_text()
    assert env["VISIBILITY_ENDPOINT"].startswith("https://") and env["AWS_REGION"] == "us-east-1"
    indices = env["VISIBILITY_INDICES"].split(",")
    server_tasks = {t.name: json.loads(t.inputs["containerDefinitions"]) for t in plan_.by_type(
        "aws:ecs/taskDefinition:TaskDefinition") if t.name in ("temporal-plan-history-task",
                                                               "temporal-plan-copilot-temporal-task")}
    # Every index a Temporal server writes to is one this task creates.
    served = {e["value"] for containers in server_tasks.values() for c in containers if c["name"] == "temporal"
              for e in c["environment"] if e["name"] == "TEMPORAL_ELASTICSEARCH_INDEX"}
    assert served == set(indices) and len(indices) == (2 if copilot == "true" else 1)
    template = tmp_path / "index_template_v7.json"
    template.write_text(json.dumps(TEMPLATE))
    run_env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **env,
               "VISIBILITY_ENDPOINT": f"http://127.0.0.1:{domain.port}", "VISIBILITY_TEMPLATE_FILE": str(template),
               "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
               "ECS_CREDENTIALS_HOST": f"http://127.0.0.1:{domain.port}", "VISIBILITY_ATTEMPTS": "2"}
    assert container["entryPoint"] == ["/bin/sh", "-c"]
    command = container["command"][0].replace("python3", sys.executable)
    completed = subprocess.run(["/bin/sh", "-c", command], env=run_env, capture_output=True, text=True, timeout=60,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    created = [r["path"].lstrip("/") for r in domain.requests if r["method"] == "PUT" and not r["path"].startswith("/_")]
    assert created == indices and all(r["signature_ok"] for r in domain.requests)
