"""Purchasing: idempotent purchase orders, confirmation, receipt (with lots/serials), vendor bills.

A purchase order's natural key is ``origin = "<source>:<external_ref>"``; the supplier is the
partner whose ``ref`` is the order's ``supplier_ref`` (suppliers are not created here).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.batching import BatchOutcome, bisect_batch, chunks
from crossdock.connectors.odoo.errors import OdooBusinessError, OdooError, UnknownCustomerError
from crossdock.connectors.odoo.mapping import m2o_id, purchase_key, purchase_order_vals
from crossdock.connectors.odoo.ops_base import OperationsBase, names_of
from crossdock.connectors.odoo.ops_pickings import PickingOperations
from crossdock.connectors.odoo.ops_sales import SalesOperations
from crossdock.connectors.odoo.records import PickingInfo, PurchaseRef, TransferResult
from crossdock.connectors.odoo.settings import BackorderPolicy
from crossdock.model import Invoice, PurchaseOrder, Receipt

__all__ = ["PurchasingOperations"]

_PO_FIELDS = ["name", "origin", "state", "company_id"]


def _po_ref(row: dict[str, Any]) -> PurchaseRef:
    return PurchaseRef(
        id=int(row["id"]),
        name=str(row["name"]),
        origin=str(row["origin"]),
        state=str(row["state"]),
        company_id=int(m2o_id(row["company_id"]) or 0),
    )


class PurchasingOperations(PickingOperations, SalesOperations, OperationsBase):
    async def create_purchase_orders(
        self, orders: Sequence[PurchaseOrder]
    ) -> BatchOutcome[str, PurchaseRef]:
        """Create the purchase orders not created yet (looked up by ``origin``)."""
        outcome: BatchOutcome[str, PurchaseRef] = BatchOutcome()
        unique = {purchase_key(o): o for o in orders}
        context = await self.all_companies_context()
        rows = await self.client.search_read(
            "purchase.order",
            [["origin", "in", sorted(unique)]],
            _PO_FIELDS,
            order="id",
            context=context,
        )
        for row in rows:
            key = str(row["origin"])
            if key not in outcome.done:
                outcome.done[key] = _po_ref(row)
                outcome.existing.add(key)
        pending = [o for k, o in unique.items() if k not in outcome.done]
        if not pending:
            return outcome
        company = await self.default_company_id()
        suppliers = await self.client.search_read(
            "res.partner",
            [["ref", "in", sorted({o.supplier_ref for o in pending})]],
            ["ref"],
            context=await self.company_context(company),
        )
        supplier_ids = {str(s["ref"]): int(s["id"]) for s in suppliers}
        products = await self.resolve_products(
            [line.sku for o in pending for line in o.lines], company_id=company
        )
        ready: list[tuple[PurchaseOrder, dict[str, Any]]] = []
        receipt_types: dict[int, list[dict[str, Any]]] = {}
        for order in pending:
            key = purchase_key(order)
            error: OdooError | None = None
            if order.supplier_ref not in supplier_ids:
                error = UnknownCustomerError(
                    f"unknown supplier {order.supplier_ref}",
                    model="res.partner",
                    record=f"res.partner ref={order.supplier_ref}",
                )
            else:
                bad = [products.errors[ln.sku] for ln in order.lines if ln.sku in products.errors]
                error = bad[0] if bad else None
            if error is not None:
                outcome.failed[key] = error.for_record(f"purchase.order {key}")
                continue
            warehouse = await self.warehouse(order.warehouse, company)
            if warehouse.id not in receipt_types:  # one lookup per warehouse, not per order
                receipt_types[warehouse.id] = await self.client.search_read(
                    "stock.picking.type",
                    [["code", "=", "incoming"], ["warehouse_id", "=", warehouse.id]],
                    ["id"],
                    limit=1,
                    context=await self.company_context(company),
                )
            picking_types = receipt_types[warehouse.id]
            ready.append(
                (
                    order,
                    purchase_order_vals(
                        order,
                        partner_id=supplier_ids[order.supplier_ref],
                        product_ids={sku: info.id for sku, info in products.found.items()},
                        product_names=names_of(products.found),
                        company_id=company,
                        picking_type_id=int(picking_types[0]["id"]) if picking_types else None,
                    ),
                )
            )
        create_context = await self.company_context(company)
        for chunk in chunks(ready, self.settings.batch_size):

            async def send(batch: Sequence[tuple[PurchaseOrder, dict[str, Any]]]) -> list[int]:
                return await self.client.create(
                    "purchase.order", [v for _, v in batch], context=create_context
                )

            created, failed = await bisect_batch(
                chunk, send, name=lambda item: f"purchase.order {purchase_key(item[0])}"
            )
            if created:
                rows = await self.client.read(
                    "purchase.order", [i for _, i in created], _PO_FIELDS, context=context
                )
                for row in rows:
                    outcome.done[str(row["origin"])] = _po_ref(row)
            for (order, _), err in failed:
                outcome.failed[purchase_key(order)] = err
        return outcome

    async def confirm_purchase_orders(self, order_ids: Sequence[int]) -> None:
        """``button_confirm`` the draft/sent ones (confirming twice is harmless)."""
        context = await self.all_companies_context()
        rows = await self.client.read("purchase.order", list(order_ids), ["state"], context=context)
        todo = [int(r["id"]) for r in rows if r["state"] in ("draft", "sent")]
        if todo:
            await self.client.call("purchase.order", "button_confirm", todo, context=context)

    async def receipt_pickings(self, order_ids: Sequence[int]) -> list[PickingInfo]:
        return await self.read_pickings(
            [["purchase_id", "in", list(order_ids)], ["picking_type_code", "=", "incoming"]]
        )

    async def receive(
        self, order_id: int, receipt: Receipt, *, backorder: BackorderPolicy | None = None
    ) -> TransferResult:
        """Receive goods against a confirmed purchase order, with lots/serials when tracked."""
        open_pickings = [
            p for p in await self.receipt_pickings([order_id]) if p.state not in ("done", "cancel")
        ]
        if not open_pickings:
            raise OdooBusinessError(
                "nothing left to receive", model="purchase.order", record=f"id={order_id}"
            )
        quantities: dict[str, Decimal] = {}
        lots: dict[str, list[tuple[str, Decimal]]] = {}
        for line in receipt.lines:
            quantities[line.sku] = quantities.get(line.sku, Decimal(0)) + line.quantity
            if line.serials:
                lots.setdefault(line.sku, []).extend((s, Decimal(1)) for s in line.serials)
            elif line.lot:
                lots.setdefault(line.sku, []).append((line.lot, line.quantity))
        return await self.process_picking(
            open_pickings[0].id, quantities, lots=lots, backorder=backorder
        )

    async def create_vendor_bills(
        self, order_ids: Sequence[int], *, post: bool = False
    ) -> list[Invoice]:
        """Vendor bills of received quantities (``action_create_invoice``); post them on request.

        Orders that already have a bill get no second one.
        """
        context = await self.all_companies_context()
        rows = await self.client.read(
            "purchase.order", list(order_ids), ["invoice_ids", "invoice_status"], context=context
        )
        todo = [int(r["id"]) for r in rows if r["invoice_status"] == "to invoice"]
        if todo:
            await self.client.call("purchase.order", "action_create_invoice", todo, context=context)
            rows = await self.client.read(
                "purchase.order", list(order_ids), ["invoice_ids"], context=context
            )
        bill_ids = sorted({i for r in rows for i in r["invoice_ids"]})
        if post and bill_ids:
            bills = await self.client.read(
                "account.move", bill_ids, ["state", "invoice_date"], context=context
            )
            drafts = [b for b in bills if b["state"] == "draft"]
            undated = [int(b["id"]) for b in drafts if not b["invoice_date"]]
            if undated:
                today = datetime.now(UTC).date().isoformat()
                await self.client.write(
                    "account.move", undated, {"invoice_date": today}, context=context
                )
            if drafts:
                await self.client.call(
                    "account.move", "action_post", [int(b["id"]) for b in drafts], context=context
                )
        return await self.read_invoices(bill_ids) if bill_ids else []
