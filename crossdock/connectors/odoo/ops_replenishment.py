"""Procurement: replenishment reads (reorder rules, supplier terms and stock positions, in pages,
never per SKU) and the changes a supplier's acknowledgement makes to a confirmed purchase order.

Odoo's ``stock.warehouse.orderpoint`` gives min/max per product and warehouse (and, up to 18,
``qty_multiple``; 19 replaced it by a packaging unit, which is not read); ``product.supplierinfo``
the suppliers of a product template or variant (lowest ``sequence`` first, as Odoo chooses its
vendor), their minimum quantity, price, currency and ``delay`` (lead time in days). Stock comes
from ``product.product`` read with the warehouse as location: ``qty_available``, ``free_qty``
(on hand less reserved) and ``incoming_qty`` (open receipts).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.errors import OdooBusinessError
from crossdock.connectors.odoo.mapping import decimal, m2o_id
from crossdock.connectors.odoo.ops_base import OperationsBase
from crossdock.connectors.odoo.replenishment_records import (
    PurchaseLineChange,
    ReorderRule,
    ReplenishmentInputs,
    StockPosition,
    SupplierTerm,
)

__all__ = ["ProcurementOperations"]

PAGE = 2000
"""Records per ``search_read`` page and ids per ``read``."""


def _name(value: Any) -> str:
    return str(value[1]) if isinstance(value, list | tuple) and len(value) > 1 else ""


class ProcurementOperations(OperationsBase):
    async def _pages(
        self, model: str, domain: list[Any], fields: list[str], context: dict[str, Any]
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        last = 0
        while True:
            page = await self.client.search_read(
                model, [*domain, ["id", ">", last]], fields, limit=PAGE, order="id", context=context
            )
            rows += page
            if len(page) < PAGE:
                return rows
            last = int(page[-1]["id"])

    async def _read_chunked(
        self, model: str, ids: Sequence[int], fields: list[str], context: dict[str, Any]
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for start in range(0, len(ids), PAGE):
            rows += await self.client.read(
                model, list(ids[start : start + PAGE]), fields, context=context
            )
        return rows

    async def replenishment_inputs(
        self,
        warehouses: Sequence[str | None],
        *,
        skus: Sequence[str] = (),
        company_id: int | None = None,
    ) -> ReplenishmentInputs:
        """Reorder rules of the warehouses (none: the company's first), the suppliers and stock
        of their SKUs and of ``skus``."""
        company = company_id if company_id is not None else await self.default_company_id()
        context: dict[str, Any] = {"allowed_company_ids": [company]}
        infos = [await self.warehouse(code, company) for code in (list(warehouses) or [None])]
        by_wh_id = {w.id: w.code for w in infos}
        fields = ["product_id", "warehouse_id", "product_min_qty", "product_max_qty"]
        if self.dialect.major <= 18:
            fields.append("qty_multiple")
        points = await self._pages(
            "stock.warehouse.orderpoint",
            [["warehouse_id", "in", sorted(by_wh_id)], ["company_id", "=", company]],
            fields,
            context,
        )
        product_ids = sorted({int(m2o_id(p["product_id"]) or 0) for p in points})
        products = await self._read_chunked(
            "product.product",
            product_ids,
            ["default_code", "product_tmpl_id"],
            {**context, "active_test": False},
        )
        sku_of = {int(p["id"]): str(p["default_code"]) for p in products if p["default_code"]}
        template_of = {int(p["id"]): int(m2o_id(p["product_tmpl_id"]) or 0) for p in products}
        out = ReplenishmentInputs()
        extra = [s for s in dict.fromkeys(skus) if s not in set(sku_of.values())]
        if extra:
            resolved = await self.resolve_products(extra, company_id=company)
            out.unknown_skus = sorted(resolved.errors)
            for product in resolved.found.values():
                sku_of[product.id] = product.sku
                template_of[product.id] = product.template_id
        for point in points:
            sku = sku_of.get(int(m2o_id(point["product_id"]) or 0))
            if sku is None:
                continue
            out.rules.append(
                ReorderRule(
                    sku=sku,
                    warehouse=by_wh_id[int(m2o_id(point["warehouse_id"]) or 0)],
                    min_qty=decimal(point["product_min_qty"]),
                    max_qty=decimal(point["product_max_qty"]),
                    multiple=decimal(point.get("qty_multiple") or 0),
                )
            )
        out.terms = await self._supplier_terms(sku_of, template_of, context)
        ids = sorted(sku_of)
        for info in infos:
            rows = await self._read_chunked(
                "product.product",
                ids,
                ["qty_available", "free_qty", "incoming_qty"],
                {**context, "location": info.view_location_id},
            )
            for row in rows:
                on_hand = decimal(row["qty_available"])
                out.positions.append(
                    StockPosition(
                        sku=sku_of[int(row["id"])],
                        warehouse=info.code,
                        on_hand=on_hand,
                        reserved=max(on_hand - decimal(row["free_qty"]), Decimal(0)),
                        incoming=max(decimal(row["incoming_qty"]), Decimal(0)),
                    )
                )
        return out

    async def _supplier_terms(
        self, sku_of: dict[int, str], template_of: dict[int, int], context: dict[str, Any]
    ) -> list[SupplierTerm]:
        variants: dict[int, list[int]] = {}
        for product_id, template_id in template_of.items():
            variants.setdefault(template_id, []).append(product_id)
        templates = sorted(variants)
        rows: list[dict[str, Any]] = []
        for start in range(0, len(templates), PAGE):
            rows += await self._pages(
                "product.supplierinfo",
                [["product_tmpl_id", "in", templates[start : start + PAGE]]],
                [
                    "partner_id",
                    "product_id",
                    "product_tmpl_id",
                    "sequence",
                    "min_qty",
                    "price",
                    "currency_id",
                    "delay",
                    "date_end",
                ],
                context,
            )
        today = datetime.now(UTC).date().isoformat()
        rows = [r for r in rows if not r.get("date_end") or str(r["date_end"]) >= today]
        partner_ids = sorted({int(m2o_id(r["partner_id"]) or 0) for r in rows})
        partners = await self._read_chunked(
            "res.partner", partner_ids, ["ref"], {**context, "active_test": False}
        )
        ref_of = {int(p["id"]): str(p["ref"]) for p in partners if p.get("ref")}
        terms: list[SupplierTerm] = []
        for row in rows:
            supplier = ref_of.get(int(m2o_id(row["partner_id"]) or 0))
            if supplier is None:
                continue  # a supplier without a reference cannot be ordered from by the hub
            variant = m2o_id(row.get("product_id"))
            targets = (
                [variant] if variant else variants.get(int(m2o_id(row["product_tmpl_id"]) or 0), [])
            )
            for product_id in targets:
                if product_id not in sku_of:
                    continue
                terms.append(
                    SupplierTerm(
                        sku=sku_of[product_id],
                        supplier_ref=supplier,
                        sequence=int(row.get("sequence") or 0),
                        min_qty=decimal(row["min_qty"]),
                        price=decimal(row["price"]),
                        currency=_name(row.get("currency_id")),
                        lead_days=int(row.get("delay") or 0),
                    )
                )
        return terms

    async def update_purchase_lines(
        self, order_id: int, changes: Sequence[PurchaseLineChange]
    ) -> None:
        """Write quantities, prices and planned dates to a purchase order's lines (lines with the
        same new values in one ``write``); a confirmed order's receipt follows in Odoo."""
        context = await self.all_companies_context()
        lines = await self.client.search_read(
            "purchase.order.line", [["order_id", "=", order_id]], ["product_id"], context=context
        )
        product_ids = sorted({int(m2o_id(ln["product_id"]) or 0) for ln in lines})
        products = await self._read_chunked(
            "product.product", product_ids, ["default_code"], {**context, "active_test": False}
        )
        sku_of = {int(p["id"]): str(p["default_code"]) for p in products}
        line_of: dict[str, int] = {}
        for line in lines:
            line_of.setdefault(
                sku_of.get(int(m2o_id(line["product_id"]) or 0), ""), int(line["id"])
            )
        groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
        for change in changes:
            if change.sku not in line_of:
                raise OdooBusinessError(
                    f"purchase order {order_id} has no line of {change.sku}",
                    model="purchase.order.line",
                    record=f"order_id={order_id} sku={change.sku}",
                )
            vals: dict[str, Any] = {}
            if change.quantity is not None:
                vals["product_qty"] = float(change.quantity)
            if change.unit_price is not None:
                vals["price_unit"] = float(change.unit_price)
            if change.expected_date is not None:
                vals["date_planned"] = f"{change.expected_date.isoformat()} 12:00:00"
            if vals:
                groups.setdefault(tuple(sorted(vals.items())), []).append(line_of[change.sku])
        for vals_key, ids in groups.items():
            await self.client.write("purchase.order.line", ids, dict(vals_key), context=context)
