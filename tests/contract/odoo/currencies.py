"""A second currency for the money tests, set up the way a person would in Odoo: the currency
activated (``res.currency.active``; a fresh Odoo has every ISO currency but only the company's
active) and a sale pricelist in it. Works on the sandbox and on a real Odoo, idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.connectors.odoo import OdooClient
from crossdock.connectors.odoo.mapping import m2o_id

UNSUPPORTED = "MNT"
"""A currency no test activates nor prices: orders in it have no pricelist."""


@dataclass(frozen=True)
class Currency:
    code: str
    id: int
    pricelist_id: int


async def company_currency(client: OdooClient, company_id: int | None = None) -> str:
    info = await client.connect()
    [company] = await client.read("res.company", [company_id or info.company_id], ["currency_id"])
    return str(company["currency_id"][1])


async def second_currency(client: OdooClient, company_id: int | None = None) -> Currency:
    """EUR (USD where the company's currency is EUR), active, with a pricelist of its own."""
    code = "USD" if await company_currency(client, company_id) == "EUR" else "EUR"
    return await activate(client, code, company_id)


async def activate(client: OdooClient, code: str, company_id: int | None = None) -> Currency:
    """Currency ``code`` active, and a pricelist in it visible to the company."""
    info = await client.connect()
    company = company_id or info.company_id
    everything = {"active_test": False}
    rows = await client.search_read(
        "res.currency", [["name", "=", code]], ["active"], context=everything
    )
    if rows:
        currency_id = int(rows[0]["id"])
        if not rows[0]["active"]:
            await client.write("res.currency", [currency_id], {"active": True})
    else:  # the sandbox seeds only a few currencies
        [currency_id] = await client.create("res.currency", [{"name": code, "symbol": code}])
    pricelists = await client.search_read(
        "product.pricelist",
        [["currency_id", "=", currency_id], ["company_id", "in", [False, company]]],
        ["currency_id"],
        order="id",
        context={"allowed_company_ids": [company]},
    )
    if pricelists:
        pricelist_id = int(pricelists[0]["id"])
    else:
        [pricelist_id] = await client.create(
            "product.pricelist",
            [{"name": f"Crossdock {code}", "currency_id": currency_id}],
            context={"allowed_company_ids": [company]},
        )
    return Currency(code, currency_id, pricelist_id)


async def currency_of(client: OdooClient, model: str, record_id: int) -> str:
    """The code of a record's ``currency_id`` (a sale order, an invoice, a pricelist)."""
    [row] = await client.read(model, [record_id], ["currency_id"], context={"active_test": False})
    currency = m2o_id(row["currency_id"])
    [cur] = await client.read("res.currency", [currency or 0], ["name"])
    return str(cur["name"])
