"""Currencies as the sandbox plays them, per version: only the company's currency is active in a
fresh database; a sale order's ``currency_id`` is derived from its pricelist, never taken as given
(Odoo 16 relates it to ``pricelist_id.currency_id`` and requires a pricelist, defaulting to the
company's; 17+ computes ``pricelist_id.currency_id or company_id.currency_id``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from crossdock.connectors.odoo import OdooClient
from crossdock.sandbox.odoo import SandboxServer
from tests.contract.odoo.currencies import activate, currency_of
from tests.sandbox.conftest import quick, settings_for


@pytest.fixture(scope="module", params=[16, 17, 19])
def server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    with SandboxServer(quick(version=request.param)) as s:
        yield s


@pytest.fixture
async def client(server: SandboxServer) -> AsyncIterator[OdooClient]:
    async with OdooClient(settings_for(server)) as client:
        yield client


async def _partner(client: OdooClient) -> int:
    [partner] = await client.create("res.partner", [{"name": "Currency customer"}])
    return int(partner)


async def test_only_the_company_currency_is_active_in_a_fresh_database(
    client: OdooClient,
) -> None:
    active = await client.search_read("res.currency", [], ["name"])
    everything = await client.search_read(
        "res.currency", [], ["name", "active"], context={"active_test": False}
    )

    assert [r["name"] for r in active] == ["USD"]
    assert {r["name"]: r["active"] for r in everything}["EUR"] is False


async def test_the_sale_order_currency_follows_its_pricelist(
    client: OdooClient, server: SandboxServer
) -> None:
    eur = await activate(client, "EUR")
    partner = await _partner(client)
    [plain, priced, forced] = await client.create(
        "sale.order",
        [
            {"partner_id": partner},
            {"partner_id": partner, "pricelist_id": eur.pricelist_id},
            {"partner_id": partner, "currency_id": eur.id},  # not a way to set it
        ],
    )

    assert await currency_of(client, "sale.order", plain) == "USD"
    assert await currency_of(client, "sale.order", priced) == "EUR"
    assert await currency_of(client, "sale.order", forced) == "USD"
    [row] = await client.read("sale.order", [plain], ["pricelist_id"])
    assert bool(row["pricelist_id"]) is (server.settings.version <= 16)

    await client.write("sale.order", [plain], {"pricelist_id": eur.pricelist_id})
    assert await currency_of(client, "sale.order", plain) == "EUR"
