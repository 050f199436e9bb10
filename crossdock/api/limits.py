"""What one request may carry (``api.limits``): the body's size per route, and its JSON nesting.

One ASGI middleware reads every request body before any route does. A body larger than its
route's limit is refused with 413 — from ``Content-Length`` before a byte is read, and while
reading when the length is not declared (chunked) or understated, so no route ever holds more
than its limit. A JSON body nested deeper than ``json_depth`` is refused with 422 before any
parser sees it: parsers recurse, and a body nested 100,000 levels deep must not reach one.

Most routes take a small JSON document, buffered here (the limit ``body_bytes``). The bulk routes
have their own, larger limits: a batch of stock events is buffered and checked like the others;
a warehouse count is streamed line by line to its route (each line is parsed on its own), so it is
only counted here, and cut off with 413 where it passes its limit. The rest of a refused body is
left to the server, which discards it: closing with unread data would reset the connection before
the client reads the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crossdock.api.problems import Problem, problem_response
from crossdock.config.schema import ApiLimits

__all__ = ["BodyLimitMiddleware", "check_lines", "deeper_than", "too_deep"]


@dataclass(frozen=True, slots=True)
class RouteLimit:
    setting: str  # the key under api.limits, named in the problem
    max_bytes: int
    streamed: bool


OWN_LIMIT_PREFIXES = (
    "/v1/inventory/",
    "/v1/payments/statements",
    "/v1/forecasts",
    "/v1/edi/as2/",
)
"""The paths `route_limit` gives a limit of their own; every other body has the default."""


def route_limit(limits: ApiLimits, method: str, path: str) -> RouteLimit:
    """The body limit of a request: the bulk routes by method and path, every other route's
    ``body_bytes``."""
    if method == "POST" and path.rstrip("/") == "/v1/inventory/events":
        return RouteLimit("stock_events_bytes", limits.stock_events_bytes, streamed=False)
    if method == "PUT" and path.startswith("/v1/inventory/snapshots/"):
        return RouteLimit("snapshot_bytes", limits.snapshot_bytes, streamed=True)
    if method == "POST" and path.rstrip("/") == "/v1/forecasts":
        return RouteLimit("snapshot_bytes", limits.snapshot_bytes, streamed=True)
    if method == "POST" and path.rstrip("/") == "/v1/payments/statements":
        return RouteLimit("statement_bytes", limits.statement_bytes, streamed=True)
    if method == "POST" and path.startswith("/v1/edi/as2/"):
        return RouteLimit("as2_message_bytes", limits.as2_message_bytes, streamed=False)
    return RouteLimit("body_bytes", limits.body_bytes, streamed=False)


# -- JSON depth, without recursion ----------------------------------------------------------------

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def deeper_than(raw: bytes, limit: int) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects more than ``limit`` levels deep.

    Brackets inside strings do not count: strings are removed first, then the depth is the
    running sum over the brackets left. Fewer brackets than the limit cannot nest deeper, which
    answers a usual body at the cost of two counts."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def _over_limit(pointer: str, rule: str, setting: str, limit: int, detail: str) -> Problem:
    """The 422 for a value past the limit ``api.limits.<setting>``, naming the setting and value."""
    return Problem(
        422,
        "Invalid request",
        detail,
        kind="validation",
        errors=[{"pointer": pointer, "rule": rule, "detail": detail}],
        limit=f"api.limits.{setting}",
        max=limit,
    )


def too_deep(limit: int) -> Problem:
    """The 422 for a JSON body nested deeper than ``limit``."""
    detail = f"the JSON body nests deeper than {limit} levels (api.limits.json_depth)"
    return _over_limit("/", "max_depth", "json_depth", limit, detail)


def too_large(limit: RouteLimit) -> Problem:
    """The 413 for a body larger than its route's limit."""
    return Problem(
        413,
        "Request body too large",
        f"the body is larger than {limit.max_bytes} bytes, this route's limit "
        f"(api.limits.{limit.setting})",
        kind="body-too-large",
        limit=f"api.limits.{limit.setting}",
        max=limit.max_bytes,
    )


def _is_json(content_type: bytes | None) -> bool:
    """JSON or undeclared (the JSON routes read the body whatever its declared type)."""
    return content_type is None or b"json" in content_type.lower()


# -- the middleware -------------------------------------------------------------------------------


class BodyLimitMiddleware:
    """Refuses bodies over their route's limit (413) and JSON nested too deep (422)."""

    def __init__(self, app: ASGIApp, limits: ApiLimits) -> None:
        self.app = app
        self.limits = limits
        self.depth = limits.json_depth
        self.default = route_limit(limits, "POST", "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = (
            route_limit(self.limits, scope["method"], path)
            if path.startswith(OWN_LIMIT_PREFIXES)
            else self.default
        )
        declared = content_type = None
        for name, value in scope["headers"]:  # ASGI header names are lower case
            if name == b"content-length":
                declared = value
            elif name == b"content-type":
                content_type = value
        if declared is not None and declared.isdigit() and int(declared) > limit.max_bytes:
            await _refuse(too_large(limit), scope, receive, send)
            return
        if limit.streamed:
            await self.app(scope, _counting(receive, limit), send)
            return
        message = await receive()
        body = message.get("body", b"")
        if message["type"] == "http.request" and message.get("more_body", False):
            chunks = [body]
            size = len(body)
            while message.get("more_body", False):
                message = await receive()
                if message["type"] != "http.request":  # the client went away
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit.max_bytes:
                    await _refuse(too_large(limit), scope, receive, send)
                    return
                chunks.append(chunk)
            body = b"".join(chunks)
            if message["type"] == "http.request":
                message = {"type": "http.request", "body": body, "more_body": False}
        if len(body) > limit.max_bytes:
            await _refuse(too_large(limit), scope, receive, send)
            return
        if _is_json(content_type) and deeper_than(body, self.depth):
            await _refuse(too_deep(self.depth), scope, receive, send)
            return
        await self.app(scope, _replay(message, receive), send)


async def _refuse(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem_response(
        problem.status,
        problem.title,
        problem.detail,
        kind=problem.kind,
        instance=scope["path"],
        **problem.extra,
    )
    await response(scope, receive, send)


def _replay(first: Message, receive: Receive) -> Receive:
    """``receive`` that gives ``first`` (the body read here) first, then the client's own."""
    pending: list[Message] = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _counting(receive: Receive, limit: RouteLimit) -> Receive:
    """``receive`` that raises the 413 once the body read passes ``limit``."""
    seen = 0

    async def counting() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit.max_bytes:
                raise too_large(limit)
        return message

    return counting


def check_lines(count: int, limit: int) -> None:
    """Raise the 422 for an order of more than ``limit`` lines."""
    if count > limit:
        detail = f"{count} lines: an order has at most {limit} (api.limits.order_lines)"
        raise _over_limit("/lines", "max_items", "order_lines", limit, detail)
