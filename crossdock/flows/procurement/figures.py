"""Suppliers' figures and late purchase orders, read from the hub's own records.

- The *promised date* of a purchase order is the latest delivery date its supplier committed
  to in an acknowledgement (a line's ``expected_date``), else the order's expected date (when it
  was placed plus the lead time).
- An order is *on time* when its last validated receipt came on or before the promised date; the
  *on-time rate* is that share of a supplier's orders with a receipt.
- The *fill rate* is what the validated receipts brought over what was ordered (the quantities
  placed in the ERP, before any change the supplier acknowledged), across a supplier's orders.
- An order is *late* when its promised date is past and it is not complete: receipts have not
  brought everything ordered and the last one did not close what was short (held receipts do not
  count).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from crossdock.flows.procurement.tables import (
    recommendation_lines,
    recommendations,
    supplier_messages,
    timeline,
)
from crossdock.model import Receipt, SupplierAcknowledgement

__all__ = ["OrderStatus", "SupplierFigures", "late_orders", "order_statuses", "supplier_figures"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderStatus:
    ref: str
    supplier_ref: str
    warehouse: str
    purchase_order: str | None
    ordered_at: float
    promised: date
    ordered: Decimal
    received: Decimal
    last_receipt: date | None
    backordered: bool = False
    """Whether the last validated receipt left a backorder (short beyond tolerance)."""

    @property
    def complete(self) -> bool:
        """Everything ordered came, or the last receipt closed what was short."""
        return self.received >= self.ordered or (
            self.last_receipt is not None and not self.backordered
        )

    def days_late(self, today: date) -> int:
        """Days past the promised date: of the last receipt once complete, else of today."""
        end = self.last_receipt if self.complete and self.last_receipt else today
        return max((end - self.promised).days, 0)


@dataclass(frozen=True, slots=True)
class SupplierFigures:
    supplier_ref: str
    orders: int
    received_orders: int
    on_time_orders: int
    late_open_orders: int
    ordered: Decimal
    received: Decimal

    @property
    def on_time_rate(self) -> Decimal | None:
        if not self.received_orders:
            return None
        return (Decimal(self.on_time_orders) / self.received_orders).quantize(Decimal("0.0001"))

    @property
    def fill_rate(self) -> Decimal | None:
        if not self.ordered:
            return None
        return (min(self.received, self.ordered) / self.ordered).quantize(Decimal("0.0001"))


def _day(at: float) -> date:
    return datetime.fromtimestamp(at, UTC).date()


def order_statuses(
    conn: Connection,
    *,
    since: float = 0.0,
    supplier: str | None = None,
    recommendation_id: str | None = None,
) -> list[OrderStatus]:
    """The purchase orders placed (or changed) since ``since`` (epoch seconds), with what each
    promised and got."""
    r = recommendations.c
    query = select(recommendations).where(r.po_name.is_not(None), r.updated_at >= since)
    if supplier is not None:
        query = query.where(r.supplier_ref == supplier)
    if recommendation_id is not None:
        query = query.where(r.id == recommendation_id)
    recs = conn.execute(query.order_by(r.created_at)).all()
    if not recs:
        return []
    ids = [x.id for x in recs]
    lines: dict[str, dict[str, Decimal]] = {}
    for ln in conn.execute(
        select(recommendation_lines).where(recommendation_lines.c.recommendation_id.in_(ids))
    ):
        lines.setdefault(ln.recommendation_id, {})[ln.sku] = Decimal(ln.quantity)
    placed: dict[str, tuple[float, dict[str, Any]]] = {}
    for step in conn.execute(
        select(timeline).where(timeline.c.recommendation_id.in_(ids), timeline.c.step == "ordered")
    ):
        placed.setdefault(step.recommendation_id, (step.at, json.loads(step.details)))
    promised: dict[str, date] = {}
    received: dict[str, Decimal] = {}
    last: dict[str, date] = {}
    latest: dict[str, tuple[datetime, bool]] = {}
    for msg in conn.execute(
        select(supplier_messages).where(
            supplier_messages.c.recommendation_id.in_(ids),
            supplier_messages.c.kind.in_(["acknowledgement", "receipt"]),
        )
    ):
        rid = msg.recommendation_id
        if msg.kind == "acknowledgement":
            dates = [
                ln.expected_date
                for ln in SupplierAcknowledgement.model_validate_json(msg.body).lines
                if ln.expected_date is not None
            ]
            if dates:
                promised[rid] = max([*dates, promised.get(rid, min(dates))])
        elif msg.state == "applied" and msg.result:
            got = json.loads(msg.result).get("received", {})
            received[rid] = received.get(rid, ZERO) + sum((Decimal(q) for q in got.values()), ZERO)
            moment = Receipt.model_validate_json(msg.body).received_at.astimezone(UTC)
            if rid not in latest or moment >= latest[rid][0]:
                latest[rid] = (moment, bool(json.loads(msg.result).get("backordered")))
            last[rid] = max(moment.date(), last.get(rid, moment.date()))
    out = []
    for rec in recs:
        at, details = placed.get(rec.id, (rec.updated_at, {}))
        quantities = details.get("lines") or lines.get(rec.id, {})
        out.append(
            OrderStatus(
                ref=rec.ref,
                supplier_ref=rec.supplier_ref,
                warehouse=rec.warehouse,
                purchase_order=rec.po_name,
                ordered_at=at,
                promised=promised.get(rec.id, _day(at) + timedelta(days=rec.lead_days)),
                ordered=sum((Decimal(q) for q in quantities.values()), ZERO),
                received=received.get(rec.id, ZERO),
                last_receipt=last.get(rec.id),
                backordered=latest.get(rec.id, (None, False))[1],
            )
        )
    return out


def supplier_figures(statuses: list[OrderStatus], today: date) -> list[SupplierFigures]:
    by_supplier: dict[str, list[OrderStatus]] = {}
    for status in statuses:
        by_supplier.setdefault(status.supplier_ref, []).append(status)
    figures = []
    for supplier, orders in sorted(by_supplier.items()):
        got = [o for o in orders if o.last_receipt is not None]
        figures.append(
            SupplierFigures(
                supplier_ref=supplier,
                orders=len(orders),
                received_orders=len(got),
                on_time_orders=sum(
                    1 for o in got if o.last_receipt and o.last_receipt <= o.promised
                ),
                late_open_orders=sum(1 for o in orders if not o.complete and o.promised < today),
                ordered=sum((o.ordered for o in orders), ZERO),
                received=sum((o.received for o in orders), ZERO),
            )
        )
    return figures


def late_orders(statuses: list[OrderStatus], today: date) -> list[OrderStatus]:
    """Orders past their promised date with something still to come, the latest first."""
    late = [o for o in statuses if not o.complete and o.promised < today]
    return sorted(late, key=lambda o: (o.promised, o.ref))
