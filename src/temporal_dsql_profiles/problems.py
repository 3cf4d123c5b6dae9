"""RFC 7807 problem details for every error the API returns (``application/problem+json``)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from temporal_dsql_core.errors import InputError, close_matches
from temporal_dsql_profiles.errors import ProfileError

__all__ = ["CORRELATION_HEADER", "PROBLEM_JSON", "PROBLEM_RESPONSES", "Problem", "ProblemJSONResponse",
           "install_problem_handlers", "problem_response", "server_problem", "validation_problem"]

PROBLEM_JSON = "application/problem+json"
CORRELATION_HEADER = "X-Correlation-Id"
log = logging.getLogger("temporal_dsql.api")
# The members a 5xx problem may carry: anything else (bucket, key, URL, query, upstream text) is
# logged under the correlation id instead of being shown to the client.
_PUBLIC_5XX_MEMBERS = ("retry_after_seconds", "suggestion")


class ProblemJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: a lone surrogate echoed from a request (``"a\\ud800b"``) renders
    as ``\\ud800`` instead of failing UTF-8 encoding, which made the answer a 500 (issue 19)."""

    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
_FASTAPI_BODY_ERROR = "There was an error parsing the body"


class Problem(BaseModel):
    """An RFC 7807 problem document; errors add extension members (field, allowed, suggestion, ...)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    """The request field at fault, when one is."""


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": description, "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}}}
    for code, description in (("4XX", "The request cannot be served as sent (RFC 7807 problem)."),
                              ("5XX", "A store failed or the operation is not implemented (RFC 7807 problem)."))
}
"""Documented on every operation (``FastAPI(responses=...)``): declaring 4XX also keeps FastAPI
from advertising its own 422 body, which this API never sends."""


def problem_response(status: int, title: str, detail: str, *, instance: str | None = None,
                     headers: dict[str, str] | None = None, **extensions: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extensions.items() if v is not None})
    return ProblemJSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def server_problem(request_path: str, status: int, title: str, *, store: str | None, internal: str,
                   extensions: dict[str, Any] | None = None) -> JSONResponse:
    """A 5xx problem naming the failing store, the retry hint and a correlation id; ``internal``
    (and every other extension member) goes to the server log under that id."""
    correlation_id = uuid.uuid4().hex
    members = dict(extensions or {})
    log.warning("%s %s (store=%s) correlation_id=%s: %s %s", status, title, store, correlation_id, internal,
                {k: v for k, v in members.items() if k not in _PUBLIC_5XX_MEMBERS})
    retry = members.get("retry_after_seconds")
    headers = {CORRELATION_HEADER: correlation_id}
    if isinstance(retry, int):
        headers["Retry-After"] = str(retry)
    where = f"the {store.replace('_', ' ')}" if store else "a dependency"
    hint = f"retry after {retry} s" if isinstance(retry, int) else "retry later"
    detail = (f"{title}: {where} did not answer as expected; {hint}. Quote correlation id {correlation_id} "
              "to the operator (the details are in the server log).")
    public = {k: members[k] for k in _PUBLIC_5XX_MEMBERS if k in members}
    return problem_response(status, title, detail, instance=request_path, headers=headers, store=store,
                            correlation_id=correlation_id, retryable=status in (502, 503, 504), **public)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProfileError)
    async def _profile_error(request: Request, exc: ProfileError) -> JSONResponse:
        if exc.status >= 500:
            return server_problem(request.url.path, exc.status, exc.title, store=exc.store, internal=exc.detail,
                                  extensions=dict(exc.extensions))
        headers = None
        retry = exc.extensions.get("retry_after_seconds")
        if isinstance(retry, int):
            headers = {"Retry-After": str(retry)}
        extensions: dict[str, Any] = dict(exc.extensions)
        return problem_response(exc.status, exc.title, exc.detail, instance=request.url.path,
                                headers=headers, **extensions)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        problem: dict[str, Any] = exc.as_problem()
        detail = str(problem.pop("detail"))
        return problem_response(getattr(exc, "status", 400), getattr(exc, "title", "Invalid request"), detail,
                                instance=request.url.path, **problem)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        denied = await _unauthorized(request)
        if denied is not None:
            return denied
        status, detail, problem = validation_problem(request, exc)
        return problem_response(status, "Invalid request", detail, instance=request.url.path, **problem)

    async def _unauthorized(request: Request) -> JSONResponse | None:
        # FastAPI parses a JSON body before the app's auth dependency runs: without a valid token
        # the answer is the 401, never a description of what the body got wrong.
        verifier = getattr(request.app.state, "token_verifier", None)
        if verifier is not None:
            try:
                await verifier.verify(request.headers.get("authorization"))
            except ProfileError as denied:
                return await _profile_error(request, denied)
        return None

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_ERROR:
            denied = await _unauthorized(request)
            if denied is not None:
                return denied
            return problem_response(
                400, "Invalid request", "The request body could not be read: it must be UTF-8 encoded JSON "
                "(Content-Type: application/json).", instance=request.url.path, field="body",
                suggestion="Send the body as a JSON object encoded in UTF-8.")
        return problem_response(exc.status_code, str(exc.detail) if exc.status_code != 404 else "Not found",
                                str(exc.detail), instance=request.url.path, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s on %s", type(exc).__name__, request.url.path, exc_info=exc)
        return server_problem(request.url.path, 500, "Internal error", store=None,
                              internal=f"{type(exc).__name__}: {exc}")


def _field_path(loc: tuple[Any, ...]) -> str:
    # "body"/"query"/"path" say where, not what: the field is the rest of the location.
    return ".".join(str(p) for p in loc[1:])


def _model_at(request: Request, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The request model that holds the field at ``loc`` (body errors only), for suggestions."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not loc or loc[0] != "body" or not route.body_field:
        return None
    model: Any = route.body_field.field_info.annotation
    for part in loc[1:-1]:
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        model = next((a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)
                      and issubclass(a, BaseModel)), annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _json_position(body: object, position: int) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str):
        return f"character {position}"
    before = body[:position]
    column = position - (before.rfind("\n") + 1) + 1
    return f"line {before.count(chr(10)) + 1}, column {column} (character {position})"


def validation_problem(request: Request, exc: RequestValidationError) -> tuple[int, str, dict[str, Any]]:
    """(status, detail, extension members) for a request that does not match its schema.

    Malformed JSON is a 400 saying what the parser expected and where; a well-formed request that
    does not match the schema is a 422 whose detail names every offending field (an unknown field
    with the closest known one). ``errors`` lists each problem as {field, message}."""
    errors: list[dict[str, Any]] = []
    suggestions: list[str] = []
    # An unknown field first: a typo (``preset`` for ``preset_name``) also causes the "missing" error.
    for error in sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden"):
        loc = tuple(error.get("loc", ()))
        kind = error.get("type", "")
        if kind == "json_invalid":
            position = loc[-1] if loc and isinstance(loc[-1], int) else 0
            reason = (error.get("ctx") or {}).get("error", "invalid JSON")
            where = _json_position(getattr(exc, "body", None), position)
            detail = f"The request body is not valid JSON: {reason} at {where}."
            return 400, detail, {"field": "body", "errors": [{"field": "body", "message": detail}],
                                 "suggestion": "Send a JSON object with Content-Type: application/json."}
        field = _field_path(loc) or ("body" if loc and loc[0] == "body" else str(loc[-1]) if loc else "request")
        message = str(error.get("msg", "invalid"))
        if kind == "extra_forbidden":
            model = _model_at(request, loc)
            known = sorted(model.model_fields) if model is not None else []
            close = close_matches(str(loc[-1]), known, n=1)
            message = f"unknown field {str(loc[-1])!r}" + (f"; did you mean {close[0]!r}?" if close else "")
            if known:
                suggestions.append(f"Known fields{f' of {_field_path(loc[:-1])}' if len(loc) > 2 else ''}: "
                                   f"{', '.join(known)}.")
        elif field == "body" and kind in ("model_attributes_type", "dict_type", "missing"):
            content_type = request.headers.get("content-type") or "no Content-Type"
            message = (f"the body must be a JSON object ({'none was sent' if kind == 'missing' else message}; "
                       f"Content-Type was {content_type})")
        elif loc and loc[0] in ("query", "path", "header"):
            message = f"{message} (in the {loc[0]})"
        if error.get("input") is not None and kind not in ("extra_forbidden", "missing", "json_invalid") \
                and field != "body":
            message = f"{message}; got {json.dumps(error['input'], default=str)[:80]}"
        errors.append({"field": field, "message": message})
    named = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    problem: dict[str, Any] = {"field": errors[0]["field"] if errors else None, "errors": errors}
    if suggestions:
        problem["suggestion"] = " ".join(dict.fromkeys(suggestions))
    return 422, f"The request does not match the schema: {named}{'' if named.endswith('?') else '.'}", problem
