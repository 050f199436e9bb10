"""Accepting a return, the flow's first unit of work (`POST /v1/returns`): the channel's rules
checked against the order as delivered, then the return row, its `return.requested` event, the
idempotency record and — above the channel's approval amount — an exception for customer
service, in one transaction. The ERP is not called here: the flow's consumer does that (the
products' categories, for a channel with category rules, are asked before: `categories_for`).

Idempotent by the channel's return reference: the same body answers the first answer again; a
different body under the same reference is a conflict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import Connection, select

from crossdock.config.returns import ReturnsConfig
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import NewEvent, insert_events, new_event_id
from crossdock.errors import Unavailable
from crossdock.flows.exceptions import open_exception
from crossdock.flows.order_to_cash.accept import Answer, remember, request_hash, stored_answer
from crossdock.flows.orders import OrderRecord, get_order, get_order_by_ref, steps_of
from crossdock.flows.returns import events as ev
from crossdock.flows.returns.request import ReturnRequest
from crossdock.flows.returns.rules import Broken, check, needs_approval
from crossdock.flows.returns.store import (
    ReturnRecord,
    get_return,
    get_return_by_ref,
    insert_return,
    return_subject,
    returned_quantities,
)
from crossdock.flows.tables import orders
from crossdock.ops.audit import append_audit

APPROVAL = "return_approval"
APPROVAL_ACTIONS = ["approve", "reject"]


def new_rma() -> str:
    """An RMA number: short enough to read out, random enough never to repeat."""
    return "RMA-" + new_event_id().replace("-", "")[-12:].upper()


def delivered_of(conn: Connection, order: OrderRecord) -> tuple[dict[str, Decimal], float | None]:
    """What the order's shipments delivered by SKU, and when the last one was validated."""
    delivered: dict[str, Decimal] = {}
    for shipment in order.erp.get("shipments") or []:
        for sku, qty in (shipment.get("shipped") or {}).items():
            delivered[sku] = delivered.get(sku, Decimal(0)) + Decimal(qty)
    times = [s.at for s in steps_of(conn, order.id) if s.step == "shipped" and s.status == "done"]
    return delivered, (max(times) if times and delivered else None)


ERP_RETRY_S = 30.0


async def categories_for(
    erp: ErpPort | None, request: ReturnRequest, config: ReturnsConfig
) -> dict[str, str] | None:
    """The product categories of the request's SKUs, when its channel has category rules (None
    otherwise): asked of the ERP before :func:`request_return`'s transaction. ``Unavailable``
    when the ERP cannot answer: the request is to be sent again later."""
    if not config.policy(request.channel).categories:
        return None
    if erp is None:
        raise Unavailable("no ERP to ask the products' categories", ERP_RETRY_S)
    try:
        return await erp.product_categories([line.sku for line in request.lines])
    except Unavailable:
        raise
    except Exception as exc:
        raise Unavailable(f"the ERP could not be asked the categories: {exc}", ERP_RETRY_S) from exc


def rejected(broken: list[Broken]) -> Answer:
    detail = "; ".join(f"{b.pointer}: {b.detail} ({b.rule})" for b in broken[:5])
    return Answer(422, {"errors": [b.as_error() for b in broken]}, conflict=detail)


def request_return(
    conn: Connection,
    request: ReturnRequest,
    config: ReturnsConfig,
    *,
    actor: str,
    partitions: int,
    now: float,
    traceparent: str | None = None,
    categories: Mapping[str, str] | None = None,
) -> Answer:
    """The write behind `POST /v1/returns` (see the module's docstring). ``categories``: from
    :func:`categories_for`, when the channel has category rules."""
    key = f"returns:{request.channel}:{request.return_ref}"
    digest = request_hash(request.model_dump_json())
    earlier = stored_answer(conn, key, digest)
    if earlier is not None:
        return earlier
    if request.order_id is not None:
        order = get_order(conn, request.order_id)
    else:
        order = get_order_by_ref(conn, request.channel, str(request.order_ref))
    field = "/order_id" if request.order_id is not None else "/order_ref"
    if order is None or order.channel != request.channel:
        return rejected(
            [
                Broken(
                    field,
                    "order_exists",
                    f"no order {request.order_id or request.order_ref} "
                    f"in channel {request.channel}",
                )
            ]
        )
    # Concurrent returns of one order (API processes on PostgreSQL) queue here, so each sees
    # what the other asked back; SQLite's single writer does that already.
    conn.execute(select(orders.c.id).where(orders.c.id == order.id).with_for_update())
    if get_return_by_ref(conn, request.channel, request.return_ref) is not None:
        return Answer(409, {}, conflict=f"return {request.return_ref} of {request.channel} exists")
    policy = config.policy(request.channel)
    delivered, delivered_at = delivered_of(conn, order)
    prices = {line["sku"]: Decimal(line["unit_price"]) for line in order.body["lines"]}
    broken = check(
        request,
        policy,
        ordered=prices,
        delivered=delivered,
        returned=returned_quantities(conn, order.id),
        delivered_at=delivered_at,
        now=now,
        categories=categories,
    )
    if broken:
        return rejected(broken)
    amount = sum((line.quantity * prices[line.sku] for line in request.lines), Decimal(0))
    approval = needs_approval(amount, policy)
    rma = new_rma()
    body = {
        **request.model_dump(mode="json"),
        "order_id": order.id,
        "order_external_ref": order.external_ref,
    }
    record = ReturnRecord(
        rma=rma,
        channel=request.channel,
        return_ref=request.return_ref,
        order_id=order.id,
        state="pending_approval" if approval else "requested",
        outcome=request.outcome,
        currency=order.currency,
        amount=str(amount),
        body=body,
        erp={},
        created_at=now,
        updated_at=now,
    )
    requested = ev.return_event(
        ev.REQUESTED,
        record,
        {
            "lines": body["lines"],
            "amount": str(amount),
            "currency": order.currency,
            "approval_required": approval,
        },
        source="crossdock.api",
    )
    events: list[NewEvent] = [
        NewEvent(
            requested.type,
            requested.source,
            requested.subject,
            requested.data,
            idempotency_key=key,
            traceparent=traceparent,
        )
    ]
    if approval:
        reason = (
            f"return {request.return_ref} of order {order.external_ref} is worth {amount} "
            f"{order.currency}, above the {policy.approval_above} channel {request.channel} "
            "accepts without approval"
        )
        exception = open_exception(
            conn,
            type=APPROVAL,
            owner="customer_service",
            subject=return_subject(rma),
            reason=reason,
            actions=APPROVAL_ACTIONS,
            now=now,
        )
        events.append(
            ev.return_event(
                ev.EXCEPTION,
                record,
                {
                    "exception_id": exception.id,
                    "type": APPROVAL,
                    "owner": "customer_service",
                    "reason": reason,
                    "actions": APPROVAL_ACTIONS,
                },
                APPROVAL,
            )
        )
    [appended, *_] = insert_events(conn, events, partitions)
    insert_return(conn, record, appended.event.id)
    answer = Answer(
        202,
        {
            "rma": rma,
            "status": record.state,
            "order_id": order.id,
            "links": {"self": f"/v1/returns/{rma}"},
        },
    )
    remember(conn, key, digest, answer)
    append_audit(
        conn,
        actor=actor,
        action="return.requested",
        subject=return_subject(rma),
        details={
            "channel": request.channel,
            "return_ref": request.return_ref,
            "order_id": order.id,
            "amount": str(amount),
        },
    )
    return answer


def confirm_receipt(
    conn: Connection,
    rma: str,
    payload: dict[str, object],
    *,
    key: str,
    actor: str,
    partitions: int,
) -> Answer:
    """The write behind `POST /v1/returns/{rma}/receipt`: `return.receipt_confirmed` on the
    return's subject (the flow moves the stock), idempotent by ``key``; one receipt per return."""
    digest = request_hash(json.dumps(payload, sort_keys=True))
    earlier = stored_answer(conn, key, digest)
    if earlier is not None:
        return earlier
    record = get_return(conn, rma)
    if record is None:
        return Answer(404, {})
    if record.state != "authorized":
        return Answer(
            409,
            {},
            conflict=f"return {rma} is {record.state}: only authorized returns are received",
        )
    [appended] = insert_events(
        conn,
        [
            ev.return_event(
                ev.RECEIPT_CONFIRMED, record, {"receipt": payload}, source="crossdock.api"
            )
        ],
        partitions,
    )
    if not appended.new:
        return Answer(409, {}, conflict=f"a receipt of return {rma} was recorded already")
    answer = Answer(
        202,
        {
            "rma": rma,
            "status": "accepted",
            "event_id": appended.event.id,
            "links": {"self": f"/v1/returns/{rma}"},
        },
    )
    remember(conn, key, digest, answer)
    append_audit(
        conn,
        actor=actor,
        action="return.receipt_confirmed",
        subject=return_subject(rma),
        details={"key": key},
    )
    return answer
