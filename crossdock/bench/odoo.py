"""`crossdock bench odoo`: sale orders created and confirmed in Odoo, by the hub and plain clients.

Three measurements, in one run, on one server (the sandbox with its default latencies on a
temporary SQLite file, or a real Odoo given by URL), each creating and confirming ``orders`` new
sale orders of ``lines_per_order`` lines on products and customers the bench sets up for itself
(uniquely named, storable, with stock):

- ``reference_one_call_orders_per_s``: a plain JSON-RPC client (bare ``httpx``, no Crossdock
  code) creating one order per ``create`` call, then confirming it with ``action_confirm``;
- ``reference_batched_orders_per_s``: the same client creating 50 orders per ``create`` call and
  confirming them with one ``action_confirm`` on the id list;
- ``hub_orders_per_s``: canonical :class:`~crossdock.model.Order` objects through the connector's
  batched operations, as a flow uses them — batches of ``batch_size`` orders, each
  :meth:`~crossdock.connectors.odoo.OdooOperations.create_sale_orders` (idempotent: natural keys
  looked up first, customers found or created, SKUs resolved, one ``create``) then
  :meth:`~crossdock.connectors.odoo.OdooOperations.confirm_sale_orders`, with up to
  ``hub_concurrency`` batches in flight on the one client (its limiter caps the calls in flight
  per Odoo instance).

References run sequentially, one call at a time. Each measurement runs in two halves, in the order
one-call, batched, hub, then hub, batched, one-call, so that a server whose speed drifts during the
run (a busy machine, a growing database) weighs on all three alike. Every measurement is checked
afterwards: all its orders must exist once, confirmed (state ``sale``), or the bench fails.
``odoo_calls_per_order`` counts the hub's calls to Odoo during its measurement (retries included),
from the client's counters; the ``*_create_orders_per_s`` / ``*_confirm_orders_per_s`` figures of
the references show where the server spends its time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import tempfile
import time
import uuid
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from crossdock.connectors.odoo import OdooClient, OdooOperations, OdooSettings, StockSetting
from crossdock.connectors.odoo.mapping import customer_key
from crossdock.model import Customer, Money, Order, Product
from crossdock.sandbox.odoo import SandboxServer, SandboxSettings

__all__ = ["TARGETS", "run_odoo_bench"]

TARGETS = {"hub_vs_one_call": ">= 4", "hub_vs_batched": ">= 0.8"}
REFERENCE_BATCH = 50
_PRODUCTS = 20
_CUSTOMERS = 10
_CHANNEL = "bench"


# ---------------------------------------------------------------------- the plain reference client


class PlainJsonRpc:
    """The least a script needs to talk to Odoo: ``execute_kw`` over ``/jsonrpc`` with ``httpx``."""

    def __init__(self, http: httpx.AsyncClient, url: str, db: str, password: str) -> None:
        self.http = http
        self.url = f"{url}/jsonrpc"
        self.db = db
        self.password = password
        self.uid = 0
        self.calls = 0
        self._ids = itertools.count(1)

    async def _rpc(self, service: str, method: str, args: list[Any]) -> Any:
        self.calls += 1
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": next(self._ids),
        }
        response = await self.http.post(self.url, json=body, timeout=300)
        response.raise_for_status()
        payload = response.json()
        if "error" in payload:
            data = payload["error"].get("data") or {}
            raise RuntimeError(f"{data.get('name')}: {data.get('message')}")
        return payload.get("result")

    async def login(self, user: str) -> None:
        uid = await self._rpc("common", "authenticate", [self.db, user, self.password, {}])
        if not uid:
            raise RuntimeError(f"cannot log in to {self.db} as {user}")
        self.uid = int(uid)

    async def execute(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None
    ) -> Any:
        return await self._rpc(
            "object",
            "execute_kw",
            [self.db, self.uid, self.password, model, method, args, kwargs or {}],
        )


# ---------------------------------------------------------------------- data of one run


@dataclasses.dataclass(frozen=True)
class _Catalog:
    tag: str
    skus: list[str]
    product_ids: dict[str, int]
    customers: list[Customer]
    partner_ids: dict[str, int]
    company_id: int


def _skus_of(n: int, catalog: _Catalog, lines: int) -> list[str]:
    count = len(catalog.skus)
    return [catalog.skus[(n * lines + j) % count] for j in range(lines)]


def _plain_vals(n: int, prefix: str, catalog: _Catalog, lines: int) -> dict[str, Any]:
    customer = catalog.customers[n % len(catalog.customers)]
    return {
        "partner_id": catalog.partner_ids[customer_key(customer)],
        "client_order_ref": f"{prefix}{n}",
        "company_id": catalog.company_id,
        "order_line": [
            (0, 0, {"product_id": catalog.product_ids[sku], "product_uom_qty": 1, "price_unit": 10})
            for sku in _skus_of(n, catalog, lines)
        ],
    }


def _hub_order(n: int, ref_prefix: str, catalog: _Catalog, lines: int) -> Order:
    customer = catalog.customers[n % len(catalog.customers)]
    return Order(
        external_ref=f"{ref_prefix}{n}",
        source=_CHANNEL,
        channel=_CHANNEL,
        currency="USD",
        customer=customer.model_dump(exclude={"source"}),
        lines=[
            {"sku": sku, "quantity": "1", "unit_price": "10"}
            for sku in _skus_of(n, catalog, lines)
        ],
    )


async def _set_up(
    ops: OdooOperations, tag: str, orders: int, lines: int, runs: int
) -> _Catalog:
    """Storable products with enough stock for every run, and customers, named after ``tag``."""
    count = max(_PRODUCTS, lines)
    skus = [f"BENCH-{tag}-{i:02d}" for i in range(count)]
    products = [
        Product(
            external_ref=sku,
            source=_CHANNEL,
            sku=sku,
            name=f"Bench product {sku}",
            list_price=Money(amount="10", currency="USD"),
            cost_price=Money(amount="4", currency="USD"),
        )
        for sku in skus
    ]
    created = await ops.upsert_products(products)
    created.raise_first()
    per_product = runs * orders * lines // count + runs * orders + 100
    await ops.set_stock([StockSetting(sku=sku, quantity=Decimal(per_product)) for sku in skus])
    customers = [
        Customer(
            external_ref=f"{tag}-C{i}",
            source=_CHANNEL,
            name=f"Bench customer {tag} {i}",
            address={
                "street": "1 Main St",
                "city": "Springfield",
                "postal_code": "12345",
                "country": "US",
            },
        )
        for i in range(_CUSTOMERS)
    ]
    partners = await ops.find_or_create_customers(customers)
    partners.raise_first()
    return _Catalog(
        tag=tag,
        skus=skus,
        product_ids=dict(created.done),
        customers=customers,
        partner_ids=dict(partners.done),
        company_id=await ops.default_company_id(),
    )


# ---------------------------------------------------------------------- the three measurements


@dataclasses.dataclass
class _Timing:
    """Seconds spent by one measurement: in all (wall clock), and in its create/confirm calls."""

    orders: int = 0
    elapsed_s: float = 0.0
    create_s: float = 0.0
    confirm_s: float = 0.0

    def rate(self, seconds: float | None = None) -> float:
        spent = self.elapsed_s if seconds is None else seconds
        return self.orders / spent if spent > 0 else 0.0


async def _reference_one_call(
    client: PlainJsonRpc, catalog: _Catalog, numbers: range, lines: int, prefix: str, t: _Timing
) -> None:
    started = time.perf_counter()
    for n in numbers:
        before = time.perf_counter()
        order_id = await client.execute(
            "sale.order", "create", [[_plain_vals(n, prefix, catalog, lines)]]
        )
        created = time.perf_counter()
        await client.execute("sale.order", "action_confirm", [order_id])
        t.create_s += created - before
        t.confirm_s += time.perf_counter() - created
    t.elapsed_s += time.perf_counter() - started
    t.orders += len(numbers)


async def _reference_batched(
    client: PlainJsonRpc, catalog: _Catalog, numbers: range, lines: int, prefix: str, t: _Timing
) -> None:
    started = time.perf_counter()
    for first in range(numbers.start, numbers.stop, REFERENCE_BATCH):
        vals = [
            _plain_vals(n, prefix, catalog, lines)
            for n in range(first, min(numbers.stop, first + REFERENCE_BATCH))
        ]
        before = time.perf_counter()
        order_ids = await client.execute("sale.order", "create", [vals])
        created = time.perf_counter()
        await client.execute("sale.order", "action_confirm", [order_ids])
        t.create_s += created - before
        t.confirm_s += time.perf_counter() - created
    t.elapsed_s += time.perf_counter() - started
    t.orders += len(numbers)


async def _hub(
    ops: OdooOperations, orders: Sequence[Order], batch_size: int, concurrency: int, t: _Timing
) -> None:
    """Batches of ``batch_size`` through the connector, ``concurrency`` of them in flight."""
    pending = [orders[i : i + batch_size] for i in range(0, len(orders), batch_size)]

    async def flow() -> None:
        while pending:
            batch = pending.pop(0)
            before = time.perf_counter()
            created = await ops.create_sale_orders(batch)
            created.raise_first()
            between = time.perf_counter()
            confirmed = await ops.confirm_sale_orders([ref.id for ref in created.done.values()])
            confirmed.raise_first()
            t.create_s += between - before
            t.confirm_s += time.perf_counter() - between

    started = time.perf_counter()
    await asyncio.gather(*(flow() for _ in range(max(1, concurrency))))
    t.elapsed_s += time.perf_counter() - started
    t.orders += len(orders)


async def _check_confirmed(client: PlainJsonRpc, prefix: str, orders: int, what: str) -> None:
    """Every order of a measurement exists once and is confirmed (else the figure means nothing)."""
    rows = await client.execute(
        "sale.order",
        "search_read",
        [[["client_order_ref", "=like", f"{prefix}%"]]],
        {"fields": ["state"]},
    )
    confirmed = sum(1 for row in rows if row["state"] == "sale")
    if len(rows) != orders or confirmed != orders:
        raise RuntimeError(
            f"{what}: {len(rows)} orders found, {confirmed} confirmed, {orders} expected"
        )


# ---------------------------------------------------------------------- entry point


async def run_odoo_bench(
    *,
    orders: int = 200,
    lines_per_order: int = 3,
    url: str | None = None,
    db: str | None = None,
    user: str | None = None,
    password: str | None = None,
    sandbox: SandboxSettings | None = None,
    batch_size: int = 50,
    hub_concurrency: int = 2,
) -> dict[str, Any]:
    """Measure the hub and both references on one server; figures as one JSON-able dict.

    Without ``url`` a sandbox is started on a free port (``sandbox`` settings, default: realistic
    latencies) on a temporary SQLite file, and stopped at the end.
    """
    if orders < 1 or lines_per_order < 1 or batch_size < 1:
        raise ValueError("orders, lines_per_order and batch_size must be at least 1")
    if url is not None:
        if not (db and user and password):
            raise ValueError("a real Odoo needs db, user and password")
        base = url.rstrip("/")
        return await _measure(
            base, db, user, password, base, orders, lines_per_order, batch_size, hub_concurrency
        )
    with tempfile.TemporaryDirectory(prefix="crossdock-bench-odoo-") as directory:
        settings = sandbox or SandboxSettings()
        if settings.path is None:
            settings = dataclasses.replace(settings, path=Path(directory) / "odoo.db")
        server = SandboxServer(settings)
        await asyncio.to_thread(server.start)
        try:
            return await _measure(
                server.url,
                settings.database,
                settings.login,
                settings.password,
                "sandbox",
                orders,
                lines_per_order,
                batch_size,
                hub_concurrency,
            )
        finally:
            await asyncio.to_thread(server.stop)


async def _measure(
    url: str,
    db: str,
    user: str,
    password: str,
    server: str,
    orders: int,
    lines: int,
    batch_size: int,
    hub_concurrency: int,
) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    settings = OdooSettings(
        url=url, database=db, login=user, password=password, batch_size=batch_size, timeout_s=300
    )
    one_prefix, batched_prefix = f"bench-one:{tag}:", f"bench-batched:{tag}:"
    hub_prefix = f"{_CHANNEL}:{tag}:"  # client_order_ref = <channel>:<external_ref>
    one, batched, hub = _Timing(), _Timing(), _Timing()
    async with httpx.AsyncClient() as http:
        plain = PlainJsonRpc(http, url, db, password)
        await plain.login(user)
        setup = OdooOperations(OdooClient(settings, name="odoo-bench-setup"))
        try:
            catalog = await _set_up(setup, tag, orders, lines, runs=3)
            info = setup.client.info
        finally:
            await setup.aclose()
        hub_orders = [_hub_order(n, f"{tag}:", catalog, lines) for n in range(orders)]

        # the hub starts cold: a new client, nothing cached, connected before the clock starts
        hub_ops = OdooOperations(OdooClient(settings, name="odoo-bench-hub"))
        try:
            await hub_ops.client.connect()
            calls_before = hub_ops.client.stats.calls
            by_method_before = dict(hub_ops.client.stats.by_method or {})
            # each measurement in two halves, in the order A B C, then C B A: a server getting
            # slower (or faster) during the run weighs the same on all three

            async def one_call(numbers: range) -> None:
                await _reference_one_call(plain, catalog, numbers, lines, one_prefix, one)

            async def batched_50(numbers: range) -> None:
                await _reference_batched(plain, catalog, numbers, lines, batched_prefix, batched)

            async def through_hub(numbers: range) -> None:
                part = hub_orders[numbers.start : numbers.stop]
                await _hub(hub_ops, part, batch_size, hub_concurrency, hub)

            phases = [one_call, batched_50, through_hub]
            for index, numbers in enumerate(_halves(orders)):
                for phase in phases if index == 0 else reversed(phases):
                    await phase(numbers)
            hub_calls = hub_ops.client.stats.calls - calls_before
            by_method = {
                key: count - by_method_before.get(key, 0)
                for key, count in (hub_ops.client.stats.by_method or {}).items()
                if count > by_method_before.get(key, 0)
            }
        finally:
            await hub_ops.aclose()
        await _check_confirmed(plain, one_prefix, orders, "reference (one call)")
        await _check_confirmed(plain, batched_prefix, orders, "reference (batched)")
        await _check_confirmed(plain, hub_prefix, orders, "hub")

    hub_rate, one_rate, batched_rate = hub.rate(), one.rate(), batched.rate()
    return {
        "orders": orders,
        "lines_per_order": lines,
        "hub_orders_per_s": round(hub_rate, 2),
        "reference_one_call_orders_per_s": round(one_rate, 2),
        "reference_batched_orders_per_s": round(batched_rate, 2),
        "odoo_calls_per_order": round(hub_calls / orders, 3),
        "reference_one_call_calls_per_order": 2.0,
        "reference_batched_calls_per_order": round(
            2 * sum(-(-len(r) // REFERENCE_BATCH) for r in _halves(orders)) / orders, 3
        ),
        "hub_vs_one_call": round(hub_rate / one_rate, 2),
        "hub_vs_batched": round(hub_rate / batched_rate, 2),
        "targets": dict(TARGETS),
        "targets_met": {
            "hub_vs_one_call": hub_rate >= 4 * one_rate,
            "hub_vs_batched": hub_rate >= 0.8 * batched_rate,
        },
        # where the time goes: orders per second of time spent in create / in confirm calls
        "reference_one_call_create_orders_per_s": round(one.rate(one.create_s), 2),
        "reference_one_call_confirm_orders_per_s": round(one.rate(one.confirm_s), 2),
        "reference_batched_create_orders_per_s": round(batched.rate(batched.create_s), 2),
        "reference_batched_confirm_orders_per_s": round(batched.rate(batched.confirm_s), 2),
        "hub_batch_size": batch_size,
        "hub_batches_in_flight": hub_concurrency,
        "hub_calls_by_method": dict(sorted(by_method.items())),
        "server": server,
        "version": info.server_version,
        "transport": info.transport,
    }


def _halves(orders: int) -> list[range]:
    middle = (orders + 1) // 2
    return [r for r in (range(0, middle), range(middle, orders)) if r]
