"""``RequestGuard``: what every request passes before the app reads a byte of its body.

A pure ASGI middleware, so it runs the same under uvicorn and under Mangum (Lambda):

1. auth (``token`` mode): the bearer token is checked from the headers alone, so an
   unauthenticated body is refused (401) before it is read; ``/health`` is public in every mode,
   ``/docs`` and ``/openapi.json`` follow the API's auth unless ``docs_public``;
2. the query string: a NUL in any parameter is a 400 naming the parameter (no store can compare
   NUL, and every query parameter of every route is covered at once, not route by route);
3. the body size: a ``Content-Length`` above ``max_body_bytes`` is a 413 before the body is read,
   and a body without one (chunked) is counted as it arrives and answered 413 at the limit.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from temporal_dsql_profiles.errors import ProfileError
from temporal_dsql_profiles.problems import problem_response, server_problem

if TYPE_CHECKING:
    from temporal_dsql_copilot.api.auth import BearerTokenVerifier

__all__ = ["DOCS_PATHS", "PUBLIC_PATHS", "RequestGuard"]

PUBLIC_PATHS = frozenset({"/health"})
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


class _BodyTooLarge(Exception):
    pass


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, verifier: BearerTokenVerifier | None,
                 docs_public: bool) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.verifier = verifier
        self.public = PUBLIC_PATHS | (DOCS_PATHS if docs_public else frozenset())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._with_body_limit(scope, receive, send)

    async def _refusal(self, scope: Scope) -> Any:
        path: str = scope["path"]
        if self.verifier is not None and path not in self.public and scope.get("method") != "OPTIONS":
            headers = dict(scope.get("headers") or [])
            authorization = headers.get(b"authorization")
            try:
                await self.verifier.verify(None if authorization is None else authorization.decode("latin-1"))
            except ProfileError as denied:
                if denied.status >= 500:
                    return server_problem(path, denied.status, denied.title, store=denied.store,
                                          internal=denied.detail, extensions=dict(denied.extensions))
                return problem_response(denied.status, denied.title, denied.detail, instance=path,
                                        headers={"WWW-Authenticate": "Bearer"}, **denied.extensions)
        # After auth: without a valid token the answer is the 401, never a description of the input.
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                field = name.replace("\x00", "\\u0000")
                return problem_response(
                    400, "Invalid request", f"query parameter '{field}' contains a NUL character (%00)",
                    instance=path, field=field, suggestion="Remove the %00 from the query string.")
        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            return self._too_large(path, length)
        return None

    def _too_large(self, path: str, length: int | None) -> Any:
        got = f"{length} bytes" if length is not None else "more"
        return problem_response(
            413, "Request body too large", f"The request body is {got}; at most {self.max_body_bytes} bytes are "
            "accepted.", instance=path, field="body", allowed=[f"<= {self.max_body_bytes} bytes"],
            suggestion="Send less: dynamic_config and server_env_vars are bounded (see the OpenAPI document).")

    async def _with_body_limit(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's answer to a body it could not read is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTooLarge):  # raised by limited_receive when nothing caught it
            await self.app(scope, limited_receive, guarded_send)
        if exceeded and not started:
            await self._too_large(scope["path"], None)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
