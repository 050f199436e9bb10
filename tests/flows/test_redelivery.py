"""Nothing doubled: a crash between the ERP's commit and the hub's (the handler run twice on the
same events), a redelivery after the commit, and a transient Odoo outage retried by the engine."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.contract.odoo.conftest import stocked_products
from tests.flows.conftest import MakeFlow
from tests.flows.harness import Flow, make_order


async def _invoice_ids(flow: Flow, sale_order_id: int) -> list[int]:
    [row] = await flow.ops.client.read("sale.order", [sale_order_id], ["invoice_ids"])
    return list(row["invoice_ids"])


async def test_redelivery_after_a_crash_doubles_nothing(make_flow: MakeFlow, uid: str) -> None:
    flow = await make_flow(workers=False)
    [a] = await stocked_products(flow.ops, uid, {"A": 20})
    orders = [make_order(f"RD-{uid}-{n}", f"c-{uid}-{n % 2}", [(a, "2")]) for n in range(3)]
    ids = await flow.accept(*orders)
    accepted = await flow.engine.events_after(0)

    await flow.deliver(accepted, commit=False)  # Odoo committed, the hub crashed
    assert [len(await flow.sale_orders(o)) for o in orders] == [1, 1, 1]
    await flow.deliver(accepted, commit=True)  # redelivered after the restart
    await flow.deliver(accepted, commit=True)  # and once more after it was acknowledged

    for order, order_id in zip(orders, ids, strict=True):
        [so] = await flow.sale_orders(order)
        assert so["state"] == "sale"
        record = await flow.order(order_id)
        assert record.state == "released" and record.erp["sale_orders"][0]["id"] == so["id"]
        assert await flow.emitted(order_id) == ["order.confirmed", "order.released"]

    order_id, sale_order_id = ids[0], (await flow.sale_orders(orders[0]))[0]["id"]
    before = await flow.engine.events_after(0)
    await flow.ship(order_id, [(a, "1")])
    shipped = [e for e in await flow.engine.events_after(0) if e not in before]

    await flow.deliver(shipped, commit=False)  # picking validated, invoice posted, then a crash
    await flow.deliver(shipped, commit=True)
    await flow.deliver(shipped, commit=True)

    record = await flow.order(order_id)
    assert record.state == "shipped" and len(record.erp["shipments"]) == 1
    assert len(record.erp["invoices"]) == 1
    assert len(await _invoice_ids(flow, sale_order_id)) == 1
    pickings = await flow.ops.delivery_pickings([sale_order_id])
    assert sorted(p.state for p in pickings) == ["assigned", "done"]  # one backorder, not two
    assert await flow.emitted(order_id) == [
        "order.confirmed",
        "order.released",
        "shipment.dispatched",
        "invoice.posted",
    ]


async def test_a_transient_odoo_outage_is_retried_until_it_passes(flow: Flow, uid: str) -> None:
    if flow.odoo != "sandbox":
        pytest.skip("faults are injected into the sandbox only")
    [a] = await stocked_products(flow.ops, uid, {"A": 20})
    orders = [make_order(f"OU-{uid}-{n}", f"c-{uid}", [(a, "1")]) for n in range(4)]
    url = flow.ops.settings.url

    async def faults(body: dict[str, Any]) -> None:
        async with httpx.AsyncClient() as http:
            (await http.post(f"{url}/sandbox/faults", json=body)).raise_for_status()

    await faults({"fail_next": ["503"] * 8})
    try:
        ids = await flow.accept(*orders)
        for order_id in ids:
            await flow.wait_state(order_id, "released", timeout=60)
    finally:
        await faults({"clear": True})

    assert flow.engine.stats.failed > 0  # the engine saw the failures and retried
    for order in orders:
        assert len(await flow.sale_orders(order)) == 1
    assert not await flow.engine.dead_letters()
