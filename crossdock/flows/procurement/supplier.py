"""The supplier's side of a purchase order, whatever the transport: acknowledgements and advance
ship notices received, checked against the order, stored once, and their effect.

Transports (the API/webhook routes; EDI 855/856 decoded by the EDI module) turn their message into
the canonical :class:`~crossdock.model.SupplierAcknowledgement` or
:class:`~crossdock.model.AdvanceShipNotice` and call :func:`receive_acknowledgement` /
:func:`receive_shipment` in their transaction: the message is stored under its own reference
(``external_ref``), a duplicate (same reference, same content) is recognised and answered as the
first, a different message under a used reference is refused; the order's timeline gets its step
and the event the consumer acts on is appended. :func:`acknowledgement_changes` says what an
acknowledgement changes on the order's lines (the consumer applies them per policy).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from crossdock.connectors.odoo.replenishment_records import PurchaseLineChange
from crossdock.engine import NewEvent, new_event_id
from crossdock.flows.procurement.events import (
    ACKNOWLEDGED,
    BILL_POSTED,
    RECEIPT_POSTED,
    SHIPPED,
    supplier_event,
)
from crossdock.flows.procurement.store import (
    DecisionError,
    RecommendationRow,
    add_step,
    get_recommendation,
)
from crossdock.flows.procurement.tables import supplier_messages
from crossdock.model import AdvanceShipNotice, Invoice, Receipt, SupplierAcknowledgement

__all__ = [
    "Received",
    "acknowledgement_changes",
    "billed_before",
    "get_message",
    "mark_message",
    "messages_of",
    "ordered_recommendation",
    "receive_acknowledgement",
    "receive_bill",
    "receive_receipt",
    "receive_shipment",
    "shipped_and_received",
]


@dataclass(frozen=True, slots=True)
class Received:
    message_id: str
    duplicate: bool
    state: str
    event: NewEvent | None


def ordered_recommendation(conn: Connection, ref: str) -> RecommendationRow:
    """The purchase order ``ref`` (its recommendation, once ordered); 404 otherwise."""
    rec = get_recommendation(conn, ref)
    if rec is None or rec.state != "ordered":
        raise DecisionError(404, f"no purchase order {ref}")
    return rec


def _digest(body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _store(
    conn: Connection,
    rec: RecommendationRow,
    kind: str,
    key: str,
    body: dict[str, Any],
    now: float,
) -> tuple[str, bool, str]:
    digest = _digest(body)
    existing = conn.execute(
        select(supplier_messages).where(
            supplier_messages.c.recommendation_id == rec.id,
            supplier_messages.c.kind == kind,
            supplier_messages.c.key == key,
        )
    ).first()
    if existing is not None:
        if existing.digest != digest:
            raise DecisionError(
                409,
                f"{kind} {key} of {rec.ref} was received before with other content",
                "/external_ref",
            )
        return existing.id, True, existing.state
    message_id = new_event_id()
    conn.execute(
        insert(supplier_messages).values(
            id=message_id,
            recommendation_id=rec.id,
            kind=kind,
            key=key,
            digest=digest,
            body=json.dumps(body, sort_keys=True, default=str),
            state="received",
            received_at=now,
        )
    )
    return message_id, False, "received"


def _check_skus(rec: RecommendationRow, skus: list[str]) -> None:
    ordered = {ln.sku for ln in rec.lines if ln.quantity > 0}
    for index, sku in enumerate(skus):
        if sku not in ordered:
            raise DecisionError(
                422,
                f"lines/{index}/sku: {sku} is not on purchase order {rec.ref}",
                f"/lines/{index}/sku",
            )


def receive_acknowledgement(
    conn: Connection, ref: str, ack: SupplierAcknowledgement, *, now: float, via: str
) -> Received:
    rec = ordered_recommendation(conn, ref)
    if ack.purchase_order_ref != ref:
        raise DecisionError(
            422, f"purchase_order_ref: {ack.purchase_order_ref} is not {ref}", "/purchase_order_ref"
        )
    if ack.supplier_ref != rec.supplier_ref:
        raise DecisionError(
            422, f"supplier_ref: the order is {rec.supplier_ref}'s", "/supplier_ref"
        )
    _check_skus(rec, [ln.sku for ln in ack.lines])
    body = ack.model_dump(mode="json")
    message_id, duplicate, state = _store(conn, rec, "acknowledgement", ack.external_ref, body, now)
    if duplicate:
        return Received(message_id, True, state, None)
    changes = acknowledgement_changes(rec, ack)
    add_step(
        conn,
        rec.id,
        "acknowledged",
        actor=via,
        now=now,
        details={
            "status": ack.status,
            "message": ack.external_ref,
            "changes": [_change_json(c) for c in changes],
        },
    )
    return Received(message_id, False, state, supplier_event(ACKNOWLEDGED, rec.ref, message_id))


def receive_shipment(
    conn: Connection, ref: str, asn: AdvanceShipNotice, *, now: float, via: str
) -> Received:
    rec = ordered_recommendation(conn, ref)
    if asn.supplier_ref != rec.supplier_ref:
        raise DecisionError(
            422, f"supplier_ref: the order is {rec.supplier_ref}'s", "/supplier_ref"
        )
    for index, line in enumerate(asn.lines):
        if line.purchase_order_ref is not None and line.purchase_order_ref != ref:
            raise DecisionError(
                422,
                f"lines/{index}/purchase_order_ref: {line.purchase_order_ref} is not {ref}",
                f"/lines/{index}/purchase_order_ref",
            )
    _check_skus(rec, [ln.sku for ln in asn.lines])
    body = asn.model_dump(mode="json")
    message_id, duplicate, state = _store(conn, rec, "shipment", asn.external_ref, body, now)
    if duplicate:
        return Received(message_id, True, state, None)
    add_step(
        conn,
        rec.id,
        "shipped",
        actor=via,
        now=now,
        details={
            "message": asn.external_ref,
            "ship_date": asn.ship_date.isoformat(),
            "expected_arrival": asn.expected_arrival.isoformat() if asn.expected_arrival else None,
            "lines": len(asn.lines),
        },
    )
    return Received(message_id, False, state, supplier_event(SHIPPED, rec.ref, message_id))


def _change_json(change: PurchaseLineChange) -> dict[str, Any]:
    out: dict[str, Any] = {"sku": change.sku}
    if change.quantity is not None:
        out["quantity"] = format(change.quantity.normalize(), "f")
    if change.unit_price is not None:
        out["unit_price"] = format(change.unit_price.normalize(), "f")
    if change.expected_date is not None:
        out["expected_date"] = change.expected_date.isoformat()
    return out


def acknowledgement_changes(
    rec: RecommendationRow, ack: SupplierAcknowledgement
) -> list[PurchaseLineChange]:
    """What the acknowledgement changes on the order's lines: rejected lines (or a rejected order
    without lines) to 0; changed quantities, prices and dates where they differ (a backordered
    line keeps its quantity)."""
    ordered = {ln.sku: ln for ln in rec.lines if ln.quantity > 0}
    if ack.status == "rejected" and not ack.lines:
        return [PurchaseLineChange(sku, quantity=Decimal(0)) for sku in ordered]
    changes: list[PurchaseLineChange] = []
    for line in ack.lines:
        mine = ordered[line.sku]
        if line.status == "rejected":
            changes.append(PurchaseLineChange(line.sku, quantity=Decimal(0)))
            continue
        # A backordered line is still wanted in full: its quantity is what ships first.
        quantity = (
            line.quantity
            if line.quantity is not None
            and line.quantity != mine.quantity
            and line.status != "backordered"
            else None
        )
        price = (
            line.unit_price
            if line.unit_price is not None and line.unit_price != mine.unit_price
            else None
        )
        if quantity is not None or price is not None or line.expected_date is not None:
            changes.append(PurchaseLineChange(line.sku, quantity, price, line.expected_date))
    return changes


def get_message(conn: Connection, message_id: str) -> Any:
    return conn.execute(
        select(supplier_messages).where(supplier_messages.c.id == message_id)
    ).first()


def mark_message(conn: Connection, message_id: str, state: str, result: dict[str, Any]) -> None:
    conn.execute(
        update(supplier_messages)
        .where(supplier_messages.c.id == message_id)
        .values(state=state, result=json.dumps(result, sort_keys=True, default=str))
    )


def messages_of(conn: Connection, recommendation_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(supplier_messages)
        .where(supplier_messages.c.recommendation_id == recommendation_id)
        .order_by(supplier_messages.c.received_at)
    ).all()
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "ref": r.key,
            "state": r.state,
            "received_at": r.received_at,
            "result": json.loads(r.result) if r.result else None,
        }
        for r in rows
    ]


def receive_receipt(
    conn: Connection, ref: str, receipt: Receipt, *, now: float, via: str
) -> Received:
    """A warehouse's receipt against the order (unexpected SKUs are kept: reconciliation holds
    the receipt for a person)."""
    rec = ordered_recommendation(conn, ref)
    if receipt.purchase_order_ref is not None and receipt.purchase_order_ref != ref:
        raise DecisionError(
            422,
            f"purchase_order_ref: {receipt.purchase_order_ref} is not {ref}",
            "/purchase_order_ref",
        )
    if receipt.warehouse != rec.warehouse:
        raise DecisionError(
            422, f"warehouse: the order is delivered to {rec.warehouse}", "/warehouse"
        )
    body = receipt.model_dump(mode="json")
    message_id, duplicate, state = _store(conn, rec, "receipt", receipt.external_ref, body, now)
    if duplicate:
        return Received(message_id, True, state, None)
    return Received(message_id, False, state, supplier_event(RECEIPT_POSTED, rec.ref, message_id))


def shipped_and_received(
    conn: Connection, recommendation_id: str
) -> tuple[dict[str, Decimal], dict[str, set[str]], dict[str, Decimal]]:
    """What the order's advance ship notices announced (quantities and lots per SKU), and what
    its validated receipts received, per SKU."""
    rows = conn.execute(
        select(supplier_messages).where(
            supplier_messages.c.recommendation_id == recommendation_id,
            supplier_messages.c.kind.in_(["shipment", "receipt"]),
        )
    ).all()
    announced: dict[str, Decimal] = {}
    lots: dict[str, set[str]] = {}
    received: dict[str, Decimal] = {}
    for row in rows:
        if row.kind == "shipment":
            for line in AdvanceShipNotice.model_validate_json(row.body).lines:
                announced[line.sku] = announced.get(line.sku, Decimal(0)) + line.quantity
                named = lots.setdefault(line.sku, set())
                if line.lot:
                    named.add(line.lot)
                named.update(line.serials)
        elif row.state == "applied" and row.result:
            for sku, quantity in json.loads(row.result).get("received", {}).items():
                received[sku] = received.get(sku, Decimal(0)) + Decimal(quantity)
    return announced, {k: v for k, v in lots.items() if v}, received


def receive_bill(conn: Connection, ref: str, invoice: Invoice, *, now: float, via: str) -> Received:
    """A supplier's invoice for the order (matched by the consumer)."""
    rec = ordered_recommendation(conn, ref)
    if invoice.direction != "supplier":
        raise DecisionError(422, "direction: a vendor bill's direction is supplier", "/direction")
    if invoice.partner_ref != rec.supplier_ref:
        raise DecisionError(422, f"partner_ref: the order is {rec.supplier_ref}'s", "/partner_ref")
    if invoice.order_refs and ref not in invoice.order_refs:
        raise DecisionError(422, f"order_refs: {ref} is not among them", "/order_refs")
    body = invoice.model_dump(mode="json")
    message_id, duplicate, state = _store(conn, rec, "bill", invoice.external_ref, body, now)
    if duplicate:
        return Received(message_id, True, state, None)
    return Received(message_id, False, state, supplier_event(BILL_POSTED, rec.ref, message_id))


def billed_before(conn: Connection, recommendation_id: str) -> dict[str, Decimal]:
    """What the order's matched bills billed, per SKU."""
    rows = conn.execute(
        select(supplier_messages).where(
            supplier_messages.c.recommendation_id == recommendation_id,
            supplier_messages.c.kind == "bill",
            supplier_messages.c.state == "applied",
        )
    ).all()
    out: dict[str, Decimal] = {}
    for row in rows:
        for line in Invoice.model_validate_json(row.body).lines:
            if line.sku is not None:
                out[line.sku] = out.get(line.sku, Decimal(0)) + line.quantity
    return out
