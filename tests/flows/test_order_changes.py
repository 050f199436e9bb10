"""Changes of accepted orders on Odoo (the sandbox, or a real Odoo): before release the sale order
gets the new lines and its delivery follows, once however often the change is delivered; an
order held for credit is placed with its new lines; after release, an exception."""

from __future__ import annotations

from decimal import Decimal

from crossdock.engine import NewEvent
from crossdock.flows.orders import order_subject
from crossdock.model import Order
from tests.contract.odoo.conftest import stocked_products
from tests.flows.conftest import MakeFlow
from tests.flows.harness import Flow, make_order


def change_requested(order_id: str, order: Order) -> NewEvent:
    return NewEvent(
        "order.change_requested",
        "shop",
        order_subject(order_id),
        {"order_id": order_id, "order": order.model_dump(mode="json"), "by": "shop"},
    )


async def _lines(flow: Flow, order: Order) -> dict[str, Decimal]:
    [so] = await flow.sale_orders(order)
    return {ln.sku: ln.quantity for ln in await flow.ops.sale_order_lines([so["id"]])}


async def test_a_sale_order_before_release_changes_in_odoo_once(
    make_flow: MakeFlow, uid: str
) -> None:
    flow = await make_flow(workers=False)
    a, b, c = await stocked_products(flow.ops, uid, {"A": 20, "B": 20, "C": 20})
    order = make_order(f"OC-{uid}", f"c-{uid}", [(a, "2"), (b, "1")])
    [order_id] = await flow.accept(order)
    # the sale order was made and confirmed in Odoo, the hub stopped before recording it
    await flow.deliver(await flow.engine.events_after(0), commit=False)
    assert (await flow.order(order_id)).state == "accepted"

    changed = make_order(f"OC-{uid}", f"c-{uid}", [(a, "5"), (c, "3")])
    await flow.engine.append([change_requested(order_id, changed)])
    [event] = await flow.events(order_id, "order.change_requested")
    await flow.deliver([event], commit=False)  # Odoo changed, the hub crashed again
    await flow.deliver([event], commit=True)

    assert await _lines(flow, order) == {a: Decimal(5), b: Decimal(0), c: Decimal(3)}
    [so] = await flow.sale_orders(order)
    [picking] = await flow.ops.delivery_pickings([so["id"]])
    demand = {m.sku: m.demand for m in picking.moves if m.state != "cancel"}
    assert demand == {a: Decimal(5), c: Decimal(3)}
    [done] = await flow.events(order_id, "order.changed")
    assert done.data["sale_orders"][0]["id"] == so["id"]
    assert (await flow.order(order_id)).order().lines == changed.lines


async def test_an_order_on_credit_hold_is_placed_with_its_changed_lines(
    flow: Flow, uid: str
) -> None:
    a, b = await stocked_products(flow.ops, uid, {"A": 20, "B": 20})
    customer = make_order("x", f"c-{uid}", [(a, "1")]).customer
    outcome = await flow.ops.find_or_create_customers([customer])
    await flow.ops.client.write("res.partner", list(outcome.done.values()), {"credit_limit": 50})
    order = make_order(f"OH-{uid}", f"c-{uid}", [(a, "10")])
    [order_id] = await flow.accept(order)
    exception = await flow.wait_exception(order_id, "credit_hold")

    changed = make_order(f"OH-{uid}", f"c-{uid}", [(a, "2"), (b, "1")])
    await flow.engine.append([change_requested(order_id, changed)])
    await flow.wait_step(order_id, "changed")
    await flow.resolve(exception.id, "approve")
    await flow.wait_state(order_id, "released")

    assert await _lines(flow, order) == {a: Decimal(2), b: Decimal(1)}
    [event] = await flow.events(order_id, "order.changed")
    assert event.data["changed"] == {a: {"from": "10", "to": "2"}}
    assert event.data["added"] == {b: "1"}


async def test_a_change_after_release_is_an_exception_for_operations(flow: Flow, uid: str) -> None:
    [a] = await stocked_products(flow.ops, uid, {"A": 20})
    order = make_order(f"OR-{uid}", f"c-{uid}", [(a, "2")])
    [order_id] = await flow.accept(order)
    await flow.wait_state(order_id, "released")

    await flow.engine.append(
        [change_requested(order_id, make_order(f"OR-{uid}", f"c-{uid}", [(a, "7")]))]
    )
    exception = await flow.wait_exception(order_id, "change_after_release")

    assert f"OR-{uid}" in exception.reason and "nothing was changed" in exception.reason
    assert await _lines(flow, order) == {a: Decimal(2)}
    assert await flow.events(order_id, "order.changed") == []
