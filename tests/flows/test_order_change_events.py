"""What order to cash publishes for a change is what the event catalog says: an accepted order
placed in Odoo (the sandbox, or a real Odoo), changed by its channel before release; the
``order.changed`` it appends, and every other event it published about the order, validated
against the catalog's schemas (the test's own order.accepted aside)."""

from __future__ import annotations

from crossdock.engine import NewEvent
from crossdock.flows.order_to_cash.settings import SOURCE
from crossdock.flows.orders import order_subject
from tests.catalog.conformance import problems
from tests.contract.odoo.conftest import stocked_products
from tests.flows.conftest import MakeFlow
from tests.flows.harness import make_order


async def test_a_change_before_release_publishes_a_catalogued_order_changed(
    make_flow: MakeFlow, uid: str
) -> None:
    flow = await make_flow(workers=False)
    a, b, c = await stocked_products(flow.ops, uid, {"A": 20, "B": 20, "C": 20})
    order = make_order(f"OE-{uid}", f"c-{uid}", [(a, "2"), (b, "1")])
    [order_id] = await flow.accept(order)
    # placed in Odoo, not yet recorded by the hub: a change still reaches the sale order
    await flow.deliver(await flow.engine.events_after(0), commit=False)
    record = await flow.order(order_id)
    assert record.state == "accepted"
    changed = make_order(f"OE-{uid}", f"c-{uid}", [(a, "5"), (c, "3")])
    asked = NewEvent(
        "order.change_requested",
        "shop",
        order_subject(order_id),
        {
            "order_id": order_id,
            "channel": record.channel,
            "external_ref": record.external_ref,
            "order": changed.model_dump(mode="json"),
            "reason": "edited in the shop",
            "by": "shop",
        },
    )
    await flow.engine.append([asked])
    [event] = await flow.events(order_id, "order.change_requested")
    await flow.deliver([event], commit=True)
    [done] = await flow.events(order_id, "order.changed")
    assert done.data["changed"] == {a: {"from": "2", "to": "5"}}
    assert done.data["added"] == {c: "3"} and done.data["removed"] == {b: "1"}
    published = [e for e in await flow.events(order_id) if e.source == SOURCE]
    assert "order.changed" in {e.type for e in published}
    assert problems(published) == []
