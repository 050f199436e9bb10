"""Steps 7-8 of order-to-cash: a confirmed shipment validates its delivery picking (a short pick
leaves a backorder or cancels the rest, per the channel), then what was delivered is invoiced and
the invoice posted.

Which picking a shipment closes is decided from what the projection already recorded: the n-th
shipment of a sale order closes the n-th delivery of that sale order (the original picking, then
its backorders, in id order). A redelivered shipment therefore finds the same picking, which is
done already (validation is idempotent), and a replayed one is recognised by its event id.
Invoicing posts what the ERP has for the orders' delivered quantities, once: it answers with the
same invoices when asked again.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import structlog

from crossdock.connectors.odoo.errors import OdooError
from crossdock.connectors.odoo.port import ErpPort
from crossdock.connectors.odoo.records import PickingInfo
from crossdock.flows.order_to_cash import events as ev
from crossdock.flows.order_to_cash import exception_kinds as kinds
from crossdock.flows.order_to_cash.intake import Guard
from crossdock.flows.order_to_cash.settings import FlowSettings
from crossdock.flows.order_to_cash.work import Recorder, Work
from crossdock.model import Invoice, Shipment

log = structlog.get_logger(__name__)

ShipmentItem = tuple[Work, Shipment, str]
"""An order, the shipment confirmed for it, and the id of the event that confirmed it."""


class Shipping:
    def __init__(self, erp: ErpPort, settings: FlowSettings, guard: Guard) -> None:
        self.erp = erp
        self.settings = settings
        self.guard = guard

    async def ship(self, items: Sequence[ShipmentItem], rec: Recorder) -> None:
        ready: list[ShipmentItem] = []
        for work, shipment, event_id in items:
            if any(s.get("event_id") == event_id for s in work.erp.get("shipments") or []):
                rec.step(work, "shipment", "skipped", {"reason": "already applied"})
                continue
            if work.state not in ("released", "shipped"):
                rec.park(
                    work,
                    kinds.SHIPMENT_REJECTED,
                    f"a shipment was confirmed for an order that is {work.state}",
                    step="shipment",
                    erp={"pending_shipment": event_id},
                )
                continue
            ready.append((work, shipment, event_id))
        ids = [so["id"] for work, _, _ in ready for so in work.sale_orders]
        if not ids:
            return
        # the deliveries are read and validated under their sale orders' guard (then invoiced
        # under the invoices' guard, always in this order)
        async with self.guard(*(f"delivery:{i}" for i in ids)):
            await self._ship(ready, ids, rec)

    async def _ship(self, ready: Sequence[ShipmentItem], ids: list[int], rec: Recorder) -> None:
        chains: dict[int, list[PickingInfo]] = {}
        for picking in sorted(await self.erp.delivery_pickings(ids), key=lambda p: p.id):
            chains.setdefault(picking.order_id or 0, []).append(picking)
        shipped: list[Work] = []
        for work, shipment, event_id in ready:
            if await self._apply(work, shipment, event_id, chains, rec):
                shipped.append(work)
        await self.invoice(shipped, rec)

    def _target(
        self, work: Work, shipment: Shipment, chains: dict[int, list[PickingInfo]]
    ) -> tuple[dict[str, Any], PickingInfo] | None:
        orders = work.sale_orders
        same_warehouse = [so for so in orders if so.get("warehouse") == shipment.warehouse]
        candidates = same_warehouse or orders
        recorded: dict[int, int] = {}
        for done in work.erp.get("shipments") or []:
            recorded[done["sale_order_id"]] = recorded.get(done["sale_order_id"], 0) + 1
        skus = {line.sku for line in shipment.lines}
        for so in candidates:
            chain = chains.get(so["id"], [])
            index = recorded.get(so["id"], 0)
            if index < len(chain):
                picking = chain[index]
                if len(candidates) == 1 or skus <= {m.sku for m in picking.moves}:
                    return so, picking
        return None

    async def _apply(
        self,
        work: Work,
        shipment: Shipment,
        event_id: str,
        chains: dict[int, list[PickingInfo]],
        rec: Recorder,
    ) -> bool:
        target = self._target(work, shipment, chains)
        if target is None:
            rec.park(
                work,
                kinds.SHIPMENT_REJECTED,
                "no open delivery of the order matches this shipment",
                step="shipment",
                erp={"pending_shipment": event_id},
            )
            return False
        so, picking = target
        quantities: dict[str, Decimal] = {}
        for line in shipment.lines:
            quantities[line.sku] = quantities.get(line.sku, Decimal(0)) + line.quantity
        policy = self.settings.channel(work.order.channel).short_pick
        try:
            result = await self.erp.process_picking(
                picking.id, quantities, backorder="create" if policy == "backorder" else "cancel"
            )
        except OdooError as exc:
            if not kinds.is_record_error(exc):
                raise
            rec.park(
                work,
                kinds.SHIPMENT_REJECTED,
                str(exc),
                step="shipment",
                erp={"pending_shipment": event_id},
            )
            return False
        demand: dict[str, Decimal] = {}
        for move in picking.moves:
            demand[move.sku] = demand.get(move.sku, Decimal(0)) + move.demand
        short = {
            sku: str(q - quantities.get(sku, Decimal(0)))
            for sku, q in demand.items()
            if q > quantities.get(sku, Decimal(0))
        }
        record = {
            "event_id": event_id,
            "sale_order_id": so["id"],
            "sale_order": so["name"],
            "picking_id": picking.id,
            "picking": picking.name,
            "state": result.state,
            "backorders": list(result.backorder_ids),
            "shipped": {sku: str(q) for sku, q in quantities.items()},
            "short": short,
            "short_pick": policy if short else None,
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "ship_date": shipment.ship_date.isoformat() if shipment.ship_date else None,
        }
        still_open = [
            p.id
            for order in work.sale_orders
            for p in chains.get(order["id"], [])
            if p.state not in ("done", "cancel") and p.id != picking.id
        ] + list(result.backorder_ids)
        shipments = [*(work.erp.get("shipments") or []), record]
        rec.move(
            work,
            "shipped",
            erp={"shipments": shipments, "open_pickings": still_open, "pending_shipment": None},
            detail={"picking": picking.name, "short": short, "backorders": record["backorders"]},
            events=[ev.order_event(ev.DISPATCHED, work.record, record, event_id)],
        )
        return True

    # ------------------------------------------------------------------ invoices

    async def invoice(self, works: Sequence[Work], rec: Recorder) -> None:
        works = [w for w in works if w.sale_orders]
        if not works:
            return
        ids = [so["id"] for w in works for so in w.sale_orders]
        # invoicing is the ERP's own look-up (what is delivered and not invoiced) and create
        async with self.guard(*(f"invoice:{i}" for i in ids)):
            try:
                invoices = await self.erp.invoice_delivered(ids)
            except OdooError as exc:
                if not kinds.is_record_error(exc):
                    raise
                invoices = await self._invoice_one_by_one(works, rec)
        for work in works:
            if work.order_id in work.extra.get("invoice_failed", ()):
                continue
            self._record(work, invoices, rec)

    async def _invoice_one_by_one(self, works: Sequence[Work], rec: Recorder) -> list[Invoice]:
        invoices: list[Invoice] = []
        for work in works:
            try:
                invoices += await self.erp.invoice_delivered([so["id"] for so in work.sale_orders])
            except OdooError as exc:
                if not kinds.is_record_error(exc):
                    raise
                work.extra["invoice_failed"] = (work.order_id,)
                rec.park(work, kinds.INVOICE_FAILED, str(exc), step="invoice")
        return invoices

    def _record(self, work: Work, invoices: Sequence[Invoice], rec: Recorder) -> None:
        names = {so["name"] for so in work.sale_orders}
        known = {entry["id"] for entry in work.erp.get("invoices") or []}
        entries = [
            {
                "id": int(invoice.refs.get(self.settings.erp_system) or 0),
                "number": invoice.external_ref,
                "status": invoice.status,
                "currency": invoice.currency,
                "subtotal": str(invoice.subtotal),
                "tax_total": str(invoice.tax_total),
                "total": str(invoice.total),
                "sale_orders": sorted(names & set(invoice.order_refs)),
            }
            for invoice in invoices
            if names & set(invoice.order_refs) and invoice.status != "draft"
        ]
        new = [e for e in entries if e["id"] not in known]
        all_invoices = [*(work.erp.get("invoices") or []), *new]
        events = [
            ev.order_event(ev.INVOICE_POSTED, work.record, {"invoice": e}, str(e["id"]))
            for e in new
        ]
        complete = not work.erp.get("open_pickings")
        detail = {"invoices": [e["number"] for e in new]}
        if complete and all_invoices:
            rec.move(work, "invoiced", erp={"invoices": all_invoices}, detail=detail, events=events)
        elif new:
            rec.move(
                work,
                work.state,
                step="invoice_posted",
                erp={"invoices": all_invoices},
                detail={**detail, "open_pickings": work.erp.get("open_pickings")},
                events=events,
            )
        else:
            rec.step(work, "invoice", "waiting", {"reason": "nothing delivered to invoice yet"})
