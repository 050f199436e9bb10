"""Returns on Odoo: the return picking of a delivery (``stock.return.picking``), its receipt,
quarantine and scrap of inspected goods, and the credit note (``account.move.reversal``).

Every document is keyed by the RMA so that a retried call finds what it made:

* the return picking's ``origin`` is written to the key right after the wizard made it; from 18
  a return picking not yet stamped (``return_id`` = the delivery, ``origin`` still "Return of …")
  is adopted, which closes the gap of a crash between the two calls;
* an internal transfer to quarantine and a scrap order carry ``<key>/<sku>`` as ``origin``;
* the credit note is made with the key as its reason, which Odoo writes into its ``ref``
  ("Reversal of: INV/…, <key>"), in the same call that makes it.

A credit note is Odoo's full reversal of the invoice, then cut to the returned quantities while
it is a draft (lines of other products removed, quantities lowered), then posted.
Method and field names that differ between versions come from the dialect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.errors import OdooBusinessError
from crossdock.connectors.odoo.mapping import decimal, m2o_id
from crossdock.connectors.odoo.ops_pickings import PickingOperations
from crossdock.connectors.odoo.records import TransferResult
from crossdock.connectors.odoo.returns_records import (
    CreditNoteRef,
    ReturnDisposal,
    ReturnPickingRef,
)

__all__ = ["ReturnOperations"]

_RETURN_FIELDS = ["name", "state", "origin", "location_id", "location_dest_id", "company_id"]


class ReturnOperations(PickingOperations):
    # ------------------------------------------------------------------ return rules

    async def product_categories(self, skus: Sequence[str]) -> dict[str, str]:
        """``categ_id`` of the products by ``default_code``: its display name is the category's
        full name (``complete_name``, ``All / Saleable``)."""
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        rows = await self.client.search_read(
            "product.product",
            [["default_code", "in", wanted]],
            ["default_code", "categ_id"],
            context=await self.all_companies_context(),
        )
        found: dict[str, str] = {}
        for row in rows:
            category = row.get("categ_id")
            if isinstance(category, list | tuple) and len(category) > 1 and row["default_code"]:
                found[str(row["default_code"])] = str(category[1])
        return found

    # ------------------------------------------------------------------ return picking

    async def create_return_picking(
        self, key: str, delivery_id: int, quantities: Mapping[str, Decimal]
    ) -> ReturnPickingRef:
        context = await self.all_companies_context()
        found = await self.client.search_read(
            "stock.picking", [["origin", "=", key]], ["name", "state"], limit=1, context=context
        )
        if found:
            row = found[0]
            return ReturnPickingRef(
                int(row["id"]), str(row["name"]), str(row["state"]), key, delivery_id
            )
        deliveries = await self.read_pickings([["id", "=", delivery_id]])
        delivery = deliveries[0] if deliveries else None
        if delivery is None or delivery.state != "done":
            raise OdooBusinessError(
                f"no done delivery {delivery_id} to return from",
                model="stock.picking",
                record=f"id={delivery_id}",
            )
        adopted = await self._unstamped_return(delivery_id, context)
        if adopted is None:
            lines: list[dict[str, Any]] = []
            for sku, qty in quantities.items():
                moves = [m for m in delivery.moves if m.sku == sku and m.state == "done"]
                if not moves:
                    raise OdooBusinessError(
                        f"{sku} was not delivered by {delivery.name}",
                        model="stock.picking",
                        record=delivery.name,
                    )
                lines.append(
                    {
                        "product_id": moves[0].product_id,
                        "quantity": float(qty),
                        "move_id": moves[0].id,
                    }
                )
            [picking_row] = await self.client.read(
                "stock.picking", [delivery_id], ["location_id"], context=context
            )
            wizard_context = {
                **context,
                "active_id": delivery_id,
                "active_ids": [delivery_id],
                "active_model": "stock.picking",
            }
            [wizard_id] = await self.client.create(
                "stock.return.picking",
                [self.dialect.return_wizard_vals({"id": delivery_id, **picking_row}, lines)],
                context=wizard_context,
            )
            action = await self.client.call(
                "stock.return.picking",
                self.dialect.return_wizard_method,
                [wizard_id],
                context=wizard_context,
            )
            adopted = int(action["res_id"]) if isinstance(action, dict) else None
            if adopted is None:
                raise OdooBusinessError(
                    f"the return of {delivery.name} made no picking", model="stock.return.picking"
                )
        await self.client.write("stock.picking", [adopted], {"origin": key}, context=context)
        [row] = await self.client.read(
            "stock.picking", [adopted], ["name", "state"], context=context
        )
        return ReturnPickingRef(adopted, str(row["name"]), str(row["state"]), key, delivery_id)

    async def _unstamped_return(self, delivery_id: int, context: Mapping[str, Any]) -> int | None:
        if not self.dialect.has_return_id:
            return None
        rows = await self.client.search_read(
            "stock.picking",
            [
                ["return_id", "=", delivery_id],
                ["origin", "=like", "Return of %"],
                ["state", "not in", ["done", "cancel"]],
            ],
            ["id"],
            order="id",
            limit=1,
            context=context,
        )
        return int(rows[0]["id"]) if rows else None

    # ------------------------------------------------------------------ receipt and disposal

    async def receive_return(
        self, picking_id: int, quantities: Mapping[str, Decimal]
    ) -> TransferResult:
        context = await self.all_companies_context()
        rows = await self.client.read("stock.picking", [picking_id], ["state"], context=context)
        if not rows:
            raise OdooBusinessError(f"no picking {picking_id}", model="stock.picking")
        if str(rows[0]["state"]) in ("done", "cancel"):
            return TransferResult(picking_id, str(rows[0]["state"]))
        if all(q <= 0 for q in quantities.values()):
            # nothing came: the return is cancelled rather than validated empty
            await self.client.call("stock.picking", "action_cancel", [picking_id], context=context)
            return TransferResult(picking_id, "cancel")
        return await self.process_picking(
            picking_id, {s: q for s, q in quantities.items() if q > 0}, backorder="cancel"
        )

    async def dispose_returned(
        self,
        key: str,
        picking_id: int,
        disposals: Sequence[ReturnDisposal],
        *,
        quarantine_location: str | None = None,
    ) -> list[str]:
        context = await self.all_companies_context()
        [picking] = await self.client.read(
            "stock.picking", [picking_id], _RETURN_FIELDS, context=context
        )
        if picking["state"] != "done":
            raise OdooBusinessError(
                f"return {picking['name']} is not received",
                model="stock.picking",
                record=str(picking["name"]),
            )
        company_id = int(m2o_id(picking["company_id"]) or 0)
        stock_location = int(m2o_id(picking["location_dest_id"]) or 0)
        products = await self.resolve_products([d.sku for d in disposals], company_id=company_id)
        names: list[str] = []
        for disposal in disposals:
            if disposal.disposition == "restock" or disposal.quantity <= 0:
                continue
            origin = f"{key}/{disposal.sku}"
            product = products.found.get(disposal.sku)
            if product is None:
                raise products.errors.get(disposal.sku) or OdooBusinessError(
                    f"unknown SKU {disposal.sku}"
                )
            if disposal.disposition == "scrap":
                names.append(
                    await self._scrap(
                        origin,
                        product.id,
                        disposal.quantity,
                        stock_location,
                        picking_id,
                        company_id,
                        context,
                    )
                )
            else:
                if not quarantine_location:
                    raise OdooBusinessError("no quarantine location is configured")
                names.append(
                    await self._quarantine(
                        origin,
                        product.id,
                        disposal,
                        stock_location,
                        quarantine_location,
                        company_id,
                        context,
                    )
                )
        return names

    async def _scrap(
        self,
        origin: str,
        product_id: int,
        quantity: Decimal,
        location_id: int,
        picking_id: int,
        company_id: int,
        context: Mapping[str, Any],
    ) -> str:
        found = await self.client.search_read(
            "stock.scrap", [["origin", "=", origin]], ["name", "state"], limit=1, context=context
        )
        if found:
            scrap_id = int(found[0]["id"])
        else:
            [scrap_id] = await self.client.create(
                "stock.scrap",
                [
                    {
                        "product_id": product_id,
                        "scrap_qty": float(quantity),
                        "location_id": location_id,
                        "picking_id": picking_id,
                        "origin": origin,
                        "company_id": company_id,
                    }
                ],
                context=context,
            )
        [row] = await self.client.read(
            "stock.scrap", [scrap_id], ["name", "state"], context=context
        )
        if row["state"] != "done":
            await self.client.call("stock.scrap", "action_validate", [scrap_id], context=context)
            [row] = await self.client.read(
                "stock.scrap", [scrap_id], ["name", "state"], context=context
            )
            if row["state"] != "done":
                raise OdooBusinessError(
                    f"scrap {row['name']} was not validated",
                    model="stock.scrap",
                    record=str(row["name"]),
                )
        return str(row["name"])

    async def _quarantine(
        self,
        origin: str,
        product_id: int,
        disposal: ReturnDisposal,
        location_id: int,
        quarantine: str,
        company_id: int,
        context: Mapping[str, Any],
    ) -> str:
        found = await self.client.search_read(
            "stock.picking",
            [["origin", "=", origin]],
            ["name", "state"],
            limit=1,
            context=context,
        )
        if found:
            picking_id = int(found[0]["id"])
        else:
            locations = await self.client.search_read(
                "stock.location",
                [["complete_name", "=", quarantine], ["company_id", "in", [company_id, False]]],
                ["id"],
                limit=1,
                context=context,
            )
            if not locations:
                raise OdooBusinessError(
                    f"no location {quarantine}", model="stock.location", record=quarantine
                )
            warehouse = await self.warehouse(None, company_id)
            types = await self.client.search_read(
                "stock.picking.type",
                [["code", "=", "internal"], ["warehouse_id", "=", warehouse.id]],
                ["id"],
                limit=1,
                context=context,
            )
            if not types:
                raise OdooBusinessError(
                    f"no internal transfer type in {warehouse.code}", model="stock.picking.type"
                )
            [uom] = await self.client.read(
                "product.product", [product_id], ["uom_id"], context=context
            )
            destination = int(locations[0]["id"])
            move = {
                **self.dialect.move_description_vals(origin),
                "product_id": product_id,
                "product_uom_qty": float(disposal.quantity),
                "product_uom": m2o_id(uom["uom_id"]),
                "location_id": location_id,
                "location_dest_id": destination,
                "company_id": company_id,
            }
            [picking_id] = await self.client.create(
                "stock.picking",
                [
                    {
                        "picking_type_id": int(types[0]["id"]),
                        "location_id": location_id,
                        "location_dest_id": destination,
                        "origin": origin,
                        "company_id": company_id,
                        "move_ids": [(0, 0, move)],
                    }
                ],
                context=context,
            )
            await self.client.call("stock.picking", "action_confirm", [picking_id], context=context)
        result = await self.process_picking(
            picking_id, {disposal.sku: disposal.quantity}, backorder="cancel"
        )
        [row] = await self.client.read(
            "stock.picking", [result.picking_id], ["name"], context=context
        )
        return str(row["name"])

    # ------------------------------------------------------------------ credit note

    async def invoice_lines(self, invoice_ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
        if not invoice_ids:
            return {}
        rows = await self.client.search_read(
            "account.move.line",
            [["move_id", "in", list(invoice_ids)], ["display_type", "=", "product"]],
            ["move_id", "product_id", "quantity"],
            context=await self.all_companies_context(),
        )
        skus = await self.skus_of(int(m2o_id(r["product_id"]) or 0) for r in rows)
        out: dict[int, dict[str, Decimal]] = {}
        for row in rows:
            sku = skus.get(int(m2o_id(row["product_id"]) or 0))
            if sku is None:
                continue
            per = out.setdefault(int(m2o_id(row["move_id"]) or 0), {})
            per[sku] = per.get(sku, Decimal(0)) + decimal(row["quantity"])
        return out

    async def create_credit_note(
        self, key: str, invoice_id: int, quantities: Mapping[str, Decimal], *, post: bool = True
    ) -> CreditNoteRef:
        context = await self.all_companies_context()
        found = await self.client.search_read(
            "account.move",
            [
                ["move_type", "=", "out_refund"],
                ["reversed_entry_id", "=", invoice_id],
                ["ref", "=like", f"%, {key}"],
            ],
            ["id"],
            limit=1,
            context=context,
        )
        if found:
            note_id = int(found[0]["id"])
        else:
            invoices = await self.client.read(
                "account.move",
                [invoice_id],
                ["state", "name", "journal_id", "company_id"],
                context=context,
            )
            if not invoices or invoices[0]["state"] != "posted":
                raise OdooBusinessError(
                    f"no posted invoice {invoice_id}",
                    model="account.move",
                    record=f"id={invoice_id}",
                )
            wizard_context = {
                **context,
                "active_model": "account.move",
                "active_ids": [invoice_id],
                "active_id": invoice_id,
            }
            [wizard_id] = await self.client.create(
                "account.move.reversal",
                [
                    {
                        "move_ids": [(6, 0, [invoice_id])],
                        "reason": key,
                        "journal_id": m2o_id(invoices[0]["journal_id"]),
                        "company_id": m2o_id(invoices[0]["company_id"]),
                        **self.dialect.reversal_vals(),
                    }
                ],
                context=wizard_context,
            )
            await self.client.call(
                "account.move.reversal",
                self.dialect.reversal_method,
                [wizard_id],
                context=wizard_context,
            )
            [wizard] = await self.client.read(
                "account.move.reversal", [wizard_id], ["new_move_ids"], context=wizard_context
            )
            if not wizard["new_move_ids"]:
                raise OdooBusinessError(
                    f"the reversal of invoice {invoice_id} made nothing",
                    model="account.move.reversal",
                )
            note_id = int(wizard["new_move_ids"][0])
        return await self._cut_and_post(note_id, key, invoice_id, quantities, post, context)

    async def _cut_and_post(
        self,
        note_id: int,
        key: str,
        invoice_id: int,
        quantities: Mapping[str, Decimal],
        post: bool,
        context: Mapping[str, Any],
    ) -> CreditNoteRef:
        fields = ["name", "state", "currency_id", "amount_untaxed", "amount_total"]
        [note] = await self.client.read("account.move", [note_id], fields, context=context)
        if note["state"] == "draft":
            lines = await self.client.search_read(
                "account.move.line",
                [["move_id", "=", note_id], ["display_type", "=", "product"]],
                ["product_id", "quantity"],
                order="id",
                context=context,
            )
            skus = await self.skus_of(int(m2o_id(r["product_id"]) or 0) for r in lines)
            left = {sku: Decimal(q) for sku, q in quantities.items()}
            commands: list[Any] = []
            for line in lines:
                sku = skus.get(int(m2o_id(line["product_id"]) or 0), "")
                take = min(left.get(sku, Decimal(0)), decimal(line["quantity"]))
                if take <= 0:
                    commands.append((2, int(line["id"]), 0))
                else:
                    left[sku] -= take
                    if take != decimal(line["quantity"]):
                        commands.append((1, int(line["id"]), {"quantity": float(take)}))
            short = {s: q for s, q in left.items() if q > 0}
            if short:
                raise OdooBusinessError(
                    "invoice lacks what is credited: "
                    + ", ".join(f"{q} of {s}" for s, q in short.items()),
                    model="account.move",
                    record=f"id={invoice_id}",
                )
            if commands:
                await self.client.write(
                    "account.move", [note_id], {"invoice_line_ids": commands}, context=context
                )
            if post:
                await self.client.call("account.move", "action_post", [note_id], context=context)
            [note] = await self.client.read("account.move", [note_id], fields, context=context)
        currency = note["currency_id"]
        return CreditNoteRef(
            id=note_id,
            number=str(note["name"]),
            state=str(note["state"]),
            key=key,
            invoice_id=invoice_id,
            currency=str(currency[1]) if isinstance(currency, list) else "",
            subtotal=decimal(note["amount_untaxed"], 2),
            total=decimal(note["amount_total"], 2),
        )
