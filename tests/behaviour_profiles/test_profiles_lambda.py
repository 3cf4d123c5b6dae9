"""The Lambda handler in its own process: import closure, Function URL v2 events, CORS, token auth.

Each case runs in a subprocess, which also sidesteps Mangum's get_event_loop() gotcha after
pytest-asyncio tests (toolchain notes, Part 1 section 4).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from temporal_dsql_profiles.settings import ProfileSettings

ROOT = Path(__file__).resolve().parents[2]
HANDLER_DIR = ROOT / "lambdas" / "profile_api"

_RUNNER = """
import json, sys
sys.path.insert(0, {handler_dir!r})
import handler
events = json.load(sys.stdin)
out = {{"modules": sorted({{m.split(".")[0] for m in sys.modules}}), "responses": []}}
for event in events:
    out["responses"].append(handler.handler(event, None))
print(json.dumps(out))
"""


def _event(method: str, path: str, *, query: str = "", body: Any = None, headers: dict[str, str] | None = None,
           b64: bool = False) -> dict[str, Any]:
    raw = json.dumps(body) if body is not None else None
    if raw is not None and b64:
        raw = base64.b64encode(raw.encode()).decode()
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "content-type": "application/json",
                    **(headers or {})},
        "requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws",
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                                    "userAgent": "grafana"},
                           "requestId": "id", "routeKey": "$default", "stage": "$default", "time": "22/Nov/2026:13:00:00 +0000",
                           "timeEpoch": 1795352400000},
        "body": raw, "isBase64Encoded": b64,
    }


def _run(settings: ProfileSettings, events: list[dict[str, Any]], **extra_env: str) -> dict[str, Any]:
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "PROFILES_BUCKET": settings.bucket,
           "PROFILES_S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
           "PROFILES_DATABASE_DSN": settings.database_dsn.get_secret_value() if settings.database_dsn else "",
           "PROFILES_AMP_QUERY_URL": settings.amp_query_url, "PROFILES_ALLOWED_ORIGINS": "http://grafana.local",
           "PROFILES_CLUSTER_ID": "lambda-cluster", **extra_env}
    result = subprocess.run([sys.executable, "-c", _RUNNER.format(handler_dir=str(HANDLER_DIR))],
                            input=json.dumps(events), capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_import_closure_has_no_temporalio_pydantic_ai_or_pulumi(profile_settings: ProfileSettings) -> None:
    modules = set(_run(profile_settings, [])["modules"])
    assert not modules & {"temporalio", "pydantic_ai", "pulumi", "pulumi_aws"}
    # Heavy clients are imported on first use, not at cold start; so are the config compiler (the
    # loop endpoints compile per request) and httpx (which pulls rich and click in with it).
    assert not modules & {"boto3", "botocore", "asyncpg", "httpx", "rich", "temporal_dsql_config"}


def test_function_url_events_create_list_and_preflight(profile_settings: ProfileSettings,
                                                       scenario_windows: dict) -> None:
    start, end = scenario_windows["healthy-150wps"]
    create = {"name": "from-lambda", "time_window_start": start.timestamp() * 1000,
              "time_window_end": end.timestamp() * 1000, "label": "lambda"}
    out = _run(profile_settings, [
        _event("POST", "/profiles/", body=create, headers={"origin": "http://grafana.local"}, b64=True),
        _event("GET", "/profiles/", query="cluster=lambda-cluster&label=lambda"),
        _event("OPTIONS", "/profiles/", headers={"origin": "http://grafana.local",
                                                 "access-control-request-method": "POST"}),
        _event("POST", "/profiles/", body={"name": "x", "time_window_start": start.timestamp() * 1000 - 25 * 3600 * 1000,
                                           "time_window_end": start.timestamp() * 1000}),
    ])
    created, listed, preflight, too_long = out["responses"]
    assert created["statusCode"] == 201, created
    assert created["headers"]["access-control-allow-origin"] == "http://grafana.local"
    meta = json.loads(created["body"])
    assert meta["cluster_id"] == "lambda-cluster"
    assert listed["statusCode"] == 200 and meta["id"] in [m["id"] for m in json.loads(listed["body"])["items"]]
    assert preflight["statusCode"] == 200 and "POST" in preflight["headers"]["access-control-allow-methods"]
    assert too_long["statusCode"] == 400 and too_long["headers"]["content-type"] == "application/problem+json"
    assert "24 hours" in json.loads(too_long["body"])["detail"]


def test_token_mode_reads_the_token_from_secrets_manager(profile_settings: ProfileSettings, moto_server: Any) -> None:
    import boto3

    sm = boto3.client("secretsmanager", endpoint_url=moto_server.endpoint_url, region_name="us-east-1")
    arn = sm.create_secret(Name=f"profile-api-token-{id(sm)}", SecretString="tok-123")["ARN"]
    out = _run(profile_settings, [
        _event("GET", "/profiles/"),
        _event("GET", "/profiles/", headers={"authorization": "Bearer wrong"}),
        _event("GET", "/profiles/", headers={"authorization": "Bearer tok-123"}),
    ], PROFILES_AUTH_MODE="token", PROFILES_AUTH_TOKEN_SECRET_ARN=arn,
        PROFILES_SECRETSMANAGER_ENDPOINT_URL=moto_server.endpoint_url)
    assert [r["statusCode"] for r in out["responses"]] == [401, 401, 200]


_CLOSURE_RUNNER = """
import json, sys
sys.path.insert(0, {handler_dir!r})
import handler
cold = sorted(sys.modules)
events = json.load(sys.stdin)
statuses = [handler.handler(event, None)["statusCode"] for event in events]
print(json.dumps({{"cold": cold, "after": sorted(sys.modules), "statuses": statuses}}))
"""

# What the cold import may load of the project: the app factory, its settings, the problem
# handlers and the auth dependency. Every router, model and client comes with its first request.
_COLD_PROJECT_MODULES = {
    "temporal_dsql_profiles", "temporal_dsql_profiles.errors", "temporal_dsql_profiles.problems", "temporal_dsql_profiles.settings",
    "temporal_dsql_copilot", "temporal_dsql_copilot.api", "temporal_dsql_copilot.api.app", "temporal_dsql_copilot.api.guard", "temporal_dsql_core", "temporal_dsql_core.errors",
}
_PROJECT = ("temporal_dsql_profiles", "temporal_dsql_copilot", "temporal_dsql_core", "temporal_dsql_config", "temporal_dsql_standins")
# Third-party packages the cold import must not load: clients (first use), the time library and
# pydantic.v1 (FastAPI imports it to vet each response model it builds, 0.1 s where it exists).
_NOT_AT_COLD_START = {"boto3", "botocore", "asyncpg", "httpx", "whenever", "yaml", "packaging", "rich",
                      "temporalio", "pydantic_ai", "pulumi", "pulumi_aws", "pydantic.v1"}


def _closure(events: list[dict[str, Any]]) -> dict[str, Any]:
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "PROFILES_DATABASE_DSN": "postgresql://nobody@127.0.0.1:1/none"}
    result = subprocess.run([sys.executable, "-c", _CLOSURE_RUNNER.format(handler_dir=str(HANDLER_DIR))],
                            input=json.dumps(events), capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _loaded(modules: list[str], names: set[str]) -> set[str]:
    return {m for m in modules if m in names or any(m.startswith(n + ".") for n in names)}


def test_cold_import_closure_holds_only_what_every_request_needs() -> None:
    """Fails when an import at module level drags a router, a model module or a client back onto
    the Lambda's cold path (a structural check, not a timed one: speed lives in benchmarks/)."""
    out = _closure([_event("POST", "/profiles/compare", body={})])
    project = {m for m in out["cold"] if m.split(".")[0] in _PROJECT}
    assert project == _COLD_PROJECT_MODULES, f"grew: {sorted(project - _COLD_PROJECT_MODULES)}"
    assert not _loaded(out["cold"], _NOT_AT_COLD_START)
    # The first /profiles request mounts the profiles router only: the status and loop routers
    # (the copilot's models, the config compiler) stay out, and no client connects for a 422.
    assert out["statuses"] == [422]
    after = set(out["after"])
    assert "temporal_dsql_profiles.api" in after
    assert not _loaded(out["after"], {"temporal_dsql_copilot.status", "temporal_dsql_copilot.loop", "temporal_dsql_copilot.store", "temporal_dsql_config",
                                      "boto3", "botocore", "asyncpg"})


def test_first_status_request_mounts_the_status_router_only() -> None:
    out = _closure([_event("POST", "/actions", body={})])
    assert out["statuses"] == [501]
    assert "temporal_dsql_copilot.status.router" in out["after"]
    assert not _loaded(out["after"], {"temporal_dsql_profiles.api", "temporal_dsql_copilot.status.loop_router", "temporal_dsql_config"})
