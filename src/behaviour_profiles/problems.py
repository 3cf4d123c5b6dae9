"""RFC 7807 problem details for every error the API returns (``application/problem+json``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from behaviour_profiles.errors import ProfileError
from copilot_core.errors import InputError

__all__ = ["PROBLEM_JSON", "install_problem_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"


def problem_response(status: int, title: str, detail: str, *, instance: str | None = None,
                     headers: dict[str, str] | None = None, **extensions: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProfileError)
    async def _profile_error(request: Request, exc: ProfileError) -> JSONResponse:
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
        return problem_response(400, getattr(exc, "title", "Invalid request"), detail,
                                instance=request.url.path, **problem)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg")}
                  for e in exc.errors()]
        fields = ", ".join(e["field"] for e in errors if e["field"])
        return problem_response(400, "Invalid request", f"The request is invalid ({fields}).",
                                instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail) if exc.status_code != 404 else "Not found",
                                str(exc.detail), instance=request.url.path, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(500, "Internal error", f"{type(exc).__name__}: the request failed unexpectedly.",
                                instance=request.url.path)
