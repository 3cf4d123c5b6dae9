#!/usr/bin/env python3
"""Fetch the compiled Temporal dynamic config onto the shared volume, and keep it fresh.

The components run this in the runtime image, once as an init container (`--once`, the server
container depends on its success) and then as a sidecar (the loop) so a new compiled config
reaches running servers, which re-read the file every `dynamicConfigClient.pollInterval`.
One file, standard library + boto3, because the runtime image has no temporal-dsql package.

CLI
---
    dynconfig_refresher.py --source SOURCE --dest PATH [--once] [--interval SECONDS]
                           [--attempts N] [--backoff SECONDS] [--region REGION]
                           [--endpoint-url URL] [--max-bytes N]

    SOURCE   s3://<bucket>/<key>           e.g. s3://my-profiles/config/dynamic_config.yaml
             ssm:<parameter name>          e.g. ssm:/temporal-dsql/prod/dynamic-config
    PATH     default /etc/temporal/config/dynamicconfig/dynamicconfig.yaml
    --once   one fetch; exit 0 when the file is in place (written or unchanged), 1 when every
             attempt failed (the init container then fails and the task does not start)
    loop     (no --once) fetch every --interval seconds (default 30) until SIGTERM/SIGINT; a
             failed cycle is logged and the last good file stays in place

Every flag has an environment fallback: DYNCONFIG_SOURCE, DYNCONFIG_DEST, DYNCONFIG_INTERVAL,
DYNCONFIG_ATTEMPTS, DYNCONFIG_BACKOFF, AWS_REGION, AWS_ENDPOINT_URL.

Behaviour:
- Only rewrites on change: S3 GetObject is conditional on the last ETag (If-None-Match; 304 means
  unchanged), SSM compares the parameter version; the ETag/version is remembered in
  `<dest>.etag`, and identical bytes are never rewritten either.
- Atomic: writes `<dest dir>/.<name>.<random>`, fsyncs, then renames over the destination, so the
  server never reads a half-written file.
- Refuses a body that is empty, larger than --max-bytes, not UTF-8, or (when PyYAML is importable,
  as in the runtime image) not a YAML mapping; the previous file stays.
- Bounded retries: up to --attempts tries per cycle with exponential backoff (--backoff x 2^n).
- Logs one line per event to stderr: `dynconfig_refresher: <event> key=value ...`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

__all__ = [
    "DEFAULT_DEST",
    "FetchResult",
    "Refresher",
    "RefresherError",
    "Source",
    "main",
    "parse_source",
    "write_atomically",
]

DEFAULT_DEST = "/etc/temporal/config/dynamicconfig/dynamicconfig.yaml"
DEFAULT_MAX_BYTES = 1_000_000


class RefresherError(ValueError):
    """Bad configuration or a body that must not be installed; names the field and a suggestion."""

    def __init__(self, message: str, *, field: str | None = None, suggestion: str | None = None) -> None:
        self.message = message
        self.field = field
        self.suggestion = suggestion
        super().__init__(message + (f" {suggestion}" if suggestion else ""))


@dataclass(frozen=True)
class Source:
    kind: str  # "s3" or "ssm"
    location: str  # bucket for s3, parameter name for ssm
    key: str = ""

    def __str__(self) -> str:
        return f"s3://{self.location}/{self.key}" if self.kind == "s3" else f"ssm:{self.location}"


def parse_source(text: str) -> Source:
    text = (text or "").strip()
    if text.startswith("s3://"):
        bucket, _, key = text[len("s3://"):].partition("/")
        if bucket and key:
            return Source("s3", bucket, key)
    elif text.startswith("ssm:") and len(text) > len("ssm:"):
        return Source("ssm", text[len("ssm:"):])
    raise RefresherError(f"source {text!r} is not s3://<bucket>/<key> or ssm:<parameter name>",
                         field="source", suggestion="e.g. s3://my-profiles/config/dynamic_config.yaml")


@dataclass(frozen=True)
class FetchResult:
    changed: bool
    body: bytes | None
    etag: str


def log(event: str, **fields: object) -> None:
    details = " ".join(f"{key}={value}" for key, value in fields.items())
    print(f"dynconfig_refresher: {event} {details}".rstrip(), file=sys.stderr, flush=True)


def write_atomically(path: Path, body: bytes) -> None:
    """Temp file in the same directory, fsync, rename: readers see the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_body(body: bytes, *, max_bytes: int) -> None:
    if not body.strip():
        raise RefresherError("fetched dynamic config is empty", field="body",
                             suggestion="Publish at least '{}' for an empty dynamic config.")
    if len(body) > max_bytes:
        raise RefresherError(f"fetched dynamic config is {len(body)} bytes, over --max-bytes {max_bytes}",
                             field="body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RefresherError(f"fetched dynamic config is not UTF-8: {exc}", field="body") from exc
    try:
        import yaml  # present in the runtime image; optional elsewhere
    except ImportError:
        return
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RefresherError(f"fetched dynamic config is not valid YAML: {exc}", field="body") from exc
    if not isinstance(document, dict):
        raise RefresherError("fetched dynamic config is not a YAML mapping of key -> [ {value, constraints} ]",
                             field="body")


class Refresher:
    """One source, one destination; `refresh_once` is one bounded-retry cycle."""

    def __init__(self, source: Source, dest: Path, *, region: str | None = None,
                 endpoint_url: str | None = None, attempts: int = 5, backoff: float = 1.0,
                 max_bytes: int = DEFAULT_MAX_BYTES, stop_event: threading.Event | None = None) -> None:
        if attempts < 1:
            raise RefresherError("attempts must be at least 1", field="attempts")
        self.source = source
        self.dest = dest
        self.attempts = attempts
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.stop_event = stop_event or threading.Event()
        self._client: Any = boto3.client(source.kind, region_name=region, endpoint_url=endpoint_url)

    @property
    def etag_file(self) -> Path:
        return self.dest.with_name(self.dest.name + ".etag")

    def known_etag(self) -> str | None:
        if not self.dest.exists() or not self.etag_file.exists():
            return None
        return self.etag_file.read_text(encoding="utf-8").strip() or None

    def fetch(self, etag: str | None) -> FetchResult:
        if self.source.kind == "s3":
            request: dict[str, Any] = {"Bucket": self.source.location, "Key": self.source.key}
            if etag:
                request["IfNoneMatch"] = etag
            try:
                response = self._client.get_object(**request)
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if etag and (status == 304 or exc.response.get("Error", {}).get("Code") in ("304", "NotModified")):
                    return FetchResult(changed=False, body=None, etag=etag)
                raise
            return FetchResult(changed=True, body=response["Body"].read(), etag=str(response["ETag"]))
        parameter = self._client.get_parameter(Name=self.source.location, WithDecryption=True)["Parameter"]
        version = f"ssm-v{parameter['Version']}"
        if etag == version:
            return FetchResult(changed=False, body=None, etag=version)
        return FetchResult(changed=True, body=str(parameter["Value"]).encode("utf-8"), etag=version)

    def refresh_once(self) -> bool:
        """True when the destination holds the source's current content (written or unchanged)."""
        for attempt in range(1, self.attempts + 1):
            try:
                result = self.fetch(self.known_etag())
                if not result.changed:
                    log("unchanged", source=self.source, etag=result.etag)
                    return True
                assert result.body is not None
                check_body(result.body, max_bytes=self.max_bytes)
                if self.dest.exists() and self.dest.read_bytes() == result.body:
                    log("unchanged", source=self.source, etag=result.etag, reason="same-bytes")
                else:
                    write_atomically(self.dest, result.body)
                    log("wrote", source=self.source, dest=self.dest, bytes=len(result.body), etag=result.etag)
                write_atomically(self.etag_file, result.etag.encode("utf-8"))
                return True
            except RefresherError as exc:
                log("rejected", source=self.source, error=exc)
                return False  # retrying cannot fix a bad body; keep the previous file
            except (ClientError, BotoCoreError, OSError) as exc:
                log("fetch-failed", source=self.source, attempt=f"{attempt}/{self.attempts}",
                    error=f"{type(exc).__name__}: {exc}")
                if attempt < self.attempts and self.stop_event.wait(self.backoff * 2 ** (attempt - 1)):
                    return False
        log("gave-up", source=self.source, attempts=self.attempts)
        return False

    def run(self, interval: float) -> None:
        """Refresh every `interval` seconds until the stop event is set."""
        while not self.stop_event.is_set():
            self.refresh_once()
            self.stop_event.wait(interval)
        log("stopped", source=self.source)


def main(argv: Sequence[str] | None = None) -> int:
    env = os.environ
    parser = argparse.ArgumentParser(prog="dynconfig_refresher.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=env.get("DYNCONFIG_SOURCE"))
    parser.add_argument("--dest", default=env.get("DYNCONFIG_DEST", DEFAULT_DEST))
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--interval", type=float, default=float(env.get("DYNCONFIG_INTERVAL", "30")))
    parser.add_argument("--attempts", type=int, default=int(env.get("DYNCONFIG_ATTEMPTS", "5")))
    parser.add_argument("--backoff", type=float, default=float(env.get("DYNCONFIG_BACKOFF", "1.0")))
    parser.add_argument("--region", default=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--endpoint-url", default=env.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES)
    args = parser.parse_args(argv)
    try:
        source = parse_source(args.source or "")
        if args.interval <= 0:
            raise RefresherError("interval must be positive", field="interval")
        stop = threading.Event()
        refresher = Refresher(source, Path(args.dest), region=args.region, endpoint_url=args.endpoint_url,
                              attempts=args.attempts, backoff=args.backoff, max_bytes=args.max_bytes,
                              stop_event=stop)
    except RefresherError as exc:
        log("error", error=exc)
        return 2
    if args.once:
        return 0 if refresher.refresh_once() else 1
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log("started", source=source, dest=args.dest, interval=args.interval)
    refresher.run(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
