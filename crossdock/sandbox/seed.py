"""Seeding an ERP through its connector: products, stock per warehouse, and customers (with
credit limits), described as a :class:`Catalogue`. The demo seeds its own catalogue with this;
`serve` seeds :data:`SANDBOX_CATALOGUE` into its sandbox Odoo, so that an order for a listed SKU
is confirmed from the first minute (docs/quickstart.md orders from it)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crossdock.connectors.odoo import OdooOperations, StockSetting
from crossdock.model import Customer, Money, Product

__all__ = ["SANDBOX_CATALOGUE", "Catalogue", "SeedCustomer", "SeedProduct", "seed", "seed_once"]


@dataclass(frozen=True)
class SeedProduct:
    sku: str
    name: str
    price: str
    cost: str


@dataclass(frozen=True)
class SeedCustomer:
    """A customer of a channel (`source`), optionally with a credit limit in the ERP."""

    ref: str
    name: str
    source: str = "webshop"
    city: str = "Springfield"
    country: str = "US"
    credit_limit: float | None = None

    def customer(self) -> Customer:
        return Customer(
            external_ref=self.ref,
            source=self.source,
            name=self.name,
            email=f"{self.ref.lower()}@example.com",
            address={
                "street": "1 Main St",
                "city": self.city,
                "postal_code": "12345",
                "country": self.country,
            },
        )


@dataclass(frozen=True)
class Catalogue:
    """What to seed. `stock` counts per SKU in the company's first warehouse unless a setting
    names another; `warehouses` (code, name) are created when missing."""

    products: tuple[SeedProduct, ...]
    stock: tuple[StockSetting, ...]
    customers: tuple[SeedCustomer, ...] = ()
    warehouses: tuple[tuple[str, str], ...] = ()
    currency: str = "USD"
    source: str = "seed"
    """The `source` of the seeded products."""


async def seed(ops: OdooOperations, catalogue: Catalogue) -> None:
    """Create (or update) the catalogue's warehouses, products, stock and customers."""
    client = ops.client
    company = (await client.connect()).company_id
    context = {"allowed_company_ids": [company]}
    for code, name in catalogue.warehouses:
        found = await client.search_read(
            "stock.warehouse", [["code", "=", code]], ["id"], context=context
        )
        if not found:
            await client.create(
                "stock.warehouse",
                [{"name": name, "code": code, "company_id": company}],
                context=context,
            )
    products = [
        Product(
            external_ref=p.sku,
            source=catalogue.source,
            sku=p.sku,
            name=p.name,
            list_price=Money(amount=p.price, currency=catalogue.currency),
            cost_price=Money(amount=p.cost, currency=catalogue.currency),
        )
        for p in catalogue.products
    ]
    outcome = await ops.upsert_products(products)
    if not outcome.ok:
        raise RuntimeError(f"seeding products failed: {outcome.failed}")
    await ops.set_stock(list(catalogue.stock))
    if not catalogue.customers:
        return
    created = await ops.find_or_create_customers([c.customer() for c in catalogue.customers])
    for c in catalogue.customers:
        if c.credit_limit is not None:
            partner = created.done[f"{c.source}:{c.ref}"]
            await client.write("res.partner", [partner], {"credit_limit": c.credit_limit})


async def seed_once(ops: OdooOperations, catalogue: Catalogue) -> bool:
    """Seed unless the ERP knows the catalogue's first SKU already (a sandbox kept from an earlier
    run keeps its stock and changes); whether it seeded."""
    known = await ops.resolve_products([catalogue.products[0].sku])
    if known.found:
        return False
    await seed(ops, catalogue)
    return True


SANDBOX_CATALOGUE = Catalogue(
    products=(
        SeedProduct("CHAIR-ERGO", "Ergonomic office chair", "189.00", "95.00"),
        SeedProduct("DESK-160", "Standing desk, 160 cm", "449.00", "240.00"),
        SeedProduct("LAMP-LED", "LED desk lamp", "39.90", "14.00"),
        SeedProduct("MON-27", "27-inch monitor", "229.00", "150.00"),
        SeedProduct("KBD-USB", "USB keyboard", "24.50", "9.00"),
        SeedProduct("CABLE-HDMI-2M", "HDMI cable, 2 m", "7.90", "1.80"),
        SeedProduct("PAPER-A4-5", "A4 copy paper, box of 5 reams", "21.00", "12.50"),
        SeedProduct("TONER-BK", "Toner cartridge, black", "59.00", "28.00"),
    ),
    stock=(
        StockSetting(sku="CHAIR-ERGO", quantity=Decimal(120)),
        StockSetting(sku="DESK-160", quantity=Decimal(8)),  # few: a big order backorders
        StockSetting(sku="LAMP-LED", quantity=Decimal(300)),
        StockSetting(sku="MON-27", quantity=Decimal(60)),
        StockSetting(sku="KBD-USB", quantity=Decimal(500)),
        StockSetting(sku="CABLE-HDMI-2M", quantity=Decimal(2000)),
        StockSetting(sku="PAPER-A4-5", quantity=Decimal(400)),
        StockSetting(sku="TONER-BK", quantity=Decimal(0)),  # out of stock
    ),
    customers=(
        SeedCustomer("ACME", "Acme Offices Ltd", city="Springfield"),
        SeedCustomer("GLOBEX", "Globex Corporation", city="Cypress Creek", credit_limit=500.0),
    ),
    source="sandbox",
)
"""A distributor's small office-supplies catalogue in the company's first warehouse (code WH),
with two webshop customers (Globex with a credit limit of 500.00)."""
