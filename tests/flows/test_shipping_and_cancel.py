"""Shipments (full, short with a backorder, short with the rest cancelled) and cancellation
before and after release."""

from __future__ import annotations

from tests.contract.odoo.conftest import stocked_products
from tests.flows.conftest import MakeFlow
from tests.flows.harness import Flow, cancel_requested, make_order, new_order_id


async def test_short_pick_leaves_a_backorder_then_the_rest_ships(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    [order_id] = await flow.accept(make_order(f"SH-{uid}", f"c-{uid}", [(a, "5")]))
    await flow.wait_state(order_id, "released")

    await flow.ship(order_id, [(a, "3")])
    await flow.wait_step(order_id, "invoice_posted")

    shipped = await flow.order(order_id)
    assert shipped.state == "shipped"
    [first] = shipped.erp["shipments"]
    assert first["short"] == {a: "2"} and first["short_pick"] == "backorder"
    assert len(first["backorders"]) == 1 and shipped.erp["open_pickings"] == first["backorders"]
    [invoice] = shipped.erp["invoices"]
    assert invoice["subtotal"] == "30"

    await flow.ship(order_id, [(a, "2")])
    invoiced = await flow.wait_state(order_id, "invoiced")
    assert [s["picking_id"] for s in invoiced.erp["shipments"]][1] == first["backorders"][0]
    assert sorted(i["subtotal"] for i in invoiced.erp["invoices"]) == ["20", "30"]
    assert (await flow.emitted(order_id)).count("invoice.posted") == 2


async def test_short_pick_cancels_the_rest_on_a_cancel_channel(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    [order_id] = await flow.accept(make_order(f"SC-{uid}", f"c-{uid}", [(a, "5")], channel="cut"))
    await flow.wait_state(order_id, "released")

    await flow.ship(order_id, [(a, "3")])
    invoiced = await flow.wait_state(order_id, "invoiced")

    [shipment] = invoiced.erp["shipments"]
    assert shipment["backorders"] == [] and shipment["short_pick"] == "cancel"
    [invoice] = invoiced.erp["invoices"]
    assert invoice["subtotal"] == "30"
    [level] = await flow.ops.stock_levels([a])
    assert level.on_hand == 7 and level.available == 7  # nothing left reserved


async def test_cancel_requested_with_the_order_cancels_it_before_the_erp(
    flow: Flow, uid: str
) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    order = make_order(f"CB-{uid}", f"c-{uid}", [(a, "1")])
    order_id = new_order_id()

    await flow.accept(order, ids=[order_id], then=[cancel_requested(order_id)])

    cancelled = await flow.wait_state(order_id, "cancelled")
    assert cancelled.erp == {} and not await flow.sale_orders(order)
    assert await flow.emitted(order_id) == ["order.cancelled"]


async def test_cancel_of_an_order_on_credit_hold_withdraws_the_exception(
    flow: Flow, uid: str
) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    outcome = await flow.ops.find_or_create_customers(
        [make_order("x", f"c-{uid}", [(a, "1")]).customer]
    )
    await flow.ops.client.write("res.partner", list(outcome.done.values()), {"credit_limit": 5})
    [order_id] = await flow.accept(make_order(f"CH-{uid}", f"c-{uid}", [(a, "1")]))
    await flow.wait_exception(order_id, "credit_hold")

    await flow.cancel(order_id)

    await flow.wait_state(order_id, "cancelled")
    [withdrawn] = await flow.exceptions(order_id, state=None)
    assert withdrawn.state == "resolved" and withdrawn.resolution == "withdrawn"


async def test_cancel_before_release_cancels_the_sale_order_in_odoo(
    make_flow: MakeFlow, uid: str
) -> None:
    flow = await make_flow(workers=False)
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    order = make_order(f"CO-{uid}", f"c-{uid}", [(a, "2")])
    [order_id] = await flow.accept(order)
    # the hub made the sale order, then crashed before recording it ...
    await flow.deliver(await flow.engine.events_after(0), commit=False)
    assert [so["state"] for so in await flow.sale_orders(order)] == ["sale"]
    # ... and after the restart the cancel request is delivered together with the order
    await flow.engine.append([cancel_requested(order_id)])

    await flow.deliver(await flow.engine.events_after(0), commit=True)

    cancelled = await flow.order(order_id)
    assert cancelled.state == "cancelled"
    assert [so["state"] for so in await flow.sale_orders(order)] == ["cancel"]
    assert await flow.emitted(order_id) == ["order.cancelled"]
    if flow.odoo == "real":  # the sandbox does not cancel the deliveries of a cancelled order
        [level] = await flow.ops.stock_levels([a])
        assert level.available == 10  # the reservation went with the delivery


async def test_cancel_after_release_needs_a_person(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 10})
    keep = make_order(f"KP-{uid}", f"c-{uid}", [(a, "1")])
    drop = make_order(f"DR-{uid}", f"c-{uid}", [(a, "1")])
    [keep_id, drop_id] = await flow.accept(keep, drop)
    await flow.wait_state(keep_id, "released")
    await flow.wait_state(drop_id, "released")

    await flow.cancel(keep_id)
    await flow.cancel(drop_id)
    kept = await flow.wait_exception(keep_id, "cancel_after_release")
    dropped = await flow.wait_exception(drop_id, "cancel_after_release")
    assert kept.owner == "operations" and kept.actions == ["cancel_anyway", "keep"]

    await flow.resolve(kept.id, "keep")
    await flow.resolve(dropped.id, "cancel_anyway")

    await flow.wait_state(drop_id, "cancelled")
    await flow.wait_step(keep_id, "cancel_after_release_resolved")
    assert (await flow.order(keep_id)).state == "released"
    assert [so["state"] for so in await flow.sale_orders(drop)] == ["cancel"]
    assert [so["state"] for so in await flow.sale_orders(keep)] == ["sale"]
    if flow.odoo == "real":  # the sandbox does not cancel the deliveries of a cancelled order
        pickings = await flow.ops.delivery_pickings([(await flow.sale_orders(drop))[0]["id"]])
        assert [p.state for p in pickings] == ["cancel"]
