"""Outbound documents from the order-to-cash flow's events, for orders that came in from an EDI
partner (the order's channel is the partner's ``channel``):

- ``order.confirmed`` (Odoo confirmed the sale order) → 855, a status per line from the lines
  Odoo's sale orders hold: accepted (all of it at the price asked), changed (another quantity
  or price), backordered (the flow backordered the rest), rejected (none of it placed);
- ``shipment.dispatched`` → 856, the quantities shipped with carrier and tracking;
- ``invoice.posted`` → 810, the delivered quantities at the order's prices, the totals Odoo
  posted.

The engine's consumer group ``edi`` delivers them; each document is queued (control numbers
allocated, file recorded) in the batch's acknowledgement, so it exists exactly once per event. A
document that cannot be made (the partner's mapping refuses the data) opens an exception naming
the event and the reason instead of holding the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import Connection

from crossdock.config.edi import EdiConfig, EdiPartner
from crossdock.connectors.edi.x12.mapping import (
    acknowledgement_to_855,
    invoice_to_810,
    shipment_to_856,
)
from crossdock.connectors.odoo import OdooTransientError
from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.records import SaleLineSummary
from crossdock.engine import Batch, Event, Subscription, Unavailable
from crossdock.errors import CrossdockError
from crossdock.flows.edi.documents import SetMaker, profile_of, queue_sets
from crossdock.flows.edi.inbound import ACTIONS, OWNER
from crossdock.flows.exceptions import open_exception
from crossdock.flows.orders import get_order
from crossdock.model import Order
from crossdock.model.billing import Invoice
from crossdock.model.procurement import SupplierAcknowledgement
from crossdock.model.shipment import Shipment

log = structlog.get_logger("crossdock.edi")

GROUP = "edi"
CONFIRMED = "order.confirmed"
DISPATCHED = "shipment.dispatched"
INVOICE_POSTED = "invoice.posted"
DOCUMENTS = {CONFIRMED: ("855", "PR"), DISPATCHED: ("856", "SH"), INVOICE_POSTED: ("810", "IN")}
SOURCE = "crossdock"
CENT = Decimal("0.01")


Confirmed = Mapping[str, tuple[Decimal, Decimal | None, date | None]]
"""What the ERP confirmed of an order, per SKU: the quantity on its confirmed sale orders, the
unit price it charges and the delivery date it promises."""


def _line_answer(
    ordered: Decimal,
    ordered_price: Decimal | None,
    placed: Decimal,
    price: Decimal | None,
    backordered: Decimal,
) -> tuple[str, Decimal | None, Decimal | None]:
    """A line's status, and the quantity and price to say, from what the ERP's sale orders hold
    of it (``placed``, the backordered part included) and what of that waits for stock:
    nothing placed → rejected; less placed, or at another price → changed (with what was
    placed); some waiting → backordered (with what ships now); else accepted."""
    repriced = (
        price is not None and ordered_price is not None and abs(price - ordered_price) >= CENT / 2
    )
    if placed <= 0:
        return "rejected", Decimal(0), None
    if placed != ordered or repriced:
        return "changed", placed if placed != ordered else None, price
    if backordered > 0:
        return "backordered", placed - backordered, None
    return "accepted", None, None


def acknowledgement_of(
    order: Order, data: dict[str, Any], at: datetime, confirmed: Confirmed | None = None
) -> SupplierAcknowledgement:
    """The 855's content, a status per line from what the ERP confirmed (``confirmed``: its
    sale orders' lines; without it, the order as planned: accepted or backordered)."""
    backordered = {sku: Decimal(str(q)) for sku, q in (data.get("backordered") or {}).items()}
    if confirmed is None:
        planned: dict[str, tuple[Decimal, Decimal | None, date | None]] = {}
        for line in order.lines:
            before = planned[line.sku][0] if line.sku in planned else Decimal(0)
            planned[line.sku] = (before + line.quantity, line.unit_price, order.requested_date)
        confirmed = planned
    remaining = {sku: quantity for sku, (quantity, _, _) in confirmed.items()}
    waiting = dict(backordered)
    lines = []
    for number, line in enumerate(order.lines, start=1):
        placed = min(remaining.get(line.sku, Decimal(0)), line.quantity)
        remaining[line.sku] = remaining.get(line.sku, Decimal(0)) - placed
        short = min(waiting.get(line.sku, Decimal(0)), placed)
        waiting[line.sku] = waiting.get(line.sku, Decimal(0)) - short
        price, promised = confirmed[line.sku][1:] if line.sku in confirmed else (None, None)
        status, said, unit_price = _line_answer(
            line.quantity, line.unit_price, placed, price, short
        )
        if status == "accepted" and promised and order.requested_date not in (None, promised):
            # Accepted as ordered but promised for another day than the customer asked.
            status = "changed"
        lines.append(
            {
                "line_number": line.line_ref or str(number),
                "sku": line.sku,
                "status": status,
                "quantity": said,
                "uom": line.uom,
                "unit_price": unit_price if unit_price is not None else line.unit_price,
                "expected_date": promised if status != "rejected" else None,
            }
        )
    statuses = {str(line["status"]) for line in lines}
    overall = next(iter(statuses)) if len(statuses) == 1 else "changed"
    return SupplierAcknowledgement(
        external_ref=f"{order.external_ref}-ACK",
        source=SOURCE,
        purchase_order_ref=order.external_ref,
        supplier_ref=SOURCE,
        status=overall,
        acknowledged_at=at,
        lines=lines,
    )


def shipment_of(order: Order, data: dict[str, Any], at: datetime) -> Shipment:
    """The 856's content: what the dispatch shipped, in the order's units."""
    units = {line.sku: line.uom for line in order.lines}
    shipped = {sku: Decimal(str(q)) for sku, q in (data.get("shipped") or {}).items()}
    ship_date = data.get("ship_date")
    return Shipment(
        external_ref=str(data.get("picking") or data.get("event_id")),
        source=SOURCE,
        order_ref=order.external_ref,
        warehouse=str(data.get("warehouse") or "WH"),
        status="shipped",
        ship_to=order.shipping_address,
        lines=[
            {"sku": sku, "quantity": q, "uom": units.get(sku, "unit")}
            for sku, q in shipped.items()
            if q > 0
        ],
        carrier=data.get("carrier"),
        tracking_number=data.get("tracking_number"),
        ship_date=date.fromisoformat(ship_date) if ship_date else at.date(),
        shipped_at=at,
    )


def invoice_of(order: Order, erp: dict[str, Any], data: dict[str, Any], at: datetime) -> Invoice:
    """The 810's content: the delivered quantities at the order's prices; Odoo's totals."""
    posted = data["invoice"]
    delivered: dict[str, Decimal] = {}
    for shipment in erp.get("shipments") or []:
        for sku, q in (shipment.get("shipped") or {}).items():
            delivered[sku] = delivered.get(sku, Decimal(0)) + Decimal(str(q))
    lines = [
        {
            "sku": line.sku,
            "description": line.name or line.sku,
            "quantity": delivered.get(line.sku, line.quantity),
            "uom": line.uom,
            "unit_price": line.unit_price,
            "order_line_ref": line.line_ref,
        }
        for line in order.lines
        if delivered.get(line.sku, line.quantity) > 0
    ]
    return Invoice(
        external_ref=str(posted["number"]),
        source=SOURCE,
        direction="customer",
        partner_ref=order.customer.external_ref,
        order_refs=[order.external_ref],
        currency=posted.get("currency") or order.currency,
        invoice_date=at.date(),
        lines=lines,
        subtotal=Decimal(posted["subtotal"]) if posted.get("subtotal") else None,
        tax_total=Decimal(posted["tax_total"]) if posted.get("tax_total") else None,
        total=Decimal(posted["total"]) if posted.get("total") else None,
    )


def _maker(
    event: Event,
    partner: EdiPartner,
    order: Order,
    erp: dict[str, Any],
    confirmed: Confirmed | None = None,
) -> SetMaker:
    profile = profile_of(partner)
    at = event.time.astimezone(UTC)
    if event.type == CONFIRMED:
        ack = acknowledgement_of(order, event.data, at, confirmed)
        ordered = order.ordered_at.date() if order.ordered_at else None
        return lambda n: acknowledgement_to_855(ack, n, order_date=ordered, profile=profile)
    if event.type == DISPATCHED:
        shipment = shipment_of(order, event.data, at)
        return lambda n: shipment_to_856(shipment, n, profile=profile, when=at)
    invoice = invoice_of(order, erp, event.data, at)
    return lambda n: invoice_to_810(invoice, n, profile=profile)


def documents_for(config: EdiConfig, clock: Callable[[], float]) -> Callable[..., int]:
    """The batch write that queues the documents of ``events``; answers how many were queued.
    ``confirmed`` holds, per ``order.confirmed`` event id, what the ERP confirmed."""
    by_channel = {p.channel: (name, p) for name, p in config.partners.items()}

    def write(
        conn: Connection, events: list[Event], confirmed: Mapping[str, Confirmed] | None = None
    ) -> int:
        queued = 0
        for event in events:
            found = by_channel.get(str(event.data.get("channel")))
            if found is None:
                continue
            name, partner = found
            set_id, functional_id = DOCUMENTS[event.type]
            if set_id not in partner.send:
                continue
            record = get_order(conn, str(event.data.get("order_id")))
            if record is None:
                continue
            now = clock()
            try:
                order = Order.model_validate(record.body)
                maker = _maker(event, partner, order, record.erp, (confirmed or {}).get(event.id))
                with conn.begin_nested():
                    queue_sets(
                        conn,
                        name,
                        partner,
                        set_id,
                        functional_id,
                        [maker],
                        now=now,
                        detail={
                            "event_id": event.id,
                            "order_id": record.id,
                            "po": record.external_ref,
                        },
                    )
                queued += 1
            except (CrossdockError, ValueError) as exc:
                open_exception(
                    conn,
                    type="edi_document_failed",
                    owner=OWNER,
                    subject=f"edi-event:{event.id}",
                    reason=f"partner {name}: {set_id} for PO {record.external_ref} "
                    f"({event.type}) could not be made: {exc}",
                    actions=ACTIONS,
                    now=now,
                )
                log.error("edi.document_failed", partner=name, set_id=set_id, error=str(exc))
        return queued

    return write


async def confirmed_lines(
    erp: ErpPort, events: Sequence[Event], channels: Collection[str]
) -> dict[str, Confirmed]:
    """What the ERP confirmed of the orders of ``order.confirmed`` events from ``channels``: the
    lines of their sale orders (one read for the batch), per event id."""
    wanted = {
        event.id: [int(so["id"]) for so in event.data.get("sale_orders") or []]
        for event in events
        if event.type == CONFIRMED and str(event.data.get("channel")) in channels
    }
    ids = sorted({i for found in wanted.values() for i in found})
    if not ids:
        return {}
    by_order: dict[int, list[SaleLineSummary]] = {}
    for line in await erp.sale_order_lines(ids, scheduled=True):
        by_order.setdefault(line.order_id, []).append(line)
    out: dict[str, Confirmed] = {}
    for event_id, order_ids in wanted.items():
        quantities: dict[str, Decimal] = {}
        prices: dict[str, Decimal] = {}
        # A SKU on several lines is all there on the latest of their dates.
        dates: dict[str, date] = {}
        for line in (ln for i in order_ids for ln in by_order.get(i, [])):
            quantities[line.sku] = quantities.get(line.sku, Decimal(0)) + line.quantity
            prices.setdefault(line.sku, line.net_unit_price)
            if line.scheduled_date is not None:
                dates[line.sku] = max(dates.get(line.sku, line.scheduled_date), line.scheduled_date)
        out[event_id] = {sku: (q, prices[sku], dates.get(sku)) for sku, q in quantities.items()}
    return out


def subscription(
    config: EdiConfig, clock: Callable[[], float], erp: ErpPort | None = None
) -> Subscription:
    """The ``edi`` consumer group: 855/856/810 from order-to-cash's events; with ``erp``, each
    855 says what the ERP's sale orders confirmed of each line."""
    write = documents_for(config, clock)
    channels = {p.channel for p in config.partners.values() if "855" in p.send}

    async def handle(batch: Batch) -> None:
        events = list(batch.events)
        confirmed = None
        if erp is not None:
            try:
                confirmed = await confirmed_lines(erp, events, channels)
            except (OdooTransientError, Unavailable) as exc:
                # The ERP is down: the batch waits for it (no attempt counted), in order.
                wait = erp.unavailable_for()
                raise Unavailable(f"the ERP is unavailable: {exc}", max(1.0, wait or 1.0)) from exc

        def queue(conn: Connection) -> None:
            write(conn, events, confirmed)

        batch.write(queue)

    return Subscription(GROUP, tuple(DOCUMENTS), handle)
