"""Changes of accepted orders on the in-memory ERP, by the order-to-cash rule: before release the
sale order (or the order waiting to be placed) gets the new lines; after release an exception
and nothing changed; a change applied twice changes once."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.memory import MemoryErp
from crossdock.connectors.odoo import StockSetting
from crossdock.engine import NewEvent
from crossdock.flows.orders import order_subject
from crossdock.model import Order
from tests.flows.harness import Flow, make_order


async def _stocked(erp: MemoryErp, **quantities: int) -> None:
    for sku in quantities:
        erp.add_product(sku, price="10")
    await erp.set_stock([StockSetting(sku=s, quantity=Decimal(q)) for s, q in quantities.items()])


def change_requested(order_id: str, order: Order) -> NewEvent:
    return NewEvent(
        "order.change_requested",
        "shop",
        order_subject(order_id),
        {
            "order_id": order_id,
            "order": order.model_dump(mode="json"),
            "reason": "edited by the customer",
            "by": "shop",
        },
    )


async def _deliver_new(flow: Flow, *events: NewEvent, commit: bool = True) -> None:
    before = {e.id for e in await flow.engine.events_after(0)}
    await flow.engine.append(list(events))
    new = [e for e in await flow.engine.events_after(0) if e.id not in before]
    await flow.deliver(new, commit=commit)


async def test_an_order_waiting_for_a_person_is_placed_with_its_changed_lines(
    flow: Flow, erp: MemoryErp
) -> None:
    await _stocked(erp, A=10, B=10)
    order = make_order("CH-1", "c-1", [("A", "1"), ("NOPE", "1")])
    [order_id] = await flow.accept(order)
    await flow.deliver(await flow.engine.events_after(0), commit=True)
    [parked] = await flow.exceptions(order_id)
    assert parked.type == "unknown_product"

    changed = make_order("CH-1", "c-1", [("A", "3"), ("B", "2")])
    await _deliver_new(flow, change_requested(order_id, changed))

    record = await flow.order(order_id)
    assert record.order().lines == changed.lines and record.total == "50"
    [event] = await flow.events(order_id, "order.changed")
    assert event.data["changed"] == {"A": {"from": "1", "to": "3"}}
    assert event.data["added"] == {"B": "2"} and event.data["removed"] == {"NOPE": "1"}
    assert "change_sale_order_lines" not in erp.calls  # nothing of it is in the ERP yet

    await _deliver_new(
        flow,
        NewEvent(
            "exception.resolved",
            "tester",
            order_subject(order_id),
            {"order_id": order_id, "type": "unknown_product", "action": "retry", "by": "t"},
        ),
    )
    assert (await flow.order(order_id)).state == "released"
    [so] = erp.sale_orders_of(order)
    assert so.quantities == {"A": Decimal(3), "B": Decimal(2)}


async def test_a_sale_order_before_release_changes_once_even_when_redelivered(
    flow: Flow, erp: MemoryErp
) -> None:
    await _stocked(erp, A=10, B=10, C=10)
    order = make_order("CH-2", "c-2", [("A", "2"), ("B", "1")])
    [order_id] = await flow.accept(order)
    # the sale order was made and confirmed, the hub stopped before recording it: not released
    await flow.deliver(await flow.engine.events_after(0), commit=False)
    [so] = erp.sale_orders_of(order)
    assert so.state == "sale" and (await flow.order(order_id)).state == "accepted"

    changed = make_order("CH-2", "c-2", [("A", "5"), ("C", "1")])
    event = change_requested(order_id, changed)
    await _deliver_new(flow, event, commit=False)  # the ERP changed, the hub crashed
    [stored] = await flow.events(order_id, "order.change_requested")
    await flow.deliver([stored], commit=True)  # redelivered: Odoo has the lines already

    assert so.quantities == {"A": Decimal(5), "B": Decimal(0), "C": Decimal(1)}
    [picking] = [p for p in erp.pickings.values() if p.order_id == so.id]
    assert picking.demand == {"A": Decimal(5), "C": Decimal(1)}
    [changed_event] = await flow.events(order_id, "order.changed")
    assert changed_event.data["added"] == {} and changed_event.data["changed"] == {}
    assert changed_event.data["sale_orders"][0]["id"] == so.id
    assert (await flow.order(order_id)).order().lines == changed.lines

    await flow.deliver([stored], commit=True)  # and once more: the order has these lines
    assert len(await flow.events(order_id, "order.changed")) == 1
    assert erp.calls["change_sale_order_lines"] == 2


async def test_a_change_after_release_is_an_exception_and_changes_nothing(
    flow: Flow, erp: MemoryErp
) -> None:
    await _stocked(erp, A=10)
    order = make_order("CH-3", "c-3", [("A", "2")])
    [order_id] = await flow.accept(order)
    await flow.deliver(await flow.engine.events_after(0), commit=True)
    assert (await flow.order(order_id)).state == "released"

    await _deliver_new(flow, change_requested(order_id, make_order("CH-3", "c-3", [("A", "4")])))

    [exception] = await flow.exceptions(order_id)
    assert exception.type == "change_after_release" and exception.owner == "operations"
    assert "CH-3" in exception.reason and "A 2 -> 4" in exception.reason
    assert "after release" in exception.reason
    [so] = erp.sale_orders_of(order)
    assert so.quantities == {"A": Decimal(2)} and "change_sale_order_lines" not in erp.calls
    record = await flow.order(order_id)
    assert record.order().lines == order.lines and record.state == "released"
    assert await flow.events(order_id, "order.changed") == []
