"""Catalog and stock: products by SKU, pricelist prices, stock levels, inventory counts.

* :meth:`CatalogOperations.upsert_products` creates the products whose SKU is unknown (for a
  catalog owned by another system, and for tests); a refused product is bisected out.
* :meth:`CatalogOperations.prices` evaluates a pricelist's items (fixed price, percentage, formula
  on the list price; per variant, template or global, by minimum quantity and dates) over the data
  read with ``search_read`` — the pricing methods of ``product.pricelist`` are private.
* :meth:`CatalogOperations.stock_levels` reads ``qty_available`` / ``free_qty`` /
  ``incoming_qty`` in the context of the warehouse's locations.
* :meth:`CatalogOperations.set_stock` counts quantities through ``stock.quant`` in inventory mode
  (``inventory_quantity``, then ``action_apply_inventory``), with lots when tracked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.batching import BatchOutcome, bisect_batch, chunks
from crossdock.connectors.odoo.errors import OdooBusinessError
from crossdock.connectors.odoo.mapping import decimal, m2o_id
from crossdock.connectors.odoo.ops_base import OperationsBase
from crossdock.connectors.odoo.ops_pricelists import PricelistOperations
from crossdock.connectors.odoo.records import StockSetting
from crossdock.model import Product, StockLevel

__all__ = ["CatalogOperations"]

_SPECIFICITY = {"0_product_variant": 0, "1_product": 1, "2_product_category": 2, "3_global": 3}


class CatalogOperations(PricelistOperations, OperationsBase):
    async def upsert_products(
        self,
        products: Sequence[Product],
        *,
        storable: bool = True,
        invoice_policy: str = "delivery",
        company_id: int | None = None,
    ) -> BatchOutcome[str, int]:
        """Product ids by SKU; unknown SKUs are created (storable goods by default)."""
        outcome: BatchOutcome[str, int] = BatchOutcome()
        by_sku = {p.sku: p for p in products}
        rows = await self.client.search_read(
            "product.product",
            [["default_code", "in", sorted(by_sku)]],
            ["default_code"],
            context={"active_test": False, **await self.all_companies_context()},
        )
        for row in rows:
            sku = str(row["default_code"])
            if sku in by_sku and sku not in outcome.done:
                outcome.done[sku] = int(row["id"])
                outcome.existing.add(sku)
        missing = [p for sku, p in by_sku.items() if sku not in outcome.done]
        context = await self.company_context(company_id) if company_id else None

        def vals(product: Product) -> dict[str, Any]:
            v: dict[str, Any] = {
                "name": product.name,
                "default_code": product.sku,
                "tracking": product.tracking if storable else "none",
                "active": product.active,
                "sale_ok": True,
                "purchase_ok": True,
                "invoice_policy": invoice_policy,
                **self.dialect.product_vals(storable),
            }
            if product.barcode:
                v["barcode"] = product.barcode
            if product.list_price is not None:
                v["list_price"] = float(product.list_price.amount)
            if product.cost_price is not None:
                v["standard_price"] = float(product.cost_price.amount)
            if company_id:
                v["company_id"] = company_id
            return v

        for chunk in chunks(missing, self.settings.batch_size):

            async def send(batch: Sequence[Product]) -> list[int]:
                return await self.client.create(
                    "product.product", [vals(p) for p in batch], context=context
                )

            created, failed = await bisect_batch(
                chunk, send, name=lambda p: f"product.product sku={p.sku}"
            )
            outcome.done.update({p.sku: pid for p, pid in created})
            outcome.failed.update({p.sku: error for p, error in failed})
        self.invalidate_products(by_sku)
        return outcome

    async def archive_products(self, skus: Sequence[str]) -> None:
        rows = await self.client.search_read(
            "product.product",
            [["default_code", "in", list(skus)]],
            ["id"],
            context=await self.all_companies_context(),
        )
        if rows:
            await self.client.write("product.product", [r["id"] for r in rows], {"active": False})
        self.invalidate_products(skus)

    async def prices(
        self,
        skus: Sequence[str],
        *,
        pricelist_id: int | None = None,
        quantity: Decimal = Decimal(1),
        on: date | None = None,
        company_id: int | None = None,
    ) -> dict[str, Decimal]:
        """Unit prices of SKUs from a pricelist (the list price where no rule applies).

        List prices are in the company's currency, so in a pricelist of another currency only
        its fixed prices count (Odoo would convert the others at a rate the hub does not keep):
        the other SKUs are left out, and keep the channel's price."""
        resolution = await self.resolve_products(skus, company_id=company_id)
        if resolution.errors:
            raise next(iter(resolution.errors.values()))
        products = resolution.found
        prices = {sku: info.list_price for sku, info in products.items()}
        if pricelist_id is None or not products:
            return prices
        company = company_id if company_id is not None else await self.default_company_id()
        kind = (await self._pricelist_currencies([pricelist_id])).get(pricelist_id)
        foreign = kind is not None and kind != await self.company_currency(company)
        if foreign:
            prices = {}
        day = (on or datetime.now(UTC).date()).isoformat()
        items = await self.client.search_read(
            "product.pricelist.item",
            [
                ["pricelist_id", "=", pricelist_id],
                ["min_quantity", "<=", float(quantity)],
                "|",
                ["date_start", "=", False],
                ["date_start", "<=", f"{day} 23:59:59"],
                "|",
                ["date_end", "=", False],
                ["date_end", ">=", f"{day} 00:00:00"],
            ],
            [
                "applied_on",
                "product_id",
                "product_tmpl_id",
                "min_quantity",
                "compute_price",
                "fixed_price",
                "percent_price",
                "price_discount",
                "price_surcharge",
                "base",
            ],
        )
        for sku, info in products.items():
            applicable = [
                item
                for item in items
                if item["applied_on"] == "3_global"
                or (
                    item["applied_on"] == "1_product"
                    and m2o_id(item["product_tmpl_id"]) == info.template_id
                )
                or (
                    item["applied_on"] == "0_product_variant"
                    and m2o_id(item["product_id"]) == info.id
                )
            ]
            if not applicable:
                continue
            item = min(
                applicable,
                key=lambda i: (_SPECIFICITY.get(str(i["applied_on"]), 9), -i["min_quantity"]),
            )
            base = info.list_price
            if foreign and item["compute_price"] != "fixed":
                continue  # computed from the list price, in the company's currency
            if item["compute_price"] == "fixed":
                prices[sku] = decimal(item["fixed_price"], 2)
            elif item["compute_price"] == "percentage":
                prices[sku] = (base * (1 - decimal(item["percent_price"]) / 100)).quantize(
                    Decimal("0.01")
                )
            else:
                discounted = base * (1 - decimal(item["price_discount"]) / 100)
                prices[sku] = (discounted + decimal(item["price_surcharge"])).quantize(
                    Decimal("0.01")
                )
        return prices

    async def stock_levels(
        self, skus: Sequence[str], *, warehouse: str | None = None, company_id: int | None = None
    ) -> list[StockLevel]:
        """On-hand, free and incoming quantity of each SKU in one warehouse."""
        company = company_id if company_id is not None else await self.default_company_id()
        wh = await self.warehouse(warehouse, company)
        resolution = await self.resolve_products(skus, company_id=company)
        if resolution.errors:
            raise next(iter(resolution.errors.values()))
        ids = [info.id for info in resolution.found.values()]
        rows = await self.client.read(
            "product.product",
            ids,
            ["default_code", "qty_available", "free_qty", "incoming_qty"],
            context={"location": wh.view_location_id, "allowed_company_ids": [company]},
        )
        now = datetime.now(UTC)
        levels = []
        for row in rows:
            on_hand = decimal(row["qty_available"])
            free = decimal(row["free_qty"])
            levels.append(
                StockLevel(
                    external_ref=f"{wh.code}:{row['default_code']}",
                    source=self.system,
                    warehouse=wh.code,
                    sku=str(row["default_code"]),
                    on_hand=max(on_hand, Decimal(0)),
                    reserved=max(on_hand - free, Decimal(0)),
                    available=free,
                    incoming=max(decimal(row["incoming_qty"]), Decimal(0)),
                    as_of=now,
                )
            )
        return levels

    async def _lot_ids(
        self, wanted: set[tuple[int, str]], company_id: int
    ) -> dict[tuple[int, str], int]:
        """Find or create ``stock.lot`` records by (product id, lot name)."""
        if not wanted:
            return {}
        rows = await self.client.search_read(
            "stock.lot",
            [
                ["name", "in", sorted({name for _, name in wanted})],
                ["product_id", "in", sorted({pid for pid, _ in wanted})],
            ],
            ["name", "product_id"],
            context=await self.company_context(company_id),
        )
        lots = {(int(m2o_id(r["product_id"]) or 0), str(r["name"])): int(r["id"]) for r in rows}
        missing = sorted(wanted - set(lots))
        if missing:
            ids = await self.client.create(
                "stock.lot",
                [
                    {"name": name, "product_id": pid, "company_id": company_id}
                    for pid, name in missing
                ],
                context=await self.company_context(company_id),
            )
            lots.update(dict(zip(missing, ids, strict=True)))
        return lots

    async def set_stock(
        self, settings: Sequence[StockSetting], *, company_id: int | None = None
    ) -> list[int]:
        """Set counted quantities (inventory mode) and apply them; returns the quant ids."""
        company = company_id if company_id is not None else await self.default_company_id()
        resolution = await self.resolve_products([s.sku for s in settings], company_id=company)
        if resolution.errors:
            raise next(iter(resolution.errors.values()))
        products = resolution.found
        targets: list[tuple[int, int, str | None, float]] = []
        for setting in settings:
            location = setting.location_id
            if location is None:
                location = (await self.warehouse(setting.warehouse, company)).stock_location_id
            info = products[setting.sku]
            if info.tracking != "none" and not setting.lot:
                raise OdooBusinessError(
                    f"product {setting.sku} is tracked by {info.tracking}: give a lot",
                    model="stock.quant",
                    record=f"sku={setting.sku}",
                )
            targets.append((info.id, location, setting.lot, float(setting.quantity)))
        lots = await self._lot_ids({(pid, lot) for pid, _, lot, _ in targets if lot}, company)
        context = {"inventory_mode": True, "allowed_company_ids": [company]}
        # In inventory mode, `create` writes the counted quantity on the quant that exists for
        # (product, location, lot) or makes one: one call for the whole batch either way. Odoo
        # answers each quant once, so a target given twice is sent once (the last count wins).
        unique: dict[tuple[int, int, int | None], dict[str, Any]] = {}
        keys: list[tuple[int, int, int | None]] = []
        for pid, location, lot, quantity in targets:
            lot_id = lots.get((pid, lot)) if lot else None
            key = (pid, location, lot_id)
            vals: dict[str, Any] = {
                "product_id": pid,
                "location_id": location,
                "inventory_quantity": quantity,
            }
            if lot_id:
                vals["lot_id"] = lot_id
            unique.pop(key, None)
            unique[key] = vals
            keys.append(key)
        created = await self.client.create("stock.quant", list(unique.values()), context=context)
        by_key = {key: int(i) for key, i in zip(unique, created, strict=True)}
        await self.client.call(
            "stock.quant", "action_apply_inventory", list(by_key.values()), context=context
        )
        return [by_key[key] for key in keys]
