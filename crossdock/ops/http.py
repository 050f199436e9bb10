"""ASGI middleware: a server span and a latency observation per HTTP request.

The span continues the client's `traceparent` when it sent one. The request's `traceparent`
header is then replaced by the server span's own, so whatever the route stores from it (the
intake puts it on `order.accepted`) continues this request's trace — one trace from the request
to the handlers and Odoo, even when the client sent none. Latency is labelled by route template
(`/v1/orders/{order_id}`), never by raw path.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crossdock.ops import metrics as m
from crossdock.ops.tracing import Tracing, context_from, current_traceparent

__all__ = ["ObservabilityMiddleware"]


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def _with_traceparent(headers: list[tuple[bytes, bytes]], value: str) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != b"traceparent"]
    return [*kept, (b"traceparent", value.encode("latin-1"))]


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, tracing: Tracing | None = None) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        started = time.perf_counter()
        try:
            if self.tracing is None:
                await self.app(scope, receive, send_status)
            else:
                await self._traced(scope, receive, send_status, method, status)
        finally:
            m.HTTP_SECONDS.labels(method, _route_of(scope), str(status[0])).observe(
                time.perf_counter() - started
            )

    async def _traced(
        self, scope: Scope, receive: Receive, send: Send, method: str, status: list[int]
    ) -> None:
        assert self.tracing is not None
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        inbound = next(
            (v.decode("latin-1") for k, v in headers if k.lower() == b"traceparent"), None
        )
        with self.tracing.tracer.start_as_current_span(
            f"{method} {scope.get('path', '')}",
            context=context_from(inbound),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope.get("path", "")},
        ) as span:
            own = current_traceparent()
            if own is not None:
                scope["headers"] = _with_traceparent(headers, own)
            try:
                await self.app(scope, receive, send)
            finally:
                route = _route_of(scope)
                span.update_name(f"{method} {route}")
                attributes: dict[str, Any] = {
                    "http.route": route,
                    "http.response.status_code": status[0],
                }
                for key, value in (scope.get("path_params") or {}).items():
                    if key in ("order_id", "shipment_id", "purchase_order_id", "exception_id"):
                        attributes[f"crossdock.{key}"] = str(value)
                span.set_attributes(attributes)
                if status[0] >= 500:
                    span.set_status(trace.StatusCode.ERROR)
