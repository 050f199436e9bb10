"""Refunds and cancellations owned by the hub, reflected in Shopify (one consumer on the shop
port, group ``shopify_refunds``).

* ``return.refunded`` of a Shopify order: the received units are refunded in Shopify
  (``refundCreate``), those the warehouse put back to stock restocked where they were fulfilled,
  the credit notes' total paid back against the order's sale. ``return.credited``: the units
  only, no money (the customer keeps a credit note). A return made from Shopify's own refund
  (:mod:`.refunds_in`) is not refunded again.
* ``order.cancelled`` by the hub (before release, or confirmed by a person): the order is
  cancelled in Shopify (``orderCancel``), its payment refunded (the goods never leave) and
  nothing restocked there (the hub publishes stock). An order cancelled in Shopify itself is
  not cancelled again.

A refund is recorded (``shopify_writes``, pending) before it is asked for; a replay that finds
the record pending asks Shopify for a refund carrying its key before making one, so a crash
between Shopify's answer and the hub's record never refunds twice. Shopify's refusal (nothing
left to refund, not captured, another currency, a fulfilled order) opens an exception naming it;
Shopify down raises :class:`~crossdock.errors.Unavailable` and the batch waits, in order.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Connection, insert, select, update

from crossdock.connectors.shopify.errors import ShopifyError
from crossdock.connectors.shopify.port import ShopPort
from crossdock.connectors.shopify.records import RefundLine
from crossdock.engine import Batch, Engine, Event
from crossdock.flows.exceptions import open_exception
from crossdock.flows.order_to_cash.events import CANCELLED
from crossdock.flows.returns.events import CREDITED, REFUNDED
from crossdock.flows.returns.store import ReturnRecord, get_return
from crossdock.flows.shopify.tables import shopify_writes

__all__ = ["CONSUMED", "FROM_SHOPIFY", "Refunds"]

CONSUMED = (REFUNDED, CREDITED, CANCELLED)
FROM_SHOPIFY = "shopify-refund:"
"""The return reference of a return made from a refund made in Shopify."""
REFUND_REFUSED = "shopify_refund_refused"
CANCEL_REFUSED = "shopify_cancel_refused"
log = structlog.get_logger(__name__)


def _write_state(conn: Connection, system: str, key: str) -> str | None:
    row = conn.execute(
        select(shopify_writes.c.state).where(
            (shopify_writes.c.system == system) & (shopify_writes.c.key == key)
        )
    ).first()
    return None if row is None else str(row.state)


def _record(
    conn: Connection, system: str, key: str, state: str, shopify_id: str | None = None
) -> None:
    where = (shopify_writes.c.system == system) & (shopify_writes.c.key == key)
    values = {"state": state, "shopify_id": shopify_id, "at": time.time()}
    if conn.execute(select(shopify_writes.c.key).where(where)).first() is None:
        conn.execute(insert(shopify_writes).values(system=system, key=key, **values))
    else:
        conn.execute(update(shopify_writes).where(where).values(**values))


def _units(value: Any) -> Decimal:
    return Decimal(str(value or "0"))


def refund_lines(record: ReturnRecord | None, data: Mapping[str, Any]) -> list[RefundLine]:
    """What the return received by SKU (its credit notes' quantities when the record is gone),
    and how much of it went back to stock."""
    received: dict[str, Decimal] = {}
    restocked: dict[str, Decimal] = {}
    if record is not None and record.erp.get("accepted"):
        for sku, q in record.erp["accepted"].items():
            received[sku] = _units(q)
        for picking in record.erp.get("pickings") or []:
            for disposal in picking.get("disposals") or []:
                if disposal.get("disposition") == "restock":
                    sku = str(disposal["sku"])
                    restocked[sku] = restocked.get(sku, Decimal(0)) + _units(disposal["quantity"])
    else:
        for note in data.get("credit_notes") or []:
            for sku, q in (note.get("quantities") or {}).items():
                received[sku] = received.get(sku, Decimal(0)) + _units(q)
    lines = []
    for sku, quantity in sorted(received.items()):
        if quantity <= 0:
            continue
        if quantity != quantity.to_integral_value():
            raise ShopifyError(f"{sku}: Shopify refunds whole units, not {quantity}", code="UNITS")
        back = min(restocked.get(sku, Decimal(0)), quantity)
        lines.append(RefundLine(sku, int(quantity), int(back)))
    if not lines:
        raise ShopifyError("the return names no units received", code="NO_UNITS")
    return lines


class Refunds:
    """The consumer over the connected shops' ports (by system name)."""

    def __init__(self, engine: Engine, shops: Mapping[str, ShopPort]) -> None:
        self.engine = engine
        self.shops = dict(shops)

    async def handle(self, batch: Batch) -> None:
        refused: list[tuple[str, str, str, str]] = []
        for event in batch.events:
            system = str(event.data.get("channel"))
            shop = self.shops.get(system)
            if shop is None:
                continue
            try:
                if event.type == CANCELLED:
                    await self._cancel(shop, system, event, batch)
                else:
                    await self._refund(shop, system, event, batch)
            except ShopifyError as exc:
                kind = CANCEL_REFUSED if event.type == CANCELLED else REFUND_REFUSED
                refused.append((kind, event.subject, system, str(exc)))
                if event.type != CANCELLED:
                    key = f"refund:{event.data.get('rma')}"
                    batch.write(partial(_record, system=system, key=key, state="refused"))
        if refused:

            def write(conn: Connection) -> None:
                for kind, subject, system, reason in refused:
                    what = "cancellation" if kind == CANCEL_REFUSED else "refund"
                    open_exception(
                        conn,
                        type=kind,
                        owner="operations" if kind == CANCEL_REFUSED else "finance",
                        subject=subject,
                        reason=f"{system} refused the {what}: {reason}",
                        actions=[
                            "cancelled_by_hand" if kind == CANCEL_REFUSED else "refunded_by_hand",
                            "ignore",
                        ],
                        now=time.time(),
                    )

            batch.write(write)

    async def _refund(self, shop: ShopPort, system: str, event: Event, batch: Batch) -> None:
        data = event.data
        rma = str(data.get("rma"))
        if str(data.get("return_ref") or "").startswith(FROM_SHOPIFY):
            return  # Shopify refunded it itself: the return only followed
        order_ref = str((data.get("order") or {}).get("external_ref") or "")
        key = f"refund:{rma}"
        state = await self.engine.db.read(partial(_write_state, system=system, key=key))
        if state in ("done", "refused"):
            return
        if state is None:  # recorded before the call: a replay knows to look first
            await self.engine.db.write(partial(_record, system=system, key=key, state="pending"))
        record = await self.engine.db.read(lambda c: get_return(c, rma))
        lines = refund_lines(record, data)
        money = event.type == REFUNDED
        made = await shop.refund(
            order_ref,
            rma,
            lines,
            amount=_units(data.get("total")) if money else None,
            currency=str(data.get("currency") or "") or None,
            note=f"return {data.get('return_ref')} ({rma})",
            look_first=state is not None,
        )
        batch.write(partial(_record, system=system, key=key, state="done", shopify_id=made.id))
        log.info("shopify.refunded", system=system, rma=rma, refund=made.id, created=made.created)

    async def _cancel(self, shop: ShopPort, system: str, event: Event, batch: Batch) -> None:
        data = event.data
        if str(data.get("by") or "") == system:
            return  # cancelled in Shopify: it asked the hub, not the other way round
        order_ref = str(data.get("external_ref") or "")
        key = f"cancel:{data.get('order_id')}"
        state = await self.engine.db.read(partial(_write_state, system=system, key=key))
        if state == "done":
            return
        made = await shop.cancel(
            order_ref,
            reason="OTHER",
            refund=True,
            restock=False,
            note=f"cancelled in Crossdock: {data.get('reason') or 'no reason given'}",
        )
        batch.write(partial(_record, system=system, key=key, state="done"))
        log.info("shopify.cancelled", system=system, order=order_ref, cancelled=made)
