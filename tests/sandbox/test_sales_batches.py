"""Batches of sale orders on the sandbox, as Odoo runs them: one ``action_confirm`` on an id list
is one transaction (a refused order confirms none of the others), and the connector's batch
confirmation and customer cache on top of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from crossdock.connectors.odoo import (
    OdooBusinessError,
    OdooClient,
    OdooMissingError,
    OdooOperations,
    StockSetting,
)
from crossdock.model import Money, Order, Product
from crossdock.sandbox.odoo import SandboxServer
from tests.sandbox.conftest import quick, settings_for, stats


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(quick()) as s:
        yield s


@pytest.fixture
async def ops(server: SandboxServer) -> AsyncIterator[OdooOperations]:
    operations = OdooOperations(OdooClient(settings_for(server)))
    sku = "SB-1"
    await operations.upsert_products(
        [
            Product(
                external_ref=sku,
                source="test",
                sku=sku,
                name="Batch product",
                list_price=Money(amount="3", currency="USD"),
            )
        ]
    )
    await operations.set_stock([StockSetting(sku=sku, quantity=Decimal(1000))])
    try:
        yield operations
    finally:
        await operations.aclose()


def order(ref: str, customer: str) -> Order:
    return Order(
        external_ref=ref,
        source="web",
        channel="web",
        currency="USD",
        customer={"external_ref": customer, "name": f"Customer {customer}"},
        lines=[{"sku": "SB-1", "quantity": "1", "unit_price": "3"}],
    )


async def test_one_refused_order_confirms_none_of_its_batch(ops: OdooOperations) -> None:
    created = await ops.create_sale_orders([order("r-1", "c-r"), order("r-2", "c-r")])
    first, second = (created.done[f"web:r-{n}"].id for n in (1, 2))
    await ops.client.call("sale.order", "action_confirm", [first])

    with pytest.raises(OdooBusinessError, match="not in a state requiring confirmation"):
        await ops.client.call("sale.order", "action_confirm", [first, second])

    rows = await ops.client.read("sale.order", [second], ["state", "picking_ids"])
    assert rows == [{"id": second, "state": "draft", "picking_ids": []}]  # rolled back


async def test_confirming_a_mixed_batch_sets_done_ones_aside_and_names_missing_ones(
    ops: OdooOperations, server: SandboxServer
) -> None:
    created = await ops.create_sale_orders([order(f"m-{n}", "c-m") for n in range(3)])
    ids = [created.done[f"web:m-{n}"].id for n in range(3)]
    await ops.confirm_sale_orders(ids[:1])
    calls = ops.client.stats.calls

    outcome = await ops.confirm_sale_orders([*ids, 999_999])

    assert outcome.done == dict.fromkeys(ids, "sale") and outcome.existing == {ids[0]}
    assert isinstance(outcome.failed[999_999], OdooMissingError)
    # the refused call, one read of the states, one call for the two drafts
    assert ops.client.stats.calls - calls == 3
    states = await ops.client.read("sale.order", ids, ["state"])
    assert {row["state"] for row in states} == {"sale"}


async def test_a_batch_of_draft_orders_is_confirmed_in_one_call(ops: OdooOperations) -> None:
    created = await ops.create_sale_orders([order(f"d-{n}", "c-d") for n in range(5)])
    calls = ops.client.stats.calls

    outcome = await ops.confirm_sale_orders([ref.id for ref in created.done.values()])

    assert len(outcome.done) == 5 and not outcome.existing and not outcome.failed
    assert ops.client.stats.calls - calls == 1


async def test_known_customers_are_not_looked_up_again(
    ops: OdooOperations, server: SandboxServer
) -> None:
    await ops.create_sale_orders([order("k-1", "c-k1"), order("k-2", "c-k2")])
    searches = stats(server)["by_method"]["res.partner.search_read"]

    again = await ops.create_sale_orders([order("k-3", "c-k1"), order("k-4", "c-k2")])
    ops.invalidate_customers(["web:c-k1"])
    await ops.create_sale_orders([order("k-5", "c-k1")])

    partners = {ref.partner_id for ref in again.done.values()}
    assert len(partners) == 2
    # the second batch used the cache; after invalidation one lookup found the same partner
    assert stats(server)["by_method"]["res.partner.search_read"] == searches + 1
    rows = await ops.client.search_read("res.partner", [["ref", "=", "web:c-k1"]], ["id"])
    assert len(rows) == 1
