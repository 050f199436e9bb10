"""Reads for reconciliation: what the ERP holds, compared with what the hub and the WMS recorded.

* :meth:`ReconcileReads.list_sale_orders` — sale orders by natural-key prefix (``"<channel>:"``)
  and/or exact ``client_order_ref``, every one of them (duplicates and cancelled ones included),
  with their amounts; paged by id so a month of orders is a handful of calls.
* :meth:`ReconcileReads.sale_order_lines` — ordered, delivered and invoiced quantities per line.
* :meth:`ReconcileReads.sale_order_invoices` — the customer invoices and refunds of sale orders.
* :meth:`ReconcileReads.warehouse_quants` — on-hand quantities per internal location of a
  warehouse, with the products' cost and list price (to value a difference).

Reads only: nothing here writes to the ERP.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from crossdock.connectors.odoo.mapping import decimal, m2o_id
from crossdock.connectors.odoo.ops_base import OperationsBase
from crossdock.connectors.odoo.records import (
    InvoiceSummary,
    QuantSummary,
    SaleLineSummary,
    SaleOrderSummary,
)

__all__ = [
    "InvoiceSummary",
    "QuantSummary",
    "ReconcileReads",
    "SaleLineSummary",
    "SaleOrderSummary",
]

PAGE = 2000
_ODOO_TIME = "%Y-%m-%d %H:%M:%S"


def _time(value: Any) -> datetime:
    if not value:
        return datetime.fromtimestamp(0, UTC)
    return datetime.strptime(str(value)[:19], _ODOO_TIME).replace(tzinfo=UTC)


def _name(value: Any) -> str:
    return str(value[1]) if isinstance(value, list | tuple) and len(value) > 1 else ""


class ReconcileReads(OperationsBase):
    async def _paged(
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

    async def list_sale_orders(
        self,
        *,
        ref_prefixes: Sequence[str] = (),
        refs: Sequence[str] = (),
        since: datetime | None = None,
    ) -> list[SaleOrderSummary]:
        """Sale orders whose ``client_order_ref`` starts with one of ``ref_prefixes`` (created at
        or after ``since``) or is one of ``refs`` (any time), in every company, oldest first."""
        terms: list[list[Any]] = []
        for prefix in dict.fromkeys(ref_prefixes):
            # `_` is a wildcard of `=like` (escapes differ between Odoo and SQL dialects): the
            # pattern may match a little more, the exact prefix is checked below
            condition: list[Any] = [["client_order_ref", "=like", f"{prefix}%"]]
            if since is not None:
                stamp = since.astimezone(UTC).strftime(_ODOO_TIME)
                condition = ["&", *condition, ["create_date", ">=", stamp]]
            terms.append(condition)
        wanted = sorted(set(refs))
        if wanted:
            terms.append([["client_order_ref", "in", wanted]])
        if not terms:
            return []
        domain: list[Any] = ["|"] * (len(terms) - 1)
        for term in terms:
            domain += term
        rows = await self._paged(
            "sale.order",
            domain,
            [
                "name",
                "client_order_ref",
                "state",
                "company_id",
                "currency_id",
                "amount_untaxed",
                "amount_total",
                "create_date",
            ],
            await self.all_companies_context(),
        )
        exact = set(wanted)
        out = []
        for row in rows:
            ref = str(row.get("client_order_ref") or "")
            if ref not in exact and not any(ref.startswith(p) for p in ref_prefixes):
                continue
            out.append(
                SaleOrderSummary(
                    id=int(row["id"]),
                    name=str(row["name"]),
                    client_order_ref=ref,
                    state=str(row["state"]),
                    company_id=int(m2o_id(row["company_id"]) or 0),
                    currency=_name(row.get("currency_id")),
                    amount_untaxed=decimal(row["amount_untaxed"], 2),
                    amount_total=decimal(row["amount_total"], 2),
                    created_at=_time(row.get("create_date")),
                )
            )
        return out

    async def sale_order_lines(
        self, order_ids: Sequence[int], *, scheduled: bool = False
    ) -> list[SaleLineSummary]:
        """The product lines of sale orders with ordered, delivered and invoiced quantities;
        with `scheduled`, the delivery date Odoo promises each (one more read, of the orders)."""
        if not order_ids:
            return []
        context = await self.all_companies_context()
        rows = await self._paged(
            "sale.order.line",
            [["order_id", "in", sorted(set(order_ids))], ["product_id", "!=", False]],
            [
                "order_id",
                "product_id",
                "product_uom_qty",
                "qty_delivered",
                "qty_invoiced",
                "price_unit",
                "discount",
                *(["customer_lead"] if scheduled else []),
            ],
            context,
        )
        promised: dict[int, tuple[datetime | None, datetime | None]] = {}
        if scheduled:
            orders = await self.client.read(
                "sale.order",
                sorted(set(order_ids)),
                ["date_order", "commitment_date"],
                context=context,
            )
            promised = {
                int(o["id"]): (
                    _time(o["commitment_date"]) if o.get("commitment_date") else None,
                    _time(o["date_order"]) if o.get("date_order") else None,
                )
                for o in orders
            }
        skus = await self.skus_of(int(m2o_id(r["product_id"]) or 0) for r in rows)
        return [
            SaleLineSummary(
                id=int(r["id"]),
                order_id=int(m2o_id(r["order_id"]) or 0),
                sku=skus.get(int(m2o_id(r["product_id"]) or 0), f"product-{r['product_id']}"),
                quantity=decimal(r["product_uom_qty"]),
                delivered=decimal(r["qty_delivered"]),
                invoiced=decimal(r["qty_invoiced"]),
                price_unit=decimal(r["price_unit"]),
                discount=decimal(r.get("discount")),
                scheduled_date=_scheduled(r, promised) if scheduled else None,
            )
            for r in rows
        ]

    async def sale_order_invoices(self, order_ids: Sequence[int]) -> list[InvoiceSummary]:
        """Customer invoices and refunds of sale orders (drafts and cancelled ones included)."""
        if not order_ids:
            return []
        context = await self.all_companies_context()
        orders = await self.client.read(
            "sale.order", sorted(set(order_ids)), ["invoice_ids"], context=context
        )
        billed: dict[int, set[int]] = {}
        for order in orders:
            for invoice_id in order.get("invoice_ids") or []:
                billed.setdefault(int(invoice_id), set()).add(int(order["id"]))
        if not billed:
            return []
        moves = await self.client.read(
            "account.move",
            sorted(billed),
            ["name", "state", "move_type", "currency_id", "amount_untaxed", "amount_total"],
            context=context,
        )
        return [
            InvoiceSummary(
                id=int(m["id"]),
                name=str(m.get("name") or ""),
                state=str(m["state"]),
                move_type=str(m["move_type"]),
                currency=_name(m.get("currency_id")),
                amount_untaxed=decimal(m["amount_untaxed"], 2),
                amount_total=decimal(m["amount_total"], 2),
                order_ids=tuple(sorted(billed[int(m["id"])])),
            )
            for m in moves
            if m["move_type"] in ("out_invoice", "out_refund")
        ]

    async def warehouse_quants(
        self, warehouse: str | None = None, *, company_id: int | None = None
    ) -> list[QuantSummary]:
        """On-hand quantities per internal location of a warehouse (its first one when ``None``),
        every product, with cost and list price."""
        company = company_id if company_id is not None else await self.default_company_id()
        wh = await self.warehouse(warehouse, company)
        context = {"allowed_company_ids": [company]}
        rows = await self._paged(
            "stock.quant",
            [
                ["location_id", "child_of", wh.view_location_id],
                ["location_id.usage", "=", "internal"],
            ],
            ["product_id", "location_id", "lot_id", "quantity"],
            context,
        )
        product_ids = sorted({int(m2o_id(r["product_id"]) or 0) for r in rows})
        products = await self.client.read(
            "product.product",
            product_ids,
            ["default_code", "standard_price", "list_price"],
            context={**context, "active_test": False},
        )
        by_id = {int(p["id"]): p for p in products}
        out = []
        for row in rows:
            product = by_id.get(int(m2o_id(row["product_id"]) or 0), {})
            location_id = int(m2o_id(row["location_id"]) or 0)
            lot = _name(row.get("lot_id")) or None
            out.append(
                QuantSummary(
                    id=int(row["id"]),
                    warehouse=wh.code,
                    location_id=location_id,
                    location=_name(row["location_id"]),
                    main_location=location_id == wh.stock_location_id,
                    sku=str(product.get("default_code") or f"product-{row['product_id']}"),
                    lot=lot,
                    quantity=decimal(row["quantity"]),
                    standard_price=decimal(product.get("standard_price"), 2),
                    list_price=decimal(product.get("list_price"), 2),
                )
            )
        return out


def _scheduled(
    line: dict[str, Any], promised: dict[int, tuple[datetime | None, datetime | None]]
) -> date | None:
    """Odoo's rule (``sale_stock``'s ``scheduled_date``): the order's commitment date, else its
    order date plus the line's lead time in days."""
    commitment, ordered = promised.get(int(m2o_id(line["order_id"]) or 0), (None, None))
    if commitment is not None:
        return commitment.date()
    if ordered is None:
        return None
    return (ordered + timedelta(days=float(line.get("customer_lead") or 0))).date()
