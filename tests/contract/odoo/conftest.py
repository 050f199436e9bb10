"""Fixtures of the Odoo contract suite (:class:`OdooContract`, on :mod:`tests.contract.base`):
every test runs against the sandbox (a real HTTP server on 127.0.0.1) and, when
``CROSSDOCK_ODOO_URL``/``_DB``/``_USER`` and ``_PASSWORD`` or ``_API_KEY`` are set, against that
real Odoo too (skipped otherwise)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest

from crossdock.connectors.odoo import (
    ErpPort,
    OdooClient,
    OdooOperations,
    OdooSettings,
    StockSetting,
)
from crossdock.model import Money, Order, Product
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings
from tests.contract.base import Contract, Env

SECOND_COMPANY = "Crossdock Contract Co 2"


@dataclass(frozen=True)
class Target:
    kind: str
    url: str
    database: str
    login: str
    password: str | None
    api_key: str | None
    server: SandboxServer | None = None

    def settings(self, **overrides: object) -> OdooSettings:
        values: dict[str, object] = {
            "url": self.url,
            "database": self.database,
            "login": self.login,
            "password": self.password,
            "api_key": self.api_key,
            "retry_base_s": 0.01,
        }
        values.update(overrides)
        return OdooSettings(**values)  # type: ignore[arg-type]


ODOO_ENV = Env(
    required=("CROSSDOCK_ODOO_URL", "CROSSDOCK_ODOO_DB", "CROSSDOCK_ODOO_USER"),
    one_of=("CROSSDOCK_ODOO_PASSWORD", "CROSSDOCK_ODOO_API_KEY"),
)


class OdooContract(Contract[Target]):
    """The Odoo connector's contract: the ERP port, on the sandbox and on a real Odoo."""

    kind = "odoo"
    ports: ClassVar[Mapping[str, type]] = {"erp": ErpPort}
    env = ODOO_ENV

    @contextmanager
    def sandbox(self, tmp: Path) -> Iterator[Target]:
        settings = SandboxSettings(latency_call_s=0, latency_record_s=0, path=tmp / "odoo.db")
        with SandboxServer(settings) as server:
            s = server.settings
            yield Target("sandbox", server.url, s.database, s.login, s.password, None, server)

    def real(self, values: Mapping[str, str]) -> Target:
        return Target(
            "real",
            values["CROSSDOCK_ODOO_URL"].rstrip("/"),
            values["CROSSDOCK_ODOO_DB"],
            values["CROSSDOCK_ODOO_USER"],
            values.get("CROSSDOCK_ODOO_PASSWORD"),
            values.get("CROSSDOCK_ODOO_API_KEY"),
        )

    def implementation(self) -> type:
        return OdooOperations


target = OdooContract().fixture()


@pytest.fixture(scope="session")
def second_company(target: Target) -> int:
    """A second company (created once per database, reused afterwards)."""
    import asyncio

    async def ensure() -> int:
        async with OdooClient(target.settings()) as client:
            rows = await client.search_read(
                "res.company",
                [["name", "=", SECOND_COMPANY]],
                ["id"],
                context={"allowed_company_ids": list(client.info.company_ids)},
            )
            if rows:
                company_id = int(rows[0]["id"])
            else:
                [company_id] = await client.create("res.company", [{"name": SECOND_COMPANY}])
            context = {"allowed_company_ids": [company_id]}
            warehouses = await client.search_read(
                "stock.warehouse", [["company_id", "=", company_id]], ["id"], context=context
            )
            if not warehouses:  # Odoo makes no warehouse for a company created over RPC
                await client.create(
                    "stock.warehouse",
                    [{"name": SECOND_COMPANY, "code": "CC2", "company_id": company_id}],
                    context=context,
                )
            return company_id

    return asyncio.run(ensure())


@pytest.fixture
async def ops(target: Target) -> AsyncIterator[OdooOperations]:
    operations = OdooOperations(OdooClient(target.settings()))
    await operations.client.connect()
    try:
        yield operations
    finally:
        await operations.aclose()


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:10]


def product(
    sku: str,
    *,
    price: str = "10",
    tracking: str = "none",
    barcode: str | None = None,
    active: bool = True,
) -> Product:
    return Product(
        external_ref=sku,
        source="contract",
        sku=sku,
        name=f"Product {sku}",
        list_price=Money(amount=price, currency="USD"),
        cost_price=Money(amount="4", currency="USD"),
        tracking=tracking,
        barcode=barcode,
        active=active,
    )


def order(
    ref: str,
    customer: str,
    lines: list[tuple[str, str]],
    *,
    channel: str = "web",
    country: str = "BE",
    partner_id: int | None = None,
) -> Order:
    customer_data: dict[str, object] = {
        "external_ref": customer,
        "name": f"Customer {customer}",
        "address": {
            "street": "1 Main St",
            "city": "Brussels",
            "postal_code": "1000",
            "country": country,
        },
    }
    if partner_id is not None:
        customer_data["refs"] = {"odoo": str(partner_id)}
    return Order(
        external_ref=ref,
        source=channel,
        channel=channel,
        currency="USD",
        customer=customer_data,
        lines=[{"sku": sku, "quantity": qty, "unit_price": "10"} for sku, qty in lines],
    )


async def stocked_products(
    ops: OdooOperations, uid: str, quantities: dict[str, int], *, company_id: int | None = None
) -> list[str]:
    """Storable products named after ``uid`` with stock in the company's first warehouse."""
    skus = [f"CT-{uid}-{name}" for name in quantities]
    outcome = await ops.upsert_products([product(s) for s in skus], company_id=company_id)
    assert outcome.ok, outcome.failed
    settings = [
        StockSetting(sku=f"CT-{uid}-{n}", quantity=Decimal(q)) for n, q in quantities.items() if q
    ]
    if settings:
        await ops.set_stock(settings, company_id=company_id)
    return skus
