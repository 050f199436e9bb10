"""One trace from `POST /v1/orders` through the event to the handler batch, its Odoo calls (which
receive the `traceparent` header) and the events it emits; business keys on the spans."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from crossdock.ops.tracing import span_context_of
from tests.ops.conftest import Observed, order_body

CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE}-b7ad6b7169203331-01"


def _hex(value: int, width: int = 32) -> str:
    return format(value, f"0{width}x")


def _named(spans: list[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name.startswith(prefix)]


async def test_a_request_without_traceparent_is_one_trace_to_odoo(observed: Observed) -> None:
    response = await observed.client.post(
        "/v1/orders", json=order_body("WS-T1"), headers=observed.auth()
    )
    assert response.status_code == 202
    order_id = response.json()["id"]
    await observed.idle()

    spans = observed.finished()
    [server] = _named(spans, "POST /v1/orders")
    assert server.kind is SpanKind.SERVER and server.context is not None
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/v1/orders"
    assert server.attributes["crossdock.order_id"] == order_id
    trace_id = server.context.trace_id

    [handler] = _named(spans, "handle ops.test")
    assert handler.context is not None and handler.parent is not None
    assert handler.context.trace_id == trace_id
    assert handler.parent.span_id == server.context.span_id
    assert handler.attributes is not None
    assert handler.attributes["crossdock.order_id"] == order_id

    calls = [s for s in spans if s.name == "odoo res.partner.search_read"]
    mine = [s for s in calls if s.parent and s.parent.span_id == handler.context.span_id]
    assert mine and all(s.context and s.context.trace_id == trace_id for s in mine)
    assert mine[0].kind is SpanKind.CLIENT

    # Odoo received the call span's traceparent.
    sent = [h.get("traceparent") for h in observed.odoo_wire.headers]
    call_ids = {_hex(s.context.span_id, 16) for s in mine if s.context}
    assert any(tp and tp.split("-")[2] in call_ids for tp in sent)

    # The event the handler emitted continues the trace from the handler span.
    [checked] = await observed.hub.engine.events_after(0, 50, types=["order.checked"])
    emitted = span_context_of(checked.traceparent)
    assert emitted is not None and emitted.trace_id == trace_id
    assert emitted.span_id == handler.context.span_id


async def test_a_client_traceparent_is_continued(observed: Observed) -> None:
    headers = {**observed.auth(), "traceparent": CLIENT_TRACEPARENT}
    response = await observed.client.post("/v1/orders", json=order_body("WS-T2"), headers=headers)
    assert response.status_code == 202
    await observed.idle()
    spans = observed.finished()
    [server] = _named(spans, "POST /v1/orders")
    [handler] = _named(spans, "handle ops.test")
    assert server.context is not None and handler.context is not None
    assert _hex(server.context.trace_id) == CLIENT_TRACE
    assert _hex(handler.context.trace_id) == CLIENT_TRACE
    [accepted] = await observed.hub.engine.events_after(0, 50, types=["order.accepted"])
    stored = span_context_of(accepted.traceparent)
    assert stored is not None and stored.span_id == server.context.span_id


async def test_a_batch_of_several_traces_links_them(observed: Observed) -> None:
    # Appended directly (not via HTTP) so that they land in one batch.
    from crossdock.engine import NewEvent

    parents = [f"00-{i:032x}-{i:016x}-01" for i in (1, 2)]
    await observed.hub.engine.append(
        [
            NewEvent(
                "order.accepted",
                "webshop",
                f"order:L{i}",
                {"order_id": f"L{i}", "order": {"external_ref": f"L-{i}"}},
                traceparent=tp,
            )
            for i, tp in enumerate(parents, start=1)
        ]
    )
    await observed.idle()
    handlers = _named(observed.finished(), "handle ops.test")
    linked = {link.context.trace_id for h in handlers for link in h.links}
    direct = {h.context.trace_id for h in handlers if h.context and not h.links}
    assert {1, 2} <= linked | direct
    checked = await observed.hub.engine.events_after(0, 50, types=["order.checked"])
    traces = {e.subject: span_context_of(e.traceparent) for e in checked}
    assert {ctx.trace_id for ctx in traces.values() if ctx} == {1, 2}
