"""A Price List API stand-in: replays RECORDED GetProducts responses on 127.0.0.1.

moto has no `pricing` backend, so this server speaks the API's own wire protocol (JSON 1.1,
`X-Amz-Target: AWSPriceListService.GetProducts`) to a real boto3 client pointed at it with
`endpoint_url`. Its answers are recorded responses (one JSON file per service code: the
`PriceList` strings exactly as AWS returned them); it applies the request's filters the way the
service does (TERM_MATCH/EQUALS on a product attribute, CONTAINS, ANY_OF, NONE_OF) and pages
with MaxResults/NextToken. Run as `python -m temporal_dsql_standins.price_list --port P --recordings DIR`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from temporal_dsql_standins._process import ManagedProcess, StandinError, free_port

__all__ = ["PriceListServer", "filter_products", "load_recordings"]


def load_recordings(directory: Path) -> dict[str, list[str]]:
    """Service code -> the recorded PriceList items (JSON strings, as AWS sent them)."""
    recordings: dict[str, list[str]] = {}
    for path in sorted(directory.glob("*.json")):
        document = json.loads(path.read_text())
        recordings.setdefault(str(document["ServiceCode"]), []).extend(document["PriceList"])
    return recordings


def _attribute(product: Mapping[str, Any], name: str) -> str | None:
    if name == "ServiceCode":
        return str(product.get("serviceCode", ""))
    attributes = product.get("product", {}).get("attributes", {})
    if name in attributes:
        return str(attributes[name])
    if name in ("productFamily", "sku"):
        return str(product.get("product", {}).get(name, ""))
    return None


def _matches(product: Mapping[str, Any], rule: Mapping[str, Any]) -> bool:
    actual = _attribute(product, str(rule["Field"]))
    kind, value = str(rule.get("Type", "TERM_MATCH")), str(rule["Value"])
    if kind == "NONE_OF":
        return actual is None or actual not in value.split(",")
    if actual is None:
        return False
    if kind in ("TERM_MATCH", "EQUALS"):
        return actual.lower() == value.lower()
    if kind == "CONTAINS":
        return value.lower() in actual.lower()
    if kind == "ANY_OF":
        return actual in value.split(",")
    raise ValueError(f"unknown filter type {kind}")


def filter_products(items: Sequence[str], filters: Sequence[Mapping[str, Any]]) -> list[str]:
    return [item for item in items if all(_matches(json.loads(item), rule) for rule in filters)]


class _Handler(BaseHTTPRequestHandler):
    recordings: dict[str, list[str]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write("price-list: " + format % args + "\n")

    def _reply(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", "standin-price-list")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        target = self.headers.get("X-Amz-Target", "")
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if target != "AWSPriceListService.GetProducts":
            self._reply(400, {"__type": "UnknownOperationException", "message": f"{target} is not replayed"})
            return
        service = str(request.get("ServiceCode", ""))
        if service not in self.recordings:
            self._reply(400, {"__type": "NotFoundException",
                              "message": f"no recorded responses for service code {service}"})
            return
        items = filter_products(self.recordings[service], request.get("Filters", []))
        start = int(request.get("NextToken") or 0)
        size = int(request.get("MaxResults") or 100)
        page = items[start:start + size]
        body: dict[str, Any] = {"FormatVersion": request.get("FormatVersion", "aws_v1"), "PriceList": page}
        if start + size < len(items):
            body["NextToken"] = str(start + size)
        self._reply(200, body)


def serve(port: int, recordings: Path) -> None:
    handler = type("Handler", (_Handler,), {"recordings": load_recordings(recordings)})
    ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()


@dataclass
class PriceListServer:
    """The replay server as a process: started on a free port, stopped by its PID."""

    recordings: Path
    port: int = 0
    process: ManagedProcess | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_timeout: float = 30.0) -> PriceListServer:
        if not self.recordings.is_dir():
            raise StandinError(f"no recordings directory at {self.recordings}")
        self.port = self.port or free_port()
        log = Path(tempfile.mkdtemp(prefix="price-list-standin-")) / "price-list.log"
        self.process = ManagedProcess(
            name="price-list", port=self.port, log_file=log,
            argv=[sys.executable, "-m", "temporal_dsql_standins.price_list", "--port", str(self.port),
                  "--recordings", str(self.recordings)],
        ).start(ready_timeout=ready_timeout, healthy=self.check_service)
        return self

    def check_service(self) -> bool:
        """Ready means a GetProducts request of the API's own wire form gets a 200 answer."""
        service = next(iter(load_recordings(self.recordings)), "AmazonECS")
        body = json.dumps({"ServiceCode": service, "FormatVersion": "aws_v1", "MaxResults": 1}).encode()
        request = urllib.request.Request(self.endpoint_url + "/", data=body, method="POST", headers={
            "X-Amz-Target": "AWSPriceListService.GetProducts", "Content-Type": "application/x-amz-json-1.1"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return "PriceList" in json.loads(response.read())

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def __enter__(self) -> PriceListServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--recordings", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.port, args.recordings)


if __name__ == "__main__":
    main()
