"""The events the returns flow consumes and emits, and how emitted events are built.

Every event of a return has its subject (``return:<rma>``), so a return's events are delivered in
order; its data names the RMA, the channel's return reference and the order (``order``: the hub's
id and the channel's number; events about a return are not order events). Idempotency keys derive
from the RMA and what caused the event, so a redelivered batch appends nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crossdock.engine import NewEvent
from crossdock.flows.returns.store import ReturnRecord, return_subject

SOURCE = "crossdock.returns"
GROUP = "returns"

REQUESTED = "return.requested"
RECEIPT_CONFIRMED = "return.receipt_confirmed"
EXCEPTION_RESOLVED = "exception.resolved"
CONSUMED = (REQUESTED, RECEIPT_CONFIRMED, EXCEPTION_RESOLVED)

AUTHORIZED = "return.authorized"
RECEIVED = "return.received"
REFUNDED = "return.refunded"
CREDITED = "return.credited"
EXCHANGED = "return.exchanged"
REJECTED = "return.rejected"
EXCEPTION = "return.exception"
EMITTED = (AUTHORIZED, RECEIVED, REFUNDED, CREDITED, EXCHANGED, REJECTED, EXCEPTION)


def return_refs(record: ReturnRecord) -> dict[str, Any]:
    """What every event about a return says of it."""
    return {
        "rma": record.rma,
        "channel": record.channel,
        "return_ref": record.return_ref,
        "order": {"id": record.order_id, "external_ref": record.body.get("order_external_ref")},
        "outcome": record.outcome,
    }


def return_event(
    type: str, record: ReturnRecord, data: Mapping[str, Any], *key: str, source: str = SOURCE
) -> NewEvent:
    return NewEvent(
        type,
        source,
        return_subject(record.rma),
        {**return_refs(record), **data},
        idempotency_key=":".join((type, record.rma, *key)),
    )
