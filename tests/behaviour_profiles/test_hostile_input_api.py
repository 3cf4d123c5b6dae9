"""Issue 19 through the API (ASGI, over the PostgreSQL/moto/Prometheus stand-ins): every find of
the issue as a regression test, plus the properties it names."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import boto3
import httpx
import pytest
from pydantic import SecretStr

from temporal_dsql_copilot.api.app import create_app
from temporal_dsql_profiles import service as service_module
from temporal_dsql_profiles.limits import (
    CLUSTER_ID_MAX_BYTES,
    JSON_MAX_DEPTH,
    LABEL_MAX_BYTES,
    NAME_MAX_BYTES,
    NAMESPACE_MAX_BYTES,
    TASK_QUEUE_MAX_BYTES,
)
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_profiles.storage import ListFilters
from temporal_dsql_standins import MotoServer

pytestmark = pytest.mark.standins


def _cluster() -> str:
    return f"h-{uuid.uuid4().hex[:8]}"


def _body(window: tuple[Any, Any], **extra: object) -> dict[str, Any]:
    return {"name": "hostile", "cluster_id": _cluster(), "time_window_start": window[0].format_iso(),
            "time_window_end": window[1].format_iso(), **extra}


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth - 1):
        value = {"k": value}
    return value


# --- bounds: what is written can be read ----------------------------------------------------


async def test_property_every_field_at_its_maximum_is_stored_read_compared_and_made_the_baseline(
        api_client: httpx.AsyncClient, scenario_windows: dict) -> None:
    # Property: write limits equal read limits: a profile with every field at its maximum (4-byte
    # characters where bytes are the limit, dynamic_config at the maximum depth) can be read,
    # compared, listed by its filters and made the baseline; one level deeper is refused.
    window = scenario_windows["healthy-150wps"]
    wide = "\U0001F600"
    body = _body(window, name=wide * (NAME_MAX_BYTES // 4), label=wide * (LABEL_MAX_BYTES // 4),
                 namespace=wide * (NAMESPACE_MAX_BYTES // 4), task_queue="q" * TASK_QUEUE_MAX_BYTES,
                 worker_code_sha="a" * 64, dynamic_config={"deep": _nested(JSON_MAX_DEPTH - 1)},
                 server_env_vars={"history": {"V": "a" * 32 * 1024}})
    body["cluster_id"] = ("c" * (CLUSTER_ID_MAX_BYTES - 9)) + uuid.uuid4().hex[:9]
    created = await api_client.post("/profiles/", json=body)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    other = await api_client.post("/profiles/", json={**body, "dynamic_config": {"deep": 1}})
    assert other.status_code == 201, other.text
    got = await api_client.get(f"/profiles/{pid}")
    assert got.status_code == 200, got.text
    assert got.json()["namespace"] == body["namespace"]
    compared = await api_client.post("/profiles/compare", json={"profile_a_id": pid, "profile_b_id": other.json()["id"]})
    assert compared.status_code == 200, compared.text
    baseline = await api_client.post(f"/profiles/{pid}/baseline")
    assert baseline.status_code == 200, baseline.text
    listed = await api_client.get("/profiles/", params={"cluster": body["cluster_id"], "namespace": body["namespace"],
                                                         "label": body["label"]})
    assert listed.status_code == 200 and pid in [m["id"] for m in listed.json()["items"]]
    too_deep = await api_client.post("/profiles/", json={**body, "dynamic_config": {"deep": _nested(JSON_MAX_DEPTH)}})
    assert too_deep.status_code == 422 and too_deep.json()["field"].startswith("dynamic_config")


def _string_schemas(schema: dict[str, Any], components: dict[str, Any], path: str,
                    seen: set[str]) -> list[tuple[str, dict[str, Any]]]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _string_schemas(components[name], components, path, seen | {name})
    out: list[tuple[str, dict[str, Any]]] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            out += _string_schemas(sub, components, path, seen)
    if schema.get("type") == "string":
        out.append((path, schema))
    for name, sub in (schema.get("properties") or {}).items():
        out += _string_schemas(sub, components, f"{path}.{name}", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        out += _string_schemas(schema["additionalProperties"], components, f"{path}.*", seen)
    if isinstance(schema.get("items"), dict):
        out += _string_schemas(schema["items"], components, f"{path}[]", seen)
    return out


async def test_every_request_field_has_a_documented_maximum_in_the_openapi(api_client: httpx.AsyncClient) -> None:
    # Found: namespace (and most strings) had no maximum; 8,000 characters were accepted.
    doc = (await api_client.get("/openapi.json")).json()
    components = doc["components"]["schemas"]
    unbounded: list[str] = []
    for route, operations in doc["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                for where, schema in _string_schemas(parameter["schema"], components, parameter["name"], set()):
                    if "maxLength" not in schema and "enum" not in schema and "format" not in schema:
                        unbounded.append(f"{method.upper()} {route} {parameter['in']} {where}")
            body = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            if body is None:
                continue
            for where, schema in _string_schemas(body["schema"], components, "body", set()):
                if "maxLength" not in schema and "enum" not in schema and "format" not in schema \
                        and "pattern" not in schema:
                    unbounded.append(f"{method.upper()} {route} {where}")
            for name, model in components.items():
                for field, prop in (model.get("properties") or {}).items():
                    if name in ("CreateProfileRequest",) and field in ("dynamic_config", "server_env_vars"):
                        assert {"x-max-bytes", "x-max-entries"} <= set(_flatten_anyof(prop)), field
    assert unbounded == []


def _flatten_anyof(prop: dict[str, Any]) -> dict[str, Any]:
    merged = dict(prop)
    for sub in prop.get("anyOf", []):
        merged.update(sub)
    return merged


# --- no stall ------------------------------------------------------------------------------


async def test_the_snapshot_is_built_off_the_event_loop(api_client: httpx.AsyncClient, scenario_windows: dict,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Property: CPU-heavy per-request work (redacting every client string) leaves the event loop.
    threads: list[int] = []
    real = service_module.build_snapshot

    def recording(*args: Any) -> Any:
        threads.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(service_module, "build_snapshot", recording)
    loop_thread = threading.get_ident()
    response = await api_client.post("/profiles/", json=_body(scenario_windows["healthy-150wps"],
                                                             server_env_vars={"history": {"V": "a" * 32768}}))
    assert response.status_code == 201, response.text
    assert threads and loop_thread not in threads


# --- 0 5xx for client input ------------------------------------------------------------------


async def test_lone_surrogates_forged_cursors_and_nul_are_4xx(api_client: httpx.AsyncClient) -> None:
    # Found: each of these answered 500.
    compare = await api_client.post("/profiles/compare", content=b'{"profile_a_id": "a\\ud800b", "profile_b_id": "b"}',
                                    headers={"content-type": "application/json"})
    assert compare.status_code == 422 and compare.json()["field"] == "profile_a_id", compare.text
    for forged in ("MTB8eA", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5fDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA",
                   "x" * 5000, "%F0%9F%98%80"):
        response = await api_client.get(f"/profiles/?cursor={forged}")
        assert 400 <= response.status_code < 500, (forged, response.text)


async def test_nul_in_every_query_parameter_of_every_route_is_a_400(api_client: httpx.AsyncClient) -> None:
    # Found: GET /copilot/drift?namespace=%00 answered 500.
    doc = (await api_client.get("/openapi.json")).json()
    tried = 0
    for route, operations in doc["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                path = route.replace("{profile_id}", str(uuid.uuid4()))
                response = await api_client.request(method.upper(), f"{path}?{parameter['name']}=a%00b")
                assert response.status_code == 400, (method, route, parameter["name"], response.text)
                assert response.json()["field"] == parameter["name"]
                tried += 1
    assert tried >= 8


# --- idempotency -----------------------------------------------------------------------------


async def test_same_idempotency_key_returns_the_same_profile_and_another_body_is_422(
        api_client: httpx.AsyncClient, profile_service: ProfileService, scenario_windows: dict) -> None:
    # Found: the same create sent twice, even with an Idempotency-Key header, made two profiles.
    body = _body(scenario_windows["healthy-150wps"])
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    answers = await asyncio.gather(*(api_client.post("/profiles/", json=body, headers=key) for _ in range(4)))
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    again = await api_client.post("/profiles/", json=body, headers=key)
    assert again.status_code == 201 and again.json()["id"] == answers[0].json()["id"]
    page = await profile_service.store.list(ListFilters(cluster=body["cluster_id"]))
    assert len(page.items) == 1
    changed = await api_client.post("/profiles/", json={**body, "name": "another"}, headers=key)
    assert changed.status_code == 422 and changed.json()["field"] == "Idempotency-Key", changed.text
    assert await profile_service.store.count_rows(cluster_id=body["cluster_id"]) == 1


async def test_a_retry_finishes_a_create_whose_process_died_after_the_pending_row(
        api_client: httpx.AsyncClient, profile_service: ProfileService, profile_settings: ProfileSettings,
        scenario_windows: dict) -> None:
    # The state a SIGKILL between the pending row (key claimed) and the S3 put leaves behind:
    # the retry with the same key completes that profile instead of making a second one.
    from temporal_dsql_profiles.idempotency import IdempotentCreate, request_hash
    from temporal_dsql_profiles.models import CreateProfileRequest

    body = _body(scenario_windows["healthy-150wps"])
    key = f"k-{uuid.uuid4()}"
    first = await api_client.post("/profiles/", json=body, headers={"Idempotency-Key": key})
    pid = first.json()["id"]
    store = profile_service.store
    # Rewind it to "pending, document put": as if killed right after the put. The list keys are
    # written only by the commit that flips the row to ready, so that state has none yet.

    async def rewind(conn: Any) -> None:
        await conn.execute("UPDATE behaviour_profiles SET state = 'pending' WHERE id = $1", uuid.UUID(pid))
        await conn.execute("DELETE FROM profile_list_keys WHERE profile_id = $1", uuid.UUID(pid))

    await store._tx(rewind)
    request = CreateProfileRequest.model_validate(body)
    assert await store.idempotent_profile(IdempotentCreate(key, request_hash(request, body["cluster_id"]))) == \
        (pid, "pending")
    retried = await api_client.post("/profiles/", json=body, headers={"Idempotency-Key": key})
    assert retried.status_code == 201 and retried.json()["id"] == pid, retried.text
    assert await store.count_rows("pending", cluster_id=body["cluster_id"]) == 0
    assert await store.count_rows("ready", cluster_id=body["cluster_id"]) == 1


# --- auth, body size ------------------------------------------------------------------------


class _CountingBody:
    """A request body that records how many chunks the server pulled."""

    def __init__(self, chunks: int, size: int) -> None:
        self.chunks, self.size, self.pulled = chunks, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b" " * self.size


@pytest.fixture
async def token_app(profile_settings: ProfileSettings, profile_service: ProfileService) -> AsyncIterator[httpx.AsyncClient]:
    settings = profile_settings.model_copy(update={"auth_mode": "token", "auth_token": SecretStr("s3cret-token"),
                                                   "max_body_bytes": 64 * 1024})
    app = create_app(settings, profile_service=profile_service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client


async def test_unauthenticated_and_oversized_bodies_are_refused_before_they_are_read(
        token_app: httpx.AsyncClient) -> None:
    # Found: an unauthenticated 100 MB body was read in full before the 401.
    body = _CountingBody(chunks=1000, size=100_000)
    response = await token_app.post("/profiles/", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 401 and body.pulled == 0
    auth = {"Authorization": "Bearer s3cret-token", "content-type": "application/json"}
    declared = _CountingBody(chunks=1, size=10)
    response = await token_app.post("/profiles/", content=declared,
                                    headers={**auth, "content-length": str(10 * 1024 * 1024)})
    assert response.status_code == 413 and declared.pulled == 0, response.text
    chunked = _CountingBody(chunks=1000, size=16 * 1024)
    response = await token_app.post("/profiles/", content=chunked, headers=auth)
    assert response.status_code == 413 and chunked.pulled < 10, (response.status_code, chunked.pulled)


async def test_health_is_public_and_docs_follow_auth(profile_settings: ProfileSettings,
                                                     profile_service: ProfileService,
                                                     token_app: httpx.AsyncClient) -> None:
    # Found: in token mode /health needed the token (the image's health check failed) while
    # /docs and /openapi.json were public.
    assert (await token_app.get("/health")).status_code == 200
    assert (await token_app.get("/openapi.json")).status_code == 401
    assert (await token_app.get("/docs")).status_code == 401
    assert (await token_app.get("/openapi.json", headers={"Authorization": "Bearer s3cret-token"})).status_code == 200
    public = profile_settings.model_copy(update={"auth_mode": "token", "auth_token": SecretStr("t"),
                                                 "docs_public": True})
    app = create_app(public, profile_service=profile_service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/profiles/")).status_code == 401


async def test_an_unreadable_token_secret_is_a_503_with_retry_after_and_a_cached_failure(
        profile_settings: ProfileSettings, profile_service: ProfileService, moto_server: MotoServer) -> None:
    # Found: every request with a Bearer header answered 500 and called Secrets Manager again.
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-{uuid.uuid4().hex[:6]}"
    settings = profile_settings.model_copy(update={
        "auth_mode": "token", "auth_token_secret_arn": arn, "secretsmanager_endpoint_url": moto_server.endpoint_url,
        "secret_retry_seconds": 30})
    app = create_app(settings, profile_service=profile_service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        answers = [await client.get("/profiles/", headers={"Authorization": "Bearer x"}) for _ in range(3)]
        assert (await client.get("/health")).status_code == 200
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert 1 <= int(answer.headers["retry-after"]) <= 30
        problem = answer.json()
        assert problem["store"] == "auth_secret" and problem["correlation_id"] and arn not in answer.text
    assert app.state.token_verifier.secret_reads == 1
    # Once the secret exists (and the backoff has passed), the token works.
    boto3.client("secretsmanager", endpoint_url=moto_server.endpoint_url, region_name="us-east-1").create_secret(
        Name=arn.rsplit(":", 1)[-1], SecretString="now-readable")
    real = await _secret_arn(moto_server, arn.rsplit(":", 1)[-1])
    settings = settings.model_copy(update={"auth_token_secret_arn": real})
    app = create_app(settings, profile_service=profile_service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        assert (await client.get("/profiles/", headers={"Authorization": "Bearer now-readable"})).status_code == 200


async def _secret_arn(moto: MotoServer, name: str) -> str:
    client = boto3.client("secretsmanager", endpoint_url=moto.endpoint_url, region_name="us-east-1")
    return str(client.describe_secret(SecretId=name)["ARN"])


async def test_epoch_seconds_through_the_api_are_a_422_asking_for_milliseconds(api_client: httpx.AsyncClient) -> None:
    # Found: 1765072950 (seconds) became a 3.6 s window in 1970, stored as an empty profile.
    response = await api_client.post("/profiles/", json={"name": "s", "cluster_id": _cluster(),
                                                         "time_window_start": 1765072950,
                                                         "time_window_end": 1765076550})
    assert response.status_code == 422, response.text
    assert "milliseconds" in response.text and "ISO 8601" in response.text
