"""`crossdock bench lanes`: how much a burst of stock events delays the orders going through
`crossdock serve` at the same time.

`crossdock serve` runs in its own process (API and workers, SQLite), the warehouse system owning
stock and the Odoo sandbox (served by this process) as the ERP. Set-up (not measured): ``skus``
products, counted once and written to Odoo; the order flow warmed up. Odoo then answers in
10 ms per call and 1 ms per record it makes, so what the hub adds shows. Orders arrive at
``orders_per_s`` (open loop) for ``phase_s`` while the hub is idle, during a burst of ``events``
stock events (requests of 1,000 on four connections), and for ``phase_s`` idle again once the
burst is written to Odoo and published.

Figures (each order's ``confirmed`` step is stamped when the ERP confirmed it, so they include
the ERP's own time):

- ``idle_p99_ms``: accept→confirmed p99 of the orders of both idle phases (the machine's speed
  drifts within a run);
- ``burst_p99_ms`` and ``burst_over_idle``: the same during the burst, and its ratio to idle;
- ``slowest_during_burst_ms`` and ``slowest_share_of_burst``: the slowest order of the burst
  phase, and that wait over the burst's duration — an order queued behind the burst would wait
  about as long as the burst (a share near 1);
- ``burst_s``: the burst's intake, first request to last 202.

The slowest orders of the burst come in the windows where the sync loop writes the burst's stock
to Odoo and publishes it (every ``erp_max_delay_s`` while the events do not pause).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select

from crossdock.api.auth import create_token
from crossdock.bench.http import Connection, crossdock_process, free_port
from crossdock.bench.inventory import _seed_products
from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings, StockSetting
from crossdock.engine import Database
from crossdock.flows.tables import order_steps, orders
from crossdock.migrations import upgrade
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings

__all__ = ["TARGETS", "Served", "run_lanes_bench", "served"]

TARGETS = {
    "burst_over_idle": "<= 2",
    "slowest_share_of_burst": "< 0.05",
}
ORDER_SKUS = [f"LANE-O{n}" for n in range(10)]
INVENTORY_PREFIX = "LANE-I"
PER_REQUEST = 1000


@dataclass
class Served:
    """A running `crossdock serve` and the sandbox it uses as its ERP."""

    url: str
    port: int
    token: str
    db_url: str
    sandbox: SandboxServer


def inventory_skus(count: int) -> list[str]:
    return [f"{INVENTORY_PREFIX}{n:05d}" for n in range(count)]


@contextmanager
def served(directory: Path, skus: int = 5_000) -> Iterator[Served]:
    """`crossdock serve` with the order flow and the inventory flow warmed up (see the module
    documentation), until the block ends."""
    settings = SandboxSettings(latency_call_s=0, latency_record_s=0, path=directory / "odoo.db")
    with SandboxServer(settings) as sandbox:
        names = inventory_skus(skus)
        asyncio.run(_seed(sandbox, names))
        db_url = f"sqlite:///{directory / 'hub.db'}"
        config = directory / "crossdock.yaml"
        s = sandbox.settings
        config.write_text(
            json.dumps(  # JSON is YAML
                {
                    "database": {"url": db_url},
                    "systems": {
                        "odoo": {
                            "kind": "odoo",
                            "url": sandbox.url,
                            "username": s.login,
                            "credentials": {"password": "${CROSSDOCK_BENCH_LANES_PASSWORD}"},
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
            "CROSSDOCK_BENCH_LANES_PASSWORD": s.password,
        }
        args = ["serve", "--port", str(port)]
        with crossdock_process(args, port, env, directory / "serve.log"):
            hub = Served(f"http://127.0.0.1:{port}", port, token, db_url, sandbox)
            asyncio.run(_warm_up(hub, names))
            settings.latency_call_s = 0.010
            settings.latency_record_s = 0.001
            yield hub


def _odoo_settings(sandbox: SandboxServer) -> OdooSettings:
    s = sandbox.settings
    return OdooSettings(url=sandbox.url, database=s.database, login=s.login, password=s.password)


async def _seed(sandbox: SandboxServer, skus: list[str]) -> None:
    await _seed_products(sandbox, [*skus, *ORDER_SKUS])
    async with OdooClient(_odoo_settings(sandbox)) as client:
        await OdooOperations(client).set_stock(
            [StockSetting(sku=sku, quantity=Decimal(1_000_000)) for sku in ORDER_SKUS]
        )


async def until(condition: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Poll `condition` (a coroutine function) until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def _warm_up(hub: Served, skus: list[str]) -> None:
    """The hub knows the SKUs (a count of every one, written to Odoo) and has confirmed orders."""
    headers = {"Authorization": f"Bearer {hub.token}"}
    async with httpx.AsyncClient(base_url=hub.url, headers=headers, timeout=120) as client:
        count = "".join(
            json.dumps({"location": "L1", "sku": sku, "quantity": 1000}) + "\n" for sku in skus
        )
        answer = await client.put(
            "/v1/inventory/snapshots/WH",
            content=count.encode(),
            params={"sequence": 1},
            headers={"Content-Type": "application/x-ndjson"},
        )
        if answer.status_code != 200:
            raise RuntimeError(f"the count was refused: {answer.text[:300]}")
        await settled(client)
        ids = [await order(client, f"WARM-{n}") for n in range(5)]
        await until(lambda: confirmed(hub.db_url, ids), 120, "the warm-up orders")


def order_body(ref: str) -> dict[str, Any]:
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


async def order(client: httpx.AsyncClient, ref: str) -> str:
    """Place an order; its id."""
    body = order_body(ref)
    try:
        answer = await client.post("/v1/orders", json=body)
    except httpx.TransportError:
        # a pooled keep-alive connection the server closed as it was reused: send again, as a
        # shop does — the idempotency key (channel:external_ref) makes it the same order
        answer = await client.post("/v1/orders", json=body)
    if answer.status_code != 202:
        raise RuntimeError(f"order {ref} refused: {answer.status_code} {answer.text[:300]}")
    order_id: str = answer.json()["id"]
    return order_id


async def confirmed(db_url: str, ids: list[str]) -> bool:
    return len(latencies(db_url, ids)) == len(ids)


def latencies(db_url: str, ids: list[str]) -> dict[str, float]:
    """Accepted→confirmed of the orders among `ids` that are confirmed, by id."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            accepted = {
                row.id: row.accepted_at
                for row in conn.execute(
                    select(orders.c.id, orders.c.accepted_at).where(orders.c.id.in_(ids))
                )
            }
            done = {
                row.order_id: row.at
                for row in conn.execute(
                    select(order_steps.c.order_id, order_steps.c.at).where(
                        order_steps.c.order_id.in_(ids), order_steps.c.step == "confirmed"
                    )
                )
            }
    finally:
        engine.dispose()
    return {i: float(done[i] - accepted[i]) for i in ids if i in done and i in accepted}


async def orders_at_rate(
    client: httpx.AsyncClient, prefix: str, per_s: float, stop: asyncio.Event
) -> list[str]:
    """Orders at a steady rate (open loop) until `stop` is set; their ids."""
    tasks: list[asyncio.Task[str]] = []
    began = time.perf_counter()
    while not stop.is_set():
        tasks.append(asyncio.create_task(order(client, f"{prefix}-{len(tasks)}")))
        delay = began + len(tasks) / per_s - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)  # the arrival rate: the load, not a wait for something
    return list(await asyncio.gather(*tasks))


def burst_bodies(events: int, skus: int, seed: int = 5) -> list[bytes]:
    """`events` stock adjustments over `skus` SKUs, in requests of 1,000: made before they are
    sent (making them takes this process's CPU for a second or more)."""
    rng = random.Random(seed)
    bodies = []
    for start in range(0, events, PER_REQUEST):
        batch = [
            {
                "kind": "adjustment",
                "warehouse": "WH",
                "location": "L1",
                "sku": f"{INVENTORY_PREFIX}{rng.randrange(skus):05d}",
                "quantity": str(rng.choice((-1, 1, 2))),
                "unit": "unit",
                "occurred_at": "2026-11-22T10:00:00Z",
                "sequence": start + n + 2,
            }
            for n in range(min(PER_REQUEST, events - start))
        ]
        bodies.append(json.dumps({"events": batch}).encode())
    return bodies


async def send_burst(hub: Served, bodies: list[bytes], connections: int = 4) -> float:
    """The stock events as fast as the hub takes them; the burst's duration."""
    queue = iter(bodies)

    async def sender() -> None:
        conn = Connection("127.0.0.1", hub.port, hub.token)
        try:
            for body in queue:
                status, payload = await conn.request(
                    "POST", "/v1/inventory/events", body, "application/json"
                )
                if status != 202:
                    raise RuntimeError(f"stock events refused: {status} {payload[:300]!r}")
        finally:
            await conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(connections)))
    return time.perf_counter() - began


async def settled(client: httpx.AsyncClient, timeout: float = 300) -> None:
    """Wait until the hub has written every stock change to Odoo and told the channels."""

    async def done() -> bool:
        return bool((await client.get("/v1/inventory/status")).json()["settled"])

    await until(done, timeout, "the stock written to Odoo and published")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * 0.99) - 1)]


async def _phases(
    hub: Served, events: int, skus: int, per_s: float, phase_s: float
) -> dict[str, Any]:
    bodies = burst_bodies(events, skus)
    headers = {"Authorization": f"Bearer {hub.token}"}
    async with httpx.AsyncClient(base_url=hub.url, headers=headers, timeout=60) as shop:

        async def idle(prefix: str) -> list[str]:
            over = asyncio.Event()
            asyncio.get_running_loop().call_later(phase_s, over.set)
            return await orders_at_rate(shop, prefix, per_s, over)

        before = await idle("IDLE-A")
        burst_over = asyncio.Event()
        burst = asyncio.create_task(send_burst(hub, bodies))
        burst.add_done_callback(lambda _: burst_over.set())
        during = await orders_at_rate(shop, "BURST", per_s, burst_over)
        burst_s = await burst
        await settled(shop)  # the ERP written and the channels told: idle again
        after = await idle("IDLE-B")
    everything = [*before, *during, *after]
    await until(lambda: confirmed(hub.db_url, everything), 120, "every order confirmed")
    waits = latencies(hub.db_url, everything)
    idle_p99 = _p99([waits[i] for i in [*before, *after]])
    burst_p99 = _p99([waits[i] for i in during])
    slowest = max(waits[i] for i in during)
    return {
        "events": events,
        "skus": skus,
        "burst_s": round(burst_s, 2),
        "orders_idle": len(before) + len(after),
        "orders_during_burst": len(during),
        "idle_p99_ms": round(idle_p99 * 1000, 1),
        "burst_p99_ms": round(burst_p99 * 1000, 1),
        "burst_over_idle": round(burst_p99 / idle_p99, 2),
        "slowest_during_burst_ms": round(slowest * 1000, 1),
        "slowest_share_of_burst": round(slowest / burst_s, 3),
        "targets": TARGETS,
    }


def run_lanes_bench(
    *, events: int = 200_000, skus: int = 5_000, orders_per_s: float = 10, phase_s: float = 15.0
) -> dict[str, Any]:
    """The figures of the module documentation, from a hub set up in a scratch directory."""
    with (
        tempfile.TemporaryDirectory(prefix="crossdock-bench-lanes-") as scratch,
        served(Path(scratch), skus) as hub,
    ):
        return asyncio.run(_phases(hub, events, skus, orders_per_s, phase_s))
