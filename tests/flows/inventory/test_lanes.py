"""Lane isolation through `crossdock serve`: orders are confirmed while the inventory lane is busy
with a burst of 200,000 stock events, not after it.

The hub is `crossdock bench lanes`'s (its own process, API and workers, SQLite; the Odoo sandbox
served by this process). The bench measures how much a burst delays orders; this test asserts
the order of things, never a time. The burst's stock writes are held in the Odoo sandbox, so the
sync loop — a handler of the inventory lane — stays in the middle of its call until every order
is confirmed: the orders are confirmed while the burst is unsettled, and an order that waited for
the burst would never be (the test would time out).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from crossdock.bench.lanes import (
    Served,
    burst_bodies,
    confirmed,
    order,
    send_burst,
    served,
    settled,
)
from crossdock.sandbox.odoo.app import OdooSandbox
from tests.support.waiting import until

pytestmark = pytest.mark.slow

BURST_EVENTS = 200_000
INVENTORY_SKUS = 5_000
ORDERS = 20


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("lanes"), INVENTORY_SKUS) as running:
        yield running


class StockGate:
    """Holds the sandbox's ``stock.quant`` calls — the hub's stock writes — until :meth:`open`,
    each before it takes a worker slot (Odoo answers everything else as usual)."""

    def __init__(self, box: OdooSandbox) -> None:
        self.box = box
        self.opened = threading.Event()
        self.held = 0
        self._jsonrpc, self._run = box.jsonrpc, box.run
        self._stock: set[int] = set()
        box.jsonrpc = self._tag  # type: ignore[method-assign]
        box.run = self._hold  # type: ignore[method-assign]

    def _tag(self, service: str, method: str, args: list[Any]) -> Callable[[], Any]:
        work = self._jsonrpc(service, method, args)
        if service == "object" and len(args) > 3 and args[3] == "stock.quant":
            self._stock.add(id(work))
        return work

    async def _hold(self, work: Callable[[], Any], *, records: bool = True) -> Any:
        if id(work) in self._stock:
            self._stock.discard(id(work))
            self.held += 1
            await asyncio.to_thread(self.opened.wait)
        return await self._run(work, records=records)

    def open(self) -> None:
        self.opened.set()
        self.box.jsonrpc, self.box.run = self._jsonrpc, self._run  # type: ignore[method-assign]


async def test_orders_are_confirmed_while_a_stock_burst_is_held_in_the_erp(hub: Served) -> None:
    bodies = burst_bodies(BURST_EVENTS, INVENTORY_SKUS)
    gate = StockGate(hub.sandbox.sandbox)
    headers = {"Authorization": f"Bearer {hub.token}"}
    async with httpx.AsyncClient(base_url=hub.url, headers=headers, timeout=60) as shop:
        try:
            # half the orders while the burst goes in, half once its stock is held in Odoo
            async def alongside() -> list[str]:
                return [await order(shop, f"BURST-{n}") for n in range(ORDERS // 2)]

            ids, _ = await asyncio.gather(alongside(), send_burst(hub, bodies))

            async def holding() -> bool:
                return gate.held > 0

            await until(holding, timeout=120, what="the burst's stock written to Odoo")
            ids += [await order(shop, f"HELD-{n}") for n in range(ORDERS // 2)]
            await until(lambda: confirmed(hub.db_url, ids), timeout=120, what="every order")
            status = (await shop.get("/v1/inventory/status")).json()
            assert not gate.opened.is_set() and gate.held > 0
            assert not status["settled"], status
        finally:
            gate.open()
        await settled(shop)  # the held writes went through: the burst is in Odoo and published
    assert len(ids) == ORDERS
