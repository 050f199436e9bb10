"""Events of procure-to-stock (source ``procurement``).

- ``procurement.recommend_requested`` (subject ``procurement:recommend``): run the
  recommendations now (the API and the schedule append it).
- ``procurement.approved`` (subject ``recommendation:<id>``): a recommendation was approved; the
  consumer creates and confirms its purchase order in the ERP.
- ``purchase.ordered`` (subject ``purchase:<ref>``): a purchase order was placed in the ERP; its
  ``data`` is the canonical :class:`~crossdock.model.PurchaseOrder` with the ERP's name — what an
  outbound webhook subscription of the supplier delivers, signed (the API/webhook transport).
- ``purchase.acknowledged`` (subject ``purchase:<ref>``): the supplier acknowledged (``data``:
  the message id); the consumer applies the changes to the ERP's order per policy.
- ``purchase.shipped`` (subject ``purchase:<ref>``): an advance ship notice was received (the
  expected receipt, with lots, serials and dates, is kept by the hub).
- ``purchase.receipt_posted`` (subject ``purchase:<ref>``): the warehouse posted a receipt; the
  consumer reconciles it and validates the ERP's receipt, then appends ``purchase.received``
  (``data``: the order, its ERP name, the warehouse and the quantities received per SKU).
- ``purchase.bill_posted`` (subject ``purchase:<ref>``): a supplier's invoice was posted; the
  consumer matches it three ways and makes the vendor bill, or opens an exception for accounts
  payable.
- ``purchase.cost_bill_posted`` (subject ``purchase:<ref>``): a carrier's or customs bill of
  charges was posted; the consumer lands them as the ERP's landed cost (see :mod:`.landed`).
- ``exception.resolved`` of a ``procurement.landed_cost`` exception with action ``retry``: the
  consumer lands the bill's charges again.
"""

from __future__ import annotations

from typing import Any

from crossdock.engine import NewEvent, new_event_id

__all__ = [
    "ACKNOWLEDGED",
    "APPROVED",
    "BILL_POSTED",
    "CONSUMED",
    "COST_BILL_POSTED",
    "EXCEPTION_RESOLVED",
    "GROUP",
    "ORDERED",
    "RECEIPT_POSTED",
    "RECEIVED",
    "RECOMMEND",
    "SHIPPED",
    "SOURCE",
    "approved_event",
    "ordered_event",
    "recommend_event",
    "supplier_event",
]

SOURCE = "procurement"
GROUP = "procurement"
RECOMMEND = "procurement.recommend_requested"
APPROVED = "procurement.approved"
ORDERED = "purchase.ordered"
ACKNOWLEDGED = "purchase.acknowledged"
SHIPPED = "purchase.shipped"
RECEIPT_POSTED = "purchase.receipt_posted"
RECEIVED = "purchase.received"
BILL_POSTED = "purchase.bill_posted"
COST_BILL_POSTED = "purchase.cost_bill_posted"
EXCEPTION_RESOLVED = "exception.resolved"
CONSUMED = [
    RECOMMEND,
    APPROVED,
    ACKNOWLEDGED,
    RECEIPT_POSTED,
    BILL_POSTED,
    COST_BILL_POSTED,
    EXCEPTION_RESOLVED,
]


def recommend_event(by: str) -> NewEvent:
    return NewEvent(RECOMMEND, SOURCE, "procurement:recommend", {"by": by}, id=new_event_id())


def approved_event(recommendation_id: str, ref: str, by: str) -> NewEvent:
    return NewEvent(
        APPROVED,
        SOURCE,
        f"recommendation:{recommendation_id}",
        {"recommendation_id": recommendation_id, "ref": ref, "by": by},
        idempotency_key=f"{APPROVED}:{recommendation_id}",
        id=new_event_id(),
    )


def ordered_event(ref: str, order: dict[str, Any]) -> NewEvent:
    return NewEvent(
        ORDERED,
        SOURCE,
        f"purchase:{ref}",
        order,
        idempotency_key=f"{ORDERED}:{ref}",
        id=new_event_id(),
    )


def supplier_event(kind: str, ref: str, message_id: str) -> NewEvent:
    return NewEvent(
        kind,
        SOURCE,
        f"purchase:{ref}",
        {"ref": ref, "message_id": message_id},
        idempotency_key=f"{kind}:{message_id}",
        id=new_event_id(),
    )
