"""`crossdock demo`: the hub on its embedded default — SQLite, the Odoo sandbox — with a simulated
shop and warehouse talking to it over HTTP on 127.0.0.1, then a summary of what happened.

The shop sends a few hundred orders: ordinary ones, duplicates (sent twice), orders of a customer
over its credit limit, orders for a product out of stock in the preferred warehouse (split or
backordered), an unknown SKU, and malformed requests. The warehouse confirms each released order's
shipment, some short. The demo ends when every order is final or waiting in the exceptions queue.
`--serve` keeps the hub running afterwards; `--odoo-url …` uses a real Odoo instead of the sandbox.
An EDI customer (X12 over a directory drop, `edi/acme/`) sends purchase orders (850) and receives
997, 855, 856 and 810 back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crossdock.api.auth import create_token
from crossdock.app import create_app
from crossdock.config import Config, load_config
from crossdock.connectors.odoo import OdooOperations, StockSetting
from crossdock.engine import NewEvent
from crossdock.flows.orders import FINAL_STATES
from crossdock.hub import Hub, build_hub, migrate
from crossdock.model import Customer
from crossdock.sandbox.edi import EDI_CHANNEL, edi_partner_yaml, edi_purchase_orders, edi_received
from crossdock.sandbox.seed import Catalogue, SeedCustomer, SeedProduct, seed
from crossdock.sandbox.shopify import demo as shopify_demo
from crossdock.server import Server as _Server

SKUS = [f"DEMO-{n:03d}" for n in range(1, 21)]
SPLIT_SKU = "DEMO-SPLIT"  # a little in each warehouse
SCARCE_SKU = "DEMO-SCARCE"  # not enough anywhere: backordered
UNKNOWN_SKU = "DEMO-NOPE"
OVER_CREDIT = "C-OVER-LIMIT"
SECOND_WAREHOUSE = "W2"
PASSWORD_ENV = "CROSSDOCK_DEMO_ODOO_PASSWORD"
SHOPIFY_ORDERS = 12  # from the demo's Shopify shop, beside the generic shop's


@dataclass
class RealOdoo:
    url: str
    database: str
    user: str
    password: str


@dataclass
class DemoReport:
    states: Counter[str] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    invoices: int = 0
    accept_ms: list[float] = field(default_factory=list)
    rejected: Counter[int] = field(default_factory=Counter)
    replayed: int = 0
    orders: int = 0
    seconds: float = 0.0
    edi: Counter[str] = field(default_factory=Counter)  # documents the EDI customer received
    shopify: dict[str, int] = field(default_factory=dict)


def demo_config(
    directory: Path, odoo: RealOdoo | None, erp_port: int, shop_url: str | None = None
) -> Config:
    """The default configuration on a fresh SQLite file, with the ERP on `erp_port` (sandbox) or
    a real Odoo; written to `demo.yaml` so the CLI can inspect the run afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("demo*.db*"):
        stale.unlink()
    if odoo is None:
        erp = (
            f"    kind: odoo\n    url: http://127.0.0.1:{erp_port}\n    sandbox: true\n"
            "    username: admin\n    options:\n      database: crossdock\n"
            # the sandbox is one process answering in ~15 ms: no need to spare it like an Odoo
            "    limits:\n      rate_per_s: 200\n      burst: 200\n      concurrency: 8\n"
        )
    else:
        os.environ[PASSWORD_ENV] = odoo.password
        erp = (
            f"    kind: odoo\n    url: {odoo.url}\n    username: {odoo.user}\n"
            f"    credentials:\n      password: ${{{PASSWORD_ENV}}}\n"
            f"    options:\n      database: {odoo.database}\n"
        )
    shopify = ""
    if shop_url is not None:  # the demo's Shopify shop, simulated (crossdock.sandbox.shopify.demo)
        os.environ[shopify_demo.TOKEN_ENV] = shopify_demo.DEMO_SHOP.token
        os.environ[shopify_demo.SECRET_ENV] = shopify_demo.DEMO_SHOP.webhook_secret
        shopify = (
            f"  shopify:\n    kind: shopify\n    url: {shop_url}\n"
            f"    credentials:\n      access_token: ${{{shopify_demo.TOKEN_ENV}}}\n"
            f"    webhook_secret: ${{{shopify_demo.SECRET_ENV}}}\n"
            f"    options:\n      shop_domain: {shopify_demo.DEMO_SHOP.domain}\n"
            "      locations: {'1': WH}\n      pull_cron: '* * * * *'\n"
        )
    path = directory / "demo.yaml"
    path.write_text(
        "# Written by `crossdock demo`.\n"
        f"database:\n  url: sqlite:///{directory / 'demo.db'}\n"
        f"systems:\n  odoo:\n{erp}{shopify}"
        "channels:\n"
        "  default:\n"
        f"    warehouses: [WH, {SECOND_WAREHOUSE}]\n"
        "    fulfilment: [preferred, any_warehouse, split, backorder]\n"
        "  edi:\n"
        f"    warehouses: [WH, {SECOND_WAREHOUSE}]\n"
        "    fulfilment: [preferred, any_warehouse, split, backorder]\n"
        "    short_pick: cancel\n"
        "engine:\n  poll_interval_ms: 20\n  backoff_base_s: 0.2\n  backoff_max_s: 5\n"
        + edi_partner_yaml(directory)
    )
    return load_config(path)


EDI_ORDERS = 5
"""Purchase orders the demo's EDI customer sends (X12 850 files)."""


DEMO_CATALOGUE = Catalogue(
    products=tuple(
        SeedProduct(sku, f"Demo product {sku}", "25.00", "10.00")
        for sku in [*SKUS, SPLIT_SKU, SCARCE_SKU]
    ),
    stock=(
        *(StockSetting(sku=sku, quantity=Decimal(10_000)) for sku in SKUS),
        StockSetting(sku=SPLIT_SKU, quantity=Decimal(3)),
        StockSetting(sku=SPLIT_SKU, quantity=Decimal(3), warehouse=SECOND_WAREHOUSE),
        StockSetting(sku=SCARCE_SKU, quantity=Decimal(1)),
    ),
    customers=(SeedCustomer(OVER_CREDIT, f"Customer {OVER_CREDIT}", credit_limit=50.0),),
    warehouses=((SECOND_WAREHOUSE, "Second warehouse"),),
    source="demo",
)
"""Products with stock in two warehouses, and a customer with a small credit limit."""


async def seed_erp(ops: OdooOperations) -> None:
    """Seed :data:`DEMO_CATALOGUE`."""
    await seed(ops, DEMO_CATALOGUE)


def _customer(ref: str) -> Customer:
    return SeedCustomer(ref, f"Customer {ref}").customer()


def shop_orders(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """The shop's traffic: mostly ordinary orders, plus every kind of trouble."""
    orders = []
    for n in range(count):
        channel = "edi" if n % 4 == 0 else "webshop"
        customer = f"C-{n % 60}"
        lines = [
            {"sku": sku, "quantity": str(rng.randint(1, 5)), "unit_price": "25.00"}
            for sku in rng.sample(SKUS, rng.randint(1, 3))
        ]
        if n % 40 == 7:
            customer = OVER_CREDIT  # its credit limit is 50.00: this order is over it
            lines = [{"sku": SKUS[0], "quantity": "10", "unit_price": "25.00"}]
        elif n % 50 == 11:
            lines = [{"sku": SPLIT_SKU, "quantity": "5", "unit_price": "25.00"}]
        elif n % 50 == 23:
            lines = [{"sku": SCARCE_SKU, "quantity": "4", "unit_price": "25.00"}]
        elif n % 100 == 42:
            lines.append({"sku": UNKNOWN_SKU, "quantity": "1", "unit_price": "9.99"})
        orders.append(
            {
                "channel": channel,
                "external_ref": f"{channel.upper()}-{10_000 + n}",
                "currency": "USD",
                "customer": _customer(customer).model_dump(mode="json", exclude={"source"}),
                "lines": lines,
            }
        )
    return orders


MALFORMED: list[dict[str, Any]] = [
    {
        "channel": "webshop",
        "external_ref": "BAD-1",
        "currency": "XYZ",
        "customer": {"external_ref": "C-1", "name": "X"},
        "lines": [],
    },
    {
        "channel": "webshop",
        "external_ref": "BAD-2",
        "currency": "USD",
        "customer": {"external_ref": "C-1", "name": "X"},
        "lines": [{"sku": "DEMO-001", "quantity": "0", "unit_price": ""}],
    },
    {"channel": "webshop"},
]


async def run_shop(
    client: httpx.AsyncClient, token: str, orders: list[dict[str, Any]], report: DemoReport
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    gate = asyncio.Semaphore(32)

    async def send(body: dict[str, Any]) -> None:
        async with gate:
            started = time.perf_counter()
            response = await client.post("/v1/orders", json=body, headers=headers)
            if response.status_code == 202:
                report.accept_ms.append((time.perf_counter() - started) * 1000)
                report.replayed += response.headers.get("idempotent-replayed") == "true"
            else:
                report.rejected[response.status_code] += 1

    duplicates = orders[::25]
    await asyncio.gather(*(send(o) for o in [*orders, *duplicates, *MALFORMED]))


async def run_warehouse(client: httpx.AsyncClient, token: str, stop: asyncio.Event) -> None:
    """Confirm the shipment of every released order (every seventh one short by one), then ship
    the backordered rest of short-picked orders."""
    headers = {"Authorization": f"Bearer {token}"}
    sent: Counter[str] = Counter()  # shipments sent per order
    while not stop.is_set():
        for state in ("released", "shipped"):
            page = await client.get(f"/v1/orders?state={state}&limit=200", headers=headers)
            for order in page.json()["items"]:
                view = (await client.get(f"/v1/orders/{order['id']}", headers=headers)).json()
                erp = view["erp"]
                if state == "released" and not sent[order["id"]]:
                    lines = [
                        {"sku": line["sku"], "quantity": line["quantity"]}
                        for line in view["order"]["lines"]
                    ]
                    if sum(sent.values()) % 7 == 3 and Decimal(lines[0]["quantity"]) > 1:
                        lines[0]["quantity"] = str(Decimal(lines[0]["quantity"]) - 1)
                elif (
                    state == "shipped"
                    and erp.get("open_pickings")
                    and len(erp.get("shipments", [])) == sent[order["id"]]
                ):
                    open_ids = set(erp["open_pickings"])
                    lines = [
                        line
                        for picking in erp.get("pickings", [])
                        if picking["id"] in open_ids
                        for line in picking["lines"]
                    ]
                    if not lines:  # a backorder: what the last shipment left short
                        short = erp["shipments"][-1].get("short") or {}
                        lines = [{"sku": sku, "quantity": qty} for sku, qty in short.items()]
                else:
                    continue
                if not lines:
                    continue
                number = sent[order["id"]] + 1
                response = await client.post(
                    "/v1/shipments",
                    headers=headers,
                    json={
                        "order_id": order["id"],
                        "external_ref": f"SHP-{order['external_ref']}-{number}",
                        "source": "wms",
                        "warehouse": "WH",
                        "lines": lines,
                        "carrier": "ups",
                        "tracking_number": f"1Z{sum(sent.values()):08d}",
                    },
                )
                if response.status_code in (202, 409):
                    sent[order["id"]] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.3)


async def _settled(hub: Hub, expected: int) -> tuple[Counter[str], int]:
    """Orders per state, and how many are settled (final, or waiting for a person)."""
    from sqlalchemy import func, select

    from crossdock.flows.tables import exceptions, orders

    def read(conn: Any) -> tuple[Counter[str], int]:
        states = Counter(
            {
                row.state: row.n
                for row in conn.execute(
                    select(orders.c.state, func.count().label("n")).group_by(orders.c.state)
                )
            }
        )
        waiting = conn.execute(
            select(func.count(func.distinct(exceptions.c.subject))).where(
                exceptions.c.state == "open"
            )
        ).scalar_one()
        final = sum(n for s, n in states.items() if s in FINAL_STATES)
        return states, final + int(waiting)

    return await hub.engine.db.read(read)


async def _edi_invoiced(hub: Hub) -> int:
    from sqlalchemy import func, select

    from crossdock.flows.tables import orders

    def read(conn: Any) -> int:
        query = select(func.count()).where(
            orders.c.channel == EDI_CHANNEL, orders.c.state == "invoiced"
        )
        return int(conn.execute(query).scalar_one())

    return await hub.engine.db.read(read)


async def run_demo(
    directory: Path,
    *,
    orders: int = 300,
    odoo: RealOdoo | None = None,
    serve: bool = False,
    console: Console | None = None,
) -> DemoReport:
    console = console or Console()
    from crossdock.sandbox.odoo.server import free_port

    shop = shopify_demo.start_demo_shop()
    cfg = demo_config(directory, odoo, free_port(), shop.url)
    migrate(cfg)
    hub = build_hub(cfg, flows=True)
    await hub.start()
    assert hub.erp is not None
    await seed_erp(hub.erp.operations)
    edi_purchase_orders(directory, EDI_ORDERS, SKUS, random.Random(11))
    token = await hub.engine.writer.submit(
        lambda c: create_token(c, "demo", ["admin"], rate_per_s=1e6)
    )
    server = _Server(
        uvicorn.Config(create_app(hub), host="127.0.0.1", port=0, log_config=None, access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    report = DemoReport(orders=orders)
    stop = asyncio.Event()
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        warehouse = asyncio.create_task(run_warehouse(client, token, stop))
        await run_shop(client, token, shop_orders(orders, random.Random(7)), report)
        await shop.run(f"http://127.0.0.1:{port}", SKUS, SHOPIFY_ORDERS)
        pull = {"system": "shopify"}  # pull now rather than at the schedule's next minute
        await hub.engine.append_one(NewEvent("shopify.pull_due", "crossdock.demo", "pull", pull))
        report.orders += SHOPIFY_ORDERS - shop.malformed  # the malformed one waits in exceptions
        with Progress(
            TextColumn("[bold]orders settled"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("", total=report.orders + EDI_ORDERS)
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                states, settled = await _settled(hub, report.orders)
                progress.update(
                    task,
                    completed=settled,
                    description=" ".join(f"{s}:{n}" for s, n in sorted(states.items())),
                )
                if settled >= report.orders + EDI_ORDERS:
                    break
                await asyncio.sleep(0.25)
        report.seconds = time.perf_counter() - started
        # The last documents go out on the EDI loop's next rounds: an 855 per purchase order and
        # one 810 per invoiced order.
        edi_by = time.monotonic() + 120
        while time.monotonic() < edi_by:
            report.edi = edi_received(directory)
            if report.edi["855"] >= EDI_ORDERS and report.edi["810"] >= await _edi_invoiced(hub):
                break
            await asyncio.sleep(0.25)
        stop.set()
        await warehouse
        idle_by = time.monotonic() + 60  # the shop's fulfilments follow the dispatched shipments
        while not await hub.engine.idle() and time.monotonic() < idle_by:
            await asyncio.sleep(0.25)
        report.states, _ = await _settled(hub, orders)
        listed = (
            await client.get(
                "/v1/exceptions?state=open&limit=1000", headers={"Authorization": f"Bearer {token}"}
            )
        ).json()["items"]
        report.exceptions = Counter(e["type"] for e in listed)
        report.invoices = len(
            [e for e in await hub.engine.events_after(0, 1_000_000, types=["invoice.posted"])]
        )
        if serve:
            console.print(
                f"\nHub serving at http://127.0.0.1:{port} — token: {token}\nCtrl-C to stop."
            )
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
            await serving
    server.should_exit = True
    await serving
    await hub.stop()
    report.shopify = {
        "webhooks sent": shop.sent,
        "re-delivered": shop.redelivered,
        "missed (pulled)": shop.missed,
        "fulfilments in the shop": shop.fulfilled(),
    }
    shop.stop()
    return report


def print_report(report: DemoReport, directory: Path, console: Console) -> None:
    states = Table("state", "orders", title="Orders")
    for state, count in sorted(report.states.items()):
        states.add_row(state, str(count))
    console.print(states)
    exceptions = Table("type", "open", title="Exceptions waiting for a person")
    for kind, count in sorted(report.exceptions.items()):
        exceptions.add_row(kind, str(count))
    console.print(exceptions)
    latencies = sorted(report.accept_ms)
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0
    console.print(
        f"invoices posted: {report.invoices}\n"
        f"accept latency: p50 {statistics.median(latencies) if latencies else 0:.1f} ms, "
        f"p99 {p99:.1f} ms; duplicates answered from the first request: {report.replayed}; "
        f"rejected requests: {dict(report.rejected)}\n"
        f"{report.orders} orders settled in {report.seconds:.1f} s "
        f"({report.orders / report.seconds if report.seconds else 0:.1f} orders/s)\n"
        f"Shopify shop: {report.shopify}\n\n"
        f"EDI customer acme (directory drop {directory / 'edi' / 'acme'}): {EDI_ORDERS} purchase "
        "orders (850) sent; received "
        + ", ".join(f"{count} {kind}" for kind, count in sorted(report.edi.items()))
        + "\n\n"
        "Look closer:\n"
        f"  crossdock events tail -n 20 -c {directory / 'demo.yaml'}\n"
        f"  crossdock dlq list -c {directory / 'demo.yaml'}"
    )
