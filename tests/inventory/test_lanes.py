"""Lane isolation: a burst of 200,000 stock events does not hold orders up behind it.

`crossdock serve` runs in its own process (API and workers, SQLite), Odoo is the sandbox with
realistic latencies. Orders arrive at a steady rate while the hub is idle, during the burst, and
idle again. What lanes guarantee, and this test asserts: orders are handled while the burst is
taken in, not after it: no order of the burst phase waits anywhere near as long as the burst
lasts.

The issue's finer target holds too: accept→confirmed p99 during the burst within twice the idle
p99, the idle p99 taken over both idle phases (300 orders; the machine's speed drifts within a
run). Each order's ``confirmed`` step is stamped when the ERP confirmed it, so both include the
ERP's own time. Measured 1.1 to 1.8 times; the slowest orders of the burst come in the windows
where the sync loop writes the burst's stock to Odoo and publishes it (every
``erp_max_delay_s``, 30 s, while the events do not pause)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from crossdock.api.auth import create_token
from crossdock.bench.http import Connection
from crossdock.connectors.odoo import OdooClient, OdooOperations, StockSetting
from crossdock.engine.database import Database
from crossdock.flows.tables import order_steps, orders
from crossdock.migrations import upgrade
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings
from tests.inventory.conftest import create_products, sandbox_settings
from tests.support.postgres import free_port
from tests.support.waiting import until

pytestmark = pytest.mark.slow

BURST_EVENTS = 200_000
INVENTORY_SKUS = 5_000
ORDER_SKUS = [f"LANE-O{n}" for n in range(10)]
ORDERS_PER_S = 10
PHASE_S = 15.0
QUEUED_SHARE = 0.05
"""An order waiting this share of the burst's duration would be queued behind the burst."""


@dataclass
class Served:
    url: str
    port: int
    token: str
    db_url: str
    sandbox: SandboxServer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("lanes")
    settings = SandboxSettings(latency_call_s=0, latency_record_s=0, path=directory / "odoo.db")
    with SandboxServer(settings) as sandbox:
        skus = [f"LANE-I{n:05d}" for n in range(INVENTORY_SKUS)]
        asyncio.run(_seed(sandbox, skus))
        db_url = f"sqlite:///{directory / 'hub.db'}"
        config = directory / "crossdock.yaml"
        s = sandbox.settings
        config.write_text(
            json.dumps(
                {
                    "database": {"url": db_url},
                    "systems": {
                        "odoo": {
                            "kind": "odoo",
                            "url": sandbox.url,
                            "username": s.login,
                            "credentials": {"password": "${CROSSDOCK_TEST_LANES_PASSWORD}"},
                            "options": {"database": s.database},
                            "limits": {"rate_per_s": 1000, "burst": 1000, "concurrency": 4},
                        },
                        "wms": {"kind": "wms", "url": "http://127.0.0.1:9"},
                    },
                    "ownership": {"stock": "wms"},
                    "channels": {"default": {"warehouses": ["WH"]}},
                    "inventory": {"warehouses": ["WH"], "erp_concurrency": 1},
                    "observability": {"log_level": "warning"},
                }
            )
        )
        upgrade(db_url)
        db = Database(db_url)
        token = db.write_sync(
            lambda c: create_token(
                c, "lanes", ["inventory:write", "inventory:read", "orders:write"], rate_per_s=1e9
            )
        )
        db.close()
        port = free_port()
        env = {
            **os.environ,
            "CROSSDOCK_CONFIG": str(config),
            "CROSSDOCK_TEST_LANES_PASSWORD": s.password,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "crossdock", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            served = Served(f"http://127.0.0.1:{port}", port, token, db_url, sandbox)
            asyncio.run(_warm_up(served, skus))
            # A responsive Odoo from here on (10 ms per call, 1 ms per record it makes): orders
            # are not held up by Odoo itself, so what the hub adds shows.
            settings.latency_call_s = 0.010
            settings.latency_record_s = 0.001
            yield served
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


async def _seed(sandbox: SandboxServer, skus: list[str]) -> None:
    await create_products(sandbox, [*skus, *ORDER_SKUS])
    async with OdooClient(sandbox_settings(sandbox)) as client:
        await OdooOperations(client).set_stock(
            [StockSetting(sku=sku, quantity=Decimal(1_000_000)) for sku in ORDER_SKUS]
        )


async def _warm_up(served: Served, skus: list[str]) -> None:
    """The hub answers, knows the SKUs (a count of every one) and has written it to Odoo."""

    async def answers() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{served.url}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    await until(answers, what="crossdock serve")
    headers = {"Authorization": f"Bearer {served.token}"}
    async with httpx.AsyncClient(base_url=served.url, headers=headers, timeout=120) as client:
        count = "".join(
            json.dumps({"location": "L1", "sku": sku, "quantity": 1000}) + "\n" for sku in skus
        )
        answer = await client.put(
            "/v1/inventory/snapshots/WH",
            content=count.encode(),
            params={"sequence": 1},
            headers={"Content-Type": "application/x-ndjson"},
        )
        assert answer.status_code == 200, answer.text

        async def settled() -> bool:
            return bool((await client.get("/v1/inventory/status")).json()["settled"])

        await until(settled, timeout=120, what="the count written to Odoo")
        # the order flow warmed up too (customer made, products resolved)
        ids = [await _order(client, f"WARM-{n}") for n in range(5)]
        await until(lambda: _confirmed(served.db_url, ids), what="the warm-up orders")


def _order_body(ref: str) -> dict[str, Any]:
    return {
        "channel": "lanes",
        "external_ref": ref,
        "currency": "USD",
        "customer": {
            "external_ref": "LANE-C1",
            "name": "Lane Customer",
            "address": {"street": "1", "city": "X", "postal_code": "1", "country": "US"},
        },
        "lines": [{"sku": random.choice(ORDER_SKUS), "quantity": "1", "unit_price": "10"}],
    }


async def _order(client: httpx.AsyncClient, ref: str) -> str:
    body = _order_body(ref)
    try:
        answer = await client.post("/v1/orders", json=body)
    except httpx.TransportError:
        # a pooled keep-alive connection the server closed as it was reused: send again, as a
        # shop does — the idempotency key (channel:external_ref) makes it the same order
        answer = await client.post("/v1/orders", json=body)
    assert answer.status_code == 202, answer.text
    order_id: str = answer.json()["id"]
    return order_id


async def _confirmed(db_url: str, ids: list[str]) -> bool:
    return len(_latencies(db_url, ids)) == len(ids)


def _latencies(db_url: str, ids: list[str]) -> dict[str, float]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            accepted = {
                row.id: row.accepted_at
                for row in conn.execute(
                    select(orders.c.id, orders.c.accepted_at).where(orders.c.id.in_(ids))
                )
            }
            confirmed = {
                row.order_id: row.at
                for row in conn.execute(
                    select(order_steps.c.order_id, order_steps.c.at).where(
                        order_steps.c.order_id.in_(ids), order_steps.c.step == "confirmed"
                    )
                )
            }
    finally:
        engine.dispose()
    return {i: confirmed[i] - accepted[i] for i in ids if i in confirmed and i in accepted}


@pytest.fixture
async def shop(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {served.token}"}
    async with httpx.AsyncClient(base_url=served.url, headers=headers, timeout=60) as client:
        yield client


async def _orders_at_rate(
    client: httpx.AsyncClient, prefix: str, until_done: asyncio.Event
) -> list[str]:
    """Orders at a steady rate (open loop) until ``until_done`` is set."""
    ids: list[str] = []
    tasks: list[asyncio.Task[str]] = []
    began = time.perf_counter()
    n = 0
    while not until_done.is_set():
        tasks.append(asyncio.create_task(_order(client, f"{prefix}-{n}")))
        n += 1
        delay = began + n / ORDERS_PER_S - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    ids += await asyncio.gather(*tasks)
    return ids


async def _idle_phase(client: httpx.AsyncClient, prefix: str) -> list[str]:
    done = asyncio.Event()
    asyncio.get_running_loop().call_later(PHASE_S, done.set)
    return await _orders_at_rate(client, prefix, done)


def _burst_bodies() -> list[bytes]:
    """200,000 stock events over 5,000 SKUs, in requests of 1,000: made before the orders run
    (making them takes this process's CPU for a second or more, which would hold up the orders'
    client and the Odoo sandbox serving them)."""
    rng = random.Random(5)
    bodies = []
    for start in range(0, BURST_EVENTS, 1000):
        events = [
            {
                "kind": "adjustment",
                "warehouse": "WH",
                "location": "L1",
                "sku": f"LANE-I{rng.randrange(INVENTORY_SKUS):05d}",
                "quantity": str(rng.choice((-1, 1, 2))),
                "unit": "unit",
                "occurred_at": "2026-11-22T10:00:00Z",
                "sequence": start + n + 2,
            }
            for n in range(1000)
        ]
        bodies.append(json.dumps({"events": events}).encode())
    return bodies


async def _burst(served: Served, bodies: list[bytes]) -> float:
    """The stock events as fast as the hub takes them; the burst's duration."""
    queue = iter(bodies)

    async def sender() -> None:
        conn = Connection("127.0.0.1", served.port, served.token)
        try:
            for body in queue:
                status, payload = await conn.request(
                    "POST", "/v1/inventory/events", body, "application/json"
                )
                assert status == 202, payload[:300]
        finally:
            await conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(4)))
    return time.perf_counter() - began


async def _settled(client: httpx.AsyncClient) -> None:
    async def settled() -> bool:
        return bool((await client.get("/v1/inventory/status")).json()["settled"])

    await until(settled, timeout=300, what="the burst written to Odoo and published")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * 0.99) - 1)]


async def test_a_stock_burst_does_not_delay_orders(served: Served, shop: httpx.AsyncClient) -> None:
    bodies = _burst_bodies()
    before = await _idle_phase(shop, "IDLE-A")

    burst_done = asyncio.Event()
    burst = asyncio.create_task(_burst(served, bodies))
    burst.add_done_callback(lambda _: burst_done.set())
    during = await _orders_at_rate(shop, "BURST", burst_done)
    burst_s = await burst

    await _settled(shop)  # the ERP written and the channels told: idle again
    after = await _idle_phase(shop, "IDLE-B")
    everything = [*before, *during, *after]
    await until(
        lambda: _confirmed(served.db_url, everything), timeout=120, what="every order confirmed"
    )
    latencies = _latencies(served.db_url, everything)
    idle = _p99([latencies[i] for i in [*before, *after]])
    busy = _p99([latencies[i] for i in during])
    slowest = max(latencies[i] for i in during)
    report = (
        f"burst of {BURST_EVENTS} events in {burst_s:.1f} s; accept->confirmed p99: "
        f"idle {idle * 1000:.0f} ms ({len(before)} + {len(after)} orders, before and after), "
        f"during the burst {busy * 1000:.0f} ms = {busy / idle:.1f}x "
        f"(slowest {slowest * 1000:.0f} ms; {len(during)} orders)"
    )
    print(report)
    assert len(during) >= 50, report  # enough orders ran during the burst to judge
    assert busy <= 2 * idle, report
    assert slowest < QUEUED_SHARE * burst_s, report
