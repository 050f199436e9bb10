"""Contract: the order's currency decides the sale order's pricelist, so its ``currency_id``; an
order whose currency has no pricelist is refused, never made in another currency."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.odoo import CurrencyUnsupportedError, OdooOperations
from tests.contract.odoo.conftest import order, stocked_products
from tests.contract.odoo.currencies import (
    UNSUPPORTED,
    activate,
    company_currency,
    currency_of,
    second_currency,
)


async def test_an_order_in_a_second_currency_is_a_sale_order_in_that_currency(
    ops: OdooOperations, uid: str
) -> None:
    foreign = await second_currency(ops.client)
    home_code = await company_currency(ops.client)
    [sku] = await stocked_products(ops, uid, {"A": 10})
    home = order(f"{uid}-home", f"c-{uid}", [(sku, "1")]).model_copy(update={"currency": home_code})
    away = order(f"{uid}-away", f"c-{uid}", [(sku, "2")]).model_copy(
        update={"currency": foreign.code}
    )

    outcome = await ops.create_sale_orders([home, away])

    assert outcome.ok, outcome.failed
    away_id = outcome.done[f"web:{uid}-away"].id
    home_id = outcome.done[f"web:{uid}-home"].id
    assert await currency_of(ops.client, "sale.order", away_id) == foreign.code
    assert await currency_of(ops.client, "sale.order", home_id) == home_code
    [row] = await ops.client.read("sale.order", [away_id], ["pricelist_id", "amount_untaxed"])
    assert await currency_of(ops.client, "product.pricelist", row["pricelist_id"][0]) == (
        foreign.code
    )
    assert row["amount_untaxed"] == 20.0  # the channel's prices, in the order's currency


async def test_an_order_in_a_currency_without_pricelist_is_refused_naming_it(
    ops: OdooOperations, uid: str
) -> None:
    [sku] = await stocked_products(ops, uid, {"A": 10})
    bad = order(f"{uid}-mnt", f"c-{uid}", [(sku, "1")]).model_copy(update={"currency": UNSUPPORTED})
    good = order(f"{uid}-ok", f"c-{uid}", [(sku, "1")])

    outcome = await ops.create_sale_orders([bad, good])

    error = outcome.failed[f"web:{uid}-mnt"]
    assert isinstance(error, CurrencyUnsupportedError)
    assert error.currency == UNSUPPORTED and UNSUPPORTED in str(error)
    assert f"web:{uid}-mnt" in (error.record or "")
    assert set(outcome.done) == {f"web:{uid}-ok"}
    rows = await ops.client.search_read(
        "sale.order", [["client_order_ref", "=", f"web:{uid}-mnt"]], ["id"]
    )
    assert rows == []


async def test_a_configured_pricelist_in_another_currency_is_refused(
    ops: OdooOperations, uid: str
) -> None:
    foreign = await second_currency(ops.client)
    home = await activate(ops.client, await company_currency(ops.client))
    [sku] = await stocked_products(ops, uid, {"A": 10})
    away = order(f"{uid}-cfg", f"c-{uid}", [(sku, "1")]).model_copy(
        update={"currency": foreign.code}
    )

    outcome = await ops.create_sale_orders([away], pricelists={f"web:{uid}-cfg": home.pricelist_id})

    error = outcome.failed[f"web:{uid}-cfg"]
    assert isinstance(error, CurrencyUnsupportedError) and foreign.code in str(error)


async def test_the_pricelist_of_a_currency_is_looked_up_once(ops: OdooOperations, uid: str) -> None:
    foreign = await second_currency(ops.client)
    company = await ops.default_company_id()

    first = await ops.currency_pricelists([foreign.code, UNSUPPORTED], company_id=company)
    ops.client.stats.by_method = {}
    again = await ops.currency_pricelists([foreign.code], company_id=company)

    assert first.done == {foreign.code: foreign.pricelist_id} == again.done
    assert isinstance(first.failed[UNSUPPORTED], CurrencyUnsupportedError)
    assert ops.client.stats.by_method == {}


async def test_a_pricelist_in_another_currency_gives_only_its_fixed_prices(
    ops: OdooOperations, uid: str
) -> None:
    """A list price is in the company's currency: it is no price in another currency (Odoo
    would convert it at a rate the hub does not keep), so only the pricelist's fixed prices
    count and the other SKUs keep the channel's price."""
    foreign = await second_currency(ops.client)
    fixed, plain = await stocked_products(ops, uid, {"F": 1, "P": 1})
    info = (await ops.resolve_products([fixed])).found[fixed]
    [pricelist] = await ops.client.create(
        "product.pricelist",
        [
            {
                "name": f"Contract {foreign.code} {uid}",
                "currency_id": foreign.id,
                "item_ids": [
                    (
                        0,
                        0,
                        {
                            "applied_on": "0_product_variant",
                            "product_id": info.id,
                            "compute_price": "fixed",
                            "fixed_price": 7.5,
                        },
                    )
                ],
            }
        ],
    )
    try:
        prices = await ops.prices([fixed, plain], pricelist_id=pricelist)
    finally:  # a real Odoo keeps it: archived, the currency's look-up never finds it
        await ops.client.write("product.pricelist", [pricelist], {"active": False})

    assert prices == {fixed: Decimal("7.5")}
