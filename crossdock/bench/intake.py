"""`crossdock bench intake`: order intake over real HTTP on 127.0.0.1, against `crossdock serve`
running as in production (its own process: API and workers, SQLite, group commit).

Figures: `accepted_per_s` at concurrency 1, 16 and 64 (closed loop: each connection sends its
next order when the previous one is answered), `accept_p50_ms`/`accept_p99_ms` at 500 orders/s
offered (open loop: sent on schedule whatever the answers), and `e2e_confirmed_per_s` (POST to
`order.confirmed`) once the order-to-cash flow runs against the sandbox.

Throughput and latency are measured on an intake node as it runs in production: `serve
--api-only --processes N`, one API process per core (workers run elsewhere);
`accepted_per_s_one_process` is concurrency 64 against a single API process. The end-to-end
figure runs the whole hub as `serve --processes N` (N API processes and a workers process on one
SQLite file); `e2e_confirmed_per_s_one_process` runs API, workers and the flow in one process.

The load generator is the benches' small keep-alive client (:mod:`crossdock.bench.http`).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crossdock.api.auth import create_token
from crossdock.bench.http import Connection, crossdock_process, free_port
from crossdock.engine import Database
from crossdock.migrations import upgrade

ORDERS = "/v1/orders"


def _order(n: int) -> bytes:
    return json.dumps(
        {
            "channel": "bench",
            "external_ref": f"B-{n}",
            "currency": "USD",
            "customer": {
                "external_ref": f"C-{n % 500}",
                "name": "Bench Customer",
                "email": "buyer@bench.example",
                "address": {
                    "street": "1 Main St",
                    "city": "Springfield",
                    "postal_code": "12345",
                    "country": "US",
                },
            },
            "lines": [{"sku": f"SKU-{n % 50}", "quantity": "2", "unit_price": "120.00"}],
        }
    ).encode()


API_PROCESSES = os.cpu_count() or 1


@contextmanager
def served_hub(
    directory: Path,
    erp_port: int | None = None,
    *,
    api_only: bool = False,
    tracing: bool = True,
    processes: int = 1,
) -> Iterator[tuple[str, int, str]]:
    """`crossdock serve` in its own process(es); with `erp_port`, the order-to-cash flow runs
    against the Odoo sandbox listening there; `api_only` serves intake without workers;
    `processes` API processes share the port (`serve --processes`)."""
    url = f"sqlite:///{directory / 'intake.db'}"
    config = directory / "crossdock.yaml"
    text = f"database:\n  url: {url}\nobservability:\n  tracing: {str(tracing).lower()}\n"
    if erp_port is not None:
        # No rate limit of our own in front of a sandbox without latency: the flow is measured.
        text += (
            f"systems:\n  odoo:\n    kind: odoo\n    url: http://127.0.0.1:{erp_port}\n"
            "    username: admin\n    credentials:\n      password: ${BENCH_ODOO_PASSWORD}\n"
            "    options:\n      database: crossdock\n"
            "    limits:\n      rate_per_s: 100000\n      burst: 1000\n      concurrency: 8\n"
        )
    config.write_text(text)
    upgrade(url)
    db = Database(url)
    token = db.write_sync(lambda c: create_token(c, "bench", ["orders:write"], rate_per_s=1e9))
    db.close()
    port = free_port()
    env = {**os.environ, "CROSSDOCK_CONFIG": str(config), "BENCH_ODOO_PASSWORD": "admin"}
    args = ["serve", "--config", str(config), "--port", str(port), "--processes", str(processes)]
    with crossdock_process(
        [*args, *(["--api-only"] if api_only else [])], port, env, sockets=processes
    ):
        yield "127.0.0.1", port, token


def _wait_for_workers(directory: Path) -> None:
    """Until the order-to-cash consumer group of the hub in `directory` is registered (its
    workers process has started)."""
    db = Database(f"sqlite:///{directory / 'intake.db'}")
    try:
        deadline = time.monotonic() + 120
        while not db.read_sync(_workers_registered):
            if time.monotonic() > deadline:
                raise RuntimeError("the workers process did not start")
            time.sleep(0.1)  # polling a process that gives no other sign of readiness
    finally:
        db.close()


def _workers_registered(conn: Any) -> bool:
    from sqlalchemy import func, select

    from crossdock.engine import cursors_table as cursors
    from crossdock.flows.order_to_cash.settings import GROUP

    query = select(func.count()).select_from(cursors).where(cursors.c.group_name == GROUP)
    return int(conn.execute(query).scalar_one()) > 0


@contextmanager
def sandbox_process(directory: Path, port: int) -> Iterator[None]:
    """The Odoo sandbox in its own process without simulated latency, as a real Odoo runs
    beside the hub rather than inside it."""
    args = ["sandbox", "odoo", "--port", str(port), "--path", str(directory / "odoo.db")]
    with crossdock_process([*args, "--latency-call-s", "0", "--latency-record-s", "0"], port, None):
        yield


async def closed_loop(
    host: str, port: int, token: str, concurrency: int, count: int, start: int
) -> float:
    """Orders accepted per second with `concurrency` connections each waiting for its answer."""
    numbers = iter(range(start, start + count))
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        conn = Connection(host, port, token)
        try:
            for n in numbers:
                if (await conn.request("POST", ORDERS, _order(n)))[0] == 202:
                    accepted += 1
        finally:
            await conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return accepted / (time.perf_counter() - began)


async def open_loop(
    host: str, port: int, token: str, rate: float, seconds: float, start: int
) -> dict[str, float]:
    """Latency of each order sent on a fixed schedule, whatever the answers."""
    pool: list[Connection] = []
    latencies: list[float] = []
    failures = 0

    async def send(n: int) -> None:
        nonlocal failures
        conn = pool.pop() if pool else Connection(host, port, token)
        began = time.perf_counter()
        status = (await conn.request("POST", ORDERS, _order(n)))[0]
        latencies.append(time.perf_counter() - began)
        failures += status != 202
        pool.append(conn)

    total = int(rate * seconds)
    began = time.perf_counter()
    tasks = []
    for i in range(total):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(start + i)))
    await asyncio.gather(*tasks)
    for conn in pool:
        await conn.close()
    latencies.sort()
    return {
        "accept_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "accept_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "offered_per_s": rate,
        "rejected": failures,
    }


async def run_intake_bench(*, orders: int = 3000) -> dict[str, Any]:
    shape = f"crossdock serve --api-only --processes {API_PROCESSES}, SQLite"
    with (
        tempfile.TemporaryDirectory(prefix="crossdock-intake-") as tmp,
        served_hub(Path(tmp), api_only=True, processes=API_PROCESSES) as (host, port, token),
    ):
        figures: dict[str, Any] = {"server": shape}
        accepted: dict[str, float] = {}
        start = 0
        for concurrency in (1, 16, 64):
            count = orders // 5 if concurrency == 1 else orders
            rate = await closed_loop(host, port, token, concurrency, count, start)
            accepted[f"concurrency_{concurrency}"] = round(rate)
            start += count
        figures["accepted_per_s"] = accepted
        figures.update(await open_loop(host, port, token, 500, 5, start))
    with (
        tempfile.TemporaryDirectory(prefix="crossdock-intake-") as tmp,
        served_hub(Path(tmp), api_only=True) as (host, port, token),
    ):
        one = await closed_loop(host, port, token, 64, orders, 0)
    figures["accepted_per_s_one_process"] = {"concurrency_64": round(one)}
    # What tracing costs: the same node with tracing off (metrics stay on: they are not optional).
    with (
        tempfile.TemporaryDirectory(prefix="crossdock-intake-") as tmp,
        served_hub(Path(tmp), api_only=True, tracing=False, processes=API_PROCESSES) as (
            host,
            port,
            token,
        ),
    ):
        untraced = await closed_loop(host, port, token, 64, orders, 0)
    figures["tracing"] = {
        "accepted_per_s_c64_off": round(untraced),
        "accepted_per_s_c64_on": accepted["concurrency_64"],
        "on_vs_off": round(accepted["concurrency_64"] / untraced, 3),
    }
    figures["e2e_confirmed_per_s"] = round(await end_to_end(orders, split=True), 1)
    figures["e2e_confirmed_per_s_one_process"] = round(await end_to_end(orders), 1)
    figures["targets"] = {
        "accepted_per_s.concurrency_64": ">= 2000",
        "accept_p99_ms": "<= 50 at 500/s offered",
        "e2e_confirmed_per_s": ">= 500",
    }
    return figures


async def end_to_end(orders: int, *, split: bool = False) -> float:
    """Orders per second from the first POST until every order is confirmed in the ERP; with
    `split`, the hub runs as `serve --processes N` (N API processes, a workers process)."""
    from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings
    from crossdock.demo import SKUS, seed_erp
    from crossdock.sandbox.odoo.server import free_port

    erp_port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="crossdock-e2e-") as tmp,
        sandbox_process(Path(tmp), erp_port),
        served_hub(Path(tmp), erp_port, processes=API_PROCESSES if split else 1) as (
            host,
            port,
            token,
        ),
    ):
        _wait_for_workers(Path(tmp))
        settings = OdooSettings(
            url=f"http://127.0.0.1:{erp_port}",
            database="crossdock",
            login="admin",
            password="admin",
        )
        async with OdooClient(settings) as client:
            await seed_erp(OdooOperations(client))
        numbers = iter(range(orders))
        began = time.perf_counter()

        async def shop() -> None:
            conn = Connection(host, port, token)
            try:
                for n in numbers:
                    body = json.loads(_order(n))
                    body["lines"][0]["sku"] = SKUS[n % len(SKUS)]
                    await conn.request("POST", ORDERS, json.dumps(body).encode())
            finally:
                await conn.close()

        await asyncio.gather(*(shop() for _ in range(64)))
        database = Database(f"sqlite:///{Path(tmp) / 'intake.db'}")
        try:
            while await database.read(_confirmed) < orders:
                await asyncio.sleep(0.05)
        finally:
            database.close()
        return orders / (time.perf_counter() - began)


def _confirmed(conn: Any) -> int:
    from sqlalchemy import func, select

    from crossdock.flows.tables import orders

    done = ("confirmed", "released", "shipped", "invoiced")
    query = select(func.count()).select_from(orders).where(orders.c.state.in_(done))
    return int(conn.execute(query).scalar_one())
