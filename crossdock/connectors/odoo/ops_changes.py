"""Changing a sale order's lines: quantities changed, lines added, lines removed, in one
``write`` of ``order_line`` commands.

Odoo (16 to 19) lets a confirmed order's lines change while its delivery is not done: the
delivery follows (``sale_stock`` raises or lowers its moves, adds moves for new lines). Odoo
refuses to delete a line of a confirmed order ("Set the quantity to 0 instead"), so a removed
line of a confirmed order is set to quantity 0, and only a quotation's line is deleted. A locked
(16: ``done``) or cancelled order is refused here, naming the order; a quantity below what was
delivered is refused too (that is a return).

Idempotent: the order's current lines are read first and only the differences are written, so
a change asked twice changes once.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.change_records import SaleOrderChange, WantedLine
from crossdock.connectors.odoo.errors import OdooBusinessError, OdooMissingError
from crossdock.connectors.odoo.mapping import decimal, m2o_id
from crossdock.connectors.odoo.ops_base import OperationsBase

__all__ = ["SaleChangeOperations"]


class SaleChangeOperations(OperationsBase):
    async def change_sale_order_lines(
        self, order_id: int, lines: Sequence[WantedLine]
    ) -> SaleOrderChange:
        """Give sale order ``order_id`` the ``lines`` (by SKU, one per SKU): one ``write``."""
        context = await self.all_companies_context()
        fields = ["name", "state", "company_id", *(["locked"] if self.dialect.major >= 17 else [])]
        rows = await self.client.read("sale.order", [order_id], fields, context=context)
        record = f"sale.order id={order_id}"
        if not rows:
            raise OdooMissingError(
                f"sale order {order_id} does not exist", model="sale.order", record=record
            )
        order = rows[0]
        state = str(order["state"])
        if state in ("cancel", "done") or order.get("locked"):
            why = "locked" if order.get("locked") else ("cancelled" if state == "cancel" else state)
            raise OdooBusinessError(
                f"sale order {order['name']} is {why}: its lines cannot change",
                model="sale.order",
                record=record,
            )
        current = await self.client.search_read(
            "sale.order.line",
            [["order_id", "=", order_id], ["product_id", "!=", False]],
            ["product_id", "product_uom_qty", "qty_delivered"],
            order="id",
            context=context,
        )
        skus = await self.skus_of(int(m2o_id(r["product_id"]) or 0) for r in current)
        by_sku: dict[str, list[dict[str, Any]]] = {}
        for row in current:
            by_sku.setdefault(skus.get(int(m2o_id(row["product_id"]) or 0), ""), []).append(row)
        wanted: dict[str, WantedLine] = {}
        for line in lines:
            known = wanted.get(line.sku)
            quantity = line.quantity + (known.quantity if known else Decimal(0))
            wanted[line.sku] = WantedLine(line.sku, quantity, line.unit_price, line.name)
        confirmed = state == "sale"
        commands: list[Any] = []
        change = SaleOrderChange(order_id)
        for sku, rows_of in by_sku.items():
            have = sum((decimal(r["product_uom_qty"]) for r in rows_of), Decimal(0))
            delivered = sum((decimal(r["qty_delivered"]) for r in rows_of), Decimal(0))
            want = wanted[sku].quantity if sku in wanted else Decimal(0)
            if want == have:
                continue
            if want < delivered:
                raise OdooBusinessError(
                    f"sale order {order['name']}: {sku} cannot go to {want}, {delivered} "
                    "was delivered already (that is a return)",
                    model="sale.order.line",
                    record=record,
                )
            first, rest = rows_of[0], rows_of[1:]
            if want == 0 and not confirmed:
                commands += [(2, int(r["id"])) for r in rows_of]
            else:
                commands.append((1, int(first["id"]), {"product_uom_qty": float(want)}))
                for row in rest:  # the SKU's other lines: its quantity is on the first
                    if not confirmed:
                        commands.append((2, int(row["id"])))
                    elif decimal(row["product_uom_qty"]):
                        commands.append((1, int(row["id"]), {"product_uom_qty": 0.0}))
            if want == 0:
                change.removed[sku] = have
            elif have == 0:
                change.added[sku] = want
            else:
                change.changed[sku] = (have, want)
        new = [w for sku, w in wanted.items() if sku not in by_sku and w.quantity]
        if new:
            company = int(m2o_id(order["company_id"]) or 0)
            products = await self.resolve_products([w.sku for w in new], company_id=company)
            for line in new:
                if line.sku in products.errors:
                    raise products.errors[line.sku].for_record(record)
                vals: dict[str, Any] = {
                    "product_id": products.found[line.sku].id,
                    "product_uom_qty": float(line.quantity),
                }
                if line.unit_price is not None:
                    vals["price_unit"] = float(line.unit_price)
                if line.name:
                    vals["name"] = line.name
                commands.append((0, 0, vals))
                change.added[line.sku] = line.quantity
        if commands:
            await self.client.write(
                "sale.order", [order_id], {"order_line": commands}, context=context
            )
        return change
