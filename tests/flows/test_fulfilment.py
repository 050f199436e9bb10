"""Availability and fulfilment per channel policy: another warehouse, a split across warehouses,
a backorder of the remainder, or a rejection to the exceptions queue."""

from __future__ import annotations

from tests.contract.odoo.conftest import stocked_products
from tests.flows.conftest import MakeFlow
from tests.flows.harness import SECOND_WAREHOUSE, Flow, make_order


async def test_order_ships_from_another_warehouse_that_has_it_all(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 1})
    await flow.stock(a, 10, SECOND_WAREHOUSE)
    order = make_order(f"AW-{uid}", f"c-{uid}", [(a, "4")], channel="split")
    [order_id] = await flow.accept(order)

    released = await flow.wait_state(order_id, "released")

    [so] = released.erp["sale_orders"]
    assert so["warehouse"] == SECOND_WAREHOUSE and so["client_order_ref"] == f"split:AW-{uid}"
    [odoo_so] = await flow.sale_orders(order)
    assert odoo_so["warehouse_id"][1].startswith("Crossdock second") or odoo_so["warehouse_id"]
    [confirmed] = await flow.events(order_id, "order.confirmed")
    assert confirmed.data["fulfilment"] == "any_warehouse"


async def test_order_is_split_across_warehouses(flow: Flow, uid: str) -> None:
    a, b = await stocked_products(flow.ops, uid, {"A": 3, "B": 5})
    await flow.stock(a, 5, SECOND_WAREHOUSE)
    order = make_order(f"SP-{uid}", f"c-{uid}", [(a, "6"), (b, "2")], channel="split")
    [order_id] = await flow.accept(order)

    released = await flow.wait_state(order_id, "released")

    parts = {so["warehouse"]: so for so in released.erp["sale_orders"]}
    assert set(parts) == {"WH", SECOND_WAREHOUSE}
    assert parts["WH"]["client_order_ref"] == f"split:SP-{uid}"
    assert parts[SECOND_WAREHOUSE]["client_order_ref"] == f"split:SP-{uid}/{SECOND_WAREHOUSE}"
    shipped_from = {
        p["sale_order_id"]: {line["sku"]: line["quantity"] for line in p["lines"]}
        for p in released.erp["pickings"]
    }
    assert shipped_from[parts["WH"]["id"]] == {a: "3", b: "2"}
    assert shipped_from[parts[SECOND_WAREHOUSE]["id"]] == {a: "3"}
    assert len(await flow.sale_orders(order)) == 2

    # the warehouses confirm their parts separately; the order is invoiced when both shipped
    await flow.ship(order_id, [(a, "3"), (b, "2")], warehouse="WH")
    await flow.wait_step(order_id, "invoice_posted")
    assert (await flow.order(order_id)).state == "shipped"
    await flow.ship(order_id, [(a, "3")], warehouse=SECOND_WAREHOUSE)
    invoiced = await flow.wait_state(order_id, "invoiced")
    assert len(invoiced.erp["invoices"]) >= 1 and len(invoiced.erp["shipments"]) == 2


async def test_short_stock_is_backordered(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 2})
    order = make_order(f"BO-{uid}", f"c-{uid}", [(a, "5")], channel="bo")
    [order_id] = await flow.accept(order)

    released = await flow.wait_state(order_id, "released")

    [confirmed] = await flow.events(order_id, "order.confirmed")
    assert confirmed.data["fulfilment"] == "backorder" and confirmed.data["backordered"] == {a: "3"}
    [picking] = released.erp["pickings"]
    assert picking["lines"] == [{"sku": a, "quantity": "5"}]


async def test_short_stock_is_rejected_then_backordered_by_a_person(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 1})
    order = make_order(f"RJ-{uid}", f"c-{uid}", [(a, "5")], channel="strict")
    [order_id] = await flow.accept(order)

    exception = await flow.wait_exception(order_id, "out_of_stock")
    assert exception.owner == "sales" and f"{a} short by 4" in exception.reason
    assert not await flow.sale_orders(order)

    await flow.resolve(exception.id, "backorder")
    await flow.wait_state(order_id, "released")
    [confirmed] = await flow.events(order_id, "order.confirmed")
    assert confirmed.data["backordered"] == {a: "4"}


async def test_orders_of_one_batch_share_the_stock(make_flow: MakeFlow, uid: str) -> None:
    flow = await make_flow(workers=False)  # the handler is called by hand: one batch for sure
    [a] = await stocked_products(flow.ops, uid, {"A": 5})
    first = make_order(f"S1-{uid}", f"c-{uid}", [(a, "4")], channel="strict")
    second = make_order(f"S2-{uid}", f"c-{uid}", [(a, "4")], channel="strict")
    [first_id, second_id] = await flow.accept(first, second)

    await flow.deliver(await flow.engine.events_after(0), commit=True)

    assert (await flow.order(first_id)).state == "released"
    [exception] = await flow.exceptions(second_id)
    assert exception.type == "out_of_stock" and f"{a} short by 3" in exception.reason
