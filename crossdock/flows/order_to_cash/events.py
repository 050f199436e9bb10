"""The events the flow consumes and emits, and how emitted events are built.

Every emitted event has the order's subject (so it is delivered in order with the order's other
events), ``source = crossdock.order_to_cash``, ``data.order_id``, ``data.channel`` and
``data.external_ref`` (the channel's own number, what its people know the order by), and an
idempotency key derived from the order and what caused it, so a redelivered batch appends nothing
twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crossdock.engine import NewEvent
from crossdock.flows.order_to_cash.settings import SOURCE
from crossdock.flows.orders import OrderRecord, order_refs, order_subject
from crossdock.flows.orders import order_id_of as order_id_of

ACCEPTED = "order.accepted"
CANCEL_REQUESTED = "order.cancel_requested"
SHIPMENT_CONFIRMED = "shipment.confirmed"
EXCEPTION_RESOLVED = "exception.resolved"
CHANGE_REQUESTED = "order.change_requested"
CONSUMED = (ACCEPTED, CANCEL_REQUESTED, SHIPMENT_CONFIRMED, EXCEPTION_RESOLVED, CHANGE_REQUESTED)

CREDIT_HOLD = "order.credit_hold"
CONFIRMED = "order.confirmed"
RELEASED = "order.released"
DISPATCHED = "shipment.dispatched"
INVOICE_POSTED = "invoice.posted"
CANCELLED = "order.cancelled"
FAILED = "order.failed"
EXCEPTION = "order.exception"
CHANGED = "order.changed"
EMITTED = (
    CREDIT_HOLD,
    CONFIRMED,
    RELEASED,
    DISPATCHED,
    INVOICE_POSTED,
    CANCELLED,
    FAILED,
    EXCEPTION,
    CHANGED,
)


def order_event(type: str, order: OrderRecord, data: Mapping[str, Any], *key: str) -> NewEvent:
    """An event about an order; ``key`` parts (after type and order) make its idempotency key.
    Its data names the order by the hub's id and by the channel's own number."""
    return NewEvent(
        type,
        SOURCE,
        order_subject(order.id),
        {**order_refs(order), **data},
        idempotency_key=":".join((type, order.id, *key)),
    )
