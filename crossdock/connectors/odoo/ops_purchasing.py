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
from crossdock.connectors.odoo.records import MoveInfo, PickingInfo, PurchaseRef, TransferResult
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
        outcome = await self.receive_many([(order_id, receipt)], backorder=backorder)
        outcome.raise_first()
        return outcome.done[order_id]

    async def receive_many(
        self,
        receipts: Sequence[tuple[int, Receipt]],
        *,
        backorder: BackorderPolicy | None = None,
        policies: Sequence[BackorderPolicy] | None = None,
    ) -> BatchOutcome[int, TransferResult]:
        """Receive goods against many confirmed purchase orders, by purchase order id.

        Each order's oldest open receipt takes its goods: the receipts and their moves are read
        in one search, the quantities written with one ``write`` per distinct quantity (moves
        already holding theirs only marked picked, lots and serials per tracked move), and all
        of them validated with one ``button_validate`` whose backorder wizard is answered per
        ``backorder`` (default: settings), or per receipt by ``policies`` (one per receipt, in
        order: the wizard then says per picking whether it keeps a backorder). A receipt Odoo
        refuses is isolated by bisection and reported alone; an order received twice in the
        list is received in a second round (its backorder takes the second receipt).
        """
        default = backorder or self.settings.backorder
        if policies is not None and len(policies) != len(receipts):
            raise ValueError("policies: one per receipt")
        outcome: BatchOutcome[int, TransferResult] = BatchOutcome()
        rounds: list[dict[int, tuple[Receipt, BackorderPolicy]]] = []
        for index, (order_id, receipt) in enumerate(receipts):
            free = next((r for r in rounds if order_id not in r), None)
            if free is None:
                free = {}
                rounds.append(free)
            free[order_id] = (receipt, policies[index] if policies is not None else default)
        for batch in rounds:
            for chunk in chunks(list(batch.items()), self.settings.batch_size):
                await self._receive_round(dict(chunk), outcome)
        return outcome

    async def _receive_round(
        self,
        receipts: dict[int, tuple[Receipt, BackorderPolicy]],
        outcome: BatchOutcome[int, TransferResult],
    ) -> None:
        """One receipt per order: quantities written, then validated together."""
        context = {**await self.all_companies_context(), "skip_sms": True}
        picking_of: dict[int, PickingInfo] = {}
        for found in await self.read_pickings(
            [
                ["purchase_id", "in", sorted(receipts)],
                ["picking_type_code", "=", "incoming"],
                ["state", "not in", ["done", "cancel"]],
            ],
            order_field="purchase_id",
        ):
            picking_of.setdefault(found.order_id or 0, found)  # the oldest open one
        by_value: dict[float, list[int]] = {}
        picked_only: list[int] = []
        ready: list[tuple[int, int]] = []
        policy_of: dict[int, BackorderPolicy] = {}
        for order_id, (receipt, policy) in receipts.items():
            picking = picking_of.get(order_id)
            if picking is None:
                outcome.failed[order_id] = OdooBusinessError(
                    "nothing left to receive", model="purchase.order", record=f"id={order_id}"
                )
                continue
            try:
                writes = _receipt_writes(picking, receipt)
            except OdooBusinessError as error:
                outcome.failed[order_id] = error
                continue
            for move, take, move_lots in writes:
                if move_lots:
                    await self._write_lots(move, picking, move_lots, context)
                elif self.dialect.has_picked and take > 0 and move.quantity == take:
                    # Odoo already holds the quantity received (a receipt's moves come with
                    # their demand): marked picked, the move lines are left as they are
                    picked_only.append(move.id)
                else:
                    by_value.setdefault(float(take), []).append(move.id)
            ready.append((order_id, picking.id))
            policy_of[picking.id] = policy
        for quantity, move_ids in by_value.items():
            await self.client.write(
                "stock.move", move_ids, self.dialect.shipped_move_vals(quantity), context=context
            )
        if picked_only:
            await self.client.write("stock.move", picked_only, {"picked": True}, context=context)

        async def send(batch: Sequence[tuple[int, int]]) -> list[tuple[str, ...]]:
            answered = await self.validate_many([p for _, p in batch], policy_of, context)
            return [answered] * len(batch)

        validated, failed = await bisect_batch(
            ready, send, name=lambda item: f"purchase.order id={item[0]}"
        )
        for (order_id, _), refused in failed:
            outcome.failed[order_id] = refused
        if not validated:
            return
        picking_ids = [p for (_, p), _ in validated]
        validated_ids = set(picking_ids)
        # the validated pickings' states and the backorders they left, in one search
        rows = await self.client.search_read(
            "stock.picking",
            ["|", ["id", "in", picking_ids], ["backorder_id", "in", picking_ids]],
            ["state", "backorder_id"],
            order="id",
            context=context,
        )
        state_of: dict[int, str] = {}
        backorders_of: dict[int, list[int]] = {}
        for row in rows:
            state_of.setdefault(int(row["id"]), str(row["state"]))
            parent = int(m2o_id(row["backorder_id"]) or 0)
            if parent in validated_ids:
                backorders_of.setdefault(parent, []).append(int(row["id"]))
        for (order_id, picking_id), answered in validated:
            outcome.done[order_id] = TransferResult(
                picking_id,
                state_of.get(picking_id, ""),
                tuple(backorders_of.get(picking_id, ())),
                answered,
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


def _receipt_writes(
    picking: PickingInfo, receipt: Receipt
) -> list[tuple[MoveInfo, Decimal, list[tuple[str, Decimal]]]]:
    """What a receipt writes on its picking's open moves: ``(move, quantity, lots)``; every move
    of a SKU takes up to its demand and the last one the rest (absent SKUs: 0), lots and serials
    go to a SKU's first move. Refused: a picking in draft or cancelled, SKUs not in the picking,
    nothing to receive at all."""
    if picking.state in ("cancel", "draft"):
        raise OdooBusinessError(
            f"picking {picking.name} is {picking.state}", model="stock.picking", record=picking.name
        )
    quantities: dict[str, Decimal] = {}
    lots: dict[str, list[tuple[str, Decimal]]] = {}
    for line in receipt.lines:
        quantities[line.sku] = quantities.get(line.sku, Decimal(0)) + line.quantity
        if line.serials:
            lots.setdefault(line.sku, []).extend((s, Decimal(1)) for s in line.serials)
        elif line.lot:
            lots.setdefault(line.sku, []).append((line.lot, line.quantity))
    unknown = set(quantities) - {m.sku for m in picking.moves}
    if unknown:
        raise OdooBusinessError(
            f"SKUs not in picking {picking.name}: {', '.join(sorted(unknown))}",
            model="stock.picking",
            record=picking.name,
        )
    moves_by_sku: dict[str, list[MoveInfo]] = {}
    for move in picking.moves:
        if move.state not in ("done", "cancel"):
            moves_by_sku.setdefault(move.sku, []).append(move)
    if not lots and all(quantities.get(sku, Decimal(0)) <= 0 for sku in moves_by_sku):
        raise OdooBusinessError(
            f"nothing to process in picking {picking.name}: every quantity is 0",
            model="stock.picking",
            record=picking.name,
        )
    writes: list[tuple[MoveInfo, Decimal, list[tuple[str, Decimal]]]] = []
    for sku, moves in moves_by_sku.items():
        left = quantities.get(sku, Decimal(0))
        for index, move in enumerate(moves):
            take = left if index == len(moves) - 1 else min(left, move.demand)
            left -= take
            move_lots = lots.get(sku, [])
            if move_lots and index > 0:
                continue  # the lots went to the SKU's first move
            writes.append((move, take, move_lots))
    return writes
