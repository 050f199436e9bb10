"""RFC 9457 problem details: every rejected request gets `application/problem+json` naming what
was wrong — for validation errors, each field as a JSON pointer with the rule it broke."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from crossdock.errors import CrossdockError

PROBLEM_TYPE = "https://crossdock.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(CrossdockError):
    """Raise from a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind or title.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    kind: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + kind,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def json_pointer(loc: Sequence[int | str]) -> str:
    """`("body", "lines", 0, "sku")` → `/lines/0/sku` (RFC 6901 escaping)."""
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts) or "/"


def validation_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    out = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        out.append(
            {
                "pointer": json_pointer(loc),
                "rule": str(error.get("type", "invalid")),
                "detail": message.removeprefix("Value error, "),
            }
        )
    return out


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route of `app` answers at `path`: Starlette's 405 names only those of
    the first route matching the path, while a path is often served by several."""
    methods: set[str] = set()
    for route in iter_route_contexts(app.router.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            methods |= route.methods
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Problem documents for our own errors, validation errors and every HTTP error."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            kind=exc.kind,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc.errors())
        return problem_response(
            422,
            "Invalid request",
            f"{len(errors)} field(s) broke a rule: "
            + "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors[:5]),
            kind="validation",
            instance=request.url.path,
            errors=errors,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        return problem_response(
            exc.status_code,
            title,
            str(exc.detail),
            kind=f"http-{exc.status_code}",
            instance=request.url.path,
            headers=headers,
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
