"""Demand history: done stock moves of a warehouse in a time window, read in pages (never one call
per SKU) and summed per SKU, day and kind.

A move is classified by the usage of its locations (``stock.location.usage``): from the
warehouse to a ``customer`` location is a sale, from a ``customer`` location into the warehouse a
return, from a ``supplier`` location a receipt; internal moves and adjustments are not demand.
The quantity done is ``quantity`` from Odoo 17 (``quantity_done`` on 16); ``date`` is when the
move was done (UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.demand_records import DemandKind, DemandMove
from crossdock.connectors.odoo.mapping import decimal, m2o_id
from crossdock.connectors.odoo.ops_base import OperationsBase

__all__ = ["DemandOperations"]

PAGE = 2000
"""Records per ``search_read`` page and ids per ``read``."""


def _odoo_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class DemandOperations(OperationsBase):
    async def demand_history(
        self,
        warehouses: Sequence[str | None],
        *,
        since: datetime,
        until: datetime,
        company_id: int | None = None,
    ) -> list[DemandMove]:
        """Done moves of the warehouses (none: the company's first) after ``since`` up to
        ``until``, summed per warehouse, SKU, day and kind."""
        company = company_id if company_id is not None else await self.default_company_id()
        context: dict[str, Any] = {"allowed_company_ids": [company]}
        done_field = "quantity" if self.dialect.major >= 17 else "quantity_done"
        fields = ["product_id", "location_id", "location_dest_id", "date", done_field]
        infos = [await self.warehouse(code, company) for code in (list(warehouses) or [None])]
        moves: list[tuple[str, dict[str, Any]]] = []
        for info in infos:
            last = 0
            while True:
                page = await self.client.search_read(
                    "stock.move",
                    [
                        ["state", "=", "done"],
                        ["date", ">", _odoo_time(since)],
                        ["date", "<=", _odoo_time(until)],
                        ["company_id", "=", company],
                        "|",
                        ["location_id", "child_of", info.view_location_id],
                        ["location_dest_id", "child_of", info.view_location_id],
                        ["id", ">", last],
                    ],
                    fields,
                    limit=PAGE,
                    order="id",
                    context=context,
                )
                moves += [(info.code, row) for row in page]
                if len(page) < PAGE:
                    break
                last = int(page[-1]["id"])
        location_ids = sorted(
            {int(m2o_id(r[f]) or 0) for _, r in moves for f in ("location_id", "location_dest_id")}
        )
        usage: dict[int, str] = {}
        product_ids = sorted({int(m2o_id(r["product_id"]) or 0) for _, r in moves})
        sku_of: dict[int, str] = {}
        for start in range(0, len(location_ids), PAGE):
            rows = await self.client.read(
                "stock.location", location_ids[start : start + PAGE], ["usage"], context=context
            )
            usage.update({int(r["id"]): str(r["usage"]) for r in rows})
        for start in range(0, len(product_ids), PAGE):
            rows = await self.client.read(
                "product.product",
                product_ids[start : start + PAGE],
                ["default_code"],
                context={**context, "active_test": False},
            )
            sku_of.update({int(r["id"]): str(r["default_code"]) for r in rows if r["default_code"]})
        totals: dict[tuple[str, str, Any, DemandKind], Decimal] = {}
        for code, row in moves:
            sku = sku_of.get(int(m2o_id(row["product_id"]) or 0))
            source = usage.get(int(m2o_id(row["location_id"]) or 0), "")
            dest = usage.get(int(m2o_id(row["location_dest_id"]) or 0), "")
            kind: DemandKind | None = (
                "sale"
                if dest == "customer" and source != "customer"
                else "return"
                if source == "customer" and dest != "customer"
                else "receipt"
                if source == "supplier"
                else None
            )
            if sku is None or kind is None:
                continue
            day = datetime.fromisoformat(str(row["date"])).date()
            quantity = decimal(row.get(done_field) or 0)
            key = (code, sku, day, kind)
            totals[key] = totals.get(key, Decimal(0)) + quantity
        return [
            DemandMove(code, sku, day, kind, quantity)
            for (code, sku, day, kind), quantity in sorted(totals.items())
            if quantity
        ]
