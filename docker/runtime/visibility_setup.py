#!/usr/bin/env python3
"""Create Temporal's visibility index template and indices on an OpenSearch domain with IAM auth.

Temporal's own set-up (auto-setup / admin-tools) PUTs the index template that ships in the
schema directory and then creates each visibility index; without them the server's visibility
writes fail. The pinned admin-tools image has the template (/etc/temporal/schema/...) and python3,
but neither a SigV4-capable tool nor boto3, so this program is standard-library only: it signs
every request with SigV4 (service `es`) using the task role's credentials from the ECS container
credentials endpoint (or AWS_ACCESS_KEY_ID/... when set). The components run it in a one-off
set-up task (its source is passed in the task's env; see pulumi_temporal_dsql.setup).

Steps, each idempotent:
  1. PUT /_template/<name> with the template file's content (replaces the same template);
  2. for each index: HEAD /<index>; when absent, PUT /<index> (a concurrent creation's
     `resource_already_exists_exception` counts as success).
Exit status 0 when every step succeeded, 1 otherwise (the message names the step, the HTTP status
and the response). Connection failures are retried (a new domain's DNS can lag).

Environment:
  VISIBILITY_ENDPOINT     https://<domain endpoint> (required)
  VISIBILITY_INDICES      comma-separated index names (required)
  AWS_REGION              the domain's region (required)
  VISIBILITY_TEMPLATE_FILE  default /etc/temporal/schema/elasticsearch/visibility/index_template_v7.json
  VISIBILITY_TEMPLATE_NAME  default temporal_visibility_v1_template
  VISIBILITY_ATTEMPTS / VISIBILITY_BACKOFF  retries of unreachable endpoints (default 30 / 10 s)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_TEMPLATE_FILE = "/etc/temporal/schema/elasticsearch/visibility/index_template_v7.json"
DEFAULT_TEMPLATE_NAME = "temporal_visibility_v1_template"
ECS_CREDENTIALS_HOST = "http://169.254.170.2"
SERVICE = "es"


class SetupError(Exception):
    """A step failed; the message names it and says what to check."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def sign(method: str, url: str, headers: Mapping[str, str], body: bytes, *, credentials: Credentials,
         region: str, amz_date: str, service: str = SERVICE) -> dict[str, str]:
    """The headers to send: `headers` plus host, X-Amz-Date, X-Amz-Security-Token and Authorization
    (AWS Signature Version 4, every header signed, as botocore's SigV4Auth does)."""
    parts = urllib.parse.urlsplit(url)
    out = {**headers, "X-Amz-Date": amz_date}
    if credentials.token:
        out["X-Amz-Security-Token"] = credentials.token
    host = parts.hostname or ""
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    if parts.port and parts.port != default_port:
        host = f"{host}:{parts.port}"
    signed = {"host": host, **{name.lower(): " ".join(value.split()) for name, value in out.items()}}
    names = sorted(signed)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    canonical_query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(query)
    )
    canonical = "\n".join([
        method,
        urllib.parse.quote(parts.path or "/", safe="/~"),
        canonical_query,
        "".join(f"{name}:{signed[name]}\n" for name in names),
        ";".join(names),
        _sha256(body),
    ])
    day = amz_date[:8]
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256(canonical.encode())])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{credentials.secret_key}".encode(), day), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
                            f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return out


def credentials_from_env(env: Mapping[str, str], fetch: Callable[[str, Mapping[str, str]], bytes]) -> Credentials:
    """Static credentials from the env, else the ECS container credentials endpoint (the task role)."""
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN") or None)
    relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if not relative and not full:
        raise SetupError("no AWS credentials: neither AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY nor the ECS "
                         "credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) is set; run this in an "
                         "ECS task with a task role, or export credentials")
    url = f"{env.get('ECS_CREDENTIALS_HOST', ECS_CREDENTIALS_HOST)}{relative}" if relative else str(full)
    headers = {"Authorization": env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]} if env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN") else {}
    try:
        document = json.loads(fetch(url, headers))
        return Credentials(document["AccessKeyId"], document["SecretAccessKey"], document.get("Token"))
    except (OSError, ValueError, KeyError) as exc:
        raise SetupError(f"cannot read the task role's credentials from {url}: {exc}") from exc


def _fetch(url: str, headers: Mapping[str, str]) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, headers=dict(headers)), timeout=5) as response:
        return bytes(response.read())


@dataclass
class Client:
    endpoint: str
    region: str
    credentials: Credentials
    attempts: int = 30
    backoff: float = 10.0

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        url = f"{self.endpoint.rstrip('/')}{path}"
        headers = {"Content-Type": "application/json"} if body else {}
        for attempt in range(1, self.attempts + 1):
            amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            signed = sign(method, url, headers, body, credentials=self.credentials, region=self.region,
                          amz_date=amz_date)
            request = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None,
                                             headers=signed, method=method)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return int(response.status), bytes(response.read())
            except urllib.error.HTTPError as exc:
                return int(exc.code), bytes(exc.read() or b"")
            except OSError as exc:  # unreachable (DNS, connection refused, timeout): retry
                if attempt == self.attempts:
                    raise SetupError(f"{method} {url}: unreachable after {attempt} attempts: {exc}; check the "
                                     "task's subnets and security group reach the domain on 443") from exc
                time.sleep(self.backoff)
        raise AssertionError("unreachable")


def _fail(step: str, status: int, body: bytes) -> SetupError:
    hint = " (403: the task role needs es:ESHttp* on this domain)" if status == 403 else ""
    return SetupError(f"{step} failed: HTTP {status}{hint}: {body[:500].decode(errors='replace')}")


def run(env: Mapping[str, str], *, fetch: Callable[[str, Mapping[str, str]], bytes] = _fetch,
        out: Any = sys.stdout) -> None:
    missing = [name for name in ("VISIBILITY_ENDPOINT", "VISIBILITY_INDICES", "AWS_REGION") if not env.get(name)]
    if missing:
        raise SetupError(f"missing required variable(s): {', '.join(missing)}")
    indices = [i.strip() for i in env["VISIBILITY_INDICES"].split(",") if i.strip()]
    template_file = env.get("VISIBILITY_TEMPLATE_FILE", DEFAULT_TEMPLATE_FILE)
    template_name = env.get("VISIBILITY_TEMPLATE_NAME", DEFAULT_TEMPLATE_NAME)
    try:
        with open(template_file, "rb") as handle:
            template = handle.read()
        json.loads(template)
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot read the index template {template_file}: {exc}; set VISIBILITY_TEMPLATE_FILE "
                         "to the admin-tools image's schema/elasticsearch/visibility/index_template_v7.json") from exc
    client = Client(env["VISIBILITY_ENDPOINT"], env["AWS_REGION"], credentials_from_env(env, fetch),
                    attempts=int(env.get("VISIBILITY_ATTEMPTS", "30")), backoff=float(env.get("VISIBILITY_BACKOFF", "10")))
    status, body = client.request("PUT", f"/_template/{urllib.parse.quote(template_name)}", template)
    if status not in (200, 201):
        raise _fail(f"PUT index template {template_name}", status, body)
    print(f"index template {template_name}: applied", file=out)
    for index in indices:
        path = f"/{urllib.parse.quote(index)}"
        status, body = client.request("HEAD", path)
        if status == 200:
            print(f"index {index}: exists", file=out)
            continue
        if status != 404:
            raise _fail(f"HEAD index {index}", status, body)
        status, body = client.request("PUT", path)
        if status in (200, 201) or (status == 400 and b"resource_already_exists_exception" in body):
            print(f"index {index}: created", file=out)
            continue
        raise _fail(f"PUT index {index}", status, body)


def main() -> int:
    try:
        run(os.environ)
    except SetupError as exc:
        print(f"visibility set-up: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
