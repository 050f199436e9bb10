"""Refunds made in Shopify (``refunds/create``) into the returns flow: the channel's own refund
events become returns through the returns flow's accept path
(:func:`~crossdock.flows.returns.intake.request_return`), worked by the orders consumer in the
transaction that acknowledges the batch.

* the refunded units of delivered goods are a return (``return_ref`` ``shopify-refund:<id>``,
  outcome ``refund``): checked by the channel's return rules like any return, authorised in the
  ERP, received by the warehouse, credited; it is not refunded in Shopify again (Shopify did);
* a refund the hub made (its note carries the hub's key) is the hub's own write coming back:
  nothing to do;
* units refunded before shipping (``restock_type: cancel``) are not a return: they change an
  order the hub may already be picking, so they open an exception for sales naming them;
* a refund of money only (no units) changes no goods: recorded in the log, nothing else;
* a refund the return rules refuse, or one naming no order the hub knows, opens an exception
  for customer service naming the rules; the event stays in the log as received.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from crossdock.config.returns import ReturnsConfig
from crossdock.connectors.shopify.mapping import map_refund
from crossdock.connectors.shopify.records import REFUND_RECEIVED, order_subject_of
from crossdock.engine import NewEvent
from crossdock.flows.exceptions import open_exception
from crossdock.flows.returns.intake import request_return
from crossdock.flows.returns.request import ReturnRequest
from crossdock.flows.shopify.refunds import FROM_SHOPIFY

__all__ = ["NOT_RETURNABLE", "received_refund_event", "work_refund"]

NOT_RETURNABLE = "shopify_refund_not_returnable"
UNSHIPPED = "shopify_refund_unshipped"


def received_refund_event(
    system: str, payload: Mapping[str, Any], *, key: str | None = None
) -> NewEvent:
    """The stored form of one received refund (under its order's subject)."""
    return NewEvent(
        REFUND_RECEIVED,
        f"shopify:{system}",
        order_subject_of(system, str(payload.get("order_id") or "unknown")),
        {"system": system, "topic": "refunds/create", "via": "webhook", "refund": dict(payload)},
        idempotency_key=key,
    )


def work_refund(
    conn: Connection,
    data: Mapping[str, Any],
    traceparent: str | None,
    config: ReturnsConfig,
    partitions: int,
) -> str:
    """Work one received refund (see the module); answers what it did."""
    system = str(data["system"])
    payload = data.get("refund")
    mapped = map_refund(dict(payload) if isinstance(payload, dict) else {})
    now = time.time()
    subject = f"shopify:{system}:refund:{mapped.refund_id or 'unknown'}"
    if mapped.ours:
        return "ours"
    if mapped.problems:
        reasons = "; ".join(str(p) for p in mapped.problems)
        _open(conn, NOT_RETURNABLE, subject, f"Shopify refund of {system}: {reasons}", now)
        return "invalid"
    outcome = "money_only"
    if mapped.cancelled:
        units = ", ".join(f"{sku} x{q.normalize()}" for sku, q in sorted(mapped.cancelled.items()))
        _open(
            conn,
            UNSHIPPED,
            subject,
            f"Shopify refund {mapped.refund_id} of order {mapped.order_id} ({system}) cancels "
            f"units not shipped: {units}; change the order in the ERP or keep it",
            now,
            owner="sales",
        )
        outcome = "unshipped"
    if not mapped.returned:
        return outcome
    try:
        request = ReturnRequest(
            channel=system,
            return_ref=FROM_SHOPIFY + mapped.refund_id,
            order_ref=mapped.order_id,
            outcome="refund",
            lines=[
                {"sku": sku, "quantity": quantity}
                for sku, quantity in sorted(mapped.returned.items())
            ],
            note=(mapped.note or None) and str(mapped.note)[:1000],
        )
    except ValidationError as exc:
        _open(conn, NOT_RETURNABLE, subject, f"Shopify refund of {system}: {exc}", now)
        return "invalid"
    answer = request_return(
        conn,
        request,
        config,
        actor=f"shopify:{system}",
        partitions=partitions,
        now=now,
        traceparent=traceparent,
    )
    if answer.replayed:
        return "existing"
    if answer.status in (200, 202, 409):
        return "return_requested" if answer.status == 202 else "existing"
    errors = answer.body.get("errors") or []
    detail = "; ".join(
        f"{e.get('pointer')}: {e.get('detail')} ({e.get('rule')})" for e in errors[:5]
    ) or str(answer.conflict or answer.status)
    _open(
        conn,
        NOT_RETURNABLE,
        subject,
        f"Shopify refund {mapped.refund_id} of order {mapped.order_id} ({system}) is no "
        f"return the rules accept: {detail}",
        now,
    )
    return "not_returnable"


def _open(
    conn: Connection,
    type: str,
    subject: str,
    reason: str,
    now: float,
    *,
    owner: str = "customer_service",
) -> None:
    open_exception(
        conn,
        type=type,
        owner=owner,
        subject=subject,
        reason=reason,
        actions=["handled", "ignore"],
        now=now,
    )
