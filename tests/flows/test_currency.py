"""Money: an order's currency decides its Odoo pricelist (the channel's configured one, else Odoo's
pricelist of that currency), so the sale order and the invoice are in the order's currency; an
order whose currency has no pricelist is an exception ``currency_unsupported``, never a sale order
in another currency. Run on the sandbox and, when configured, on a real Odoo (which activates its
second currency here, as a person would)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crossdock.config.schema import ChannelPolicy
from tests.contract.odoo.conftest import Target, stocked_products
from tests.contract.odoo.currencies import (
    UNSUPPORTED,
    activate,
    company_currency,
    currency_of,
    second_currency,
)
from tests.flows.conftest import MakeFlow
from tests.flows.harness import Flow, make_order


async def test_an_order_in_a_second_currency_is_confirmed_and_invoiced_in_it(
    flow: Flow, uid: str
) -> None:
    foreign = await second_currency(flow.ops.client)
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    order = make_order(f"EU-{uid}", f"c-{uid}", [(a, "3")], price="7").model_copy(
        update={"currency": foreign.code}
    )
    [order_id] = await flow.accept(order)

    released = await flow.wait_state(order_id, "released")
    [so] = released.erp["sale_orders"]
    assert await currency_of(flow.ops.client, "sale.order", so["id"]) == foreign.code
    assert so["currency"] == foreign.code
    [confirmed] = await flow.events(order_id, "order.confirmed")
    assert confirmed.data["currency"] == foreign.code
    assert confirmed.data["sale_orders"][0]["currency"] == foreign.code

    await flow.ship(order_id, [(a, "3")])
    invoiced = await flow.wait_state(order_id, "invoiced")
    [invoice] = invoiced.erp["invoices"]
    assert invoice["currency"] == foreign.code and Decimal(invoice["subtotal"]) == 21
    assert await currency_of(flow.ops.client, "account.move", invoice["id"]) == foreign.code
    [posted] = await flow.events(order_id, "invoice.posted")
    assert posted.data["invoice"]["currency"] == foreign.code


async def test_an_order_whose_currency_has_no_pricelist_is_an_exception(
    flow: Flow, uid: str
) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    bad = make_order(f"MN-{uid}", f"c-{uid}", [(a, "1")]).model_copy(
        update={"currency": UNSUPPORTED}
    )
    good = make_order(f"OK-{uid}", f"c-{uid}", [(a, "1")]).model_copy(
        update={"currency": await company_currency(flow.ops.client)}
    )
    [bad_id, good_id] = await flow.accept(bad, good)

    exception = await flow.wait_exception(bad_id, "currency_unsupported")
    assert UNSUPPORTED in exception.reason and "channel web" in exception.reason
    assert exception.actions == ["retry", "fail"]
    await flow.wait_state(good_id, "released")  # the rest of the batch went through
    assert (await flow.order(bad_id)).state == "accepted"
    assert not await flow.sale_orders(bad)
    [opened] = await flow.events(bad_id, "order.exception")
    assert opened.data["type"] == "currency_unsupported"


async def test_once_the_currency_has_a_pricelist_a_retry_goes_through(
    flow: Flow, odoo: Target, uid: str
) -> None:
    if odoo.server is None:
        pytest.skip("activates a currency for good: the sandbox only")
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    order = make_order(f"IS-{uid}", f"c-{uid}", [(a, "1")]).model_copy(update={"currency": "ISK"})
    [order_id] = await flow.accept(order)
    exception = await flow.wait_exception(order_id, "currency_unsupported")

    await activate(flow.ops.client, "ISK")
    await flow.resolve(exception.id, "retry")

    released = await flow.wait_state(order_id, "released")
    [so] = released.erp["sale_orders"]
    assert await currency_of(flow.ops.client, "sale.order", so["id"]) == "ISK"


async def test_the_channels_configured_pricelist_of_a_currency_is_used(
    make_flow: MakeFlow, odoo: Target, uid: str
) -> None:
    probe = await make_flow(workers=False)
    foreign = await second_currency(probe.ops.client)
    home = await activate(probe.ops.client, await company_currency(probe.ops.client))
    [own] = await probe.ops.client.create(
        "product.pricelist", [{"name": f"Crossdock eu {uid}", "currency_id": foreign.id}]
    )
    try:
        flow = await make_flow(
            channels={
                "eu": ChannelPolicy(pricelists={foreign.code: own}),
                "wrong": ChannelPolicy(pricelists={foreign.code: home.pricelist_id}),
            }
        )
        [a] = await stocked_products(flow.ops, uid, {"A": 10})
        eu = make_order(f"EU-{uid}", f"c-{uid}", [(a, "1")], channel="eu")
        wrong = make_order(f"WR-{uid}", f"c-{uid}", [(a, "1")], channel="wrong")
        [eu_id, wrong_id] = await flow.accept(
            eu.model_copy(update={"currency": foreign.code}),
            wrong.model_copy(update={"currency": foreign.code}),
        )

        released = await flow.wait_state(eu_id, "released")
        [so] = released.erp["sale_orders"]
        [row] = await flow.ops.client.read("sale.order", [so["id"]], ["pricelist_id"])
        assert row["pricelist_id"][0] == own
        assert await currency_of(flow.ops.client, "sale.order", so["id"]) == foreign.code
        exception = await flow.wait_exception(wrong_id, "currency_unsupported")
        assert foreign.code in exception.reason and "channel wrong" in exception.reason
        assert not await flow.sale_orders(wrong)
    finally:  # a real Odoo keeps it: archived, it is never found by the look-up
        await probe.ops.client.write("product.pricelist", [own], {"active": False})
