"""Coalescing toward Odoo: many events become one write per SKU and location, counted by the hub
and at the sandbox; ownership decides whether Odoo is written at all; an Odoo outage only delays
the writes."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.connectors.odoo.mapping import m2o_id
from crossdock.flows.inventory.events import sync_request
from crossdock.sandbox.odoo import SandboxServer
from tests.flows.inventory.conftest import (
    InvHub,
    MakeHub,
    create_products,
    delta,
    sandbox_settings,
)
from tests.support.waiting import until


async def _hub(make_hub: MakeHub, uid: str, count: int, **kwargs: Any) -> tuple[InvHub, list[str]]:
    hub = await make_hub(**kwargs)
    skus = [f"C{uid}-{i}" for i in range(count)]
    await create_products(hub.sandbox, skus)
    return hub, skus


def _burst(
    skus: list[str], events: int, first: int = 1
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Random receipts and picks over ``skus`` at two locations; the expected total per SKU."""
    rng = random.Random(7)
    out, totals = [], dict.fromkeys(skus, 0)
    for n in range(events):
        sku = rng.choice(skus)
        quantity = rng.choice([5, 3, 2, -1, -2])
        out.append(delta(sku, first + n, quantity, location=rng.choice(["A-01", "A-02"])))
        totals[sku] += quantity
    return out, totals


async def test_many_events_become_one_write_per_sku_location(make_hub: MakeHub, uid: str) -> None:
    hub, skus = await _hub(make_hub, uid, 4)
    events, totals = _burst(skus, 400)
    before = (await hub.status())["erp_writes"]
    body = await hub.events(*events)
    assert body["applied"] == 400 and body["positions_changed"] == 8
    status = await hub.settled()
    # 400 events over 4 SKUs at 2 WMS locations: Odoo keeps one quant per SKU in WH.
    assert status["erp_writes"] - before == 4
    assert hub.quant_writes(skus) == 4
    on_hand = await hub.odoo_on_hand(skus)
    assert on_hand == {sku: max(total, 0) for sku, total in totals.items()}


async def test_a_batch_window_writes_only_the_latest_quantity(make_hub: MakeHub, uid: str) -> None:
    # ERP writes at the (yearly) cron tick only: the test rings the tick itself.
    hub, skus = await _hub(
        make_hub,
        uid,
        5,
        sync={"inventory": {"mode": "batch", "cron": "0 0 1 1 *", "lane": "inventory"}},
    )
    events, totals = _burst(skus, 500)
    for start in range(0, 500, 50):
        await hub.events(*events[start : start + 50])

    async def published() -> bool:
        status = await hub.status()
        return status["channels_waiting_since"] is None and not status["sync_pending"]

    await until(published, what="the channels to be told")
    status = await hub.status()
    assert status["positions_waiting_for_erp"] == 10 and status["erp_writes"] == 0
    assert hub.quant_writes(skus) == 0
    assert await hub.availability("web") == {s: str(max(t, 0)) for s, t in totals.items()}
    calls = hub.sandbox.sandbox.calls.get("stock.quant.create", 0)
    await hub.hub.engine.append([sync_request("tick", erp=True)])
    status = await hub.settled()
    assert status["erp_writes"] == 5
    assert hub.quant_writes(skus) == 5
    assert hub.sandbox.sandbox.calls.get("stock.quant.create", 0) - calls == 1  # one batch
    assert await hub.odoo_on_hand(skus) == {s: max(t, 0) for s, t in totals.items()}


async def test_erp_locations_keep_their_own_quants(
    make_hub: MakeHub, uid: str, inventory_sandbox: SandboxServer
) -> None:
    sku = f"L{uid}"
    await create_products(inventory_sandbox, [sku])
    async with OdooClient(sandbox_settings(inventory_sandbox)) as client:
        ops = OdooOperations(client)
        stock = (await ops.warehouse("WH", await ops.default_company_id())).stock_location_id
        [shelf] = await client.create(
            "stock.location", [{"name": f"Shelf {uid}", "location_id": stock, "usage": "internal"}]
        )
    hub = await make_hub(inventory={"erp_locations": {"WH": {"SHELF": shelf}}})
    await hub.events(
        delta(sku, 1, 4, location="SHELF"),
        delta(sku, 2, 6, location="A-01"),
        delta(sku, 3, 1, location="A-02"),
    )
    status = await hub.settled()
    assert status["erp_writes"] == 2
    assert hub.hub.erp is not None
    ops = hub.hub.erp.operations
    product = (await ops.resolve_products([sku])).found[sku].id
    quants = await ops.client.search_read(
        "stock.quant",
        [["product_id", "=", product], ["location_id", "in", [shelf, stock]]],
        ["location_id", "quantity"],
    )
    by_location = {m2o_id(q["location_id"]): q["quantity"] for q in quants}
    assert by_location == {shelf: 4, stock: 7}


async def test_stock_owned_by_odoo_is_kept_but_never_written(make_hub: MakeHub, uid: str) -> None:
    hub, skus = await _hub(make_hub, uid, 2, ownership={"stock": "odoo"})
    await hub.events(delta(skus[0], 1, 5), delta(skus[1], 2, 7))
    status = await hub.settled()
    assert status["erp_writes"] == 0 and status["positions_waiting_for_erp"] == 0
    assert hub.quant_writes(skus) == 0
    assert await hub.positions() == {("WH", "A-01", skus[0]): "5", ("WH", "A-01", skus[1]): "7"}
    assert await hub.availability("web") == {skus[0]: "5", skus[1]: "7"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_an_odoo_outage_delays_the_writes_not_the_channels(
    make_hub: MakeHub, uid: str
) -> None:
    hub, skus = await _hub(make_hub, uid, 2)
    await hub.events(delta(skus[0], 1, 1), delta(skus[1], 2, 1))
    await hub.settled()
    async with httpx.AsyncClient(base_url=hub.sandbox.url) as sandbox:
        await sandbox.post("/sandbox/faults", json={"outage_s": 2})
        # SKUs already known: stock keeps coming in while Odoo is down
        await hub.events(delta(skus[0], 3, 4), delta(skus[1], 4, 6))

        async def told() -> bool:
            return await hub.availability("web") == {skus[0]: "5", skus[1]: "7"}

        await until(told, what="the channels during the outage")
        assert (await hub.status())["positions_waiting_for_erp"] == 2
        status = await hub.settled(timeout=60)
    assert status["erp_writes"] == 4
    assert await hub.odoo_on_hand(skus) == {skus[0]: 5, skus[1]: 7}
