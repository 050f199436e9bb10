"""Lane isolation: a 100,000-event inventory burst must not hold up orders."""

from __future__ import annotations

import asyncio

import pytest

from crossdock.engine import Batch, Engine, EngineSettings, Lane, NewEvent, Subscription
from tests.support.waiting import until

BURST = 100_000


@pytest.mark.slow
async def test_orders_are_handled_while_an_inventory_burst_is_still_queued(db_url: str) -> None:
    """The inventory handler takes the first half of the burst as a slow ERP would, then holds
    the rest until every order is handled: the burst cannot be over before the orders, and an
    order queued behind the burst would never be handled (the test would time out)."""
    inventory_done = 0
    orders_done: list[str] = []
    orders_handled = asyncio.Event()

    async def inventory(batch: Batch) -> None:
        nonlocal inventory_done
        if inventory_done >= BURST // 2:
            await orders_handled.wait()
        await asyncio.sleep(0.02)  # stands for a slow write to the ERP
        inventory_done += len(batch.events)

    async def orders(batch: Batch) -> None:
        orders_done.extend(e.subject for e in batch.events)

    engine = Engine(
        db_url,
        settings=EngineSettings(poll_interval_s=0.05),
        lanes=[Lane("orders", priority=10, concurrency=2), Lane("inventory", 5, 1)],
    )
    engine.subscribe(Subscription("stock", ["stock.*"], inventory, lane="inventory",
                                  batch_size=200))
    engine.subscribe(Subscription("orders", ["order.*"], orders, lane="orders"))
    async with engine:
        for start in range(0, BURST, 5000):
            await engine.append(
                [NewEvent("stock.changed", "wms", f"sku:{i % 5000}", {"q": i})
                 for i in range(start, start + 5000)]
            )
        for n in range(20):
            await engine.append_one(NewEvent("order.accepted", "shop", f"order:{n}", {}))
            await until(lambda n=n: _handled(orders_done, n + 1), timeout=30,
                        what=f"order {n} during the burst")
        backlog = {b.group: b.unread for b in await engine.backlog()}
        handled_by_then = inventory_done
        orders_handled.set()
    assert orders_done == [f"order:{n}" for n in range(20)]
    assert handled_by_then < BURST and backlog["stock"] > 0, "the burst was over: nothing shown"


async def _handled(done: list[str], count: int) -> bool:
    return len(done) >= count
