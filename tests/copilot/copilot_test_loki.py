"""A tiny HTTP server answering Loki's query_range with a recorded response (no Loki can be installed)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DATA = Path(__file__).parent / "data"


class RecordedLoki(BaseHTTPRequestHandler):
    """Serves the recorded query_range response; checks the request the way Loki would."""

    body = (DATA / "loki_query_range.json").read_bytes()
    fail = False

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path != "/loki/api/v1/query_range" or "query" not in query or int(query["start"][0]) <= 0:
            self.send_response(400)
            self.end_headers()
            return
        if type(self).fail:
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"too many outstanding requests")
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


