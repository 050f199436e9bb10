"""Landed costs (Odoo module ``stock_landed_costs``): charges capitalised into the value of the
goods a purchase order received.

A request becomes one ``stock.landed.cost`` on the order's validated receipts (``picking_ids``),
one cost line (``stock.landed.cost.lines``) per charge with its landed-cost product and split
method, computed (``compute_landed_cost``: the valuation adjustment lines) and, on request,
validated (``button_validate``: the valuation layers, the journal entry and the products'
average cost). Its natural key is kept in ``description``: a request whose key exists is
answered with that landed cost (a draft one is computed and validated again), never made twice.

Refused per request (in the outcome's ``failed``): the module not installed
(:class:`LandedCostsNotInstalled`), a product unknown or not a landed cost (``landed_cost_ok``),
an order without a validated receipt, and what Odoo refuses on validation (goods not valued at
FIFO or average cost …; the landed cost then stays in draft, named in the error).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.batching import BatchOutcome, bisect_batch, chunks
from crossdock.connectors.odoo.errors import OdooBusinessError, OdooError
from crossdock.connectors.odoo.landed_cost_records import (
    LandedCharge,
    LandedCostRef,
    LandedCostRequest,
    LandedCostsNotInstalled,
)
from crossdock.connectors.odoo.mapping import m2o_id
from crossdock.connectors.odoo.ops_base import OperationsBase

__all__ = ["LandedCostOperations"]

_MODEL = "stock.landed.cost"
_FIELDS = ["name", "state", "amount_total", "picking_ids", "description", "vendor_bill_id"]


class LandedCostOperations(OperationsBase):
    _landed_costs_installed = False

    async def landed_costs_installed(self) -> bool:
        """Whether the ERP has landed costs (asked once it has; the module may come later)."""
        if not self._landed_costs_installed:
            fields = await self.client.call("product.product", "fields_get", attributes=["type"])
            self._landed_costs_installed = "landed_cost_ok" in fields
        return self._landed_costs_installed

    async def create_landed_costs(
        self, requests: Sequence[LandedCostRequest]
    ) -> BatchOutcome[str, LandedCostRef]:
        """One landed cost per request on its order's validated receipts (see the module)."""
        outcome: BatchOutcome[str, LandedCostRef] = BatchOutcome()
        unique = {r.key: r for r in requests}
        if not unique:
            return outcome
        if not await self.landed_costs_installed():
            for key in unique:
                outcome.failed[key] = LandedCostsNotInstalled(
                    "landed costs need the Odoo module stock_landed_costs, which is not installed",
                    model=_MODEL,
                    record=key,
                )
            return outcome
        context = await self.all_companies_context()
        existing = await self.client.search_read(
            _MODEL,
            [["description", "in", sorted(unique)], ["state", "!=", "cancel"]],
            ["description", "state"],
            order="id",
            context=context,
        )
        found: dict[str, tuple[int, str]] = {}
        for row in existing:
            found.setdefault(str(row["description"]), (int(row["id"]), str(row["state"])))
        pending = [r for k, r in unique.items() if k not in found]
        products = await self._landed_cost_products(
            sorted({c.product_sku for r in pending for c in r.charges}), context
        )
        receipts = await self._done_receipts(sorted({r.order_id for r in pending}), context)
        bills = await self._draft_bills(
            sorted({r.order_id for r in pending if r.on_vendor_bill}), context
        )
        ready: list[tuple[LandedCostRequest, dict[str, Any], int]] = []
        for request in pending:
            error = _refusal(request, products, receipts)
            if error is not None:
                outcome.failed[request.key] = error
                continue
            pickings = receipts[request.order_id]
            vals: dict[str, Any] = {
                "description": request.key,
                "target_model": "picking",
                "picking_ids": [(6, 0, [p for p, _ in pickings])],
                "cost_lines": [(0, 0, _cost_line(c, products)) for c in request.charges],
            }
            if request.date is not None:
                vals["date"] = request.date.isoformat()
            if request.on_vendor_bill and request.order_id in bills:
                vals["vendor_bill_id"] = bills[request.order_id]
            ready.append((request, vals, pickings[0][1]))
        made: dict[str, int] = {}
        for chunk in chunks(ready, self.settings.batch_size):
            by_company: dict[int, list[tuple[LandedCostRequest, dict[str, Any], int]]] = {}
            for item in chunk:
                by_company.setdefault(item[2], []).append(item)
            for company, items in by_company.items():
                create_context = await self.company_context(company)

                async def send(
                    batch: Sequence[tuple[LandedCostRequest, dict[str, Any], int]],
                    create_context: dict[str, Any] = create_context,
                ) -> list[int]:
                    return await self.client.create(
                        _MODEL, [v for _, v, _ in batch], context=create_context
                    )

                created, failed = await bisect_batch(
                    items, send, name=lambda item: f"{_MODEL} {item[0].key}"
                )
                for (request, vals, _), cost_id in created:
                    made[request.key] = cost_id
                    if vals.get("vendor_bill_id"):
                        try:
                            await self._bill_charges(vals, context)
                        except OdooBusinessError as unbilled:
                            outcome.failed[request.key] = unbilled
                for (request, _, _), err in failed:
                    outcome.failed[request.key] = err
        drafts = {k: i for k, (i, state) in found.items() if state == "draft"}
        drafts.update(made)
        # button_validate computes a landed cost that has no adjustment lines yet; a draft kept
        # as a draft is computed. Each call is bisected: one refused landed cost fails alone.
        for method, todo in (
            ("compute_landed_cost", [(k, i) for k, i in made.items() if not unique[k].validate]),
            ("button_validate", [(k, i) for k, i in drafts.items() if unique[k].validate]),
        ):

            async def run(batch: Sequence[tuple[str, int]], method: str = method) -> list[bool]:
                await self.client.call(_MODEL, method, [i for _, i in batch], context=context)
                return [True] * len(batch)

            _, refused = await bisect_batch(todo, run, name=lambda item: f"{_MODEL} {item[0]}")
            for (key, _), err in refused:
                outcome.failed[key] = err
        ids = {**{k: i for k, (i, _) in found.items()}, **made}
        rows = await self.client.read(_MODEL, sorted(ids.values()), _FIELDS, context=context)
        picking_ids = sorted({p for row in rows for p in row["picking_ids"]})
        names = {
            int(r["id"]): str(r["name"])
            for r in await self.client.read("stock.picking", picking_ids, ["name"], context=context)
        }
        for row in rows:
            key = str(row["description"])
            ref = LandedCostRef(
                id=int(row["id"]),
                name=str(row["name"]),
                state=str(row["state"]),
                amount_total=Decimal(str(row["amount_total"] or 0)).quantize(Decimal("0.01")),
                pickings=tuple(names.get(int(p), str(p)) for p in row["picking_ids"]),
                vendor_bill_id=m2o_id(row.get("vendor_bill_id")),
            )
            if key in outcome.failed:
                error = outcome.failed[key]
                where = "left in draft" if ref.state == "draft" else f"made ({ref.state})"
                outcome.failed[key] = OdooBusinessError(
                    f"landed cost {ref.name} {where}: {error.message}",
                    odoo_name=error.odoo_name,
                    model=_MODEL,
                    method=error.method,
                    record=key,
                )
                continue
            outcome.done[key] = ref
            if key in found:
                outcome.existing.add(key)
        return outcome

    async def _draft_bills(self, order_ids: list[int], context: dict[str, Any]) -> dict[int, int]:
        """The latest draft vendor bill of each order (that can still take lines)."""
        if not order_ids:
            return {}
        orders = await self.client.read(
            "purchase.order", order_ids, ["invoice_ids"], context=context
        )
        bill_ids = sorted({int(i) for o in orders for i in o["invoice_ids"]})
        drafts = {
            int(r["id"])
            for r in await self.client.read(
                "account.move", bill_ids, ["state", "move_type"], context=context
            )
            if r["state"] == "draft" and r["move_type"] == "in_invoice"
        }
        out: dict[int, int] = {}
        for order in orders:
            mine = [int(i) for i in order["invoice_ids"] if int(i) in drafts]
            if mine:
                out[int(order["id"])] = max(mine)
        return out

    async def _bill_charges(self, vals: dict[str, Any], context: dict[str, Any]) -> None:
        """The charges as landed-cost lines of the vendor bill (right after the landed cost is
        made: a retry finds the landed cost and adds no second set)."""
        lines = [
            (
                0,
                0,
                {
                    "product_id": line["product_id"],
                    "name": line["name"],
                    "quantity": 1,
                    "price_unit": line["price_unit"],
                    "is_landed_costs_line": True,
                },
            )
            for _, _, line in vals["cost_lines"]
        ]
        await self.client.write(
            "account.move",
            [int(vals["vendor_bill_id"])],
            {"invoice_line_ids": lines},
            context=context,
        )

    async def _landed_cost_products(
        self, skus: list[str], context: dict[str, Any]
    ) -> dict[str, tuple[int, str | None] | None]:
        """Per SKU: ``(product id, default split method)``; ``None``: not a landed cost."""
        if not skus:
            return {}
        rows = await self.client.search_read(
            "product.product",
            [["default_code", "in", skus]],
            ["default_code", "landed_cost_ok", "split_method_landed_cost"],
            order="id",
            context=context,
        )
        out: dict[str, tuple[int, str | None] | None] = {}
        for row in rows:
            sku = str(row["default_code"])
            if row.get("landed_cost_ok"):
                out[sku] = (int(row["id"]), row.get("split_method_landed_cost") or None)
            else:
                out.setdefault(sku, None)
        return out

    async def _done_receipts(
        self, order_ids: list[int], context: dict[str, Any]
    ) -> dict[int, list[tuple[int, int]]]:
        """Validated receipts per purchase order: ``(picking id, company id)``, oldest first."""
        if not order_ids:
            return {}
        rows = await self.client.search_read(
            "stock.picking",
            [
                ["purchase_id", "in", order_ids],
                ["picking_type_code", "=", "incoming"],
                ["state", "=", "done"],
            ],
            ["purchase_id", "company_id"],
            order="id",
            context=context,
        )
        out: dict[int, list[tuple[int, int]]] = {}
        for row in rows:
            out.setdefault(int(m2o_id(row["purchase_id"]) or 0), []).append(
                (int(row["id"]), int(m2o_id(row["company_id"]) or 0))
            )
        return out


def _cost_line(
    charge: LandedCharge, products: dict[str, tuple[int, str | None] | None]
) -> dict[str, Any]:
    product_id, default_split = products[charge.product_sku] or (0, None)
    return {
        "product_id": product_id,
        "name": charge.label,
        "price_unit": float(charge.amount),
        "split_method": charge.split_method or default_split or "equal",
    }


def _refusal(
    request: LandedCostRequest,
    products: dict[str, tuple[int, str | None] | None],
    receipts: dict[int, list[tuple[int, int]]],
) -> OdooError | None:
    if not request.charges:
        return OdooBusinessError("a landed cost needs at least one charge", record=request.key)
    for charge in request.charges:
        if charge.product_sku not in products:
            return OdooBusinessError(
                f"unknown landed-cost product {charge.product_sku!r}",
                model="product.product",
                record=f"sku={charge.product_sku}",
            )
        if products[charge.product_sku] is None:
            return OdooBusinessError(
                f"product {charge.product_sku!r} is not a landed cost (landed_cost_ok is off)",
                model="product.product",
                record=f"sku={charge.product_sku}",
            )
    if not receipts.get(request.order_id):
        return OdooBusinessError(
            f"purchase order id={request.order_id} has no validated receipt yet",
            model="stock.picking",
            record=request.key,
        )
    return None
