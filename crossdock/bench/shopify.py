"""`crossdock bench shopify`: the Shopify channel's two loads, in one run.

* **Webhook acknowledgement**, over real HTTP against ``crossdock serve --api-only`` in its own
  process (an intake node as it runs in production), with Shopify-signed ``orders/create``
  bodies (Shopify's published example order, one id each): ``ack_per_s`` closed loop at
  concurrency 16, beside ``reference_healthz_per_s`` (the same loop on ``GET /healthz``: what
  the process and the machine give an empty answer) and ``reference_orders_per_s`` (the same
  loop on the canonical ``POST /v1/orders``: the project's own intake), in the same run, and
  ``ack_p99_ms_at_200_per_s`` open loop (sent on schedule whatever the answers; the latency
  counts from the scheduled time). Shopify's own limit is 5 s.
* **Stock publication**: 10,000 changed SKU-location quantities (2,500 SKUs at 4 locations)
  published to the simulated shop (a real HTTP server) with the plan's cost bucket (Shopify's
  standard plan: 2,000 points, 100 per second), item ids and last-read quantities known (a first
  publication of the same SKUs warmed them up, through the API). Figures: ``graphql_calls``
  (target changes/200 + 10), ``throttled`` (target 0), ``converge_s``, and the floor the bucket
  sets in the same run, ``bucket_floor_s`` = cost spent / restore rate, with
  ``converge_vs_floor`` (target 1.25 or less).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from crossdock.api.auth import create_token
from crossdock.bench.http import crossdock_process, free_port
from crossdock.connectors.shopify.client import ShopifyClient
from crossdock.connectors.shopify.operations import ShopifyOperations
from crossdock.connectors.shopify.records import InventoryChange
from crossdock.connectors.shopify.settings import ShopifySettings
from crossdock.engine import Database
from crossdock.migrations import upgrade
from crossdock.sandbox.shopify.app import ShopSandboxSettings
from crossdock.sandbox.shopify.server import ShopifySandboxServer

__all__ = ["run_shopify_bench"]

SECRET = "shpss_bench_secret"
TOKEN = "shpat_bench_token"
DOMAIN = "bench.myshopify.com"
PATH = "/v1/channels/shopify/shop/webhooks"
STANDARD_MAX = 2000.0
STANDARD_RATE = 100.0

EXAMPLE: dict[str, Any] = {
    # Shopify's published example order (shopify_python_api test/fixtures/order.json), trimmed
    "id": 450789469,
    "name": "#1001",
    "email": "bob.norman@hostmail.com",
    "created_at": "2008-01-10T11:00:00-05:00",
    "updated_at": "2008-01-10T11:00:00-05:00",
    "currency": "USD",
    "financial_status": "authorized",
    "taxes_included": False,
    "test": False,
    "total_price": "409.94",
    "total_tax": "11.94",
    "total_discounts": "0.00",
    "line_items": [
        {"id": 466157049, "sku": "IPOD2008GREEN", "name": "IPod Nano - 8gb - green",
         "price": "199.00", "quantity": 1, "variant_id": 39072856},
        {"id": 518995019, "sku": "IPOD2008RED", "name": "IPod Nano - 8gb - red",
         "price": "199.00", "quantity": 1, "variant_id": 49148385},
    ],
    "shipping_lines": [{"code": "Free Shipping", "price": "0.00", "title": "Free Shipping"}],
    "customer": {"id": 207119551, "email": "bob.norman@hostmail.com", "first_name": "Bob",
                 "last_name": "Norman"},
}  # fmt: skip


def _request(n: int) -> bytes:
    body = json.dumps({**EXAMPLE, "id": 10_000_000 + n, "name": f"#B{n}"}).encode()
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Shopify-Topic: orders/create\r\nX-Shopify-Hmac-Sha256: {digest}\r\n"
        f"X-Shopify-Shop-Domain: {DOMAIN}\r\nX-Shopify-Webhook-Id: bench-{n}\r\n"
        f"X-Shopify-Triggered-At: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\r\n"
        f"X-Shopify-API-Version: 2025-01\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


class _Conn:
    """One keep-alive HTTP/1.1 connection sending prepared requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(raw)
        status = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status.split()[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


def _order_request(n: int, token: str) -> bytes:
    body = json.dumps(
        {
            "channel": "webshop",
            "external_ref": f"REF-{n}",
            "currency": "USD",
            "customer": {"external_ref": "C-1", "name": "Bob Norman"},
            "lines": [
                {"sku": "IPOD2008GREEN", "quantity": "1", "unit_price": "199.00"},
                {"sku": "IPOD2008RED", "quantity": "1", "unit_price": "199.00"},
            ],
        }
    ).encode()
    return (
        f"POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _config(directory: Path) -> Path:
    url = f"sqlite:///{directory / 'shopify.db'}"
    config = directory / "crossdock.yaml"
    config.write_text(
        f"database:\n  url: {url}\n"
        "systems:\n"
        "  odoo:\n    kind: odoo\n    url: http://127.0.0.1:9\n    username: admin\n"
        f"  shop:\n    kind: shopify\n    url: https://{DOMAIN}\n"
        "    credentials:\n      access_token: ${BENCH_SHOPIFY_TOKEN}\n"
        "    webhook_secret: ${BENCH_SHOPIFY_SECRET}\n"
        "    options:\n      locations: {'1': WH1}\n"
    )
    upgrade(url)
    return config


_HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def _closed_loop(
    port: int, count: int, concurrency: int, raw: bytes | None = None, token: str | None = None
) -> float:
    requests = [raw or (_order_request(n, token) if token else _request(n)) for n in range(count)]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in requests:
        queue.put_nowait(raw)

    async def worker() -> None:
        conn = _Conn(port)
        try:
            while not queue.empty():
                status = await conn.send(queue.get_nowait())
                if status not in (200, 202):
                    raise RuntimeError(f"answered {status}")
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def _open_loop(port: int, rate: float, seconds: float, offset: int) -> list[float]:
    total = int(rate * seconds)
    requests = [_request(offset + n) for n in range(total)]
    pool: asyncio.Queue[_Conn] = asyncio.Queue()
    conns = [_Conn(port) for _ in range(32)]
    for conn in conns:
        pool.put_nowait(conn)
    latencies: list[float] = []

    async def one(raw: bytes, due: float) -> None:
        conn = await pool.get()
        try:
            if await conn.send(raw) != 200:
                raise RuntimeError("a webhook was not acknowledged")
            latencies.append((time.perf_counter() - due) * 1000)
        finally:
            pool.put_nowait(conn)

    started = time.perf_counter()
    tasks = []
    for n, raw in enumerate(requests):
        due = started + n / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)  # pacing the sender, not synchronising
        tasks.append(asyncio.create_task(one(raw, due)))
    await asyncio.gather(*tasks)
    for conn in conns:
        await conn.close()
    return latencies


def _token(config: Path) -> str:
    url = config.read_text().split("url: ", 1)[1].split("\n", 1)[0]
    db = Database(url)
    try:
        token: str = db.write_sync(
            lambda c: create_token(c, "bench", ["orders:write"], rate_per_s=1e9)
        )
    finally:
        db.close()
    return token


async def _ack(burst: int, rate: float, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(Path(tmp))
        port = free_port()
        env = {
            **os.environ,
            "CROSSDOCK_CONFIG": str(config),
            "BENCH_SHOPIFY_TOKEN": TOKEN,
            "BENCH_SHOPIFY_SECRET": SECRET,
        }
        args = ["serve", "--config", str(config), "--port", str(port), "--api-only"]
        with crossdock_process(args, port, env):
            await _closed_loop(port, 200, 8)  # warm-up: connections, SQLite pages
            reference = await _closed_loop(port, burst, 16, raw=_HEALTHZ)
            orders = await _closed_loop(port, burst, 16, token=_token(config))
            per_s = await _closed_loop(port, burst, 16)
            latencies = await _open_loop(port, rate, seconds, offset=burst)
    cut = statistics.quantiles(latencies, n=100)
    return {
        "ack_webhooks": burst,
        "ack_per_s": round(per_s, 1),
        "reference_healthz_per_s": round(reference, 1),
        "reference_orders_per_s": round(orders, 1),
        "ack_offered_per_s": rate,
        "ack_p50_ms_at_200_per_s": round(statistics.median(latencies), 2),
        "ack_p99_ms_at_200_per_s": round(cut[98], 2),
        "ack_target_p99_ms": 100,
    }


async def _stock(skus: int, locations: int) -> dict[str, Any]:
    gids = [f"gid://shopify/Location/{n + 1}" for n in range(locations)]
    simulated = ShopSandboxSettings(
        token=TOKEN,
        domain=DOMAIN,
        bucket_max=STANDARD_MAX,
        restore_rate=STANDARD_RATE,
        locations={gid: f"Warehouse {n + 1}" for n, gid in enumerate(gids)},
    )
    with ShopifySandboxServer(simulated) as server:
        shop, bucket = server.sandbox.shop, server.sandbox.api.bucket
        names = [f"BENCH-{n:05d}" for n in range(skus)]
        for sku in names:
            shop.add_item(sku, dict.fromkeys(gids, 10))
        settings = ShopifySettings(
            name="shop",
            url=server.url,
            shop_domain=DOMAIN,
            access_token=TOKEN,
            webhook_secret=SECRET,
            locations={gid: f"WH{n + 1}" for n, gid in enumerate(gids)},
        )
        operations = ShopifyOperations(ShopifyClient(settings))
        try:
            bucket.restore_rate = 1e6  # the warm-up is not measured
            await operations.set_inventory(
                [InventoryChange(sku, gid, 10) for sku in names for gid in gids]
            )
            bucket.restore_rate, bucket.available = STANDARD_RATE, STANDARD_MAX
            client = operations.client
            calls, throttled, spent = client.calls, client.throttled, client.bucket.spent
            refused = bucket.throttled
            changes = [
                InventoryChange(sku, gid, 11 + (i + j) % 7)
                for i, sku in enumerate(names)
                for j, gid in enumerate(gids)
            ]
            started = time.perf_counter()
            outcome = await operations.set_inventory(changes)
            converge = time.perf_counter() - started
            wrong = sum(
                1
                for change in changes
                if shop.available(change.sku, change.location) != change.quantity
            )
            cost = client.bucket.spent - spent
        finally:
            await operations.aclose()
    floor = cost / STANDARD_RATE
    return {
        "changes": len(changes),
        "published": outcome.set,
        "not_converged": wrong,
        "graphql_calls": client.calls - calls,
        "graphql_calls_target": len(changes) // 200 + 10,
        "throttled": (client.throttled - throttled) + (bucket.throttled - refused),
        "cost_spent": cost,
        "restore_rate": STANDARD_RATE,
        "converge_s": round(converge, 3),
        "bucket_floor_s": round(floor, 3),
        "converge_vs_floor": round(converge / floor, 3) if floor else None,
    }


async def run_shopify_bench(
    *, burst: int = 2000, rate: float = 200.0, seconds: float = 5.0, skus: int = 2500
) -> dict[str, Any]:
    figures = await _ack(burst, rate, seconds)
    figures.update(await _stock(skus, 4))
    return figures
