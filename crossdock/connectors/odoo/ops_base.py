"""Shared state of the Odoo operations: the client, company routing, warehouses and the SKU cache.

Products are resolved by SKU (``default_code``) per company and cached for
``product_cache_ttl_s``; :meth:`OperationsBase.invalidate_products` drops entries (all, or some
SKUs) when the catalog changes. Archived products are looked up too (``active_test=False``) so that
an archived SKU is reported as such rather than as unknown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from crossdock.cache import SkuCache
from crossdock.connectors.odoo.client import OdooClient
from crossdock.connectors.odoo.dialect import OdooDialect
from crossdock.connectors.odoo.errors import (
    ArchivedProductError,
    OdooBusinessError,
    UnknownSkuError,
)
from crossdock.connectors.odoo.mapping import decimal, m2o_id
from crossdock.connectors.odoo.records import ProductInfo, ProductResolution, WarehouseInfo
from crossdock.connectors.odoo.settings import CompanyRef

__all__ = ["OperationsBase", "ProductResolution"]

_PRODUCT_FIELDS = ["default_code", "name", "active", "tracking", "list_price", "company_id"]


class OperationsBase:
    """What every group of operations needs (see :class:`~.operations.OdooOperations`)."""

    def __init__(
        self,
        client: OdooClient,
        *,
        system: str = "odoo",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.settings = client.settings
        self.system = system
        self._clock = clock
        self._products: SkuCache[tuple[int, str], ProductInfo] = SkuCache()
        self._customers: dict[tuple[int, str], tuple[float, int]] = {}
        """Partner ids by (company, customer key), with their expiry (see ``ops_customers``)."""
        self._warehouses: dict[tuple[int, str], WarehouseInfo] = {}
        self._countries: dict[str, int] = {}
        self._pricelists: dict[tuple[int, str], tuple[float, int]] = {}
        """Pricelist ids by (company, currency), with their expiry (see ``ops_pricelists``)."""
        self._pricelist_kinds: dict[int, tuple[float, str | None]] = {}
        """The currency of a pricelist (``None``: archived or missing), with its expiry."""
        self._company_currencies: dict[int, str] = {}

    @property
    def dialect(self) -> OdooDialect:
        return self.client.dialect

    async def all_companies_context(self) -> dict[str, Any]:
        """A context in which every company of the user is visible (for natural-key lookups)."""
        info = await self.client.connect()
        return {"allowed_company_ids": list(info.company_ids)}

    async def company_context(self, company_id: int) -> dict[str, Any]:
        return {"allowed_company_ids": [company_id]}

    # ------------------------------------------------------------------ company routing

    async def default_company_id(self) -> int:
        info = await self.client.connect()
        if self.settings.company is not None:
            return await self.client.company_id(self.settings.company)
        return info.company_id

    async def resolve_company(self, company: CompanyRef | None) -> int:
        """The id of a company given by id or name; the default company when ``None``."""
        if company is None:
            return await self.default_company_id()
        await self.client.connect()
        return await self.client.company_id(company)

    async def company_for(self, channel: str | None, country: str | None) -> int:
        """The company a document of ``channel`` / delivery ``country`` belongs to."""
        s = self.settings
        if channel and channel in s.companies_by_channel:
            return await self.client.company_id(s.companies_by_channel[channel])
        if country and country.upper() in s.companies_by_country:
            return await self.client.company_id(s.companies_by_country[country.upper()])
        return await self.default_company_id()

    # ------------------------------------------------------------------ countries, warehouses

    async def country_ids(self, codes: Iterable[str]) -> dict[str, int]:
        codes = [c.upper() for c in codes]
        wanted = set(codes) - set(self._countries)
        if wanted:
            rows = await self.client.search_read(
                "res.country", [["code", "in", sorted(wanted)]], ["code"]
            )
            for row in rows:
                self._countries[str(row["code"]).upper()] = int(row["id"])
        return {c: self._countries[c] for c in codes if c in self._countries}

    async def warehouse(self, code: str | None, company_id: int) -> WarehouseInfo:
        """The warehouse with ``code`` in the company (its first one when ``code`` is None)."""
        key = (company_id, code or "")
        if key not in self._warehouses:
            domain: list[Any] = [["company_id", "=", company_id]]
            if code:
                domain.append(["code", "=", code])
            rows = await self.client.search_read(
                "stock.warehouse",
                domain,
                ["code", "company_id", "lot_stock_id", "view_location_id"],
                limit=1,
                order="id",
                context=await self.company_context(company_id),
            )
            if not rows:
                raise OdooBusinessError(
                    f"no warehouse {code or ''} in company {company_id}",
                    model="stock.warehouse",
                    record=code,
                )
            row = rows[0]
            self._warehouses[key] = WarehouseInfo(
                id=int(row["id"]),
                code=str(row["code"]),
                company_id=int(m2o_id(row["company_id"]) or company_id),
                stock_location_id=int(m2o_id(row["lot_stock_id"]) or 0),
                view_location_id=int(m2o_id(row["view_location_id"]) or 0),
            )
        return self._warehouses[key]

    def unavailable_for(self) -> float | None:
        """Seconds until the circuit lets a call through again; None while it is closed."""
        return self.client.breaker.retry_in()

    # ------------------------------------------------------------------ products

    def invalidate_products(self, skus: Iterable[str] | None = None) -> None:
        """Forget cached products: all of them, or those of ``skus`` in every company."""
        if skus is None:
            self._products.forget()
            return
        drop = set(skus)
        self._products.forget(lambda key: key[1] in drop)

    async def resolve_products(
        self, skus: Sequence[str], *, company_id: int | None = None
    ) -> ProductResolution:
        """Products by SKU usable in the company: unknown and archived SKUs are in ``errors``."""
        company = company_id if company_id is not None else await self.default_company_id()
        now = self._clock()
        result = ProductResolution()
        missing: list[str] = []
        for sku in dict.fromkeys(skus):
            cached = self._products.get((company, sku), now)
            if cached is not None:
                result.found[sku] = cached
            else:
                missing.append(sku)
        if not missing:
            return result
        fields = [*_PRODUCT_FIELDS, "product_tmpl_id", *self.dialect.product_type_fields]
        rows = await self.client.search_read(
            "product.product",
            [["default_code", "in", missing], ["company_id", "in", [False, company]]],
            fields,
            context={"active_test": False, "allowed_company_ids": [company]},
        )
        by_sku: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_sku.setdefault(str(row["default_code"]), []).append(row)
        expires = now + self.settings.product_cache_ttl_s
        for sku in missing:
            candidates = by_sku.get(sku, [])
            active = [r for r in candidates if r.get("active", True)]
            if not candidates:
                result.errors[sku] = UnknownSkuError(
                    f"unknown SKU {sku!r} in company {company}",
                    model="product.product",
                    record=f"sku={sku}",
                )
                continue
            if not active:
                result.errors[sku] = ArchivedProductError(
                    f"product {sku!r} is archived", model="product.product", record=f"sku={sku}"
                )
                continue
            # a company's own product wins over a shared one with the same SKU
            row = sorted(active, key=lambda r: (m2o_id(r.get("company_id")) is None, r["id"]))[0]
            info = ProductInfo(
                id=int(row["id"]),
                template_id=int(m2o_id(row.get("product_tmpl_id")) or 0),
                sku=sku,
                name=str(row.get("name") or sku),
                storable=self.dialect.is_storable(row),
                tracking=str(row.get("tracking") or "none"),
                list_price=decimal(row.get("list_price"), 2),
                company_id=m2o_id(row.get("company_id")),
            )
            self._products.put((company, sku), info, expires)
            result.found[sku] = info
        return result

    async def skus_of(self, product_ids: Iterable[int]) -> dict[int, str]:
        """SKUs of product ids (cached products first, one read for the rest)."""
        known = {info.id: info.sku for info in self._products.values()}
        ids = set(product_ids)
        missing = sorted(ids - set(known))
        if missing:
            rows = await self.client.read(
                "product.product", missing, ["default_code"], context={"active_test": False}
            )
            for row in rows:
                known[int(row["id"])] = str(row.get("default_code") or f"product-{row['id']}")
        return {pid: known[pid] for pid in ids if pid in known}


def names_of(mapping: Mapping[str, ProductInfo]) -> dict[str, str]:
    return {sku: info.name for sku, info in mapping.items()}
