"""Routes of the v1 API: orders, shipments and exceptions. Thin: validate, authorise, then one
engine transaction or one read."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from crossdock.api.auth import Principal, require
from crossdock.api.bodies import body_example, json_body, parse_json_body
from crossdock.api.cursors import page_cursor, read_cursor
from crossdock.api.limits import check_lines
from crossdock.api.problems import Problem
from crossdock.api.query import StrictQueryRoute
from crossdock.api.views import (
    Accepted,
    EventRef,
    ExceptionList,
    ExceptionView,
    OrderPage,
    OrderSummary,
    OrderView,
)
from crossdock.engine import (
    EVENT_COLUMNS,
    Engine,
    NewEvent,
    events_table,
    format_time,
    insert_events,
    parse_time,
    row_to_event,
)
from crossdock.flows import exceptions as exq
from crossdock.flows.order_to_cash.accept import (
    ACCEPT,
    Answer,
    intake,
    remember,
    request_hash,
    stored_answer,
)
from crossdock.flows.orders import (
    FINAL_STATES,
    STATES,
    OrderRecord,
    get_order,
    get_order_by_ref,
    list_orders,
    order_refs,
    order_subject,
    refs_of_subjects,
    steps_of,
)
from crossdock.model import Order, Shipment
from crossdock.ops.audit import append_audit
from crossdock.ops.tracing import tag_current_span

router = APIRouter(prefix="/v1", route_class=StrictQueryRoute)


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.hub.engine
    return engine


def _answer(answer: Answer) -> JSONResponse:
    if answer.conflict:
        raise Problem(409, "Conflict", answer.conflict, kind="conflict", **answer.body)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


# -- orders ---------------------------------------------------------------------------------------


@router.post(
    "/orders",
    status_code=202,
    response_model=Accepted,
    tags=["orders"],
    responses={409: {"description": "Idempotency-Key reused with another body"}},
    openapi_extra=json_body(
        Order,
        {
            "channel": "webshop",
            "external_ref": "WS-1001",
            "currency": "EUR",
            "customer": {"external_ref": "C-42", "name": "Acme Trading"},
            "lines": [{"sku": "SKU-1", "quantity": "2", "unit_price": "19.90"}],
        },
    ),
)
async def post_order(
    request: Request,
    principal: Annotated[Principal, Depends(require("orders:write"))],
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Accept an order: answers 202 once it is durably stored; the flow takes it from there."""
    order = parse_json_body(Order, await request.body())
    check_lines(len(order.lines), request.app.state.hub.config.api.limits.order_lines)
    engine = engine_of(request)
    key = idempotency_key or f"{order.channel}:{order.external_ref}"
    item = intake(
        order,
        key,
        request.headers.get("traceparent"),
        f"token:{principal.name}",
        engine.partitions,
    )
    answer = await engine.writer.submit_batched(ACCEPT, item)
    tag_current_span(order_id=answer.body.get("id"))
    return _answer(answer)


def _events(conn: Connection, ids: list[str]) -> list[EventRef]:
    if not ids:
        return []
    rows = conn.execute(select(*EVENT_COLUMNS).where(events_table.c.id.in_(ids)))
    found = sorted((row_to_event(r) for r in rows), key=lambda e: e.position)
    return [EventRef(id=e.id, type=e.type, time=format_time(e.time)) for e in found]


def _full_view(conn: Connection, record: OrderRecord | None) -> OrderView | None:
    if record is None:
        return None
    steps = steps_of(conn, record.id)
    now = time.time()
    exceptions = [
        ExceptionView.of(e, now, (record.channel, record.external_ref))
        for e in exq.list_exceptions(conn, subject=order_subject(record.id), state=None)
    ]
    events = _events(conn, [s.event_id for s in steps if s.event_id])
    return OrderView.full(record, steps, exceptions, events)


@router.get("/orders/{order_id}", response_model=OrderView, tags=["orders"])
async def get_order_view(
    order_id: str,
    request: Request,
    _: Annotated[Principal, Depends(require("orders:read"))],
) -> OrderView:
    """An order: state, every step with its time, ERP references, exceptions and events."""
    view = await engine_of(request).db.read(lambda c: _full_view(c, get_order(c, order_id)))
    if view is None:
        raise Problem(404, "Not found", f"no order {order_id}", kind="not-found")
    return view


@router.get(
    "/orders/by-ref/{channel}/{external_ref:path}", response_model=OrderView, tags=["orders"]
)
async def get_order_by_channel_ref(
    channel: str,
    external_ref: str,
    request: Request,
    _: Annotated[Principal, Depends(require("orders:read"))],
) -> OrderView:
    """An order by the channel's own number (the `external_ref` it was sent with; slashes
    allowed): the same view as `GET /v1/orders/{order_id}`."""
    view = await engine_of(request).db.read(
        lambda c: _full_view(c, get_order_by_ref(c, channel, external_ref))
    )
    if view is None:
        raise Problem(
            404, "Not found", f"no order {external_ref} in channel {channel}", kind="not-found"
        )
    return view


@router.get("/orders", response_model=OrderPage, tags=["orders"])
async def get_orders(
    request: Request,
    _: Annotated[Principal, Depends(require("orders:read"))],
    state: Annotated[
        str | None,
        Query(description=f"One of: {', '.join(STATES)}", json_schema_extra={"enum": list(STATES)}),
    ] = None,
    channel: str | None = None,
    external_ref: Annotated[
        str | None, Query(description="The channel's own order number (in any channel).")
    ] = None,
    since: Annotated[
        str | None,
        Query(
            description="ISO 8601: accepted at or after", json_schema_extra={"format": "date-time"}
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> OrderPage:
    """Orders, newest first, page by page."""
    if state is not None and state not in STATES:
        raise Problem(
            400, "Bad request", f"state: must be one of {', '.join(STATES)}", kind="bad-query"
        )
    try:
        since_at = parse_time(since).timestamp() if since is not None else None
    except ValueError as exc:
        raise Problem(400, "Bad request", "since: not an ISO 8601 time", kind="bad-query") from exc
    before = read_cursor(cursor) if cursor else None
    records = await engine_of(request).db.read(
        lambda c: list_orders(
            c,
            state=state,
            channel=channel,
            external_ref=external_ref,
            since=since_at,
            before=before,
            limit=limit,
        )
    )
    items = [OrderSummary.of(r) for r in records]
    return OrderPage(
        items=items,
        next=page_cursor(items[-1].accepted_at, items[-1].id) if len(items) == limit else None,
    )


class CancelRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


@router.post(
    "/orders/{order_id}/cancel",
    status_code=202,
    response_model=Accepted,
    tags=["orders"],
    responses={409: {"description": "The order is already cancelled or finished"}},
    openapi_extra=body_example({"reason": "The customer changed their mind"}),
)
async def cancel_order(
    order_id: str,
    body: CancelRequest,
    request: Request,
    principal: Annotated[Principal, Depends(require("orders:write"))],
) -> JSONResponse:
    """Ask to cancel: before release it is cancelled in the ERP; after, a person decides."""
    engine = engine_of(request)

    def cancel(conn: Connection) -> Answer:
        record = get_order(conn, order_id)
        if record is None:
            return Answer(404, {})
        if record.state in FINAL_STATES:
            return Answer(409, {}, conflict=f"order {order_id} is already {record.state}")
        [appended] = insert_events(
            conn,
            [
                NewEvent(
                    "order.cancel_requested",
                    "crossdock.api",
                    order_subject(order_id),
                    {**order_refs(record), "reason": body.reason, "by": principal.name},
                    idempotency_key=f"cancel:{order_id}",
                )
            ],
            engine.partitions,
        )
        if appended.new:
            append_audit(
                conn,
                actor=f"token:{principal.name}",
                action="order.cancel_requested",
                subject=order_subject(order_id),
                details={"reason": body.reason, "state": record.state},
            )
        return Answer(
            202,
            {
                "id": order_id,
                "status": "cancel_requested",
                "links": {"self": f"/v1/orders/{order_id}"},
            },
        )

    answer = await engine.writer.submit(cancel, appends=True)
    if answer.status == 404:
        raise Problem(404, "Not found", f"no order {order_id}", kind="not-found")
    return _answer(answer)


# -- shipments ------------------------------------------------------------------------------------


class ShipmentConfirmation(Shipment):
    """What a warehouse or 3PL confirms: the order (hub id), lines and quantities shipped (short
    picks allowed), carrier, tracking number and ship date."""

    order_id: str = Field(description="The hub's order id (from POST /v1/orders).")


@router.post(
    "/shipments",
    status_code=202,
    response_model=Accepted,
    tags=["shipments"],
    responses={
        404: {"description": "No order `order_id`"},
        409: {"description": "The order is not released, or the Idempotency-Key was reused"},
    },
    openapi_extra=body_example(
        {
            "order_id": "0193c4f4a2b07d3e8a1f6b2c9d0e1f2a",
            "external_ref": "SHIP-1001",
            "source": "wms",
            "warehouse": "WH",
            "carrier": "dhl",
            "tracking_number": "00340434161094042557",
            "shipped_at": "2026-01-15T14:30:00Z",
            "lines": [{"sku": "SKU-1", "quantity": "2"}],
        }
    ),
)
async def post_shipment(
    shipment: ShipmentConfirmation,
    request: Request,
    principal: Annotated[Principal, Depends(require("shipments:write"))],
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Record a shipment confirmation; the flow validates the delivery and invoices."""
    engine = engine_of(request)
    key = f"shipments:{idempotency_key or shipment.source + ':' + shipment.external_ref}"
    payload = shipment.model_dump(mode="json", exclude={"order_id"})
    digest = request_hash(json.dumps(payload, sort_keys=True))

    def confirm(conn: Connection) -> Answer:
        earlier = stored_answer(conn, key, digest)
        if earlier is not None:
            return earlier
        record = get_order(conn, shipment.order_id)
        if record is None:
            return Answer(404, {})
        if record.state not in ("released", "shipped"):
            return Answer(
                409,
                {},
                conflict=f"order {shipment.order_id} is {record.state}: "
                "only released orders can ship",
            )
        order_skus = {line["sku"] for line in record.body["lines"]}
        unknown = sorted({line.sku for line in shipment.lines} - order_skus)
        if unknown:
            return Answer(422, {}, conflict=f"lines: {', '.join(unknown)} not in the order")
        [appended] = insert_events(
            conn,
            [
                NewEvent(
                    "shipment.confirmed",
                    shipment.source,
                    order_subject(shipment.order_id),
                    {**order_refs(record), "shipment": payload},
                    idempotency_key=key,
                )
            ],
            engine.partitions,
        )
        answer = Answer(
            202,
            {
                "id": appended.event.id,
                "status": "accepted",
                "links": {"order": f"/v1/orders/{shipment.order_id}"},
            },
        )
        remember(conn, key, digest, answer)
        return answer

    answer = await engine.writer.submit(confirm, appends=True)
    if answer.status == 404:
        raise Problem(404, "Not found", f"no order {shipment.order_id}", kind="not-found")
    if answer.status == 422:
        raise Problem(
            422,
            "Invalid request",
            answer.conflict or "",
            kind="validation",
            errors=[{"pointer": "/lines", "rule": "sku_in_order", "detail": answer.conflict}],
        )
    return _answer(answer)


# -- exceptions -----------------------------------------------------------------------------------


@router.get("/exceptions", response_model=ExceptionList, tags=["exceptions"])
async def get_exceptions(
    request: Request,
    _: Annotated[Principal, Depends(require("ops:read"))],
    type: str | None = None,
    state: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> ExceptionList:
    """Exceptions waiting for a decision (oldest first), or resolved ones, page by page."""
    after = read_cursor(cursor) if cursor else None

    def read(conn: Connection) -> tuple[list[exq.ExceptionRecord], dict[str, tuple[str, str]]]:
        found = exq.list_exceptions(
            conn, type=type, state=None if state == "all" else state, limit=limit, after=after
        )
        return found, refs_of_subjects(conn, (r.subject for r in found))

    records, refs = await engine_of(request).db.read(read)
    now = time.time()
    following = (
        page_cursor(records[-1].created_at, records[-1].id) if len(records) == limit else None
    )
    return ExceptionList(
        items=[ExceptionView.of(r, now, refs.get(r.subject)) for r in records], next=following
    )


class Resolution(BaseModel):
    action: str = Field(min_length=1, max_length=50, description="One of the exception's actions.")
    note: str | None = Field(default=None, max_length=2000, description="Why (kept for audit).")


@router.post(
    "/exceptions/{exception_id}/resolve",
    response_model=ExceptionView,
    tags=["exceptions"],
    responses={409: {"description": "Resolved already, or the action is not one it offers"}},
    openapi_extra=body_example({"action": "retry", "note": "The product exists in Odoo now"}),
)
async def resolve(
    exception_id: str,
    body: Resolution,
    request: Request,
    principal: Annotated[Principal, Depends(require("ops:write"))],
) -> ExceptionView:
    """Resolve with one of the offered actions; the waiting flow continues accordingly."""
    engine = engine_of(request)

    def run(conn: Connection) -> Any:
        record, event = exq.resolve_exception(
            conn,
            exception_id,
            action=body.action,
            by=principal.name,
            note=body.note,
            now=time.time(),
        )
        insert_events(conn, [event], engine.partitions)
        append_audit(
            conn,
            actor=f"token:{principal.name}",
            action="exception.resolved",
            subject=record.subject,
            details={
                "exception_id": exception_id,
                "type": record.type,
                "action": body.action,
                "note": body.note,
            },
        )
        data = event.data  # names the order when the exception is about one
        return record, (data["channel"], data["external_ref"]) if "channel" in data else None

    try:
        record, refs = await engine.writer.submit(run, appends=True)
    except LookupError as exc:
        raise Problem(404, "Not found", f"no exception {exception_id}", kind="not-found") from exc
    except exq.ExceptionConflict as exc:
        raise Problem(409, "Conflict", str(exc), kind="conflict") from exc
    return ExceptionView.of(record, time.time(), refs)
