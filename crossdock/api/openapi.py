"""The OpenAPI document, made to say what the server does: derived from each route, not annotated
per route, so a new route is described by the same rules.

- Security: a route whose dependencies include `auth.require(scope)` needs a bearer token with
  that scope (`security: [{bearer: [scope]}]`) and can answer 401, 403 and 429.
- Every operation can answer 400 (a malformed request or query) and, with parameters or a body,
  422 (a value breaking a rule); one with path parameters 404 (no such resource); one taking an
  `Idempotency-Key` 409 (the key reused); one with a request body 413 (too large) and 415 (not a
  media type it reads). A route declares the answers its own logic adds (`responses=`).
- Every error answer is `application/problem+json` with the `Problem` schema, including the ones
  a route declares itself (`responses={409: {...}}`), whatever FastAPI would have said.
- A request body's example is lifted from its schema's `examples` when the route gave none.

`install(app)` replaces `app.openapi` with a builder applying these rules to FastAPI's document;
`check_media_type`, a dependency of every route, answers the 415 the document promises: a request
body in a media type its operation does not read (a body without `Content-Type` is read as JSON).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from crossdock.api.auth import scope_of
from crossdock.api.problems import MEDIA_TYPE, Problem

SCHEME = "bearer"
PROBLEM_REF = "#/components/schemas/Problem"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document: what was wrong, and for a rejected value, "
    "which field (a JSON pointer) broke which rule.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The request's path."},
        "errors": {
            "type": "array",
            "description": "Each value that broke a rule.",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {"type": "string", "description": "JSON pointer to the value."},
                    "rule": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

# Why each status can be answered; the rules in the module docstring decide where.
EVERY = {400: "Bad request: a malformed request or an unknown or bad query parameter"}
AUTHENTICATED = {
    401: "No API token, or an unknown or revoked one",
    403: "The token lacks the scope this operation needs",
    429: "The token's rate limit is exceeded; retry after `Retry-After` seconds",
}
WITH_PATH = {404: "No such resource"}
WITH_INPUT = {422: "A value breaks a rule: each one named by a JSON pointer with the rule"}
WITH_IDEMPOTENCY_KEY = {409: "The Idempotency-Key was used before with another request"}
WITH_BODY = {
    413: "The request body is larger than this operation accepts",
    415: "The request body is not of a media type this operation reads",
}
HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with (Bearer).",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before the next request.",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    },
}


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def required_scopes(route: RouteContext) -> list[str]:
    """The scopes `route`'s dependencies require (empty: no token needed)."""
    found = (scope_of(d.call) for d in _dependencies(route.dependant))
    return sorted({s for s in found if s is not None})


def _answers(operation: dict[str, Any], secured: bool) -> dict[int, str]:
    answers = dict(EVERY)
    if secured:
        answers.update(AUTHENTICATED)
    parameters = operation.get("parameters", [])
    if any(p.get("in") == "path" for p in parameters):
        answers.update(WITH_PATH)
    if any(p.get("name", "").lower() == "idempotency-key" for p in parameters):
        answers.update(WITH_IDEMPOTENCY_KEY)
    if "requestBody" in operation:
        answers.update(WITH_BODY)
    if parameters or "requestBody" in operation:
        answers.update(WITH_INPUT)
    return answers


def _is_problem_slot(response: dict[str, Any]) -> bool:
    """An error answer with no content of its own, or FastAPI's validation error."""
    content = response.get("content")
    if not content:
        return True
    schema = content.get("application/json", {}).get("schema", {})
    return len(content) == 1 and (
        schema == {} or schema.get("$ref", "").endswith("/HTTPValidationError")
    )


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}}


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        return found
    return schema


def _describe(document: dict[str, Any], route: RouteContext, operation: dict[str, Any]) -> None:
    scopes = required_scopes(route)
    if scopes:
        operation["security"] = [{SCHEME: scopes}]
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, description in _answers(operation, bool(scopes)).items():
        responses.setdefault(str(status), {"description": description})
    for key, response in responses.items():
        if not key.isdigit() or int(key) < 400:
            continue
        if _is_problem_slot(response):
            responses[key] = _problem(response.get("description") or "Error")
        headers = HEADERS.get(int(key))
        if headers and (int(key) != 401 or scopes):
            responses[key].setdefault("headers", {}).update(headers)
    for media in operation.get("requestBody", {}).get("content", {}).values():
        examples = _resolve(document, media.get("schema", {})).get("examples")
        if "example" not in media and "examples" not in media and examples:
            media["example"] = examples[0]


def _drop_unused(document: dict[str, Any], names: tuple[str, ...]) -> None:
    """Remove the components `names` (FastAPI's validation error) once nothing refers to them."""
    schemas = document["components"]["schemas"]
    kept = {k: v for k, v in schemas.items() if k not in names}
    text = json.dumps({**document, "components": {**document["components"], "schemas": kept}})
    for name in names:
        if f'"#/components/schemas/{name}"' not in text:
            schemas.pop(name, None)


def build(app: FastAPI) -> dict[str, Any]:
    """The document of `app`'s routes, described by the rules above."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`crossdock tokens create`): "
        "`Authorization: Bearer <token>`. Each operation names the scope it needs.",
    }
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        path = document["paths"].get(route.path_format or "", {})
        for method in route.methods or ():
            operation = path.get(method.lower())
            if operation is not None:
                _describe(document, route, operation)
    _drop_unused(document, ("HTTPValidationError", "ValidationError"))
    return document


def install(app: FastAPI) -> None:
    """Serve `build(app)` as `/openapi.json` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _media_types(app: FastAPI) -> dict[int, frozenset[str]]:
    """The media types each route's request body may come in, by the route's id."""
    found: dict[int, frozenset[str]] | None = getattr(app.state, "body_media_types", None)
    if found is None:
        paths = app.openapi()["paths"]
        found = {}
        for route in iter_route_contexts(app.routes):
            for method in route.methods or ():
                operation = paths.get(route.path_format or "", {}).get(method.lower(), {})
                content = operation.get("requestBody", {}).get("content")
                if content:
                    found[id(route.original_route)] = frozenset(content)
        app.state.body_media_types = found
    return found


async def check_media_type(request: Request) -> None:
    """415 for a request body in a media type the route's operation does not read."""
    headers = request.headers
    if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return
    accepted = _media_types(request.app).get(id(request.scope.get("route")))
    if accepted is None:
        return
    media = headers.get("content-type", "application/json").partition(";")[0].strip().lower()
    if media not in accepted:
        raise Problem(
            415,
            "Unsupported media type",
            f"send the body as {' or '.join(sorted(accepted))}, not {media or 'no media type'}",
            kind="unsupported-media-type",
        )
