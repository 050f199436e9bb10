"""Order to cash on the in-memory ERP: the happy path to an invoice, an order with an unknown
product parked as an exception, and redeliveries that double nothing (the ERP's natural keys)."""

from __future__ import annotations

from decimal import Decimal

from crossdock.connectors.memory import MemoryErp
from crossdock.connectors.odoo import StockSetting
from tests.flows.harness import Flow, make_order, shipment_confirmed


async def _stocked(erp: MemoryErp, **quantities: int) -> None:
    for sku in quantities:
        erp.add_product(sku, price="10")
    await erp.set_stock([StockSetting(sku=s, quantity=Decimal(q)) for s, q in quantities.items()])


async def test_an_order_goes_to_invoiced_after_its_shipment(flow: Flow, erp: MemoryErp) -> None:
    await _stocked(erp, A=10, B=10)
    order = make_order("WS-1", "c-1", [("A", "2"), ("B", "1")])
    [order_id] = await flow.accept(order)

    await flow.deliver(await flow.engine.events_after(0), commit=True)
    released = await flow.order(order_id)
    assert released.state == "released"
    [so] = erp.sale_orders_of(order)
    assert so.state == "sale" and released.erp["sale_orders"][0]["id"] == so.id
    assert [p["state"] for p in released.erp["pickings"]] == ["assigned"]

    before = await flow.engine.events_after(0)
    await flow.engine.append([shipment_confirmed(order_id, [("A", "2"), ("B", "1")])])
    shipped = [e for e in await flow.engine.events_after(0) if e not in before]
    await flow.deliver(shipped, commit=True)

    invoiced = await flow.order(order_id)
    assert invoiced.state == "invoiced"
    [invoice] = invoiced.erp["invoices"]
    assert invoice["status"] == "posted" and Decimal(invoice["subtotal"]) == 30
    assert erp.on_hand[("WH", "A")] == 8 and erp.on_hand[("WH", "B")] == 9
    assert await flow.emitted(order_id) == [
        "order.confirmed",
        "order.released",
        "shipment.dispatched",
        "invoice.posted",
    ]


async def test_an_unknown_product_parks_the_order_and_makes_no_sale_order(
    flow: Flow, erp: MemoryErp
) -> None:
    await _stocked(erp, A=10)
    good = make_order("WS-2", "c-2", [("A", "1")])
    bad = make_order("WS-3", "c-2", [("A", "1"), ("NOPE", "1")])
    good_id, bad_id = await flow.accept(good, bad)

    await flow.deliver(await flow.engine.events_after(0), commit=True)

    assert (await flow.order(good_id)).state == "released"
    record = await flow.order(bad_id)
    assert record.state != "released"
    [exception] = await flow.exceptions(bad_id)
    assert exception.type == "unknown_product" and "NOPE" in exception.reason
    assert erp.sale_orders_of(bad) == []
    assert "order.confirmed" not in await flow.emitted(bad_id)


async def test_redelivery_after_a_crash_doubles_nothing(flow: Flow, erp: MemoryErp) -> None:
    await _stocked(erp, A=20)
    orders = [make_order(f"RD-{n}", f"c-{n % 2}", [("A", "2")]) for n in range(3)]
    ids = await flow.accept(*orders)
    accepted = await flow.engine.events_after(0)

    await flow.deliver(accepted, commit=False)  # the ERP committed, the hub crashed
    await flow.deliver(accepted, commit=True)  # redelivered after the restart
    await flow.deliver(accepted, commit=True)  # and once more after it was acknowledged

    assert len(erp.sale_orders) == 3 and len(erp.customers) == 2
    for order, order_id in zip(orders, ids, strict=True):
        [so] = erp.sale_orders_of(order)
        record = await flow.order(order_id)
        assert record.state == "released" and record.erp["sale_orders"][0]["id"] == so.id
        assert await flow.emitted(order_id) == ["order.confirmed", "order.released"]

    before = await flow.engine.events_after(0)
    await flow.engine.append([shipment_confirmed(ids[0], [("A", "1")])])
    shipped = [e for e in await flow.engine.events_after(0) if e not in before]
    await flow.deliver(shipped, commit=False)  # picking validated, invoice posted, then a crash
    await flow.deliver(shipped, commit=True)
    await flow.deliver(shipped, commit=True)

    record = await flow.order(ids[0])
    assert record.state == "shipped" and len(record.erp["shipments"]) == 1
    assert len(record.erp["invoices"]) == 1 and len(erp.invoices) == 1
    [so] = erp.sale_orders_of(orders[0])
    pickings = await erp.delivery_pickings([so.id])
    assert sorted(p.state for p in pickings) == ["assigned", "done"]  # one backorder, not two
